//! `scaletop report`: every section on every built-in scenario; figures equal to what
//! `analyze` and `forecast` print as JSON for the same data; the HTML is self-contained and
//! renders in headless Chromium with its charts; bad input gets a one-line error.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_scaletop");

fn scaletop(args: &[&str], dir: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("SCALETOP_CONFIG")
        .env("XDG_CONFIG_HOME", dir)
        .env("XDG_STATE_HOME", dir)
        .output()
        .expect("scaletop runs")
}

fn ok(args: &[&str], dir: &Path) -> String {
    let out = scaletop(args, dir);
    assert!(
        out.status.success(),
        "scaletop {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn report_json(args: &[&str], dir: &Path, name: &str) -> serde_json::Value {
    let out = dir.join(name);
    let mut a: Vec<&str> = vec!["report"];
    a.extend_from_slice(args);
    let o = out.to_str().expect("utf-8 path");
    a.extend_from_slice(&["--out", o]);
    ok(&a, dir);
    serde_json::from_str(&std::fs::read_to_string(&out).expect("report written")).expect("json")
}

const TITLES: [&str; 10] = [
    "Workload analysis",
    "Resource utilization",
    "Demand forecast",
    "Scaling policy",
    "Instance types",
    "Cost",
    "Implementation",
    "Testing",
    "Monitoring",
    "Tuning",
];

#[test]
fn every_section_on_every_scenario() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list: serde_json::Value =
        serde_json::from_str(&ok(&["sim", "list", "--format", "json"], dir.path())).expect("json");
    let names: Vec<String> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["name"].as_str().map(String::from))
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    for name in &names {
        let r = report_json(
            &["--scenario", name, "--duration", "2d", "--step", "10m"],
            dir.path(),
            &format!("{name}.json"),
        );
        let sections = r["sections"].as_array().expect("sections");
        let titles: Vec<&str> = sections
            .iter()
            .filter_map(|s| s["title"].as_str())
            .collect();
        assert_eq!(titles, TITLES, "{name}");
        for s in sections {
            let empty = s["tables"].as_array().is_none_or(|t| t.is_empty())
                && s["notes"].as_array().is_none_or(|n| n.is_empty());
            assert!(!empty, "{name}: section {} says nothing", s["title"]);
        }
        assert_eq!(r["criteria"].as_array().map(Vec::len), Some(13), "{name}");
        // Two days cannot back a 30-day forecast: the section says so instead of a number.
        let forecast = &sections[2];
        let notes = forecast["notes"].to_string();
        assert!(notes.contains("30d: no forecast"), "{name}: {notes}");
        // The engines that were missing when the report was written are all wired in now.
        let text = r.to_string();
        for stale in ["issue #7", "issue #8", "issue #9"] {
            assert!(!text.contains(stale), "{name}: report still says {stale}");
        }
        if COST_CHECKED.contains(&name.as_str()) {
            cost_equals_cost_json(&r, name, dir.path());
        }
    }
}

/// Scenarios whose report figures are checked against `scaletop cost --format json` (one with
/// instance groups and commitments, one with Lambda functions): a cost run per scenario is a
/// few seconds in debug, so not all six.
const COST_CHECKED: [&str; 2] = ["ecommerce", "serverless"];

/// The report's cost figures are the cost engine's for the same scenario, seed and history.
fn cost_equals_cost_json(r: &serde_json::Value, name: &str, dir: &Path) {
    let seed = r["cost"]["command"]
        .as_str()
        .and_then(|c| c.split("--seed ").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("{name}: no cost command in the report: {}", r["cost"]))
        .to_string();
    let cost: serde_json::Value = serde_json::from_str(&ok(
        &[
            "cost",
            "--scenario",
            name,
            "--seed",
            &seed,
            "--duration",
            "2d",
            "--step",
            "10m",
            "--format",
            "json",
        ],
        dir,
    ))
    .expect("cost json");
    let rc = &r["cost"];
    let t = &cost["totals"];
    for (mine, theirs) in [
        ("current_usd_month", &t["current_usd_month"]),
        ("projected_usd_month", &t["projected_usd_month"]),
        ("saving_usd_month", &t["saving"]["saving_usd_month"]),
        ("saving_pct", &t["saving"]["saving_pct"]),
    ] {
        assert!(theirs.as_f64().is_some(), "{name}: cost json has no {mine}");
        assert_eq!(&rc[mine], theirs, "{name}: {mine}");
    }
    let groups = cost["groups"].as_array().expect("groups");
    assert!(!groups.is_empty(), "{name}: no cost groups");
    let mine = rc["groups"].as_array().expect("report cost groups");
    assert_eq!(mine.len(), groups.len(), "{name}");
    for (m, g) in mine.iter().zip(groups) {
        assert_eq!(m[0], g["group"], "{name}");
        assert_eq!(m[1], g["current_usd_month"], "{name}");
        assert_eq!(m[2], g["projected_usd_month"], "{name}");
    }
    let ids: Vec<&serde_json::Value> = cost["recommendations"]
        .as_array()
        .expect("recommendations")
        .iter()
        .map(|r| &r["id"])
        .collect();
    let my_ids: Vec<&serde_json::Value> = rc["recommendation_ids"]
        .as_array()
        .expect("ids")
        .iter()
        .collect();
    assert_eq!(my_ids, ids, "{name}");
    // The criteria that need cost are measured from it, naming it as their source.
    let criteria = r["criteria"].as_array().expect("criteria");
    for c in ["resource waste found", "cost reduced or savings documented"] {
        let crit = criteria
            .iter()
            .find(|x| x["name"] == c)
            .unwrap_or_else(|| panic!("{name}: no criterion {c}"));
        assert_ne!(crit["verdict"], "not_measured", "{name}: {crit}");
        assert!(
            crit["source"]
                .as_str()
                .is_some_and(|s| s.contains("scaletop cost --scenario")),
            "{name}: {crit}"
        );
    }
    // Section 6 prints the same totals; section 7 lists what `emit` would write per
    // recommendation.
    let notes = r["sections"][5]["notes"].to_string();
    let current = t["current_usd_month"].as_f64().expect("current");
    let shown = if current.abs() >= 1000.0 {
        format!("${current:.0}")
    } else {
        format!("${current:.2}")
    };
    assert!(notes.contains(&shown), "{name}: {shown} not in {notes}");
    let emit = table(r, 6, "scaletop emit");
    let rows = emit["rows"].as_array().expect("rows");
    for id in &ids {
        assert!(
            rows.iter().any(|row| &row[0] == *id),
            "{name}: recommendation {id} missing from the emit table"
        );
    }
}

fn table<'a>(r: &'a serde_json::Value, section: usize, title_part: &str) -> &'a serde_json::Value {
    r["sections"][section]["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["title"].as_str().is_some_and(|s| s.contains(title_part)))
        .unwrap_or_else(|| panic!("no table '{title_part}'"))
}

fn row<'a>(t: &'a serde_json::Value, first: &str) -> &'a Vec<serde_json::Value> {
    t["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r.as_array())
        .find(|r| r[0].as_str() == Some(first))
        .unwrap_or_else(|| panic!("no row {first}"))
}

#[test]
fn figures_equal_the_engines_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("ecommerce.csv");
    let csv_s = csv.to_str().expect("utf-8");
    ok(
        &[
            "sim",
            "export",
            "--scenario",
            "ecommerce",
            "--duration",
            "14d",
            "--step",
            "5m",
            "--out",
            csv_s,
        ],
        dir.path(),
    );
    let r = report_json(&["--input", csv_s], dir.path(), "r.json");
    let analysis: serde_json::Value = serde_json::from_str(&ok(
        &["analyze", "--input", csv_s, "--format", "json"],
        dir.path(),
    ))
    .expect("analyze json");
    let workload = table(&r, 0, "Demand");
    let mut checked = 0;
    for s in analysis["series"].as_array().expect("series") {
        if s["metric"] != "request_rate" {
            continue;
        }
        let g = s["group"].as_str().expect("group");
        let rrow = row(workload, g);
        let f2 = |v: &serde_json::Value| v.as_f64().map_or("-".into(), |x| format!("{x:.2}"));
        assert_eq!(
            rrow[2].as_str(),
            Some(f2(&s["baseline"]).as_str()),
            "{g} baseline"
        );
        assert_eq!(rrow[3].as_str(), Some(f2(&s["peak"]).as_str()), "{g} peak");
        assert_eq!(
            rrow[4].as_str(),
            Some(f2(&s["peak_to_baseline"]).as_str()),
            "{g}"
        );
        assert_eq!(
            rrow[9].as_str(),
            Some(
                s["anomalies"]
                    .as_array()
                    .map_or(0, Vec::len)
                    .to_string()
                    .as_str()
            )
        );
        checked += 1;
    }
    assert!(checked >= 3, "compared {checked} groups");
    // Waste per group, section 2.
    let util = table(&r, 1, "Utilization");
    for g in analysis["groups"].as_array().expect("groups") {
        let Some(share) = g["provisioning"]["waste_share"].as_f64() else {
            continue;
        };
        let rrow = row(util, g["group"].as_str().expect("group"));
        assert_eq!(
            rrow[7].as_str(),
            Some(format!("{:.1}%", share * 100.0).as_str())
        );
    }
    // Forecast backtest of the busiest group, section 3.
    let fc_table = table(&r, 2, "Forecast");
    let first = fc_table["rows"][0].as_array().expect("a forecast row");
    let group = first[0].as_str().expect("group");
    assert_eq!(first[1], "7d");
    let fc: serde_json::Value = serde_json::from_str(&ok(
        &[
            "forecast",
            "--input",
            csv_s,
            "--group",
            group,
            "--metric",
            "request_rate",
            "--horizon",
            "7d",
            "--format",
            "json",
        ],
        dir.path(),
    ))
    .expect("forecast json");
    assert_eq!(first[2].as_str(), fc["model"].as_str());
    let pct = |v: &serde_json::Value| format!("{:.1}%", v.as_f64().expect("figure") * 100.0);
    assert_eq!(
        first[3].as_str(),
        Some(pct(&fc["backtest"]["accuracy"]).as_str())
    );
    assert_eq!(
        first[4].as_str(),
        Some(pct(&fc["backtest"]["mape"]).as_str())
    );
    let peak_hi = fc["points"]
        .as_array()
        .expect("points")
        .iter()
        .filter_map(|p| p["hi95"].as_f64())
        .fold(f64::MIN, f64::max);
    assert_eq!(first[9].as_str(), Some(format!("{peak_hi:.1}").as_str()));
    // A metrics file carries no policies: sections that need them say so, no numbers.
    let policy = r["sections"][3]["tables"][0]["rows"][0]
        .as_array()
        .expect("row");
    assert!(
        policy[3]
            .as_str()
            .is_some_and(|s| s.contains("policy unknown")),
        "{policy:?}"
    );
    let cost_missing = r["sections"][5]["notes"].to_string();
    assert!(cost_missing.contains("Not available yet"), "{cost_missing}");
}

#[test]
fn markdown_has_the_same_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path().join("r.md");
    let args = [
        "--scenario",
        "microservices",
        "--duration",
        "1d",
        "--step",
        "10m",
    ];
    let mut a = vec!["report"];
    a.extend_from_slice(&args);
    a.extend_from_slice(&["--out", md.to_str().expect("utf-8")]);
    ok(&a, dir.path());
    let text = std::fs::read_to_string(&md).expect("md");
    for (i, t) in TITLES.iter().enumerate() {
        assert!(text.contains(&format!("## {}. {t}", i + 1)), "missing {t}");
    }
    let r = report_json(&args, dir.path(), "r.json");
    for s in r["sections"].as_array().expect("sections") {
        for t in s["tables"].as_array().expect("tables") {
            assert!(text.contains(&format!("**{}**", t["title"].as_str().expect("title"))));
        }
    }
    assert!(text.contains("| criterion | target | verdict | figure | source |"));
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {c}"))
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

fn headless(browser: &str, page: &Path, extra: &[&str]) -> Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1200,2400",
        ])
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("browser runs")
}

#[test]
fn html_is_self_contained_and_renders_in_chromium() {
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("report.html");
    ok(
        &[
            "report",
            "--scenario",
            "game",
            "--duration",
            "10d",
            "--step",
            "10m",
            "--out",
            html.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    let text = std::fs::read_to_string(&html).expect("html");
    assert!(
        !text.contains("<script") && !text.contains("src=\"http") && !text.contains("href=\"http")
    );
    for chart in [
        "demand",
        "utilization-distribution",
        "forecast",
        "replicas",
        "cost-breakdown",
    ] {
        assert!(
            text.contains(&format!("data-chart=\"{chart}\"")),
            "chart {chart} missing"
        );
    }
    if !support::have("chromium") || chromium().is_none() {
        return;
    }
    let browser = chromium().expect("checked");
    let dom = headless(browser, &html, &["--dump-dom"]);
    let rendered = String::from_utf8_lossy(&dom.stdout);
    let errors = String::from_utf8_lossy(&dom.stderr);
    assert!(dom.status.success(), "chromium failed: {errors}");
    assert!(
        !errors.contains("ERROR:CONSOLE") && !errors.contains("Uncaught"),
        "{errors}"
    );
    for series in ["demand", "forecast", "95% band", "observed", "replayed"] {
        assert!(
            rendered.contains(&format!("data-series=\"{series}\"")),
            "series {series} not in the rendered DOM"
        );
    }
    assert!(rendered.contains("<path d=\"M"), "no drawn path");
    // Screenshot: the report against a blank page of the same size.
    let shot = |page: &Path, name: &str| -> u64 {
        let png: PathBuf = dir.path().join(name);
        let out = headless(browser, page, &[&format!("--screenshot={}", png.display())]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&png).expect("screenshot written");
        assert_eq!(&bytes[1..4], b"PNG");
        bytes.len() as u64
    };
    let blank = dir.path().join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").expect("blank");
    let (report, empty) = (shot(&html, "report.png"), shot(&blank, "blank.png"));
    assert!(
        report > 10 * empty,
        "report screenshot {report} B vs blank {empty} B"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [&[&str]; 4] = [
        &["report", "--scenario", "nope", "--out", "x.html"],
        &["report", "--input", "/no/such/file.csv", "--out", "x.md"],
        &["report", "--scenario", "game", "--out", "x.pdf"],
        &[
            "report",
            "--scenario",
            "game",
            "--duration",
            "1h",
            "--step",
            "10m",
            "--out",
            "/proc/no/x.md",
        ],
    ];
    for args in cases {
        let out = scaletop(args, dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    let out = scaletop(
        &[
            "--readonly",
            "report",
            "--scenario",
            "game",
            "--out",
            "x.md",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"));
}
