//! Small pieces shared by tabs: number formatting where missing is "—", text sparklines, ages.

use chrono::{DateTime, Utc};

/// Shown wherever a value is missing. Never 0.
pub const MISSING: &str = "—";

/// `value` with `decimals`, or "—".
pub fn fmt_opt(value: Option<f64>, decimals: usize) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => MISSING.to_string(),
    }
}

/// Compact count: 950, 12.3k, 4.1M; "—" when missing.
pub fn fmt_compact(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => {
            let a = v.abs();
            if a >= 1e6 {
                format!("{:.1}M", v / 1e6)
            } else if a >= 1e4 {
                format!("{:.1}k", v / 1e3)
            } else if a >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        }
        _ => MISSING.to_string(),
    }
}

/// "5s", "3m", "2h", "4d" ago; "—" without a time.
pub fn fmt_age(then: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(then) = then else {
        return MISSING.to_string();
    };
    let s = (now - then).num_seconds().max(0);
    if s < 60 {
        format!("{s}s ago")
    } else if s < 3600 {
        format!("{}m ago", s / 60)
    } else if s < 86_400 {
        format!("{}h ago", s / 3600)
    } else {
        format!("{}d ago", s / 86_400)
    }
}

/// Unix seconds as "YYYY-MM-DD HH:MM:SS" UTC.
pub fn fmt_time(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| MISSING.to_string())
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A text sparkline of `width` cells: `values` (oldest first) are averaged into buckets and
/// scaled between their own min and max. Buckets with no data are blank, not a low bar.
pub fn sparkline(values: &[Option<f64>], width: usize) -> String {
    if width == 0 || values.is_empty() {
        return String::new();
    }
    let buckets = width.min(values.len());
    let means: Vec<Option<f64>> = (0..buckets)
        .map(|b| {
            let start = b * values.len() / buckets;
            let end = ((b + 1) * values.len() / buckets).max(start + 1);
            let (sum, n) = values[start..end]
                .iter()
                .flatten()
                .fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
            (n > 0).then(|| sum / f64::from(n))
        })
        .collect();
    let (lo, hi) = means
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let span = hi - lo;
    let mut out: String = means
        .iter()
        .map(|m| match m {
            None => ' ',
            Some(_) if span <= f64::EPSILON => BARS[3],
            Some(v) => BARS[(((v - lo) / span) * 7.0).round().clamp(0.0, 7.0) as usize],
        })
        .collect();
    // Right-align: the newest value sits at the right edge.
    let pad = width - buckets;
    if pad > 0 {
        out.insert_str(0, &" ".repeat(pad));
    }
    out
}

/// The one-line head of a per-group analysis tab (Workload, Forecast): the group, what was
/// computed at which data time, whether a newer result is being computed, and how often.
pub struct JobHeader<'a> {
    pub group: &'a crate::model::GroupId,
    /// e.g. "forecast", "analysed", with the data time it ran on.
    pub done: Option<(&'a str, i64)>,
    /// e.g. "fitting…", shown while a job runs.
    pub busy: Option<&'a str>,
    pub cadence: String,
}

impl JobHeader<'_> {
    pub fn line(self, theme: &crate::tui::theme::Theme) -> ratatui::text::Line<'static> {
        use ratatui::text::Span;
        let mut spans = vec![
            Span::styled(self.group.name.clone(), theme.title()),
            Span::styled(format!("  {}", self.group), theme.dim()),
            Span::raw("  request rate"),
        ];
        if let Some((what, at)) = self.done {
            spans.push(Span::raw(format!(
                " · {what} at data time {} UTC",
                fmt_time(at)
            )));
        }
        if let Some(busy) = self.busy {
            spans.push(Span::styled(format!("  {busy}"), theme.warn()));
        }
        spans.push(Span::styled(
            format!("   j/k group · {}", self.cadence),
            theme.dim(),
        ));
        ratatui::text::Line::from(spans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_is_a_dash_not_zero() {
        assert_eq!(fmt_opt(None, 1), "—");
        assert_eq!(fmt_opt(Some(f64::NAN), 1), "—");
        assert_eq!(fmt_opt(Some(0.0), 1), "0.0");
        assert_eq!(fmt_compact(Some(12_345.0)), "12.3k");
    }

    #[test]
    fn sparkline_scales_and_leaves_gaps_blank() {
        let v = [Some(0.0), None, Some(7.0)];
        assert_eq!(sparkline(&v, 3), "▁ █");
        assert_eq!(sparkline(&v, 5), "  ▁ █");
        let flat = [Some(2.0), Some(2.0)];
        assert_eq!(sparkline(&flat, 2), "▄▄");
    }

    #[test]
    fn ages() {
        let now = DateTime::<Utc>::from_timestamp(1000, 0).unwrap();
        let then = DateTime::<Utc>::from_timestamp(995, 0);
        assert_eq!(fmt_age(then, now), "5s ago");
        assert_eq!(fmt_age(None, now), "—");
    }
}
