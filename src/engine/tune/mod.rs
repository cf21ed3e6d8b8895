//! Policy tuning (issue 7): search a group's policy parameters by full replay for the cheapest
//! policy that keeps the Slo without thrash, on the first 70% of the history, and check the
//! answer on the last 30% it did not see. Pure and synchronous; the search runs on scoped
//! threads and can be watched and cancelled through [`search::SearchControl`].

pub mod bounds;
pub mod doc;
pub mod metric;
pub mod multiregion;
pub mod pareto;
pub mod pitfalls;
pub mod ramp;
pub mod schedule;
pub mod search;
pub mod significance;
pub mod space;
pub mod verdict;

use serde::Serialize;

use crate::artifact::{Artifact, PolicyArtifact};
use crate::engine::analysis::MetricChoice;
use crate::engine::replay::{replay, ExtraSeries, Replay, ReplayError, ReplayInput, ReplaySummary};
use crate::model::{
    CapacityModel, GroupId, Recommendation, RecommendationKind, Risk, Slo, RECOMMENDATION_SCHEMA,
};

pub use doc::PolicyDoc;
pub use search::{Outcome, SearchControl, Visit};
pub use space::{Candidate, SpaceSize};
pub use verdict::Figures;

/// Share of the history held out from the search.
pub const HOLDOUT_SHARE: f64 = 0.3;
/// The held-out part must cover at least a day (one daily cycle).
pub const MIN_HOLDOUT_SECONDS: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    Hpa,
    Keda,
    AwsTarget,
    AwsStep,
    AwsPredictive,
    Gcp,
    Azure,
}

impl PolicyKind {
    pub fn label(self) -> &'static str {
        match self {
            PolicyKind::Hpa => "hpa",
            PolicyKind::Keda => "keda",
            PolicyKind::AwsTarget => "aws-target",
            PolicyKind::AwsStep => "aws-step",
            PolicyKind::AwsPredictive => "aws-predictive",
            PolicyKind::Gcp => "gcp",
            PolicyKind::Azure => "azure",
        }
    }

    /// The policy type in words.
    pub fn words(self) -> &'static str {
        match self {
            PolicyKind::Hpa => "HPA target tracking",
            PolicyKind::Keda => "KEDA event-driven target tracking",
            PolicyKind::AwsTarget => "AWS target tracking",
            PolicyKind::AwsStep => "AWS step scaling",
            PolicyKind::AwsPredictive => "AWS predictive + target tracking",
            PolicyKind::Gcp => "GCP autoscaler",
            PolicyKind::Azure => "Azure autoscale",
        }
    }
}

/// The kinds `--policy-kind auto` searches: the current type and its platform's alternatives.
pub fn auto_kinds(current: &PolicyDoc) -> Vec<PolicyKind> {
    match current {
        PolicyDoc::Hpa(_) => vec![PolicyKind::Hpa],
        PolicyDoc::Keda(_) => vec![PolicyKind::Keda],
        PolicyDoc::Gcp(_) => vec![PolicyKind::Gcp],
        PolicyDoc::Asg(_) => vec![
            PolicyKind::AwsTarget,
            PolicyKind::AwsStep,
            PolicyKind::AwsPredictive,
        ],
    }
}

/// Everything a search needs. Series are on one grid (`extra` aligned with `demand`).
#[derive(Debug, Clone)]
pub struct TuneRequest<'a> {
    pub group: GroupId,
    pub start: i64,
    pub step_seconds: i64,
    pub demand: &'a [f64],
    pub extra: Vec<(String, &'a [f64])>,
    pub cap: CapacityModel,
    pub slo: Slo,
    pub current: PolicyDoc,
    pub kinds: Vec<PolicyKind>,
    pub size: SpaceSize,
    pub threads: usize,
    /// Reject dominated candidates part-way (exact: see `search`).
    pub prune: bool,
    /// None: every candidate up to [`AUTO_EXHAUSTIVE_MAX`], coarse-to-fine beyond.
    pub visit: Option<Visit>,
    /// The analysis's choice of scaling metric(s) for the group (`--policy-kind auto`): when
    /// it would change what an HPA scales on, the search also tunes an HPA on the chosen
    /// metrics, and the policy-type sentence says which won.
    pub metric_choice: Option<MetricChoice>,
    /// The group's local clock, hours east of UTC: proposed schedules find peaks and recur
    /// in it (0: UTC).
    pub utc_offset_hours: i32,
}

/// Spaces up to this size are searched exhaustively unless told otherwise.
pub const AUTO_EXHAUSTIVE_MAX: usize = 4000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TuneError {
    #[error("too little history to hold out 30%: {have_hours:.1} h given, at least {need_hours:.1} h needed (the held-out 30% must cover a day)")]
    TooLittleHistory { have_hours: f64, need_hours: f64 },
    #[error("{0}")]
    Space(#[from] space::SpaceError),
    #[error("current policy: {0}")]
    Current(String),
    #[error("replay: {0}")]
    Replay(#[from] ReplayError),
    #[error("search cancelled")]
    Cancelled,
}

/// Where the history is cut.
#[derive(Debug, Clone, Serialize)]
pub struct Split {
    pub train_steps: usize,
    pub heldout_steps: usize,
    pub train_hours: f64,
    pub heldout_hours: f64,
    /// RFC 3339 start of the held-out part.
    pub heldout_from: String,
}

/// One evaluated policy as reported.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyPoint {
    pub candidate: usize,
    pub kind: PolicyKind,
    pub settings: Vec<(String, String)>,
    pub train: Figures,
}

/// The current policy's replays.
#[derive(Debug, Clone, Serialize)]
pub struct CurrentResult {
    pub kind: PolicyKind,
    pub describe: String,
    pub document: serde_json::Value,
    pub train: Figures,
    pub heldout: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recommended {
    pub candidate: usize,
    pub kind: PolicyKind,
    pub settings: Vec<(String, String)>,
    /// The platform document (the `parse_policy` shape).
    pub document: serde_json::Value,
    pub train: Figures,
    pub heldout: Figures,
    /// Keeps the Slo without thrash on the held-out part.
    pub holds: bool,
    /// Why it does not hold, if it does not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub heldout_problems: Vec<String>,
    /// Current minus recommended monthly cost on the held-out part (same demand).
    pub saving_usd_month: f64,
    pub saving_percent: f64,
    #[serde(skip)]
    pub doc: PolicyDoc,
    /// The search's summary of the training replay (for the round-trip check).
    #[serde(skip)]
    pub train_summary: ReplaySummary,
}

/// Per kind: how many candidates and the best that may be recommended.
#[derive(Debug, Clone, Serialize)]
pub struct KindResult {
    pub kind: PolicyKind,
    pub candidates: usize,
    pub completed: usize,
    pub rejected_early: usize,
    pub failed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<String>,
    pub best: Option<PolicyPoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScheduleCheck {
    pub proposal: schedule::ScheduleProposal,
    /// Cheapest eligible AWS target tracking candidate without / with the schedule.
    pub best_without: Option<PolicyPoint>,
    pub best_with: Option<PolicyPoint>,
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TuneOutcome {
    pub group: GroupId,
    pub split: Split,
    pub current: CurrentResult,
    pub candidates: usize,
    pub completed: usize,
    pub rejected_early: usize,
    /// Not replayed: coarse-to-fine search did not come near them.
    pub not_visited: usize,
    pub coarse_to_fine: bool,
    pub kinds: Vec<KindResult>,
    /// Non-dominated thrash-free candidates on the training part, cheapest first.
    pub pareto_front: Vec<PolicyPoint>,
    pub recommended: Option<Recommended>,
    /// When no candidate keeps the Slo: the one closest to it.
    pub best_reachable: Option<PolicyPoint>,
    pub pitfalls: Vec<pitfalls::Pitfall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleCheck>,
    /// Policy-type choice in one sentence with figures.
    pub choice: String,
    /// The analysis's scaling-metric choice and what the search made of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_choice: Option<MetricChoiceResult>,
    /// Full-history replays, for charts (current, recommended).
    #[serde(skip)]
    pub current_replay: Option<Replay>,
    #[serde(skip)]
    pub recommended_replay: Option<Replay>,
}

/// The analysis's scaling-metric choice as the search used it.
#[derive(Debug, Clone, Serialize)]
pub struct MetricChoiceResult {
    pub choice: MetricChoice,
    /// The chosen metrics were searched beside the current ones.
    pub searched: bool,
    /// Why they were not, when they were not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_searched: Option<String>,
    /// The recommended policy scales on the chosen metrics.
    pub recommended: bool,
}

/// Setting that tells the two HPA bases apart when the chosen metrics are searched too.
const METRICS_SETTING: &str = "metrics";

/// The current HPA scaling on the analysis's chosen metrics instead, when the choice would
/// change what it scales on and the input holds every series the new metrics read.
fn chosen_metrics_base(req: &TuneRequest) -> Result<Option<PolicyDoc>, String> {
    let Some(choice) = &req.metric_choice else {
        return Ok(None);
    };
    if !choice.worth_changing() || choice.metrics.is_empty() {
        return Ok(None);
    }
    let PolicyDoc::Hpa(m) = &req.current else {
        return Err("only an HPA's metrics are changed by the search".into());
    };
    if !req.kinds.contains(&PolicyKind::Hpa) {
        return Err("HPA is not among the kinds searched".into());
    }
    let mut alt = m.clone();
    alt.spec.metrics = serde_json::from_value(serde_json::Value::Array(choice.hpa_metrics()))
        .map_err(|e| format!("the chosen metrics have no HPA form: {e}"))?;
    let doc = PolicyDoc::Hpa(alt);
    let a = doc.autoscaler().map_err(|e| e.to_string())?;
    if let Some(missing) = a
        .required_series()
        .into_iter()
        .find(|n| !req.extra.iter().any(|(e, _)| e == n))
    {
        return Err(format!(
            "the input has no '{missing}' series to replay it on"
        ));
    }
    Ok(Some(doc))
}

/// Labels a base's candidates with the metrics they scale on and a coordinate for the base.
fn label_base(cands: &mut [Candidate], base: usize, metrics: &str) {
    for c in cands {
        c.settings
            .insert(0, (METRICS_SETTING.to_string(), metrics.to_string()));
        c.coords.push(base);
    }
}

fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn input<'a>(req: &'a TuneRequest, from: usize, to: usize) -> ReplayInput<'a> {
    ReplayInput {
        start: req.start + from as i64 * req.step_seconds,
        step_seconds: req.step_seconds,
        demand_rps: &req.demand[from..to],
        extra: req
            .extra
            .iter()
            .map(|(name, v)| ExtraSeries {
                name: name.clone(),
                values: v.get(from..to.min(v.len())).unwrap_or(&[]),
            })
            .collect(),
    }
}

/// Where the history is cut, or how much more is needed.
pub fn split(steps: usize, step_seconds: i64) -> Result<usize, TuneError> {
    let step = step_seconds.max(1);
    let heldout = ((steps as f64) * HOLDOUT_SHARE).ceil() as usize;
    if (heldout as i64) * step < MIN_HOLDOUT_SECONDS || heldout >= steps {
        return Err(TuneError::TooLittleHistory {
            have_hours: steps as f64 * step as f64 / 3600.0,
            need_hours: (MIN_HOLDOUT_SECONDS as f64 / HOLDOUT_SHARE).ceil() / 3600.0,
        });
    }
    Ok(steps - heldout)
}

fn point(i: usize, c: &Candidate, s: &ReplaySummary, slo: &Slo) -> PolicyPoint {
    PolicyPoint {
        candidate: i,
        kind: c.kind,
        settings: c.settings.clone(),
        train: Figures::of(s, slo),
    }
}

/// The completed candidates' replay summaries, by candidate index.
fn completed(outcomes: &[Outcome]) -> Vec<(usize, &ReplaySummary)> {
    outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o {
            Outcome::Done(s) => Some((i, s)),
            _ => None,
        })
        .collect()
}

/// The Pareto front (cost vs SLA minutes) of the completed candidates that do not thrash:
/// thrash is a hard constraint, not a third axis.
fn thrash_free_front(done: &[(usize, &ReplaySummary)]) -> Vec<usize> {
    pareto::front(
        &done
            .iter()
            .filter(|(_, s)| s.thrash_events == 0)
            .map(|(i, s)| (*i, s.cost_usd_per_month, s.sla_violation_minutes))
            .collect::<Vec<_>>(),
    )
}

/// Cheapest first; ties to fewer SLA minutes, then fewer scaling events.
fn better(a: &ReplaySummary, b: &ReplaySummary) -> std::cmp::Ordering {
    a.cost_usd
        .total_cmp(&b.cost_usd)
        .then(a.sla_violation_minutes.total_cmp(&b.sla_violation_minutes))
        .then(
            (a.scale_up_events + a.scale_down_events)
                .cmp(&(b.scale_up_events + b.scale_down_events)),
        )
}

/// Runs the search. `control` reports progress and carries the cancel flag.
pub fn tune(req: &TuneRequest, control: &SearchControl) -> Result<TuneOutcome, TuneError> {
    let n = req.demand.len();
    let cut = split(n, req.step_seconds)?;
    let train_in = input(req, 0, cut);
    let held_in = input(req, cut, n);
    let full_in = input(req, 0, n);
    let (slo, cap) = (&req.slo, &req.cap);

    let replay_doc = |d: &PolicyDoc, i: &ReplayInput| -> Result<Replay, TuneError> {
        let mut a = d
            .autoscaler()
            .map_err(|e| TuneError::Current(e.to_string()))?;
        Ok(replay(a.as_mut(), i, cap, slo, None, &req.group)?)
    };
    let describe = req
        .current
        .autoscaler()
        .map_err(|e| TuneError::Current(e.to_string()))?
        .describe();
    let cur_train = replay_doc(&req.current, &train_in)?;
    let cur_held = replay_doc(&req.current, &held_in)?;
    let cur_full = replay_doc(&req.current, &full_in)?;

    // The space.
    let trough_rps = quantile(&req.demand[..cut], 0.05);
    let trough_replicas =
        ((trough_rps / (cap.capacity_per_replica_rps * 0.7)).ceil() as u32).max(1);
    let (cur_min, cur_max) = req.current.bounds();
    let proposal = match (&req.current, req.kinds.contains(&PolicyKind::AwsTarget)) {
        (PolicyDoc::Asg(c), true) => schedule::propose_local(
            req.start,
            req.step_seconds,
            &req.demand[..cut],
            cap,
            cur_min,
            cur_max,
            &c.auto_scaling_group_name,
            req.utc_offset_hours,
        ),
        _ => None,
    };
    let ctx = space::SpaceContext {
        size: req.size,
        trough_replicas,
        schedule: proposal
            .as_ref()
            .map(|p| p.actions.clone())
            .unwrap_or_default(),
    };
    let mut candidates = Vec::new();
    let mut space_errors = Vec::new();
    let chosen_base = chosen_metrics_base(req);
    for &k in &req.kinds {
        match space::candidates(&req.current, k, &ctx) {
            Ok(mut c) => {
                if let (PolicyKind::Hpa, Ok(Some(alt)), Some(choice)) =
                    (k, &chosen_base, &req.metric_choice)
                {
                    let mut more = space::candidates(alt, k, &ctx)?;
                    label_base(&mut c, 0, "current");
                    label_base(&mut more, 1, &choice.names().join(" + "));
                    c.extend(more);
                }
                candidates.extend(c)
            }
            Err(e) => space_errors.push(e),
        }
    }
    if candidates.is_empty() {
        return Err(space_errors
            .into_iter()
            .next()
            .unwrap_or(space::SpaceError::Empty("the requested kinds"))
            .into());
    }

    let setup = search::SearchSetup {
        input: &train_in,
        cap,
        slo,
        group: &req.group,
        threads: req.threads,
        prune: req.prune,
        fast_forward: true,
        share: true,
    };
    let visit = req
        .visit
        .unwrap_or(if candidates.len() <= AUTO_EXHAUSTIVE_MAX {
            Visit::All
        } else {
            Visit::CoarseToFine
        });
    control
        .total
        .store(candidates.len(), std::sync::atomic::Ordering::Relaxed);
    let outcomes = search::evaluate(&candidates, &setup, control, visit);
    if control.cancel.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(TuneError::Cancelled);
    }
    let done = completed(&outcomes);
    let front_ix = thrash_free_front(&done);
    let summary_of = |i: usize| match &outcomes[i] {
        Outcome::Done(s) => Some(s),
        _ => None,
    };
    let pareto_front: Vec<PolicyPoint> = front_ix
        .iter()
        .filter_map(|&i| summary_of(i).map(|s| point(i, &candidates[i], s, slo)))
        .collect();
    let best_eligible = |filter: &dyn Fn(usize) -> bool| {
        done.iter()
            .filter(|(i, s)| filter(*i) && verdict::eligible(s, slo))
            .min_by(|a, b| better(a.1, b.1))
            .map(|(i, s)| (*i, *s))
    };

    let kinds: Vec<KindResult> = req
        .kinds
        .iter()
        .filter(|k| candidates.iter().any(|c| c.kind == **k))
        .map(|&k| {
            let of_kind = |i: &usize| candidates[*i].kind == k;
            let idx: Vec<usize> = (0..candidates.len()).filter(of_kind).collect();
            let count =
                |f: &dyn Fn(&Outcome) -> bool| idx.iter().filter(|i| f(&outcomes[**i])).count();
            KindResult {
                kind: k,
                candidates: idx.len(),
                completed: count(&|o| matches!(o, Outcome::Done(_))),
                rejected_early: count(&|o| matches!(o, Outcome::Rejected)),
                failed: count(&|o| matches!(o, Outcome::Failed(_))),
                first_failure: idx.iter().find_map(|i| match &outcomes[*i] {
                    Outcome::Failed(e) => Some(e.clone()),
                    _ => None,
                }),
                best: best_eligible(&|i| candidates[i].kind == k)
                    .map(|(i, s)| point(i, &candidates[i], s, slo)),
            }
        })
        .collect();

    let mut current_pitfalls = pitfalls::detect(&cur_full, &req.current, cap, slo);
    let (recommended, recommended_replay, best_reachable) = match best_eligible(&|_| true) {
        Some((i, s)) => {
            let c = &candidates[i];
            let held = replay_doc(&c.doc, &held_in)?;
            let full = replay_doc(&c.doc, &full_in)?;
            let after = pitfalls::detect(&full, &c.doc, cap, slo);
            pitfalls::check_fixed(&mut current_pitfalls, &after);
            let mut problems = verdict::slo_problems(&held.summary, slo);
            if held.summary.thrash_events > 0 {
                problems.push(format!("{} thrash pairs", held.summary.thrash_events));
            }
            let saving = cur_held.summary.cost_usd_per_month - held.summary.cost_usd_per_month;
            let rec = Recommended {
                candidate: i,
                kind: c.kind,
                settings: c.settings.clone(),
                document: c.doc.to_value(),
                train: Figures::of(s, slo),
                heldout: Figures::of(&held.summary, slo),
                holds: problems.is_empty(),
                heldout_problems: problems,
                saving_usd_month: saving,
                saving_percent: if cur_held.summary.cost_usd_per_month > 0.0 {
                    100.0 * saving / cur_held.summary.cost_usd_per_month
                } else {
                    0.0
                },
                doc: c.doc.clone(),
                train_summary: s.clone(),
            };
            (Some(rec), Some(full), None)
        }
        None => {
            // Closest to the Slo: fewest SLA minutes, then no thrash, then cheapest.
            let reach = done
                .iter()
                .min_by(|a, b| {
                    a.1.sla_violation_minutes
                        .total_cmp(&b.1.sla_violation_minutes)
                        .then(a.1.thrash_events.cmp(&b.1.thrash_events))
                        .then(better(a.1, b.1))
                })
                .map(|(i, s)| point(*i, &candidates[*i], s, slo));
            (None, None, reach)
        }
    };

    let schedule = proposal.map(|p| {
        let with = |flag: bool| {
            best_eligible(&|i| {
                candidates[i].kind == PolicyKind::AwsTarget
                    && candidates[i]
                        .settings
                        .iter()
                        .any(|(k, v)| k == "ScheduledActions" && (v == "proposed") == flag)
            })
            .map(|(i, s)| point(i, &candidates[i], s, slo))
        };
        let (without, with_s) = (with(false), with(true));
        let verdict = match (&without, &with_s) {
            (Some(a), Some(b)) if b.train.cost_usd_per_month < a.train.cost_usd_per_month => format!(
                "the schedule pays: best target tracking ${:.0}/month with it vs ${:.0} without, Slo kept",
                b.train.cost_usd_per_month, a.train.cost_usd_per_month
            ),
            (Some(a), Some(b)) => format!(
                "the schedule does not pay: ${:.0}/month with it vs ${:.0} without (dynamic scaling alone keeps the Slo)",
                b.train.cost_usd_per_month, a.train.cost_usd_per_month
            ),
            (None, Some(b)) => format!(
                "only with the schedule does target tracking keep the Slo (${:.0}/month)",
                b.train.cost_usd_per_month
            ),
            (_, None) => "no candidate with the schedule keeps the Slo without thrash".to_string(),
        };
        ScheduleCheck {
            proposal: p,
            best_without: without,
            best_with: with_s,
            verdict,
        }
    });

    let strength = schedule::daily_strength(&req.demand[..cut], req.step_seconds);
    let mut choice = choice_sentence(&kinds, recommended.as_ref(), strength, &req.current);
    let metric_choice = req.metric_choice.as_ref().map(|c| {
        let searched = matches!(chosen_base, Ok(Some(_)));
        let on_chosen = recommended.as_ref().is_some_and(|r| {
            searched
                && r.settings
                    .iter()
                    .any(|(k, v)| k == METRICS_SETTING && v != "current")
        });
        choice.push_str(&format!(" {}", c.explanation));
        if searched {
            choice.push_str(if on_chosen {
                " Replayed, the chosen metrics win."
            } else {
                " Replayed, the current metrics stay cheaper within the Slo."
            });
        }
        MetricChoiceResult {
            choice: c.clone(),
            searched,
            not_searched: chosen_base.as_ref().err().cloned(),
            recommended: on_chosen,
        }
    });
    Ok(TuneOutcome {
        group: req.group.clone(),
        split: Split {
            train_steps: cut,
            heldout_steps: n - cut,
            train_hours: cur_train.summary.duration_hours,
            heldout_hours: cur_held.summary.duration_hours,
            heldout_from: held_in_start(req, cut),
        },
        current: CurrentResult {
            kind: req.current.kind(),
            describe,
            document: req.current.to_value(),
            train: Figures::of(&cur_train.summary, slo),
            heldout: Figures::of(&cur_held.summary, slo),
        },
        candidates: candidates.len(),
        completed: done.len(),
        rejected_early: outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Rejected))
            .count(),
        not_visited: outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::NotVisited))
            .count(),
        coarse_to_fine: visit == Visit::CoarseToFine,
        kinds,
        pareto_front,
        recommended,
        best_reachable,
        pitfalls: current_pitfalls,
        schedule,
        choice,
        metric_choice,
        current_replay: Some(cur_full),
        recommended_replay,
    })
}

fn held_in_start(req: &TuneRequest, cut: usize) -> String {
    chrono::DateTime::from_timestamp(req.start + cut as i64 * req.step_seconds, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

/// One sentence: which policy type, why, with figures.
fn choice_sentence(
    kinds: &[KindResult],
    rec: Option<&Recommended>,
    daily_strength: Option<f64>,
    current: &PolicyDoc,
) -> String {
    let predictability = match daily_strength {
        Some(s) => format!("the demand has a daily cycle of strength {s:.2}"),
        None => "the demand shows no daily cycle".to_string(),
    };
    let Some(rec) = rec else {
        return format!(
            "No policy type keeps the Slo here ({}); {predictability}.",
            kinds
                .iter()
                .map(|k| format!("{} searched {}", k.kind.label(), k.candidates))
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let others: Vec<String> = kinds
        .iter()
        .filter(|k| k.kind != rec.kind)
        .map(|k| match &k.best {
            Some(b) => format!(
                "{} ${:.0}/month",
                k.kind.words(),
                b.train.cost_usd_per_month
            ),
            None => format!(
                "{} kept no candidate within the Slo without thrash",
                k.kind.words()
            ),
        })
        .collect();
    let compared = if others.is_empty() {
        match current {
            PolicyDoc::Asg(_) => String::new(),
            _ => " (the platform's policy type; scheduled and predictive scaling have no form in this document)".to_string(),
        }
    } else {
        format!(" against {}", others.join(", "))
    };
    format!(
        "{} at ${:.0}/month with {:.0} SLA-violation minutes on the training part{compared}; {predictability}{}.",
        rec.kind.words(),
        rec.train.cost_usd_per_month,
        rec.train.sla_violation_minutes,
        if rec.kind == PolicyKind::AwsPredictive {
            ", which predictive scaling uses"
        } else if daily_strength.is_some_and(|s| s > 0.5) && matches!(current, PolicyDoc::Asg(_)) {
            ", yet reacting to it was cheaper than forecasting it"
        } else {
            ""
        }
    )
}

/// The `Recommendation` (schema v1) for an outcome's recommended policy.
pub fn recommendation(o: &TuneOutcome) -> Option<Recommendation> {
    let rec = o.recommended.as_ref()?;
    let artifact = Artifact::Policy(PolicyArtifact {
        format: rec.doc.format(),
        document: rec.document.clone(),
    });
    let settings: Vec<String> = rec
        .settings
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let mut evidence = vec![
        format!(
            "searched {} candidates by full replay on {:.0} h; {} on the Pareto front",
            o.candidates,
            o.split.train_hours,
            o.pareto_front.len()
        ),
        format!(
            "held-out {:.0} h: recommended ${:.0}/month, {:.0} SLA-violation min, {} thrash; current ${:.0}/month, {:.0} SLA-violation min, {} thrash",
            o.split.heldout_hours,
            rec.heldout.cost_usd_per_month,
            rec.heldout.sla_violation_minutes,
            rec.heldout.thrash_events,
            o.current.heldout.cost_usd_per_month,
            o.current.heldout.sla_violation_minutes,
            o.current.heldout.thrash_events
        ),
        format!("settings: {}", settings.join("; ")),
        o.choice.clone(),
    ];
    evidence.extend(o.pitfalls.iter().map(|p| {
        format!(
            "pitfall {}: {}{}",
            p.title,
            p.evidence.join("; "),
            match p.fixed {
                Some(true) => " (fixed)",
                Some(false) => " (still present)",
                None => "",
            }
        )
    }));
    if !rec.holds {
        evidence.push(format!(
            "does not hold on held-out: {}",
            rec.heldout_problems.join("; ")
        ));
    }
    let risk = if !rec.holds {
        Risk::High
    } else if rec.heldout.sla_violation_minutes > 0.5 * rec.heldout.sla_budget_minutes {
        Risk::Medium
    } else {
        Risk::Low
    };
    Some(Recommendation {
        schema: RECOMMENDATION_SCHEMA.to_string(),
        id: format!("tune-{}-{}", o.group.name, rec.kind.label()),
        kind: RecommendationKind::Policy,
        group: o.group.clone(),
        title: format!(
            "{} for {}: {} ({:+.0}% cost on held-out)",
            rec.kind.words(),
            o.group.name,
            settings.first().cloned().unwrap_or_default(),
            -rec.saving_percent
        ),
        evidence,
        saving_usd_month: Some(rec.saving_usd_month),
        risk,
        artifact: artifact.to_value(),
    })
}

#[cfg(test)]
mod tests;
