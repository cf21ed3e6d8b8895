//! Google Cloud source: managed instance group autoscalers (Compute Engine API: policy,
//! recommended size, status) and their CPU utilization (Cloud Monitoring), over REST with a
//! bearer token from the usual places. Polls; a failed round marks the source down with the
//! reason and keeps what the store holds.

pub mod api;
pub mod config;
pub mod mapping;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use self::api::GcpApi;
pub use self::config::{GcpSettings, GcpSourceConfig};
use crate::sources::cloud::rest::{RestClient, RestError};
use crate::sources::cloud::token::TokenCache;
use crate::sources::cloud::{poll, Poller, Reporter, Round};
use crate::sources::Update;

/// Cloud Monitoring publishes points a few minutes late: each round re-reads this much.
const MONITORING_OVERLAP_SECONDS: i64 = 300;

/// What to tell the user to do about a failure.
fn hint(e: &RestError) -> &'static str {
    match e {
        RestError::Unauthorized { .. } | RestError::Token { .. } => {
            "refresh the credentials, e.g. `gcloud auth login`; scaletop fetches a new token on the next round"
        }
        RestError::Forbidden { .. } => "grant the role holding that permission, e.g. roles/compute.viewer",
        _ => "",
    }
}

struct GcpSource {
    settings: GcpSettings,
    api: GcpApi,
    tokens: TokenCache,
    /// End of the CPU range already read.
    cpu_until: Option<DateTime<Utc>>,
    /// Each MIG's target size at the last poll, for the derived scaling events.
    target_sizes: std::collections::HashMap<crate::model::GroupId, u32>,
}

impl Poller for GcpSource {
    fn rest(&self) -> &RestClient {
        &self.api.rest
    }

    fn tokens(&mut self) -> &mut TokenCache {
        &mut self.tokens
    }

    fn hint(&self, e: &RestError) -> &'static str {
        hint(e)
    }

    async fn round(&mut self, now: DateTime<Utc>) -> Result<Round, RestError> {
        let mut token = self.tokens.get(&self.api.rest, now).await?;
        let autoscalers = match self.api.autoscalers(&token).await {
            Err(e) if e.is_unauthorized() => {
                // Expired or revoked: fetch a new token once and try again.
                self.tokens.invalidate();
                token = self.tokens.get(&self.api.rest, now).await?;
                self.api.autoscalers(&token).await?
            }
            other => other?,
        };
        let mut warnings = Vec::new();
        let migs = match self.api.instance_group_managers(&token).await {
            Ok(m) => m,
            Err(e) => {
                warnings.push(format!(
                    "instance groups not read (ready counts missing): {e}"
                ));
                Vec::new()
            }
        };
        let project = &self.settings.project;
        let (mut round, groups) = mapping::autoscaler_round(project, &autoscalers, &migs, now);
        round.updates.extend(mapping::target_size_events(
            &mut self.target_sizes,
            project,
            &autoscalers,
            &migs,
            now,
        ));
        round.warnings.extend(warnings);
        if groups.is_empty() {
            let zones = if self.settings.zones.is_empty() {
                String::new()
            } else {
                format!(" (zones: {})", self.settings.zones.join(", "))
            };
            round.note = Some(format!("no autoscalers in project {project}{zones}"));
            return Ok(round);
        }
        let lookback =
            chrono::Duration::from_std(self.settings.lookback).unwrap_or(chrono::Duration::zero());
        let start = match self.cpu_until {
            Some(t) => t - chrono::Duration::seconds(MONITORING_OVERLAP_SECONDS),
            None => now - lookback,
        };
        if start < now {
            match self.api.cpu_series(&token, start, now).await {
                Ok(series) => {
                    let cpu = mapping::cpu_updates(&series, &groups, project);
                    // History goes before the samples taken now.
                    let at = round
                        .updates
                        .iter()
                        .position(|u| matches!(u, Update::Samples { .. }))
                        .unwrap_or(round.updates.len());
                    let now_samples = round.updates.split_off(at);
                    round.updates.extend(cpu);
                    round.updates.extend(now_samples);
                    self.cpu_until = Some(now);
                }
                Err(e) => round
                    .warnings
                    .push(format!("CPU utilization not read: {e}")),
            }
        }
        Ok(round)
    }
}

/// Starts the source; it ends when the receiver is dropped.
pub fn spawn(cfg: GcpSourceConfig, tx: Sender<Update>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let target = format!("project {}", cfg.project);
        let reporter = Reporter::new(&cfg.name, "gcp", target, tx);
        let setup = GcpSettings::from_config(&cfg).and_then(|settings| {
            let tokens = TokenCache::new("GCP", config::token_source(&cfg)?);
            let rest = RestClient::new(settings.rest.clone()).map_err(|e| e.to_string())?;
            Ok((settings, tokens, rest))
        });
        let (settings, tokens, rest) = match setup {
            Ok(s) => s,
            Err(reason) => return reporter.refuse(reason).await,
        };
        let mut reporter = reporter;
        reporter.health.target = format!(
            "project {} via {}",
            settings.project,
            tokens.source().describe()
        );
        let interval = settings.interval;
        let source = GcpSource {
            api: GcpApi {
                rest,
                compute_url: settings.compute_url.clone(),
                monitoring_url: settings.monitoring_url.clone(),
                project: settings.project.clone(),
                zones: settings.zones.clone(),
            },
            settings,
            tokens,
            cpu_until: None,
            target_sizes: Default::default(),
        };
        poll(reporter, source, interval).await;
    })
}
