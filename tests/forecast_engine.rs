//! Forecast engine: worked examples, accuracy and interval coverage on a 7-day hourly holdout
//! of simulator data and of real electricity demand, and bad input.

use scaletop::engine::forecast::models::{holt_winters, naive};
use scaletop::engine::forecast::{
    events, forecast_series, metrics, prepare, Forecast, ForecastError, ForecastRequest, ModelKind,
};
use scaletop::{input, sim};

const HOUR: i64 = 3600;
const WEEK_HOURS: usize = 168;

fn request(horizon_seconds: i64, model: Option<ModelKind>) -> ForecastRequest {
    ForecastRequest {
        model,
        ..ForecastRequest::new(horizon_seconds)
    }
}

/// Forecasts the last week of an hourly series from what precedes it.
fn holdout(start: i64, hourly: &[f64], model: Option<ModelKind>) -> (Forecast, Vec<f64>) {
    holdout_with(start, hourly, model, &[])
}

/// [`holdout`] with a calendar of known events.
fn holdout_with(
    start: i64,
    hourly: &[f64],
    model: Option<ModelKind>,
    calendar: &[events::KnownEvent],
) -> (Forecast, Vec<f64>) {
    let cut = hourly.len() - WEEK_HOURS;
    let req = ForecastRequest {
        events: calendar.to_vec(),
        ..request(7 * 24 * HOUR, model)
    };
    let fc = forecast_series(start, HOUR, &hourly[..cut], &req).expect("forecast");
    assert_eq!(fc.points.len(), WEEK_HOURS);
    assert_eq!(fc.points[0].timestamp, start + cut as i64 * HOUR);
    (fc, hourly[cut..].to_vec())
}

struct Scores {
    accuracy: f64,
    mase: f64,
    coverage_80: f64,
    coverage_95: f64,
}

fn score(fc: &Forecast, actual: &[f64], history: &[f64]) -> Scores {
    let mean: Vec<f64> = fc.points.iter().map(|p| p.mean).collect();
    let col = |f: fn(&scaletop::engine::forecast::ForecastPoint) -> f64| -> Vec<f64> {
        fc.points.iter().map(f).collect()
    };
    let scale = metrics::naive_scale(history, 24).expect("scale");
    Scores {
        accuracy: metrics::accuracy(actual, &mean).expect("accuracy"),
        mase: metrics::mase(actual, &mean, scale).expect("mase"),
        coverage_80: metrics::coverage(actual, &col(|p| p.lo80), &col(|p| p.hi80)).expect("c80"),
        coverage_95: metrics::coverage(actual, &col(|p| p.lo95), &col(|p| p.hi95)).expect("c95"),
    }
}

fn ecommerce_hourly() -> (i64, Vec<f64>) {
    let scenario = sim::Scenario::load("ecommerce").expect("scenario");
    let spec = sim::ExportSpec {
        seed: 7,
        duration_seconds: 60 * 86_400,
        step_seconds: 3600,
    };
    let mut csv = Vec::new();
    sim::export_csv(&scenario, &spec, &mut csv).expect("export");
    let text = String::from_utf8(csv).expect("utf8");
    let all = input::parse(&text, "ecommerce.csv").expect("parse");
    let s = all
        .iter()
        .find(|s| s.group == "storefront" && s.metric == "request_rate")
        .expect("storefront request rate");
    s.regular(3600)
}

#[test]
fn seasonal_naive_repeats_the_value_one_season_back() {
    let y: Vec<f64> = (0..24 * 5).map(|i| ((i * 37) % 101) as f64).collect();
    let fc = forecast_series(
        0,
        HOUR,
        &y,
        &request(30 * HOUR, Some(ModelKind::SeasonalNaiveDaily)),
    )
    .expect("forecast");
    let n = y.len();
    for (h, p) in fc.points.iter().enumerate() {
        assert_eq!(p.mean, y[n - 24 + h % 24], "step {h}");
    }
    assert_eq!(naive::seasonal_naive(&y, 24, 3), y[n - 24..n - 21].to_vec());
}

#[test]
fn holt_winters_recovers_a_double_seasonal_series() {
    let f = |i: usize| {
        let day = 20.0 * (2.0 * std::f64::consts::PI * i as f64 / 24.0).sin()
            + 6.0 * (4.0 * std::f64::consts::PI * i as f64 / 24.0).cos();
        let week = [0.0, 2.0, 3.0, 2.0, 1.0, -9.0, -12.0][(i / 24) % 7];
        500.0 + day + week
    };
    let n = 24 * 7 * 5;
    let y: Vec<f64> = (0..n).map(f).collect();
    let p = holt_winters::fit(&y, &[24, 168], 168);
    let fc = holt_winters::forecast(&y, &[24, 168], &p, 168);
    let mae = (0..168).map(|h| (fc[h] - f(n + h)).abs()).sum::<f64>() / 168.0;
    assert!(
        mae < 0.5,
        "MAE {mae} on a noiseless double-seasonal series (range ~60)"
    );
}

/// Holdout scores of the automatic choice and of weekly seasonal naive.
fn compare(start: i64, y: &[f64], label: &str) -> (Forecast, Scores, Scores) {
    compare_with(start, y, label, &[])
}

fn compare_with(
    start: i64,
    y: &[f64],
    label: &str,
    calendar: &[events::KnownEvent],
) -> (Forecast, Scores, Scores) {
    let cut = y.len() - WEEK_HOURS;
    let (best, actual) = holdout_with(start, y, None, calendar);
    let (base, _) = holdout(start, y, Some(ModelKind::SeasonalNaiveWeekly));
    let s = score(&best, &actual, &y[..cut]);
    let b = score(&base, &actual, &y[..cut]);
    eprintln!(
        "{label}: model {} accuracy {:.3} MASE {:.3} cov80 {:.3} cov95 {:.3}; weekly naive accuracy {:.3} MASE {:.3}; backtest {:?}",
        best.model, s.accuracy, s.mase, s.coverage_80, s.coverage_95, b.accuracy, b.mase, best.candidates
    );
    (best, s, b)
}

fn uk_hourly() -> (i64, Vec<f64>) {
    let text = include_str!("fixtures/analyze/taylor_uk_electricity_30min.csv");
    let all = input::parse(text, "taylor.csv").expect("parse");
    let (start, half_hourly) = all[0].regular(1800);
    prepare::aggregate(&half_hourly, start, 1800, 3600)
}

#[test]
fn ecommerce_holdout_accuracy_and_coverage() {
    let (start, y) = ecommerce_hourly();
    let (_, s, _) = compare(start, &y, "ecommerce storefront request_rate");
    assert!(s.accuracy > 0.80, "accuracy {}", s.accuracy);
    assert!(
        (s.coverage_80 - 0.80).abs() <= 0.10,
        "80% band covered {}",
        s.coverage_80
    );
    assert!(
        (s.coverage_95 - 0.95).abs() <= 0.10,
        "95% band covered {}",
        s.coverage_95
    );
}

#[test]
fn uk_electricity_holdout_accuracy_and_coverage() {
    let (start, y) = uk_hourly();
    let (fc, s, _) = compare(start, &y, "UK electricity");
    assert!(s.accuracy > 0.90, "accuracy {}", s.accuracy);
    // The held-out week is calm: the model's error on it (MASE ~0.19) is half its error on
    // the four backtest weeks before it (late July to August, ~0.41), so bands sized on the
    // backtest hold nearly all of it (80%: 98%, 95%: 100%). Coverage of one week is checked
    // from below only; the width is checked against the backtest's own error, which is what
    // the bands are built from: an 80% half-width of about 1.3 mean absolute errors is
    // nominal for Gaussian errors, 3 is far too wide.
    assert!(s.coverage_80 >= 0.65, "80% band covered {}", s.coverage_80);
    assert!(s.coverage_95 >= 0.85, "95% band covered {}", s.coverage_95);
    let cut = y.len() - WEEK_HOURS;
    let recent = &y[cut - 4 * WEEK_HOURS..cut];
    let level = recent.iter().sum::<f64>() / recent.len() as f64;
    let backtest_mae = fc.backtest.wape.expect("backtest WAPE") * level;
    let half80 = fc
        .points
        .iter()
        .map(|p| (p.hi80 - p.lo80) / 2.0)
        .sum::<f64>()
        / fc.points.len() as f64;
    assert!(
        half80 <= 3.0 * backtest_mae,
        "80% half-width {half80:.0} vs backtest MAE {backtest_mae:.0}"
    );
}

#[test]
fn ecommerce_best_model_beats_weekly_naive() {
    let (start, y) = ecommerce_hourly();
    let (best, s, b) = compare(start, &y, "ecommerce storefront request_rate");
    assert!(
        !ModelKind::parse(best.model).is_some_and(|k| k.is_baseline()),
        "{}",
        best.model
    );
    assert!(
        s.mase < b.mase && s.accuracy > b.accuracy,
        "{} MASE {} accuracy {} vs weekly naive {} {}",
        best.model,
        s.mase,
        s.accuracy,
        b.mase,
        b.accuracy
    );
}

/// Black Friday and Cyber Monday 2025 fall in the first weeks of the 60 days. Without a
/// calendar they are only partly masked as anomalies, and the backtest origins that look back
/// over them are unfair to models that average several weeks. With the scenario's dates (not
/// their sizes) as known events they are kept out cleanly, and the win widens.
#[test]
fn ecommerce_best_model_beats_weekly_naive_with_the_calendar() {
    let (start, y) = ecommerce_hourly();
    let (_, _, calendar, _) = ecommerce_long(60, 7);
    let (best, s, b) = compare_with(start, &y, "ecommerce storefront with calendar", &calendar);
    assert!(
        !ModelKind::parse(best.model).is_some_and(|k| k.is_baseline()),
        "{}",
        best.model
    );
    assert!(
        s.mase < b.mase && s.accuracy > b.accuracy,
        "{} MASE {} accuracy {} vs weekly naive {} {}",
        best.model,
        s.mase,
        s.accuracy,
        b.mase,
        b.accuracy
    );
}

/// A narrow win (MASE 0.193 vs 0.197): Holt-Winters wins the backtest by 0.5% and the holdout
/// by 2%. Weekly naive is a strong baseline on a week of electricity demand.
#[test]
fn uk_electricity_best_model_beats_weekly_naive() {
    let (start, y) = uk_hourly();
    let (best, s, b) = compare(start, &y, "UK electricity");
    assert!(
        s.mase < b.mase,
        "{} MASE {} vs weekly naive {}",
        best.model,
        s.mase,
        b.mase
    );
}

#[test]
fn an_incident_one_week_back_does_not_poison_the_forecast() {
    let f = |i: usize| 100.0 + 40.0 * (2.0 * std::f64::consts::PI * i as f64 / 24.0).sin();
    let n = 24 * 21;
    let mut y: Vec<f64> = (0..n).map(f).collect();
    for v in &mut y[n - 168..n - 165] {
        *v *= 30.0;
    }
    let fc = forecast_series(
        0,
        HOUR,
        &y,
        &request(24 * HOUR, Some(ModelKind::SeasonalNaiveWeekly)),
    )
    .expect("forecast");
    assert!(fc.anomalies_masked >= 3);
    for (h, p) in fc.points.iter().enumerate().take(3) {
        assert!(
            (p.mean - f(n + h)).abs() < 10.0,
            "step {h}: {} vs {}",
            p.mean,
            f(n + h)
        );
    }
}

#[test]
fn bad_and_degenerate_inputs() {
    let req = request(24 * HOUR, None);
    assert_eq!(
        forecast_series(0, HOUR, &[], &req).unwrap_err(),
        ForecastError::NoData
    );
    assert_eq!(
        forecast_series(0, HOUR, &[f64::NAN; 100], &req).unwrap_err(),
        ForecastError::NoData
    );
    assert!(matches!(
        forecast_series(0, HOUR, &[1.0, 2.0, 3.0], &req),
        Err(ForecastError::TooFewPoints { found: 3, .. })
    ));
    assert!(matches!(
        forecast_series(0, 0, &[1.0; 50], &req),
        Err(ForecastError::BadStep(0))
    ));
    assert!(matches!(
        forecast_series(0, HOUR, &[1.0; 50], &request(0, None)),
        Err(ForecastError::BadHorizon(_))
    ));
    assert!(matches!(
        forecast_series(
            0,
            HOUR,
            &[1.0; 72],
            &request(HOUR, Some(ModelKind::SeasonalNaiveWeekly))
        ),
        Err(ForecastError::ModelNotApplicable(_))
    ));

    // Constant: the forecast is the constant, with zero-width bands.
    let fc = forecast_series(0, HOUR, &[42.0; 24 * 10], &req).expect("constant");
    assert!(fc
        .points
        .iter()
        .all(|p| (p.mean - 42.0).abs() < 1e-6 && (p.hi95 - p.lo95).abs() < 1e-6));

    // A horizon longer than the history: a forecast, with bands widened and said so.
    let y: Vec<f64> = (0..72).map(|i| 50.0 + (i % 24) as f64).collect();
    let fc = forecast_series(0, HOUR, &y, &request(10 * 24 * HOUR, None)).expect("long horizon");
    assert_eq!(fc.points.len(), 240);
    assert!(
        fc.notes.iter().any(|n| n.contains("widened")),
        "{:?}",
        fc.notes
    );
    let last = fc.points[239];
    let first = fc.points[0];
    assert!(last.hi95 - last.lo95 >= first.hi95 - first.lo95);
    assert!(fc
        .points
        .iter()
        .all(|p| p.mean.is_finite() && p.lo95 >= 0.0));

    // Gaps and a short history still give a forecast.
    let mut y: Vec<f64> = (0..30).map(|i| 10.0 + (i % 5) as f64).collect();
    y[7] = f64::NAN;
    y[8] = f64::NAN;
    let fc = forecast_series(0, 60, &y, &request(600, None)).expect("short");
    assert_eq!(fc.points.len(), 10);
    assert_eq!(fc.missing_filled, 2);
}

#[test]
fn long_horizons_aggregate_and_runway_finds_the_crossing() {
    // 5-minute series, 21 days, with growth; a 30-day forecast runs on hourly means.
    let step = 300;
    let n = 21 * 288;
    let truth = |i: usize| {
        100.0 + 0.01 * i as f64 + 30.0 * (2.0 * std::f64::consts::PI * i as f64 / 288.0).sin()
    };
    let y: Vec<f64> = (0..n).map(truth).collect();
    let req = ForecastRequest {
        capacity: Some(200.0),
        per_replica: Some(10.0),
        ..request(30 * 86_400, None)
    };
    let fc = forecast_series(0, step, &y, &req).expect("forecast");
    assert_eq!(fc.step_seconds, 3600);
    assert_eq!(fc.points.len(), 30 * 24);
    // The mean carries the growth: each hour within 3% of the true hourly mean, through day 30
    // (a flat forecast would be ~20% low by then: 162 at the end of the history, 248 at day 30).
    for p in &fc.points {
        let first = (p.timestamp / step) as usize;
        let want = (first..first + 12).map(truth).sum::<f64>() / 12.0;
        assert!(
            (p.mean - want).abs() / want < 0.03,
            "{} at {}: mean {} vs truth {want}",
            fc.model,
            p.timestamp,
            p.mean
        );
    }
    let r = fc.runway.expect("runway");
    assert!(
        r.peak_upper > 200.0,
        "growth carries the peak past capacity: {}",
        r.peak_upper
    );
    let crossing = r.first_crossing.expect("crossing");
    assert!(fc
        .points
        .iter()
        .filter(|p| p.timestamp < crossing)
        .all(|p| p.hi95 <= 200.0));
    assert!(r.replicas_needed.is_some_and(|k| k > 20));
}

/// The e-commerce storefront's hourly request rate from the scenario start (2025-11-17) for
/// `days`, and the scenario's dated events (names and dates only, never their size).
fn ecommerce_long(days: u64, seed: u64) -> (i64, Vec<f64>, Vec<events::KnownEvent>, sim::Truth) {
    let scenario = sim::Scenario::load("ecommerce").expect("scenario");
    let spec = sim::ExportSpec {
        seed,
        duration_seconds: days * 86_400,
        step_seconds: 3600,
    };
    let mut csv = Vec::new();
    sim::export_csv(&scenario, &spec, &mut csv).expect("export");
    let text = String::from_utf8(csv).expect("utf8");
    let all = input::parse(&text, "ecommerce.csv").expect("parse");
    let s = all
        .iter()
        .find(|s| s.group == "storefront" && s.metric == "request_rate")
        .expect("storefront request rate");
    let (start, y) = s.regular(3600);
    let truth = sim::truth(&scenario, &spec);
    let calendar = truth
        .events
        .iter()
        .filter(|e| e.group == "storefront")
        .map(|e| events::KnownEvent {
            name: e.name.clone(),
            start: e.start.timestamp(),
            end: e.end.timestamp(),
            uplift: None,
            like: None,
        })
        .collect();
    (start, y, calendar, truth)
}

#[test]
fn black_friday_is_forecast_from_last_years() {
    // 380 days: Black Friday 2025 in the history, Black Friday 2026 in the forecast week.
    let (start, y, calendar, truth) = ecommerce_long(380, 11);
    let bf = truth
        .events
        .iter()
        .find(|e| e.group == "storefront" && e.name == "black_friday_2026")
        .expect("black friday 2026 in the truth");
    let (bf_start, bf_end) = (bf.start.timestamp(), bf.end.timestamp());
    // Cut three days before it; forecast a week.
    let cut = usize::try_from((bf_start - 3 * 86_400 - start) / HOUR).expect("cut");
    let week = 7 * 24 * HOUR;
    let with = forecast_series(
        start,
        HOUR,
        &y[..cut],
        &ForecastRequest {
            events: calendar.clone(),
            ..request(week, None)
        },
    )
    .expect("forecast with the calendar");
    let without = forecast_series(start, HOUR, &y[..cut], &request(week, None)).expect("forecast");
    let on_bf = |fc: &Forecast| -> (Vec<f64>, Vec<f64>) {
        fc.points
            .iter()
            .filter(|p| p.timestamp >= bf_start && p.timestamp < bf_end)
            .map(|p| {
                let i = usize::try_from((p.timestamp - start) / HOUR).expect("index");
                (y[i], p.mean)
            })
            .unzip()
    };
    let (actual, mean) = on_bf(&with);
    assert_eq!(actual.len(), 24, "the whole day is in the horizon");
    let acc = metrics::accuracy(&actual, &mean).expect("accuracy");
    let (_, blind) = on_bf(&without);
    let acc_blind = metrics::accuracy(&actual, &blind).expect("accuracy");
    let peak_actual = actual.iter().copied().fold(0.0, f64::max);
    let peak_fc = mean.iter().copied().fold(0.0, f64::max);
    eprintln!(
        "Black Friday 2026: accuracy {acc:.3} with the calendar, {acc_blind:.3} without; peak {peak_fc:.0} vs actual {peak_actual:.0} (truth expected peak {:.0}); events {:?}; masked {} event points, {} anomalies",
        bf.expected_peak_rps, with.events, with.event_points_masked, with.anomalies_masked
    );
    assert!(acc > 0.8, "accuracy on Black Friday {acc}");
    assert!(
        acc_blind < 0.5,
        "without the calendar the day is missed: {acc_blind}"
    );
    assert!(
        (peak_fc / peak_actual - 1.0).abs() < 0.2,
        "peak {peak_fc} vs {peak_actual}"
    );
    let applied = with
        .events
        .iter()
        .find(|e| e.name == "black_friday_2026")
        .expect("applied");
    assert_eq!(applied.source, "learned from black_friday_2025");
    // The 2025 events (Black Friday, Cyber Monday: 48 hours) were kept out of the fit, and
    // not counted as anomalies.
    assert_eq!(with.event_points_masked, 48);
    assert!(
        with.anomalies_masked + 30 < without.anomalies_masked,
        "with {} without {}",
        with.anomalies_masked,
        without.anomalies_masked
    );
    // The 95% band on the day covers most hours.
    let inside = with
        .points
        .iter()
        .filter(|p| p.timestamp >= bf_start && p.timestamp < bf_end)
        .zip(&actual)
        .filter(|(p, a)| p.lo95 <= **a && **a <= p.hi95)
        .count();
    assert!(inside >= 16, "{inside} of 24 hours inside the 95% band");
}

/// A daily + weekly cycle plus Gaussian noise of known sigma (Box-Muller on a xorshift).
fn noisy_seasonal(hours: usize, sigma: f64, seed: u64) -> Vec<f64> {
    noisy_cycle(hours, sigma, seed, -15.0)
}

/// [`noisy_seasonal`] with a weekend shift of `weekend` (0: a daily cycle only).
fn noisy_cycle(hours: usize, sigma: f64, seed: u64, weekend: f64) -> Vec<f64> {
    let mut state = seed | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..hours)
        .map(|i| {
            let (u, v) = (uniform(), uniform());
            let noise = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            let day = (2.0 * std::f64::consts::PI * (i % 24) as f64 / 24.0).sin();
            let weekend = if (i / 24) % 7 >= 5 { weekend } else { 0.0 };
            100.0 + 30.0 * day + weekend + sigma * noise
        })
        .collect()
}

/// With nothing but independent noise left to predict, the bands must hold about their
/// nominal share of the future: 24-hour forecasts from 14 successive days (336 unseen hours;
/// the sampling spread of the coverage is about 2.2 points at 80% and 1.2 at 95%).
#[test]
fn bands_cover_known_noise_near_nominal() {
    let y = noisy_seasonal(24 * 7 * 8, 5.0, 0x5eed_1234_abcd_ef01);
    let (mut in80, mut in95, mut n) = (0, 0, 0);
    for k in 0..14 {
        let cut = 24 * 7 * 6 + k * 24;
        let fc = forecast_series(0, HOUR, &y[..cut], &request(24 * HOUR, None)).expect("forecast");
        for (p, &a) in fc.points.iter().zip(&y[cut..cut + 24]) {
            n += 1;
            in80 += usize::from(p.lo80 <= a && a <= p.hi80);
            in95 += usize::from(p.lo95 <= a && a <= p.hi95);
        }
    }
    let (c80, c95) = (in80 as f64 / n as f64, in95 as f64 / n as f64);
    assert!((0.72..=0.88).contains(&c80), "80% band covered {c80}");
    assert!((0.91..=0.99).contains(&c95), "95% band covered {c95}");
}

/// Coverage of the 80% and 95% bands of `horizon`-hour forecasts from the first `train` hours
/// of each series, pooled over the series.
fn pooled_coverage(series: &[Vec<f64>], train: usize, horizon: usize) -> (f64, f64) {
    let (mut in80, mut in95, mut n) = (0, 0, 0);
    for y in series {
        let req = request(horizon as i64 * HOUR, None);
        let fc = forecast_series(0, HOUR, &y[..train], &req).expect("forecast");
        assert_eq!(fc.points.len(), horizon);
        for (p, &a) in fc.points.iter().zip(&y[train..train + horizon]) {
            n += 1;
            in80 += usize::from(p.lo80 <= a && a <= p.hi80);
            in95 += usize::from(p.lo95 <= a && a <= p.hi95);
        }
    }
    (in80 as f64 / n as f64, in95 as f64 / n as f64)
}

/// Short histories, where the backtest has room for few full-horizon origins and the bands
/// rest on the calibration origins between them: a week of a daily cycle plus noise (8 days
/// in all, no weekly cycle to learn), the 8th day forecast, over 40 independent series
/// (960 unseen hours).
#[test]
fn bands_cover_known_noise_on_an_eight_day_series() {
    let series: Vec<Vec<f64>> = (0..40u64)
        .map(|k| noisy_cycle(24 * 8, 5.0, 0x8da7_0000 + k * 7919, 0.0))
        .collect();
    let (c80, c95) = pooled_coverage(&series, 24 * 7, 24);
    assert!((0.72..=0.88).contains(&c80), "80% band covered {c80}");
    assert!((0.90..=0.985).contains(&c95), "95% band covered {c95}");
}

/// The comparison's hourly protocol: three weeks of history leave room for a single 7-day
/// backtest origin; a week ahead is forecast, over 8 independent series (1,344 unseen hours).
#[test]
fn bands_cover_known_noise_with_one_full_horizon_origin() {
    let series: Vec<Vec<f64>> = (0..8u64)
        .map(|k| noisy_seasonal(24 * 28, 5.0, 0x0e1d_0000 + k * 104_729))
        .collect();
    let (c80, c95) = pooled_coverage(&series, 24 * 21, WEEK_HOURS);
    assert!((0.72..=0.88).contains(&c80), "80% band covered {c80}");
    assert!((0.90..=0.985).contains(&c95), "95% band covered {c95}");
}
