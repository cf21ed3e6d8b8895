//! The Azure Resource Manager calls the Azure source makes, with `nextLink` paging.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::sources::cloud::rest::{display_endpoint, Request, RestClient, RestError};
use crate::sources::cloud::secret::Secret;

const MAX_PAGES: usize = 50;
const AUTOSCALE_API: &str = "2022-10-01";
const COMPUTE_API: &str = "2024-07-01";
const METRICS_API: &str = "2018-01-01";
const ACTIVITY_LOG_API: &str = "2015-04-01";

pub struct AzureApi {
    pub rest: RestClient,
    pub management_url: String,
    pub subscription: String,
}

fn url_with(base: &str, params: &[(&str, String)]) -> Result<String, RestError> {
    reqwest::Url::parse_with_params(base, params)
        .map(|u| u.to_string())
        .map_err(|e| RestError::Config(format!("{}: {e}", display_endpoint(base))))
}

impl AzureApi {
    /// Every page of a list; `nextLink` is followed only on the same server, so the token is
    /// never sent anywhere else.
    async fn list(
        &self,
        token: &Secret,
        first: String,
        permission: &str,
    ) -> Result<Vec<Value>, RestError> {
        let mut out = Vec::new();
        let mut url = first;
        for _ in 0..MAX_PAGES {
            let page = self
                .rest
                .json(&Request::get(&url, token, permission))
                .await?;
            match page.get("value") {
                Some(Value::Array(items)) => out.extend(items.iter().cloned()),
                _ => {
                    return Err(RestError::Decode {
                        endpoint: display_endpoint(&url),
                        detail: "no `value` list".into(),
                    })
                }
            }
            match page.get("nextLink").and_then(Value::as_str) {
                Some(next) if next.starts_with(&format!("{}/", self.management_url)) => {
                    url = next.to_string()
                }
                Some(next) if !next.is_empty() => {
                    return Err(RestError::Decode {
                        endpoint: display_endpoint(&url),
                        detail: format!(
                            "nextLink points to another server ({}); not followed",
                            display_endpoint(next)
                        ),
                    })
                }
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    /// Autoscale settings of the resource groups (all of the subscription when empty).
    pub async fn autoscale_settings(
        &self,
        token: &Secret,
        resource_groups: &[String],
    ) -> Result<Vec<Value>, RestError> {
        let perm = "Microsoft.Insights/autoscalesettings/read";
        let sub = format!(
            "{}/subscriptions/{}",
            self.management_url, self.subscription
        );
        let bases: Vec<String> = if resource_groups.is_empty() {
            vec![format!(
                "{sub}/providers/Microsoft.Insights/autoscalesettings"
            )]
        } else {
            resource_groups
                .iter()
                .map(|rg| {
                    format!(
                        "{sub}/resourceGroups/{rg}/providers/Microsoft.Insights/autoscalesettings"
                    )
                })
                .collect()
        };
        let mut out = Vec::new();
        for base in bases {
            let url = url_with(&base, &[("api-version", AUTOSCALE_API.into())])?;
            out.extend(self.list(token, url, perm).await?);
        }
        Ok(out)
    }

    fn resource_url(&self, resource_uri: &str, suffix: &str) -> String {
        format!(
            "{}/{}{suffix}",
            self.management_url,
            resource_uri.trim_start_matches('/')
        )
    }

    pub async fn scale_set(&self, token: &Secret, resource_uri: &str) -> Result<Value, RestError> {
        let url = url_with(
            &self.resource_url(resource_uri, ""),
            &[("api-version", COMPUTE_API.into())],
        )?;
        self.rest
            .json(&Request::get(
                &url,
                token,
                "Microsoft.Compute/virtualMachineScaleSets/read",
            ))
            .await
    }

    /// `Percentage CPU`, 1-minute averages over [start, end]: the VM scale set's platform metric
    /// (https://learn.microsoft.com/en-us/azure/azure-monitor/reference/supported-metrics/microsoft-compute-virtualmachinescalesets-metrics),
    /// read with Metrics - List (https://learn.microsoft.com/en-us/rest/api/monitor/metrics/list:
    /// `metricnames`, `aggregation`, `interval`, `timespan`).
    pub async fn cpu_metrics(
        &self,
        token: &Secret,
        resource_uri: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Value, RestError> {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let url = url_with(
            &self.resource_url(resource_uri, "/providers/Microsoft.Insights/metrics"),
            &[
                ("api-version", METRICS_API.into()),
                ("metricnames", "Percentage CPU".into()),
                ("aggregation", "Average".into()),
                ("interval", "PT1M".into()),
                ("timespan", format!("{}/{}", time(start), time(end))),
            ],
        )?;
        self.rest
            .json(&Request::get(
                &url,
                token,
                "Microsoft.Insights/metrics/read",
            ))
            .await
    }

    /// Activity Log entries of the Microsoft.Insights provider (autoscale runs among them)
    /// over [start, end]. The filter is the documented "List events for a resource provider"
    /// pattern (`eventTimestamp ge .. and eventTimestamp le .. and resourceProvider eq ..`;
    /// https://learn.microsoft.com/en-us/rest/api/monitor/activitylogs/list); the autoscale
    /// engine's scale actions are logged under Microsoft.Insights with category Autoscale
    /// (https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/activity-log-schema#autoscale-category,
    /// caller Microsoft.Insights/autoscaleSettings as Get-AzAutoscaleHistory shows).
    pub async fn activity_log(
        &self,
        token: &Secret,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Value>, RestError> {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let base = format!(
            "{}/subscriptions/{}/providers/Microsoft.Insights/eventtypes/management/values",
            self.management_url, self.subscription
        );
        let url = url_with(
            &base,
            &[
                ("api-version", ACTIVITY_LOG_API.into()),
                (
                    "$filter",
                    format!(
                        "eventTimestamp ge '{}' and eventTimestamp le '{}' and resourceProvider eq 'Microsoft.Insights'",
                        time(start),
                        time(end)
                    ),
                ),
            ],
        )?;
        self.list(token, url, "Microsoft.Insights/eventtypes/values/read")
            .await
    }
}
