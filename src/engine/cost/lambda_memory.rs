//! Lambda memory rightsizing per function: the smallest memory setting that still holds what
//! the invocations use, read from the function's own metrics (Max Memory Used per invocation,
//! Lambda Insights `cpu_total_time`, `Duration`).
//!
//! Memory is also CPU: Lambda allocates vCPUs in proportion to memory (1,769 MB = 1 vCPU). So
//! the new setting must hold (a) the peak memory used with headroom, and (b) the vCPUs the
//! function runs on (CPU time / duration) with headroom; below (b) the function would get less
//! CPU than it uses and run longer. At or above both, the duration is unchanged and the GB-s
//! fall in proportion to the memory. A shorter duration is never claimed.

use serde::Serialize;

use crate::engine::serverless::{vcpus, MAX_MEMORY_MB, MB_PER_VCPU, MIN_MEMORY_MB};

/// Headroom over the peak memory used: invocations larger than any seen (a bigger payload, a
/// later GC) must not hit the limit, where Lambda kills the invocation.
pub const MEMORY_HEADROOM: f64 = 1.2;
/// Headroom over the vCPUs used at peak: CPU time per invocation varies with the input, and
/// below the CPU it needs a function slows down rather than fails, so the same margin as memory.
pub const CPU_HEADROOM: f64 = 1.2;

/// One function's memory and CPU history (per step; NaN: missing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryUsage<'a> {
    pub memory_mb: f64,
    /// Largest memory an invocation used in the step, MB.
    pub max_memory_used_mb: &'a [f64],
    /// CPU time per invocation, ms (mean over the step).
    pub cpu_total_time_ms: &'a [f64],
    /// Duration per invocation, ms (mean over the step).
    pub duration_ms: &'a [f64],
}

/// Which need sets the new memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    /// Peak memory used x headroom.
    Memory,
    /// vCPUs used x headroom x 1,769 MB.
    Cpu,
    /// Lambda's smallest setting (128 MB).
    Minimum,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryPlan {
    pub current_mb: u32,
    /// The smallest allowed setting that holds both needs (may equal or exceed the current).
    pub needed_mb: u32,
    pub peak_memory_used_mb: f64,
    /// Peak memory used x [`MEMORY_HEADROOM`].
    pub memory_need_mb: f64,
    /// Largest step of CPU time / duration: vCPUs the function runs on.
    pub peak_vcpus_used: f64,
    /// vCPUs the current setting allocates.
    pub vcpus_allocated: f64,
    /// Peak vCPUs x [`CPU_HEADROOM`] x 1,769 MB.
    pub cpu_need_mb: f64,
    pub binding: Binding,
    /// Whether the setting goes down (a recommendation), else the function is well sized.
    pub lower: bool,
    /// GB-s per invocation after / before (duration unchanged): needed / current when lower.
    pub gb_seconds_ratio: f64,
    /// The arithmetic, for the recommendation's evidence.
    pub arithmetic: String,
}

fn finite_max(v: &[f64]) -> Option<f64> {
    v.iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(None, |m, x| Some(m.map_or(x, |m: f64| m.max(x))))
}

/// The memory plan, or why there is none (missing metrics: no recommendation, never a
/// silent zero).
pub fn plan(u: &MemoryUsage) -> Result<MemoryPlan, String> {
    if !(u.memory_mb.is_finite() && u.memory_mb > 0.0) {
        return Err(format!(
            "memory setting {} MB is not a positive number",
            u.memory_mb
        ));
    }
    let current_mb = u.memory_mb.round() as u32;
    let peak = finite_max(u.max_memory_used_mb)
        .filter(|p| *p > 0.0)
        .ok_or("no max_memory_used_mb (Max Memory Used per invocation) in the history")?;
    // vCPUs per step: CPU time over wall time of the same invocations.
    let ratios: Vec<f64> = u
        .cpu_total_time_ms
        .iter()
        .zip(u.duration_ms)
        .filter(|(c, d)| c.is_finite() && d.is_finite() && **d > 0.0 && **c >= 0.0)
        .map(|(c, d)| c / d)
        .collect();
    if ratios.is_empty() {
        return Err(
            "no cpu_total_time (Lambda Insights) with duration in the history: lowering memory lowers CPU, so no memory change is recommended without it"
                .into(),
        );
    }
    let peak_vcpus = ratios.iter().copied().fold(0.0, f64::max);
    let memory_need = peak * MEMORY_HEADROOM;
    let cpu_need = peak_vcpus * CPU_HEADROOM * MB_PER_VCPU;
    let need = memory_need.max(cpu_need);
    let needed_mb = (need.ceil() as u32).clamp(MIN_MEMORY_MB, MAX_MEMORY_MB);
    let binding = if need.ceil() < f64::from(MIN_MEMORY_MB) {
        Binding::Minimum
    } else if cpu_need > memory_need {
        Binding::Cpu
    } else {
        Binding::Memory
    };
    let lower = needed_mb < current_mb;
    let gb_seconds_ratio = if lower {
        f64::from(needed_mb) / f64::from(current_mb)
    } else {
        1.0
    };
    let allocated = vcpus(u.memory_mb);
    let arithmetic = format!(
        "max(memory {peak:.0} MB x {MEMORY_HEADROOM} = {memory_need:.0} MB, CPU {peak_vcpus:.3} vCPU x {CPU_HEADROOM} x {MB_PER_VCPU} MB/vCPU = {cpu_need:.0} MB) = {needed_mb} MB ({} binds){}",
        match binding {
            Binding::Memory => "memory",
            Binding::Cpu => "CPU",
            Binding::Minimum => "Lambda's 128 MB minimum",
        },
        if lower {
            format!(
                "; {current_mb} -> {needed_mb} MB at unchanged duration: GB-s x {needed_mb}/{current_mb} = {gb_seconds_ratio:.3}"
            )
        } else {
            format!("; at or above the current {current_mb} MB: well sized")
        }
    );
    Ok(MemoryPlan {
        current_mb,
        needed_mb,
        peak_memory_used_mb: peak,
        memory_need_mb: memory_need,
        peak_vcpus_used: peak_vcpus,
        vcpus_allocated: allocated,
        cpu_need_mb: cpu_need,
        binding,
        lower,
        gb_seconds_ratio,
        arithmetic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage<'a>(mem: f64, used: &'a [f64], cpu: &'a [f64], dur: &'a [f64]) -> MemoryUsage<'a> {
        MemoryUsage {
            memory_mb: mem,
            max_memory_used_mb: used,
            cpu_total_time_ms: cpu,
            duration_ms: dur,
        }
    }

    #[test]
    fn cpu_binds_when_it_needs_more_than_memory() {
        // 1024 MB, peak used 300 MB, 0.2 vCPU (40 ms CPU in 200 ms): memory 300 x 1.2 = 360 MB,
        // CPU 0.2 x 1.2 x 1769 = 424.56 MB -> 425 MB (1 MB steps). GB-s x 425/1024 = 0.415.
        let p = plan(&usage(
            1024.0,
            &[250.0, 300.0, f64::NAN],
            &[40.0, 30.0, 40.0],
            &[200.0, 200.0, 200.0],
        ))
        .unwrap();
        assert_eq!(p.needed_mb, 425);
        assert_eq!(p.binding, Binding::Cpu);
        assert!(p.lower);
        assert!((p.memory_need_mb - 360.0).abs() < 1e-9);
        assert!((p.cpu_need_mb - 424.56).abs() < 1e-9);
        assert!((p.gb_seconds_ratio - 425.0 / 1024.0).abs() < 1e-12);
        assert!(
            p.arithmetic.contains("= 425 MB (CPU binds)"),
            "{}",
            p.arithmetic
        );
    }

    #[test]
    fn memory_binds_when_cpu_is_light() {
        // 3008 MB, peak 1,900 MB, 0.7 vCPU: memory 2,280 MB, CPU 0.7 x 1.2 x 1769 = 1,485.96.
        let p = plan(&usage(3008.0, &[1900.0], &[14_000.0], &[20_000.0])).unwrap();
        assert_eq!((p.needed_mb, p.binding), (2280, Binding::Memory));
        assert!((p.gb_seconds_ratio - 2280.0 / 3008.0).abs() < 1e-12);
    }

    #[test]
    fn a_function_using_its_cpu_share_is_well_sized() {
        // 512 MB allocates 0.289 vCPU; the function runs on 0.25 (30 ms in 120 ms): it needs
        // 0.25 x 1.2 x 1769 = 530.7 -> 531 MB > 512, though it uses only 190 MB of memory.
        let p = plan(&usage(512.0, &[190.0], &[30.0], &[120.0])).unwrap();
        assert_eq!(
            (p.needed_mb, p.binding, p.lower),
            (531, Binding::Cpu, false)
        );
        assert_eq!(p.gb_seconds_ratio, 1.0);
        assert!(p.arithmetic.contains("well sized"));
    }

    #[test]
    fn never_below_lambdas_minimum() {
        let p = plan(&usage(512.0, &[40.0], &[1.0], &[100.0])).unwrap();
        assert_eq!((p.needed_mb, p.binding), (128, Binding::Minimum));
        assert!((p.gb_seconds_ratio - 0.25).abs() < 1e-12);
    }

    #[test]
    fn missing_metrics_give_no_plan_and_say_why() {
        let none = [f64::NAN, f64::NAN];
        let e = plan(&usage(1024.0, &none, &[10.0, 10.0], &[100.0, 100.0])).unwrap_err();
        assert!(e.contains("max_memory_used_mb"), "{e}");
        let e = plan(&usage(1024.0, &[300.0], &[], &[])).unwrap_err();
        assert!(e.contains("cpu_total_time"), "{e}");
        // CPU time without a duration cannot give vCPUs either.
        let e = plan(&usage(1024.0, &[300.0], &[10.0], &[f64::NAN])).unwrap_err();
        assert!(e.contains("cpu_total_time"), "{e}");
        assert!(plan(&usage(f64::NAN, &[300.0], &[10.0], &[100.0])).is_err());
    }
}
