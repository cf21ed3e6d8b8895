//! The report as one self-contained HTML file: inline CSS and SVG, no scripts, no external
//! resources, readable offline and printable.

use std::fmt::Write;

use super::doc::{Availability, Report, Table, Verdict};
use super::svg::{escape, render as svg};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}\
th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}\
th{background:#f3f3f3}.pass{color:#1a7f37}.fail{color:#c62828;font-weight:bold}.nm{color:#777}\
.source{color:#666;font-size:.8rem}.missing{color:#8a5a00}\
section{page-break-inside:avoid;margin-bottom:2rem}figure{margin:1rem 0}\
@media print{body{margin:0;max-width:none}section{page-break-before:auto}}";

fn table(out: &mut String, t: &Table) {
    let _ = write!(out, "<h4>{}</h4>", escape(&t.title));
    if t.rows.is_empty() {
        out.push_str("<p class=\"nm\">no rows</p>");
        return;
    }
    out.push_str("<table><thead><tr>");
    for c in &t.columns {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr></thead><tbody>");
    for r in &t.rows {
        out.push_str("<tr>");
        for c in r {
            let class = match c.as_str() {
                "pass" | "PASS" => " class=\"pass\"",
                "FAIL" => " class=\"fail\"",
                "not measured" => " class=\"nm\"",
                _ => "",
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(c));
        }
        out.push_str("</tr>");
    }
    let _ = write!(
        out,
        "</tbody></table><p class=\"source\">Source: {}</p>",
        escape(&t.source)
    );
}

pub fn render(r: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>",
        escape(&r.title)
    );
    let _ = write!(
        out,
        "<h1>{}</h1><p>Data: {}<br>Generated: {}</p>",
        escape(&r.title),
        escape(&r.source),
        escape(&r.generated_at)
    );
    out.push_str("<section id=\"criteria\"><h2>Success criteria</h2><table><thead><tr><th>criterion</th><th>target</th><th>verdict</th><th>figure</th><th>source</th></tr></thead><tbody>");
    for c in &r.criteria {
        let class = match c.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotMeasured => "nm",
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(c.name),
            escape(c.target),
            c.verdict.label(),
            escape(&c.figure),
            escape(&c.source)
        );
    }
    out.push_str("</tbody></table></section>");
    // Table of contents.
    out.push_str("<nav><ol>");
    for s in &r.sections {
        let _ = write!(
            out,
            "<li><a href=\"#s{}\">{}</a></li>",
            s.number,
            escape(s.title)
        );
    }
    out.push_str("</ol></nav>");
    for s in &r.sections {
        let _ = write!(
            out,
            "<section id=\"s{}\" data-availability=\"{}\"><h2>{}. {}</h2>",
            s.number,
            match s.availability {
                Availability::Complete => "complete",
                Availability::Partial => "partial",
                Availability::NotAvailable => "not_available",
            },
            s.number,
            escape(s.title)
        );
        if !s.notes.is_empty() {
            out.push_str("<ul>");
            for n in &s.notes {
                let class = if n.starts_with("Not available yet") {
                    " class=\"missing\""
                } else {
                    ""
                };
                let _ = write!(out, "<li{class}>{}</li>", escape(n));
            }
            out.push_str("</ul>");
        }
        for c in &s.charts {
            if let Some(svg) = svg(c) {
                let _ = write!(
                    out,
                    "<figure>{svg}<figcaption>{}</figcaption></figure>",
                    escape(&c.title)
                );
            }
        }
        for t in &s.tables {
            table(&mut out, t);
        }
        out.push_str("</section>");
    }
    out.push_str("</body></html>\n");
    out
}
