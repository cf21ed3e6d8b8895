//! Small inline SVG charts (lines, shaded bands, bars) for the HTML report: no scripts, no
//! external files, printable. Each series is a `<g class="series" data-series="NAME">` so
//! tests and readers can find it.

use std::fmt::Write;

use super::doc::{Chart, SeriesStyle};

const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn nice_label(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The chart as an `<svg>` element; None when it has no finite point to draw.
pub fn render(chart: &Chart) -> Option<String> {
    let finite = |v: f64| v.is_finite();
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for s in &chart.series {
        for (i, &(x, y)) in s.points.iter().enumerate() {
            if finite(x) && finite(y) {
                xs.push(x);
                ys.push(y);
                if let Some(&h) = s.hi.get(i).filter(|h| h.is_finite()) {
                    ys.push(h);
                }
            }
        }
    }
    if xs.is_empty() {
        return None;
    }
    let bars = chart.series.iter().any(|s| s.style == SeriesStyle::Bars);
    let (mut x0, mut x1) = xs
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    if bars {
        x0 -= 0.5;
        x1 += 0.5;
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let y0 = ys.iter().copied().fold(f64::MAX, f64::min).min(0.0);
    let mut y1 = ys.iter().copied().fold(f64::MIN, f64::max);
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    y1 *= 1.05;
    let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let py = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * (H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" data-chart=\"{}\" aria-label=\"{}\">",
        escape(&chart.id),
        escape(&chart.title)
    );
    // Axes and grid.
    let _ = write!(
        s,
        "<g class=\"axes\" stroke=\"#999\" stroke-width=\"1\"><line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\"/><line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{b}\"/></g>",
        b = H - BOTTOM,
        r = W - RIGHT
    );
    s.push_str("<g class=\"ticks\" font-size=\"10\" fill=\"#333\" font-family=\"sans-serif\">");
    for i in 0..=4 {
        let v = y0 + (y1 - y0) * f64::from(i) / 4.0;
        let y = py(v);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{r}\" y2=\"{y:.1}\" stroke=\"#eee\"/><text x=\"{t}\" y=\"{ty:.1}\" text-anchor=\"end\">{}</text>",
            nice_label(v),
            r = W - RIGHT,
            t = LEFT - 4.0,
            ty = y + 3.0
        );
    }
    if chart.x_is_time {
        for i in 0..=4 {
            let v = x0 + (x1 - x0) * f64::from(i) / 4.0;
            let label = chrono::DateTime::from_timestamp(v as i64, 0)
                .map(|t| t.format("%m-%d %H:%M").to_string())
                .unwrap_or_default();
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
                px(v),
                H - BOTTOM + 14.0
            );
        }
    } else {
        for (i, c) in chart.categories.iter().enumerate() {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                px(i as f64),
                H - BOTTOM + 14.0,
                escape(c)
            );
        }
    }
    let _ = write!(
        s,
        "<text x=\"12\" y=\"{:.1}\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{}</text></g>",
        H / 2.0,
        H / 2.0,
        escape(&chart.y_label)
    );
    let n_bar_series = chart
        .series
        .iter()
        .filter(|s| s.style == SeriesStyle::Bars)
        .count()
        .max(1) as f64;
    let mut bar_index = 0.0;
    for (k, series) in chart.series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let _ = write!(
            s,
            "<g class=\"series\" data-series=\"{}\">",
            escape(&series.name)
        );
        match series.style {
            SeriesStyle::Line => {
                // Gaps break the line: missing data is not drawn as zero.
                let mut d = String::new();
                let mut pen_down = false;
                for &(x, y) in &series.points {
                    if finite(x) && finite(y) {
                        let _ = write!(
                            d,
                            "{}{:.1},{:.1} ",
                            if pen_down { "L" } else { "M" },
                            px(x),
                            py(y)
                        );
                        pen_down = true;
                    } else {
                        pen_down = false;
                    }
                }
                let _ = write!(
                    s,
                    "<path d=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"/>",
                    d.trim_end()
                );
            }
            SeriesStyle::Band => {
                let pts: Vec<(f64, f64, f64)> = series
                    .points
                    .iter()
                    .zip(&series.hi)
                    .filter(|((x, lo), hi)| finite(*x) && finite(*lo) && finite(**hi))
                    .map(|(&(x, lo), &hi)| (x, lo, hi))
                    .collect();
                let mut d = String::new();
                for (i, (x, _, hi)) in pts.iter().enumerate() {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1} ",
                        if i == 0 { "M" } else { "L" },
                        px(*x),
                        py(*hi)
                    );
                }
                for (x, lo, _) in pts.iter().rev() {
                    let _ = write!(d, "L{:.1},{:.1} ", px(*x), py(*lo));
                }
                if !pts.is_empty() {
                    d.push('Z');
                }
                let _ = write!(
                    s,
                    "<path d=\"{d}\" fill=\"{color}\" fill-opacity=\"0.18\" stroke=\"none\"/>"
                );
            }
            SeriesStyle::Bars => {
                let slot = (W - LEFT - RIGHT) / (x1 - x0);
                let width = slot * 0.8 / n_bar_series;
                for &(x, y) in &series.points {
                    if !(finite(x) && finite(y)) {
                        continue;
                    }
                    let left = px(x) - slot * 0.4 + bar_index * width;
                    let (top, bottom) = (py(y.max(0.0)), py(0.0f64.max(y0)));
                    let _ = write!(
                        s,
                        "<rect x=\"{left:.1}\" y=\"{top:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{color}\"/>",
                        (bottom - top).max(0.0)
                    );
                }
                bar_index += 1.0;
            }
        }
        s.push_str("</g>");
    }
    // Legend.
    s.push_str("<g class=\"legend\" font-size=\"10\" font-family=\"sans-serif\">");
    let mut lx = LEFT + 8.0;
    for (k, series) in chart.series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let _ = write!(
            s,
            "<rect x=\"{lx:.1}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{}\">{}</text>",
            H - 14.0,
            lx + 13.0,
            H - 5.0,
            escape(&series.name)
        );
        lx += 20.0 + 6.0 * series.name.chars().count() as f64;
    }
    s.push_str("</g></svg>");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::super::doc::ChartSeries;
    use super::*;

    #[test]
    fn gaps_break_lines_and_series_are_tagged() {
        let chart = Chart {
            id: "c".into(),
            title: "t".into(),
            y_label: "req/s".into(),
            x_is_time: true,
            categories: vec![],
            series: vec![ChartSeries {
                name: "demand".into(),
                style: SeriesStyle::Line,
                points: vec![(0.0, 1.0), (60.0, f64::NAN), (120.0, 3.0), (180.0, 4.0)],
                hi: vec![],
            }],
        };
        let svg = render(&chart).expect("drawn");
        assert!(svg.contains("data-series=\"demand\""));
        let path = svg.split("<path d=\"").nth(1).expect("path");
        assert_eq!(
            path.matches('M').count(),
            2,
            "a gap starts a new line: {path}"
        );
        let empty = Chart {
            series: vec![],
            ..chart
        };
        assert!(render(&empty).is_none());
    }
}
