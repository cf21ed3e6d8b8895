//! Durations as users write them: `90s`, `15m`, `48h`, `14d`, `2w`.

use std::time::Duration;

/// Parses `<number><unit>` with unit s, m, h, d or w (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("bad duration '{text}': expected e.g. 90s, 15m, 48h, 14d"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(format!(
                "bad duration '{text}': unit must be s, m, h, d or w"
            ))
        }
    };
    let secs = n
        .checked_mul(mult)
        .ok_or_else(|| format!("duration '{text}' is too large"))?;
    Ok(Duration::from_secs(secs))
}

/// Short human form: `90s`, `15m`, `2h30m`, `14d`.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s % 86_400 == 0 && s > 0 {
        format!("{}d", s / 86_400)
    } else if s % 3600 == 0 && s > 0 {
        format!("{}h", s / 3600)
    } else if s >= 3600 {
        format!("{}h{}m", s / 3600, (s % 3600) / 60)
    } else if s % 60 == 0 && s > 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("48h"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("14d"), Ok(Duration::from_secs(1_209_600)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "d", "5x", "-3m", "1.5h", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_round() {
        assert_eq!(format_duration(Duration::from_secs(1_209_600)), "14d");
        assert_eq!(format_duration(Duration::from_secs(9000)), "2h30m");
        assert_eq!(format_duration(Duration::from_secs(45)), "45s");
    }
}
