//! The source task: one watch per (object kind, namespace), each in its own task so a failing
//! or unserved resource never stops the others; the run loop owns [`ClusterState`] and sends
//! the store its updates and the source's health.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};
use serde_json::Value;
use tokio::sync::mpsc::{self, Sender};
use tokio::task::{JoinHandle, JoinSet};

use super::client::{connect, describe, describe_request, Failure};
use super::config::KubernetesSourceConfig;
use super::state::{ClusterState, ObjectKind};
use crate::sources::{HealthState, SourceDetails, SourceHealth, Update};

/// Backoff between attempts to (re)connect: first retry soon (a refreshed token or a
/// restarted API server is usually back at once), then less often.
const RECONNECT_FIRST: Duration = Duration::from_secs(1);
const RECONNECT_MAX: Duration = Duration::from_secs(30);

const KINDS: [ObjectKind; 6] = [
    ObjectKind::Deployment,
    ObjectKind::StatefulSet,
    ObjectKind::Vpa,
    ObjectKind::ScaledObject,
    ObjectKind::Event,
    ObjectKind::Hpa,
];

fn api_resource(kind: ObjectKind) -> ApiResource {
    let (group, version, k, plural) = match kind {
        ObjectKind::Hpa => (
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
        ),
        ObjectKind::Deployment => ("apps", "v1", "Deployment", "deployments"),
        ObjectKind::StatefulSet => ("apps", "v1", "StatefulSet", "statefulsets"),
        ObjectKind::Vpa => (
            "autoscaling.k8s.io",
            "v1",
            "VerticalPodAutoscaler",
            "verticalpodautoscalers",
        ),
        ObjectKind::ScaledObject => ("keda.sh", "v1alpha1", "ScaledObject", "scaledobjects"),
        ObjectKind::Event => ("", "v1", "Event", "events"),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, k), plural)
}

/// VPA and KEDA are add-ons: not served is normal, not an error.
fn optional(kind: ObjectKind) -> bool {
    matches!(kind, ObjectKind::Vpa | ObjectKind::ScaledObject)
}

/// What a watch task reports to the run loop.
enum Msg {
    Listed(Stream, Vec<Value>),
    Applied(Stream, Value),
    Deleted(Stream, Value),
    Failed(Stream, Failure, String),
}

/// One watch: a kind in one namespace (None: all namespaces); for Events, about which kind
/// of object (a field selector takes one kind, so HPA and ScaledObject events are two watches).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Stream {
    kind: ObjectKind,
    namespace: Option<String>,
    about: Option<&'static str>,
}

/// The objects whose Events are read: the HPA controller's and KEDA's.
const EVENTS_ABOUT: [&str; 2] = ["HorizontalPodAutoscaler", "ScaledObject"];

impl Stream {
    fn describe(&self) -> String {
        let about = self
            .about
            .map(|a| format!(" about {a}s"))
            .unwrap_or_default();
        match &self.namespace {
            Some(ns) => format!("{}{about} in {ns}", self.kind.label()),
            None => format!("{}{about}", self.kind.label()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum StreamState {
    Listing,
    Synced,
    Failed(Failure, String),
}

/// Starts the source; must run inside the tokio runtime.
pub fn spawn(cfg: KubernetesSourceConfig, tx: Sender<Update>) -> JoinHandle<()> {
    tokio::spawn(run(cfg, tx))
}

async fn run(cfg: KubernetesSourceConfig, tx: Sender<Update>) {
    let mut health = SourceHealth {
        source: cfg.name.clone(),
        kind: "kubernetes".into(),
        target: cfg.target(),
        state: HealthState::Starting,
        last_ok: None,
        updates: 0,
        errors: 0,
        details: SourceDetails::default(),
    };
    let resync = cfg.resync_interval().unwrap_or(Duration::from_secs(15));
    // Kept across reconnects: events already reported are not reported again after a relist.
    let mut state = ClusterState::default();
    let mut delay = RECONNECT_FIRST;
    loop {
        // Rebuilt on every attempt, so credentials renewed in the kubeconfig (or a rotated
        // service account token) are picked up.
        let reason = match connect(&cfg).await {
            Err(reason) => reason,
            Ok(client) => match client.apiserver_version().await {
                Err(e) => match describe_request(&e) {
                    (Failure::Unauthorized, reason) => reason,
                    (_, reason) => format!("cannot reach the API server: {reason}"),
                },
                Ok(_) => {
                    let last_ok = health.last_ok;
                    let ended = watch_all(&cfg, client, &tx, &mut health, &mut state, resync).await;
                    if health.last_ok != last_ok {
                        delay = RECONNECT_FIRST;
                    }
                    match ended {
                        Ended::StoreGone => return,
                        Ended::Reconnect(reason) => reason,
                    }
                }
            },
        };
        health.errors += 1;
        health.state = HealthState::Down { reason };
        if tx.send(Update::Health(health.clone())).await.is_err() {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RECONNECT_MAX);
    }
}

/// Why the watches stopped.
enum Ended {
    /// The store is gone: the source stops.
    StoreGone,
    /// Credentials were rejected (or every watch ended): connect again from the kubeconfig.
    Reconnect(String),
}

async fn watch_all(
    cfg: &KubernetesSourceConfig,
    client: Client,
    tx: &Sender<Update>,
    health: &mut SourceHealth,
    state: &mut ClusterState,
    resync: Duration,
) -> Ended {
    let namespaces: Vec<Option<String>> = if cfg.namespaces.is_empty() {
        vec![None]
    } else {
        cfg.namespaces.iter().cloned().map(Some).collect()
    };
    let (mtx, mut rx) = mpsc::channel::<Msg>(1024);
    // Dropped with this future: aborting the source aborts every watch.
    let mut tasks = JoinSet::new();
    let mut streams: BTreeMap<Stream, StreamState> = BTreeMap::new();
    for kind in KINDS {
        let abouts: Vec<Option<&'static str>> = if kind == ObjectKind::Event {
            EVENTS_ABOUT.iter().copied().map(Some).collect()
        } else {
            vec![None]
        };
        for ns in &namespaces {
            for about in &abouts {
                let stream = Stream {
                    kind,
                    namespace: ns.clone(),
                    about: *about,
                };
                streams.insert(stream.clone(), StreamState::Listing);
                tasks.spawn(watch_one(client.clone(), stream, mtx.clone()));
            }
        }
    }
    drop(mtx);
    // Until every watch has listed once, lists are held back and applied in KINDS order:
    // events before HPAs, so a rescale's "from" is the event before it, not today's size.
    let mut first_sync: Option<Vec<Msg>> = Some(Vec::new());
    let mut ticker = tokio::time::interval(resync);
    ticker.tick().await;
    loop {
        let msg = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => m,
                None => return Ended::Reconnect("every watch ended".to_string()),
            },
            _ = ticker.tick() => {
                let updates = state.resync(Utc::now());
                if send_all(tx, updates, health).await.is_err() {
                    return Ended::StoreGone;
                }
                continue;
            }
        };
        let stream = match &msg {
            Msg::Listed(s, _) | Msg::Applied(s, _) | Msg::Deleted(s, _) | Msg::Failed(s, ..) => {
                s.clone()
            }
        };
        let new_state = match &msg {
            Msg::Failed(_, f, reason) => StreamState::Failed(*f, reason.clone()),
            _ => StreamState::Synced,
        };
        if let Msg::Failed(s, failure, reason) = &msg {
            health.errors += 1;
            // A rejected token fails every request alike: drop all watches and connect again,
            // rather than let each watch retry with credentials that will not work.
            if *failure == Failure::Unauthorized {
                return Ended::Reconnect(format!("{}: {reason}", s.describe()));
            }
        }
        streams.insert(stream, new_state);
        let mut updates = Vec::new();
        match &mut first_sync {
            Some(held) => {
                held.push(msg);
                if streams.values().all(|s| *s != StreamState::Listing) {
                    let mut held = first_sync.take().unwrap_or_default();
                    // Stable: lists in KINDS order, then changes in arrival order.
                    held.sort_by_key(|m| match m {
                        Msg::Listed(s, _) => (0, KINDS.iter().position(|k| *k == s.kind)),
                        _ => (1, None),
                    });
                    for m in held {
                        updates.extend(apply(state, m));
                    }
                }
            }
            None => updates = apply(state, msg),
        }
        if first_sync.is_none() {
            health.state = overall(&streams);
            if health.state == HealthState::Up {
                health.last_ok = Some(Utc::now());
            }
            health.details.note = notes(&streams, state);
            if send_all(tx, updates, health).await.is_err() {
                return Ended::StoreGone;
            }
        }
    }
}

fn apply(state: &mut ClusterState, msg: Msg) -> Vec<Update> {
    let now = Utc::now();
    match msg {
        Msg::Listed(s, list) => state.replace_all(s.kind, s.namespace.as_deref(), list, now),
        Msg::Applied(s, obj) => state.apply(s.kind, obj, now),
        Msg::Deleted(s, obj) => state.delete(s.kind, &obj, now),
        Msg::Failed(..) => Vec::new(),
    }
}

/// Sends updates and then the health; Err when the store is gone.
async fn send_all(
    tx: &Sender<Update>,
    updates: Vec<Update>,
    health: &mut SourceHealth,
) -> Result<(), ()> {
    health.updates += updates.len() as u64;
    for u in updates {
        tx.send(u).await.map_err(|_| ())?;
    }
    tx.send(Update::Health(health.clone()))
        .await
        .map_err(|_| ())
}

/// Down when HPAs cannot be read (nothing to show); otherwise up, with notes.
fn overall(streams: &BTreeMap<Stream, StreamState>) -> HealthState {
    let hpa_failures: Vec<String> = streams
        .iter()
        .filter(|(s, _)| s.kind == ObjectKind::Hpa)
        .filter_map(|(s, st)| match st {
            StreamState::Failed(_, reason) => Some(format!("{}: {reason}", s.describe())),
            _ => None,
        })
        .collect();
    if hpa_failures.is_empty() {
        HealthState::Up
    } else {
        HealthState::Down {
            reason: hpa_failures.join("; "),
        }
    }
}

fn notes(streams: &BTreeMap<Stream, StreamState>, state: &ClusterState) -> Option<String> {
    let mut notes: Vec<String> = streams
        .iter()
        .filter(|(s, _)| s.kind != ObjectKind::Hpa)
        .filter_map(|(s, st)| match st {
            StreamState::Failed(Failure::NotServed, _) if optional(s.kind) => {
                Some(format!("{}: not installed", s.describe()))
            }
            StreamState::Failed(_, reason) => Some(format!("{}: {reason}", s.describe())),
            _ => None,
        })
        .collect();
    notes.dedup();
    if state.unreadable_events > 0 {
        notes.push(format!(
            "{} SuccessfulRescale events with an unreadable message",
            state.unreadable_events
        ));
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// Watches one kind in one namespace until the run loop goes away. kube's watcher resumes a
/// watch the server ended (from the last resourceVersion), relists after expiry (410 Gone,
/// "too old resource version") and retries other failures with backoff; this stops for good
/// only on an optional resource the cluster does not serve.
async fn watch_one(client: Client, stream: Stream, tx: Sender<Msg>) {
    let ar = api_resource(stream.kind);
    let api: Api<DynamicObject> = match &stream.namespace {
        Some(ns) => Api::namespaced_with(client, ns, &ar),
        None => Api::all_with(client, &ar),
    };
    let mut wc = watcher::Config::default();
    if let Some(about) = stream.about {
        wc = wc.fields(&format!("involvedObject.kind={about}"));
    }
    let mut events = watcher(api, wc).default_backoff().boxed();
    let mut listing: Vec<Value> = Vec::new();
    while let Some(item) = events.next().await {
        let msg = match item {
            Ok(watcher::Event::Init) => {
                listing.clear();
                continue;
            }
            Ok(watcher::Event::InitApply(obj)) => {
                if let Ok(v) = serde_json::to_value(&obj) {
                    listing.push(v);
                }
                continue;
            }
            Ok(watcher::Event::InitDone) => {
                Msg::Listed(stream.clone(), std::mem::take(&mut listing))
            }
            Ok(watcher::Event::Apply(obj)) => match serde_json::to_value(&obj) {
                Ok(v) => Msg::Applied(stream.clone(), v),
                Err(_) => continue,
            },
            Ok(watcher::Event::Delete(obj)) => match serde_json::to_value(&obj) {
                Ok(v) => Msg::Deleted(stream.clone(), v),
                Err(_) => continue,
            },
            Err(e) => {
                let (failure, reason) = describe(&e);
                // Routine: the watcher relists by itself and the list reports the state.
                if failure == Failure::Expired {
                    continue;
                }
                let stop = failure == Failure::NotServed && optional(stream.kind);
                if tx
                    .send(Msg::Failed(stream.clone(), failure, reason))
                    .await
                    .is_err()
                    || stop
                {
                    return;
                }
                continue;
            }
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}
