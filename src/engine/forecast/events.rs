//! Known events (a calendar: Black Friday, sales, launches). Their history is kept out of
//! model fitting and out of the anomaly mask — the models learn the ordinary week, and the
//! event is not mistaken for an incident — and in the forecast they come back as an uplift on
//! their dates: the configured one, or the one learned from an earlier occurrence in the
//! history (the same event last year: same name without its year, or named by `like`).

use serde::Serialize;

use super::{ser_time, ForecastPoint};

/// Relative standard error of a configured uplift (a planner's estimate).
const CONFIGURED_UPLIFT_SD: f64 = 0.10;
/// Least relative standard error of an uplift learned from one earlier occurrence: the level
/// it multiplies has moved since, and the event itself was one noisy draw.
const MIN_LEARNED_UPLIFT_SD: f64 = 0.05;
/// Normal quantiles of the 80% and 95% two-sided bands.
const Z80: f64 = 1.2816;
const Z95: f64 = 1.96;

/// One calendar entry.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KnownEvent {
    pub name: String,
    /// Unix seconds, start inclusive, end exclusive.
    pub start: i64,
    pub end: i64,
    /// Expected demand over an ordinary day at the same time (e.g. 4.0 = four times).
    #[serde(default)]
    pub uplift: Option<f64>,
    /// Learn the uplift from this event instead of the same name's earlier years.
    #[serde(default)]
    pub like: Option<String>,
}

impl KnownEvent {
    /// The name without a trailing year ("black_friday_2025" -> "black_friday"): occurrences
    /// of one event in different years share it.
    pub fn family(&self) -> &str {
        family(&self.name)
    }
}

fn family(name: &str) -> &str {
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if name.len() - trimmed.len() == 4 {
        trimmed.trim_end_matches(['_', '-', ' '])
    } else {
        name
    }
}

/// What an event did in the history: the ratio observed / expected at each step from its
/// start (the expectation is the decomposition's, fitted without the event).
#[derive(Debug, Clone, PartialEq)]
pub struct Learned {
    pub name: String,
    pub profile: Vec<f64>,
}

/// How one event in the forecast horizon was applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedEvent {
    pub name: String,
    #[serde(serialize_with = "ser_time")]
    pub start: i64,
    #[serde(serialize_with = "ser_time")]
    pub end: i64,
    /// Mean uplift over the event's steps in the horizon.
    pub uplift: f64,
    /// "configured", or "learned from <event>".
    pub source: String,
}

/// True for the steps (`start_unix + i * step`) inside any event.
pub fn mask(events: &[KnownEvent], start_unix: i64, step: i64, n: usize) -> Vec<bool> {
    let mut m = vec![false; n];
    for e in events {
        for (i, slot) in m.iter_mut().enumerate() {
            let t = start_unix + i as i64 * step;
            if t >= e.start && t < e.end {
                *slot = true;
            }
        }
    }
    m
}

/// The uplift profile of every event that lies wholly or partly in the history, from the
/// observed values and the expectation they were filled with.
pub fn learn(
    events: &[KnownEvent],
    start_unix: i64,
    step: i64,
    observed: &[f64],
    expected: &[f64],
) -> Vec<Learned> {
    let mut out = Vec::new();
    for e in events {
        let mut profile = Vec::new();
        let mut seen = 0usize;
        let mut t = e.start;
        while t < e.end {
            let i = (t - start_unix).div_euclid(step);
            let ratio = usize::try_from(i)
                .ok()
                .and_then(|i| Some((*observed.get(i)?, *expected.get(i)?)))
                .filter(|(o, x)| o.is_finite() && x.is_finite() && *x > 0.0)
                .map(|(o, x)| o / x);
            seen += usize::from(ratio.is_some());
            profile.push(ratio.unwrap_or(f64::NAN));
            t += step;
        }
        // Half the event seen at least, or the profile is mostly guesswork.
        if seen > 0 && 2 * seen >= profile.len() {
            out.push(Learned {
                name: e.name.clone(),
                profile: fill(&profile),
            });
        }
    }
    out
}

/// Missing ratios take the mean of the seen ones.
fn fill(profile: &[f64]) -> Vec<f64> {
    let seen: Vec<f64> = profile.iter().copied().filter(|v| v.is_finite()).collect();
    let mean = seen.iter().sum::<f64>() / seen.len().max(1) as f64;
    profile
        .iter()
        .map(|v| if v.is_finite() { *v } else { mean })
        .collect()
}

/// Multiplies the forecast (mean and bands) by each event's uplift on its steps. Events
/// without a configured uplift reuse what an earlier occurrence did; those with neither are
/// left out and reported in `notes`.
pub fn apply(
    events: &[KnownEvent],
    learned: &[Learned],
    points: &mut [ForecastPoint],
    floor_at_zero: bool,
    notes: &mut Vec<String>,
) -> Vec<AppliedEvent> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Vec::new();
    };
    let step = if points.len() > 1 {
        (last.timestamp - first.timestamp) / (points.len() as i64 - 1)
    } else {
        1
    };
    let (from, to) = (first.timestamp, last.timestamp + step);
    let mut applied = Vec::new();
    for e in events.iter().filter(|e| e.start < to && e.end > from) {
        let (profile, source, sd): (Vec<f64>, String, f64) = match (e.uplift, source_of(e, learned))
        {
            (Some(u), _) if u > 0.0 && u.is_finite() => {
                (vec![u], "configured".into(), CONFIGURED_UPLIFT_SD)
            }
            (_, Some(l)) => (
                l.profile.clone(),
                format!("learned from {}", l.name),
                relative_noise(&l.profile).max(MIN_LEARNED_UPLIFT_SD),
            ),
            _ => {
                notes.push(format!(
                    "event {} is in the horizon but has no uplift: none configured and no earlier occurrence in the history",
                    e.name
                ));
                continue;
            }
        };
        let len = ((e.end - e.start) / step.max(1)).max(1) as usize;
        let (mut sum, mut count) = (0.0, 0usize);
        for p in points
            .iter_mut()
            .filter(|p| p.timestamp >= e.start && p.timestamp < e.end)
        {
            let k = ((p.timestamp - e.start) / step.max(1)) as usize;
            // Same position in the event, stretched when the two differ in length.
            let at = if profile.len() == 1 {
                0
            } else {
                (k * profile.len() / len).min(profile.len() - 1)
            };
            let u = profile[at];
            // The band scales with the uplift and widens by the uplift's own uncertainty
            // (independent errors add in quadrature).
            let m = p.mean * u;
            let widen = |off: f64, z: f64| (off * off * u * u + (z * sd * m).powi(2)).sqrt();
            p.lo80 = m - widen(p.mean - p.lo80, Z80);
            p.hi80 = m + widen(p.hi80 - p.mean, Z80);
            p.lo95 = m - widen(p.mean - p.lo95, Z95);
            p.hi95 = m + widen(p.hi95 - p.mean, Z95);
            p.mean = m;
            if floor_at_zero {
                p.lo80 = p.lo80.max(0.0);
                p.lo95 = p.lo95.max(0.0);
            }
            sum += u;
            count += 1;
        }
        if count > 0 {
            let uplift = sum / count as f64;
            notes.push(format!(
                "event {}: forecast x{uplift:.2} on its dates ({source})",
                e.name
            ));
            applied.push(AppliedEvent {
                name: e.name.clone(),
                start: e.start,
                end: e.end,
                uplift,
                source,
            });
        }
    }
    applied
}

/// Relative step-to-step noise of a profile: the median absolute relative difference between
/// neighbours, as a standard deviation of one value (/ sqrt 2, x 1.4826 for the MAD).
fn relative_noise(profile: &[f64]) -> f64 {
    let mut d: Vec<f64> = profile
        .windows(2)
        .filter(|w| w[0] > 0.0 && w[1] > 0.0)
        .map(|w| (w[1] / w[0]).ln().abs())
        .collect();
    if d.is_empty() {
        return 0.0;
    }
    d.sort_by(f64::total_cmp);
    d[d.len() / 2] * 1.4826 / std::f64::consts::SQRT_2
}

/// The occurrence to copy: the one `like` names, else the latest of the same family.
fn source_of<'a>(e: &KnownEvent, learned: &'a [Learned]) -> Option<&'a Learned> {
    match &e.like {
        Some(name) => learned.iter().find(|l| &l.name == name),
        None => learned
            .iter()
            .rfind(|l| l.name != e.name && family(&l.name) == e.family()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_drop_a_trailing_year() {
        assert_eq!(family("black_friday_2025"), "black_friday");
        assert_eq!(family("Prime Day 2026"), "Prime Day");
        assert_eq!(family("launch-v2"), "launch-v2");
        assert_eq!(family("sale_12"), "sale_12");
    }

    #[test]
    fn learns_and_applies_a_profile() {
        let ev = |name: &str, start: i64| KnownEvent {
            name: name.into(),
            start,
            end: start + 3,
            uplift: None,
            like: None,
        };
        let events = [ev("sale_2025", 2), ev("sale_2026", 12)];
        let observed = [1.0, 1.0, 2.0, 4.0, 3.0, 1.0];
        let expected = [1.0; 6];
        let learned = learn(&events, 0, 1, &observed, &expected);
        assert_eq!(learned.len(), 1, "only the past one");
        assert_eq!(learned[0].profile, vec![2.0, 4.0, 3.0]);
        let mut points: Vec<ForecastPoint> = (10..16)
            .map(|t| ForecastPoint {
                timestamp: t,
                mean: 10.0,
                lo80: 9.0,
                hi80: 11.0,
                lo95: 8.0,
                hi95: 12.0,
            })
            .collect();
        let mut notes = Vec::new();
        let applied = apply(&events, &learned, &mut points, true, &mut notes);
        assert_eq!(applied.len(), 1);
        assert_eq!(applied[0].source, "learned from sale_2025");
        let means: Vec<f64> = points.iter().map(|p| p.mean).collect();
        assert_eq!(means, vec![10.0, 10.0, 20.0, 40.0, 30.0, 10.0]);
        // 95% offset 2 x 4 = 8, and the uplift's own uncertainty: relative noise of
        // [2, 4, 3] is the upper median of (ln 2, ln 4/3) x 1.4826 / sqrt 2.
        let sd = 2.0f64.ln() * 1.4826 / std::f64::consts::SQRT_2;
        let want = 40.0 + (64.0 + (1.96 * sd * 40.0f64).powi(2)).sqrt();
        assert!(
            (points[3].hi95 - want).abs() < 1e-9,
            "{} vs {want}",
            points[3].hi95
        );
        assert!(points[3].lo95 >= 0.0);
    }
}
