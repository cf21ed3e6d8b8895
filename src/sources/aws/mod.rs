//! AWS source (cargo feature `aws`): EC2 Auto Scaling groups with their capacity, instances,
//! instance types, mixed instances policy and warm pool; their scaling policies, alarms and
//! scheduled actions as the group's live policy (a `PolicyModel::Native` document that
//! `engine::policy::parse_policy` replays); scaling activities as platform scaling events; and
//! CloudWatch metrics (CPU, network, ALB requests per target) via GetMetricData; the
//! predictive scaling forecast of a PredictiveScaling policy is summarised in a label.
//!
//! Credentials come from the SDK's default chain (environment, profile, SSO, instance role);
//! `AWS_ENDPOINT_URL` points the SDK at an emulator. Without the feature a `[[sources.aws]]`
//! table is refused when the config is read.

pub mod activity;
pub mod capacity;
#[cfg(feature = "aws")]
mod client;
#[cfg(feature = "aws")]
mod forecast;
#[cfg(feature = "aws")]
mod groups;
#[cfg(feature = "aws")]
mod metrics;
#[cfg(feature = "aws")]
mod policy_doc;
#[cfg(feature = "aws")]
mod source;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use super::Update;

/// What a build without the feature says about a `[[sources.aws]]` table.
pub const NOT_BUILT: &str =
    "built without the `aws` feature; rebuild with `cargo install --features aws`";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsSourceConfig {
    /// Shown in the Sources view and `snapshot`.
    pub name: String,
    /// Named profile of ~/.aws/config (SSO profiles too); empty: the default credential chain.
    pub profile: String,
    /// Regions to read; empty: the profile's or environment's region.
    pub regions: Vec<String>,
    /// Auto Scaling group names to show (`*` matches any run of characters); empty: all.
    pub groups: Vec<String>,
    /// Poll interval of groups, activities and metrics.
    pub interval: String,
    /// CloudWatch datapoint period: 1m with detailed monitoring, else 5m.
    pub period: String,
    /// CloudWatch history fetched at start; "0s" for none.
    pub backfill: String,
    /// SDK retry mode: "standard" or "adaptive" (client-side rate limiting on throttling).
    pub retry_mode: String,
    /// Attempts per request, first included, before a throttled or failed call is reported.
    pub max_attempts: u32,
}

impl Default for AwsSourceConfig {
    fn default() -> Self {
        Self {
            name: "aws".into(),
            profile: String::new(),
            regions: Vec::new(),
            groups: Vec::new(),
            interval: "60s".into(),
            period: "5m".into(),
            backfill: "3h".into(),
            retry_mode: "adaptive".into(),
            max_attempts: 5,
        }
    }
}

impl AwsSourceConfig {
    /// The Sources-view target: profile and regions, never credentials.
    pub fn target(&self) -> String {
        let profile = if self.profile.is_empty() {
            "default chain"
        } else {
            &self.profile
        };
        let regions = if self.regions.is_empty() {
            "default region".to_string()
        } else {
            self.regions.join(",")
        };
        format!("{profile}/{regions}")
    }

    /// Whether a group name passes the `groups` filter.
    pub fn wants(&self, group: &str) -> bool {
        self.groups.is_empty() || self.groups.iter().any(|p| glob(p, group))
    }
}

/// `*`-only glob, anchored at both ends.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Validates the table (for `Config::load`); refuses it in a build without the feature.
pub fn validate(cfg: &AwsSourceConfig) -> Result<(), String> {
    if !cfg!(feature = "aws") {
        return Err(NOT_BUILT.to_string());
    }
    for (key, v) in [
        ("interval", &cfg.interval),
        ("period", &cfg.period),
        ("backfill", &cfg.backfill),
    ] {
        crate::duration::parse_duration(v).map_err(|e| format!("{key}: {e}"))?;
    }
    let period = crate::duration::parse_duration(&cfg.period)
        .map_err(|e| format!("period: {e}"))?
        .as_secs();
    if period == 0 || period % 60 != 0 {
        return Err(format!(
            "period '{}': CloudWatch periods are whole minutes (1m, 5m, ...)",
            cfg.period
        ));
    }
    if !matches!(cfg.retry_mode.as_str(), "standard" | "adaptive") {
        return Err(format!(
            "retry_mode '{}': expected standard or adaptive",
            cfg.retry_mode
        ));
    }
    if cfg.max_attempts == 0 || cfg.max_attempts > 20 {
        return Err(format!(
            "max_attempts {}: must be between 1 and 20",
            cfg.max_attempts
        ));
    }
    if let Some(r) = cfg.regions.iter().find(|r| {
        r.is_empty()
            || !r
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }) {
        return Err(format!(
            "regions: '{r}' is not a region name (e.g. us-east-1)"
        ));
    }
    Ok(())
}

/// Starts the source; in a build without the feature it only reports why it cannot run.
pub fn spawn(cfg: AwsSourceConfig, tx: Sender<Update>) -> JoinHandle<()> {
    #[cfg(feature = "aws")]
    {
        source::spawn(cfg, tx)
    }
    #[cfg(not(feature = "aws"))]
    {
        tokio::spawn(async move {
            let health = super::SourceHealth {
                source: cfg.name.clone(),
                kind: "aws".into(),
                target: cfg.target(),
                state: super::HealthState::Down {
                    reason: NOT_BUILT.into(),
                },
                last_ok: None,
                updates: 0,
                errors: 1,
                details: Default::default(),
            };
            let _ = tx.send(Update::Health(health)).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_filter_globs() {
        let cfg = AwsSourceConfig {
            groups: vec!["web-*".into(), "api".into(), "*-batch-*".into()],
            ..Default::default()
        };
        assert!(cfg.wants("web-prod"));
        assert!(cfg.wants("api"));
        assert!(cfg.wants("eu-batch-1"));
        assert!(!cfg.wants("api-2"));
        assert!(!cfg.wants("web"));
        assert!(AwsSourceConfig::default().wants("anything"));
        assert!(glob("a*a", "aa") && !glob("a*a", "a") && glob("*", ""));
    }

    #[test]
    fn target_names_profile_and_regions_only() {
        let cfg = AwsSourceConfig {
            profile: "prod".into(),
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            ..Default::default()
        };
        assert_eq!(cfg.target(), "prod/us-east-1,eu-west-1");
        assert_eq!(
            AwsSourceConfig::default().target(),
            "default chain/default region"
        );
    }

    #[test]
    fn validation_names_the_bad_key_or_the_missing_feature() {
        let bad = AwsSourceConfig {
            period: "90s".into(),
            ..Default::default()
        };
        let e = validate(&bad).unwrap_err();
        if cfg!(feature = "aws") {
            assert!(e.contains("period"), "{e}");
            let e = validate(&AwsSourceConfig {
                regions: vec!["US East".into()],
                ..Default::default()
            })
            .unwrap_err();
            assert!(e.contains("US East"), "{e}");
            assert!(validate(&AwsSourceConfig::default()).is_ok());
        } else {
            assert_eq!(e, NOT_BUILT);
        }
    }
}
