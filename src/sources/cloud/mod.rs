//! What the GCP and Azure sources share: the REST client, tokens, secrets, and reporting a
//! polling round to the store and the Sources view.

pub mod rest;
pub mod secret;
pub mod token;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::Sender;

use self::rest::{CallStats, RestError};
use crate::model::{CurrentPolicy, GroupId, GroupInfo, PolicyModel, PolicyProvenance};
use crate::sources::{HealthState, SourceDetails, SourceHealth, Update};

/// Below this many Azure Resource Manager reads left in the hour, the Sources view warns.
const RATELIMIT_WARN_BELOW: u64 = 100;

/// What one polling round found.
#[derive(Debug, Default)]
pub struct Round {
    /// Groups first, then samples and events.
    pub updates: Vec<Update>,
    /// Something to know that is not an error ("no autoscalers in project p").
    pub note: Option<String>,
    /// Parts that failed or look wrong while the rest worked (metrics denied, an autoscaler
    /// in ERROR).
    pub warnings: Vec<String>,
}

/// A live platform policy document, checked with the replay's own parser. The policy is
/// kept when the parser refuses it (the Policies tab then says why), with a warning.
pub fn native_policy(
    group: &GroupId,
    text: String,
) -> (CurrentPolicy, Option<(u32, u32)>, Option<String>) {
    let parsed = crate::engine::policy::parse_policy(&text);
    let (bounds, warning) = match parsed {
        Ok(a) => (Some(a.bounds()), None),
        Err(e) => (None, Some(format!("{group}: policy not replayable: {e}"))),
    };
    (
        CurrentPolicy {
            model: PolicyModel::Native { text },
            provenance: PolicyProvenance::PlatformApi,
        },
        bounds,
        warning,
    )
}

/// Sends a source's rounds to the store and keeps its health.
pub struct Reporter {
    tx: Sender<Update>,
    pub health: SourceHealth,
    sent: HashMap<GroupId, GroupInfo>,
    delivered: u64,
}

impl Reporter {
    pub fn new(name: &str, kind: &str, target: String, tx: Sender<Update>) -> Self {
        Self {
            tx,
            health: SourceHealth {
                source: name.to_string(),
                kind: kind.to_string(),
                target,
                state: HealthState::Starting,
                last_ok: None,
                updates: 0,
                errors: 0,
                details: SourceDetails::default(),
            },
            sent: HashMap::new(),
            delivered: 0,
        }
    }

    /// Sends the round's updates (a group only when it changed) and an Up health report.
    /// False when the receiver is gone.
    pub async fn deliver(
        &mut self,
        round: Round,
        stats: CallStats,
        latency: (Option<f64>, Option<f64>),
    ) -> bool {
        let mut series = 0u64;
        for u in round.updates {
            match &u {
                Update::Group(g) => {
                    if self.sent.get(&g.id) == Some(g.as_ref()) {
                        continue;
                    }
                    self.sent.insert(g.id.clone(), g.as_ref().clone());
                }
                Update::Samples { samples, .. } => {
                    series += samples.len() as u64;
                    self.delivered += samples.len() as u64;
                }
                _ => {}
            }
            self.health.updates += 1;
            if self.tx.send(u).await.is_err() {
                return false;
            }
        }
        self.health.state = HealthState::Up;
        self.health.last_ok = Some(Utc::now());
        let d = &mut self.health.details;
        d.series = Some(series);
        d.samples = Some(self.delivered);
        d.note = round.note;
        let mut warnings = round.warnings;
        warnings.extend(stats_warning(&stats));
        d.warning = (!warnings.is_empty()).then(|| warnings.join("; "));
        self.report(latency).await
    }

    /// Marks the source down with the reason; what the store holds stays.
    pub async fn fail(
        &mut self,
        error: &RestError,
        hint: &str,
        stats: CallStats,
        latency: (Option<f64>, Option<f64>),
    ) -> bool {
        self.health.errors += 1;
        let mut reason = error.to_string();
        if !hint.is_empty() {
            reason = format!("{reason} ({hint})");
        }
        if self.health.last_ok.is_some() {
            reason.push_str("; showing the last data received");
        }
        self.health.state = HealthState::Down { reason };
        self.health.details.warning = stats_warning(&stats);
        self.report(latency).await
    }

    /// Marks the source down before it could start (bad config).
    pub async fn refuse(mut self, reason: String) {
        self.health.state = HealthState::Down { reason };
        let _ = self.tx.send(Update::Health(self.health)).await;
    }

    async fn report(&mut self, latency: (Option<f64>, Option<f64>)) -> bool {
        self.health.details.latency_p50_ms = latency.0;
        self.health.details.latency_p95_ms = latency.1;
        self.tx
            .send(Update::Health(self.health.clone()))
            .await
            .is_ok()
    }
}

fn stats_warning(stats: &CallStats) -> Option<String> {
    let mut parts = Vec::new();
    if stats.throttled > 0 {
        parts.push(format!(
            "throttled {} time(s) this round; waited {:.1}s before retrying, as the API asked",
            stats.throttled,
            stats.waited.as_secs_f64()
        ));
    }
    if let Some(left) = stats
        .ratelimit_remaining
        .filter(|l| *l < RATELIMIT_WARN_BELOW)
    {
        parts.push(format!(
            "only {left} API reads left in this hour's rate limit"
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A cloud source polled in rounds by [`poll`].
pub trait Poller: Send {
    /// One round: everything the source reads at `now`.
    fn round(
        &mut self,
        now: DateTime<Utc>,
    ) -> impl std::future::Future<Output = Result<Round, RestError>> + Send;
    fn rest(&self) -> &rest::RestClient;
    fn tokens(&mut self) -> &mut token::TokenCache;
    /// What to tell the user to do about a failure ("" for nothing).
    fn hint(&self, e: &RestError) -> &'static str;
    /// Sees the round's call stats before they are reported.
    fn observe(&mut self, _stats: &CallStats) {}
}

/// Runs rounds every `interval` (longer when the API asks) until the store goes away: a good
/// round is delivered, a failed one marks the source down with the hint; a rejected token is
/// dropped so the next round fetches a new one.
pub async fn poll<P: Poller>(mut reporter: Reporter, mut source: P, interval: Duration) {
    loop {
        let result = source.round(Utc::now()).await;
        let stats = source.rest().take_stats();
        source.observe(&stats);
        let latency = source.rest().latency_ms();
        let (alive, pause) = match result {
            Ok(round) => (
                reporter.deliver(round, stats, latency).await,
                next_pause(interval, None),
            ),
            Err(e) => {
                if e.is_unauthorized() {
                    source.tokens().invalidate();
                }
                let hint = source.hint(&e);
                (
                    reporter.fail(&e, hint, stats, latency).await,
                    next_pause(interval, Some(&e)),
                )
            }
        };
        if !alive {
            return;
        }
        tokio::time::sleep(pause).await;
    }
}

/// Pause before the next round: the interval, longer when the API asked for a longer pause.
pub fn next_pause(interval: Duration, error: Option<&RestError>) -> Duration {
    match error {
        Some(RestError::Throttled {
            retry_after_seconds: Some(s),
            ..
        }) => interval.max(Duration::from_secs(*s)),
        _ => interval,
    }
}
