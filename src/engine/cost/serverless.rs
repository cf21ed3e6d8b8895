//! Lambda cost and concurrency settings per function (or tier of functions).
//!
//! Cost = requests × request price + executed GB-seconds × duration price. Provisioned
//! concurrency p costs a flat rate per configured GB-second and bills executions inside it at a
//! lower duration rate. The p-th unit is busy in the share of time concurrency exceeds p; it
//! pays when that share is above flat / (on-demand − provisioned duration rate) (0.6 at the
//! us-east-1 x86 rates): the cost-optimal provisioned concurrency is again a quantile.
//! Reserved concurrency is set above the peak so the function is never throttled by its
//! neighbours' bursts (reserved concurrency itself is free).

use serde::Serialize;

use super::quantile;
use super::savings::{saving, Saving};
use crate::pricing::LambdaRates;

/// Headroom of reserved concurrency over the observed peak.
pub const RESERVED_HEADROOM: f64 = 1.2;

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionUsage<'a> {
    pub step_seconds: f64,
    /// Invocations per second per step.
    pub invocations: &'a [f64],
    /// Concurrent executions per step.
    pub concurrency: &'a [f64],
    pub memory_mb: f64,
    pub provisioned_now: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConcurrencyPlan {
    pub peak_concurrency: f64,
    pub reserved_concurrency: u32,
    pub provisioned_concurrency: u32,
    /// Share of time concurrency exceeds the recommended provisioned level.
    pub provisioned_busy_share: f64,
    pub break_even_busy_share: f64,
    pub saving: Saving,
}

/// Monthly cost with `provisioned` concurrency, scaled from the span to a 730-hour month.
pub fn monthly_cost(u: &FunctionUsage, rates: &LambdaRates, provisioned: f64) -> f64 {
    monthly_cost_per_step(u, rates, &vec![provisioned; u.concurrency.len()])
}

/// [`monthly_cost`] with provisioned concurrency set per step (a schedule).
pub fn monthly_cost_per_step(u: &FunctionUsage, rates: &LambdaRates, provisioned: &[f64]) -> f64 {
    let gb = u.memory_mb / 1024.0;
    let (mut requests, mut od_gbs, mut pc_gbs, mut flat_gbs, mut steps) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for ((inv, conc), p) in u.invocations.iter().zip(u.concurrency).zip(provisioned) {
        if !(inv.is_finite() && conc.is_finite()) {
            continue;
        }
        requests += inv * u.step_seconds;
        od_gbs += (conc - p).max(0.0) * u.step_seconds * gb;
        pc_gbs += conc.min(*p) * u.step_seconds * gb;
        flat_gbs += p * u.step_seconds * gb;
        steps += 1.0;
    }
    let seconds = steps * u.step_seconds;
    if seconds <= 0.0 {
        return 0.0;
    }
    let total = requests * rates.request_usd
        + od_gbs * rates.duration_usd_per_gb_second
        + pc_gbs * rates.provisioned_duration_usd_per_gb_second
        + flat_gbs * rates.provisioned_usd_per_gb_second;
    total / seconds * 3600.0 * super::HOURS_PER_MONTH
}

/// $/h per step of what a Compute Savings Plan covers for one function: duration (on demand
/// and inside provisioned concurrency) and the provisioned concurrency itself; requests are
/// not covered. NaN where the step has no data.
pub fn covered_spend_per_hour(
    u: &FunctionUsage,
    rates: &LambdaRates,
    provisioned: f64,
) -> Vec<f64> {
    covered_spend_per_step(u, rates, &vec![provisioned; u.concurrency.len()])
}

/// [`covered_spend_per_hour`] with provisioned concurrency set per step.
pub fn covered_spend_per_step(
    u: &FunctionUsage,
    rates: &LambdaRates,
    provisioned: &[f64],
) -> Vec<f64> {
    let gb = u.memory_mb / 1024.0;
    u.concurrency
        .iter()
        .zip(provisioned)
        .map(|(&conc, &p)| {
            if !conc.is_finite() {
                return f64::NAN;
            }
            3600.0
                * gb
                * ((conc - p).max(0.0) * rates.duration_usd_per_gb_second
                    + conc.min(p) * rates.provisioned_duration_usd_per_gb_second
                    + p * rates.provisioned_usd_per_gb_second)
        })
        .collect()
}

/// Busy share above which a unit of provisioned concurrency pays for itself.
pub fn break_even_busy_share(rates: &LambdaRates) -> f64 {
    rates.provisioned_usd_per_gb_second
        / (rates.duration_usd_per_gb_second - rates.provisioned_duration_usd_per_gb_second)
}

/// Seconds before a scheduled rise that the higher provisioned level is requested (AWS:
/// allocation "can take a few minutes"); billed from then.
pub const SCHEDULE_LEAD_SECONDS: i64 = 300;

/// Provisioned concurrency by local hour of day: in each hour, the level its steps exceed in
/// more than the break-even share of them (the constant plan's rule, hour by hour), so a
/// recurring burst (a nightly batch) is provisioned only while it runs. Returns the 24 levels
/// and the level per step, each step billed at the highest level in force during it or
/// requested [`SCHEDULE_LEAD_SECONDS`] ahead of it.
pub fn schedule_by_hour(
    u: &FunctionUsage,
    rates: &LambdaRates,
    start_unix: i64,
    utc_offset_hours: i32,
) -> ([u32; 24], Vec<f64>) {
    let step = u.step_seconds.max(1.0) as i64;
    let local_hour = |i: usize| {
        (start_unix + i as i64 * step + i64::from(utc_offset_hours) * 3600).rem_euclid(86_400)
            / 3600
    };
    let q = (1.0 - break_even_busy_share(rates)).clamp(0.0, 1.0);
    let mut levels = [0u32; 24];
    for (h, level) in levels.iter_mut().enumerate() {
        let in_hour: Vec<f64> = u
            .concurrency
            .iter()
            .enumerate()
            .filter(|(i, _)| local_hour(*i) == h as i64)
            .map(|(_, c)| *c)
            .collect();
        *level = quantile(&in_hour, q).map_or(0, |v| v.floor().max(0.0) as u32);
    }
    let at = |t: i64| {
        let h = (t + i64::from(utc_offset_hours) * 3600).rem_euclid(86_400) / 3600;
        f64::from(levels[h as usize])
    };
    // A step is billed at the highest level in force during it or requested ahead of it.
    let per_step = (0..u.concurrency.len())
        .map(|i| {
            let t = start_unix + i as i64 * step;
            at(t).max(at(t + step + SCHEDULE_LEAD_SECONDS - 1))
        })
        .collect();
    (levels, per_step)
}

pub fn plan(u: &FunctionUsage, rates: &LambdaRates) -> Option<ConcurrencyPlan> {
    let peak = u
        .concurrency
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NAN, f64::max);
    if !peak.is_finite() {
        return None;
    }
    let break_even = break_even_busy_share(rates);
    let level = quantile(u.concurrency, (1.0 - break_even).clamp(0.0, 1.0))?.floor();
    let busy = u
        .concurrency
        .iter()
        .filter(|c| c.is_finite() && **c > level)
        .count() as f64
        / u.concurrency
            .iter()
            .filter(|c| c.is_finite())
            .count()
            .max(1) as f64;
    let current = monthly_cost(u, rates, u.provisioned_now);
    let projected = monthly_cost(u, rates, level);
    Some(ConcurrencyPlan {
        peak_concurrency: peak,
        reserved_concurrency: (peak * RESERVED_HEADROOM).ceil() as u32,
        provisioned_concurrency: level as u32,
        provisioned_busy_share: busy,
        break_even_busy_share: break_even,
        saving: saving(current, projected, 0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::Catalog;

    #[test]
    fn hand_worked_lambda_month_and_break_even_share() {
        let c = Catalog::built_in().unwrap();
        let r = &c.lambda.x86_64;
        // 10M invocations/day of 512 MB x 200 ms: per second 115.74 invocations, concurrency
        // 23.15. Month (730 h = 30.42 days): 304.2M requests x $0.2/M = $60.83;
        // GB-s = 304.2M x 0.5 x 0.2 = 30.42M x $0.0000166667 = $506.94; $567.78 in all.
        let inv = vec![10_000_000.0 / 86_400.0; 24];
        let conc: Vec<f64> = inv.iter().map(|i| i * 0.2).collect();
        let u = FunctionUsage {
            step_seconds: 3600.0,
            invocations: &inv,
            concurrency: &conc,
            memory_mb: 512.0,
            provisioned_now: 0.0,
        };
        let m = monthly_cost(&u, r, 0.0);
        let requests = 10e6 / 86_400.0 * 3600.0 * 730.0;
        let expect = requests * 0.0000002 + requests * 0.1 * 0.0000166667;
        assert!((m - expect).abs() < 1e-6, "{m} vs {expect}");
        assert!((expect - 567.78).abs() < 0.01, "{expect}");
        // Break-even busy share at us-east-1 x86 rates: 4.1667 / (16.6667 - 9.7222) = 0.600.
        let p = plan(&u, r).unwrap();
        assert!((p.break_even_busy_share - 0.6).abs() < 1e-4);
        // Flat concurrency: provision it all; saves (16.6667 - 9.7222 - 4.1667) / 16.6667 of
        // the duration bill.
        assert_eq!(p.provisioned_concurrency, 23);
        assert!(p.saving.saving_usd_month > 0.0);
        assert_eq!(p.reserved_concurrency, 28);
    }

    #[test]
    fn a_nightly_burst_is_provisioned_only_while_it_runs() {
        let c = Catalog::built_in().unwrap();
        let r = &c.lambda.arm64;
        // 15-minute steps over 4 days from 00:00 UTC: 10 concurrent all day, 110 from 02:00
        // to 03:00. 1024 MB, 1 invocation/s.
        let conc: Vec<f64> = (0..384)
            .map(|i| if (i / 4) % 24 == 2 { 110.0 } else { 10.0 })
            .collect();
        let inv = vec![1.0; 384];
        let u = FunctionUsage {
            step_seconds: 900.0,
            invocations: &inv,
            concurrency: &conc,
            memory_mb: 1024.0,
            provisioned_now: 0.0,
        };
        let (levels, per_step) = schedule_by_hour(&u, r, 0, 0);
        assert_eq!((levels[1], levels[2], levels[3]), (10, 110, 10));
        // The 01:45 step is billed at the higher level (requested 5 minutes early).
        assert_eq!(
            &per_step[6..13],
            &[10.0, 110.0, 110.0, 110.0, 110.0, 110.0, 10.0]
        );
        // Hand-worked a day in GB-s (1 GB, x 3600 s): constant 10 runs 240 in provisioned
        // concurrency and 100 on demand with 240 configured; the schedule runs all 340 in
        // provisioned concurrency with 22.75 h x 10 + 1.25 h x 110 = 365 configured.
        let h = 3600.0;
        let constant = 240.0 * h * r.provisioned_duration_usd_per_gb_second
            + 100.0 * h * r.duration_usd_per_gb_second
            + 240.0 * h * r.provisioned_usd_per_gb_second;
        let scheduled = 340.0 * h * r.provisioned_duration_usd_per_gb_second
            + 365.0 * h * r.provisioned_usd_per_gb_second;
        let requests = 86_400.0 * r.request_usd;
        let month = |day: f64| (day + requests) / 24.0 * 730.0;
        let got_c = monthly_cost(&u, r, 10.0);
        let got_s = monthly_cost_per_step(&u, r, &per_step);
        assert!(
            (got_c - month(constant)).abs() < 1e-6,
            "{got_c} vs {}",
            month(constant)
        );
        assert!(
            (got_s - month(scheduled)).abs() < 1e-6,
            "{got_s} vs {}",
            month(scheduled)
        );
        // $0.50 a day less: 100 x 3600 x (0.0000133334 - 0.0000077778) = $2.00 saved on
        // duration, 125 x 3600 x 0.0000033334 = $1.50 more configured.
        assert!((month(constant) - month(scheduled) - 0.5 / 24.0 * 730.0).abs() < 0.01);
    }

    #[test]
    fn savings_plan_covered_spend_is_duration_and_provisioned_concurrency() {
        let c = Catalog::built_in().unwrap();
        let r = &c.lambda.x86_64;
        // 1024 MB, 10 concurrent, 4 provisioned, for an hour: on demand 6 x 3600 GB-s x
        // $0.0000166667 = $0.36; inside provisioned 4 x 3600 x $0.0000097222 = $0.14;
        // provisioned itself 4 x 3600 x $0.0000041667 = $0.06. $0.56/h; requests not included.
        let inv = [1_000.0, f64::NAN];
        let conc = [10.0, f64::NAN];
        let u = FunctionUsage {
            step_seconds: 60.0,
            invocations: &inv,
            concurrency: &conc,
            memory_mb: 1024.0,
            provisioned_now: 4.0,
        };
        let s = covered_spend_per_hour(&u, r, 4.0);
        assert!((s[0] - 0.56).abs() < 1e-4, "{s:?}");
        assert!(s[1].is_nan(), "missing stays missing");
        // A steady $0.56/h: a 1-year plan at 12% commits 0.88 x 0.56 and saves 12% of it.
        let option = super::super::commitment::CommitmentOption {
            kind: crate::artifact::CommitmentType::ComputeSavingsPlan,
            term_years: 1,
            discount: c.lambda.savings_plan.compute_savings_plan_1y,
            flexibility: "",
            status: c.lambda.savings_plan.status,
        };
        let plan = super::super::commitment::plan(&[s[0]; 48], 1.0, &option).expect("plan");
        assert!((plan.hourly_commitment_usd - 0.88 * s[0]).abs() < 1e-9);
        assert!((plan.saving.saving_usd_month - 0.12 * s[0] * 730.0).abs() < 1e-6);
    }
}
