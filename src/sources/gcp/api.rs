//! The Compute Engine and Cloud Monitoring calls the GCP source makes, with paging.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::mapping::aggregated_items;
use crate::sources::cloud::rest::{display_endpoint, Request, RestClient, RestError};
use crate::sources::cloud::secret::Secret;

/// Pages followed per list at most (a runaway `nextPageToken` cannot loop forever).
const MAX_PAGES: usize = 50;
pub const CPU_METRIC: &str = "compute.googleapis.com/instance/cpu/utilization";

pub struct GcpApi {
    pub rest: RestClient,
    pub compute_url: String,
    pub monitoring_url: String,
    pub project: String,
    pub zones: Vec<String>,
}

fn url_with(base: &str, params: &[(&str, String)]) -> Result<String, RestError> {
    reqwest::Url::parse_with_params(base, params)
        .map(|u| u.to_string())
        .map_err(|e| RestError::Config(format!("{}: {e}", display_endpoint(base))))
}

fn decode_error(url: &str, detail: String) -> RestError {
    RestError::Decode {
        endpoint: display_endpoint(url),
        detail,
    }
}

impl GcpApi {
    /// `aggregated/{kind}` over every page, as (location, resource).
    async fn aggregated(
        &self,
        token: &Secret,
        kind: &str,
        permission: &str,
    ) -> Result<Vec<(String, Value)>, RestError> {
        let base = format!(
            "{}/compute/v1/projects/{}/aggregated/{kind}",
            self.compute_url, self.project
        );
        let mut out = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut params = vec![("maxResults", "500".to_string())];
            if let Some(t) = &page_token {
                params.push(("pageToken", t.clone()));
            }
            let url = url_with(&base, &params)?;
            let page = self
                .rest
                .json(&Request::get(&url, token, permission))
                .await?;
            let page =
                aggregated_items(&page, kind, &self.zones).map_err(|e| decode_error(&url, e))?;
            out.extend(page.items);
            match page.next_page_token {
                Some(t) => page_token = Some(t),
                None => return Ok(out),
            }
        }
        Ok(out)
    }

    pub async fn autoscalers(&self, token: &Secret) -> Result<Vec<(String, Value)>, RestError> {
        self.aggregated(token, "autoscalers", "compute.autoscalers.list")
            .await
    }

    pub async fn instance_group_managers(
        &self,
        token: &Secret,
    ) -> Result<Vec<(String, Value)>, RestError> {
        self.aggregated(
            token,
            "instanceGroupManagers",
            "compute.instanceGroupManagers.list",
        )
        .await
    }

    /// Per-minute mean CPU utilization over [start, end], averaged per instance group and
    /// zone (Cloud Monitoring aggregation), every page.
    ///
    /// `compute.googleapis.com/instance/cpu/utilization` is a 0-1 fraction on the `gce_instance`
    /// resource, sampled every 60 s (https://cloud.google.com/monitoring/api/metrics_gcp_c);
    /// the filter selects metric and resource type and groups by the `zone` resource label and
    /// the `instance_group` system metadata label, quoted as the filter syntax allows
    /// (https://cloud.google.com/monitoring/api/v3/filters, "metadata.system_labels"); the
    /// response then carries that label in `metadata.systemLabels`
    /// (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/TimeSeries: "metadata labels
    /// that are explicitly named in the reduction").
    pub async fn cpu_series(
        &self,
        token: &Secret,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Value>, RestError> {
        let base = format!(
            "{}/v3/projects/{}/timeSeries",
            self.monitoring_url, self.project
        );
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut out = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut params = vec![
                (
                    "filter",
                    format!("metric.type=\"{CPU_METRIC}\" AND resource.type=\"gce_instance\""),
                ),
                ("interval.startTime", time(start)),
                ("interval.endTime", time(end)),
                ("aggregation.alignmentPeriod", "60s".to_string()),
                ("aggregation.perSeriesAligner", "ALIGN_MEAN".to_string()),
                ("aggregation.crossSeriesReducer", "REDUCE_MEAN".to_string()),
                (
                    "aggregation.groupByFields",
                    "metadata.system_labels.\"instance_group\"".to_string(),
                ),
                (
                    "aggregation.groupByFields",
                    "resource.label.\"zone\"".to_string(),
                ),
            ];
            if let Some(t) = &page_token {
                params.push(("pageToken", t.clone()));
            }
            let url = url_with(&base, &params)?;
            let page = self
                .rest
                .json(&Request::get(&url, token, "monitoring.timeSeries.list"))
                .await?;
            match page.get("timeSeries") {
                None => {}
                Some(Value::Array(list)) => out.extend(list.iter().cloned()),
                Some(_) => return Err(decode_error(&url, "`timeSeries` is not a list".into())),
            }
            match page.get("nextPageToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() => page_token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
        Ok(out)
    }
}
