//! The scorecard as Markdown (saved beside its JSON when a window closes).

use std::fmt::Write;

use super::Scorecard;
use crate::engine::forecast::format_time;

fn opt(v: Option<f64>, d: usize) -> String {
    v.filter(|x| x.is_finite())
        .map_or("-".into(), |x| format!("{x:.d$}"))
}

pub fn render(s: &Scorecard) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Load-test scorecard: {}\n",
        if !s.closed {
            "IN PROGRESS"
        } else if s.passed {
            "PASS"
        } else {
            "FAIL"
        }
    );
    let _ = writeln!(
        o,
        "Window {} – {} UTC ({:.0} min). Targets: time to scale < {}, p95 < {} ms, {}.\n",
        format_time(s.start),
        format_time(s.end),
        (s.end - s.start) as f64 / 60.0,
        s.targets.max_time_to_scale,
        s.targets.p95_ms,
        if s.targets.allow_thrash {
            "thrash allowed"
        } else {
            "no thrash"
        }
    );
    if let Some(c) = s.cost_usd {
        let _ = writeln!(o, "Cost of the window: ${c:.2}.\n");
    }
    let _ = writeln!(o, "| group | verdict | profile | demand min–max req/s | time to scale (min) | latency back under target (min) | p95 / p99 during scaling ms | errors during scaling | SLA-violation min | peak / max replicas | ups / downs / thrash | premature scale-down min | cost |");
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for g in &s.groups {
        let tts = match &g.time_to_scale_seconds {
            None => "unknown capacity".to_string(),
            Some(v) if v.is_empty() => "no episode".to_string(),
            Some(v) => v
                .iter()
                .map(|t| format!("{:.1}", *t as f64 / 60.0))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {:?} | {:.0}–{:.0} | {}{} | {} | {} / {} | {} | {:.1} | {} / {} | {} / {} / {} | {:.1} | {} |",
            g.group,
            if g.passed { "pass" } else { "FAIL" },
            g.profile,
            g.demand_min_rps,
            g.demand_max_rps,
            tts,
            if g.scaling_unfinished { " (unfinished)" } else { "" },
            g.time_to_latency_ok_seconds
                .iter()
                .map(|t| format!("{:.1}", *t as f64 / 60.0))
                .collect::<Vec<_>>()
                .join(", "),
            opt(g.p95_during_scaling_ms, 0),
            opt(g.p99_during_scaling_ms, 0),
            opt(g.error_rate_during_scaling.map(|e| e * 100.0), 2) + "%",
            g.sla_violation_minutes,
            opt(g.peak_replicas, 0),
            opt(g.max_replicas, 0),
            g.scale_ups,
            g.scale_downs,
            g.thrash_pairs,
            g.premature_scale_down_minutes,
            g.cost_usd.map_or("-".into(), |c| format!("${c:.2}")),
        );
    }
    let failures: Vec<String> = s
        .groups
        .iter()
        .flat_map(|g| {
            g.failures
                .iter()
                .map(move |f| format!("- {}: {f}", g.group))
        })
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(o, "\n## Why it failed\n\n{}", failures.join("\n"));
    }
    o
}
