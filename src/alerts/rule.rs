//! The alert rule model: one list of rules drives both the in-app evaluator
//! ([`super::eval`]) and the exported Prometheus alerting rules ([`super::promql`]), so what
//! users watch in the TUI is what pages them later.

use serde::{Deserialize, Serialize};

use crate::duration::parse_duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// What a rule watches, with the parameters its condition needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertKind {
    /// Ready replicas at (or above) the group's maximum.
    AtMaxCapacity,
    /// A thrash pair (CONTRACTS.md: a scale one way then the other within the thrash window)
    /// with an event inside the last `window_seconds`.
    Thrashing { window_seconds: i64 },
    /// p95 latency over `p95_ms` (or requests dropped) while desired != ready.
    SlaViolationDuringScaling { p95_ms: f64 },
    /// Desired above ready; the rule's `for` is the scale-up target.
    SlowScaleUp,
    /// The linear trend of desired replicas over `lookback_seconds` reaches the maximum
    /// within `horizon_seconds` (the same least-squares line as PromQL `predict_linear`).
    ForecastRunway {
        lookback_seconds: i64,
        horizon_seconds: i64,
    },
    /// Fleet cost rate over budget. PromQL has no cost series, so the exported rule needs
    /// `price_usd_per_replica_hour` (replicas x price); without it the rule is in-app only.
    CostOverBudget {
        budget_usd_per_hour: f64,
        price_usd_per_replica_hour: Option<f64>,
    },
    /// A data source (or, in Prometheus, a scrape target) is down.
    SourceDown,
}

impl AlertKind {
    pub fn name(&self) -> &'static str {
        match self {
            AlertKind::AtMaxCapacity => "at_max_capacity",
            AlertKind::Thrashing { .. } => "thrashing",
            AlertKind::SlaViolationDuringScaling { .. } => "sla_violation_during_scaling",
            AlertKind::SlowScaleUp => "slow_scale_up",
            AlertKind::ForecastRunway { .. } => "forecast_runway",
            AlertKind::CostOverBudget { .. } => "cost_over_budget",
            AlertKind::SourceDown => "source_down",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRule {
    /// Alert name, e.g. `ScaletopAtMaxCapacity` (also the Prometheus `alert:`).
    pub name: String,
    #[serde(flatten)]
    pub kind: AlertKind,
    /// How long the condition must hold before the alert fires (pending until then).
    pub for_seconds: i64,
    pub severity: Severity,
    pub summary: String,
    /// What to check and do; exported as the `runbook` annotation.
    pub runbook: String,
}

/// The built-in rules (all but cost, which needs a budget from config).
pub fn default_rules() -> Vec<AlertRule> {
    let rule = |name: &str, kind, for_seconds, severity, summary: &str, runbook: &str| AlertRule {
        name: name.to_string(),
        kind,
        for_seconds,
        severity,
        summary: summary.to_string(),
        runbook: runbook.to_string(),
    };
    vec![
        rule(
            "ScaletopAtMaxCapacity",
            AlertKind::AtMaxCapacity,
            600,
            Severity::Critical,
            "group at its maximum replicas for 10 minutes",
            "Demand may exceed what the group can serve. Check latency and errors; raise the \
             maximum or add capacity; `scaletop forecast` shows how much is needed.",
        ),
        rule(
            "ScaletopThrashing",
            AlertKind::Thrashing {
                window_seconds: crate::engine::events::DEFAULT_THRASH_WINDOW_SECONDS,
            },
            0,
            Severity::Warning,
            "scaled one way then the other within 10 minutes without a demand change",
            "Thresholds too close or cooldown too short. Widen the tolerance or lengthen the \
             scale-down stabilization; `scaletop simulate` replays the change.",
        ),
        rule(
            "ScaletopSlaViolationDuringScaling",
            AlertKind::SlaViolationDuringScaling { p95_ms: 200.0 },
            120,
            Severity::Critical,
            "p95 latency over the SLO while replicas are catching up",
            "Scale-up too slow for the demand rise: consider a lower target, larger scale-up \
             steps, a warm pool or predictive scaling.",
        ),
        rule(
            "ScaletopSlowScaleUp",
            AlertKind::SlowScaleUp,
            300,
            Severity::Warning,
            "desired replicas above ready for longer than the 5-minute scale-up target",
            "Replicas are slow to become ready: check image pulls, node capacity and startup \
             probes; a warm pool shortens provisioning.",
        ),
        rule(
            "ScaletopForecastRunway",
            AlertKind::ForecastRunway {
                lookback_seconds: 6 * 3600,
                horizon_seconds: 2 * 3600,
            },
            1800,
            Severity::Warning,
            "replica trend reaches the maximum within 2 hours",
            "Capacity will run out at the current growth: raise the maximum or plan capacity \
             before the peak; `scaletop forecast --horizon 2h` gives the runway.",
        ),
        rule(
            "ScaletopSourceDown",
            AlertKind::SourceDown,
            300,
            Severity::Critical,
            "a metrics source has been down for 5 minutes",
            "Scaling decisions and these alerts are blind while the source is down: check the \
             endpoint, credentials and network.",
        ),
    ]
}

/// Alert settings in config (`[alerts]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// A new firing alert in an already-notified group waits this long (Alertmanager
    /// `group_interval`).
    pub group_interval: String,
    /// A still-firing group is notified again after this long (Alertmanager
    /// `repeat_interval`).
    pub renotify: String,
    /// Names of built-in rules to turn off.
    pub disabled: Vec<String>,
    /// Overrides of built-in rules (by name) and added rules.
    pub rules: Vec<AlertRuleConfig>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            group_interval: "5m".into(),
            renotify: "4h".into(),
            disabled: Vec::new(),
            rules: Vec::new(),
        }
    }
}

/// One rule as written in config; fields left out keep the built-in rule's value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertRuleConfig {
    pub name: String,
    /// Needed for a new rule: at_max_capacity, thrashing, sla_violation_during_scaling,
    /// slow_scale_up, forecast_runway, cost_over_budget, source_down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// p95 ms (sla_violation_during_scaling) or USD per hour (cost_over_budget).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Window: thrash window (thrashing) or look-back (forecast_runway).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// forecast_runway only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub horizon: Option<String>,
    /// cost_over_budget only: lets the exported PromQL compute cost from replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_usd_per_replica_hour: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
}

fn seconds(text: &str, what: &str) -> Result<i64, String> {
    parse_duration(text)
        .map(|d| d.as_secs() as i64)
        .map_err(|e| format!("{what}: {e}"))
}

impl AlertsConfig {
    pub fn group_interval_seconds(&self) -> Result<i64, String> {
        seconds(&self.group_interval, "alerts.group_interval")
    }

    pub fn renotify_seconds(&self) -> Result<i64, String> {
        seconds(&self.renotify, "alerts.renotify")
    }

    /// The effective rules: defaults, minus `disabled`, with `rules` applied.
    pub fn rules(&self) -> Result<Vec<AlertRule>, String> {
        self.group_interval_seconds()?;
        self.renotify_seconds()?;
        let mut rules = default_rules();
        for name in &self.disabled {
            let before = rules.len();
            rules.retain(|r| &r.name != name);
            if rules.len() == before {
                return Err(format!("alerts.disabled: no built-in rule named '{name}'"));
            }
        }
        for c in &self.rules {
            if c.name.trim().is_empty() {
                return Err("alerts.rules: every rule needs a name".into());
            }
            match rules.iter().position(|r| r.name == c.name) {
                Some(i) => rules[i] = apply(rules[i].clone(), c)?,
                None => rules.push(new_rule(c)?),
            }
        }
        Ok(rules)
    }
}

fn new_rule(c: &AlertRuleConfig) -> Result<AlertRule, String> {
    let err = |m: &str| format!("alerts rule '{}': {m}", c.name);
    let kind_name = c
        .kind
        .as_deref()
        .ok_or_else(|| err("a new rule needs `kind`"))?;
    let template = default_rules()
        .into_iter()
        .find(|r| r.kind.name() == kind_name);
    let base = match (kind_name, template) {
        (_, Some(t)) => t,
        ("cost_over_budget", None) => {
            let budget = c
                .threshold
                .ok_or_else(|| err("cost_over_budget needs `threshold` (USD per hour)"))?;
            AlertRule {
                name: String::new(),
                kind: AlertKind::CostOverBudget {
                    budget_usd_per_hour: budget,
                    price_usd_per_replica_hour: None,
                },
                for_seconds: 900,
                severity: Severity::Warning,
                summary: "fleet cost rate over budget".into(),
                runbook: "Cost rate is above the budget: check for a stuck scale-up, \
                          over-provisioned minimums or a demand spike; `scaletop analyze` \
                          shows waste."
                    .into(),
            }
        }
        (other, None) => return Err(err(&format!("unknown kind '{other}'"))),
    };
    let mut rule = apply(base, c)?;
    rule.name = c.name.clone();
    Ok(rule)
}

fn apply(mut rule: AlertRule, c: &AlertRuleConfig) -> Result<AlertRule, String> {
    let err = |m: String| format!("alerts rule '{}': {m}", c.name);
    if let Some(k) = &c.kind {
        if k != rule.kind.name() {
            return Err(err(format!(
                "kind '{k}' does not match the built-in rule's kind '{}'",
                rule.kind.name()
            )));
        }
    }
    if let Some(f) = &c.for_ {
        rule.for_seconds = seconds(f, "for").map_err(err)?;
    }
    if let Some(s) = c.severity {
        rule.severity = s;
    }
    if let Some(s) = &c.summary {
        rule.summary = s.clone();
    }
    if let Some(r) = &c.runbook {
        rule.runbook = r.clone();
    }
    let positive = |v: f64, what: &str| {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(err(format!("{what} must be a positive number, got {v}")))
        }
    };
    match &mut rule.kind {
        AlertKind::Thrashing { window_seconds } => {
            if let Some(w) = &c.window {
                *window_seconds = seconds(w, "window").map_err(err)?;
            }
        }
        AlertKind::SlaViolationDuringScaling { p95_ms } => {
            if let Some(t) = c.threshold {
                *p95_ms = positive(t, "threshold")?;
            }
        }
        AlertKind::ForecastRunway {
            lookback_seconds,
            horizon_seconds,
        } => {
            if let Some(w) = &c.window {
                *lookback_seconds = seconds(w, "window").map_err(err)?;
            }
            if let Some(h) = &c.horizon {
                *horizon_seconds = seconds(h, "horizon").map_err(err)?;
            }
        }
        AlertKind::CostOverBudget {
            budget_usd_per_hour,
            price_usd_per_replica_hour,
        } => {
            if let Some(t) = c.threshold {
                *budget_usd_per_hour = positive(t, "threshold")?;
            }
            if let Some(p) = c.price_usd_per_replica_hour {
                *price_usd_per_replica_hour = Some(positive(p, "price_usd_per_replica_hour")?);
            }
        }
        AlertKind::AtMaxCapacity | AlertKind::SlowScaleUp | AlertKind::SourceDown => {}
    }
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_every_kind_but_cost_and_have_runbooks() {
        let rules = AlertsConfig::default().rules().expect("defaults are valid");
        let kinds: Vec<_> = rules.iter().map(|r| r.kind.name()).collect();
        assert_eq!(
            kinds,
            [
                "at_max_capacity",
                "thrashing",
                "sla_violation_during_scaling",
                "slow_scale_up",
                "forecast_runway",
                "source_down"
            ]
        );
        assert!(rules.iter().all(|r| !r.runbook.is_empty()));
    }

    #[test]
    fn overrides_disables_and_additions() {
        let cfg = AlertsConfig {
            disabled: vec!["ScaletopSourceDown".into()],
            rules: vec![
                AlertRuleConfig {
                    name: "ScaletopAtMaxCapacity".into(),
                    for_: Some("15m".into()),
                    severity: Some(Severity::Warning),
                    ..Default::default()
                },
                AlertRuleConfig {
                    name: "Budget".into(),
                    kind: Some("cost_over_budget".into()),
                    threshold: Some(50.0),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let rules = cfg.rules().expect("valid");
        assert!(!rules.iter().any(|r| r.name == "ScaletopSourceDown"));
        let max = &rules[0];
        assert_eq!((max.for_seconds, max.severity), (900, Severity::Warning));
        let budget = rules.last().expect("added");
        assert_eq!(
            budget.kind,
            AlertKind::CostOverBudget {
                budget_usd_per_hour: 50.0,
                price_usd_per_replica_hour: None
            }
        );
    }

    #[test]
    fn bad_rules_name_the_problem() {
        let bad = |c: AlertRuleConfig| {
            AlertsConfig {
                rules: vec![c],
                ..Default::default()
            }
            .rules()
            .unwrap_err()
        };
        let e = bad(AlertRuleConfig {
            name: "X".into(),
            kind: Some("cost_over_budget".into()),
            ..Default::default()
        });
        assert!(e.contains("threshold"), "{e}");
        let e = bad(AlertRuleConfig {
            name: "X".into(),
            kind: Some("cpu_hot".into()),
            ..Default::default()
        });
        assert!(e.contains("cpu_hot"), "{e}");
        let e = bad(AlertRuleConfig {
            name: "ScaletopSlowScaleUp".into(),
            for_: Some("soon".into()),
            ..Default::default()
        });
        assert!(
            e.contains("ScaletopSlowScaleUp") && e.contains("soon"),
            "{e}"
        );
        let e = AlertsConfig {
            disabled: vec!["Nope".into()],
            ..Default::default()
        }
        .rules()
        .unwrap_err();
        assert!(e.contains("Nope"), "{e}");
    }
}
