//! `[[sources.kubernetes]]`: which cluster (kubeconfig + context) and which namespaces.
//! Always compiled, so a config naming the source is read (and refused with a clear message)
//! by a build without the `kubernetes` feature.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::parse_duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubernetesSourceConfig {
    /// Shown in the Sources view and `snapshot`.
    pub name: String,
    /// Kubeconfig file; empty: `$KUBECONFIG`, else `~/.kube/config`, else in-cluster auth.
    pub kubeconfig: String,
    /// Context in the kubeconfig; empty: its current-context.
    pub context: String,
    /// Namespaces watched; empty: all namespaces.
    pub namespaces: Vec<String>,
    /// How often the latest state is re-sent as samples (the watch delivers changes at once).
    pub resync: String,
    /// Connection timeout per request.
    pub timeout: String,
}

impl Default for KubernetesSourceConfig {
    fn default() -> Self {
        Self {
            name: "kubernetes".into(),
            kubeconfig: String::new(),
            context: String::new(),
            namespaces: Vec::new(),
            resync: "15s".into(),
            timeout: "10s".into(),
        }
    }
}

/// Message for a config with `[[sources.kubernetes]]` read by a build without the feature.
pub const FEATURE_MISSING: &str = "scaletop was built without the `kubernetes` feature; rebuild with `cargo install --features kubernetes`";

impl KubernetesSourceConfig {
    /// What the Sources view shows as the target: context and namespaces, never credentials.
    pub fn target(&self) -> String {
        let context = if self.context.is_empty() {
            "current-context"
        } else {
            &self.context
        };
        let namespaces = if self.namespaces.is_empty() {
            "*".to_string()
        } else {
            self.namespaces.join(",")
        };
        format!("{context}/{namespaces}")
    }

    pub fn resync_interval(&self) -> Result<Duration, String> {
        positive(&self.resync, "resync")
    }

    pub fn timeout_duration(&self) -> Result<Duration, String> {
        positive(&self.timeout, "timeout")
    }
}

fn positive(text: &str, key: &str) -> Result<Duration, String> {
    let d = parse_duration(text).map_err(|e| format!("{key}: {e}"))?;
    if d.is_zero() {
        return Err(format!("{key}: must be longer than 0s"));
    }
    Ok(d)
}

/// Checks a source's settings; the returned message names the key.
pub fn validate(cfg: &KubernetesSourceConfig) -> Result<(), String> {
    if !cfg!(feature = "kubernetes") {
        return Err(FEATURE_MISSING.to_string());
    }
    cfg.resync_interval()?;
    cfg.timeout_duration()?;
    if let Some(ns) = cfg.namespaces.iter().find(|n| !is_dns_label(n)) {
        return Err(format!(
            "namespaces: '{ns}' is not a namespace name (lowercase letters, digits and '-')"
        ));
    }
    Ok(())
}

/// A Kubernetes namespace name (RFC 1123 label).
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_context_and_namespaces_only() {
        let mut c = KubernetesSourceConfig::default();
        assert_eq!(c.target(), "current-context/*");
        c.context = "prod".into();
        c.namespaces = vec!["shop".into(), "api".into()];
        c.kubeconfig = "/secret/path/kubeconfig".into();
        assert_eq!(c.target(), "prod/shop,api");
    }

    #[test]
    fn validation_names_the_key() {
        let c = KubernetesSourceConfig {
            namespaces: vec!["Shop".into()],
            ..Default::default()
        };
        let e = validate(&c).unwrap_err();
        if cfg!(feature = "kubernetes") {
            assert!(e.contains("namespaces") && e.contains("Shop"), "{e}");
            let c = KubernetesSourceConfig {
                resync: "0s".into(),
                ..Default::default()
            };
            assert!(validate(&c).unwrap_err().contains("resync"));
        } else {
            assert_eq!(e, FEATURE_MISSING);
        }
    }
}
