//! Analysis checked against the simulator's planted truth and against synthetic series whose
//! answer is known; plus the degenerate inputs that must never panic.

use std::f64::consts::PI;

use scaletop::engine::analysis::{analyze_all, analyze_workload, SeriesInput};
use scaletop::input;
use scaletop::sim::{self, ExportSpec};

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// Exports `scenario` through the real CSV path and keeps the named groups.
fn sim_inputs(
    scenario: &str,
    days: u64,
    step: u64,
    groups: &[&str],
) -> (Vec<SeriesInput>, sim::Truth) {
    let s = sim::Scenario::load(scenario).expect("built-in scenario");
    let spec = ExportSpec {
        seed: 7,
        duration_seconds: days * DAY as u64,
        step_seconds: step,
    };
    let mut csv = Vec::new();
    sim::export_csv(&s, &spec, &mut csv).expect("export");
    let text = String::from_utf8(csv).expect("utf8");
    let series = input::parse(&text, "sim.csv").expect("parse");
    let inputs = series
        .iter()
        .filter(|s| groups.contains(&s.group.as_str()))
        .map(|s| {
            let (start, values) = s.regular(step as i64);
            SeriesInput {
                group: s.group.clone(),
                metric: s.metric.clone(),
                start,
                step_seconds: step as i64,
                values,
            }
        })
        .collect();
    (inputs, sim::truth(&s, &spec))
}

#[test]
fn microservices_planted_truth() {
    let groups = ["image-cache", "image-resize", "legacy-auth", "orders"];
    let (inputs, truth) = sim_inputs("microservices", 14, 300, &groups);
    let report = analyze_all(&inputs, 2);

    // Periods: the daily cycle in every group's demand; the weekly one where it was planted.
    for g in &groups {
        let rr = report
            .series
            .iter()
            .find(|s| s.group == *g && s.metric == "request_rate")
            .expect("request_rate analysed");
        let periods: Vec<i64> = rr
            .workload
            .seasonality
            .iter()
            .map(|p| p.period_seconds)
            .collect();
        assert!(periods.contains(&DAY), "{g}: {periods:?}");
        let gt = truth.groups.iter().find(|t| t.group == *g).expect("truth");
        let weekly_planted = gt
            .weekly_factors
            .iter()
            .any(|w| (w - gt.weekly_factors[0]).abs() > 0.2);
        if weekly_planted {
            assert!(
                periods.contains(&WEEK),
                "{g}: weekly planted, found {periods:?}"
            );
        }
        assert!(!rr.workload.peak_windows.is_empty(), "{g}: peak windows");
    }

    // Wrong metric: the memory-bound group is flagged, its CPU-bound control is not.
    let by = |name: &str| {
        report
            .groups
            .iter()
            .find(|g| g.group == name)
            .expect("group")
    };
    assert!(truth
        .pitfalls
        .iter()
        .any(|p| p.group == "image-cache" && p.kind == "wrong_metric"));
    assert!(by("image-cache").wrong_scaling_metric);
    assert_eq!(
        by("image-cache")
            .bottleneck
            .as_ref()
            .map(|b| b.binding_metric.as_str()),
        Some("memory_utilization")
    );
    assert!(
        !by("image-resize").wrong_scaling_metric,
        "control group flagged"
    );
    assert!(report
        .recommendations
        .iter()
        .any(|r| r.group.name == "image-cache" && r.title.contains("memory_utilization")));
    assert!(!report
        .recommendations
        .iter()
        .any(|r| r.group.name == "image-resize"));

    // Waste: within 8 points of the planted share for the over-provisioned and a normal group.
    for g in ["legacy-auth", "orders"] {
        let planted = truth
            .waste
            .iter()
            .find(|w| w.group == g)
            .expect("waste truth")
            .waste_share;
        let found = by(g)
            .provisioning
            .as_ref()
            .expect("provisioning")
            .waste_share;
        assert!(
            (found - planted).abs() < 0.08,
            "{g}: found {found:.3}, planted {planted:.3}"
        );
    }
    assert_eq!(
        by("legacy-auth").provisioning.as_ref().map(|p| p.verdict),
        Some("over-provisioned")
    );
}

#[test]
fn game_spikes_are_found_at_their_times() {
    let (inputs, truth) = sim_inputs("game", 14, 300, &["lobby-api"]);
    let rr: Vec<SeriesInput> = inputs
        .into_iter()
        .filter(|s| s.metric == "request_rate")
        .collect();
    let a = analyze_workload(rr[0].start, rr[0].step_seconds, &rr[0].values);
    let big: Vec<_> = truth
        .spikes
        .iter()
        .filter(|s| s.multiplier >= 5.0)
        .collect();
    assert!(!big.is_empty(), "scenario plants spikes");
    for s in big {
        let (start, end) = (s.start.timestamp(), s.end.timestamp());
        let hit = a
            .anomalies
            .iter()
            .any(|w| w.end >= start - 600 && w.start <= end && w.direction == "above");
        assert!(
            hit,
            "spike at {} x{:.0} not found in {:?}",
            s.start, s.multiplier, a.anomalies
        );
    }
    assert!(a.burstiness.unwrap_or(0.0) > 5.0, "viral spikes are bursts");
}

fn sine_series(n: usize, step: i64, period_seconds: f64, noise_seed: u64) -> Vec<f64> {
    let mut state = noise_seed;
    (0..n)
        .map(|i| {
            // xorshift noise: deterministic, no dependency on the test's RNG crate API.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state % 10_000) as f64 / 10_000.0 - 0.5;
            100.0 + 20.0 * (2.0 * PI * (i as f64 * step as f64) / period_seconds).sin() + 4.0 * u
        })
        .collect()
}

#[test]
fn twelve_hour_and_eight_hour_periods() {
    for hours in [12.0, 8.0] {
        let x = sine_series(14 * 288, 300, hours * 3600.0, 99);
        let a = analyze_workload(1_700_000_000, 300, &x);
        let p: Vec<i64> = a.seasonality.iter().map(|p| p.period_seconds).collect();
        assert_eq!(p, vec![(hours * 3600.0) as i64], "{hours} h");
        assert!(a.predictability > 0.8);
    }
}

#[test]
fn ar1_noise_reports_no_seasonality() {
    let mut state = 12345u64;
    let mut x = 0.0;
    let v: Vec<f64> = (0..14 * 288)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state % 10_000) as f64 / 10_000.0 - 0.5;
            x = 0.9 * x + u;
            50.0 + x
        })
        .collect();
    let a = analyze_workload(0, 300, &v);
    assert!(a.seasonality.is_empty(), "{:?}", a.seasonality);
    assert_eq!(a.predictability, 0.0);
    assert!(a.peak_windows.is_empty());
}

/// Standard normal draws (xorshift + Box-Muller), deterministic per seed.
fn gaussian(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| (-2.0 * uniform().ln()).sqrt() * (2.0 * PI * uniform()).cos())
        .collect()
}

#[test]
fn noise_alone_gives_no_anomaly_windows() {
    // 28 days at 5 minutes of white and of AR(1) Gaussian noise, five seeds each: points
    // beyond 5 robust sigmas have a chance of ~6e-7 each, so the expected count over all
    // ten series is ~0.05 windows. A detector that flags the ordinary tails fails here.
    let n = 28 * 288;
    let mut windows = Vec::new();
    for seed in 1..=5u64 {
        let white: Vec<f64> = gaussian(seed, n).iter().map(|z| 100.0 + 5.0 * z).collect();
        let mut x = 0.0;
        let ar1: Vec<f64> = gaussian(seed + 100, n)
            .iter()
            .map(|z| {
                x = 0.8 * x + 3.0 * z;
                100.0 + x
            })
            .collect();
        for v in [white, ar1] {
            windows.extend(analyze_workload(1_700_000_000, 300, &v).anomalies);
        }
    }
    assert!(
        windows.len() <= 1,
        "{} windows on noise: {windows:?}",
        windows.len()
    );
}

#[test]
fn degenerate_series_never_panic() {
    let cases: Vec<(&str, Vec<f64>)> = vec![
        ("empty", vec![]),
        ("one point", vec![5.0]),
        ("constant", vec![7.0; 5000]),
        ("all missing", vec![f64::NAN; 5000]),
        (
            "huge",
            (0..5000).map(|i| 1e300 * (1.0 + (i % 7) as f64)).collect(),
        ),
        ("tiny", (0..5000).map(|i| 1e-300 * (i % 3) as f64).collect()),
        (
            "mostly missing",
            (0..5000)
                .map(|i| if i % 97 == 0 { 1.0 } else { f64::NAN })
                .collect(),
        ),
        (
            "zeros and a spike",
            (0..5000)
                .map(|i| if i == 2500 { 1e6 } else { 0.0 })
                .collect(),
        ),
    ];
    for (name, v) in cases {
        let a = analyze_workload(0, 60, &v);
        assert_eq!(a.points, v.len(), "{name}");
        assert!(a.seasonality.is_empty(), "{name}: {:?}", a.seasonality);
        let json = serde_json::to_string(&a).expect("serialises");
        assert!(json.contains("seasonality"), "{name}");
    }
    let c = analyze_workload(0, 60, &[7.0; 5000]);
    assert!(c.note.as_deref().unwrap_or("").contains("constant"));
    assert!(c.anomalies.is_empty());
    let m = analyze_workload(0, 60, &[f64::NAN; 10]);
    assert!(m.note.as_deref().unwrap_or("").contains("missing"));
}

#[test]
fn metric_recommendation_is_a_replayable_hpa_with_its_figures() {
    use scaletop::artifact::{Artifact, PolicyFormat};
    use scaletop::engine::analysis::choose_scaling_metrics;

    let groups = ["image-cache", "image-resize", "order-worker"];
    let (inputs, truth) = sim_inputs("microservices", 14, 300, &groups);
    let report = analyze_all(&inputs, 2);

    // The memory-bound group: memory first, with the saturation load and p99 in one sentence.
    let cache = report
        .groups
        .iter()
        .find(|g| g.group == "image-cache")
        .expect("group");
    let choice = &cache.metric_choice;
    assert_eq!(
        choice.metrics.first().map(|m| m.metric.as_str()),
        Some("memory_utilization")
    );
    assert!(choice.wrong_current);
    let e = &choice.explanation;
    assert!(
        e.contains("memory_utilization reaches 100% first, at")
            && e.contains("req/s per replica")
            && e.contains("p99")
            && e.contains("instead of cpu_utilization"),
        "{e}"
    );
    // The planted truth names memory as the bottleneck.
    let gt = truth
        .groups
        .iter()
        .find(|g| g.group == "image-cache")
        .expect("truth");
    assert!(gt.bottleneck.contains("memory"), "{}", gt.bottleneck);

    let rec = report
        .recommendations
        .iter()
        .find(|r| r.group.name == "image-cache")
        .expect("metric recommendation");
    assert_eq!(rec.evidence[0], *e);
    let Ok(Artifact::Policy(p)) = Artifact::from_value(&rec.artifact) else {
        panic!("not a policy artifact: {}", rec.artifact);
    };
    assert_eq!(p.format, PolicyFormat::K8sHpa);
    assert_eq!(
        p.document.pointer("/spec/metrics/0/resource/name"),
        Some(&serde_json::json!("memory"))
    );
    let a = scaletop::engine::policy::parse_policy(&p.document.to_string())
        .expect("the recommended HPA replays");
    assert!(a.describe().contains("memory 70%"), "{}", a.describe());

    // The CPU-bound control: CPU as now, no recommendation.
    let control =
        choose_scaling_metrics(&inputs, "image-resize", Some("cpu_utilization")).expect("choice");
    assert_eq!(
        control.metrics.first().map(|m| m.metric.as_str()),
        Some("cpu_utilization")
    );
    assert!(!control.worth_changing(), "{}", control.explanation);

    // Queue workers on CPU: the queue leads when it piles up at peaks.
    let worker = choose_scaling_metrics(&inputs, "order-worker", None).expect("choice");
    if worker.metrics.first().map(|m| m.metric.as_str()) == Some("queue_depth") {
        assert!(worker.explanation.contains("queue depth p99"));
        let rec = report
            .recommendations
            .iter()
            .find(|r| r.group.name == "order-worker")
            .expect("queue recommendation");
        let Ok(Artifact::Policy(p)) = Artifact::from_value(&rec.artifact) else {
            panic!("not a policy artifact");
        };
        assert_eq!(
            p.document.pointer("/spec/metrics/0/type"),
            Some(&serde_json::json!("External"))
        );
        scaletop::engine::policy::parse_policy(&p.document.to_string()).expect("replays");
    }
}
