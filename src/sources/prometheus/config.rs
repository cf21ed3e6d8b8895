//! `[[sources.prometheus]]` config: where to connect, how to authenticate, what to query.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrometheusSourceConfig {
    /// Shown in the Sources view and `snapshot`.
    pub name: String,
    /// Base URL of anything speaking the Prometheus HTTP query API (Prometheus, Thanos,
    /// Mimir, VictoriaMetrics), e.g. "http://127.0.0.1:9090". Credentials do not go here.
    pub url: String,
    /// "kubernetes", "node-exporter", "http" or "none" (`scaletop sources presets`).
    pub preset: String,
    /// Live poll interval.
    pub interval: String,
    /// History fetched at start ("0s" for none).
    pub backfill: String,
    /// Step of the backfill range queries.
    pub step: String,
    /// Per request, including reading the body.
    pub timeout: String,
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Retries after the first attempt for connection errors, timeouts, 429 and 5xx.
    pub retries: u32,
    /// Responses larger than this are refused, MiB.
    pub max_response_mib: u64,
    pub auth: AuthConfig,
    pub tls: TlsConfig,
    /// Extra request headers, e.g. { "X-Scope-OrgID" = "tenant-1" }.
    pub headers: BTreeMap<String, String>,
    /// Overrides of the preset's PromQL templates by metric name (e.g. "cpu_utilization") or
    /// "discover"; `{group}`, `{scope}` and `{LABEL}` are replaced per group.
    pub queries: BTreeMap<String, String>,
}

impl Default for PrometheusSourceConfig {
    fn default() -> Self {
        Self {
            name: "prometheus".into(),
            url: "http://127.0.0.1:9090".into(),
            preset: "kubernetes".into(),
            interval: "15s".into(),
            backfill: "28d".into(),
            step: "60s".into(),
            timeout: "10s".into(),
            max_concurrency: 4,
            retries: 3,
            max_response_mib: 256,
            auth: AuthConfig::default(),
            tls: TlsConfig::default(),
            headers: BTreeMap::new(),
            queries: BTreeMap::new(),
        }
    }
}

/// Credentials are read from the environment or files, never written in the config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Environment variable holding a bearer token.
    pub bearer_token_env: Option<String>,
    /// File holding a bearer token (e.g. a service-account token).
    pub bearer_token_file: Option<PathBuf>,
    /// Basic auth user name.
    pub username: Option<String>,
    /// Environment variable holding the basic auth password.
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Extra CA certificate(s), PEM.
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key, PEM, for mutual TLS.
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
    /// Turns certificate verification off. Only for throwaway test servers.
    pub insecure_skip_verify: bool,
}
