//! Ranking of recommendations (the recommendations pane and `emit` listings): by monthly saving
//! adjusted for risk, `saving x {low 1.0, medium 0.7, high 0.4}`. A recommendation without a
//! saving estimate counts 0 (it ranks below every saving and above every cost increase); ties go
//! to the lower risk, then the id, so the order is stable.

use std::cmp::Ordering;

use crate::model::{Recommendation, Risk};

pub const RULE: &str = "ranked by monthly saving x risk factor (low 1.0, medium 0.7, high 0.4)";

pub fn risk_factor(r: Risk) -> f64 {
    match r {
        Risk::Low => 1.0,
        Risk::Medium => 0.7,
        Risk::High => 0.4,
    }
}

/// Monthly saving weighted by risk, USD.
pub fn adjusted_saving(rec: &Recommendation) -> f64 {
    rec.saving_usd_month
        .filter(|s| s.is_finite())
        .unwrap_or(0.0)
        * risk_factor(rec.risk)
}

/// Sorts best first.
pub fn rank(recs: &mut [Recommendation]) {
    recs.sort_by(|a, b| {
        adjusted_saving(b)
            .partial_cmp(&adjusted_saving(a))
            .unwrap_or(Ordering::Equal)
            .then(a.risk.cmp(&b.risk))
            .then_with(|| a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupId, Platform, RecommendationKind, RECOMMENDATION_SCHEMA};

    fn rec(id: &str, saving: Option<f64>, risk: Risk) -> Recommendation {
        Recommendation {
            schema: RECOMMENDATION_SCHEMA.into(),
            id: id.into(),
            kind: RecommendationKind::Policy,
            group: GroupId::new(Platform::K8s, "shop", "web"),
            title: id.into(),
            evidence: vec![],
            saving_usd_month: saving,
            risk,
            artifact: serde_json::Value::Null,
        }
    }

    #[test]
    fn risk_discounts_the_saving() {
        // $1000 at high risk (400) ranks below $600 at low risk (600) and $800 at medium (560).
        let mut recs = vec![
            rec("high", Some(1000.0), Risk::High),
            rec("none", None, Risk::Low),
            rec("costs", Some(-50.0), Risk::Low),
            rec("medium", Some(800.0), Risk::Medium),
            rec("low", Some(600.0), Risk::Low),
        ];
        rank(&mut recs);
        let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["low", "medium", "high", "none", "costs"]);
        assert!((adjusted_saving(&recs[1]) - 560.0).abs() < 1e-9);
    }
}
