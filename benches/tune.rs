//! Policy tuning on 30 days of 1-minute demand over a 10,000-candidate HPA space: the search
//! as `scaletop tune` runs it (every core, exact early rejection of dominated candidates;
//! exhaustive and coarse-to-fine) against the naive search — every candidate's full replay
//! with per-step rows, one after another on one core — measured in the same run on a 1-in-100
//! sample of the same candidates (multiply its time by 100 for the whole space). Before the
//! criterion groups, one timed run of each prints the ratio directly, and one pass over a
//! sample of candidates prints the cost of one replay by each path: the full replay, the
//! summary path (dynamic dispatch, the thread's latency table) and the search's score path
//! (its latency memo shared across candidates). The search as it runs now (fast-forward, the
//! input checked once, shared replays of HPAs that differ only in rate limits and minimum) is
//! measured against the previous search (fast-forward only) in the same run, both exhaustive
//! with early rejection on every core: `tune search:` prints both times, the ratio, the share
//! of replay steps each ran, and whether both report the same (front, cheapest eligible, with
//! figures). `TUNE_BENCH_SEARCH_ONLY=1` runs only that comparison (`TUNE_BENCH_EVERY_SYNC=1`
//! adds the search with every sync run, the one before).

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use scaletop::engine::replay::{
    file_group, replay, replay_score, replay_summary, LatencyMemo, ReplayInput,
};
use scaletop::engine::tune::search::{evaluate, SearchControl, SearchSetup, Visit};
use scaletop::engine::tune::space::{candidates, Candidate, SpaceContext, SpaceSize};
use scaletop::engine::tune::{PolicyDoc, PolicyKind};
use scaletop::model::{CapacityModel, Slo};

const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  minReplicas: 4\n  maxReplicas: 200\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}\n";

/// 30 days of minutes: a daily cycle from 600 to 3,000 rps, a weekly lift, a wobble.
pub fn demand() -> Vec<f64> {
    (0..30 * 1440)
        .map(|i| {
            let day = (i as f64 / 1440.0) * std::f64::consts::TAU;
            let weekend = if (i / 1440) % 7 >= 5 { 1.2 } else { 1.0 };
            let wobble = 80.0 * ((i * 7919 % 17) as f64 / 17.0 - 0.5);
            weekend * (1_800.0 - 1_200.0 * day.cos()) + wobble
        })
        .collect()
}

pub fn capacity() -> CapacityModel {
    CapacityModel {
        capacity_per_replica_rps: 100.0,
        concurrency_per_replica: 2,
        startup_seconds: 45,
        warmup_seconds: 0,
        min_replicas: 4,
        max_replicas: 200,
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: 0.05,
        timeout_ms: 5_000.0,
    }
}

/// Exactly 10,000 candidates spread evenly over the large HPA space.
pub fn space() -> Vec<Candidate> {
    let doc = PolicyDoc::parse(HPA).expect("bench HPA");
    let ctx = SpaceContext {
        size: SpaceSize::Large,
        trough_replicas: 9,
        schedule: Vec::new(),
    };
    let all = candidates(&doc, PolicyKind::Hpa, &ctx).expect("space");
    assert!(
        all.len() >= 10_000,
        "large space has {} candidates",
        all.len()
    );
    let stride = all.len() as f64 / 10_000.0;
    (0..10_000)
        .map(|k| all[(k as f64 * stride) as usize].clone())
        .collect()
}

fn bench(c: &mut Criterion) {
    let d = demand();
    let cap = capacity();
    let slo = Slo::default();
    let group = file_group("web");
    let input = ReplayInput {
        start: 1_700_006_400,
        step_seconds: 60,
        demand_rps: &d,
        extra: Vec::new(),
    };
    let cands = space();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let setup = SearchSetup {
        input: &input,
        cap: &cap,
        slo: &slo,
        group: &group,
        threads,
        prune: true,
        fast_forward: true,
        share: true,
    };
    let previous = SearchSetup {
        share: false,
        ..setup
    };
    let every_sync = SearchSetup {
        fast_forward: false,
        share: false,
        ..setup
    };
    let mut baselines = vec![("previous (fast-forward only)", &previous)];
    if std::env::var_os("TUNE_BENCH_EVERY_SYNC").is_some() {
        baselines.insert(0, ("every sync", &every_sync));
    }
    search(&cands, &setup, &baselines, &slo);
    if std::env::var_os("TUNE_BENCH_SEARCH_ONLY").is_some() {
        return;
    }
    per_replay(&cands, &input, &cap, &slo, &group);
    ratio(&cands, &setup, &input, &cap, &slo, &group);
    let mut g = c.benchmark_group("tune_10k_candidates_30d_1m");
    g.sample_size(10);
    g.bench_function("coarse_to_fine_parallel", |b| {
        b.iter(|| {
            evaluate(
                &cands,
                &setup,
                &SearchControl::default(),
                Visit::CoarseToFine,
            )
        })
    });
    g.bench_function("exhaustive_parallel_pruned", |b| {
        b.iter(|| evaluate(&cands, &setup, &SearchControl::default(), Visit::All))
    });
    g.bench_function("exhaustive_parallel_pruned_previous", |b| {
        b.iter(|| evaluate(&cands, &previous, &SearchControl::default(), Visit::All))
    });
    // The naive baseline on every 100th candidate: full replays, one core, no rejection.
    let sample: Vec<&Candidate> = cands.iter().step_by(100).collect();
    g.bench_function("naive_sequential_1_in_100", |b| {
        b.iter(|| {
            sample
                .iter()
                .map(|c| {
                    let mut a = c.doc.autoscaler().expect("candidate");
                    replay(a.as_mut(), &input, &cap, &slo, None, &group)
                        .expect("replay")
                        .summary
                        .cost_usd
                })
                .sum::<f64>()
        })
    });
    g.finish();
}

/// The exhaustive search with early rejection as it runs now and as it ran before, one timed
/// run each (the baselines first), in the same process: wall and CPU time (of the process, so
/// with other load on the machine CPU time is the steadier figure), the ratio, the share of
/// the replay steps each ran, and whether both report the same.
fn search(cands: &[Candidate], now: &SearchSetup, baselines: &[(&str, &SearchSetup)], slo: &Slo) {
    use scaletop::engine::tune::Outcome;
    let total_steps = (cands.len() * now.input.demand_rps.len()) as f64;
    let time = |setup: &SearchSetup| {
        let control = SearchControl::default();
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let out = evaluate(cands, setup, &control, Visit::All);
        let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
        let steps = control.steps.load(std::sync::atomic::Ordering::Relaxed) as f64;
        (wall, cpu, 100.0 * steps / total_steps, out)
    };
    let done = |o: &[Outcome]| o.iter().filter(|o| matches!(o, Outcome::Done(_))).count();
    let results: Vec<_> = baselines.iter().map(|(name, s)| (*name, time(s))).collect();
    let (wall, cpu, steps, out) = time(now);
    for (name, (b_wall, b_cpu, b_steps, b_out)) in &results {
        // Rejection depends on which candidates finish first (thread timing): compare the
        // candidates both runs completed, and the report.
        let same_figures = b_out.iter().zip(&out).all(|(x, y)| match (x, y) {
            (Outcome::Done(a), Outcome::Done(b)) => format!("{a:?}") == format!("{b:?}"),
            _ => true,
        });
        let same_report = report(b_out, slo) == report(&out, slo);
        eprintln!(
            "tune search: exhaustive search of {} candidates x {} steps on {} threads with early rejection: {name} {b_wall:.2} s wall, {b_cpu:.2} s CPU, {b_steps:.1}% of steps replayed, {} completed; now {wall:.2} s wall, {cpu:.2} s CPU, {steps:.1}% of steps, {} completed; {:.2}x wall, {:.2}x CPU; completed figures identical: {same_figures}; same report: {same_report}; load average {}",
            cands.len(),
            now.input.demand_rps.len(),
            now.threads,
            done(b_out),
            done(&out),
            b_wall / wall,
            b_cpu / cpu,
            load_average(),
        );
        assert!(
            same_figures && same_report,
            "the search's shortcuts changed a result"
        );
    }
}

/// The thrash-free front and the cheapest eligible candidate, with figures.
fn report(out: &[scaletop::engine::tune::Outcome], slo: &Slo) -> String {
    use scaletop::engine::tune::Outcome;
    let done: Vec<(usize, &scaletop::engine::replay::ReplaySummary)> = out
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o {
            Outcome::Done(s) => Some((i, s)),
            _ => None,
        })
        .collect();
    let front = scaletop::engine::tune::pareto::front(
        &done
            .iter()
            .filter(|(_, s)| s.thrash_events == 0)
            .map(|(i, s)| (*i, s.cost_usd_per_month, s.sla_violation_minutes))
            .collect::<Vec<_>>(),
    );
    let best = done
        .iter()
        .filter(|(_, s)| scaletop::engine::tune::verdict::eligible(s, slo))
        .min_by(|a, b| {
            a.1.cost_usd.total_cmp(&b.1.cost_usd).then(
                a.1.sla_violation_minutes
                    .total_cmp(&b.1.sla_violation_minutes),
            )
        });
    let figures: Vec<String> = front
        .iter()
        .filter_map(|&i| done.iter().find(|(j, _)| *j == i))
        .map(|(i, s)| format!("{i} {s:?}"))
        .collect();
    format!("{figures:?} {best:?}")
}

/// CPU seconds this process has used (user + system, all threads), from /proc.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |k: usize| {
        f.get(k)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// One replay of every 50th candidate by each path, in the same run: ms per replay and the
/// ratios.
fn per_replay(
    cands: &[Candidate],
    input: &ReplayInput,
    cap: &CapacityModel,
    slo: &Slo,
    group: &scaletop::model::GroupId,
) {
    let sample: Vec<&Candidate> = cands.iter().step_by(50).collect();
    let time = |f: &mut dyn FnMut(&Candidate) -> f64| {
        let t = Instant::now();
        let total: f64 = sample.iter().map(|c| f(c)).sum();
        (t.elapsed().as_secs_f64() * 1e3 / sample.len() as f64, total)
    };
    let (full, a) = time(&mut |c| {
        let mut p = c.doc.autoscaler().expect("candidate");
        replay(p.as_mut(), input, cap, slo, None, group)
            .expect("replay")
            .summary
            .cost_usd
    });
    let (summary, b) = time(&mut |c| {
        let mut p = c.doc.autoscaler().expect("candidate");
        replay_summary(p.as_mut(), input, cap, slo, None, group, &mut |_| false)
            .expect("replay")
            .map_or(f64::NAN, |s| s.cost_usd)
    });
    let mut memo = LatencyMemo::new(input, cap);
    let (score, c) = time(&mut |c| {
        let mut p = c.doc.autoscaler().expect("candidate");
        replay_score(
            p.as_mut(),
            input,
            cap,
            slo,
            None,
            Some(&mut memo),
            &mut |_| false,
        )
        .expect("replay")
        .map_or(f64::NAN, |s| s.cost_usd)
    });
    assert!(a == b && b == c, "the paths disagree: {a} {b} {c}");
    let (hits, misses) = memo.stats();
    eprintln!(
        "tune per replay ({} candidates, {} steps): full {full:.2} ms, summary {summary:.2} ms, score {score:.2} ms ({:.0} ns/step); score is {:.1}x the full replay, {:.1}x the summary path; memo hits {:.1}%",
        sample.len(),
        input.demand_rps.len(),
        score * 1e6 / input.demand_rps.len() as f64,
        full / score,
        summary / score,
        100.0 * hits as f64 / (hits + misses).max(1) as f64
    );
}

/// One timed run of the exhaustive search and of the naive baseline on 1 in 100 candidates,
/// printed as a ratio (the baseline scaled to all candidates).
fn ratio(
    cands: &[Candidate],
    setup: &SearchSetup,
    input: &ReplayInput,
    cap: &CapacityModel,
    slo: &Slo,
    group: &scaletop::model::GroupId,
) {
    let t = Instant::now();
    let out = evaluate(cands, setup, &SearchControl::default(), Visit::All);
    let search = t.elapsed().as_secs_f64();
    let rejected = out
        .iter()
        .filter(|o| matches!(o, scaletop::engine::tune::Outcome::Rejected))
        .count();
    let t = Instant::now();
    let mut n = 0;
    for c in cands.iter().step_by(100) {
        let mut a = c.doc.autoscaler().expect("candidate");
        replay(a.as_mut(), input, cap, slo, None, group).expect("replay");
        n += 1;
    }
    let naive = t.elapsed().as_secs_f64() * cands.len() as f64 / f64::from(n);
    eprintln!(
        "tune ratio: exhaustive search of {} candidates on {} threads {search:.2} s ({rejected} rejected early); naive sequential full replays {naive:.1} s (1 in 100 timed, x100); speed-up {:.1}x",
        cands.len(),
        setup.threads,
        naive / search
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
