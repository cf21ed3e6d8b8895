//! The GCP and Azure sources end to end against a fake API over real HTTP on 127.0.0.1,
//! answering with responses in the documented shapes (tests/fixtures/gcp, tests/fixtures/azure;
//! their README names the reference page of each): groups, capacities, live policies, CPU
//! samples and platform scaling events arrive in the store with the right values; throttling
//! is waited out as the API asks and shown; an expired token is replaced; a revoked one marks
//! the source down with a clear message while the store keeps the last data, and it recovers;
//! 403 names the permission; garbage and oversized answers are refused; secrets never show.

mod cloud_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloud_support::{fixture, FakeApi, Req, Resp};
use scaletop::engine::policy::parse_policy;
use scaletop::model::{EventOrigin, GroupId, MetricKind, Platform, PolicyModel, PolicyProvenance};
use scaletop::sources::azure::AzureSourceConfig;
use scaletop::sources::gcp::GcpSourceConfig;
use scaletop::sources::{HealthState, SourceHealth, Update};
use scaletop::store::Store;
use tokio::sync::mpsc;

const SUB: &str = "8f0b4c1e-2d3a-4b5c-9d6e-7f8091a2b3c4";

/// Faults the fake APIs inject; changed by the tests while the source runs.
#[derive(Debug, Default)]
struct Faults {
    /// Answer this many list requests with 429 + Retry-After: 1 first.
    throttle: usize,
    /// Every API request gets 401 (with a body echoing the token, as a careless proxy would).
    unauthorized: bool,
    /// API requests carrying this token get 401 (an expired token).
    reject_token: Option<String>,
    forbidden: bool,
    garbage: bool,
    huge: bool,
    empty: bool,
    /// Tokens live 2 minutes, inside the 5-minute refresh margin.
    short_tokens: bool,
}

type Shared = Arc<Mutex<Faults>>;

fn faults(f: &Shared) -> std::sync::MutexGuard<'_, Faults> {
    f.lock().unwrap_or_else(|e| e.into_inner())
}

/// Token endpoint answers: tok-1, tok-2, ... in the shape of the metadata server / IMDS.
fn token_answer(counter: &AtomicUsize, prefix: &str, as_strings: bool, life_seconds: i64) -> Resp {
    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
    let body = if as_strings {
        format!(
            r#"{{"access_token":"{prefix}-{n}","refresh_token":"","expires_in":"{life_seconds}","expires_on":"{}","resource":"https://management.azure.com/","token_type":"Bearer"}}"#,
            chrono::Utc::now().timestamp() + life_seconds
        )
    } else {
        format!(
            r#"{{"access_token":"{prefix}-{n}","expires_in":{life_seconds},"token_type":"Bearer"}}"#
        )
    };
    Resp::json(200, body)
}

/// The common fault handling of both fake APIs, for a request to a list endpoint.
fn fault_answer(
    f: &Shared,
    req: &Req,
    list: bool,
    throttle_body: &str,
    forbidden_body: &str,
) -> Option<Resp> {
    let mut f = faults(f);
    let token = req.bearer().unwrap_or_default().to_string();
    if f.unauthorized {
        return Some(Resp::json(
            401,
            format!(
                r#"{{"error":{{"code":401,"message":"Request had invalid authentication credentials: Authorization: Bearer {token} is expired","status":"UNAUTHENTICATED"}}}}"#
            ),
        ));
    }
    if f.reject_token.as_deref() == Some(token.as_str()) {
        return Some(Resp::json(401, fixture("azure/error-401.json")));
    }
    if !list {
        return None;
    }
    if f.throttle > 0 {
        f.throttle -= 1;
        return Some(Resp::json(429, throttle_body.to_string()).header("Retry-After", "1"));
    }
    if f.forbidden {
        return Some(Resp::json(403, forbidden_body.to_string()));
    }
    if f.garbage {
        return Some(Resp::json(200, "<html><body>502 Bad Gateway</body></html>"));
    }
    if f.huge {
        let mut body = String::from(r#"{"items":{"zones/a":{"autoscalers":["#);
        while body.len() < 2 * 1024 * 1024 {
            body.push_str(r#"{"name":"padding-padding-padding-padding"},"#);
        }
        body.push_str("{}]}}}");
        return Some(Resp::json(200, body));
    }
    None
}

fn fake_gcp(f: Shared) -> FakeApi {
    let tokens = AtomicUsize::new(0);
    FakeApi::start(move |req| {
        let path = req.path();
        if path == "/token" {
            if req.header("metadata-flavor") != Some("Google") {
                return Resp::json(403, "{}");
            }
            let life = if faults(&f).short_tokens { 120 } else { 3599 };
            return token_answer(&tokens, "tok", false, life);
        }
        let list = path.ends_with("/aggregated/autoscalers");
        if let Some(r) = fault_answer(
            &f,
            req,
            list,
            &fixture("gcp/error-429.json"),
            &fixture("gcp/error-403.json"),
        ) {
            return r;
        }
        match path {
            "/compute/v1/projects/shop-prod/aggregated/autoscalers" => {
                let empty = faults(&f).empty;
                Resp::json(
                    200,
                    fixture(if empty {
                        "gcp/autoscalers-none.json"
                    } else {
                        "gcp/autoscalers-aggregated.json"
                    }),
                )
            }
            "/compute/v1/projects/shop-prod/aggregated/instanceGroupManagers" => {
                Resp::json(200, fixture("gcp/instance-group-managers-aggregated.json"))
            }
            "/v3/projects/shop-prod/timeSeries" => {
                Resp::json(200, fixture("gcp/timeseries-cpu.json"))
            }
            _ => Resp::json(
                404,
                r#"{"error":{"code":404,"message":"not found","status":"NOT_FOUND"}}"#,
            ),
        }
    })
}

fn gcp_config(api: &FakeApi) -> GcpSourceConfig {
    GcpSourceConfig {
        name: "gcp-test".into(),
        project: "shop-prod".into(),
        interval: "1s".into(),
        timeout: "5s".into(),
        max_response_mib: 1,
        token: "metadata".into(),
        token_url: format!("{}/token", api.base),
        compute_url: api.base.clone(),
        monitoring_url: api.base.clone(),
        ..Default::default()
    }
}

fn health<'a>(store: &'a Store, name: &str) -> Option<&'a SourceHealth> {
    store.health().find(|h| h.source == name)
}

/// Applies updates until `done` holds (true) or `limit` passes (false).
async fn drive(
    rx: &mut mpsc::Receiver<Update>,
    store: &mut Store,
    limit: Duration,
    done: impl Fn(&Store) -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !done(store) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(u)) => store.apply(u),
            _ => return false,
        }
    }
    true
}

fn is_up(store: &Store, name: &str) -> bool {
    health(store, name).is_some_and(|h| h.state == HealthState::Up)
}

fn down_reason(store: &Store, name: &str) -> Option<String> {
    match &health(store, name)?.state {
        HealthState::Down { reason } => Some(reason.clone()),
        _ => None,
    }
}

fn latest(store: &Store, id: &GroupId, m: MetricKind) -> Option<f64> {
    store.latest(store.group_index(id)?, m)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-3)
}

fn store() -> Store {
    Store::new(15, 4 * 60 * 24 * 2)
}

fn start_gcp(cfg: GcpSourceConfig) -> (mpsc::Receiver<Update>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(1024);
    (rx, scaletop::sources::gcp::spawn(cfg, tx))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp_autoscalers_become_groups_with_live_policy_capacity_and_cpu() {
    let f = Shared::default();
    let api = fake_gcp(f.clone());
    let (mut rx, task) = start_gcp(gcp_config(&api));
    let mut s = store();
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| is_up(
            s, "gcp-test"
        ))
        .await
    );
    task.abort();

    let web = GroupId::new(Platform::Gcp, "shop-prod/us-central1-a", "web-mig");
    let regional = GroupId::new(Platform::Gcp, "shop-prod/us-central1", "api-mig");
    let mut ids: Vec<GroupId> = s.groups().iter().map(|g| g.id.clone()).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![regional.clone(), web.clone()],
        "batch-mig has no autoscaler"
    );

    // The autoscaler resource as the API returned it is the live policy, and the replay reads it.
    let g = &s.groups()[s.group_index(&web).expect("web")];
    let policy = g.policy.as_ref().expect("policy");
    assert_eq!(policy.provenance, PolicyProvenance::PlatformApi);
    let PolicyModel::Native { text } = &policy.model else {
        panic!("not native: {:?}", policy.model)
    };
    let a = parse_policy(text).expect("parse_policy reads the API's autoscaler resource");
    assert_eq!(a.bounds(), (2, 20));
    assert!(a.describe().contains("cpu 60%"), "{}", a.describe());
    assert_eq!(
        g.labels.get("autoscaler").map(String::as_str),
        Some("web-mig-autoscaler")
    );

    // recommendedSize 5; 4 instances with no pending action (1 creating); policy 2..20.
    assert!(close(latest(&s, &web, MetricKind::ReplicasDesired), 5.0));
    assert!(close(latest(&s, &web, MetricKind::ReplicasReady), 4.0));
    assert!(close(latest(&s, &web, MetricKind::ReplicasMin), 2.0));
    assert!(close(latest(&s, &web, MetricKind::ReplicasMax), 20.0));
    // Newest point 0.42 of the fraction -> 42%; the regional group averages its zones' 0.30
    // and 0.50 -> 40%.
    assert!(close(latest(&s, &web, MetricKind::CpuUtilization), 42.0));
    assert!(close(
        latest(&s, &regional, MetricKind::CpuUtilization),
        40.0
    ));
    let web_i = s.group_index(&web).expect("web");
    let cpu = s
        .series(web_i, MetricKind::CpuUtilization)
        .expect("cpu series");
    let t = chrono::DateTime::parse_from_rfc3339("2026-11-28T20:01:00Z")
        .expect("t")
        .timestamp();
    assert!(close(cpu.at(t), 55.0), "history kept at its own time");
    assert!(close(
        latest(&s, &regional, MetricKind::ReplicasDesired),
        3.0
    ));

    let h = health(&s, "gcp-test").expect("health");
    assert_eq!(h.kind, "gcp");
    assert!(
        h.target.contains("project shop-prod") && h.target.contains("metadata server"),
        "{}",
        h.target
    );
    let warning = h.details.warning.clone().unwrap_or_default();
    assert!(
        warning.contains("api-mig") && warning.contains("maxNumReplicas"),
        "{warning}"
    );

    // What was asked: the documented aggregation, with the metadata server's token.
    let ts = api.hits("/timeSeries");
    let q = ts[0].query();
    let get = |k: &str| {
        q.iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        get("filter"),
        vec![
            r#"metric.type="compute.googleapis.com/instance/cpu/utilization" AND resource.type="gce_instance""#
        ]
    );
    assert_eq!(get("aggregation.groupByFields").len(), 2);
    assert_eq!(get("aggregation.perSeriesAligner"), vec!["ALIGN_MEAN"]);
    assert_eq!(ts[0].bearer(), Some("tok-1"));
    assert_eq!(api.hits("/token").len(), 1, "the token is cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp_throttling_waits_as_asked_and_is_shown() {
    let f = Shared::default();
    faults(&f).throttle = 2;
    let api = fake_gcp(f.clone());
    let (mut rx, task) = start_gcp(gcp_config(&api));
    let mut s = store();
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| is_up(
            s, "gcp-test"
        ))
        .await
    );
    task.abort();
    let hits = api.hits("/aggregated/autoscalers");
    assert!(hits.len() >= 3);
    let waited = hits[2].at - hits[0].at;
    assert!(
        waited >= Duration::from_millis(1900),
        "Retry-After: 1 twice, waited {waited:?}"
    );
    let warning = health(&s, "gcp-test")
        .and_then(|h| h.details.warning.clone())
        .unwrap_or_default();
    assert!(warning.contains("throttled 2 time(s)"), "{warning}");
    assert_eq!(s.groups().len(), 2);

    // Still throttled after the retries: down, saying so, with GCP's reason.
    let f = Shared::default();
    faults(&f).throttle = 1000;
    let api = fake_gcp(f.clone());
    let (mut rx, task) = start_gcp(GcpSourceConfig {
        retries: 1,
        ..gcp_config(&api)
    });
    let mut s = store();
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| down_reason(
            s, "gcp-test"
        )
        .is_some())
        .await
    );
    task.abort();
    let reason = down_reason(&s, "gcp-test").unwrap_or_default();
    assert!(
        reason.contains("throttled (HTTP 429, Retry-After 1s)")
            && reason.contains("RESOURCE_EXHAUSTED"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp_expired_token_is_replaced_within_the_round() {
    let f = Shared::default();
    faults(&f).reject_token = Some("tok-1".into());
    let api = fake_gcp(f.clone());
    let (mut rx, task) = start_gcp(gcp_config(&api));
    let mut s = store();
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| is_up(
            s, "gcp-test"
        ))
        .await
    );
    task.abort();
    let hits = api.hits("/aggregated/autoscalers");
    assert_eq!(hits[0].bearer(), Some("tok-1"));
    assert_eq!(hits[1].bearer(), Some("tok-2"));
    assert_eq!(api.hits("/token").len(), 2);
    assert_eq!(health(&s, "gcp-test").map(|h| h.errors), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp_tokens_close_to_expiry_are_refreshed_before_use() {
    let f = Shared::default();
    faults(&f).short_tokens = true;
    let api = fake_gcp(f.clone());
    let (mut rx, task) = start_gcp(gcp_config(&api));
    let mut s = store();
    let rounds = |s: &Store| health(s, "gcp-test").map_or(0, |h| h.updates);
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| is_up(
            s, "gcp-test"
        ))
        .await
    );
    let first = rounds(&s);
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| rounds(s)
            > first)
        .await
    );
    task.abort();
    // Each round found its token within 5 minutes of expiry and fetched a new one.
    let hits = api.hits("/aggregated/autoscalers");
    assert_eq!(hits[0].bearer(), Some("tok-1"));
    assert_eq!(hits[1].bearer(), Some("tok-2"));
    assert!(api.hits("/token").len() >= 2);
    assert_eq!(health(&s, "gcp-test").map(|h| h.errors), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp_revoked_credentials_keep_the_last_data_and_recover_without_showing_the_token() {
    let f = Shared::default();
    let api = fake_gcp(f.clone());
    let (mut rx, task) = start_gcp(gcp_config(&api));
    let mut s = store();
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| is_up(
            s, "gcp-test"
        ))
        .await
    );
    faults(&f).unauthorized = true;
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| down_reason(
            s, "gcp-test"
        )
        .is_some())
        .await
    );
    let reason = down_reason(&s, "gcp-test").unwrap_or_default();
    assert!(
        reason.contains("HTTP 401") && reason.contains("gcloud auth login"),
        "{reason}"
    );
    assert!(reason.contains("showing the last data"), "{reason}");
    let shown = serde_json::to_string(health(&s, "gcp-test").expect("health")).expect("json");
    assert!(!shown.contains("tok-"), "a token leaked: {shown}");
    let web = GroupId::new(Platform::Gcp, "shop-prod/us-central1-a", "web-mig");
    assert!(
        close(latest(&s, &web, MetricKind::ReplicasDesired), 5.0),
        "last data kept"
    );
    assert_eq!(s.groups().len(), 2);

    faults(&f).unauthorized = false;
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| is_up(
            s, "gcp-test"
        ))
        .await
    );
    task.abort();
    assert!(
        api.hits("/token").len() >= 2,
        "a new token was fetched after the 401"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp_forbidden_garbage_huge_and_empty_projects_are_each_a_clear_message() {
    type Case = (fn(&mut Faults), &'static [&'static str]);
    let cases: [Case; 3] = [
        (
            |f| f.forbidden = true,
            &[
                "HTTP 403",
                "compute.autoscalers.list",
                "roles/compute.viewer",
            ],
        ),
        (
            |f| f.garbage = true,
            &["not the expected JSON", "/aggregated/autoscalers"],
        ),
        (|f| f.huge = true, &["larger than 1 MiB"]),
    ];
    for (set, expected) in cases {
        let f = Shared::default();
        set(&mut faults(&f));
        let api = fake_gcp(f.clone());
        let (mut rx, task) = start_gcp(gcp_config(&api));
        let mut s = store();
        assert!(
            drive(&mut rx, &mut s, Duration::from_secs(20), |s| down_reason(
                s, "gcp-test"
            )
            .is_some())
            .await
        );
        task.abort();
        let reason = down_reason(&s, "gcp-test").unwrap_or_default();
        for e in expected {
            assert!(reason.contains(e), "'{e}' missing from: {reason}");
        }
        assert!(s.groups().is_empty());
    }
    let f = Shared::default();
    faults(&f).empty = true;
    let api = fake_gcp(f.clone());
    let (mut rx, task) = start_gcp(gcp_config(&api));
    let mut s = store();
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| is_up(
            s, "gcp-test"
        ))
        .await
    );
    task.abort();
    let note = health(&s, "gcp-test").and_then(|h| h.details.note.clone());
    assert_eq!(note.as_deref(), Some("no autoscalers in project shop-prod"));
}

// ---- Azure ----

fn fake_azure(f: Shared) -> FakeApi {
    let tokens = AtomicUsize::new(0);
    let rg = format!("/subscriptions/{SUB}/resourceGroups/shop-rg/providers");
    FakeApi::start(move |req| {
        let path = req.path().to_string();
        if path == "/imds" {
            if req.header("metadata") != Some("true") {
                return Resp::json(
                    400,
                    r#"{"error":"invalid_request","error_description":"Required metadata header not specified"}"#,
                );
            }
            return token_answer(&tokens, "imds", true, 3599);
        }
        if path == "/tenant-x/oauth2/v2.0/token" {
            let ok = req.method == "POST"
                && req.body.contains("grant_type=client_credentials")
                && req.body.contains("client_id=app-1")
                && req.body.contains("client_secret=s3cr%2Bt")
                && req
                    .body
                    .contains("scope=https%3A%2F%2Fmanagement.azure.com%2F.default");
            if !ok {
                return Resp::json(
                    401,
                    r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
                );
            }
            return Resp::json(
                200,
                r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"cc-token-1"}"#,
            );
        }
        let list = path.ends_with("/autoscalesettings");
        if let Some(r) = fault_answer(
            &f,
            req,
            list,
            r#"{"error":{"code":"TooManyRequests","message":"The request is being throttled."}}"#,
            &fixture("azure/error-403.json"),
        ) {
            return r;
        }
        let reads = ("x-ms-ratelimit-remaining-subscription-reads", "42");
        let vmss = format!("{rg}/Microsoft.Compute/virtualMachineScaleSets/web-vmss");
        let body = if path == format!("{rg}/Microsoft.Insights/autoscalesettings") {
            fixture("azure/autoscalesettings.json")
        } else if path == vmss {
            fixture("azure/vmss-web.json")
        } else if path == format!("{vmss}/providers/Microsoft.Insights/metrics") {
            fixture("azure/metrics-cpu.json")
        } else if path
            == format!(
                "/subscriptions/{SUB}/providers/Microsoft.Insights/eventtypes/management/values"
            )
        {
            fixture("azure/activity-autoscale.json")
        } else {
            return Resp::json(
                404,
                r#"{"error":{"code":"ResourceNotFound","message":"not found"}}"#,
            );
        };
        Resp::json(200, body).header(reads.0, reads.1)
    })
}

fn azure_config(api: &FakeApi) -> AzureSourceConfig {
    AzureSourceConfig {
        name: "azure-test".into(),
        subscription: SUB.into(),
        resource_groups: vec!["shop-rg".into()],
        interval: "1s".into(),
        timeout: "5s".into(),
        max_response_mib: 1,
        token: "managed_identity".into(),
        token_url: format!("{}/imds", api.base),
        management_url: api.base.clone(),
        ..Default::default()
    }
}

fn start_azure(cfg: AzureSourceConfig) -> (mpsc::Receiver<Update>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(1024);
    (rx, scaletop::sources::azure::spawn(cfg, tx))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_scale_sets_become_groups_with_policy_capacity_cpu_and_autoscale_events() {
    let f = Shared::default();
    let api = fake_azure(f.clone());
    let (mut rx, task) = start_azure(azure_config(&api));
    let mut s = store();
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| is_up(
            s,
            "azure-test"
        ))
        .await
    );
    // A second round re-reads the overlapping Activity Log: no event twice.
    let rounds = |s: &Store| health(s, "azure-test").map_or(0, |h| h.updates);
    let after_first = rounds(&s);
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| rounds(s)
            > after_first)
        .await
    );
    task.abort();

    let web = GroupId::new(Platform::Azure, format!("{SUB}/shop-rg"), "web-vmss");
    assert_eq!(
        s.groups().len(),
        1,
        "the App Service plan's setting is not a scale set"
    );
    let g = &s.groups()[0];
    assert_eq!(g.id, web);
    assert_eq!(g.instance_type.as_deref(), Some("Standard_D2s_v3"));
    let policy = g.policy.as_ref().expect("policy");
    assert_eq!(policy.provenance, PolicyProvenance::PlatformApi);
    let PolicyModel::Native { text } = &policy.model else {
        panic!("not native")
    };
    let a = parse_policy(text).expect("parse_policy reads the API's autoscale setting");
    // Profiles 2..10 (default) and 4..10 (weekday hours).
    assert_eq!(a.bounds(), (2, 10));

    assert!(
        close(latest(&s, &web, MetricKind::ReplicasDesired), 4.0),
        "sku.capacity"
    );
    assert!(close(latest(&s, &web, MetricKind::ReplicasMin), 2.0));
    assert!(close(latest(&s, &web, MetricKind::ReplicasMax), 10.0));
    // Newest average (20:03); the 20:02 grain without a value is a gap, not a zero.
    assert!(close(latest(&s, &web, MetricKind::CpuUtilization), 58.0));
    let cpu = s.series(0, MetricKind::CpuUtilization).expect("cpu");
    let at = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .expect("t")
            .timestamp()
    };
    assert!(close(cpu.at(at("2026-11-28T20:01:00Z")), 74.25));
    assert_eq!(cpu.at(at("2026-11-28T20:02:00Z")), None);

    let events: Vec<_> = s.events().iter().cloned().collect();
    assert_eq!(
        events.len(),
        2,
        "Started entries skipped, re-read entries dropped: {events:?}"
    );
    assert_eq!((events[0].from_replicas, events[0].to_replicas), (4, 3));
    assert_eq!((events[1].from_replicas, events[1].to_replicas), (3, 4));
    assert!(events
        .iter()
        .all(|e| e.origin == EventOrigin::Platform && e.group == web));
    assert_eq!(
        events[1].reason,
        "Azure autoscale scale-out 3 -> 4 (profile default)"
    );

    let h = health(&s, "azure-test").expect("health");
    assert_eq!(h.kind, "azure");
    assert!(
        h.target.contains(SUB) && h.target.contains("managed identity"),
        "{}",
        h.target
    );
    let note = h.details.note.clone().unwrap_or_default();
    assert!(
        note.contains("1 autoscale setting(s)") && note.contains("other resource types"),
        "{note}"
    );
    let warning = h.details.warning.clone().unwrap_or_default();
    assert!(warning.contains("only 42 API reads left"), "{warning}");

    let imds = &api.hits("/imds")[0];
    assert!(imds
        .query()
        .contains(&("resource".into(), "https://management.azure.com/".into())));
    let metrics = &api.hits("/metrics")[0];
    let q = metrics.query();
    assert!(
        q.contains(&("metricnames".into(), "Percentage CPU".into())),
        "{q:?}"
    );
    assert!(
        q.contains(&("aggregation".into(), "Average".into())),
        "{q:?}"
    );
    assert_eq!(metrics.bearer(), Some("imds-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_throttling_403_and_expired_tokens() {
    // 429 with Retry-After, then success.
    let f = Shared::default();
    faults(&f).throttle = 1;
    let api = fake_azure(f.clone());
    let (mut rx, task) = start_azure(azure_config(&api));
    let mut s = store();
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| is_up(
            s,
            "azure-test"
        ))
        .await
    );
    task.abort();
    let hits = api.hits("/autoscalesettings");
    assert!(
        hits[1].at - hits[0].at >= Duration::from_millis(950),
        "Retry-After: 1 honoured"
    );
    let warning = health(&s, "azure-test")
        .and_then(|h| h.details.warning.clone())
        .unwrap_or_default();
    assert!(warning.contains("throttled 1 time(s)"), "{warning}");

    // 403 names the missing permission.
    let f = Shared::default();
    faults(&f).forbidden = true;
    let api = fake_azure(f.clone());
    let (mut rx, task) = start_azure(azure_config(&api));
    let mut s = store();
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| down_reason(
            s,
            "azure-test"
        )
        .is_some())
        .await
    );
    task.abort();
    let reason = down_reason(&s, "azure-test").unwrap_or_default();
    assert!(
        reason.contains("needs Microsoft.Insights/autoscalesettings/read")
            && reason.contains("AuthorizationFailed"),
        "{reason}"
    );

    // An expired managed-identity token: 401, a new token, success in the same round.
    let f = Shared::default();
    faults(&f).reject_token = Some("imds-1".into());
    let api = fake_azure(f.clone());
    let (mut rx, task) = start_azure(azure_config(&api));
    let mut s = store();
    assert!(
        drive(&mut rx, &mut s, Duration::from_secs(20), |s| is_up(
            s,
            "azure-test"
        ))
        .await
    );
    task.abort();
    assert_eq!(api.hits("/imds").len(), 2);
    assert_eq!(api.hits("/autoscalesettings")[1].bearer(), Some("imds-2"));
}

/// `scaletop snapshot` includes both sources; Azure authenticates with client credentials
/// from the environment and the secret appears nowhere in the output.
#[test]
fn snapshot_includes_gcp_and_azure_sources() {
    let gcp = fake_gcp(Shared::default());
    let azure = fake_azure(Shared::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("scaletop.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[sources.gcp]]\nname = \"gcp\"\nproject = \"shop-prod\"\ntoken = \"env\"\ntoken_env = \"TEST_GCP_TOKEN\"\ncompute_url = \"{g}\"\nmonitoring_url = \"{g}\"\n\n\
             [[sources.azure]]\nname = \"azure\"\nsubscription = \"{SUB}\"\nresource_groups = [\"shop-rg\"]\ntoken = \"client_credentials\"\nauthority_url = \"{a}\"\n\
             tenant_id_env = \"TEST_AZ_TENANT\"\nclient_id_env = \"TEST_AZ_CLIENT\"\nclient_secret_env = \"TEST_AZ_SECRET\"\nmanagement_url = \"{a}\"\n",
            g = gcp.base,
            a = azure.base
        ),
    )
    .expect("write config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .arg("--config")
        .arg(&cfg)
        .args(["snapshot", "--wait", "30s", "--format", "json"])
        .env("TEST_GCP_TOKEN", "gcp-env-token")
        .env("TEST_AZ_TENANT", "tenant-x")
        .env("TEST_AZ_CLIENT", "app-1")
        .env("TEST_AZ_SECRET", "s3cr+t")
        .output()
        .expect("snapshot runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let all = format!("{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{all}");
    for secret in ["gcp-env-token", "s3cr+t", "cc-token-1"] {
        assert!(!all.contains(secret), "'{secret}' leaked: {all}");
    }
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let kinds: Vec<&str> = json["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"gcp") && kinds.contains(&"azure"),
        "{kinds:?}"
    );
    let groups = json["groups"].as_array().expect("groups");
    let find = |platform: &str, name: &str| {
        groups
            .iter()
            .find(|g| g["id"]["platform"] == platform && g["id"]["name"] == name)
            .unwrap_or_else(|| panic!("{platform}/{name} missing: {all}"))
    };
    assert_eq!(find("gcp", "web-mig")["latest"]["replicas_desired"], 5.0);
    assert_eq!(find("azure", "web-vmss")["latest"]["replicas_desired"], 4.0);
    let events = json["events"].as_array().expect("events");
    assert!(
        events
            .iter()
            .any(|e| e["origin"] == "platform" && e["to_replicas"] == 4),
        "{all}"
    );
    assert_eq!(azure.hits("/tenant-x/oauth2/v2.0/token").len(), 1);
    assert!(gcp
        .hits("/aggregated/autoscalers")
        .iter()
        .all(|r| r.bearer() == Some("gcp-env-token")));
}
