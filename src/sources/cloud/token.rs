//! Bearer tokens from the usual places: an environment variable, a CLI (`gcloud`, `az`), the
//! GCE metadata server, Azure's instance metadata service (managed identity), or an Azure AD
//! client-credentials grant. Cached, refreshed five minutes before expiry, and dropped on a
//! 401 so the next request fetches a fresh one.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;

use super::rest::{Request, RestClient, RestError};
use super::secret::{form_encode, scrub, Secret};

/// A token is refreshed this long before it expires.
const REFRESH_MARGIN_SECONDS: i64 = 300;
/// A CLI does not say how long its token lives: ask it again after this long (it caches).
const CLI_RECHECK_SECONDS: i64 = 300;
const CLI_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq)]
pub enum TokenSource {
    /// An environment variable holding the token (re-read on every refresh).
    Env { var: String },
    /// A command printing the token, raw or as `az account get-access-token` JSON.
    Command { argv: Vec<String> },
    /// GCE metadata server token endpoint (`Metadata-Flavor: Google`).
    GceMetadata { url: String },
    /// Azure instance metadata service, managed identity (`Metadata: true`).
    AzureImds { url: String },
    /// Azure AD client-credentials grant; ids and secret read from these variables.
    ClientCredentials {
        authority: String,
        scope: String,
        tenant_env: String,
        client_id_env: String,
        client_secret_env: String,
    },
}

impl TokenSource {
    /// Where tokens come from, for the Sources view (never the token).
    pub fn describe(&self) -> String {
        match self {
            TokenSource::Env { var } => format!("${var}"),
            TokenSource::Command { argv } => format!("`{}`", argv.join(" ")),
            TokenSource::GceMetadata { .. } => "GCE metadata server".into(),
            TokenSource::AzureImds { .. } => "managed identity (IMDS)".into(),
            TokenSource::ClientCredentials { client_id_env, .. } => {
                format!("client credentials (${client_id_env})")
            }
        }
    }
}

/// True if `program` is an executable file on PATH (or a path that exists).
pub fn on_path(program: &str) -> bool {
    if program.contains('/') {
        return std::path::Path::new(program).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Non-empty value of an environment variable.
pub fn env_set(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.trim().is_empty())
}

#[derive(Debug)]
pub struct TokenCache {
    source: TokenSource,
    /// "GCP" or "Azure", for messages.
    cloud: &'static str,
    current: Option<(Secret, Option<DateTime<Utc>>)>,
    /// Tokens fetched so far.
    pub fetched: u64,
}

impl TokenCache {
    pub fn new(cloud: &'static str, source: TokenSource) -> Self {
        Self {
            source,
            cloud,
            current: None,
            fetched: 0,
        }
    }

    pub fn source(&self) -> &TokenSource {
        &self.source
    }

    /// Forgets the token (after a 401), so the next `get` fetches a new one.
    pub fn invalidate(&mut self) {
        self.current = None;
    }

    /// A token valid for at least the refresh margin, fetching one when needed.
    pub async fn get(
        &mut self,
        rest: &RestClient,
        now: DateTime<Utc>,
    ) -> Result<Secret, RestError> {
        if let Some((token, expires)) = &self.current {
            let fresh = expires.is_none_or(|e| (e - now).num_seconds() > REFRESH_MARGIN_SECONDS);
            if fresh {
                return Ok(token.clone());
            }
        }
        let (token, expires) = self.fetch(rest, now).await.map_err(|e| match e {
            RestError::Token { .. } => e,
            other => self.error(other.to_string()),
        })?;
        self.fetched += 1;
        self.current = Some((token.clone(), expires));
        Ok(token)
    }

    fn error(&self, detail: impl Into<String>) -> RestError {
        RestError::Token {
            what: format!("{} access", self.cloud),
            detail: format!("{} ({})", detail.into(), self.source.describe()),
        }
    }

    async fn fetch(
        &self,
        rest: &RestClient,
        now: DateTime<Utc>,
    ) -> Result<(Secret, Option<DateTime<Utc>>), RestError> {
        match &self.source {
            TokenSource::Env { var } => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok((Secret::new(v.trim()), None)),
                _ => Err(self.error(format!("environment variable {var} is not set"))),
            },
            TokenSource::Command { argv } => self.run_command(argv, now).await,
            TokenSource::GceMetadata { url } => {
                let req = Request {
                    method: Method::GET,
                    url,
                    bearer: None,
                    headers: &[("Metadata-Flavor", "Google")],
                    form: None,
                    permission: "a service account attached to the VM",
                };
                self.token_json(&rest.json(&req).await?, now)
            }
            TokenSource::AzureImds { url } => {
                let req = Request {
                    method: Method::GET,
                    url,
                    bearer: None,
                    headers: &[("Metadata", "true")],
                    form: None,
                    permission: "a managed identity assigned to the VM",
                };
                self.token_json(&rest.json(&req).await?, now)
            }
            TokenSource::ClientCredentials {
                authority,
                scope,
                tenant_env,
                client_id_env,
                client_secret_env,
            } => {
                let read = |var: &str| {
                    std::env::var(var)
                        .ok()
                        .filter(|v| !v.trim().is_empty())
                        .ok_or_else(|| self.error(format!("environment variable {var} is not set")))
                };
                let tenant = read(tenant_env)?;
                let client_id = read(client_id_env)?;
                let secret = Secret::new(read(client_secret_env)?);
                let url = format!(
                    "{}/{}/oauth2/v2.0/token",
                    authority.trim_end_matches('/'),
                    form_encode(&tenant)
                );
                let form = Secret::new(format!(
                    "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
                    form_encode(&client_id),
                    form_encode(secret.expose()),
                    form_encode(scope)
                ));
                let req = Request {
                    method: Method::POST,
                    url: &url,
                    bearer: None,
                    headers: &[],
                    form: Some(&form),
                    permission: "a valid client secret for the app registration",
                };
                let answer = rest.json(&req).await.map_err(|e| {
                    // The secret is scrubbed by the client; the tenant is not secret.
                    self.error(e.to_string().replace(secret.expose(), "***"))
                })?;
                self.token_json(&answer, now)
            }
        }
    }

    /// `access_token` (or the CLI's `accessToken`) with `expires_on` (Unix seconds, number
    /// or string) or `expires_in` (seconds from now).
    fn token_json(
        &self,
        v: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(Secret, Option<DateTime<Utc>>), RestError> {
        let token = v
            .get("access_token")
            .or_else(|| v.get("accessToken"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.error("the answer has no access_token"))?;
        let number = |key: &str| {
            v.get(key).and_then(|x| {
                x.as_i64()
                    .or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))
            })
        };
        let expires = number("expires_on")
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .or_else(|| number("expires_in").map(|s| now + chrono::Duration::seconds(s)));
        Ok((Secret::new(token), expires))
    }

    async fn run_command(
        &self,
        argv: &[String],
        now: DateTime<Utc>,
    ) -> Result<(Secret, Option<DateTime<Utc>>), RestError> {
        let Some((program, args)) = argv.split_first() else {
            return Err(self.error("token_command is empty"));
        };
        let run = tokio::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = match tokio::time::timeout(CLI_TIMEOUT, run).await {
            Err(_) => {
                return Err(self.error(format!("no answer within {}s", CLI_TIMEOUT.as_secs())))
            }
            Ok(Err(e)) => return Err(self.error(format!("cannot run {program}: {e}"))),
            Ok(Ok(o)) => o,
        };
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            let mut first = scrub(first);
            if !stdout.is_empty() {
                first = first.replace(&stdout, "***");
            }
            return Err(self.error(format!(
                "{program} failed ({}){}",
                output.status,
                if first.is_empty() {
                    String::new()
                } else {
                    format!(": {}", first.trim())
                }
            )));
        }
        if stdout.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(&stdout)
                .map_err(|e| self.error(format!("{program} printed unreadable JSON: {e}")))?;
            let (token, expires) = self.token_json(&v, now)?;
            let recheck = now + chrono::Duration::seconds(CLI_RECHECK_SECONDS);
            return Ok((token, Some(expires.unwrap_or(recheck))));
        }
        let token = stdout.lines().next().unwrap_or("").trim();
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(self.error(format!("{program} printed no token")));
        }
        Ok((
            Secret::new(token),
            Some(now + chrono::Duration::seconds(CLI_RECHECK_SECONDS)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> TokenCache {
        TokenCache::new("Azure", TokenSource::Env { var: "X".into() })
    }

    #[test]
    fn token_answers_of_imds_client_credentials_and_az() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("time");
        // IMDS writes numbers as strings.
        let imds = serde_json::json!({"access_token":"eyJ0.a.b","expires_in":"3599","expires_on":"1700003599","token_type":"Bearer"});
        let (t, e) = cache().token_json(&imds, now).expect("token");
        assert_eq!(
            (t.expose(), e.map(|e| e.timestamp())),
            ("eyJ0.a.b", Some(1_700_003_599))
        );
        let cc = serde_json::json!({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok"});
        let (_, e) = cache().token_json(&cc, now).expect("token");
        assert_eq!(e.map(|e| e.timestamp()), Some(1_700_003_599));
        let az = serde_json::json!({"accessToken":"tok2","expiresOn":"2023-11-14 23:13:20.000000","expires_on":1_700_003_600,"tokenType":"Bearer"});
        let (t, e) = cache().token_json(&az, now).expect("token");
        assert_eq!(
            (t.expose(), e.map(|e| e.timestamp())),
            ("tok2", Some(1_700_003_600))
        );
        let e = cache()
            .token_json(&serde_json::json!({"error":"x"}), now)
            .unwrap_err();
        assert!(e.to_string().contains("no access_token"), "{e}");
    }
}
