//! The one latency model (CONTRACTS.md): each group is an M/M/c queue with
//! c = ready replicas x concurrency per replica servers, each serving at rate mu.
//! The simulator, the replay and the tuner all call [`latency`].

/// Erlang B blocking probability for `servers` servers and offered load `a` (Erlangs), by the
/// numerically stable recursion B(0)=1, B(k) = a B(k-1) / (k + a B(k-1)).
pub fn erlang_b(servers: u32, offered_load: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=servers {
        b = offered_load * b / (f64::from(k) + offered_load * b);
    }
    b
}

/// Erlang C: probability an arriving request has to wait. 1 when the queue is unstable.
pub fn erlang_c(servers: u32, offered_load: f64) -> f64 {
    let c = f64::from(servers);
    if servers == 0 || offered_load >= c {
        return 1.0;
    }
    if offered_load <= 0.0 {
        return 0.0;
    }
    let b = erlang_b(servers, offered_load);
    c * b / (c - offered_load * (1.0 - b))
}

/// Latency figures of one group at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Server utilization (0-1, capped at 1 when overloaded).
    pub utilization: f64,
    /// Requests per second that cannot be served (overload or timeouts).
    pub dropped_rps: f64,
    /// Probability of waiting (Erlang C).
    pub wait_probability: f64,
}

/// Probability that the sojourn time (wait + service) exceeds `t` seconds: the wait is 0 with
/// probability 1-C and Exp(theta) otherwise (theta = c mu - lambda); service is Exp(mu).
fn sojourn_tail(t: f64, wait_prob: f64, mu: f64, theta: f64) -> f64 {
    let service_only = (-mu * t).exp();
    let hypo = if (mu - theta).abs() < 1e-9 * mu.max(theta) {
        (1.0 + mu * t) * (-mu * t).exp()
    } else {
        (mu * (-theta * t).exp() - theta * (-mu * t).exp()) / (mu - theta)
    };
    (1.0 - wait_prob) * service_only + wait_prob * hypo
}

/// Time t (seconds) with P(sojourn > t) = 1 - q, by bisection on the monotone tail.
fn sojourn_quantile(q: f64, wait_prob: f64, mu: f64, theta: f64) -> f64 {
    let target = 1.0 - q;
    let mut lo = 0.0;
    let mut hi = 1.0 / mu;
    while sojourn_tail(hi, wait_prob, mu, theta) > target {
        hi *= 2.0;
        if hi > 1e7 {
            return hi;
        }
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if sojourn_tail(mid, wait_prob, mu, theta) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// p95/p99 latency of `arrival_rps` requests per second on `servers` servers of mean service
/// time `service_time_ms`. Overload (arrivals at or above capacity) drops the excess and
/// reports the timeout as latency; latency quantiles above the timeout are capped there.
pub fn latency(arrival_rps: f64, servers: u32, service_time_ms: f64, timeout_ms: f64) -> Latency {
    let mu = 1000.0 / service_time_ms;
    let capacity = f64::from(servers) * mu;
    if !arrival_rps.is_finite() || arrival_rps <= 0.0 {
        let service_p = |q: f64| -(1.0_f64 - q).ln() / mu * 1000.0;
        return Latency {
            p95_ms: service_p(0.95).min(timeout_ms),
            p99_ms: service_p(0.99).min(timeout_ms),
            utilization: 0.0,
            dropped_rps: 0.0,
            wait_probability: 0.0,
        };
    }
    if servers == 0 || arrival_rps >= capacity {
        return Latency {
            p95_ms: timeout_ms,
            p99_ms: timeout_ms,
            utilization: 1.0,
            dropped_rps: (arrival_rps - capacity).max(0.0),
            wait_probability: 1.0,
        };
    }
    let offered = arrival_rps / mu;
    let wait_prob = erlang_c(servers, offered);
    let theta = capacity - arrival_rps;
    let p95_ms = sojourn_quantile(0.95, wait_prob, mu, theta) * 1000.0;
    let p99_ms = sojourn_quantile(0.99, wait_prob, mu, theta) * 1000.0;
    // Requests whose sojourn exceeds the timeout are dropped (they time out at the client).
    let late_share = sojourn_tail(timeout_ms / 1000.0, wait_prob, mu, theta);
    // Below one in a billion the tail is numerical dust, not dropped requests.
    let late_share = if late_share < 1e-9 { 0.0 } else { late_share };
    Latency {
        p95_ms: p95_ms.min(timeout_ms),
        p99_ms: p99_ms.min(timeout_ms),
        utilization: arrival_rps / capacity,
        dropped_rps: arrival_rps * late_share,
        wait_probability: wait_prob,
    }
}

/// Memoised [`latency`] for the simulator and the replay, which call it once per tick
/// (CONTRACTS.md: "a precomputed table where speed needs it"). Utilization is binned on a log
/// scale of its headroom (1 - utilization; 64 bins per neper: fine near saturation where
/// latency moves, coarse when idle where it does not); exact values at bin edges are computed
/// on first use and interpolated between. Entries are bounded; idle and overload are computed
/// directly (closed forms).
#[derive(Debug, Clone, Default)]
pub struct LatencyTable {
    /// (servers, bin, service time bits, timeout bits) -> (p95, p99, late share, P(wait)).
    entries: rustc_hash::FxHashMap<(u32, u32, u64, u64), [f64; 4]>,
}

/// Bins per neper of headroom.
const BINS_PER_NEPER: f64 = 64.0;
/// Headroom below this is computed exactly (deep saturation).
const MIN_HEADROOM: f64 = 1e-4;
/// Bound on remembered entries; the table restarts when full.
const MAX_ENTRIES: usize = 200_000;

impl LatencyTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(
        &mut self,
        arrival_rps: f64,
        servers: u32,
        service_time_ms: f64,
        timeout_ms: f64,
    ) -> Latency {
        let capacity = f64::from(servers) * 1000.0 / service_time_ms;
        if servers == 0 || arrival_rps.is_nan() || arrival_rps <= 0.0 || arrival_rps >= capacity {
            return latency(arrival_rps, servers, service_time_ms, timeout_ms);
        }
        let rho = arrival_rps / capacity;
        let headroom = 1.0 - rho;
        if headroom < MIN_HEADROOM {
            return latency(arrival_rps, servers, service_time_ms, timeout_ms);
        }
        let x = -headroom.ln() * BINS_PER_NEPER;
        let b0 = x.floor();
        let frac = x - b0;
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.clear();
        }
        let (st, to) = (service_time_ms.to_bits(), timeout_ms.to_bits());
        let mut edge = |b: f64| -> [f64; 4] {
            *self
                .entries
                .entry((servers, b as u32, st, to))
                .or_insert_with(|| {
                    let a = (1.0 - (-b / BINS_PER_NEPER).exp()) * capacity;
                    let l = latency(a, servers, service_time_ms, timeout_ms);
                    let late = if a > 0.0 { l.dropped_rps / a } else { 0.0 };
                    [l.p95_ms, l.p99_ms, late, l.wait_probability]
                })
        };
        let (lo, hi) = (edge(b0), edge(b0 + 1.0));
        let mix = |k: usize| lo[k] + (hi[k] - lo[k]) * frac;
        Latency {
            p95_ms: mix(0),
            p99_ms: mix(1),
            utilization: rho,
            dropped_rps: arrival_rps * mix(2),
            wait_probability: mix(3),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    // Published Erlang B table values (e.g. the standard Erlang B table: 10 trunks at 5 Erlangs
    // blocks 1.84%; 5 trunks at 2 Erlangs 3.67%).
    #[test]
    fn erlang_b_matches_tables() {
        assert!(close(erlang_b(10, 5.0), 0.018385, 1e-5));
        assert!(close(erlang_b(5, 2.0), 0.036697, 1e-5));
        assert!(close(erlang_b(1, 1.0), 0.5, 1e-12));
    }

    // Erlang C worked examples: 2 servers at 1 Erlang -> C = 1/3 (textbook closed form
    // a^2/(2(2-a)) / (1 + a + a^2/(2(2-a))) with a=1). The classic call-centre example
    // (Wikipedia "Erlang (unit)", 10 agents, 360 calls/h of 240 s = 24 ... ) is checked in its
    // normalised form: 10 servers at 8 Erlangs -> P(wait) = 0.4092.
    #[test]
    fn erlang_c_matches_worked_examples() {
        assert!(close(erlang_c(2, 1.0), 1.0 / 3.0, 1e-12));
        assert!(close(erlang_c(1, 0.5), 0.5, 1e-12)); // M/M/1: P(wait) = rho
        assert!(close(erlang_c(10, 8.0), 0.4092, 5e-4));
        assert_eq!(erlang_c(4, 4.0), 1.0);
    }

    #[test]
    fn mm1_sojourn_is_exponential() {
        // M/M/1: sojourn ~ Exp(mu - lambda); mu = 10/s, lambda = 5/s -> p95 = ln(20)/5 s.
        let l = latency(5.0, 1, 100.0, 60_000.0);
        assert!(close(l.p95_ms, (20.0f64).ln() / 5.0 * 1000.0, 0.5), "{l:?}");
        assert!(close(l.utilization, 0.5, 1e-12));
    }

    #[test]
    fn overload_drops_excess_and_reports_timeout() {
        let l = latency(150.0, 10, 100.0, 2_000.0);
        assert_eq!(l.p95_ms, 2_000.0);
        assert!(close(l.dropped_rps, 50.0, 1e-9));
    }

    #[test]
    fn more_servers_never_slower() {
        let mut last = f64::INFINITY;
        for c in 10..40 {
            let l = latency(90.0, c, 100.0, 10_000.0);
            assert!(l.p95_ms <= last + 1e-9);
            last = l.p95_ms;
        }
    }

    #[test]
    fn table_matches_exact_model() {
        let mut t = LatencyTable::new();
        for servers in [1u32, 4, 32, 400, 640] {
            for k in 1..60 {
                let rps = f64::from(servers) * 12.5 * f64::from(k) / 60.0;
                let exact = latency(rps, servers, 80.0, 5_000.0);
                let got = t.get(rps, servers, 80.0, 5_000.0);
                let rel = (got.p95_ms - exact.p95_ms).abs() / exact.p95_ms;
                assert!(
                    rel < 0.01,
                    "servers {servers} rps {rps}: {got:?} vs {exact:?}"
                );
            }
        }
    }

    #[test]
    fn idle_group_has_service_time_latency() {
        let l = latency(0.0, 3, 50.0, 10_000.0);
        assert!(close(l.p95_ms, -(0.05f64).ln() * 50.0, 1e-6));
        assert_eq!(l.dropped_rps, 0.0);
    }
}
