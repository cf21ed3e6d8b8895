//! The report as Markdown: the same sections, tables, criteria and notes as the HTML; charts
//! are named with a pointer to the HTML version.

use std::fmt::Write;

use super::doc::{Availability, Report, Table};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "**{}**\n", t.title);
    if t.rows.is_empty() {
        let _ = writeln!(out, "_no rows_\n");
        return;
    }
    let _ = writeln!(
        out,
        "| {} |",
        t.columns
            .iter()
            .map(|c| cell(c))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|{}", "---|".repeat(t.columns.len()));
    for r in &t.rows {
        let _ = writeln!(
            out,
            "| {} |",
            r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        );
    }
    let _ = writeln!(out, "\n_Source: {}_\n", t.source);
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", r.title);
    let _ = writeln!(out, "Data: {}  \nGenerated: {}\n", r.source, r.generated_at);
    let _ = writeln!(out, "## Success criteria\n");
    let mut t = Table::new(
        "Success criteria",
        &["criterion", "target", "verdict", "figure", "source"],
        "computed from the sections below",
    );
    for c in &r.criteria {
        t.rows.push(vec![
            c.name.to_string(),
            c.target.to_string(),
            c.verdict.label().to_string(),
            c.figure.clone(),
            c.source.clone(),
        ]);
    }
    table(&mut out, &t);
    for s in &r.sections {
        let _ = writeln!(out, "## {}. {}\n", s.number, s.title);
        if s.availability == Availability::NotAvailable {
            let _ = writeln!(out, "_This section is not available yet._\n");
        }
        for n in &s.notes {
            let _ = writeln!(out, "- {n}");
        }
        if !s.notes.is_empty() {
            out.push('\n');
        }
        for t in &s.tables {
            table(&mut out, t);
        }
        for c in &s.charts {
            let _ = writeln!(out, "_Chart: {} (in the HTML report)_\n", c.title);
        }
    }
    out
}
