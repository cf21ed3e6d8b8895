//! `[[sources.gcp]]`: which project and zones, how to get a token, how often to poll.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::parse_duration;
use crate::sources::cloud::rest::RestSettings;
use crate::sources::cloud::token::{env_set, on_path, TokenSource};

/// The GCE metadata server's token endpoint for the VM's default service account.
pub const METADATA_TOKEN_URL: &str =
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GcpSourceConfig {
    /// Shown in the Sources view and `snapshot`.
    pub name: String,
    /// Project id, e.g. "my-project".
    pub project: String,
    /// Zones or regions to include, e.g. ["us-central1-a", "europe-west1"]; empty: all.
    pub zones: Vec<String>,
    /// Poll interval.
    pub interval: String,
    /// Cloud Monitoring history fetched at start.
    pub lookback: String,
    /// Per request.
    pub timeout: String,
    /// Retries after throttling (429, rate-limit 403), 5xx, timeouts.
    pub retries: u32,
    /// Responses larger than this are refused, MiB.
    pub max_response_mib: u64,
    /// "auto" (env, then gcloud, then the metadata server), "env", "gcloud" or "metadata".
    pub token: String,
    /// Environment variable holding an access token.
    pub token_env: String,
    /// Command printing an access token.
    pub token_command: Vec<String>,
    /// Metadata server token endpoint.
    pub token_url: String,
    /// Compute Engine API base URL.
    pub compute_url: String,
    /// Cloud Monitoring API base URL.
    pub monitoring_url: String,
}

impl Default for GcpSourceConfig {
    fn default() -> Self {
        Self {
            name: "gcp".into(),
            project: String::new(),
            zones: Vec::new(),
            interval: "60s".into(),
            lookback: "1h".into(),
            timeout: "15s".into(),
            retries: 3,
            max_response_mib: 64,
            token: "auto".into(),
            token_env: "GOOGLE_OAUTH_ACCESS_TOKEN".into(),
            token_command: vec!["gcloud".into(), "auth".into(), "print-access-token".into()],
            token_url: METADATA_TOKEN_URL.into(),
            compute_url: "https://compute.googleapis.com".into(),
            monitoring_url: "https://monitoring.googleapis.com".into(),
        }
    }
}

/// The config, checked and resolved.
#[derive(Debug, Clone)]
pub struct GcpSettings {
    pub name: String,
    pub project: String,
    pub zones: Vec<String>,
    pub interval: Duration,
    pub lookback: Duration,
    pub rest: RestSettings,
    pub compute_url: String,
    pub monitoring_url: String,
}

pub fn check_url(key: &str, url: &str) -> Result<String, String> {
    let u = reqwest::Url::parse(url).map_err(|e| format!("{key}: '{url}' is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || !u.username().is_empty() || u.query().is_some() {
        return Err(format!(
            "{key}: '{}' must be an http(s) URL without credentials or query",
            crate::sources::cloud::rest::display_endpoint(url)
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

fn duration(key: &str, v: &str) -> Result<Duration, String> {
    parse_duration(v).map_err(|e| format!("{key}: {e}"))
}

impl GcpSettings {
    pub fn from_config(c: &GcpSourceConfig) -> Result<Self, String> {
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-.:".contains(ch))
        };
        if !valid(&c.project) {
            return Err(format!(
                "project: '{}' is not a project id (e.g. \"my-project\")",
                c.project
            ));
        }
        if let Some(z) = c.zones.iter().find(|z| !valid(z)) {
            return Err(format!("zones: '{z}' is not a zone or region"));
        }
        let interval = duration("interval", &c.interval)?;
        if interval.as_secs() == 0 {
            return Err("interval: must be at least 1s".into());
        }
        token_source(c)?;
        Ok(Self {
            name: c.name.clone(),
            project: c.project.clone(),
            zones: c.zones.clone(),
            interval,
            lookback: duration("lookback", &c.lookback)?,
            rest: RestSettings {
                timeout: duration("timeout", &c.timeout)?,
                retries: c.retries,
                max_response_bytes: c.max_response_mib.max(1).saturating_mul(1024 * 1024),
            },
            compute_url: check_url("compute_url", &c.compute_url)?,
            monitoring_url: check_url("monitoring_url", &c.monitoring_url)?,
        })
    }
}

/// Where the token comes from; "auto" picks the first that is there.
pub fn token_source(c: &GcpSourceConfig) -> Result<TokenSource, String> {
    let env = TokenSource::Env {
        var: c.token_env.clone(),
    };
    let command = TokenSource::Command {
        argv: c.token_command.clone(),
    };
    let metadata = || -> Result<TokenSource, String> {
        Ok(TokenSource::GceMetadata {
            url: check_url("token_url", &c.token_url)?,
        })
    };
    match c.token.as_str() {
        "env" => Ok(env),
        "gcloud" => Ok(command),
        "metadata" => metadata(),
        "auto" => {
            if env_set(&c.token_env) {
                Ok(env)
            } else if c.token_command.first().is_some_and(|p| on_path(p)) {
                Ok(command)
            } else {
                metadata()
            }
        }
        other => Err(format!(
            "token: '{other}' (expected auto, env, gcloud or metadata)"
        )),
    }
}
