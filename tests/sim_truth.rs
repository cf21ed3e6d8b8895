//! The simulator's data shows what each scenario plants (scenarios.md) and what the brief
//! states. Expected figures come from the ground truth (`sim::truth`) and the brief, never from
//! earlier runs of the simulator.

use chrono::{DateTime, Datelike, Timelike, Utc};
use scaletop::engine::events::mark_thrash;
use scaletop::model::{MetricKind, ScalingEvent};
use scaletop::sim::{self, ExportSpec, Scenario, Simulator};

const DAY: u64 = 86_400;

/// Per-step values of one group's metric plus every scaling event, from a simulator run.
struct Run {
    times: Vec<DateTime<Utc>>,
    /// [group][step][metric]
    values: Vec<Vec<[f64; sim::METRIC_COUNT]>>,
    events: Vec<ScalingEvent>,
    names: Vec<String>,
    spot_interruptions: u64,
}

impl Run {
    fn new(s: &Scenario, seed: u64, duration_seconds: u64, step_seconds: u64) -> Run {
        let mut simulator = Simulator::new(s, seed);
        let mut frame = simulator.new_frame();
        let n = s.groups().len();
        let mut run = Run {
            times: Vec::new(),
            values: vec![Vec::new(); n],
            events: Vec::new(),
            names: s.groups().iter().map(|g| g.id.name.clone()).collect(),
            spot_interruptions: 0,
        };
        for _ in 0..duration_seconds / step_seconds {
            simulator.advance_frame(step_seconds, &mut frame);
            run.times
                .push(DateTime::from_timestamp(frame.at_unix, 0).expect("valid time"));
            for (g, v) in frame.values.iter().enumerate() {
                run.values[g].push(*v);
            }
            run.events.extend(frame.events.iter().cloned());
        }
        run.spot_interruptions = simulator.spot_interruptions();
        run
    }

    fn index(&self, group: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == group)
            .unwrap_or_else(|| panic!("no group {group}"))
    }

    fn series(&self, group: &str, m: MetricKind) -> Vec<f64> {
        self.values[self.index(group)]
            .iter()
            .map(|v| v[m as usize])
            .collect()
    }

    fn events_of(&self, group: &str) -> Vec<ScalingEvent> {
        self.events
            .iter()
            .filter(|e| e.group.name == group)
            .cloned()
            .collect()
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn autocorrelation(x: &[f64], lag: usize) -> f64 {
    let m = mean(x);
    let var: f64 = x.iter().map(|v| (v - m).powi(2)).sum();
    let cov: f64 = x.windows(lag + 1).map(|w| (w[0] - m) * (w[lag] - m)).sum();
    cov / var
}

fn load(name: &str) -> Scenario {
    Scenario::load(name).expect("built-in scenario loads")
}

#[test]
fn export_is_deterministic_per_seed() {
    let s = load("ecommerce");
    let spec = |seed| ExportSpec {
        seed,
        duration_seconds: 2 * DAY,
        step_seconds: 60,
    };
    let bytes = |seed| {
        let mut out = Vec::new();
        let rows = sim::export_csv(&s, &spec(seed), &mut out).expect("export");
        (rows, out)
    };
    let (rows_a, a) = bytes(11);
    let (rows_b, b) = bytes(11);
    let (_, c) = bytes(12);
    assert_eq!(rows_a, rows_b);
    assert!(a == b, "same seed must give the same bytes");
    assert!(a != c, "a different seed must give different data");
    // Every step of every group has its rows: 2880 steps x (3 groups' metric counts).
    let per_step: usize = s
        .sim_groups()
        .iter()
        .map(|g| sim::reported_metrics(g).len())
        .sum();
    assert_eq!(rows_a, 2880 * per_step as u64);
}

#[test]
fn every_scenario_has_the_briefs_metrics_labels_and_policy() {
    for name in sim::built_in_names() {
        let s = load(name);
        for g in s.sim_groups() {
            let info = &g.info;
            assert!(info.instance_type.is_some(), "{name}/{}", info.id.name);
            assert!(
                info.labels.contains_key("team"),
                "{name}/{} team",
                info.id.name
            );
            assert!(
                info.labels.contains_key("service"),
                "{name}/{}",
                info.id.name
            );
            assert!(info.policy.is_some() && info.capacity.is_some() && info.slo.is_some());
            let metrics = sim::reported_metrics(g);
            use MetricKind::*;
            let common = [
                RequestRate,
                LatencyP95Ms,
                LatencyP99Ms,
                ErrorRate,
                ReplicasDesired,
                ReplicasReady,
                ReplicasMin,
                ReplicasMax,
                CostUsdPerHour,
            ];
            let specific: &[MetricKind] = match g.kind {
                sim::spec::GroupKind::Instances => {
                    &[CpuUtilization, MemoryUtilization, NetworkMbps, DiskIops]
                }
                sim::spec::GroupKind::Serverless => {
                    &[Invocations, Concurrency, Throttles, ColdStarts]
                }
            };
            for m in common.iter().chain(specific) {
                assert!(metrics.contains(m), "{name}/{} lacks {m}", info.id.name);
            }
        }
    }
    // Microservices: several dozen services, some with queue depth.
    let micro = load("microservices");
    assert!((40..=60).contains(&micro.groups().len()));
    assert!(micro.sim_groups().iter().any(|g| g.queue));
    // Serverless: 200 functions across the tiers.
    let functions: u32 = load("serverless")
        .sim_groups()
        .iter()
        .filter_map(|g| g.serverless.as_ref().map(|f| f.functions))
        .sum();
    assert_eq!(functions, 200);
}

#[test]
fn ecommerce_matches_the_brief_fleet_and_black_friday() {
    let s = load("ecommerce");
    let spec = ExportSpec {
        seed: 5,
        duration_seconds: 14 * DAY,
        step_seconds: 3600,
    };
    let truth = sim::truth(&s, &spec);
    let store = truth
        .groups
        .iter()
        .find(|g| g.group == "storefront")
        .expect("storefront in truth");
    assert_eq!(store.instance_type.as_deref(), Some("m5.xlarge"));
    assert_eq!(store.base_rps, 10_000.0);
    let cap = s.sim_groups()[0].capacity.clone();
    assert_eq!((cap.min_replicas, cap.max_replicas), (20, 100));
    assert!(!truth.commitments.is_empty(), "RI / savings plan inventory");

    let bf = truth
        .events
        .iter()
        .find(|e| e.name == "black_friday_2025" && e.group == "storefront")
        .expect("Black Friday planted");
    assert_eq!(bf.start.to_rfc3339(), "2025-11-28T05:00:00+00:00");
    // Brief: 200K req/s on a 10K baseline.
    assert!(
        (bf.peak_to_baseline - 20.0).abs() < 2.0,
        "{}",
        bf.peak_to_baseline
    );

    let run = Run::new(&s, spec.seed, spec.duration_seconds, spec.step_seconds);
    let demand = run.series("storefront", MetricKind::RequestRate);
    let (peak_i, peak) = demand
        .iter()
        .copied()
        .enumerate()
        .fold((0, 0.0), |b, (i, v)| if v > b.1 { (i, v) } else { b });
    let local_peak_day = (run.times[peak_i] - chrono::Duration::hours(5)).date_naive();
    assert_eq!(
        local_peak_day.to_string(),
        "2025-11-28",
        "peak on Black Friday"
    );
    let ratio = peak / store.base_rps;
    assert!(
        ratio > 0.8 * bf.peak_to_baseline && ratio < 1.25 * bf.peak_to_baseline,
        "Black Friday peak {ratio:.1}x baseline, truth {:.1}x",
        bf.peak_to_baseline
    );
    // The fleet stays within 20-100 and reaches max on Black Friday.
    let ready = run.series("storefront", MetricKind::ReplicasReady);
    assert!(ready.iter().all(|&r| (20.0..=100.0).contains(&r)));
    assert_eq!(ready[peak_i], 100.0);
}

#[test]
fn ecommerce_daily_and_weekly_shape_match_the_brief() {
    let s = load("ecommerce");
    let run = Run::new(&s, 9, 14 * DAY, 600);
    let demand = run.series("storefront", MetricKind::RequestRate);
    let truth = sim::truth(
        &s,
        &ExportSpec {
            seed: 9,
            duration_seconds: 14 * DAY,
            step_seconds: 600,
        },
    );
    let storefront = &truth.groups[0];
    let offset = chrono::Duration::seconds((storefront.utc_offset_hours * 3600.0) as i64);
    let event_days: Vec<String> = truth
        .events
        .iter()
        .flat_map(|e| {
            [-1i64, 0, 1].map(|d| {
                ((e.start + offset) + chrono::Duration::days(d))
                    .date_naive()
                    .to_string()
            })
        })
        .collect();
    // Ordinary weekdays (Mon-Thu) away from events.
    let window_mean = |from_hour: u32, to_hour: u32, weekend: bool| {
        let vals: Vec<f64> = run
            .times
            .iter()
            .zip(&demand)
            .filter(|(t, _)| {
                let local = **t + offset;
                let wd = local.weekday().num_days_from_monday();
                let is_weekend = wd >= 5;
                (local.hour() >= from_hour && local.hour() < to_hour)
                    && is_weekend == weekend
                    && (weekend || wd <= 3)
                    && !event_days.contains(&local.date_naive().to_string())
            })
            .map(|(_, v)| *v)
            .collect();
        assert!(!vals.is_empty());
        mean(&vals)
    };
    let night = window_mean(3, 5, false);
    let morning = window_mean(9, 11, false) / night;
    let evening = window_mean(19, 21, false) / night;
    assert!(
        (morning - 2.0).abs() < 0.3,
        "morning {morning:.2}x (brief: 2x)"
    );
    assert!(
        (evening - 4.0).abs() < 0.5,
        "evening {evening:.2}x (brief: 4x)"
    );
    let weekend = window_mean(0, 24, true) / window_mean(0, 24, false);
    assert!(weekend > 1.1, "weekends higher: {weekend:.2}");
}

#[test]
fn daily_period_is_present_where_planted() {
    let s = load("multiregion");
    let truth = sim::truth(
        &s,
        &ExportSpec {
            seed: 1,
            duration_seconds: 14 * DAY,
            step_seconds: 3600,
        },
    );
    assert!(truth.periods_seconds.contains(&DAY));
    let run = Run::new(&s, 1, 14 * DAY, 3600);
    for g in &truth.groups {
        let x = run.series(&g.group, MetricKind::RequestRate);
        let daily = autocorrelation(&x, 24);
        assert!(
            daily > 0.7,
            "{}: lag-24h autocorrelation {daily:.2}",
            g.group
        );
        assert!(daily > autocorrelation(&x, 12) + 0.5);
        // Follow the sun: the busiest UTC hour is the truth's local peak hour minus the offset.
        let mut by_hour = [0.0f64; 24];
        for (t, v) in run.times.iter().zip(&x) {
            by_hour[t.hour() as usize] += v;
        }
        let busiest = (0..24)
            .max_by(|&a, &b| by_hour[a].total_cmp(&by_hour[b]))
            .unwrap_or(0);
        let expected = (g.daily_peak_local_hour - g.utc_offset_hours).rem_euclid(24.0) as i64;
        let diff = (busiest as i64 - expected)
            .rem_euclid(24)
            .min((expected - busiest as i64).rem_euclid(24));
        assert!(
            diff <= 1,
            "{}: busiest UTC hour {busiest}, expected {expected}",
            g.group
        );
    }
    // The latency matrix: only us-east-1 <-> eu-west-1 is within the 100 ms constraint.
    assert_eq!(truth.region_latency_ms.len(), 3);
    let within: Vec<_> = truth
        .region_latency_ms
        .iter()
        .filter(|r| r.rtt_ms < 100.0)
        .collect();
    assert_eq!(within.len(), 1);
    assert_eq!(
        (within[0].from.as_str(), within[0].to.as_str()),
        ("us-east-1", "eu-west-1")
    );
}

#[test]
fn game_spikes_arrive_at_the_truths_times() {
    let s = load("game");
    let (seed, truth) = (1..20)
        .map(|seed| {
            let t = sim::truth(
                &s,
                &ExportSpec {
                    seed,
                    duration_seconds: 7 * DAY,
                    step_seconds: 60,
                },
            );
            (seed, t)
        })
        .find(|(_, t)| t.spikes.len() >= 2)
        .expect("some seed plants spikes within a week");
    let run = Run::new(&s, seed, 7 * DAY, 60);
    let demand = run.series("game-servers", MetricKind::RequestRate);
    let start = run.times[0];
    let minute = |t: DateTime<Utc>| ((t - start).num_seconds() / 60) as usize;
    for spike in &truth.spikes {
        assert!(spike.groups.contains(&"game-servers".to_string()));
        assert!((30.0..=100.0).contains(&spike.multiplier));
        let before = minute(spike.start).saturating_sub(60);
        let base = mean(&demand[before..minute(spike.start).max(before + 1)]);
        let peak_i = minute(spike.peak_at) + 5;
        if peak_i >= demand.len() {
            continue;
        }
        let ratio = demand[peak_i] / base;
        assert!(
            ratio > 0.4 * spike.multiplier,
            "spike at {} x{:.0}: demand only x{ratio:.1}",
            spike.start,
            spike.multiplier
        );
        // Full height within 5 minutes of the start (0 -> 100x in < 5 min).
        assert!((spike.peak_at - spike.start).num_seconds() <= 300);
    }
    // Outside spike windows demand never jumps 10x above its hour-earlier level.
    for i in 60..demand.len() {
        let t = run.times[i];
        let in_spike = truth
            .spikes
            .iter()
            .any(|s| t >= s.start && t <= s.end + chrono::Duration::hours(1));
        if !in_spike {
            assert!(demand[i] < 10.0 * demand[i - 60], "unplanted spike at {t}");
        }
    }
    // The truth flags the outage: the spike peak exceeds capacity at max replicas.
    assert!(truth
        .unmet_targets
        .iter()
        .any(|u| u.group == "game-servers" && u.reason.contains("exceeds capacity")));
}

#[test]
fn microservices_thrash_memory_bound_and_waste_are_visible() {
    let s = load("microservices");
    let spec = ExportSpec {
        seed: 3,
        duration_seconds: 2 * DAY,
        step_seconds: 60,
    };
    let truth = sim::truth(&s, &spec);
    let run = Run::new(&s, spec.seed, spec.duration_seconds, spec.step_seconds);

    let planted = |tag: &str| -> Vec<String> {
        truth
            .groups
            .iter()
            .filter(|g| g.planted.iter().any(|p| p == tag))
            .map(|g| g.group.clone())
            .collect()
    };
    let thrashing = planted("thrash");
    assert!(thrashing.len() >= 3);
    let thrash_pairs = |group: &str| {
        let mut ev = run.events_of(group);
        mark_thrash(&mut ev, 600, 0.1)
    };
    for g in &thrashing {
        let pairs = thrash_pairs(g);
        assert!(
            pairs >= 20,
            "{g}: only {pairs} reversals within 10 min in 2 days"
        );
    }
    // Well-behaved services (no planted pitfall, 5-minute scale-down window) barely thrash.
    for g in truth
        .groups
        .iter()
        .filter(|g| g.planted.is_empty())
        .take(10)
    {
        let pairs = thrash_pairs(&g.group);
        assert!(pairs <= 3, "{}: {pairs} thrash pairs", g.group);
    }

    let memory_bound = planted("memory_bound");
    let control = planted("control");
    assert_eq!((memory_bound.len(), control.len()), (1, 1));
    let ratio = |g: &str| {
        mean(&run.series(g, MetricKind::MemoryUtilization))
            / mean(&run.series(g, MetricKind::CpuUtilization))
    };
    assert!(
        ratio(&memory_bound[0]) > 2.0,
        "memory-bound: mem/cpu {:.2}",
        ratio(&memory_bound[0])
    );
    assert!(
        ratio(&control[0]) < 1.5,
        "control: mem/cpu {:.2}",
        ratio(&control[0])
    );
    assert!(truth
        .pitfalls
        .iter()
        .any(|p| p.group == memory_bound[0] && p.kind == "wrong_metric"));
    assert!(!truth
        .pitfalls
        .iter()
        .any(|p| p.group == control[0] && p.kind == "wrong_metric"));
    // The memory-bound group fails requests at peaks that its CPU policy never reacts to.
    let errors = run.series(&memory_bound[0], MetricKind::ErrorRate);
    let control_errors = run.series(&control[0], MetricKind::ErrorRate);
    assert!(mean(&errors) > 3.0 * mean(&control_errors));

    for g in planted("over_provisioned") {
        let w = truth
            .waste
            .iter()
            .find(|w| w.group == g)
            .expect("waste listed");
        assert!(w.waste_share > 0.5, "{g}: waste {:.2}", w.waste_share);
        let cpu = mean(&run.series(&g, MetricKind::CpuUtilization));
        assert!(
            cpu < 20.0,
            "{g}: cpu {cpu:.1}% on an over-provisioned group"
        );
    }
}

#[test]
fn database_and_serverless_plant_their_pitfalls() {
    let db = load("database");
    let truth = sim::truth(
        &db,
        &ExportSpec {
            seed: 1,
            duration_seconds: 7 * DAY,
            step_seconds: 3600,
        },
    );
    assert!(
        truth
            .unmet_targets
            .iter()
            .any(|u| u.group == "aurora-readers" && u.target.contains("30 s")),
        "scale-up < 30 s is flagged as unmeetable: {:?}",
        truth.unmet_targets
    );

    let sl = load("serverless");
    let run = Run::new(&sl, 2, 2 * DAY, 300);
    let invocations_per_day: f64 = sl
        .groups()
        .iter()
        .map(|g| mean(&run.series(&g.id.name, MetricKind::Invocations)) * 86_400.0)
        .sum();
    assert!(
        (7.5e6..12.5e6).contains(&invocations_per_day),
        "{invocations_per_day:.0} invocations/day (brief: 10M)"
    );
    let throttles = run.series("batch-etl", MetricKind::Throttles);
    assert!(throttles.iter().any(|&t| t > 0.0), "nightly ETL throttles");
    assert!(run
        .series("api-hot", MetricKind::Throttles)
        .iter()
        .all(|&t| t == 0.0));
    assert!(mean(&run.series("cron", MetricKind::ColdStarts)) > 0.0);
}

#[test]
fn serverless_tiers_report_the_memory_and_cpu_they_use() {
    // Ground truth from the scenario's own spec: each invocation uses memory within
    // memory_used_mb and cpu_time_ms of CPU on average; the engine's memory rightsizing reads
    // these as it would Lambda's Max Memory Used, Lambda Insights cpu_total_time and Duration.
    let sl = load("serverless");
    let run = Run::new(&sl, 3, 2 * DAY, 300);
    for g in sl.sim_groups() {
        let name = g.name();
        let spec = g.serverless.as_ref().expect("serverless tier");
        let [lo, hi] = spec.memory_used_mb.expect("memory ground truth");
        let cpu_ms = spec.cpu_time_ms.expect("cpu ground truth");
        let reported = sim::reported_metrics(g);
        use MetricKind::*;
        for m in [MaxMemoryUsedMb, CpuTotalTimeMs, DurationMs] {
            assert!(reported.contains(&m), "{name} lacks {m}");
        }
        let mem: Vec<f64> = run
            .series(name, MaxMemoryUsedMb)
            .into_iter()
            .filter(|v| v.is_finite())
            .collect();
        assert!(mem.len() > 500, "{name}: {} steps with memory", mem.len());
        assert!(
            mem.iter().all(|m| (lo..=hi).contains(m)),
            "{name}: memory outside [{lo}, {hi}]"
        );
        // The largest of hundreds of invocations a step comes near the most any uses, and the
        // steps vary.
        let peak = mem.iter().copied().fold(0.0, f64::max);
        let least = mem.iter().copied().fold(f64::MAX, f64::min);
        assert!(peak > hi - 0.05 * (hi - lo), "{name}: peak {peak} vs {hi}");
        assert!(least < peak, "{name}: no variation");
        // Mean CPU time per invocation and duration: the vCPUs used within 5% of the truth.
        let cpu = mean(&run.series(name, CpuTotalTimeMs));
        let dur = mean(&run.series(name, DurationMs));
        assert!(
            (dur - spec.duration_ms).abs() < 1e-9,
            "{name}: duration {dur}"
        );
        assert!(
            (cpu / dur - cpu_ms / spec.duration_ms).abs() < 0.05 * cpu_ms / spec.duration_ms,
            "{name}: {cpu} ms CPU per {dur} ms vs {cpu_ms}"
        );
        // Never more CPU than the memory setting allocates (1,769 MB = 1 vCPU).
        assert!(cpu / dur <= f64::from(spec.memory_mb) / 1769.0 + 1e-9);
    }
}

#[test]
fn spot_instances_are_interrupted_and_replaced() {
    let s = load("ecommerce");
    let run = Run::new(&s, 4, 14 * DAY, 3600);
    assert!(run.spot_interruptions > 0);
    let ready = run.series("search-indexer", MetricKind::ReplicasReady);
    assert!(ready.iter().all(|&r| r >= 2.0));
}

#[test]
fn hourly_400_days_cover_both_black_fridays() {
    let s = load("ecommerce");
    let spec = ExportSpec {
        seed: 8,
        duration_seconds: 400 * DAY,
        step_seconds: 3600,
    };
    let truth = sim::truth(&s, &spec);
    assert!(truth.periods_seconds.contains(&(7 * DAY)));
    let bf2026 = truth
        .events
        .iter()
        .find(|e| e.name == "black_friday_2026" && e.group == "storefront")
        .expect("Black Friday 2026 within 400 days");
    let run = Run::new(&s, spec.seed, spec.duration_seconds, spec.step_seconds);
    assert_eq!(run.times.len(), 9600);
    let demand = run.series("storefront", MetricKind::RequestRate);
    let day_max = |day: &str| {
        run.times
            .iter()
            .zip(&demand)
            .filter(|(t, _)| (**t - chrono::Duration::hours(5)).date_naive().to_string() == day)
            .map(|(_, v)| *v)
            .fold(0.0, f64::max)
    };
    let bf = day_max("2026-11-27");
    let week_before = day_max("2026-11-20");
    assert!(
        bf > 3.0 * week_before,
        "BF 2026 {bf:.0} vs a week before {week_before:.0}"
    );
    assert!(bf > 0.7 * bf2026.expected_peak_rps);
}
