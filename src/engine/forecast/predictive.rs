//! The forecast predictive scaling reads: hourly load in, the next hours' load out, with the
//! model the backtest picked. Callers refresh it once per hour (a fit is milliseconds in a
//! release build, not free per observation).

use super::{forecast_series, Forecast, ForecastError, ForecastRequest};

const HOUR: i64 = 3600;

/// Forecasts `hours` hours after the last of `hourly` (hour start in Unix seconds, mean load),
/// which need not be contiguous (missing hours are gaps) but must be hour-aligned and sorted.
pub fn hourly_load_forecast(hourly: &[(i64, f64)], hours: u32) -> Result<Forecast, ForecastError> {
    let (Some(&(first, _)), Some(&(last, _))) = (hourly.first(), hourly.last()) else {
        return Err(ForecastError::NoData);
    };
    let len = usize::try_from((last - first) / HOUR + 1).map_err(|_| ForecastError::NoData)?;
    let mut values = vec![f64::NAN; len];
    for &(t, v) in hourly {
        if let Some(slot) = usize::try_from((t - first) / HOUR)
            .ok()
            .and_then(|i| values.get_mut(i))
        {
            *slot = v;
        }
    }
    forecast_series(
        first,
        HOUR,
        &values,
        &ForecastRequest::new(i64::from(hours) * HOUR),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_hours_from_a_daily_cycle() {
        let hourly: Vec<(i64, f64)> = (0..24 * 10)
            .map(|i| (i * HOUR, 100.0 + if i % 24 >= 18 { 50.0 } else { 0.0 }))
            .collect();
        let f = hourly_load_forecast(&hourly, 24).expect("forecast");
        assert_eq!(f.points.len(), 24);
        assert_eq!(f.points[0].timestamp, 240 * HOUR);
        assert!(
            (f.points[19].mean - 150.0).abs() < 5.0,
            "{:?}",
            f.points[19]
        );
        assert!((f.points[3].mean - 100.0).abs() < 5.0);
        assert!(hourly_load_forecast(&[], 3).is_err());
    }
}
