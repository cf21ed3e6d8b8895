//! Table and Markdown output of the cost report.

use std::io::Write;

use super::Validation;
use crate::engine::cost::plan::CostReport;
use crate::model::Recommendation;
use crate::pricing::PriceStatus;

fn money(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("${v:.0}")
    } else {
        format!("${v:.2}")
    }
}

fn opt_money(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("${x:.3}"))
}

pub fn table(
    w: &mut dyn Write,
    r: &CostReport,
    recs: &[Recommendation],
    v: Option<&Validation>,
) -> std::io::Result<()> {
    let t = &r.totals;
    writeln!(
        w,
        "Cost of {} ({:.0} h of history), 730-hour months",
        r.source, r.hours
    )?;
    writeln!(
        w,
        "  now {}/month -> projected {}/month: saving {}/month ({:.1}%); waste {}/month",
        money(t.current_usd_month),
        money(t.projected_usd_month),
        money(t.saving.saving_usd_month),
        t.saving.saving_pct,
        money(t.waste_usd_month)
    )?;
    writeln!(
        w,
        "  per million requests: now {} projected {}",
        opt_money(t.usd_per_million_requests_now),
        opt_money(t.usd_per_million_requests_projected)
    )?;
    writeln!(
        w,
        "  mix now: on-demand {:.0}% spot {:.0}% | projected: on-demand {:.0}% spot {:.0}% committed {:.0}%",
        t.mix_now.on_demand_share * 100.0,
        t.mix_now.spot_share * 100.0,
        t.mix_projected.on_demand_share * 100.0,
        t.mix_projected.spot_share * 100.0,
        t.mix_projected.committed_share * 100.0
    )?;
    let kinds: Vec<String> = t
        .savings_by_kind
        .iter()
        .map(|(k, s)| format!("{k} {}", money(*s)))
        .collect();
    writeln!(w, "  savings by kind: {}", kinds.join(", "))?;
    writeln!(w)?;
    writeln!(
        w,
        "{:<24} {:<34} {:>10} {:>10} {:>10} {:>9}",
        "GROUP", "PRICED AS", "$/H NOW", "NOW/MO", "PROJ/MO", "$/M REQ"
    )?;
    for g in &r.groups {
        let mark = if g.price_status == PriceStatus::Unverified {
            "*"
        } else {
            ""
        };
        writeln!(
            w,
            "{:<24} {:<34} {:>10} {:>10} {:>10} {:>9}",
            g.group,
            format!("{}{mark}", g.priced_as),
            if g.usd_per_hour_now.is_finite() {
                format!("{:.3}", g.usd_per_hour_now)
            } else {
                "-".into()
            },
            money(g.current_usd_month),
            money(g.projected_usd_month),
            opt_money(g.usd_per_million_requests(false))
        )?;
    }
    writeln!(w)?;
    writeln!(w, "By team:")?;
    for l in &r.by_team {
        writeln!(
            w,
            "  {:<20} {:>3} groups  {:>10} -> {:>10}",
            l.value,
            l.groups,
            money(l.current_usd_month),
            money(l.projected_usd_month)
        )?;
    }
    if let Some(k) = &r.kubernetes {
        writeln!(
            w,
            "\nKubernetes: {:.1} {} nodes (${}/h) {}/month; allocated to pods {}, idle {}",
            k.nodes_mean,
            k.node_type,
            k.node_usd_per_hour,
            money(k.nodes_usd_month),
            money(k.allocated_usd_month),
            money(k.idle_usd_month)
        )?;
    }
    if !r.inventory.is_empty() {
        writeln!(w, "\nExisting commitments:")?;
        for i in &r.inventory {
            let pct = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.0}%", v * 100.0));
            let usd = |x: Option<f64>| x.map_or("-".into(), money);
            writeln!(
                w,
                "  {:<22} utilization now {:>5} (coverage {:>5}, saves {}/mo), under the recommendations {:>5} (saves {}/mo) — {}",
                i.commitment.kind,
                pct(i.utilization_now),
                pct(i.coverage_now),
                usd(i.saving_usd_month_now),
                pct(i.utilization_projected),
                usd(i.saving_usd_month_projected),
                i.note
            )?;
        }
    }
    if !recs.is_empty() {
        writeln!(w, "\nRecommendations:")?;
        for rec in recs {
            writeln!(
                w,
                "  {:>9}/mo  {}",
                money(rec.saving_usd_month.unwrap_or(0.0)),
                rec.title
            )?;
            for e in &rec.evidence {
                writeln!(w, "               {e}")?;
            }
        }
    }
    if let Some(v) = v {
        match v.error_pct {
            Some(e) => writeln!(
                w,
                "\nValidation (seed {}): projected {}/month vs simulator incurred {}/month: error {e:+.1}%",
                v.seed,
                money(v.projected_usd_month),
                money(v.incurred_usd_month),
            )?,
            None => writeln!(w, "\nValidation: {}", v.note)?,
        }
        for k in &v.by_billing {
            writeln!(
                w,
                "  {:<10} projected {}/month vs incurred {}/month: error {} ({})",
                k.name,
                money(k.projected_usd_month),
                money(k.incurred_usd_month),
                k.error_pct.map_or("-".into(), |e| format!("{e:+.1}%")),
                k.method
            )?;
        }
    }
    if !r.unverified_prices.is_empty() {
        writeln!(
            w,
            "\n* figures rest on UNVERIFIED prices ({}): {}",
            r.unverified_prices.len(),
            r.unverified_prices.join("; ")
        )?;
    }
    writeln!(w, "\nAssumptions:")?;
    for a in &r.assumptions {
        writeln!(w, "  - {a}")?;
    }
    Ok(())
}

pub fn markdown(
    w: &mut dyn Write,
    r: &CostReport,
    recs: &[Recommendation],
    v: Option<&Validation>,
) -> std::io::Result<()> {
    let t = &r.totals;
    writeln!(w, "# Cost\n")?;
    writeln!(
        w,
        "Source: {}; {:.0} h of history; 730-hour months.\n",
        r.source, r.hours
    )?;
    writeln!(w, "| | now | projected |\n|---|---:|---:|")?;
    writeln!(
        w,
        "| monthly | {} | {} |",
        money(t.current_usd_month),
        money(t.projected_usd_month)
    )?;
    writeln!(
        w,
        "| per million requests | {} | {} |",
        opt_money(t.usd_per_million_requests_now),
        opt_money(t.usd_per_million_requests_projected)
    )?;
    writeln!(
        w,
        "\nSaving {}/month ({:.1}%).\n",
        money(t.saving.saving_usd_month),
        t.saving.saving_pct
    )?;
    writeln!(w, "## Groups\n\n| group | priced as | now/month | projected/month | price |\n|---|---|---:|---:|---|")?;
    for g in &r.groups {
        writeln!(
            w,
            "| {} | {} | {} | {} | {:?} |",
            g.group,
            g.priced_as,
            money(g.current_usd_month),
            money(g.projected_usd_month),
            g.price_status
        )?;
    }
    writeln!(
        w,
        "\n## By team\n\n| team | groups | now | projected |\n|---|---:|---:|---:|"
    )?;
    for l in &r.by_team {
        writeln!(
            w,
            "| {} | {} | {} | {} |",
            l.value,
            l.groups,
            money(l.current_usd_month),
            money(l.projected_usd_month)
        )?;
    }
    writeln!(w, "\n## Recommendations\n")?;
    for rec in recs {
        writeln!(
            w,
            "- **{}** — {}/month\n{}",
            rec.title,
            money(rec.saving_usd_month.unwrap_or(0.0)),
            rec.evidence
                .iter()
                .map(|e| format!("  - {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        )?;
    }
    if let Some(v) = v {
        match v.error_pct {
            Some(e) => writeln!(
                w,
                "\n## Validation\n\nProjected {} vs incurred {} on seed {}: error {e:+.1}%.",
                money(v.projected_usd_month),
                money(v.incurred_usd_month),
                v.seed,
            )?,
            None => writeln!(w, "\n## Validation\n\n{}", v.note)?,
        }
        for k in &v.by_billing {
            writeln!(
                w,
                "- {}: projected {} vs incurred {}, error {} ({})",
                k.name,
                money(k.projected_usd_month),
                money(k.incurred_usd_month),
                k.error_pct.map_or("-".into(), |e| format!("{e:+.1}%")),
                k.method
            )?;
        }
    }
    if !r.unverified_prices.is_empty() {
        writeln!(w, "\n## Unverified prices\n")?;
        for p in &r.unverified_prices {
            writeln!(w, "- {p}")?;
        }
    }
    writeln!(w, "\n## Assumptions\n")?;
    for a in &r.assumptions {
        writeln!(w, "- {a}")?;
    }
    Ok(())
}
