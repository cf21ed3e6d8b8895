//! Monthly cost per group and its allocation by label (team, service, ...).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::pricing::PriceStatus;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupCost {
    pub group: String,
    pub labels: BTreeMap<String, String>,
    /// e.g. "m5.xlarge in us-east-1", "Lambda 512 MB", "pods on e2-standard-8".
    pub priced_as: String,
    pub usd_per_hour_now: f64,
    pub current_usd_month: f64,
    pub projected_usd_month: f64,
    /// Requests served per month (None when the group has no request rate).
    pub requests_per_month: Option<f64>,
    pub price_status: PriceStatus,
    pub price_source: String,
}

impl GroupCost {
    pub fn usd_per_million_requests(&self, projected: bool) -> Option<f64> {
        let usd = if projected {
            self.projected_usd_month
        } else {
            self.current_usd_month
        };
        self.requests_per_month
            .filter(|r| *r > 0.0)
            .map(|r| usd / r * 1e6)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelCost {
    pub value: String,
    pub groups: usize,
    pub current_usd_month: f64,
    pub projected_usd_month: f64,
}

/// Sums groups by the value of `label` ("(none)" when a group lacks it).
pub fn by_label(groups: &[GroupCost], label: &str) -> Vec<LabelCost> {
    let mut m: BTreeMap<String, LabelCost> = BTreeMap::new();
    for g in groups {
        let v = g
            .labels
            .get(label)
            .cloned()
            .unwrap_or_else(|| "(none)".into());
        let e = m.entry(v.clone()).or_insert(LabelCost {
            value: v,
            groups: 0,
            current_usd_month: 0.0,
            projected_usd_month: 0.0,
        });
        e.groups += 1;
        e.current_usd_month += g.current_usd_month;
        e.projected_usd_month += g.projected_usd_month;
    }
    let mut v: Vec<LabelCost> = m.into_values().collect();
    v.sort_by(|a, b| b.current_usd_month.total_cmp(&a.current_usd_month));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(name: &str, team: &str, usd: f64) -> GroupCost {
        GroupCost {
            group: name.into(),
            labels: BTreeMap::from([("team".to_string(), team.to_string())]),
            priced_as: String::new(),
            usd_per_hour_now: 0.0,
            current_usd_month: usd,
            projected_usd_month: usd / 2.0,
            requests_per_month: Some(1e8),
            price_status: PriceStatus::Verified,
            price_source: String::new(),
        }
    }

    #[test]
    fn teams_sum_and_cost_per_million_requests() {
        let gs = [
            g("a", "web", 100.0),
            g("b", "web", 50.0),
            g("c", "data", 400.0),
        ];
        let t = by_label(&gs, "team");
        assert_eq!(t[0].value, "data");
        assert_eq!((t[1].groups, t[1].current_usd_month), (2, 150.0));
        // $100 for 100M requests = $1 per million.
        assert_eq!(gs[0].usd_per_million_requests(false), Some(1.0));
    }
}
