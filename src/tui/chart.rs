//! One time-series chart for every tab: lines with gaps drawn as gaps, optional scatter marks,
//! shaded bands, a y range from the data (floored where asked), braille resolution.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

use crate::tui::theme::Theme;
use crate::tui::widgets::fmt_compact;

/// Most points per chart line; braille gives two dots per cell, so more would not show.
pub const MAX_POINTS: usize = 320;

/// One line (or set of marks) of a chart: values oldest first, `None` = gap.
pub struct ChartSeries {
    pub style: Style,
    pub values: Vec<Option<f64>>,
    /// Marks at single points (anomalies) instead of a line.
    pub scatter: bool,
    /// A shaded band from `values` (its lower edge) up to these values, instead of a line.
    pub band_to: Option<Vec<Option<f64>>>,
}

impl ChartSeries {
    pub fn line(style: Style, values: Vec<Option<f64>>) -> Self {
        Self {
            style,
            values,
            scatter: false,
            band_to: None,
        }
    }

    pub fn marks(style: Style, values: Vec<Option<f64>>) -> Self {
        Self {
            style,
            values,
            scatter: true,
            band_to: None,
        }
    }

    /// The area between `lower` and `upper` filled (a prediction band).
    pub fn band(style: Style, lower: Vec<Option<f64>>, upper: Vec<Option<f64>>) -> Self {
        Self {
            style,
            values: lower,
            scatter: false,
            band_to: Some(upper),
        }
    }
}

/// Braille dots filling the band between `lower` and `upper`: one column of dots per braille
/// column of the plot (edges interpolated between the series' points), dots one braille row
/// apart, so the band reads as a solid shade under the lines drawn after it.
fn band_fill(lower: &[Option<f64>], upper: &[Option<f64>], plot: Rect, y: (f64, f64)) -> Points {
    let n = lower.len().min(upper.len());
    if n == 0 {
        return Vec::new();
    }
    // Braille: 2 dots per cell across, 4 down.
    let cols = (usize::from(plot.width) * 2).max(1);
    let dy = (y.1 - y.0) / (f64::from(plot.height.max(1)) * 4.0);
    let span = n.saturating_sub(1).max(1) as f64;
    let edge = |v: &[Option<f64>], x: f64| -> Option<f64> {
        let i = x.floor() as usize;
        let j = (i + 1).min(n - 1);
        let (a, b) = (v[i.min(n - 1)]?, v[j]?);
        Some(a + (b - a) * (x - i as f64))
    };
    let mut out = Vec::new();
    for c in 0..cols {
        let x = span * c as f64 / (cols - 1).max(1) as f64;
        let (Some(lo), Some(hi)) = (edge(lower, x), edge(upper, x)) else {
            continue;
        };
        let mut v = lo.max(y.0);
        while v <= hi.min(y.1) && dy > 0.0 {
            out.push((x, v));
            v += dy;
        }
    }
    out
}

/// Averages `values` into `buckets` buckets; a bucket with no data stays missing.
pub fn bucket_means(values: &[Option<f64>], buckets: usize) -> Vec<Option<f64>> {
    if values.len() <= buckets {
        return values.to_vec();
    }
    (0..buckets)
        .map(|b| {
            let start = b * values.len() / buckets;
            let end = ((b + 1) * values.len() / buckets).max(start + 1);
            let (sum, n) = values[start..end]
                .iter()
                .flatten()
                .fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
            (n > 0).then(|| sum / f64::from(n))
        })
        .collect()
}

/// As [`bucket_means`] but keeps the largest value of each bucket (marks must not be averaged
/// away).
pub fn bucket_max(values: &[Option<f64>], buckets: usize) -> Vec<Option<f64>> {
    if values.len() <= buckets {
        return values.to_vec();
    }
    (0..buckets)
        .map(|b| {
            let start = b * values.len() / buckets;
            let end = ((b + 1) * values.len() / buckets).max(start + 1);
            values[start..end]
                .iter()
                .flatten()
                .copied()
                .reduce(f64::max)
        })
        .collect()
}

/// NaN becomes `None`.
pub fn present(values: &[f64]) -> Vec<Option<f64>> {
    values.iter().map(|v| v.is_finite().then_some(*v)).collect()
}

type Points = Vec<(f64, f64)>;

/// Splits a series into contiguous runs of points so a gap is drawn as a gap.
fn segments(values: &[Option<f64>]) -> Vec<Points> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(y) => run.push((i as f64, *y)),
            None if !run.is_empty() => out.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

#[allow(clippy::too_many_arguments)] // each is one visible part of the chart
pub fn render(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    title: Line<'static>,
    series: Vec<ChartSeries>,
    x_labels: Vec<Span<'static>>,
    y_floor: Option<f64>,
) {
    let block = Block::default().borders(Borders::ALL).title(title);
    let points = series.first().map_or(0, |l| l.values.len());
    let (lo, hi) = series
        .iter()
        .flat_map(|l| l.values.iter().chain(l.band_to.iter().flatten()).flatten())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    if !lo.is_finite() {
        frame.render_widget(
            Paragraph::new("no data in this window")
                .style(theme.dim())
                .centered()
                .block(block),
            area,
        );
        return;
    }
    let lo = y_floor.map_or(lo, |f| f.min(lo));
    let hi = if (hi - lo).abs() < f64::EPSILON {
        lo + 1.0
    } else if hi > 0.0 {
        hi * 1.1
    } else {
        hi + 0.1 * (hi - lo)
    };
    // Datasets borrow their points, so all runs live here for the whole render.
    // The plot inside the border and the y labels' column (an estimate: the widest label).
    let label_width = [lo, (lo + hi) / 2.0, hi]
        .iter()
        .map(|v| fmt_compact(Some(*v)).chars().count())
        .max()
        .unwrap_or(0) as u16;
    let plot = Rect {
        width: area.width.saturating_sub(3 + label_width),
        height: area.height.saturating_sub(3),
        ..area
    };
    let runs: Vec<Vec<Points>> = series
        .iter()
        .map(|l| {
            if let Some(upper) = &l.band_to {
                vec![band_fill(&l.values, upper, plot, (lo, hi))]
            } else if l.scatter {
                vec![segments(&l.values).concat()]
            } else {
                segments(&l.values)
            }
        })
        .collect();
    let mut datasets = Vec::new();
    for (line, segs) in series.iter().zip(&runs) {
        for seg in segs {
            // No legend (it would cover the newest data); titles name the lines in colour.
            let (marker, graph) = if line.band_to.is_some() {
                (Marker::Braille, GraphType::Scatter)
            } else if line.scatter {
                (Marker::Dot, GraphType::Scatter)
            } else {
                (Marker::Braille, GraphType::Line)
            };
            datasets.push(
                Dataset::default()
                    .marker(marker)
                    .graph_type(graph)
                    .style(line.style)
                    .data(seg),
            );
        }
    }
    let y_labels = vec![
        Span::raw(fmt_compact(Some(lo))),
        Span::raw(fmt_compact(Some((lo + hi) / 2.0))),
        Span::raw(fmt_compact(Some(hi))),
    ];
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(
            Axis::default()
                .bounds([0.0, points.saturating_sub(1).max(1) as f64])
                .labels(x_labels),
        )
        .y_axis(Axis::default().bounds([lo, hi]).labels(y_labels))
        .legend_position(None);
    frame.render_widget(chart, area);
}
