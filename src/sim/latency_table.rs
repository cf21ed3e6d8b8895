//! A lazily filled table of [`crate::engine::latency::latency`] (CONTRACTS.md allows "a
//! precomputed table where speed needs it"): utilization is quantized on a log scale of its
//! headroom (1 - utilization, 1/64 of a neper per bin: fine near saturation where latency
//! moves, coarse when idle where it does not), so exports call the Erlang C model once per
//! (servers, load bin) instead of per tick.

use std::collections::HashMap;

use crate::engine::latency::{latency, Latency};

/// Bins per neper of headroom.
const BINS_PER_NEPER: f64 = 64.0;
/// Headroom below this is computed exactly (deep saturation).
const MIN_HEADROOM: f64 = 1e-4;
/// Bound on remembered entries per group; the table restarts when full.
const MAX_ENTRIES: usize = 200_000;

#[derive(Debug, Clone, Default)]
pub struct LatencyTable {
    entries: HashMap<u64, Latency>,
}

impl LatencyTable {
    /// Latency of `arrival_rps` on `servers` servers, from the table when the load bin is known.
    pub fn get(
        &mut self,
        arrival_rps: f64,
        servers: u32,
        service_time_ms: f64,
        timeout_ms: f64,
    ) -> Latency {
        let capacity_rps = f64::from(servers) * 1000.0 / service_time_ms;
        // Overload and idle are cheap closed forms in `latency`; only queueing needs the table.
        if servers == 0
            || arrival_rps <= 0.0
            || arrival_rps >= capacity_rps
            || !arrival_rps.is_finite()
        {
            return latency(arrival_rps, servers, service_time_ms, timeout_ms);
        }
        let headroom = 1.0 - arrival_rps / capacity_rps;
        if headroom < MIN_HEADROOM {
            return latency(arrival_rps, servers, service_time_ms, timeout_ms);
        }
        let bin = (-headroom.ln() * BINS_PER_NEPER).round().max(1.0);
        let key = (u64::from(servers) << 32) | bin as u64;
        let binned_arrival = (1.0 - (-bin / BINS_PER_NEPER).exp()) * capacity_rps;
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.clear();
        }
        let l = *self
            .entries
            .entry(key)
            .or_insert_with(|| latency(binned_arrival, servers, service_time_ms, timeout_ms));
        Latency {
            dropped_rps: l.dropped_rps * arrival_rps / binned_arrival,
            utilization: arrival_rps / capacity_rps,
            ..l
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_agrees_with_the_model() {
        let mut t = LatencyTable::default();
        for servers in [1u32, 8, 64, 640] {
            let cap = f64::from(servers) * 1000.0 / 40.0;
            for i in 1..40 {
                let a = cap * f64::from(i) / 40.0;
                let exact = latency(a, servers, 40.0, 2000.0);
                let fast = t.get(a, servers, 40.0, 2000.0);
                let tol = 0.02 * exact.p95_ms + 1.0;
                assert!(
                    (fast.p95_ms - exact.p95_ms).abs() <= tol,
                    "{servers} {a}: {fast:?} vs {exact:?}"
                );
            }
        }
    }
}
