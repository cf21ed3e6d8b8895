//! JSON-over-HTTP client of the GCP and Azure sources: bearer auth, a per-request timeout, a
//! response size limit, retries on throttling and server errors (the server's `Retry-After`
//! when it gives one, jittered backoff otherwise), and errors that name the endpoint and the
//! permission involved but never carry a token, a query string or a secret the server echoed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};

use super::secret::{scrub, Secret};
use crate::sources::retry::{backoff, retry_after};

/// Error messages quote at most this many characters of what the server said.
const MESSAGE_CHARS: usize = 240;
/// Request latencies kept for p50/p95.
const LATENCY_WINDOW: usize = 128;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RestError {
    #[error("{0}")]
    Config(String),
    #[error("cannot connect to {endpoint}: {detail}")]
    Connect { endpoint: String, detail: String },
    #[error("{endpoint}: no answer within {timeout_seconds}s")]
    Timeout {
        endpoint: String,
        timeout_seconds: f64,
    },
    #[error(
        "{endpoint}: HTTP 401, credentials expired or not accepted{}",
        suffix(message)
    )]
    Unauthorized { endpoint: String, message: String },
    #[error(
        "{endpoint}: HTTP 403, permission denied: needs {permission}{}",
        suffix(message)
    )]
    Forbidden {
        endpoint: String,
        permission: String,
        message: String,
    },
    #[error("{endpoint}: throttled (HTTP {status}{}) and still throttled after {retries} retries{}",
        retry_after_seconds.map(|s| format!(", Retry-After {s}s")).unwrap_or_default(), suffix(message))]
    Throttled {
        endpoint: String,
        status: u16,
        retry_after_seconds: Option<u64>,
        retries: u32,
        message: String,
    },
    #[error("{endpoint}: HTTP {status}{}", suffix(message))]
    Http {
        endpoint: String,
        status: u16,
        message: String,
    },
    #[error("{endpoint}: response larger than {limit_mib} MiB refused")]
    TooLarge { endpoint: String, limit_mib: u64 },
    #[error("{endpoint}: response is not the expected JSON: {detail}")]
    Decode { endpoint: String, detail: String },
    #[error("no {what} token: {detail}")]
    Token { what: String, detail: String },
}

fn suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl RestError {
    fn retryable(&self) -> bool {
        match self {
            RestError::Connect { .. } | RestError::Timeout { .. } => true,
            RestError::Throttled { .. } => true,
            RestError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }

    pub fn is_unauthorized(&self) -> bool {
        matches!(self, RestError::Unauthorized { .. })
    }
}

#[derive(Debug, Clone)]
pub struct RestSettings {
    pub timeout: Duration,
    /// Retries after the first attempt (throttling, 5xx, connection errors, timeouts).
    pub retries: u32,
    pub max_response_bytes: u64,
}

/// What the requests of one round met, for the Sources view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallStats {
    pub requests: u64,
    /// Throttling answers (429, or a rate-limit 403), whether a retry then succeeded or not.
    pub throttled: u64,
    /// Time spent waiting before retries, as the servers asked or by backoff.
    pub waited: Duration,
    /// Lowest `x-ms-ratelimit-remaining-*` header seen (Azure Resource Manager).
    pub ratelimit_remaining: Option<u64>,
}

/// One request; `permission` is named when the server answers 403.
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    pub bearer: Option<&'a Secret>,
    pub headers: &'a [(&'static str, &'a str)],
    /// `application/x-www-form-urlencoded` body; scrubbed from every message.
    pub form: Option<&'a Secret>,
    pub permission: &'a str,
}

impl<'a> Request<'a> {
    pub fn get(url: &'a str, bearer: &'a Secret, permission: &'a str) -> Self {
        Self {
            method: Method::GET,
            url,
            bearer: Some(bearer),
            headers: &[],
            form: None,
            permission,
        }
    }
}

#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    settings: RestSettings,
    stats: Arc<Mutex<CallStats>>,
    latencies: Arc<Mutex<std::collections::VecDeque<f64>>>,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient").finish_non_exhaustive()
    }
}

/// The URL as it may be shown: no credentials, no query, no fragment.
pub fn display_endpoint(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "(invalid url)".into(),
    }
}

/// The server's own explanation: `error.message` of a GCP or Azure error body (with its
/// status or code), else the start of the body as text.
fn server_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => {
            let e = v.get("error").unwrap_or(&v);
            let message = e
                .get("message")
                .and_then(|m| m.as_str())
                .or_else(|| v.get("error_description").and_then(|m| m.as_str()))
                .unwrap_or_default();
            let code = e
                .get("status")
                .or_else(|| e.get("code"))
                .and_then(|c| c.as_str())
                .filter(|c| !message.contains(*c));
            match code {
                Some(c) if !message.is_empty() => format!("{c}: {message}"),
                Some(c) => c.to_string(),
                None => message.to_string(),
            }
        }
        Err(_) => String::from_utf8_lossy(body).to_string(),
    };
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MESSAGE_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// GCP signals rate limits as 429 RESOURCE_EXHAUSTED, and Compute Engine also as 403 with
/// reason `rateLimitExceeded` / `userRateLimitExceeded`.
fn is_rate_limit(status: StatusCode, body: &[u8]) -> bool {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return true;
    }
    if status != StatusCode::FORBIDDEN {
        return false;
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    [
        "rateLimitExceeded",
        "userRateLimitExceeded",
        "RATE_LIMIT_EXCEEDED",
    ]
    .iter()
    .any(|r| text.contains(r))
}

fn lowest_ratelimit_remaining(headers: &HeaderMap) -> Option<u64> {
    headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("x-ms-ratelimit-remaining-"))
        .filter_map(|(_, v)| v.to_str().ok()?.trim().parse::<u64>().ok())
        .min()
}

impl RestClient {
    pub fn new(settings: RestSettings) -> Result<Self, RestError> {
        let http = reqwest::Client::builder()
            .gzip(true)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("scaletop/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RestError::Config(format!("http client: {}", e.without_url())))?;
        Ok(Self {
            http,
            settings,
            stats: Arc::default(),
            latencies: Arc::default(),
        })
    }

    /// Counters since the last call.
    pub fn take_stats(&self) -> CallStats {
        self.stats
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }

    /// (p50, p95) of recent request latencies, milliseconds.
    pub fn latency_ms(&self) -> (Option<f64>, Option<f64>) {
        let Ok(l) = self.latencies.lock() else {
            return (None, None);
        };
        let mut sorted: Vec<f64> = l.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        (
            sorted.get(sorted.len() / 2).copied(),
            sorted.get(sorted.len() * 95 / 100).copied(),
        )
    }

    fn note(&self, f: impl FnOnce(&mut CallStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    /// Sends with retries and decodes the JSON answer.
    pub async fn json(&self, req: &Request<'_>) -> Result<serde_json::Value, RestError> {
        let body = self.send(req).await?;
        serde_json::from_slice(&body).map_err(|e| RestError::Decode {
            endpoint: display_endpoint(req.url),
            detail: e.to_string(),
        })
    }

    /// Sends with retries; returns the body of a 2xx answer.
    pub async fn send(&self, req: &Request<'_>) -> Result<Vec<u8>, RestError> {
        let mut attempt = 0u32;
        loop {
            let started = Instant::now();
            let result = self.send_once(req, attempt).await;
            if let Ok(mut l) = self.latencies.lock() {
                l.push_back(started.elapsed().as_secs_f64() * 1000.0);
                if l.len() > LATENCY_WINDOW {
                    l.pop_front();
                }
            }
            match result {
                Ok(body) => return Ok(body),
                Err((e, asked)) if e.retryable() && attempt < self.settings.retries => {
                    let pause = asked.unwrap_or_else(|| backoff(attempt));
                    tracing::debug!(endpoint = %display_endpoint(req.url), attempt, ?pause, "retrying: {e}");
                    self.note(|s| s.waited += pause);
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    async fn send_once(
        &self,
        req: &Request<'_>,
        attempt: u32,
    ) -> Result<Vec<u8>, (RestError, Option<Duration>)> {
        let endpoint = display_endpoint(req.url);
        let secrets = [req.bearer, req.form];
        let clean = |text: &str| {
            secrets
                .iter()
                .flatten()
                .fold(scrub(text), |t, s| t.replace(s.expose(), "***"))
        };
        let transport = |e: reqwest::Error| {
            let e = e.without_url();
            if e.is_timeout() {
                RestError::Timeout {
                    endpoint: endpoint.clone(),
                    timeout_seconds: self.settings.timeout.as_secs_f64(),
                }
            } else {
                RestError::Connect {
                    endpoint: endpoint.clone(),
                    detail: clean(&crate::sources::error_chain(&e)),
                }
            }
        };
        let mut builder = self.http.request(req.method.clone(), req.url);
        if let Some(token) = req.bearer {
            let mut v =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    (
                        RestError::Config("the access token has invalid characters".into()),
                        None,
                    )
                })?;
            v.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, v);
        }
        for (k, v) in req.headers {
            builder = builder.header(*k, *v);
        }
        if let Some(form) = req.form {
            builder = builder
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.expose().to_string());
        }
        self.note(|s| s.requests += 1);
        let mut resp = builder.send().await.map_err(|e| (transport(e), None))?;
        let status = resp.status();
        let asked = retry_after(resp.headers());
        if let Some(left) = lowest_ratelimit_remaining(resp.headers()) {
            self.note(|s| {
                s.ratelimit_remaining = Some(s.ratelimit_remaining.map_or(left, |v| v.min(left)))
            });
        }
        let limit = self.settings.max_response_bytes;
        let too_large = || RestError::TooLarge {
            endpoint: endpoint.clone(),
            limit_mib: limit / (1024 * 1024),
        };
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err((too_large(), None));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| (transport(e), None))? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err((too_large(), None));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(body);
        }
        let message = clean(&server_message(&body));
        let error = if is_rate_limit(status, &body) {
            self.note(|s| s.throttled += 1);
            RestError::Throttled {
                endpoint,
                status: status.as_u16(),
                retry_after_seconds: asked.map(|d| d.as_secs()),
                retries: attempt,
                message,
            }
        } else if status == StatusCode::UNAUTHORIZED {
            RestError::Unauthorized { endpoint, message }
        } else if status == StatusCode::FORBIDDEN {
            RestError::Forbidden {
                endpoint,
                permission: req.permission.to_string(),
                message,
            }
        } else {
            RestError::Http {
                endpoint,
                status: status.as_u16(),
                message,
            }
        };
        Err((error, asked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_shown_without_query_or_credentials() {
        assert_eq!(
            display_endpoint("https://u:p@compute.example/v1/x?access_token=abc&pageToken=1"),
            "https://compute.example/v1/x"
        );
        assert_eq!(display_endpoint("not a url"), "(invalid url)");
    }

    #[test]
    fn server_messages_of_gcp_and_azure_error_bodies() {
        let gcp = br#"{"error":{"code":403,"message":"Required 'compute.autoscalers.list' permission for 'projects/p'","status":"PERMISSION_DENIED"}}"#;
        assert_eq!(
            server_message(gcp),
            "PERMISSION_DENIED: Required 'compute.autoscalers.list' permission for 'projects/p'"
        );
        let azure = br#"{"error":{"code":"ExpiredAuthenticationToken","message":"The access token expiry UTC time is earlier than current UTC time."}}"#;
        assert!(server_message(azure).starts_with("ExpiredAuthenticationToken: The access"));
        assert_eq!(server_message(b"<html>\n oops"), "<html>  oops");
    }

    #[test]
    fn gcp_rate_limits_are_throttling_even_as_403() {
        let body = br#"{"error":{"errors":[{"domain":"usageLimits","reason":"rateLimitExceeded"}],"code":403}}"#;
        assert!(is_rate_limit(StatusCode::FORBIDDEN, body));
        assert!(!is_rate_limit(StatusCode::FORBIDDEN, b"{}"));
        assert!(is_rate_limit(StatusCode::TOO_MANY_REQUESTS, b""));
    }
}
