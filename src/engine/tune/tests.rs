//! The search on a synthetic daily cycle: held-out split sizes, the recommendation keeps the
//! Slo without thrash and reads back through `parse_policy` to the same replay, early
//! rejection changes nothing reported, an unreachable Slo gives no recommendation.

use super::*;
use crate::engine::policy::parse_policy;
use crate::engine::replay::replay_summary;
use crate::model::Platform;

const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  minReplicas: 4\n  maxReplicas: 60\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: 0\n      tolerance: '0.02'\n    scaleUp:\n      tolerance: '0.02'\n";

/// 80 hours of minutes (the least that holds out a day): a daily cycle between 300 and
/// 1500 rps with a deterministic wobble.
fn demand() -> Vec<f64> {
    (0..4800)
        .map(|i| {
            let day = (i as f64 / 1440.0) * std::f64::consts::TAU;
            let wobble = 40.0 * ((i * 7919 % 13) as f64 / 13.0 - 0.5);
            900.0 - 600.0 * day.cos() + wobble
        })
        .collect()
}

fn cap() -> CapacityModel {
    CapacityModel {
        capacity_per_replica_rps: 100.0,
        // 20 ms per request: p95 well under 200 ms when capacity suffices.
        concurrency_per_replica: 2,
        startup_seconds: 30,
        warmup_seconds: 0,
        min_replicas: 4,
        max_replicas: 60,
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: 0.05,
        timeout_ms: 5000.0,
    }
}

fn request(d: &[f64], slo: Slo, prune: bool) -> TuneRequest<'_> {
    TuneRequest {
        group: GroupId::new(Platform::K8s, "t", "web"),
        start: 1_700_006_400,
        step_seconds: 60,
        demand: d,
        extra: Vec::new(),
        cap: cap(),
        slo,
        current: PolicyDoc::parse(HPA).unwrap(),
        kinds: vec![PolicyKind::Hpa],
        size: SpaceSize::Small,
        threads: 2,
        prune,
        visit: None,
        metric_choice: None,
        utc_offset_hours: 0,
    }
}

#[test]
fn split_holds_out_30_percent_and_needs_a_day_of_it() {
    // 80 h of minutes: 1440 held out (exactly a day), 3360 searched.
    assert_eq!(split(4800, 60).unwrap(), 3360);
    match split(4000, 60) {
        Err(TuneError::TooLittleHistory {
            have_hours,
            need_hours,
        }) => {
            assert!((have_hours - 4000.0 / 60.0).abs() < 1e-9);
            assert!((need_hours - 80.0).abs() < 1e-9, "{need_hours}");
        }
        other => panic!("{other:?}"),
    }
    assert!(split(0, 60).is_err());
}

#[test]
fn recommendation_keeps_the_slo_without_thrash_and_round_trips() {
    let d = demand();
    let req = request(&d, Slo::default(), true);
    let o = tune(&req, &SearchControl::default()).unwrap();
    let rec = o.recommended.as_ref().expect("a recommendation");
    assert!(
        rec.train.keeps_slo && rec.train.thrash_events == 0,
        "{:?}",
        rec.train
    );
    // The current policy (2% tolerance, no scale-down window) thrashes on the wobble.
    assert!(o.current.train.thrash_events > 0, "{:?}", o.current.train);
    assert!(
        o.pitfalls
            .iter()
            .any(|p| p.id == "thresholds_too_close" && p.fixed == Some(true)),
        "{:?}",
        o.pitfalls
    );
    // Read the emitted document back as a user's file would be, replay it independently.
    let text = serde_json::to_string(&rec.document).unwrap();
    let mut a = parse_policy(&text).unwrap();
    let cut = o.split.train_steps;
    let input = ReplayInput {
        start: req.start,
        step_seconds: 60,
        demand_rps: &d[..cut],
        extra: Vec::new(),
    };
    let again = replay(a.as_mut(), &input, &req.cap, &req.slo, None, &req.group).unwrap();
    assert_eq!(again.summary.cost_usd, rec.train_summary.cost_usd);
    assert_eq!(
        again.summary.sla_violation_minutes,
        rec.train.sla_violation_minutes
    );
    assert_eq!(again.summary.thrash_events, 0);
    // No eligible candidate is cheaper than the recommendation (checked against the front).
    for p in &o.pareto_front {
        if p.train.keeps_slo && p.train.thrash_events == 0 {
            assert!(p.train.cost_usd_per_month >= rec.train.cost_usd_per_month - 1e-9);
        }
    }
    let r = recommendation(&o).unwrap();
    assert_eq!(r.schema, "scaletop.recommendation/v1");
    let art = crate::artifact::Artifact::from_value(&r.artifact).unwrap();
    match art {
        crate::artifact::Artifact::Policy(p) => assert_eq!(p.document, rec.document),
        other => panic!("{other:?}"),
    }
}

#[test]
fn early_rejection_changes_nothing_reported() {
    let d = demand();
    let a = tune(
        &request(&d, Slo::default(), true),
        &SearchControl::default(),
    )
    .unwrap();
    let b = tune(
        &request(&d, Slo::default(), false),
        &SearchControl::default(),
    )
    .unwrap();
    assert_eq!(b.rejected_early, 0);
    let ids = |o: &TuneOutcome| {
        o.pareto_front
            .iter()
            .map(|p| p.candidate)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&b));
    assert_eq!(
        a.recommended.as_ref().map(|r| r.candidate),
        b.recommended.as_ref().map(|r| r.candidate)
    );
}

#[test]
fn summary_only_replay_equals_the_full_replay() {
    let d = demand();
    let doc = PolicyDoc::parse(HPA).unwrap();
    let input = ReplayInput {
        start: 0,
        step_seconds: 60,
        demand_rps: &d,
        extra: Vec::new(),
    };
    let g = GroupId::new(Platform::K8s, "t", "web");
    let full = replay(
        doc.autoscaler().unwrap().as_mut(),
        &input,
        &cap(),
        &Slo::default(),
        None,
        &g,
    )
    .unwrap();
    let mut never = |_: &crate::engine::replay::Progress| false;
    let s = replay_summary(
        doc.autoscaler().unwrap().as_mut(),
        &input,
        &cap(),
        &Slo::default(),
        None,
        &g,
        &mut never,
    )
    .unwrap()
    .unwrap();
    assert_eq!(format!("{s:?}"), format!("{:?}", full.summary));
    let mut stop = |p: &crate::engine::replay::Progress| p.steps >= 480;
    assert!(replay_summary(
        doc.autoscaler().unwrap().as_mut(),
        &input,
        &cap(),
        &Slo::default(),
        None,
        &g,
        &mut stop
    )
    .unwrap()
    .is_none());
}

#[test]
fn unreachable_slo_gives_no_recommendation_but_the_best_reachable() {
    let d = demand();
    // A p95 below what the 20 ms service time allows: no replica count meets it.
    let slo = Slo {
        p95_latency_ms: 10.0,
        ..Slo::default()
    };
    let o = tune(&request(&d, slo, true), &SearchControl::default()).unwrap();
    assert!(o.recommended.is_none());
    let b = o.best_reachable.as_ref().expect("best reachable");
    assert!(!b.train.keeps_slo);
    assert!(recommendation(&o).is_none());
}

#[test]
fn kind_of_another_platform_is_inconsistent() {
    let d = demand();
    let mut req = request(&d, Slo::default(), true);
    req.kinds = vec![PolicyKind::AwsStep];
    match tune(&req, &SearchControl::default()) {
        Err(TuneError::Space(space::SpaceError::Inconsistent { .. })) => {}
        other => panic!("{:?}", other.map(|o| o.candidates)),
    }
}

#[test]
fn cancel_stops_the_search() {
    let d = demand();
    let c = SearchControl::default();
    c.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(matches!(
        tune(&request(&d, Slo::default(), true), &c),
        Err(TuneError::Cancelled)
    ));
}

#[test]
fn schedule_raises_the_minimum_before_the_daily_peak_and_validates_as_an_asg() {
    let d = demand();
    // The cycle peaks at 1500 rps at noon UTC (the cosine's trough is at midnight of the start).
    let p = schedule::propose(1_700_006_400, 60, &d, &cap(), 2, 60, "web").expect("a schedule");
    assert_eq!(p.actions.len() % 2, 0);
    let raise = &p.actions[0];
    let reset = &p.actions[1];
    assert!(reset.scheduled_action_name.ends_with(schedule::END_SUFFIX));
    assert_eq!(reset.min_size, Some(2));
    // p90 of the window's demand at 70% of 100 rps: between the trough's and the peak's need.
    let raised = raise.min_size.unwrap();
    assert!((5..=22).contains(&raised), "{raised}");
    assert!(raise.recurrence.as_deref().unwrap().starts_with("30 "));
    let config = serde_json::json!({
        "AutoScalingGroupName": "web", "MinSize": 2, "MaxSize": 60,
        "ScalingPolicies": [{"PolicyName": "t", "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": {"PredefinedMetricSpecification":
                {"PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 60.0}}],
        "ScheduledActions": p.actions,
    });
    assert!(PolicyDoc::parse(&config.to_string()).is_ok());
}

/// What a search reports, by candidate: the front, the recommendation, each kind's best,
/// the schedule check's bests, the best reachable.
fn reported(o: &TuneOutcome) -> String {
    let ids = |v: &[PolicyPoint]| v.iter().map(|p| p.candidate).collect::<Vec<_>>();
    format!(
        "front {:?} rec {:?} kinds {:?} schedule {:?} reach {:?}",
        ids(&o.pareto_front),
        o.recommended.as_ref().map(|r| r.candidate),
        o.kinds
            .iter()
            .map(|k| (k.kind, k.best.as_ref().map(|b| b.candidate)))
            .collect::<Vec<_>>(),
        o.schedule.as_ref().map(|s| (
            s.best_without.as_ref().map(|b| b.candidate),
            s.best_with.as_ref().map(|b| b.candidate)
        )),
        o.best_reachable.as_ref().map(|b| b.candidate),
    )
}

fn exhaustive(mut req: TuneRequest<'_>, prune: bool) -> TuneOutcome {
    req.prune = prune;
    req.visit = Some(Visit::All);
    tune(&req, &SearchControl::default()).unwrap()
}

#[test]
#[ignore = "exhaustive searches twice over: minutes in a debug build; run with --release -- --ignored"]
fn early_rejection_rejects_yet_reports_the_same_on_the_default_hpa_space() {
    let d = demand();
    let mut req = request(&d, Slo::default(), true);
    req.size = SpaceSize::Default;
    let a = exhaustive(req.clone(), true);
    let b = exhaustive(req, false);
    assert_eq!(reported(&a), reported(&b));
    assert!(a.recommended.is_some());
    // The bounds do work: a good share of the space stops part-way.
    assert!(
        a.rejected_early * 4 > a.candidates,
        "{} of {} rejected",
        a.rejected_early,
        a.candidates
    );
}

#[test]
#[ignore = "exhaustive searches twice over: minutes in a debug build; run with --release -- --ignored"]
fn early_rejection_reports_the_same_across_aws_kinds_and_the_schedule_variant() {
    let d = demand();
    let asg = serde_json::json!({
        "AutoScalingGroupName": "web", "MinSize": 4, "MaxSize": 60,
        "ScalingPolicies": [{"PolicyName": "t", "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": {"PredefinedMetricSpecification":
                {"PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 50.0}}],
    });
    let mut req = request(&d, Slo::default(), true);
    req.current = PolicyDoc::parse(&asg.to_string()).unwrap();
    req.kinds = auto_kinds(&req.current);
    let a = exhaustive(req.clone(), true);
    let b = exhaustive(req, false);
    assert_eq!(reported(&a), reported(&b));
    assert!(a.schedule.is_some());
    assert!(a.rejected_early > 0);
}

#[test]
#[ignore = "exhaustive searches twice over: minutes in a debug build; run with --release -- --ignored"]
fn early_rejection_keeps_the_best_reachable_when_nothing_keeps_the_slo() {
    let d = demand();
    let slo = Slo {
        p95_latency_ms: 10.0,
        ..Slo::default()
    };
    let a = exhaustive(request(&d, slo.clone(), true), true);
    let b = exhaustive(request(&d, slo, true), false);
    assert!(a.recommended.is_none());
    assert_eq!(reported(&a), reported(&b));
}

/// The search's score path — static dispatch, the worker's latency memo shared across
/// candidates, no events kept — gives the full replay's summary bit for bit, and the same
/// progress figures as the dynamic summary path, for every policy kind the search builds on
/// several demand shapes, capacity models and Slos.
#[test]
fn score_path_gives_the_full_replays_figures() {
    use crate::engine::replay::{replay_score, LatencyMemo, Progress};
    let daily: Vec<f64> = demand()[..1800].to_vec();
    // Spikes beyond what max capacity serves (drops, time at max) and gaps (held values).
    let spiky: Vec<f64> = (0..1500)
        .map(|i| match i % 97 {
            0..=3 => 9_000.0,
            11 | 12 => f64::NAN,
            _ => 200.0 + (i % 13) as f64 * 60.0,
        })
        .collect();
    let warm = CapacityModel {
        startup_seconds: 150,
        warm_pool_size: 6,
        warm_pool_startup_seconds: 20,
        ..cap()
    };
    let tight = Slo {
        p95_latency_ms: 25.0,
        availability: 0.9999,
        ..Slo::default()
    };
    let cases: Vec<(&str, &[f64], CapacityModel, Slo)> = vec![
        ("daily", &daily, cap(), Slo::default()),
        ("spiky", &spiky, cap(), Slo::default()),
        ("daily warm pool", &daily, warm.clone(), tight.clone()),
        ("spiky warm pool", &spiky, warm, tight),
    ];
    let docs = [
        HPA.to_string(),
        include_str!("../../../tests/fixtures/keda-queue.yaml").to_string(),
        include_str!("../../../tests/fixtures/gcp-autoscaler.json").to_string(),
        include_str!("../../../tests/fixtures/asg-target-tracking.json").to_string(),
    ];
    let ctx = space::SpaceContext {
        size: SpaceSize::Small,
        trough_replicas: 3,
        schedule: Vec::new(),
    };
    let g = GroupId::new(Platform::K8s, "t", "web");
    let other: Vec<f64> = vec![100.0; 300];
    let other_input = ReplayInput {
        start: 0,
        step_seconds: 60,
        demand_rps: &other,
        extra: Vec::new(),
    };
    let mut compared = 0;
    for (name, d, cap, slo) in &cases {
        let input = ReplayInput {
            start: 1_700_006_400,
            step_seconds: 60,
            demand_rps: d,
            extra: Vec::new(),
        };
        let mut memo = LatencyMemo::new(&input, cap);
        let mut stale = LatencyMemo::new(&other_input, cap);
        for text in &docs {
            let current = PolicyDoc::parse(text).unwrap();
            for kind in auto_kinds(&current) {
                let cands = space::candidates(&current, kind, &ctx).unwrap();
                for c in cands.iter().step_by(cands.len() / 6 + 1) {
                    let full = replay(
                        c.doc.autoscaler().unwrap().as_mut(),
                        &input,
                        cap,
                        slo,
                        None,
                        &g,
                    )
                    .unwrap();
                    let want = format!("{:?}", full.summary);
                    let mut seen_dyn: Vec<Progress> = Vec::new();
                    let dynamic = replay_summary(
                        c.doc.autoscaler().unwrap().as_mut(),
                        &input,
                        cap,
                        slo,
                        None,
                        &g,
                        &mut |p| {
                            seen_dyn.push(*p);
                            false
                        },
                    )
                    .unwrap()
                    .unwrap();
                    assert_eq!(format!("{dynamic:?}"), want, "{name} {:?}", c.settings);
                    for m in [Some(&mut memo), Some(&mut stale), None] {
                        let mut seen: Vec<Progress> = Vec::new();
                        let scored = replay_score(
                            c.doc.autoscaler().unwrap().as_mut(),
                            &input,
                            cap,
                            slo,
                            None,
                            m,
                            &mut |p| {
                                seen.push(*p);
                                false
                            },
                        )
                        .unwrap()
                        .unwrap();
                        assert_eq!(format!("{scored:?}"), want, "{name} {:?}", c.settings);
                        assert_eq!(seen, seen_dyn, "{name} {:?}", c.settings);
                    }
                    compared += 1;
                }
            }
        }
        // The memo answered from what it kept, not only from the latency table.
        let (hits, misses) = memo.stats();
        assert!(
            hits > 0,
            "{name}: the memo never answered ({misses} misses)"
        );
    }
    assert!(compared >= 4 * 20, "{compared} candidates compared");
}

fn memory_choice() -> MetricChoice {
    use crate::engine::analysis::metric_choice::ChosenMetric;
    MetricChoice {
        metrics: vec![ChosenMetric {
            metric: "memory_utilization".into(),
            target_type: "utilization",
            target: 70.0,
            why: "memory reaches 100% first".into(),
            strong: true,
        }],
        current: Some("cpu_utilization".into()),
        wrong_current: true,
        explanation: "Scale on memory_utilization (target 70%) instead of cpu_utilization, the wrong metric: memory reaches 100% first.".into(),
    }
}

#[test]
fn a_metric_choice_that_changes_the_metric_is_searched_beside_the_current_one() {
    let d = demand();
    // Memory follows load per replica: 60% of a replica's demand share at 100 rps.
    let memory: Vec<f64> = d.iter().map(|v| 20.0 + v / 30.0).collect();
    let mut req = request(&d, Slo::default(), true);
    req.extra = vec![("memory_utilization".to_string(), memory.as_slice())];
    req.metric_choice = Some(memory_choice());
    let o = tune(&req, &SearchControl::default()).unwrap();
    let m = o.metric_choice.as_ref().expect("the choice is reported");
    assert!(m.searched && m.not_searched.is_none(), "{m:?}");
    // Both bases are in the space, labelled.
    let plain = tune(
        &request(&d, Slo::default(), true),
        &SearchControl::default(),
    )
    .unwrap();
    assert_eq!(o.candidates, 2 * plain.candidates);
    assert!(
        o.choice.contains("memory_utilization (target 70%)"),
        "{}",
        o.choice
    );
    assert!(o.choice.contains("Replayed, the"), "{}", o.choice);
    let rec = o.recommended.as_ref().expect("a recommendation");
    assert_eq!(rec.settings[0].0, "metrics");
    assert_eq!(
        m.recommended,
        rec.settings[0].1 == "memory_utilization",
        "{:?}",
        rec.settings
    );
}

#[test]
fn a_metric_choice_without_its_series_says_why_it_was_not_searched() {
    let d = demand();
    let mut req = request(&d, Slo::default(), true);
    req.metric_choice = Some(memory_choice());
    let o = tune(&req, &SearchControl::default()).unwrap();
    let m = o.metric_choice.as_ref().expect("the choice is reported");
    assert!(!m.searched);
    assert!(
        m.not_searched
            .as_deref()
            .is_some_and(|w| w.contains("memory_utilization")),
        "{m:?}"
    );
    assert!(o.pareto_front.iter().all(|p| p.settings[0].0 != "metrics"));
}
