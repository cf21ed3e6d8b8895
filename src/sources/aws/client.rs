//! SDK clients per region from the default credential chain, with the configured retry mode,
//! and failures sorted into what the user should do about them. Messages carry error codes
//! and the SDK's own text, never credentials.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_autoscaling::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::AwsSourceConfig;

/// Why a call failed, by what the user can do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// AWS throttled us beyond the SDK's retries: keep the data, poll less often.
    Throttled(String),
    /// Missing, expired or rejected credentials.
    Credentials(String),
    /// Endpoint unreachable or timing out.
    Unreachable(String),
    Other(String),
}

impl Failure {
    pub fn message(&self) -> String {
        match self {
            Failure::Throttled(m) => format!("throttled by AWS: {m}"),
            Failure::Credentials(m) => format!("AWS credentials: {m}"),
            Failure::Unreachable(m) => format!("cannot reach AWS: {m}"),
            Failure::Other(m) => m.clone(),
        }
    }
}

const THROTTLING: [&str; 6] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
];

const CREDENTIALS: [&str; 9] = [
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "InvalidAccessKeyId",
    "AccessDenied",
    "AccessDeniedException",
];

/// Sorts an SDK error; `op` names the API call.
pub fn classify<E, R>(op: &str, e: &SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let code = err.code().unwrap_or("unknown error");
            let text = match err.message() {
                Some(m) => format!("{op}: {code}: {m}"),
                None => format!("{op}: {code}"),
            };
            if THROTTLING.contains(&code) {
                Failure::Throttled(text)
            } else if CREDENTIALS.contains(&code) {
                let hint = if code.starts_with("Expired") {
                    " (refresh them, e.g. `aws sso login`)"
                } else {
                    ""
                };
                Failure::Credentials(format!("{text}{hint}"))
            } else {
                Failure::Other(text)
            }
        }
        SdkError::TimeoutError(_) => Failure::Unreachable(format!("{op}: timed out")),
        other => {
            let text = format!("{op}: {}", DisplayErrorContext(other));
            if text.to_ascii_lowercase().contains("credential") {
                Failure::Credentials(format!(
                    "{text} (none found in the environment, profile, SSO cache or instance role)"
                ))
            } else if matches!(other, SdkError::DispatchFailure(_)) {
                Failure::Unreachable(text)
            } else {
                Failure::Other(text)
            }
        }
    }
}

/// SDK configuration for one region (or the default region when `region` is None).
pub async fn sdk_config(cfg: &AwsSourceConfig, region: Option<&str>) -> SdkConfig {
    let retry = match cfg.retry_mode.as_str() {
        "standard" => RetryConfig::standard(),
        _ => RetryConfig::adaptive(),
    }
    .with_max_attempts(cfg.max_attempts.max(1));
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .operation_timeout(Duration::from_secs(90))
                .build(),
        );
    if !cfg.profile.is_empty() {
        loader = loader.profile_name(&cfg.profile);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    loader.load().await
}

/// Where requests go, for messages: the override (`AWS_ENDPOINT_URL`) or AWS itself.
pub fn endpoint(conf: &SdkConfig) -> String {
    conf.endpoint_url().map_or_else(
        || "AWS".to_string(),
        |u| {
            // An endpoint URL could carry user:password@; show scheme, host and port only.
            match u.split_once("://") {
                Some((scheme, rest)) => {
                    let host = rest.rsplit('@').next().unwrap_or(rest);
                    format!("{scheme}://{}", host.split('/').next().unwrap_or(host))
                }
                None => u.to_string(),
            }
        },
    )
}
