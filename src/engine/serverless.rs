//! Serverless (AWS Lambda) concurrency: one model of a function's execution environments for
//! the simulator and the replay.
//!
//! Lambda behaviour followed (AWS Lambda developer guide, "Lambda function scaling" and
//! "Configuring provisioned concurrency"; pricing from aws.amazon.com/lambda/pricing,
//! us-east-1):
//! - concurrency = arrivals x duration (Little's law); above the function's limit (reserved
//!   concurrency, or its share of the account's 1,000) invocations are throttled;
//! - each function scales by at most 1,000 execution environments every 10 seconds;
//! - a request that finds no idle environment starts one: a cold start (init duration added);
//!   provisioned environments are always initialised, idle on-demand ones are kept warm for a
//!   while (not documented; `keep_warm_seconds`), and environments are recycled every few hours;
//! - billing: requests, duration GB-s at the on-demand rate for executions beyond provisioned
//!   concurrency, at the lower provisioned-duration rate for executions on it, plus the
//!   provisioned GB-s for as long as it is configured.
//!
//! Latency is the shared M/M/c model ([`crate::engine::latency`]) with the concurrency limit as
//! servers, plus the init duration for the share of requests that hit a cold start.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::engine::latency::LatencyTable;
use crate::engine::policy::{Autoscaler, Observation, PodCounts};
use crate::model::Slo;

/// Environments one function may add every [`SCALE_PERIOD_SECONDS`].
pub const SCALE_ENVIRONMENTS_PER_PERIOD: f64 = 1000.0;
pub const SCALE_PERIOD_SECONDS: f64 = 10.0;
/// Execution environments are recycled by the platform every few hours (cold starts even at
/// steady load).
pub const ENVIRONMENT_LIFETIME_SECONDS: f64 = 4.0 * 3600.0;
/// Time for newly requested provisioned concurrency to be allocated ("can take a few
/// minutes"; two is what users typically observe).
pub const PROVISIONING_SECONDS: i64 = 120;

/// Memory settings Lambda allows, MB (in 1 MB steps).
pub const MIN_MEMORY_MB: u32 = 128;
pub const MAX_MEMORY_MB: u32 = 10_240;
/// Lambda allocates CPU in proportion to memory: 1,769 MB is one vCPU ("Configuring Lambda
/// function memory", AWS Lambda developer guide), up to 6 vCPUs at 10,240 MB.
pub const MB_PER_VCPU: f64 = 1769.0;
pub const MAX_VCPUS: f64 = 6.0;

/// vCPUs a memory setting allocates.
pub fn vcpus(memory_mb: f64) -> f64 {
    (memory_mb / MB_PER_VCPU).min(MAX_VCPUS)
}

/// Lambda list prices of one region and architecture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LambdaPrices {
    pub usd_per_request: f64,
    /// Duration of on-demand executions, per GB-second.
    pub usd_per_gb_second: f64,
    /// Provisioned concurrency configured, per GB-second.
    pub provisioned_usd_per_gb_second: f64,
    /// Duration of executions running on provisioned concurrency, per GB-second.
    pub provisioned_duration_usd_per_gb_second: f64,
}

impl From<&crate::pricing::LambdaRates> for LambdaPrices {
    fn from(r: &crate::pricing::LambdaRates) -> Self {
        Self {
            usd_per_request: r.request_usd,
            usd_per_gb_second: r.duration_usd_per_gb_second,
            provisioned_usd_per_gb_second: r.provisioned_usd_per_gb_second,
            provisioned_duration_usd_per_gb_second: r.provisioned_duration_usd_per_gb_second,
        }
    }
}

impl LambdaPrices {
    /// x86 rates (first duration tier) from the built-in price catalog,
    /// assets/pricing/aws-lambda.toml: the one place Lambda prices are written down.
    pub fn built_in_x86() -> &'static LambdaPrices {
        static PRICES: std::sync::OnceLock<LambdaPrices> = std::sync::OnceLock::new();
        PRICES.get_or_init(|| {
            // Compiled in and parsed by the pricing tests; it cannot fail at run time.
            #[allow(clippy::expect_used)]
            let catalog = crate::pricing::Catalog::built_in().expect("built-in price catalog");
            LambdaPrices::from(&catalog.lambda.x86_64)
        })
    }

    /// Share of provisioned concurrency that must be in use for it to cost less than running
    /// the same executions on demand (AWS: about 60%).
    pub fn provisioned_break_even_utilization(&self) -> f64 {
        self.provisioned_usd_per_gb_second
            / (self.usd_per_gb_second - self.provisioned_duration_usd_per_gb_second)
    }
}

/// One function (or a tier of alike functions sharing a limit).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionModel {
    pub memory_mb: u32,
    pub duration_ms: f64,
    /// Init duration added to a request that starts an environment.
    pub cold_start_ms: f64,
    /// Reserved concurrency, or the function's share of the account limit.
    pub concurrency_limit: u32,
    pub timeout_ms: f64,
    /// Seconds an idle on-demand environment stays warm.
    pub keep_warm_seconds: f64,
}

impl FunctionModel {
    pub fn validate(&self) -> Result<(), String> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if self.memory_mb == 0 || self.concurrency_limit == 0 {
            return Err("memory_mb and concurrency_limit must be > 0".into());
        }
        for (name, v) in [
            ("duration_ms", self.duration_ms),
            ("timeout_ms", self.timeout_ms),
            ("keep_warm_seconds", self.keep_warm_seconds),
        ] {
            if !positive(v) {
                return Err(format!("{name} must be a positive number, got {v}"));
            }
        }
        if !(self.cold_start_ms.is_finite() && self.cold_start_ms >= 0.0) {
            return Err(format!(
                "cold_start_ms must be 0 or more, got {}",
                self.cold_start_ms
            ));
        }
        Ok(())
    }

    fn gb(&self) -> f64 {
        f64::from(self.memory_mb) / 1024.0
    }
}

/// What one step of a function looks like.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct FunctionStep {
    /// Concurrent executions served.
    pub concurrency: f64,
    pub served_rps: f64,
    pub throttled_rps: f64,
    pub cold_starts_per_second: f64,
    /// Share of served requests that paid a cold start.
    pub cold_share: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Executions running on provisioned environments.
    pub provisioned_in_use: f64,
    pub cost_usd_per_hour: f64,
}

/// Provisioned concurrency at one step: initialised environments, and what is configured
/// (billed; newly requested environments are billed before they are ready).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProvisionedNow {
    pub ready: f64,
    pub configured: f64,
}

impl ProvisionedNow {
    pub fn steady(n: f64) -> Self {
        Self {
            ready: n,
            configured: n,
        }
    }
}

/// The warm execution environments of a function, carried from step to step.
#[derive(Debug, Clone, Default)]
pub struct Environments {
    /// Environments alive (busy or idle) at the end of the last step.
    warm: f64,
    /// Of those, the ones busy at the end of the last step (never reclaimed).
    busy: f64,
}

impl Environments {
    /// Starts with `warm` environments, all of them busy.
    pub fn new(warm: f64) -> Self {
        Self { warm, busy: warm }
    }

    /// Advances `dt` seconds at `demand` requests per second.
    pub fn step(
        &mut self,
        f: &FunctionModel,
        prices: &LambdaPrices,
        provisioned: ProvisionedNow,
        dt: f64,
        demand: f64,
        latency: &mut LatencyTable,
    ) -> FunctionStep {
        let demand = demand.max(0.0);
        let provisioned_ready = provisioned.ready;
        let duration_s = f.duration_ms / 1000.0;
        // Only idle environments are reclaimed.
        let idle = (self.warm - self.busy).max(0.0);
        let kept = (self.busy + idle * (-dt / f.keep_warm_seconds).exp()).max(provisioned_ready);
        let burst_cap = kept + SCALE_ENVIRONMENTS_PER_PERIOD * dt / SCALE_PERIOD_SECONDS;
        let needed = demand * duration_s;
        let concurrency = needed.min(f64::from(f.concurrency_limit)).min(burst_cap);
        let throttled = if needed > concurrency && needed > 0.0 {
            demand * (1.0 - concurrency / needed)
        } else {
            0.0
        };
        let served = demand - throttled;

        let new_environments = (concurrency - kept).max(0.0);
        let recycled = concurrency * dt / ENVIRONMENT_LIFETIME_SECONDS;
        self.warm = kept.max(concurrency);
        self.busy = concurrency;
        let cold_starts_per_second = (new_environments + recycled) / dt;
        let cold_share = if served > 0.0 {
            (cold_starts_per_second / served).min(1.0)
        } else {
            0.0
        };

        let lat = latency.get(served, f.concurrency_limit, f.duration_ms, f.timeout_ms);
        let p95 = (lat.p95_ms + f.cold_start_ms * (cold_share / 0.05).min(1.0)).min(f.timeout_ms);
        let p99 = (lat.p99_ms + f.cold_start_ms * (cold_share / 0.01).min(1.0)).min(f.timeout_ms);

        let provisioned_in_use = concurrency.min(provisioned_ready);
        let on_demand = concurrency - provisioned_in_use;
        let gb_hours = f.gb() * 3600.0;
        let cost_usd_per_hour = served * 3600.0 * prices.usd_per_request
            + gb_hours
                * (on_demand * prices.usd_per_gb_second
                    + provisioned_in_use * prices.provisioned_duration_usd_per_gb_second
                    + provisioned.configured * prices.provisioned_usd_per_gb_second);
        FunctionStep {
            concurrency,
            served_rps: served,
            throttled_rps: throttled,
            cold_starts_per_second,
            cold_share,
            p95_ms: p95,
            p99_ms: p99,
            provisioned_in_use,
            cost_usd_per_hour,
        }
    }
}

/// Where provisioned concurrency comes from in a replay.
pub enum Provisioned<'a> {
    Fixed(u32),
    /// Application Auto Scaling on `lambda:function:ProvisionedConcurrency`.
    Autoscaled(&'a mut dyn Autoscaler),
}

#[derive(Debug, Clone, Serialize)]
pub struct FunctionReplayStep {
    pub timestamp: DateTime<Utc>,
    pub demand: f64,
    pub provisioned: u32,
    pub provisioned_ready: u32,
    #[serde(flatten)]
    pub step: FunctionStep,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FunctionSummary {
    pub steps: usize,
    pub duration_hours: f64,
    pub requests: f64,
    pub throttled_requests: f64,
    pub cold_starts: f64,
    /// Cold starts per served request.
    pub cold_start_share: f64,
    pub peak_concurrency: f64,
    /// Mean of provisioned-in-use / provisioned-ready over steps with provisioned concurrency.
    pub provisioned_utilization: Option<f64>,
    pub provisioned_changes: u32,
    pub sla_violation_minutes: f64,
    pub p95_ms_worst: f64,
    pub cost_usd: f64,
    pub cost_usd_per_month: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FunctionReplay {
    pub summary: FunctionSummary,
    pub steps: Vec<FunctionReplayStep>,
}

/// Replays a function over a demand series (requests per second per step; NaN holds the
/// previous value). Provisioned concurrency is fixed or driven by an autoscaler deciding every
/// `decision_period_seconds`, newly requested environments ready after
/// [`PROVISIONING_SECONDS`].
pub fn replay_function(
    f: &FunctionModel,
    prices: &LambdaPrices,
    start: i64,
    step_seconds: i64,
    demand: &[f64],
    mut provisioned: Provisioned,
    slo: &Slo,
) -> Result<FunctionReplay, String> {
    f.validate()?;
    if step_seconds <= 0 {
        return Err(format!("step must be positive, got {step_seconds} s"));
    }
    if let Some(i) = demand.iter().position(|d| *d < 0.0 || d.is_infinite()) {
        return Err(format!(
            "demand at step {i} is {}: must be 0 or more",
            demand[i]
        ));
    }
    let dt = step_seconds as f64;
    let mut latency = LatencyTable::new();
    let first = demand
        .iter()
        .copied()
        .find(|d| d.is_finite())
        .unwrap_or(0.0);
    // Start warm at the first step's concurrency: a replay does not begin with a cold fleet.
    let mut envs =
        Environments::new((first * f.duration_ms / 1000.0).min(f64::from(f.concurrency_limit)));
    let (mut configured, period) = match &provisioned {
        Provisioned::Fixed(n) => (*n, i64::MAX),
        Provisioned::Autoscaled(a) => (a.bounds().0, i64::from(a.decision_period_seconds().max(1))),
    };
    let mut ready = configured;
    // (ready at, new configured value) of pending increases.
    let mut pending: VecDeque<(i64, u32)> = VecDeque::new();
    let mut next_decision = start;
    let mut last_in_use = 0.0;
    let mut held = first;
    let mut steps = Vec::with_capacity(demand.len());
    let mut s = FunctionSummary::default();
    let mut utilization = (0.0, 0usize);

    for (i, d) in demand.iter().enumerate() {
        let now = start + i as i64 * step_seconds;
        if d.is_finite() {
            held = *d;
        }
        while pending.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, n)) = pending.pop_front() {
                ready = ready.max(n.min(configured));
            }
        }
        if let Provisioned::Autoscaled(a) = &mut provisioned {
            if now >= next_decision {
                next_decision = now + period;
                let extra = [("concurrency", last_in_use)];
                let obs = Observation {
                    now,
                    pods: PodCounts {
                        spec_replicas: configured,
                        ready,
                        unready: configured.saturating_sub(ready),
                    },
                    demand_rps: held,
                    capacity_per_replica_rps: 1000.0 / f.duration_ms,
                    measured_cpu_percent: None,
                    extra: &extra,
                };
                let desired = a.decide(&obs).desired;
                if desired != configured {
                    s.provisioned_changes += 1;
                    if desired > configured {
                        pending.push_back((now + PROVISIONING_SECONDS, desired));
                    } else {
                        // Released concurrency stops being billed and used at once.
                        ready = ready.min(desired);
                        pending.retain(|(_, n)| *n <= desired);
                    }
                    configured = desired;
                }
            }
        }
        let out = envs.step(
            f,
            prices,
            ProvisionedNow {
                ready: f64::from(ready),
                configured: f64::from(configured),
            },
            dt,
            held,
            &mut latency,
        );
        last_in_use = out.provisioned_in_use;
        if ready > 0 {
            utilization.0 += out.provisioned_in_use / f64::from(ready);
            utilization.1 += 1;
        }
        s.requests += held * dt;
        s.throttled_requests += out.throttled_rps * dt;
        s.cold_starts += out.cold_starts_per_second * dt;
        s.peak_concurrency = s.peak_concurrency.max(out.concurrency);
        s.p95_ms_worst = s.p95_ms_worst.max(out.p95_ms);
        if out.p95_ms > slo.p95_latency_ms || out.throttled_rps > 0.0 {
            s.sla_violation_minutes += dt / 60.0;
        }
        s.cost_usd += out.cost_usd_per_hour * dt / 3600.0;
        steps.push(FunctionReplayStep {
            timestamp: DateTime::from_timestamp(now, 0).unwrap_or_default(),
            demand: held,
            provisioned: configured,
            provisioned_ready: ready,
            step: out,
        });
    }
    s.steps = steps.len();
    s.duration_hours = steps.len() as f64 * dt / 3600.0;
    let served = s.requests - s.throttled_requests;
    s.cold_start_share = if served > 0.0 {
        s.cold_starts / served
    } else {
        0.0
    };
    s.provisioned_utilization = (utilization.1 > 0).then(|| utilization.0 / utilization.1 as f64);
    s.cost_usd_per_month = if s.duration_hours > 0.0 {
        s.cost_usd / s.duration_hours * 730.0
    } else {
        0.0
    };
    Ok(FunctionReplay { summary: s, steps })
}

#[cfg(test)]
mod tests;
