//! Alerts: one rule model (`rule`) evaluated in-app (`condition`, `eval`) and exported as
//! Prometheus alerting rules (`promql`).

pub mod condition;
pub mod eval;
pub mod promql;
pub mod rule;

pub use eval::{AlertInstance, AlertState, Evaluator, Notification};
pub use promql::prometheus_rules_yaml;
pub use rule::{default_rules, AlertKind, AlertRule, AlertRuleConfig, AlertsConfig, Severity};
