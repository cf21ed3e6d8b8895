//! Store memory, measured as resident-set growth (Linux /proc): 1,000 series x 24 h at 15 s
//! in the fine ring must cost under 8 bytes per sample; the long-term tier's cost per
//! 5-minute bucket over 28 days is reported alongside. One test so nothing else allocates
//! in this process meanwhile.

use chrono::DateTime;
use scaletop::model::{GroupId, MetricKind, Platform};
use scaletop::sources::{Sample, Update};
use scaletop::store::Store;

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

const GROUPS: usize = 125;
const METRICS: [MetricKind; 8] = [
    MetricKind::ReplicasReady,
    MetricKind::ReplicasDesired,
    MetricKind::CpuUtilization,
    MetricKind::MemoryUtilization,
    MetricKind::RequestRate,
    MetricKind::LatencyP95Ms,
    MetricKind::ErrorRate,
    MetricKind::ReplicasMax,
];

/// Feeds GROUPS x METRICS = 1,000 series, `steps` times `step` seconds apart.
fn feed(store: &mut Store, ids: &[GroupId], steps: i64, step: i64) -> u64 {
    let mut n = 0;
    let mut samples = Vec::with_capacity(ids.len() * METRICS.len());
    for k in 0..steps {
        samples.clear();
        for (g, id) in ids.iter().enumerate() {
            for (m, metric) in METRICS.iter().enumerate() {
                samples.push(Sample {
                    group: id.clone(),
                    metric: *metric,
                    value: ((k + g as i64 + m as i64) % 97) as f64 * 1.5,
                });
            }
        }
        n += samples.len() as u64;
        store.apply(Update::Samples {
            at: DateTime::from_timestamp(1_700_000_000 + k * step, 0).unwrap_or_default(),
            samples: std::mem::take(&mut samples),
        });
    }
    n
}

#[test]
fn a_day_of_1000_series_at_15s_costs_under_8_bytes_per_sample() {
    let Some(before) = rss_bytes() else {
        eprintln!("SKIPPED: no /proc/self/statm");
        return;
    };
    let ids: Vec<GroupId> = (0..GROUPS)
        .map(|i| GroupId::new(Platform::K8s, "ns", format!("group-{i:03}")))
        .collect();
    let day = 4 * 60 * 24;
    let mut store = Store::new(15, day as usize);
    let samples = feed(&mut store, &ids, day, 15);
    let after = rss_bytes().unwrap_or(before);
    let per_sample = after.saturating_sub(before) as f64 / samples as f64;
    println!(
        "fine ring + long tier: {samples} samples, RSS +{} KiB = {per_sample:.2} B/sample",
        (after - before) / 1024
    );
    assert_eq!(
        store.series(0, MetricKind::CpuUtilization).map(|r| r.len()),
        Some(day as usize)
    );
    assert!(per_sample < 8.0, "{per_sample:.2} B/sample");

    // 28 days at 5 min into the long tier only (a one-slot fine ring), 200 series.
    let before_long = after;
    let mut long = Store::new(300, 1);
    let buckets = feed(&mut long, &ids[..25], 28 * 288, 300);
    let after_long = rss_bytes().unwrap_or(before_long);
    let per_bucket = after_long.saturating_sub(before_long) as f64 / buckets as f64;
    let held: usize = (0..25)
        .flat_map(|g| METRICS.iter().map(move |m| (g, *m)))
        .filter_map(|(g, m)| long.long_series(g, m).map(|r| r.value_bytes()))
        .sum();
    println!(
        "long tier, 200 series x 28 d at 5 min: {buckets} buckets, RSS +{} KiB = \
         {per_bucket:.2} B/bucket ({:.2} B/bucket of values)",
        (after_long - before_long) / 1024,
        held as f64 / buckets as f64
    );
    assert!(per_bucket < 16.0, "{per_bucket:.2} B/bucket");
    drop(store);
}
