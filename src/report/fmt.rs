//! Number formatting shared by the sections: a missing figure is "-", never 0.

pub fn num(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite())
        .map_or("-".to_string(), |x| format!("{x:.decimals$}"))
}

pub fn pct(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or("-".to_string(), |x| format!("{:.1}%", x * 100.0))
}

pub fn usd(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("${v:.0}")
    } else {
        format!("${v:.2}")
    }
}

pub fn minutes(seconds: Option<i64>) -> String {
    seconds.map_or("-".to_string(), |s| format!("{:.1} min", s as f64 / 60.0))
}

pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let idx = ((v.len() - 1) as f64 * q).round() as usize;
    v.get(idx).copied()
}

pub fn mean(values: &[f64]) -> Option<f64> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// At most `max` points: means of equal buckets (NaN stays a gap when a bucket is all gaps).
pub fn downsample(points: &[(i64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max || max == 0 {
        return points.iter().map(|&(t, v)| (t as f64, v)).collect();
    }
    let size = points.len().div_ceil(max);
    points
        .chunks(size)
        .map(|c| {
            let vals: Vec<f64> = c.iter().map(|p| p.1).collect();
            (c[0].0 as f64, mean(&vals).unwrap_or(f64::NAN))
        })
        .collect()
}
