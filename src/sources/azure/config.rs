//! `[[sources.azure]]`: which subscription and resource groups, how to get a token, how often
//! to poll.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::parse_duration;
use crate::sources::cloud::rest::RestSettings;
use crate::sources::cloud::token::{env_set, on_path, TokenSource};
use crate::sources::gcp::config::check_url;

/// Azure Resource Manager, the audience of the token.
pub const MANAGEMENT_URL: &str = "https://management.azure.com";
/// Instance metadata service token endpoint for the VM's managed identity.
pub const IMDS_TOKEN_URL: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AzureSourceConfig {
    /// Shown in the Sources view and `snapshot`.
    pub name: String,
    /// Subscription id.
    pub subscription: String,
    /// Resource groups to read; empty: the whole subscription.
    pub resource_groups: Vec<String>,
    /// Poll interval.
    pub interval: String,
    /// Azure Monitor metrics and Activity Log history fetched at start.
    pub lookback: String,
    pub timeout: String,
    /// Retries after throttling (429), 5xx, timeouts.
    pub retries: u32,
    pub max_response_mib: u64,
    /// Read autoscale runs from the Activity Log as scaling events.
    pub events: bool,
    /// "auto" (env, client credentials, az, then managed identity), "env",
    /// "client_credentials", "az" or "managed_identity".
    pub token: String,
    pub token_env: String,
    pub token_command: Vec<String>,
    /// Managed identity (IMDS) token endpoint.
    pub token_url: String,
    /// Azure AD authority for client credentials.
    pub authority_url: String,
    pub tenant_id_env: String,
    pub client_id_env: String,
    pub client_secret_env: String,
    /// Azure Resource Manager base URL.
    pub management_url: String,
}

impl Default for AzureSourceConfig {
    fn default() -> Self {
        Self {
            name: "azure".into(),
            subscription: String::new(),
            resource_groups: Vec::new(),
            interval: "60s".into(),
            lookback: "1h".into(),
            timeout: "15s".into(),
            retries: 3,
            max_response_mib: 64,
            events: true,
            token: "auto".into(),
            token_env: "AZURE_ACCESS_TOKEN".into(),
            token_command: [
                "az",
                "account",
                "get-access-token",
                "--resource",
                "https://management.azure.com/",
                "--output",
                "json",
            ]
            .map(String::from)
            .to_vec(),
            token_url: IMDS_TOKEN_URL.into(),
            authority_url: "https://login.microsoftonline.com".into(),
            tenant_id_env: "AZURE_TENANT_ID".into(),
            client_id_env: "AZURE_CLIENT_ID".into(),
            client_secret_env: "AZURE_CLIENT_SECRET".into(),
            management_url: MANAGEMENT_URL.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AzureSettings {
    pub name: String,
    pub subscription: String,
    pub resource_groups: Vec<String>,
    pub interval: Duration,
    pub lookback: Duration,
    pub events: bool,
    pub rest: RestSettings,
    pub management_url: String,
}

fn duration(key: &str, v: &str) -> Result<Duration, String> {
    parse_duration(v).map_err(|e| format!("{key}: {e}"))
}

fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.()".contains(c))
}

impl AzureSettings {
    pub fn from_config(c: &AzureSourceConfig) -> Result<Self, String> {
        if !plain(&c.subscription) {
            return Err(format!(
                "subscription: '{}' is not a subscription id",
                c.subscription
            ));
        }
        if let Some(rg) = c.resource_groups.iter().find(|g| !plain(g)) {
            return Err(format!(
                "resource_groups: '{rg}' is not a resource group name"
            ));
        }
        let interval = duration("interval", &c.interval)?;
        if interval.as_secs() == 0 {
            return Err("interval: must be at least 1s".into());
        }
        token_source(c)?;
        Ok(Self {
            name: c.name.clone(),
            subscription: c.subscription.clone(),
            resource_groups: c.resource_groups.clone(),
            interval,
            lookback: duration("lookback", &c.lookback)?,
            events: c.events,
            rest: RestSettings {
                timeout: duration("timeout", &c.timeout)?,
                retries: c.retries,
                max_response_bytes: c.max_response_mib.max(1).saturating_mul(1024 * 1024),
            },
            management_url: check_url("management_url", &c.management_url)?,
        })
    }
}

pub fn token_source(c: &AzureSourceConfig) -> Result<TokenSource, String> {
    let env = TokenSource::Env {
        var: c.token_env.clone(),
    };
    let client = || -> Result<TokenSource, String> {
        Ok(TokenSource::ClientCredentials {
            authority: check_url("authority_url", &c.authority_url)?,
            scope: format!("{MANAGEMENT_URL}/.default"),
            tenant_env: c.tenant_id_env.clone(),
            client_id_env: c.client_id_env.clone(),
            client_secret_env: c.client_secret_env.clone(),
        })
    };
    let command = TokenSource::Command {
        argv: c.token_command.clone(),
    };
    let imds = || -> Result<TokenSource, String> {
        let base = check_url("token_url", &c.token_url)?;
        Ok(TokenSource::AzureImds {
            url: format!(
                "{base}?api-version=2018-02-01&resource={}",
                crate::sources::cloud::secret::form_encode(&format!("{MANAGEMENT_URL}/"))
            ),
        })
    };
    match c.token.as_str() {
        "env" => Ok(env),
        "client_credentials" => client(),
        "az" => Ok(command),
        "managed_identity" => imds(),
        "auto" => {
            if env_set(&c.token_env) {
                Ok(env)
            } else if [&c.tenant_id_env, &c.client_id_env, &c.client_secret_env]
                .iter()
                .all(|v| env_set(v))
            {
                client()
            } else if c.token_command.first().is_some_and(|p| on_path(p)) {
                Ok(command)
            } else {
                imds()
            }
        }
        other => Err(format!(
            "token: '{other}' (expected auto, env, client_credentials, az or managed_identity)"
        )),
    }
}
