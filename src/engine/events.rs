//! Scaling-event figures with one definition each (CONTRACTS.md): thrash events.

use crate::model::ScalingEvent;

/// Default thrash window: a reversal within 10 minutes.
pub const DEFAULT_THRASH_WINDOW_SECONDS: i64 = 600;

/// Marks thrash: a scale in one direction followed by a scale in the other direction within
/// `window_seconds`, while demand moved by no more than `tolerance` (relative) between the two.
/// Both events of such a pair are marked. Events must be sorted by time and belong to one group;
/// events without demand are judged on direction and time alone. Returns the number of pairs.
pub fn mark_thrash(events: &mut [ScalingEvent], window_seconds: i64, tolerance: f64) -> usize {
    let mut pairs = 0;
    for i in 1..events.len() {
        if thrash_pair(&events[i - 1], &events[i], window_seconds, tolerance) {
            events[i - 1].thrash = true;
            events[i].thrash = true;
            pairs += 1;
        }
    }
    pairs
}

/// Whether two consecutive events form a thrash pair (see [`mark_thrash`]).
pub fn thrash_pair(
    prev: &ScalingEvent,
    cur: &ScalingEvent,
    window_seconds: i64,
    tolerance: f64,
) -> bool {
    let (Some(d1), Some(d2)) = (prev.direction(), cur.direction()) else {
        return false;
    };
    if d1 == d2 || (cur.at - prev.at).num_seconds() > window_seconds {
        return false;
    }
    match (prev.demand, cur.demand) {
        (Some(a), Some(b)) if a.abs() > f64::EPSILON => ((b - a) / a).abs() <= tolerance,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupId, Platform};
    use chrono::{DateTime, Duration, Utc};

    fn ev(min: i64, from: u32, to: u32, demand: f64) -> ScalingEvent {
        ScalingEvent {
            at: DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(min),
            group: GroupId::new(Platform::Sim, "t", "g"),
            from_replicas: from,
            to_replicas: to,
            reason: String::new(),
            demand: Some(demand),
            thrash: false,
            origin: Default::default(),
        }
    }

    #[test]
    fn reversal_inside_window_with_flat_demand_is_thrash() {
        let mut e = vec![ev(0, 4, 6, 100.0), ev(7, 6, 4, 104.0), ev(30, 4, 5, 150.0)];
        assert_eq!(mark_thrash(&mut e, 600, 0.1), 1);
        assert!(e[0].thrash && e[1].thrash && !e[2].thrash);
    }

    #[test]
    fn reversal_after_window_or_with_real_demand_change_is_not() {
        let mut late = vec![ev(0, 4, 6, 100.0), ev(11, 6, 4, 100.0)];
        assert_eq!(mark_thrash(&mut late, 600, 0.1), 0);
        let mut moved = vec![ev(0, 4, 6, 100.0), ev(5, 6, 4, 60.0)];
        assert_eq!(mark_thrash(&mut moved, 600, 0.1), 0);
        let mut same_dir = vec![ev(0, 4, 6, 100.0), ev(2, 6, 8, 100.0)];
        assert_eq!(mark_thrash(&mut same_dir, 600, 0.1), 0);
    }
}
