//! Azure source: autoscale settings of VM scale sets (policy), the scale sets' capacity, their
//! `Percentage CPU` from Azure Monitor, and autoscale runs from the Activity Log as platform
//! scaling events, over Azure Resource Manager REST with a bearer token from the usual places.
//! Polls; a failed round marks the source down with the reason and keeps what the store holds.

pub mod api;
pub mod config;
pub mod mapping;

use std::collections::{BTreeMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use self::api::AzureApi;
pub use self::config::{AzureSettings, AzureSourceConfig};
use crate::sources::cloud::rest::{CallStats, RestClient, RestError};
use crate::sources::cloud::token::TokenCache;
use crate::sources::cloud::{poll, Poller, Reporter, Round};
use crate::sources::{Sample, Update};

/// Per-scale-set requests in flight at once.
const CONCURRENCY: usize = 4;
/// Azure Monitor and the Activity Log publish a few minutes late: each round re-reads this much.
const OVERLAP_SECONDS: i64 = 300;
/// Activity Log event ids remembered to drop the ones re-read.
const SEEN_EVENTS: usize = 4096;
/// With fewer ARM reads left this hour, metrics and events wait for the next hour.
const RATELIMIT_RESERVE: u64 = 20;

fn hint(e: &RestError) -> &'static str {
    match e {
        RestError::Unauthorized { .. } | RestError::Token { .. } => {
            "refresh the credentials, e.g. `az login`; scaletop fetches a new token on the next round"
        }
        RestError::Forbidden { .. } => "assign a role holding that permission, e.g. Monitoring Reader and Reader",
        _ => "",
    }
}

struct AzureSource {
    settings: AzureSettings,
    api: AzureApi,
    tokens: TokenCache,
    /// End of the metrics and Activity Log range already read.
    read_until: Option<DateTime<Utc>>,
    seen: (HashSet<String>, VecDeque<String>),
    /// Lowest `x-ms-ratelimit-remaining-*` of the last round.
    reads_left: Option<u64>,
}

impl Poller for AzureSource {
    fn rest(&self) -> &RestClient {
        &self.api.rest
    }

    fn tokens(&mut self) -> &mut TokenCache {
        &mut self.tokens
    }

    fn hint(&self, e: &RestError) -> &'static str {
        hint(e)
    }

    fn observe(&mut self, stats: &CallStats) {
        self.reads_left = stats.ratelimit_remaining;
    }

    async fn round(&mut self, now: DateTime<Utc>) -> Result<Round, RestError> {
        let mut token = self.tokens.get(&self.api.rest, now).await?;
        let rgs = self.settings.resource_groups.clone();
        let settings = match self.api.autoscale_settings(&token, &rgs).await {
            Err(e) if e.is_unauthorized() => {
                self.tokens.invalidate();
                token = self.tokens.get(&self.api.rest, now).await?;
                self.api.autoscale_settings(&token, &rgs).await?
            }
            other => other?,
        };
        let (targets, other) = mapping::targets(&settings);
        let scope = if rgs.is_empty() {
            format!("subscription {}", self.settings.subscription)
        } else {
            format!("resource groups {}", rgs.join(", "))
        };
        if targets.is_empty() {
            let other = if other > 0 {
                format!(" ({other} target other resource types)")
            } else {
                String::new()
            };
            return Ok(Round {
                note: Some(format!(
                    "no autoscale settings for VM scale sets in {scope}{other}"
                )),
                ..Round::default()
            });
        }
        let api = &self.api;
        let token = &token;
        // Owned items: a stream of borrowed ones trips the Send check of `tokio::spawn`.
        let uris: Vec<String> = targets
            .iter()
            .map(|(t, _)| t.resource_uri.clone())
            .collect();
        let answers: Vec<Result<serde_json::Value, RestError>> = stream::iter(uris.clone())
            .map(|uri| async move { api.scale_set(token, &uri).await })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut warnings = Vec::new();
        let failed: Vec<&RestError> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
        if let Some(first) = failed.first() {
            warnings.push(format!(
                "{} scale set(s) not read (capacity missing): {first}",
                failed.len()
            ));
        }
        let scale_sets: Vec<Option<serde_json::Value>> =
            answers.into_iter().map(Result::ok).collect();
        let mut round = mapping::setting_round(&targets, &scale_sets, now);
        round.warnings.extend(warnings);
        if other > 0 {
            round.note = Some(format!(
                "{other} autoscale setting(s) in {scope} target other resource types (not VM scale sets)"
            ));
        }
        if self.reads_left.is_some_and(|l| l < RATELIMIT_RESERVE) {
            round.warnings.push(format!(
                "metrics and events skipped this round: fewer than {RATELIMIT_RESERVE} API reads left this hour"
            ));
            return Ok(round);
        }
        let start = match self.read_until {
            Some(t) => t - chrono::Duration::seconds(OVERLAP_SECONDS),
            None => {
                now - chrono::Duration::from_std(self.settings.lookback)
                    .unwrap_or(chrono::Duration::zero())
            }
        };
        if start >= now {
            return Ok(round);
        }
        let metrics: Vec<Result<serde_json::Value, RestError>> = stream::iter(uris)
            .map(|uri| async move { api.cpu_metrics(token, &uri, start, now).await })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut by_time: BTreeMap<DateTime<Utc>, Vec<Sample>> = BTreeMap::new();
        let mut metric_errors = Vec::new();
        for ((t, _), answer) in targets.iter().zip(metrics) {
            match answer.map(|a| mapping::cpu_samples(&a, &t.group)) {
                Ok(Ok(samples)) => {
                    for (at, s) in samples {
                        by_time.entry(at).or_default().push(s);
                    }
                }
                Ok(Err(e)) => metric_errors.push(format!("{}: {e}", t.group.name)),
                Err(e) => metric_errors.push(e.to_string()),
            }
        }
        if let Some(first) = metric_errors.first() {
            round.warnings.push(format!(
                "CPU not read for {} scale set(s): {first}",
                metric_errors.len()
            ));
        }
        let history = by_time
            .into_iter()
            .map(|(at, samples)| Update::Samples { at, samples });
        let at = round
            .updates
            .iter()
            .position(|u| matches!(u, Update::Samples { .. }))
            .unwrap_or(round.updates.len());
        let now_samples = round.updates.split_off(at);
        round.updates.extend(history);
        round.updates.extend(now_samples);
        if self.settings.events {
            match api.activity_log(token, start, now).await {
                Ok(entries) => {
                    let plain: Vec<mapping::Target> =
                        targets.iter().map(|(t, _)| t.clone()).collect();
                    for (id, event) in mapping::autoscale_events(&entries, &plain) {
                        if self.remember(id) {
                            round.updates.push(Update::Event(event));
                        }
                    }
                }
                Err(e) => round
                    .warnings
                    .push(format!("autoscale history not read: {e}")),
            }
        }
        self.read_until = Some(now);
        Ok(round)
    }
}

impl AzureSource {
    /// True the first time an event id is seen.
    fn remember(&mut self, id: String) -> bool {
        let (set, order) = &mut self.seen;
        if !set.insert(id.clone()) {
            return false;
        }
        order.push_back(id);
        if order.len() > SEEN_EVENTS {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
        true
    }
}

/// Starts the source; it ends when the receiver is dropped.
pub fn spawn(cfg: AzureSourceConfig, tx: Sender<Update>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let target = format!("subscription {}", cfg.subscription);
        let reporter = Reporter::new(&cfg.name, "azure", target, tx);
        let setup = AzureSettings::from_config(&cfg).and_then(|settings| {
            let tokens = TokenCache::new("Azure", config::token_source(&cfg)?);
            let rest = RestClient::new(settings.rest.clone()).map_err(|e| e.to_string())?;
            Ok((settings, tokens, rest))
        });
        let (settings, tokens, rest) = match setup {
            Ok(s) => s,
            Err(reason) => return reporter.refuse(reason).await,
        };
        let mut reporter = reporter;
        reporter.health.target = format!(
            "subscription {} via {}",
            settings.subscription,
            tokens.source().describe()
        );
        let interval = settings.interval;
        let source = AzureSource {
            api: AzureApi {
                rest,
                management_url: settings.management_url.clone(),
                subscription: settings.subscription.clone(),
            },
            settings,
            tokens,
            read_until: None,
            seen: Default::default(),
            reads_left: None,
        };
        poll(reporter, source, interval).await;
    })
}
