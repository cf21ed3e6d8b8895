//! Retry timing shared by every HTTP source: exponential backoff with full jitter, and the
//! server's own `Retry-After` when it gives one.

use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// First retry waits up to this long; each further retry doubles it.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(8);
/// A server asking for a longer pause than this gets this.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(30);

/// Seconds form of `Retry-After`, capped at [`RETRY_AFTER_CAP`] (the HTTP-date form falls
/// back to backoff).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs).min(RETRY_AFTER_CAP))
}

/// Full jitter: uniform in [0, min(cap, base x 2^attempt)].
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_CAP);
    let ms = rand::rng().random_range(0..=ceiling.as_millis() as u64);
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 0..20 {
            assert!(backoff(attempt) <= BACKOFF_CAP);
        }
    }

    #[test]
    fn retry_after_seconds_are_read_and_capped() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(retry_after(&h), Some(RETRY_AFTER_CAP));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
    }
}
