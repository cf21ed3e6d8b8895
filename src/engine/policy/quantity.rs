//! Kubernetes resource quantities ("100", "500m", "1.5k", "2Gi", "1e3") as f64.

/// Parses a Kubernetes quantity string. Accepts the decimal SI suffixes (n, u, m, k, M, G, T,
/// P, E), binary suffixes (Ki .. Ei) and decimal exponents.
pub fn parse_quantity(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let bad = || format!("bad quantity '{text}' (expected e.g. 100, 500m, 2k, 1Gi)");
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    if num.is_empty() {
        return Err(bad());
    }
    let base: f64 = num.parse().map_err(|_| bad())?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => {
            let exp: i32 = s[1..].parse().map_err(|_| bad())?;
            10f64.powi(exp)
        }
        _ => return Err(bad()),
    };
    let v = base * mult;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(bad())
    }
}

/// Formats a value as a quantity the API server accepts: integers plain, fractions in milli.
pub fn format_quantity(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{}", value.round() as i64)
    } else {
        format!("{}m", (value * 1000.0).round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_suffixes() {
        assert_eq!(parse_quantity("100"), Ok(100.0));
        assert_eq!(parse_quantity("500m"), Ok(0.5));
        assert_eq!(parse_quantity("2k"), Ok(2000.0));
        assert_eq!(parse_quantity("1Gi"), Ok(1073741824.0));
        assert_eq!(parse_quantity("1.5"), Ok(1.5));
        assert_eq!(parse_quantity("1e3"), Ok(1000.0));
        for bad in ["", "m", "10x", "1..2", "Gi"] {
            assert!(parse_quantity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for v in [100.0, 0.5, 2.25, 7.0] {
            assert_eq!(parse_quantity(&format_quantity(v)), Ok(v));
        }
    }
}
