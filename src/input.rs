//! Input series files for the headless commands: CSV `timestamp,value`, long-form CSV
//! `timestamp,group,metric,value`, or a Prometheus `query_range` JSON response. Timestamps as
//! RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or Unix seconds. Errors name the file and line.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, NaiveDateTime};

/// One named series of (Unix seconds, value) points, sorted by time.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub group: String,
    pub metric: String,
    pub points: Vec<(i64, f64)>,
}

impl Series {
    /// The most common spacing between points (the series' native step), seconds.
    pub fn step_seconds(&self) -> Option<i64> {
        let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
        for w in self.points.windows(2) {
            let d = w[1].0 - w[0].0;
            if d > 0 {
                *counts.entry(d).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .max_by_key(|&(d, n)| (n, -d))
            .map(|(d, _)| d)
    }

    /// Values on a regular grid of `step` seconds from the first point; gaps are NaN
    /// (missing stays missing). Several points in one slot are averaged.
    pub fn regular(&self, step: i64) -> (i64, Vec<f64>) {
        let Some(&(start, _)) = self.points.first() else {
            return (0, Vec::new());
        };
        let end = self.points.last().map_or(start, |p| p.0);
        let len = ((end - start) / step + 1) as usize;
        let mut sum = vec![0.0; len];
        let mut n = vec![0u32; len];
        for &(t, v) in &self.points {
            let i = ((t - start) / step) as usize;
            if i < len && v.is_finite() {
                sum[i] += v;
                n[i] += 1;
            }
        }
        let values = sum
            .iter()
            .zip(&n)
            .map(|(s, &k)| if k == 0 { f64::NAN } else { s / f64::from(k) })
            .collect();
        (start, values)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct InputError {
    pub file: String,
    /// 0 when the problem is not on one line.
    pub line: usize,
    pub message: String,
}

/// Parses a timestamp: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC, optional fraction), or Unix
/// seconds (integer or fractional).
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    let t = text.trim();
    // The common canonical forms without chrono's general parser (a large file has millions).
    if let Some(secs) = fast_timestamp(t.as_bytes()) {
        return Ok(secs);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(dt.and_utc().timestamp());
        }
    }
    match t.parse::<f64>() {
        // Plausible Unix seconds (1970..2200); milliseconds are a common mistake worth naming.
        Ok(v) if v.is_finite() && (0.0..7.3e9).contains(&v) => Ok(v.floor() as i64),
        Ok(v) if v.is_finite() && v >= 7.3e9 => Err(format!(
            "timestamp '{t}' looks like milliseconds; use Unix seconds"
        )),
        _ => Err(format!(
            "bad timestamp '{t}' (expected RFC 3339, YYYY-MM-DD HH:MM:SS or Unix seconds)"
        )),
    }
}

/// Integer Unix seconds (up to 10 digits, below the 7.3e9 limit), or exactly
/// `YYYY-MM-DDTHH:MM:SSZ` / `YYYY-MM-DD HH:MM:SS`; None sends anything else (fractions,
/// offsets, leap seconds, bad dates) to the general parser, which also words the errors.
fn fast_timestamp(b: &[u8]) -> Option<i64> {
    if !b.is_empty() && b.len() <= 10 && b.iter().all(u8::is_ascii_digit) {
        let v = b.iter().fold(0i64, |a, &d| a * 10 + i64::from(d - b'0'));
        return (v < 7_300_000_000).then_some(v);
    }
    let canonical = match b.len() {
        20 => b[10] == b'T' && b[19] == b'Z',
        19 => b[10] == b' ',
        _ => false,
    };
    if !canonical || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |a, &d| {
            d.is_ascii_digit().then(|| a * 10 + i64::from(d - b'0'))
        })
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    // Days from the civil date (H. Hinnant's days_from_civil).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

/// Reads a series file, choosing the format by content (JSON object or CSV header).
pub fn read_file(path: &Path) -> Result<Vec<Series>, InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| InputError {
        file: file.clone(),
        line: 0,
        message: format!("cannot read: {e}"),
    })?;
    parse(&text, &file)
}

pub fn parse(text: &str, file: &str) -> Result<Vec<Series>, InputError> {
    parse_keyed(text, file).map(finish)
}

fn parse_keyed(text: &str, file: &str) -> Result<Keyed, InputError> {
    if text.trim_start().starts_with('{') {
        prometheus_keyed(text, file)
    } else {
        csv_keyed(text, file)
    }
}

/// What the reader did to one series' points to make them a time-ordered series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reordered {
    /// Places where a point's time is earlier than the one read just before it (the file was
    /// not in time order; the reader sorted it).
    pub out_of_order: usize,
}

/// [`read_file`], also saying per series (same order) how far the file was from time order,
/// so a command can tell the user that it sorted their input.
pub fn read_file_reporting(path: &Path) -> Result<Vec<(Series, Reordered)>, InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| InputError {
        file: file.clone(),
        line: 0,
        message: format!("cannot read: {e}"),
    })?;
    parse_reporting(&text, &file)
}

/// [`parse`] with [`Reordered`] per series.
pub fn parse_reporting(text: &str, file: &str) -> Result<Vec<(Series, Reordered)>, InputError> {
    let keyed = parse_keyed(text, file)?;
    let reordered: Vec<Reordered> = keyed
        .values()
        .map(|points| Reordered {
            out_of_order: points.windows(2).filter(|w| w[1].0 < w[0].0).count(),
        })
        .collect();
    Ok(finish(keyed).into_iter().zip(reordered).collect())
}

/// Points per (group, metric), in file order.
type Keyed = BTreeMap<(String, String), Vec<(i64, f64)>>;

fn err(file: &str, line: usize, message: impl Into<String>) -> InputError {
    InputError {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

/// CSV with header `timestamp,value` (group "default", metric "value") or
/// `timestamp,group,metric,value`.
pub fn parse_csv(text: &str, file: &str) -> Result<Vec<Series>, InputError> {
    csv_keyed(text, file).map(finish)
}

fn csv_keyed(text: &str, file: &str) -> Result<Keyed, InputError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let Some((header_line, header)) = lines.next() else {
        return Err(err(file, 0, "empty file: expected a CSV header"));
    };
    let cols: Vec<String> = header
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let long = match cols.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["timestamp", "value"] => false,
        ["timestamp", "group", "metric", "value"] => true,
        _ => {
            return Err(err(
                file,
                header_line,
                format!(
                "header '{header}': expected 'timestamp,value' or 'timestamp,group,metric,value'"
            ),
            ))
        }
    };
    // Series by borrowed (group, metric) key: no per-row allocation on large files.
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut points: Vec<Vec<(i64, f64)>> = Vec::new();
    for (n, line) in lines {
        let mut fields = [""; 4];
        let mut count = 0;
        for f in line.split(',') {
            if let Some(slot) = fields.get_mut(count) {
                *slot = f.trim().trim_matches('"');
            }
            count += 1;
        }
        if count != cols.len() {
            return Err(err(
                file,
                n,
                format!("expected {} fields, found {count}", cols.len()),
            ));
        }
        let ts = parse_timestamp(fields[0]).map_err(|m| err(file, n, m))?;
        let raw = fields[count - 1];
        // Empty, NaN and "null" values are missing data, kept missing.
        let value = if raw.is_empty() || raw.eq_ignore_ascii_case("nan") || raw == "null" {
            f64::NAN
        } else {
            raw.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(file, n, format!("bad value '{raw}': expected a number")))?
        };
        let key = if long {
            (fields[1], fields[2])
        } else {
            ("default", "value")
        };
        let slot = *index.entry(key).or_insert_with(|| {
            points.push(Vec::new());
            points.len() - 1
        });
        points[slot].push((ts, value));
    }
    let by_key: BTreeMap<(String, String), Vec<(i64, f64)>> = index
        .into_iter()
        .map(|((g, m), slot)| {
            (
                (g.to_string(), m.to_string()),
                std::mem::take(&mut points[slot]),
            )
        })
        .collect();
    if by_key.is_empty() {
        return Err(err(file, 0, "no data rows after the header"));
    }
    Ok(by_key)
}

fn finish(by_key: Keyed) -> Vec<Series> {
    by_key
        .into_iter()
        .map(|((group, metric), mut points)| {
            points.sort_by_key(|p| p.0);
            Series {
                group,
                metric,
                points,
            }
        })
        .collect()
}

/// A Prometheus `/api/v1/query_range` response (resultType matrix). The group is taken from
/// the first of the labels `group`, `deployment`, `horizontalpodautoscaler`, `service`, `job`,
/// `instance`; the metric from `__name__` (else "value").
pub fn parse_prometheus_json(text: &str, file: &str) -> Result<Vec<Series>, InputError> {
    prometheus_keyed(text, file).map(finish)
}

fn prometheus_keyed(text: &str, file: &str) -> Result<Keyed, InputError> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| err(file, e.line(), format!("not valid JSON: {e}")))?;
    if v.get("status").and_then(|s| s.as_str()) != Some("success") {
        let msg = v
            .get("error")
            .and_then(|e| e.as_str())
            .unwrap_or("status is not 'success'");
        return Err(err(file, 0, format!("Prometheus response: {msg}")));
    }
    let data = v
        .get("data")
        .ok_or_else(|| err(file, 0, "no 'data' field"))?;
    let kind = data
        .get("resultType")
        .and_then(|k| k.as_str())
        .unwrap_or("");
    if kind != "matrix" {
        return Err(err(
            file,
            0,
            format!("resultType '{kind}': expected 'matrix' (a query_range response)"),
        ));
    }
    let results = data
        .get("result")
        .and_then(|r| r.as_array())
        .ok_or_else(|| err(file, 0, "no 'data.result' array"))?;
    let mut by_key: BTreeMap<(String, String), Vec<(i64, f64)>> = BTreeMap::new();
    for (i, r) in results.iter().enumerate() {
        let labels = r.get("metric").and_then(|m| m.as_object());
        let label = |k: &str| {
            labels
                .and_then(|l| l.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let group = [
            "group",
            "deployment",
            "horizontalpodautoscaler",
            "service",
            "job",
            "instance",
        ]
        .iter()
        .find_map(|k| label(k))
        .unwrap_or_else(|| format!("series{i}"));
        let metric = label("__name__").unwrap_or_else(|| "value".into());
        let values = r
            .get("values")
            .and_then(|v| v.as_array())
            .ok_or_else(|| err(file, 0, format!("result[{i}] has no 'values' array")))?;
        let points = by_key.entry((group, metric)).or_default();
        for (j, pair) in values.iter().enumerate() {
            let bad = || {
                err(
                    file,
                    0,
                    format!("result[{i}].values[{j}]: expected [time, \"value\"]"),
                )
            };
            let ts = pair.get(0).and_then(|t| t.as_f64()).ok_or_else(bad)?;
            let raw = pair.get(1).and_then(|s| s.as_str()).ok_or_else(bad)?;
            // Prometheus writes NaN/+Inf as strings; they are missing data here.
            let val = raw
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .unwrap_or(f64::NAN);
            points.push((ts.floor() as i64, val));
        }
    }
    if by_key.is_empty() {
        return Err(err(file, 0, "the response holds no series"));
    }
    Ok(by_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_all_three_forms() {
        assert_eq!(parse_timestamp("2024-01-01T00:01:00Z"), Ok(1_704_067_260));
        assert_eq!(parse_timestamp("2024-01-01 00:01:00"), Ok(1_704_067_260));
        assert_eq!(parse_timestamp("1704067260"), Ok(1_704_067_260));
        assert_eq!(parse_timestamp("1704067260.5"), Ok(1_704_067_260));
        assert!(parse_timestamp("1704067260000")
            .unwrap_err()
            .contains("milliseconds"));
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn fast_path_agrees_with_chrono() {
        // Every day of a leap and a common year, and era/century edges, against chrono.
        let mut t = -86_400 * 366 * 3;
        while t < 4_200_000_000 {
            let dt = DateTime::from_timestamp(t, 0).unwrap();
            for text in [
                dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                dt.format("%Y-%m-%d %H:%M:%S").to_string(),
            ] {
                assert_eq!(fast_timestamp(text.as_bytes()), Some(t), "{text}");
            }
            t += 86_400 * 7 + 3_599;
        }
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
        ] {
            assert_eq!(fast_timestamp(bad.as_bytes()), None, "{bad}");
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_timestamp("2024-02-29T12:00:00+01:00"),
            Ok(1_709_204_400)
        );
        assert_eq!(
            fast_timestamp(b"7300000000"),
            None,
            "left to the milliseconds message"
        );
    }

    #[test]
    fn simple_and_long_csv() {
        let s = parse("timestamp,value\n0,1\n60,\n120,3\n", "a.csv").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].step_seconds(), Some(60));
        let (start, v) = s[0].regular(60);
        assert_eq!(start, 0);
        assert_eq!(v[0], 1.0);
        assert!(v[1].is_nan(), "an empty value stays missing");
        let s = parse(
            "timestamp,group,metric,value\n0,web,request_rate,5\n0,web,cpu_utilization,50\n60,web,request_rate,6\n",
            "b.csv",
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].metric, "request_rate");
        assert_eq!(s[1].points, vec![(0, 5.0), (60, 6.0)]);
    }

    #[test]
    fn csv_errors_name_file_and_line() {
        let e = parse("timestamp,value\n0,1\n60,abc\n", "x.csv").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("x.csv", 3));
        let e = parse("time,val\n0,1\n", "x.csv").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("timestamp,value\n0,1,2\n", "x.csv").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse("", "x.csv").is_err());
        assert!(parse("timestamp,value\n", "x.csv").is_err());
    }

    #[test]
    fn reports_how_far_from_time_order_each_series_was() {
        let csv = "timestamp,group,metric,value\n\
                   120,a,m,3\n0,a,m,1\n60,a,m,2\n0,b,m,1\n60,b,m,2\n";
        let s = parse_reporting(csv, "x.csv").unwrap();
        assert_eq!(s.len(), 2);
        // a: 120 then 0 goes back once; sorted all the same.
        assert_eq!(s[0].0.group, "a");
        assert_eq!(s[0].1.out_of_order, 1);
        assert_eq!(
            s[0].0.points.iter().map(|p| p.0).collect::<Vec<_>>(),
            [0, 60, 120]
        );
        assert_eq!((s[1].0.group.as_str(), s[1].1.out_of_order), ("b", 0));
        assert_eq!(
            parse(csv, "x.csv").unwrap(),
            s.into_iter().map(|(x, _)| x).collect::<Vec<_>>()
        );
    }

    #[test]
    fn prometheus_matrix() {
        let json = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","job":"web"},"values":[[60,"1"],[0,"NaN"]]}]}}"#;
        let s = parse(json, "p.json").unwrap();
        assert_eq!(s[0].group, "web");
        assert_eq!(s[0].points[0].0, 0, "sorted by time");
        assert!(s[0].points[0].1.is_nan());
        let bad = r#"{"status":"error","error":"bad query"}"#;
        assert!(parse(bad, "p.json")
            .unwrap_err()
            .message
            .contains("bad query"));
        assert!(parse("{not json", "p.json").is_err());
    }
}
