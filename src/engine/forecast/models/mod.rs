//! The competing forecast models behind one interface: fit on a training prefix, then
//! forecast from any longer history with the fitted parameters (the backtest re-runs each
//! model from several origins without refitting).

pub mod holt_winters;
pub mod mstl_ets;
pub mod naive;
pub mod ridge;
pub mod seasonal_trend;

use serde::Serialize;

/// The calendar of a prepared series: seasonal periods in steps (daily, then weekly), and
/// the time of index 0 for calendar features.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesContext {
    pub start_unix: i64,
    pub step_seconds: i64,
    /// Steps per day, when the data holds two days.
    pub daily: Option<usize>,
    /// Steps per week, when the data holds two weeks plus a backtest horizon.
    pub weekly: Option<usize>,
    /// Every value is > 0: the decomposition and regression models work on logarithms, where
    /// demand's multiplicative daily x weekly shape becomes additive.
    pub positive: bool,
    /// Steps ahead the models are fitted to forecast (the backtested horizon).
    pub horizon: usize,
    /// Training length that fixes a model's structure (the ridge's lag count): the history
    /// before the earliest backtest origin, so the final fit has the structure the backtest
    /// measured, not a richer one.
    pub structure_len: usize,
}

impl SeriesContext {
    pub fn periods(&self) -> Vec<usize> {
        self.daily.into_iter().chain(self.weekly).collect()
    }

    /// The MASE season: one day where there is a daily cycle, else one step.
    pub fn scale_season(&self) -> usize {
        self.daily.unwrap_or(1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Last value (series too short for a daily cycle).
    Naive,
    SeasonalNaiveDaily,
    SeasonalNaiveWeekly,
    /// Mean of the last few weeks (days without a weekly cycle) at the latest level.
    SeasonalMean,
    /// The last seasons' profile on a robust straight trend line (the growth model).
    SeasonalTrend,
    HoltWinters,
    MstlEts,
    Ridge,
    /// Weighted mean of the other models, weights chosen on earlier backtest origins only
    /// (see `forecast::ensemble`).
    Ensemble,
}

impl ModelKind {
    pub const ALL: [ModelKind; 9] = [
        ModelKind::Naive,
        ModelKind::SeasonalNaiveDaily,
        ModelKind::SeasonalNaiveWeekly,
        ModelKind::SeasonalMean,
        ModelKind::SeasonalTrend,
        ModelKind::HoltWinters,
        ModelKind::MstlEts,
        ModelKind::Ridge,
        ModelKind::Ensemble,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Naive => "naive",
            ModelKind::SeasonalNaiveDaily => "seasonal_naive_daily",
            ModelKind::SeasonalNaiveWeekly => "seasonal_naive_weekly",
            ModelKind::SeasonalMean => "seasonal_mean",
            ModelKind::SeasonalTrend => "seasonal_trend",
            ModelKind::HoltWinters => "holt_winters",
            ModelKind::MstlEts => "mstl_ets",
            ModelKind::Ridge => "ridge",
            ModelKind::Ensemble => "ensemble",
        }
    }

    pub fn parse(name: &str) -> Option<ModelKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the model applies to a series with this calendar.
    pub fn applies(self, ctx: &SeriesContext) -> bool {
        match self {
            ModelKind::Naive => ctx.daily.is_none(),
            ModelKind::SeasonalNaiveDaily => ctx.daily.is_some(),
            ModelKind::SeasonalNaiveWeekly => ctx.weekly.is_some(),
            ModelKind::SeasonalMean => ctx.daily.is_some(),
            ModelKind::SeasonalTrend
            | ModelKind::HoltWinters
            | ModelKind::MstlEts
            | ModelKind::Ridge
            | ModelKind::Ensemble => true,
        }
    }

    /// The seasonal naive baselines (the bar the others must clear).
    pub fn is_baseline(self) -> bool {
        matches!(
            self,
            ModelKind::Naive | ModelKind::SeasonalNaiveDaily | ModelKind::SeasonalNaiveWeekly
        )
    }
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub enum Fitted {
    SeasonalNaive {
        period: usize,
    },
    SeasonalMean {
        period: usize,
    },
    SeasonalTrend {
        period: usize,
        /// Every value > 0: the season may scale with the level.
        positive: bool,
    },
    HoltWinters(holt_winters::Params),
    MstlEts(mstl_ets::Params),
    Ridge(ridge::Model),
    /// A fitted model run on the logarithm of the series.
    Log(Box<Fitted>),
}

/// Fits `kind` on `train` (no missing values). None when the model does not apply or the
/// data cannot support it, and for the ensemble, which is built from the others' backtests.
pub fn fit(kind: ModelKind, train: &[f64], ctx: &SeriesContext) -> Option<Fitted> {
    if !kind.applies(ctx) || train.is_empty() {
        return None;
    }
    let periods = ctx.periods();
    Some(match kind {
        ModelKind::Naive => Fitted::SeasonalNaive { period: 1 },
        ModelKind::SeasonalNaiveDaily => Fitted::SeasonalNaive { period: ctx.daily? },
        ModelKind::SeasonalNaiveWeekly => Fitted::SeasonalNaive {
            period: ctx.weekly?,
        },
        ModelKind::SeasonalMean if ctx.positive => Fitted::Log(Box::new(Fitted::SeasonalMean {
            period: ctx.weekly.or(ctx.daily)?,
        })),
        ModelKind::SeasonalMean => Fitted::SeasonalMean {
            period: ctx.weekly.or(ctx.daily)?,
        },
        // On the values, not their logarithms: a straight line in logs is compound growth,
        // which a few weeks' slope carried 90 days ahead overstates.
        ModelKind::SeasonalTrend => Fitted::SeasonalTrend {
            period: ctx.weekly.or(ctx.daily).unwrap_or(1),
            positive: ctx.positive,
        },
        ModelKind::HoltWinters if ctx.positive => Fitted::Log(Box::new(Fitted::HoltWinters(
            holt_winters::fit(&ln(train), &periods, ctx.horizon),
        ))),
        ModelKind::HoltWinters => {
            Fitted::HoltWinters(holt_winters::fit(train, &periods, ctx.horizon))
        }
        ModelKind::MstlEts if ctx.positive => Fitted::Log(Box::new(Fitted::MstlEts(
            mstl_ets::fit(&ln(train), ctx.step_seconds, &periods, ctx.horizon),
        ))),
        ModelKind::MstlEts => Fitted::MstlEts(mstl_ets::fit(
            train,
            ctx.step_seconds,
            &periods,
            ctx.horizon,
        )),
        ModelKind::Ridge if ctx.positive => Fitted::Log(Box::new(Fitted::Ridge(ridge::fit(
            &ln(train),
            ctx.start_unix,
            ctx.step_seconds,
            &periods,
            ctx.horizon,
            ctx.structure_len,
        )?))),
        ModelKind::Ridge => Fitted::Ridge(ridge::fit(
            train,
            ctx.start_unix,
            ctx.step_seconds,
            &periods,
            ctx.horizon,
            ctx.structure_len,
        )?),
        ModelKind::Ensemble => return None,
    })
}

impl Fitted {
    /// The `horizon` values after `history` (index 0 of `history` is `ctx.start_unix`).
    /// Empty when the history is too short for the model.
    pub fn forecast_from(&self, history: &[f64], ctx: &SeriesContext, horizon: usize) -> Vec<f64> {
        let periods = ctx.periods();
        let out = match self {
            Fitted::SeasonalNaive { period } => naive::seasonal_naive(history, *period, horizon),
            Fitted::SeasonalMean { period } => {
                naive::seasonal_mean(history, *period, naive::MEAN_SEASONS, horizon)
            }
            Fitted::SeasonalTrend { period, positive } => {
                seasonal_trend::forecast(history, *period, *positive, horizon)
            }
            Fitted::HoltWinters(p) => holt_winters::forecast(history, &periods, p, horizon),
            Fitted::MstlEts(p) => {
                mstl_ets::forecast(history, ctx.step_seconds, &periods, p, horizon)
            }
            Fitted::Ridge(m) => m.forecast(history, horizon),
            Fitted::Log(inner) => inner
                .forecast_from(&ln(history), ctx, horizon)
                .iter()
                .map(|v| v.exp())
                .collect(),
        };
        // A diverging fit is no forecast at all.
        if out.iter().all(|v| v.is_finite()) {
            out
        } else {
            Vec::new()
        }
    }
}

fn ln(values: &[f64]) -> Vec<f64> {
    values.iter().map(|v| v.ln()).collect()
}
