//! Whether a tuned policy's saving is real or noise: the held-out part of the history cut into
//! blocks (4 h, or days once a week is held out), the replica-hours of the current and the
//! recommended policy compared block by block, and a seeded bootstrap over blocks for a
//! one-sided 95% lower bound of the relative saving. Background re-tuning surfaces a
//! recommendation only when that bound is above zero and the saving itself is worth a change.
//!
//! Blocks rather than steps: neighbouring steps move together (a replica added stays for
//! minutes), so resampling steps would claim far more certainty than the data holds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::engine::replay::Replay;

/// A saving below this is not worth a policy change, however certain.
pub const MIN_GAIN_PERCENT: f64 = 5.0;
/// Fewer blocks than this and the bound says nothing.
pub const MIN_BLOCKS: usize = 6;
const RESAMPLES: usize = 2000;
/// The one-sided confidence of the lower bound.
const CONFIDENCE: f64 = 0.95;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Significance {
    pub blocks: usize,
    pub block_hours: f64,
    /// (current − recommended) / current replica-hours over the held-out part, percent.
    pub saving_percent: f64,
    /// One-sided 95% bootstrap lower bound of `saving_percent`.
    pub lower_bound_percent: f64,
    /// Blocks where the recommended policy used fewer replica-hours.
    pub blocks_cheaper: usize,
    pub significant: bool,
    /// One line: the figures and the verdict.
    pub summary: String,
}

/// Compares the two replays from step `from` on (the held-out part). None when they do not
/// cover the same steps or the held-out part is too short for [`MIN_BLOCKS`] blocks.
pub fn heldout_significance(
    current: &Replay,
    recommended: &Replay,
    from: usize,
    step_seconds: i64,
) -> Option<Significance> {
    let (cur, rec) = (current.steps.get(from..)?, recommended.steps.get(from..)?);
    if cur.len() != rec.len() || step_seconds <= 0 {
        return None;
    }
    let replicas = |s: &[crate::engine::replay::ReplayStep]| -> Vec<f64> {
        s.iter().map(|s| f64::from(s.replicas)).collect()
    };
    block_significance(&replicas(cur), &replicas(rec), step_seconds)
}

/// The same on per-step replica counts (what is billed each step).
pub fn block_significance(
    current: &[f64],
    recommended: &[f64],
    step_seconds: i64,
) -> Option<Significance> {
    let hours = current.len() as f64 * step_seconds as f64 / 3600.0;
    let block_hours = if hours >= 7.0 * 24.0 { 24.0 } else { 4.0 };
    let per_block = ((block_hours * 3600.0) / step_seconds as f64)
        .round()
        .max(1.0) as usize;
    let blocks: Vec<(f64, f64)> = current
        .chunks_exact(per_block)
        .zip(recommended.chunks_exact(per_block))
        .map(|(c, r)| (c.iter().sum::<f64>(), r.iter().sum::<f64>()))
        .collect();
    if blocks.len() < MIN_BLOCKS || current.len() != recommended.len() {
        return None;
    }
    let relative = |pick: &mut dyn FnMut() -> (f64, f64)| {
        let (mut c, mut r) = (0.0, 0.0);
        for _ in 0..blocks.len() {
            let (bc, br) = pick();
            c += bc;
            r += br;
        }
        if c > 0.0 {
            100.0 * (c - r) / c
        } else {
            0.0
        }
    };
    let mut i = 0;
    let saving = relative(&mut || {
        i += 1;
        blocks[i - 1]
    });
    // Seeded: the same data gives the same verdict every run.
    let mut rng = ChaCha8Rng::seed_from_u64(0x5ca1e);
    let mut draws: Vec<f64> = (0..RESAMPLES)
        .map(|_| relative(&mut || blocks[rng.random_range(0..blocks.len())]))
        .collect();
    draws.sort_by(f64::total_cmp);
    let lower = draws[((1.0 - CONFIDENCE) * RESAMPLES as f64) as usize];
    let cheaper = blocks.iter().filter(|(c, r)| r < c).count();
    let significant = saving >= MIN_GAIN_PERCENT && lower > 0.0;
    let verdict = if significant {
        "significant".to_string()
    } else if saving < MIN_GAIN_PERCENT {
        format!("below the {MIN_GAIN_PERCENT:.0}% worth a change")
    } else {
        "not significant: the saving comes from a few blocks".to_string()
    };
    let summary = format!(
        "{saving:.1}% fewer replica-hours held out (95% lower bound {lower:.1}%), fewer in \
         {cheaper} of {} {block_hours:.0}-h blocks: {verdict}",
        blocks.len()
    );
    Some(Significance {
        blocks: blocks.len(),
        block_hours,
        saving_percent: saving,
        lower_bound_percent: lower,
        blocks_cheaper: cheaper,
        significant,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP: i64 = 300;
    /// Steps in one day at 5 minutes.
    const DAY: usize = 288;

    #[test]
    fn the_same_policy_saves_nothing() {
        let c = vec![10.0; 2 * DAY];
        let s = block_significance(&c, &c, STEP).expect("enough blocks");
        assert_eq!((s.blocks, s.block_hours), (12, 4.0));
        assert_eq!(s.saving_percent, 0.0);
        assert!(!s.significant, "{}", s.summary);
    }

    #[test]
    fn a_steady_fifth_fewer_replicas_is_significant() {
        // 10 vs 8 replicas every step for two days: 20% saved, in every block.
        let c = vec![10.0; 2 * DAY];
        let r = vec![8.0; 2 * DAY];
        let s = block_significance(&c, &r, STEP).expect("enough blocks");
        assert!((s.saving_percent - 20.0).abs() < 1e-9);
        assert!((s.lower_bound_percent - 20.0).abs() < 1e-9, "{}", s.summary);
        assert_eq!(s.blocks_cheaper, 12);
        assert!(s.significant);
    }

    #[test]
    fn a_saving_from_one_lucky_block_is_not() {
        // Twelve 4-h blocks: the recommended policy costs 5% more in eleven and saves 90% in
        // one (a burst the current policy over-served).
        let mut c = Vec::new();
        let mut r = Vec::new();
        for b in 0..12 {
            let (cb, rb) = if b == 3 { (100.0, 10.0) } else { (10.0, 10.5) };
            c.extend(std::iter::repeat_n(cb, 48));
            r.extend(std::iter::repeat_n(rb, 48));
        }
        let s = block_significance(&c, &r, STEP).expect("enough blocks");
        // (10,080 - 6,024) / 10,080 replica-steps = 40.2% point saving...
        assert!(s.saving_percent > MIN_GAIN_PERCENT, "{}", s.summary);
        // ...but a resample leaves the lucky block out with probability (11/12)^12 = 35%,
        // and is costlier then.
        assert!(s.lower_bound_percent < 0.0, "{}", s.summary);
        assert_eq!(s.blocks_cheaper, 1);
        assert!(!s.significant);
    }

    #[test]
    fn a_small_certain_saving_is_not_worth_a_change() {
        let c = vec![100.0; 2 * DAY];
        let r = vec![98.0; 2 * DAY];
        let s = block_significance(&c, &r, STEP).expect("enough blocks");
        assert!(s.lower_bound_percent > 0.0);
        assert!(!s.significant, "2% < {MIN_GAIN_PERCENT}%: {}", s.summary);
    }

    #[test]
    fn a_week_held_out_is_cut_in_days_and_too_little_is_refused() {
        let c = vec![10.0; 8 * DAY];
        let s = block_significance(&c, &c, STEP).expect("enough blocks");
        assert_eq!((s.blocks, s.block_hours), (8, 24.0));
        // Five 4-h blocks: too few to say anything.
        let short = vec![10.0; 5 * 48];
        assert!(block_significance(&short, &short, STEP).is_none());
        assert!(block_significance(&c, &c[1..], STEP).is_none());
    }
}
