//! The live simulator source: a tokio task that registers the scenario's groups, backfills
//! history instantly (so charts are not empty), then steps the simulator in accelerated time
//! and sends one `Update::Samples` per 15 s simulated step plus the scaling events.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{HealthState, SourceHealth, Update};
use crate::sim::{Scenario, Simulator};

/// Simulated seconds per live step; matches the store's step.
pub const LIVE_STEP_SECONDS: u64 = 15;
/// Real time between health reports (update counts for the Sources tab).
const HEALTH_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct SimSourceOptions {
    pub scenario: Scenario,
    pub seed: u64,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// At most this many wake-ups (batches of updates) per real second.
    pub max_updates_per_second: f64,
    /// Simulated history computed at start, seconds.
    pub backfill_seconds: u64,
}

/// Starts the source; it ends when the receiver is dropped.
pub fn spawn(opts: SimSourceOptions, tx: Sender<Update>) -> JoinHandle<()> {
    tokio::spawn(async move {
        // An Err only means the receiver is gone: the UI quit.
        let _ = run(opts, tx).await;
    })
}

struct Closed;

async fn send(tx: &Sender<Update>, u: Update) -> Result<(), Closed> {
    tx.send(u).await.map_err(|_| Closed)
}

fn health(opts: &SimSourceOptions, updates: u64) -> Update {
    Update::Health(SourceHealth {
        source: "simulator".into(),
        kind: "simulator".into(),
        target: opts.scenario.name().to_string(),
        state: HealthState::Up,
        last_ok: Some(Utc::now()),
        updates,
        errors: 0,
        details: Default::default(),
    })
}

/// Advances one live step and sends its samples and events; returns the updates sent.
async fn send_step(sim: &mut Simulator, tx: &Sender<Update>) -> Result<u64, Closed> {
    let step = sim.advance(LIVE_STEP_SECONDS);
    let mut sent = 1;
    send(
        tx,
        Update::Samples {
            at: step.at,
            samples: step.samples,
        },
    )
    .await?;
    for e in step.events {
        send(tx, Update::Event(e)).await?;
        sent += 1;
    }
    Ok(sent)
}

async fn run(opts: SimSourceOptions, tx: Sender<Update>) -> Result<(), Closed> {
    send(&tx, health(&opts, 0)).await?;
    for g in opts.scenario.groups() {
        send(&tx, Update::Group(Box::new(g))).await?;
    }
    let mut sim = Simulator::new(&opts.scenario, opts.seed);
    let mut updates = 0u64;
    for _ in 0..opts.backfill_seconds / LIVE_STEP_SECONDS {
        updates += send_step(&mut sim, &tx).await?;
    }
    send(&tx, health(&opts, updates)).await?;

    let speed = if opts.speed.is_finite() && opts.speed > 0.0 {
        opts.speed
    } else {
        1.0
    };
    let min_wake = Duration::from_secs_f64(1.0 / opts.max_updates_per_second.clamp(0.01, 1000.0));
    let origin_real = Instant::now();
    let origin_sim = sim.now_unix();
    let mut last_wake = origin_real;
    let mut last_health = origin_real;
    loop {
        // Wake when the next step is due, but no more often than the update budget allows;
        // everything due since the last wake-up goes out in one batch.
        let next_due = origin_real
            + Duration::from_secs_f64(
                (sim.now_unix() - origin_sim + LIVE_STEP_SECONDS as i64) as f64 / speed,
            );
        let wake = next_due.max(last_wake + min_wake);
        tokio::select! {
            _ = tx.closed() => return Err(Closed),
            _ = tokio::time::sleep_until(wake) => {}
        }
        last_wake = Instant::now();
        let due_sim = origin_sim + (origin_real.elapsed().as_secs_f64() * speed) as i64;
        while sim.now_unix() + LIVE_STEP_SECONDS as i64 <= due_sim {
            updates += send_step(&mut sim, &tx).await?;
        }
        if last_health.elapsed() >= HEALTH_EVERY {
            send(&tx, health(&opts, updates)).await?;
            last_health = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sends_groups_backfill_then_live_steps_with_advancing_time() {
        let scenario = Scenario::load("microservices").expect("built-in scenario");
        let group_count = scenario.groups().len();
        let start = scenario.start();
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let handle = spawn(
            SimSourceOptions {
                scenario,
                seed: 7,
                speed: 36_000.0,
                max_updates_per_second: 20.0,
                backfill_seconds: 3600,
            },
            tx,
        );
        let (mut groups, mut sample_batches, mut events, mut healthy) = (0, 0, 0, false);
        let mut last_at: Option<chrono::DateTime<Utc>> = None;
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline && (sample_batches < 240 + 100 || events == 0) {
            let Ok(Some(u)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await else {
                break;
            };
            match u {
                Update::Health(h) => {
                    assert_eq!(
                        (h.source.as_str(), h.kind.as_str()),
                        ("simulator", "simulator")
                    );
                    assert_eq!(h.target, "microservices");
                    healthy = matches!(h.state, HealthState::Up);
                }
                Update::Group(_) => {
                    assert_eq!(sample_batches, 0, "groups come before samples");
                    groups += 1;
                }
                Update::Samples { at, samples } => {
                    assert!(!samples.is_empty());
                    if let Some(prev) = last_at {
                        assert_eq!((at - prev).num_seconds(), LIVE_STEP_SECONDS as i64);
                    } else {
                        assert_eq!(at, start);
                    }
                    last_at = Some(at);
                    sample_batches += 1;
                }
                Update::Event(e) => {
                    assert!(!e.reason.is_empty() && e.demand.is_some());
                    events += 1;
                }
            }
        }
        assert!(healthy);
        assert_eq!(groups, group_count);
        assert!(sample_batches >= 340, "only {sample_batches} steps arrived");
        assert!(events > 0, "no scaling events");
        drop(rx);
        tokio::time::timeout(Duration::from_secs(5), handle)
            .await
            .expect("source stops when the receiver is dropped")
            .expect("task did not panic");
    }
}
