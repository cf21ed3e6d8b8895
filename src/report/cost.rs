//! The cost engine's figures in the report: exactly what `scaletop cost` computes for the same
//! scenario, seed and history (`commands::cost::compute`), never a second costing.

use serde::Serialize;

use crate::commands::cost::Computed;
use crate::emit::{self, EmitContext, Target};
use crate::model::Recommendation;

use super::doc::Table;
use super::fmt::{pct, usd};

/// The cost run the report shows, or why there is none, and the command that reproduces it.
#[derive(Debug)]
pub struct CostInput {
    pub result: Result<Computed, String>,
    /// e.g. "scaletop cost --scenario ecommerce --seed 42 --duration 14d --step 5m".
    pub command: String,
}

impl CostInput {
    pub fn ok(&self) -> Option<&Computed> {
        self.result.as_ref().ok()
    }

    /// "cost engine (`scaletop cost ... --format json`)".
    pub fn source(&self) -> String {
        format!("cost engine (`{} --format json`)", self.command)
    }

    /// Why the cost figures are missing.
    pub fn why_not(&self) -> String {
        match &self.result {
            Ok(_) => String::new(),
            Err(e) => format!("the cost engine could not run (`{}`): {e}", self.command),
        }
    }
}

/// The raw cost figures in the report's JSON, to compare with `scaletop cost --format json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostTotals {
    pub command: String,
    pub current_usd_month: f64,
    pub projected_usd_month: f64,
    pub saving_usd_month: f64,
    /// Percent of the current cost, as the cost engine reports it.
    pub saving_pct: f64,
    /// (group, current $/month, projected $/month).
    pub groups: Vec<(String, f64, f64)>,
    pub recommendation_ids: Vec<String>,
}

pub fn totals(c: &CostInput) -> Option<CostTotals> {
    let k = c.ok()?;
    let t = &k.report.totals;
    Some(CostTotals {
        command: c.command.clone(),
        current_usd_month: t.current_usd_month,
        projected_usd_month: t.projected_usd_month,
        saving_usd_month: t.saving.saving_usd_month,
        saving_pct: t.saving.saving_pct,
        groups: k
            .report
            .groups
            .iter()
            .map(|g| (g.group.clone(), g.current_usd_month, g.projected_usd_month))
            .collect(),
        recommendation_ids: k.recommendations.iter().map(|r| r.id.clone()).collect(),
    })
}

/// Section 5: instance type, spot and commitment advice per group.
pub fn instance_tables(c: &CostInput) -> Vec<Table> {
    let Some(k) = c.ok() else { return Vec::new() };
    let src = c.source();
    let mut types = Table::new(
        "Instance type advice (utilization profile vs catalog)",
        &[
            "group",
            "current",
            "recommended",
            "best ARM",
            "saving / month",
            "verdict",
        ],
        src.clone(),
    );
    let mut spot = Table::new(
        "Spot suitability",
        &[
            "group",
            "suitable",
            "spot share",
            "on-demand base",
            "interruptions / month",
            "saving / month",
            "saving %",
            "reasons",
        ],
        src.clone(),
    );
    let mut commit = Table::new(
        "Reserved instances and savings plans (recommended)",
        &[
            "group",
            "commitment",
            "term",
            "level (instances)",
            "utilization",
            "coverage",
            "saving / month",
        ],
        src.clone(),
    );
    for p in &k.report.plans {
        if let Some(a) = &p.instance_type {
            types.rows.push(vec![
                p.group.clone(),
                a.current.name.clone(),
                a.recommended
                    .as_ref()
                    .map_or("-".into(), |r| r.name.clone()),
                a.best_arm.as_ref().map_or("-".into(), |r| r.name.clone()),
                a.saving.map_or("-".into(), |s| usd(s.saving_usd_month)),
                a.verdict.to_string(),
            ]);
        }
        if let Some(s) = &p.spot {
            spot.rows.push(vec![
                p.group.clone(),
                if s.suitable { "yes" } else { "no" }.into(),
                pct(Some(s.spot_share)),
                s.on_demand_base.to_string(),
                format!("{:.1}", s.expected_interruptions_per_month),
                usd(s.saving.saving_usd_month),
                pct(Some(s.saving.saving_pct / 100.0)),
                s.reasons.join("; "),
            ]);
        }
        for cp in &p.commitments {
            commit.rows.push(vec![
                p.group.clone(),
                format!("{:?}", cp.option.kind),
                format!("{}y", cp.option.term_years),
                format!("{:.1}", cp.level_instances),
                pct(Some(cp.utilization)),
                pct(Some(cp.coverage)),
                usd(cp.saving.saving_usd_month),
            ]);
        }
    }
    let mut inv = Table::new(
        "Commitments held now (inventory)",
        &[
            "kind",
            "instance type",
            "region",
            "count",
            "utilization now",
            "utilization projected",
            "note",
        ],
        src,
    );
    for r in &k.report.inventory {
        let c = &r.commitment;
        inv.rows.push(vec![
            c.kind.clone(),
            c.instance_type.clone().unwrap_or_else(|| "-".into()),
            c.region.clone().unwrap_or_else(|| "-".into()),
            c.count.map_or("-".into(), |n| n.to_string()),
            pct(r.utilization_now),
            pct(r.utilization_projected),
            r.note.clone(),
        ]);
    }
    vec![types, spot, commit, inv]
}

/// Section 6: cost now and projected per group, savings by kind, recommendations.
pub fn cost_tables(c: &CostInput) -> (Vec<String>, Vec<Table>) {
    let Some(k) = c.ok() else {
        return (Vec::new(), Vec::new());
    };
    let t = &k.report.totals;
    let src = c.source();
    let mut notes = vec![format!(
        "Projected with the cost recommendations: {} per month now, {} projected, saving {} \
         ({:.1}%); waste {} per month.",
        usd(t.current_usd_month),
        usd(t.projected_usd_month),
        usd(t.saving.saving_usd_month),
        t.saving.saving_pct,
        usd(t.waste_usd_month)
    )];
    if let Some(v) = &k.validation {
        notes.push(format!(
            "Projection check on a fresh seed ({}): projected {} vs incurred {} per month ({}); {}",
            v.seed,
            usd(v.projected_usd_month),
            usd(v.incurred_usd_month),
            v.error_pct
                .map_or("not comparable".into(), |e| format!("{e:+.1}%")),
            v.note
        ));
        for b in &v.by_billing {
            notes.push(format!(
                "  {}: projected {} vs incurred {} ({}): {}",
                b.name,
                usd(b.projected_usd_month),
                usd(b.incurred_usd_month),
                b.error_pct
                    .map_or("not comparable".into(), |e| format!("{e:+.1}%")),
                b.method
            ));
        }
    }
    let mut groups = Table::new(
        "Monthly cost per group, now and projected",
        &[
            "group",
            "priced as",
            "now / month",
            "projected / month",
            "now per 1M req",
            "projected per 1M req",
        ],
        src.clone(),
    );
    for g in &k.report.groups {
        groups.rows.push(vec![
            g.group.clone(),
            g.priced_as.clone(),
            usd(g.current_usd_month),
            usd(g.projected_usd_month),
            g.usd_per_million_requests(false).map_or("-".into(), usd),
            g.usd_per_million_requests(true).map_or("-".into(), usd),
        ]);
    }
    let mut kinds = Table::new("Savings by kind", &["kind", "saving / month"], src.clone());
    for (kind, v) in &t.savings_by_kind {
        kinds.rows.push(vec![kind.clone(), usd(*v)]);
    }
    let mut recs = Table::new(
        "Cost recommendations (scaletop.recommendation/v1)",
        &["id", "group", "title", "saving / month", "risk"],
        src,
    );
    for r in &k.recommendations {
        recs.rows.push(vec![
            r.id.clone(),
            r.group.to_string(),
            r.title.clone(),
            r.saving_usd_month.map_or("-".into(), usd),
            format!("{:?}", r.risk),
        ]);
    }
    (notes, vec![groups, kinds, recs])
}

/// Targets `scaletop emit` is asked for, in its own order (rollout-only is left out: every
/// target writes its rollout note anyway).
const TARGETS: [Target; 9] = [
    Target::Hpa,
    Target::Vpa,
    Target::Keda,
    Target::Aws,
    Target::AwsTerraform,
    Target::Gcp,
    Target::GcpTerraform,
    Target::Azure,
    Target::AzureTerraform,
];

/// Section 7: what `scaletop emit` would write for each recommendation, run in memory.
pub fn emit_table(c: &CostInput) -> Option<Table> {
    let k = c.ok()?;
    let mut recs: Vec<Recommendation> = k.recommendations.clone();
    emit::rank::rank(&mut recs);
    let ctx = EmitContext {
        source: c.command.clone(),
        companions: recs.clone(),
        ..Default::default()
    };
    let mut t = Table::new(
        "Config files `scaletop emit` would write (run in memory, nothing written)",
        &["recommendation", "target", "files", "rollout note"],
        "emitters (src/emit, `scaletop emit --from recommendations.json --target T \
         --dry-run`), fed the cost recommendations above, ranked by risk-adjusted saving",
    );
    for rec in &recs {
        let Ok(artifact) = crate::artifact::Artifact::from_value(&rec.artifact) else {
            t.rows.push(vec![
                rec.id.clone(),
                "-".into(),
                "-".into(),
                "artifact not readable".into(),
            ]);
            continue;
        };
        let targets: Vec<Target> = TARGETS
            .into_iter()
            .filter(|t| t.accepts(&artifact))
            .collect();
        if targets.is_empty() {
            t.rows.push(vec![
                rec.id.clone(),
                "-".into(),
                "-".into(),
                format!(
                    "no emitter takes a {}: apply it by hand (`scaletop emit --target rollout` \
                     writes its rollout note only)",
                    emit::describe(&artifact)
                ),
            ]);
        }
        for target in targets {
            let cmd = format!("--target {}", target.as_str());
            match emit::emit(target, rec, &ctx) {
                Ok(files) => t.rows.push(vec![
                    rec.id.clone(),
                    cmd,
                    files
                        .iter()
                        .map(|f| f.relative.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    files
                        .last()
                        .map(|f| headline(&f.contents))
                        .unwrap_or_default(),
                ]),
                Err(e) => t.rows.push(vec![
                    rec.id.clone(),
                    cmd,
                    "-".into(),
                    format!("cannot emit: {}", e.message),
                ]),
            }
        }
    }
    Some(t)
}

/// The note's title and its step headings: "Rollout: X (1. Shadow first → 2. Canary → ...)".
fn headline(note: &str) -> String {
    let title = note
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .unwrap_or("rollout note");
    let steps: Vec<&str> = note
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .filter(|h| h.starts_with(|c: char| c.is_ascii_digit()) || *h == "Rollback")
        .collect();
    if steps.is_empty() {
        title.to_string()
    } else {
        format!("{title} ({})", steps.join(" → "))
    }
}
