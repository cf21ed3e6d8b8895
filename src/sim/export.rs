//! Long-form CSV export (`timestamp,group,metric,value`). One timestamp string per step, rows
//! assembled in a reusable buffer; missing values are omitted, never written as 0.

use std::io::Write;

use chrono::DateTime;

use super::scenario::Scenario;
use super::simulator::Simulator;

/// What to export: seed, history length and output step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSpec {
    pub seed: u64,
    pub duration_seconds: u64,
    pub step_seconds: u64,
}

impl ExportSpec {
    pub fn steps(&self) -> u64 {
        self.duration_seconds / self.step_seconds.max(1)
    }
}

pub const CSV_HEADER: &str = "timestamp,group,metric,value\n";

/// Flush the row buffer to the writer at this size.
const FLUSH_BYTES: usize = 1 << 16;

/// Writes the scenario's metrics; returns the number of data rows.
pub fn export_csv(s: &Scenario, spec: &ExportSpec, w: &mut dyn Write) -> std::io::Result<u64> {
    let mut sim = Simulator::new(s, spec.seed);
    let mut frame = sim.new_frame();
    let names: Vec<&str> = s.sim_groups().iter().map(|g| g.name()).collect();
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_BYTES + 4096);
    buf.extend_from_slice(CSV_HEADER.as_bytes());
    let mut rows = 0u64;
    for _ in 0..spec.steps() {
        sim.advance_frame(spec.step_seconds, &mut frame);
        let ts = DateTime::from_timestamp(frame.at_unix, 0)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        for (i, values) in frame.values.iter().enumerate() {
            for &m in sim.reported_metrics(i) {
                let v = values[m as usize];
                if !v.is_finite() {
                    continue;
                }
                buf.extend_from_slice(ts.as_bytes());
                buf.push(b',');
                buf.extend_from_slice(names[i].as_bytes());
                buf.push(b',');
                buf.extend_from_slice(m.as_str().as_bytes());
                buf.push(b',');
                write!(buf, "{}", round_for_output(v))?;
                buf.push(b'\n');
                rows += 1;
            }
        }
        if buf.len() >= FLUSH_BYTES {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    Ok(rows)
}

/// Enough precision for every metric without printing float noise: 2 decimals from 100 up,
/// 3 from 1, 6 significant below 1 (error ratios).
pub fn round_for_output(v: f64) -> f64 {
    let a = v.abs();
    let scale = if a >= 100.0 {
        1e2
    } else if a >= 1.0 {
        1e3
    } else if a >= 1e-3 {
        1e6
    } else {
        1e9
    };
    let r = (v * scale).round() / scale;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_keeps_short_decimals() {
        assert_eq!(format!("{}", round_for_output(1234.5678)), "1234.57");
        assert_eq!(format!("{}", round_for_output(0.1 + 0.2)), "0.3");
        assert_eq!(format!("{}", round_for_output(-0.0)), "0");
        assert_eq!(
            format!("{}", round_for_output(0.000_123_456_7)),
            "0.000123457"
        );
    }
}
