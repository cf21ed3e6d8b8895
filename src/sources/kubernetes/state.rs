//! What the source knows about the cluster, and the store updates each change produces. Pure
//! (objects in, `Update`s out), so the joins (HPA ↔ workload ↔ VPA ↔ ScaledObject ↔ Events)
//! are tested without a cluster.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::events::{read_event, EventKind, SizeMemory};
use super::objects;
use crate::model::{
    CurrentPolicy, EventOrigin, GroupId, GroupInfo, MetricKind, Platform, PolicyModel,
    PolicyProvenance, ScalingEvent,
};
use crate::sources::{Sample, Update};

/// The kinds of object watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Hpa,
    Deployment,
    StatefulSet,
    Vpa,
    ScaledObject,
    Event,
}

impl ObjectKind {
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::Hpa => "HorizontalPodAutoscaler (autoscaling/v2)",
            ObjectKind::Deployment => "Deployment (apps/v1)",
            ObjectKind::StatefulSet => "StatefulSet (apps/v1)",
            ObjectKind::Vpa => "VerticalPodAutoscaler (autoscaling.k8s.io/v1)",
            ObjectKind::ScaledObject => "KEDA ScaledObject (keda.sh/v1alpha1)",
            ObjectKind::Event => "Event (v1)",
        }
    }
}

type Key = (String, String);

#[derive(Debug, Default)]
pub struct ClusterState {
    hpas: BTreeMap<Key, Value>,
    /// (namespace, "Kind/name") -> workload.
    workloads: BTreeMap<Key, Value>,
    vpas: BTreeMap<Key, Value>,
    scaled_objects: BTreeMap<Key, Value>,
    sizes: HashMap<GroupId, SizeMemory>,
    warnings: HashMap<GroupId, String>,
    /// Latest KEDA lifecycle event per group (KEDAScalersStarted, ScaledObjectReady, ...).
    keda_status: HashMap<GroupId, String>,
    seen_events: HashSet<String>,
    /// SuccessfulRescale events whose message could not be read.
    pub unreadable_events: u64,
}

fn group_id(namespace: &str, hpa_name: &str) -> GroupId {
    GroupId::new(Platform::K8s, namespace, hpa_name)
}

/// What leads a group: names it and supplies its policy. An HPA leads when there is one;
/// a KEDA ScaledObject whose HPA is not (yet, or not visibly) there leads under the HPA name
/// KEDA gives it, so the group keeps its id once the HPA appears; a VPA whose workload no
/// horizontal autoscaler scales leads a group of its own.
enum Leader<'a> {
    Hpa(&'a Value),
    ScaledObject(&'a Value),
    Vpa(&'a Value),
}

impl ClusterState {
    pub fn group_count(&self) -> usize {
        self.group_keys().len()
    }

    /// Every group: one per HPA, per ScaledObject without its HPA, per standalone VPA.
    fn group_keys(&self) -> Vec<Key> {
        let mut keys: Vec<Key> = self.hpas.keys().cloned().collect();
        for ((ns, _), so) in &self.scaled_objects {
            if let Some(name) = objects::scaled_object_hpa_name(so) {
                if !self.so_has_hpa(ns, so) {
                    keys.push((ns.clone(), name));
                }
            }
        }
        for ((ns, name), vpa) in &self.vpas {
            if self.vpa_standalone(ns, vpa) {
                keys.push((ns.clone(), self.vpa_group_name(ns, name)));
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// Whether the HPA a ScaledObject drives is among the HPAs seen.
    fn so_has_hpa(&self, ns: &str, so: &Value) -> bool {
        let by_name = objects::scaled_object_hpa_name(so)
            .is_some_and(|n| self.hpas.contains_key(&(ns.to_string(), n)));
        let target = objects::target_ref(so.pointer("/spec/scaleTargetRef"));
        by_name
            || (target.is_some()
                && self
                    .hpas
                    .iter()
                    .any(|((n, _), h)| n == ns && objects::hpa_target(h) == target))
    }

    /// A VPA on a workload that neither an HPA nor a ScaledObject scales.
    fn vpa_standalone(&self, ns: &str, vpa: &Value) -> bool {
        let Some(target) = objects::target_ref(vpa.pointer("/spec/targetRef")) else {
            return false;
        };
        let hpa = self
            .hpas
            .iter()
            .any(|((n, _), h)| n == ns && objects::hpa_target(h).as_ref() == Some(&target));
        let so = self.scaled_objects.iter().any(|((n, _), so)| {
            n == ns
                && objects::target_ref(so.pointer("/spec/scaleTargetRef")).as_ref() == Some(&target)
        });
        !hpa && !so
    }

    /// A standalone VPA's group name: its own, unless an HPA already has that name.
    fn vpa_group_name(&self, ns: &str, name: &str) -> String {
        if self.hpas.contains_key(&(ns.to_string(), name.to_string())) {
            format!("vpa-{name}")
        } else {
            name.to_string()
        }
    }

    fn leader(&self, key: &Key) -> Option<Leader<'_>> {
        if let Some(h) = self.hpas.get(key) {
            return Some(Leader::Hpa(h));
        }
        let so = self
            .scaled_objects
            .iter()
            .filter(|((ns, _), _)| *ns == key.0)
            .map(|(_, so)| so)
            .find(|so| {
                objects::scaled_object_hpa_name(so).as_deref() == Some(key.1.as_str())
                    && !self.so_has_hpa(&key.0, so)
            });
        if let Some(so) = so {
            return Some(Leader::ScaledObject(so));
        }
        self.vpas
            .iter()
            .filter(|((ns, _), _)| *ns == key.0)
            .find(|((ns, name), v)| {
                self.vpa_standalone(ns, v) && self.vpa_group_name(ns, name) == key.1
            })
            .map(|(_, v)| Leader::Vpa(v))
    }

    /// Applies an added or changed object; returns the updates for the store.
    pub fn apply(&mut self, kind: ObjectKind, obj: Value, now: DateTime<Utc>) -> Vec<Update> {
        if kind == ObjectKind::Event {
            return self.apply_event(&obj, now);
        }
        let Some(key) = objects::key(&obj) else {
            return Vec::new();
        };
        // Groups joined before and after the change (a changed target moves the join).
        let mut groups = self
            .stored(kind, &key)
            .map(|old| self.affected(kind, &key, old))
            .unwrap_or_default();
        if kind == ObjectKind::Hpa {
            if let Some(d) = objects::hpa_desired(&obj) {
                self.sizes
                    .entry(group_id(&key.0, &key.1))
                    .or_default()
                    .observe(d);
            }
        }
        let map_key = store_key(kind, &key);
        if let Some(map) = self.map_mut(kind) {
            map.insert(map_key, obj);
        }
        if let Some(new) = self.stored(kind, &key) {
            groups.extend(self.affected(kind, &key, new));
        }
        self.describe_all(groups, now)
    }

    /// Applies a deletion. The group's history stays in the store.
    pub fn delete(&mut self, kind: ObjectKind, obj: &Value, now: DateTime<Utc>) -> Vec<Update> {
        let Some(key) = objects::key(obj) else {
            return Vec::new();
        };
        let groups = self.affected(kind, &key, obj);
        let map_key = store_key(kind, &key);
        if let Some(map) = self.map_mut(kind) {
            map.remove(&map_key);
        }
        self.describe_all(groups, now)
    }

    /// Replaces every object of a kind in a namespace (None: all) after a (re)list: objects
    /// gone from the list are dropped, the rest applied.
    pub fn replace_all(
        &mut self,
        kind: ObjectKind,
        namespace: Option<&str>,
        list: Vec<Value>,
        now: DateTime<Utc>,
    ) -> Vec<Update> {
        let mut out = Vec::new();
        if kind == ObjectKind::Event {
            // Oldest first, so each rescale's "from" is the one before it.
            let mut events: Vec<(DateTime<Utc>, Value)> = list
                .into_iter()
                .map(|e| (read_event(&e, now).map_or(now, |r| r.at), e))
                .collect();
            events.sort_by_key(|(at, _)| *at);
            for (_, e) in events {
                out.extend(self.apply_event(&e, now));
            }
            return out;
        }
        let keep: HashSet<Key> = list
            .iter()
            .filter_map(objects::key)
            .map(|k| store_key(kind, &k))
            .collect();
        // Deployments and StatefulSets share a map: a relist of one kind drops only its own.
        let prefix = match kind {
            ObjectKind::Deployment => "Deployment/",
            ObjectKind::StatefulSet => "StatefulSet/",
            _ => "",
        };
        let gone: Vec<Value> = self
            .map_mut(kind)
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| {
                        k.1.starts_with(prefix)
                            && namespace.is_none_or(|ns| k.0 == ns)
                            && !keep.contains(*k)
                    })
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default();
        for obj in gone {
            out.extend(self.delete(kind, &obj, now));
        }
        for obj in list {
            out.extend(self.apply(kind, obj, now));
        }
        out
    }

    /// The latest replica figures of every group, re-sent so charts have a point each step.
    pub fn resync(&self, now: DateTime<Utc>) -> Vec<Update> {
        let samples: Vec<Sample> = self
            .group_keys()
            .iter()
            .flat_map(|k| self.samples(k))
            .collect();
        if samples.is_empty() {
            return Vec::new();
        }
        vec![Update::Samples { at: now, samples }]
    }

    fn map_mut(&mut self, kind: ObjectKind) -> Option<&mut BTreeMap<Key, Value>> {
        match kind {
            ObjectKind::Hpa => Some(&mut self.hpas),
            ObjectKind::Deployment | ObjectKind::StatefulSet => Some(&mut self.workloads),
            ObjectKind::Vpa => Some(&mut self.vpas),
            ObjectKind::ScaledObject => Some(&mut self.scaled_objects),
            ObjectKind::Event => None,
        }
    }

    fn stored(&self, kind: ObjectKind, key: &Key) -> Option<&Value> {
        let k = store_key(kind, key);
        match kind {
            ObjectKind::Hpa => self.hpas.get(&k),
            ObjectKind::Deployment | ObjectKind::StatefulSet => self.workloads.get(&k),
            ObjectKind::Vpa => self.vpas.get(&k),
            ObjectKind::ScaledObject => self.scaled_objects.get(&k),
            ObjectKind::Event => None,
        }
    }

    /// Groups (namespace, name) an object describes.
    fn affected(&self, kind: ObjectKind, key: &Key, obj: &Value) -> Vec<Key> {
        // Groups whose leader scales `target` in this namespace.
        let targeting = |target: Option<(String, String)>| -> Vec<Key> {
            let Some(target) = target else {
                return Vec::new();
            };
            let hpas = self
                .hpas
                .iter()
                .filter(|((ns, _), hpa)| {
                    *ns == key.0 && objects::hpa_target(hpa).as_ref() == Some(&target)
                })
                .map(|(k, _)| k.clone());
            let sos = self
                .scaled_objects
                .iter()
                .filter(|((ns, _), so)| {
                    *ns == key.0
                        && objects::target_ref(so.pointer("/spec/scaleTargetRef")).as_ref()
                            == Some(&target)
                })
                .filter_map(|(_, so)| objects::scaled_object_hpa_name(so))
                .map(|n| (key.0.clone(), n));
            let vpas = self
                .vpas
                .iter()
                .filter(|((ns, _), v)| {
                    *ns == key.0
                        && objects::target_ref(v.pointer("/spec/targetRef")).as_ref()
                            == Some(&target)
                })
                .map(|((ns, name), _)| (ns.clone(), self.vpa_group_name(ns, name)));
            hpas.chain(sos).chain(vpas).collect()
        };
        match kind {
            ObjectKind::Hpa => {
                let mut keys = vec![key.clone()];
                // A VPA or ScaledObject on the same workload stops (or starts) leading.
                keys.extend(targeting(objects::hpa_target(obj)));
                keys
            }
            ObjectKind::Deployment => targeting(Some(("Deployment".into(), key.1.clone()))),
            ObjectKind::StatefulSet => targeting(Some(("StatefulSet".into(), key.1.clone()))),
            ObjectKind::Vpa => {
                let mut keys = targeting(objects::target_ref(obj.pointer("/spec/targetRef")));
                keys.push((key.0.clone(), self.vpa_group_name(&key.0, &key.1)));
                keys
            }
            ObjectKind::ScaledObject => {
                let mut keys = targeting(objects::target_ref(obj.pointer("/spec/scaleTargetRef")));
                if let Some(hpa) = objects::scaled_object_hpa_name(obj) {
                    keys.push((key.0.clone(), hpa));
                }
                keys
            }
            ObjectKind::Event => Vec::new(),
        }
    }

    fn describe_all(&self, mut groups: Vec<Key>, now: DateTime<Utc>) -> Vec<Update> {
        groups.sort();
        groups.dedup();
        let mut out = Vec::new();
        let mut samples = Vec::new();
        for k in &groups {
            if let Some(info) = self.describe(k) {
                out.push(Update::Group(Box::new(info)));
                samples.extend(self.samples(k));
            }
        }
        if !samples.is_empty() {
            out.push(Update::Samples { at: now, samples });
        }
        out
    }

    /// The ScaledObject driving an HPA, if any.
    fn scaled_object_of(&self, key: &Key, hpa: &Value) -> Option<&Value> {
        let target = objects::hpa_target(hpa);
        self.scaled_objects
            .iter()
            .filter(|((ns, _), _)| *ns == key.0)
            .map(|(_, so)| so)
            .find(|so| {
                objects::scaled_object_hpa_name(so).as_deref() == Some(key.1.as_str())
                    || (target.is_some()
                        && objects::target_ref(so.pointer("/spec/scaleTargetRef")) == target)
            })
    }

    fn describe(&self, key: &Key) -> Option<GroupInfo> {
        let leader = self.leader(key)?;
        let id = group_id(&key.0, &key.1);
        let mut info = GroupInfo::new(id.clone());
        let (target, policy_text) = match leader {
            Leader::Hpa(hpa) => {
                let so = self.scaled_object_of(key, hpa);
                let text = match so {
                    Some(so) => objects::scaled_object_policy_text(so),
                    None => objects::hpa_policy_text(hpa),
                };
                if let Some(so) = so.and_then(objects::key) {
                    info.labels.insert("k8s.scaled_object".into(), so.1);
                }
                for c in objects::hpa_conditions(hpa) {
                    info.labels
                        .insert(format!("k8s.condition.{}", c.kind), c.text());
                }
                let (metrics, _) = objects::hpa_current_metrics(hpa);
                if !metrics.is_empty() {
                    info.labels.insert("k8s.metrics".into(), metrics.join("; "));
                }
                (objects::hpa_target(hpa), Some(text))
            }
            Leader::ScaledObject(so) => {
                if let Some(k) = objects::key(so) {
                    info.labels.insert("k8s.scaled_object".into(), k.1);
                }
                // KEDA's conditions (Ready, Active, Fallback) have the HPA's shape.
                for c in objects::hpa_conditions(so) {
                    info.labels
                        .insert(format!("k8s.condition.{}", c.kind), c.text());
                }
                (
                    objects::target_ref(so.pointer("/spec/scaleTargetRef")),
                    Some(objects::scaled_object_policy_text(so)),
                )
            }
            // A VPA sizes pods, not their count: no horizontal policy to replay.
            Leader::Vpa(v) => (objects::target_ref(v.pointer("/spec/targetRef")), None),
        };
        info.policy = policy_text.map(|text| CurrentPolicy {
            model: PolicyModel::Native { text },
            provenance: PolicyProvenance::PlatformApi,
        });
        let labels = &mut info.labels;
        if let Some((kind, name)) = &target {
            labels.insert("k8s.target".into(), format!("{kind}/{name}"));
        }
        if let Some(w) = self.workload(key, &target) {
            if let Some(r) = objects::workload_requests(w) {
                labels.insert("k8s.requests".into(), r);
            }
        }
        let vpa = self
            .vpas
            .iter()
            .filter(|((ns, _), _)| *ns == key.0)
            .map(|(_, v)| v)
            .find(|v| {
                target.is_some() && objects::target_ref(v.pointer("/spec/targetRef")) == target
            });
        if let Some(v) = vpa {
            labels.insert("k8s.vpa".into(), objects::vpa_summary(v));
        }
        if let Some(status) = self.keda_status.get(&id) {
            labels.insert("k8s.keda.status".into(), status.clone());
        }
        labels.insert(
            "k8s.warning".into(),
            self.warnings.get(&id).cloned().unwrap_or_default(),
        );
        Some(info)
    }

    fn workload(&self, key: &Key, target: &Option<(String, String)>) -> Option<&Value> {
        let (kind, name) = target.as_ref()?;
        self.workloads
            .get(&(key.0.clone(), format!("{kind}/{name}")))
    }

    fn samples(&self, key: &Key) -> Vec<Sample> {
        let id = group_id(&key.0, &key.1);
        let figures: Vec<(MetricKind, f64)> = match self.leader(key) {
            None => return Vec::new(),
            Some(Leader::Hpa(hpa)) => {
                let ready = self
                    .workload(key, &objects::hpa_target(hpa))
                    .and_then(objects::workload_ready);
                let (_, metric_samples) = objects::hpa_current_metrics(hpa);
                objects::hpa_replicas(hpa)
                    .into_iter()
                    .map(|(metric, value)| match (metric, ready) {
                        // Ready pods of the workload beat the HPA's current (not necessarily ready).
                        (MetricKind::ReplicasReady, Some(r)) => (metric, f64::from(r)),
                        _ => (metric, value),
                    })
                    .chain(metric_samples)
                    .collect()
            }
            Some(Leader::ScaledObject(so)) => {
                let target = objects::target_ref(so.pointer("/spec/scaleTargetRef"));
                let mut out = self.workload_figures(key, &target);
                out.extend(objects::scaled_object_bounds(so));
                out
            }
            Some(Leader::Vpa(v)) => {
                self.workload_figures(key, &objects::target_ref(v.pointer("/spec/targetRef")))
            }
        };
        figures
            .into_iter()
            .map(|(metric, value)| Sample {
                group: id.clone(),
                metric,
                value,
            })
            .collect()
    }

    /// Desired (spec) and ready replicas of a group's workload.
    fn workload_figures(
        &self,
        key: &Key,
        target: &Option<(String, String)>,
    ) -> Vec<(MetricKind, f64)> {
        let Some(w) = self.workload(key, target) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(d) = objects::workload_desired(w) {
            out.push((MetricKind::ReplicasDesired, f64::from(d)));
        }
        if let Some(r) = objects::workload_ready(w) {
            out.push((MetricKind::ReplicasReady, f64::from(r)));
        }
        out
    }

    fn apply_event(&mut self, obj: &Value, now: DateTime<Utc>) -> Vec<Update> {
        let Some(ev) = read_event(obj, now) else {
            return Vec::new();
        };
        if !self.seen_events.insert(ev.dedup_key.clone()) {
            return Vec::new();
        }
        // Events about a ScaledObject belong to the group of the HPA it drives.
        let hpa_name = if ev.object_kind == "ScaledObject" {
            self.scaled_objects
                .get(&(ev.namespace.clone(), ev.object_name.clone()))
                .and_then(objects::scaled_object_hpa_name)
                .unwrap_or_else(|| format!("keda-hpa-{}", ev.object_name))
        } else {
            ev.object_name.clone()
        };
        let id = group_id(&ev.namespace, &hpa_name);
        match ev.what {
            EventKind::Rescale { new_size, reason } => {
                let sizes = self.sizes.entry(id.clone()).or_default();
                let from = sizes.from_for(new_size);
                sizes.observe(new_size);
                let reason = match from {
                    Some(_) => reason,
                    None => format!("{reason} (size before not known)"),
                };
                vec![Update::Event(ScalingEvent {
                    at: ev.at,
                    group: id,
                    from_replicas: from.unwrap_or(new_size),
                    to_replicas: new_size,
                    reason,
                    demand: None,
                    thrash: false,
                    origin: EventOrigin::Platform,
                })]
            }
            EventKind::Warning {
                reason,
                message,
                count,
            } => {
                if reason == "SuccessfulRescale" {
                    self.unreadable_events += 1;
                }
                let times = if count > 1 {
                    format!(" (x{count})")
                } else {
                    String::new()
                };
                self.warnings.insert(
                    id,
                    format!(
                        "{} {reason}{times}: {message}",
                        ev.at.format("%Y-%m-%d %H:%M:%SZ")
                    ),
                );
                self.describe_all(vec![(ev.namespace, hpa_name)], now)
            }
            EventKind::Resize { from, to, reason } => {
                self.sizes.entry(id.clone()).or_default().observe(to);
                vec![Update::Event(ScalingEvent {
                    at: ev.at,
                    group: id,
                    from_replicas: from,
                    to_replicas: to,
                    reason,
                    demand: None,
                    thrash: false,
                    origin: EventOrigin::Platform,
                })]
            }
            EventKind::Lifecycle { reason, message } => {
                self.keda_status.insert(
                    id,
                    format!("{} {reason}: {message}", ev.at.format("%Y-%m-%d %H:%M:%SZ")),
                );
                self.describe_all(vec![(ev.namespace, hpa_name)], now)
            }
            EventKind::Other => Vec::new(),
        }
    }
}

/// Key of an object in its map: workloads are keyed "Kind/name" since one map holds both.
fn store_key(kind: ObjectKind, key: &Key) -> Key {
    match kind {
        ObjectKind::Deployment => (key.0.clone(), format!("Deployment/{}", key.1)),
        ObjectKind::StatefulSet => (key.0.clone(), format!("StatefulSet/{}", key.1)),
        _ => key.clone(),
    }
}

#[cfg(test)]
mod tests;
