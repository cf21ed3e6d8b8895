//! The validation phase's scenario tests: build a ramp, spike or scale-down demand, and judge a
//! replay of it against the Slo (time to scale, SLA kept during scaling, no thrash, no
//! premature scale-down).

use serde::Serialize;

use super::replay::Replay;
use crate::model::Slo;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadTest {
    /// Base load for 10 min, a linear ramp to 10x over 30 min, 30 min at the top.
    Ramp,
    /// Base load for 10 min, a jump to `spike_factor` x base within one step held 20 min, then
    /// 30 min back at base.
    Spike,
    /// 30 min at 10x base (settled), then a drop to base for 60 min.
    ScaleDown,
}

impl std::str::FromStr for LoadTest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ramp" => Ok(LoadTest::Ramp),
            "spike" => Ok(LoadTest::Spike),
            "scale-down" => Ok(LoadTest::ScaleDown),
            other => Err(format!(
                "unknown test '{other}' (expected ramp, spike or scale-down)"
            )),
        }
    }
}

/// Step of generated demand, seconds (the HPA sync period).
pub const LOAD_TEST_STEP_SECONDS: i64 = 15;

/// Demand (requests per second) of a load test, one value per 15 s step.
pub fn build_demand(test: LoadTest, base_rps: f64, spike_factor: f64) -> Vec<f64> {
    let per_min = (60 / LOAD_TEST_STEP_SECONDS) as usize;
    let hold = |minutes: usize, v: f64| vec![v; minutes * per_min];
    let mut d = Vec::new();
    match test {
        LoadTest::Ramp => {
            d.extend(hold(10, base_rps));
            let n = 30 * per_min;
            d.extend((1..=n).map(|i| base_rps * (1.0 + 9.0 * i as f64 / n as f64)));
            d.extend(hold(30, 10.0 * base_rps));
        }
        LoadTest::Spike => {
            d.extend(hold(10, base_rps));
            d.extend(hold(20, spike_factor * base_rps));
            d.extend(hold(30, base_rps));
        }
        LoadTest::ScaleDown => {
            d.extend(hold(30, 10.0 * base_rps));
            d.extend(hold(60, base_rps));
        }
    }
    d
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub test: LoadTest,
    pub passed: bool,
    pub checks: Vec<Check>,
}

/// Judges a replay of a load test. `capacity_per_replica_rps` tells when ready capacity fell
/// below demand after a scale-down (premature scale-down).
pub fn judge(test: LoadTest, replay: &Replay, slo: &Slo, capacity_per_replica_rps: f64) -> Verdict {
    let s = &replay.summary;
    let budget = i64::from(slo.max_time_to_scale_seconds);
    let unfinished = s.scale_episode_open_at_end;
    let worst = s.max_time_to_scale_seconds.unwrap_or(0);
    let mut checks = vec![Check {
        name: "time to scale",
        passed: worst <= budget && !unfinished,
        detail: if unfinished {
            format!("capacity never caught up with demand (target {budget}s)")
        } else {
            format!("worst {worst}s, target {budget}s")
        },
    }];
    // SLA kept during scaling: violations are allowed only while capacity is catching up.
    let allowed_minutes = budget as f64 / 60.0;
    checks.push(Check {
        name: "SLA kept",
        passed: s.sla_violation_minutes <= allowed_minutes,
        detail: format!(
            "{:.1} min over p95 {} ms or dropping (allowed {:.1} while scaling); availability {:.3}%",
            s.sla_violation_minutes,
            slo.p95_latency_ms,
            allowed_minutes,
            s.availability * 100.0
        ),
    });
    checks.push(Check {
        name: "no thrash",
        passed: s.thrash_events == 0,
        detail: format!("{} thrash pairs", s.thrash_events),
    });
    let premature = premature_scale_down_steps(replay, capacity_per_replica_rps);
    checks.push(Check {
        name: "no premature scale-down",
        passed: premature == 0,
        detail: format!("{premature} steps short of capacity after a scale-down"),
    });
    Verdict {
        test,
        passed: checks.iter().all(|c| c.passed),
        checks,
    }
}

/// Steps where ready capacity is below demand and the most recent scaling event was a
/// scale-down: the policy removed capacity that was still needed.
fn premature_scale_down_steps(replay: &Replay, capacity_per_replica_rps: f64) -> usize {
    let mut events = replay.events.iter().peekable();
    let mut last_was_down = false;
    let mut count = 0;
    for step in &replay.steps {
        while let Some(e) = events.next_if(|e| e.event.at <= step.timestamp) {
            last_was_down = e.event.to_replicas < e.event.from_replicas;
        }
        let capacity = f64::from(step.ready) * capacity_per_replica_rps;
        if last_was_down && step.demand > capacity {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demand_shapes() {
        let r = build_demand(LoadTest::Ramp, 100.0, 100.0);
        assert_eq!(r.len(), 70 * 4);
        assert_eq!(r[0], 100.0);
        assert!((r[r.len() - 1] - 1000.0).abs() < 1e-9);
        assert!(r.windows(2).all(|w| w[1] >= w[0]), "a ramp never falls");
        let s = build_demand(LoadTest::Spike, 10.0, 100.0);
        assert_eq!(s[40], 1000.0, "100x within one step at minute 10");
        assert_eq!(s[39], 10.0);
        let d = build_demand(LoadTest::ScaleDown, 10.0, 100.0);
        assert_eq!((d[119], d[120]), (100.0, 10.0));
    }
}
