//! Savings and ROI exactly as ../shared/CONTRACTS.md defines them: monthly saving = current
//! monthly cost − projected monthly cost at the same demand; ROI over 12 months =
//! (12 × monthly saving − one-off cost) / one-off cost where there is a one-off cost (upfront
//! commitments); payback months otherwise.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Saving {
    pub current_usd_month: f64,
    pub projected_usd_month: f64,
    pub saving_usd_month: f64,
    /// saving / current, percent (0 when current is 0).
    pub saving_pct: f64,
    pub one_off_usd: f64,
    /// Set when there is a one-off cost.
    pub roi_12_months: Option<f64>,
    /// one-off / monthly saving (0 with no one-off cost); None when nothing is saved.
    pub payback_months: Option<f64>,
}

pub fn saving(current_usd_month: f64, projected_usd_month: f64, one_off_usd: f64) -> Saving {
    let s = current_usd_month - projected_usd_month;
    let pct = if current_usd_month > 0.0 {
        100.0 * s / current_usd_month
    } else {
        0.0
    };
    let roi = (one_off_usd > 0.0).then(|| (12.0 * s - one_off_usd) / one_off_usd);
    let payback = (s > 0.0).then(|| one_off_usd.max(0.0) / s);
    Saving {
        current_usd_month,
        projected_usd_month,
        saving_usd_month: s,
        saving_pct: pct,
        one_off_usd,
        roi_12_months: roi,
        payback_months: payback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_definitions() {
        // $1,000 -> $700 a month: $300 saved, 30%; paid back at once with no one-off cost.
        let s = saving(1000.0, 700.0, 0.0);
        assert_eq!((s.saving_usd_month, s.saving_pct), (300.0, 30.0));
        assert_eq!((s.roi_12_months, s.payback_months), (None, Some(0.0)));
        // With a $1,200 upfront: ROI = (12 x 300 - 1200) / 1200 = 2.0; payback 4 months.
        let s = saving(1000.0, 700.0, 1200.0);
        assert_eq!(s.roi_12_months, Some(2.0));
        assert_eq!(s.payback_months, Some(4.0));
        assert_eq!(saving(100.0, 120.0, 0.0).payback_months, None);
    }
}
