//! Reservations a recommendation leaves unused until they end.
//!
//! A reservation is paid whether or not anything runs on it. A change that moves a group off
//! the reserved type, schedules it below the reserved count, or puts reserved hours on spot
//! leaves some reserved instance-hours unused: until the reservation ends, each of them was
//! displacing an on-demand hour, so the change saves that much less. After the end the change
//! saves its full amount. Over the 12 months the ROI contract looks at, the change is either
//! applied now (saving less while the reservation runs) or when the reservation ends (saving
//! nothing until then), whichever is worth more.

use serde::Serialize;

use super::HOURS_PER_MONTH;

/// Hours in the 12-month horizon savings are averaged over (CONTRACTS: ROI over 12 months).
pub const HORIZON_HOURS: f64 = 12.0 * HOURS_PER_MONTH;

/// Mean reserved instances used an hour by `usage` against `reserved` instances available in
/// each hour (missing hours use nothing).
pub fn covered(usage: &[f64], reserved: &[f64]) -> f64 {
    if usage.is_empty() {
        return 0.0;
    }
    let sum: f64 = usage
        .iter()
        .zip(reserved.iter().chain(std::iter::repeat(&0.0)))
        .filter(|(u, _)| u.is_finite())
        .map(|(u, r)| u.min(*r).max(0.0))
        .sum();
    sum / usage.len() as f64
}

/// One change's effect on an existing reservation, with its arithmetic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stranded {
    /// The change: `schedule`, `instance_type` or `spot`.
    pub change: String,
    pub reservation: String,
    /// End of the reservation (RFC 3339), when known.
    pub ends: Option<String>,
    /// Hours from the end of the history to the end of the reservation (the horizon when the
    /// end is unknown), capped at the 12-month horizon.
    pub hours_left: f64,
    /// Reserved instances the change leaves unused, mean an hour.
    pub unused_per_hour: f64,
    /// On-demand $/h each unused reserved hour was displacing.
    pub od_usd_per_hour: f64,
    /// unused x on-demand x 730.
    pub stranded_usd_month: f64,
    /// The change's saving without the reservation (steady state).
    pub saving_usd_month_before: f64,
    /// What the change saves a month while the reservation runs, before the unused hours are
    /// taken off: the steady-state figure, unless something else runs meanwhile (a spot mix
    /// on the current type while a type move waits for the end).
    pub saving_usd_month_during: f64,
    /// Apply the change when the reservation ends (applying it now loses money until then).
    pub defer: bool,
    /// The change's saving averaged over the 12-month horizon.
    pub saving_usd_month_after: f64,
    pub arithmetic: String,
}

/// The saving of a change worth `saving_month` (steady state) that leaves `unused_per_hour`
/// reserved instances unused at `od` $/h each for `hours_left` hours, averaged over the
/// 12-month horizon; and whether to wait for the end.
pub fn adjust(saving_month: f64, unused_per_hour: f64, od: f64, hours_left: f64) -> (f64, bool) {
    adjust_split(saving_month, saving_month, unused_per_hour, od, hours_left)
}

/// [`adjust`] for a change that saves `saving_during` a month while the reservation runs and
/// `saving_month` after it ends.
pub fn adjust_split(
    saving_month: f64,
    saving_during: f64,
    unused_per_hour: f64,
    od: f64,
    hours_left: f64,
) -> (f64, bool) {
    let frac = (hours_left / HORIZON_HOURS).clamp(0.0, 1.0);
    let stranded = unused_per_hour.max(0.0) * od * HOURS_PER_MONTH;
    let now = saving_during - stranded;
    let during = now.max(0.0);
    (saving_month * (1.0 - frac) + during * frac, now < 0.0)
}

/// The [`Stranded`] record for one change; None when it leaves nothing unused.
pub fn record(
    change: &str,
    reservation: String,
    ends: Option<String>,
    hours_left: Option<f64>,
    unused_per_hour: f64,
    od: f64,
    saving_month: f64,
) -> Option<Stranded> {
    record_split(
        change,
        reservation,
        ends,
        hours_left,
        unused_per_hour,
        od,
        saving_month,
        None,
    )
}

/// [`record`] for a change that saves something else while the reservation runs: `during` is
/// that monthly saving and what runs meanwhile (for the arithmetic). A record is made even
/// when nothing is left unused, so the split stays visible.
#[allow(clippy::too_many_arguments)]
pub fn record_split(
    change: &str,
    reservation: String,
    ends: Option<String>,
    hours_left: Option<f64>,
    unused_per_hour: f64,
    od: f64,
    saving_month: f64,
    during: Option<(f64, &str)>,
) -> Option<Stranded> {
    if (unused_per_hour <= 1e-9 && during.is_none()) || saving_month <= 0.0 {
        return None;
    }
    let unused_per_hour = unused_per_hour.max(0.0);
    let h = hours_left
        .unwrap_or(HORIZON_HOURS)
        .clamp(0.0, HORIZON_HOURS);
    let saving_during = during.map_or(saving_month, |d| d.0);
    let (after, defer) = adjust_split(saving_month, saving_during, unused_per_hour, od, h);
    let stranded = unused_per_hour * od * HOURS_PER_MONTH;
    let end = match (&ends, hours_left) {
        (Some(e), Some(_)) => format!("ends {e}, {h:.0} h after the history"),
        _ => "end date unknown: taken to outlast the 12 months".to_string(),
    };
    let meanwhile = match during {
        Some((d, what)) => format!("while it runs the {change} saves ${d:.1}/month ({what}); "),
        None => String::new(),
    };
    let verdict = if defer {
        format!("${saving_during:.1} - ${stranded:.1} < 0: apply it when the reservation ends")
    } else {
        format!(
            "${saving_during:.1} - ${stranded:.1} = ${:.1}/month while it runs",
            saving_during - stranded
        )
    };
    let arithmetic = format!(
        "{reservation} ({end}): {meanwhile}the {change} leaves {unused_per_hour:.2} reserved instances an hour unused, each displacing ${od:.4}/h on demand = ${stranded:.1}/month; {verdict}; over 12 months (first {h:.0} of {HORIZON_HOURS:.0} h under the reservation): ${after:.0}/month instead of ${saving_month:.0}"
    );
    Some(Stranded {
        change: change.to_string(),
        reservation,
        ends,
        hours_left: h,
        unused_per_hour,
        od_usd_per_hour: od,
        stranded_usd_month: stranded,
        saving_usd_month_before: saving_month,
        saving_usd_month_during: saving_during,
        defer,
        saving_usd_month_after: after,
        arithmetic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_move_off_reserved_instances_waits_for_their_end() {
        // 20 m5.xlarge RIs ($0.192/h on demand) with 2,160 h (90 days) left; the group runs 20+
        // and a type move saves $300/month. Moving now leaves all 20 unused: 20 x 0.192 x 730
        // = $2,803.20/month stranded, more than the move saves, so wait: nothing for 2,160 h,
        // then $300. Averaged over 8,760 h: 300 x (1 - 2160/8760) = $226.03.
        let r = record(
            "instance_type",
            "reserved_instance 20 x m5.xlarge".into(),
            Some("2026-03-01T00:00:00Z".into()),
            Some(2160.0),
            covered(&[25.0; 24], &[20.0; 24]) - covered(&[0.0; 24], &[20.0; 24]),
            0.192,
            300.0,
        )
        .expect("strands");
        assert!((r.stranded_usd_month - 2803.2).abs() < 1e-9);
        assert!(r.defer);
        assert!((r.saving_usd_month_after - 300.0 * (1.0 - 2160.0 / 8760.0)).abs() < 1e-9);
        assert!((r.saving_usd_month_after - 226.03).abs() < 0.01);
    }

    #[test]
    fn scheduling_reserved_instances_down_saves_nothing_while_they_run() {
        // 20 RIs; the fleet runs 20 all day and a schedule takes it to 16 for 12 h a day:
        // 4 x 12/24 = 2 reserved instances unused an hour, $280.32/month stranded, exactly
        // the schedule's own saving (4 x 12 h x 0.192 x 30.42 days = $280.32). With half the
        // horizon (4,380 h) left: 280.32 x 0.5 + 0 x 0.5 = $140.16.
        let day: Vec<f64> = (0..24).map(|h| if h < 12 { 16.0 } else { 20.0 }).collect();
        let unused = covered(&[20.0; 24], &[20.0; 24]) - covered(&day, &[20.0; 24]);
        assert!((unused - 2.0).abs() < 1e-12);
        let saving = 2.0 * 0.192 * 730.0;
        let r = record(
            "schedule",
            "reserved_instance 20 x m5.xlarge".into(),
            Some("2027-01-01T00:00:00Z".into()),
            Some(4380.0),
            unused,
            0.192,
            saving,
        )
        .expect("strands");
        assert!(!r.defer, "saving - stranded = 0 is not a loss");
        assert!((r.saving_usd_month_after - 140.16).abs() < 1e-9);
        // Above the reserved count nothing is stranded: a fleet of 30 scheduled to 24 keeps
        // all 20 reservations busy.
        assert_eq!(
            covered(&[30.0; 24], &[20.0; 24]),
            covered(&[24.0; 24], &[20.0; 24])
        );
        // An ended reservation strands nothing: the full saving stands.
        let (after, defer) = adjust(saving, unused, 0.192, 0.0);
        assert!((after - saving).abs() < 1e-9 && !defer);
        // No end date: the whole horizon is under the reservation.
        let r = record("schedule", "ri".into(), None, None, unused, 0.192, saving).unwrap();
        assert_eq!(r.hours_left, HORIZON_HOURS);
        assert!(r.saving_usd_month_after.abs() < 1e-9);
    }
}
