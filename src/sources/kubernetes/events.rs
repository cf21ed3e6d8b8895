//! Kubernetes Events about autoscalers: `SuccessfulRescale` becomes a scaling event with the
//! controller's own reason; warnings (FailedGetResourceMetric, FailedComputeMetricsReplicas,
//! FailedRescale, ...) are kept as the group's latest warning, because nothing was scaled.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// What one Event says about one autoscaler.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoscalerEvent {
    /// Namespace and name of the object the event is about.
    pub namespace: String,
    pub object_kind: String,
    pub object_name: String,
    pub at: DateTime<Utc>,
    /// Identifies this occurrence (uid or name, plus count), so a relist does not repeat it.
    pub dedup_key: String,
    pub what: EventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// The controller set a new size; `reason` is the controller's, e.g. "cpu resource
    /// utilization (percentage of request) above target".
    Rescale { new_size: u32, reason: String },
    /// A Warning event, e.g. FailedGetResourceMetric, with its message and repeat count.
    Warning {
        reason: String,
        message: String,
        count: u32,
    },
    /// KEDA (de)activated the scale target, with both sizes in the message:
    /// KEDAScaleTargetActivated / KEDAScaleTargetDeactivated.
    Resize { from: u32, to: u32, reason: String },
    /// A Normal KEDA lifecycle event (KEDAScalersStarted, KEDAScalersStopped,
    /// ScaledObjectReady): no size change, shown as the group's latest KEDA status.
    Lifecycle { reason: String, message: String },
    /// A Normal event that says nothing about size (kept out of the event log).
    Other,
}

/// Reads an Event (core/v1 shape) about a HorizontalPodAutoscaler or a KEDA ScaledObject;
/// `None` for events about other objects. `now` is used when the event carries no time.
pub fn read_event(ev: &Value, now: DateTime<Utc>) -> Option<AutoscalerEvent> {
    let involved = ev.get("involvedObject").or_else(|| ev.get("regarding"))?;
    let object_kind = involved.get("kind")?.as_str()?;
    if !matches!(object_kind, "HorizontalPodAutoscaler" | "ScaledObject") {
        return None;
    }
    let object_name = involved.get("name")?.as_str()?.to_string();
    let namespace = involved
        .get("namespace")
        .or_else(|| ev.pointer("/metadata/namespace"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let reason = ev.get("reason").and_then(Value::as_str).unwrap_or("");
    let message = ev
        .get("message")
        .or_else(|| ev.get("note"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let count = ev
        .get("count")
        .or_else(|| ev.pointer("/series/count"))
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let at = ["lastTimestamp", "eventTime", "firstTimestamp"]
        .iter()
        .filter_map(|f| ev.get(*f).and_then(Value::as_str))
        .chain(
            ev.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str),
        )
        .find_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(now, |t| t.with_timezone(&Utc));
    let id = ev
        .pointer("/metadata/uid")
        .or_else(|| ev.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .unwrap_or(message);
    let dedup_key = format!("{namespace}/{id}#{count}@{}", at.timestamp());
    let is_warning = ev.get("type").and_then(Value::as_str) == Some("Warning");
    let keda_resize = matches!(
        reason,
        "KEDAScaleTargetActivated" | "KEDAScaleTargetDeactivated"
    );
    let what = if keda_resize && !is_warning {
        match parse_keda_resize(message) {
            Some((from, to, detail)) => EventKind::Resize {
                from,
                to,
                reason: keda_reason(reason, &detail),
            },
            None => EventKind::Warning {
                reason: reason.to_string(),
                message: format!("unreadable KEDA message: {message}"),
                count: u32::try_from(count).unwrap_or(u32::MAX),
            },
        }
    } else if matches!(
        reason,
        "KEDAScalersStarted" | "KEDAScalersStopped" | "ScaledObjectReady"
    ) && !is_warning
    {
        EventKind::Lifecycle {
            reason: reason.to_string(),
            message: message.to_string(),
        }
    } else if reason == "SuccessfulRescale" {
        match parse_rescale_message(message) {
            Some((new_size, reason)) => EventKind::Rescale { new_size, reason },
            None => EventKind::Warning {
                reason: reason.to_string(),
                message: format!("unreadable rescale message: {message}"),
                count: count as u32,
            },
        }
    } else if is_warning {
        EventKind::Warning {
            reason: reason.to_string(),
            message: message.to_string(),
            count: u32::try_from(count).unwrap_or(u32::MAX),
        }
    } else {
        EventKind::Other
    };
    Some(AutoscalerEvent {
        namespace,
        object_kind: object_kind.to_string(),
        object_name,
        at,
        dedup_key,
        what,
    })
}

/// Parses the HPA controller's message "New size: 5; reason: cpu resource utilization
/// (percentage of request) above target" (k8s.io/kubernetes pkg/controller/podautoscaler
/// horizontal.go) into (5, "cpu resource utilization ... above target").
pub fn parse_rescale_message(message: &str) -> Option<(u32, String)> {
    let rest = message.trim().strip_prefix("New size:")?.trim_start();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let size = rest[..digits].parse().ok()?;
    let after = rest[digits..].trim_start_matches(';').trim();
    let reason = after
        .strip_prefix("reason:")
        .map(str::trim)
        .unwrap_or(after)
        .to_string();
    Some((size, reason))
}

/// Parses KEDA's scale executor messages (kedacore/keda pkg/scaling/executor/
/// scale_scaledobjects.go): "Scaled apps/v1.Deployment shop/worker from 0 to 1" with an
/// optional ", triggered by <triggers>" or ", caused by forced activation annotation", and
/// "Deactivated apps/v1.Deployment shop/worker from 1 to 0". Returns (from, to, detail).
pub fn parse_keda_resize(message: &str) -> Option<(u32, u32, String)> {
    let m = message.trim();
    if !(m.starts_with("Scaled ") || m.starts_with("Deactivated ")) {
        return None;
    }
    let at = m.rfind(" from ")?;
    let rest = &m[at + " from ".len()..];
    let (from, rest) = rest.split_once(" to ")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let to = rest[..digits].parse().ok()?;
    let detail = rest[digits..].trim_start_matches(',').trim().to_string();
    Some((from.trim().parse().ok()?, to, detail))
}

/// The reason shown for a KEDA (de)activation.
fn keda_reason(reason: &str, detail: &str) -> String {
    let what = if reason == "KEDAScaleTargetActivated" {
        "KEDA activated the scale target (a trigger became active)"
    } else {
        // KEDA deactivates once no trigger was active for the cooldownPeriod.
        "KEDA deactivated the scale target (no trigger active for the cooldown period)"
    };
    if detail.is_empty() {
        what.to_string()
    } else {
        format!("{what}, {detail}")
    }
}

/// Replica sizes of one group as seen so far, to give a rescale its "from": the HPA status
/// and the events arrive on separate watches, so the status may already show the new size
/// when the event arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SizeMemory {
    pub last: Option<u32>,
    pub before_last: Option<u32>,
}

impl SizeMemory {
    /// Records a size seen (HPA desired replicas or a rescale's new size).
    pub fn observe(&mut self, size: u32) {
        if self.last != Some(size) {
            self.before_last = self.last;
            self.last = Some(size);
        }
    }

    /// The size before a rescale to `new_size`, if known.
    pub fn from_for(&self, new_size: u32) -> Option<u32> {
        if self.last == Some(new_size) {
            self.before_last
        } else {
            self.last
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rescale_messages_of_the_hpa_controller() {
        assert_eq!(
            parse_rescale_message(
                "New size: 5; reason: cpu resource utilization (percentage of request) above target"
            ),
            Some((
                5,
                "cpu resource utilization (percentage of request) above target".to_string()
            ))
        );
        assert_eq!(
            parse_rescale_message("New size: 2; reason: All metrics below target"),
            Some((2, "All metrics below target".to_string()))
        );
        assert_eq!(
            parse_rescale_message("New size: 12; reason: external metric s0-rabbitmq-orders(&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: orders,},MatchExpressions:[]LabelSelectorRequirement{},}) above target"),
            Some((12, "external metric s0-rabbitmq-orders(&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: orders,},MatchExpressions:[]LabelSelectorRequirement{},}) above target".to_string()))
        );
        assert_eq!(parse_rescale_message("New size: ; reason: x"), None);
        assert_eq!(parse_rescale_message("scaled up"), None);
    }

    fn event(reason: &str, kind: &str, message: &str, count: u64) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.17a", "namespace": "shop", "uid": "u-1"},
            "involvedObject": {"kind": "HorizontalPodAutoscaler", "name": "web", "namespace": "shop",
                               "apiVersion": "autoscaling/v2"},
            "reason": reason, "type": kind, "message": message, "count": count,
            "firstTimestamp": "2026-11-28T10:00:00Z", "lastTimestamp": "2026-11-28T10:05:00Z",
            "source": {"component": "horizontal-pod-autoscaler"}
        })
    }

    #[test]
    fn events_become_rescales_or_warnings() {
        let now = Utc::now();
        let e = read_event(
            &event(
                "SuccessfulRescale",
                "Normal",
                "New size: 5; reason: cpu resource utilization (percentage of request) above target",
                1,
            ),
            now,
        )
        .unwrap();
        assert_eq!(
            (e.namespace.as_str(), e.object_name.as_str()),
            ("shop", "web")
        );
        assert_eq!(e.at.to_rfc3339(), "2026-11-28T10:05:00+00:00");
        assert!(matches!(e.what, EventKind::Rescale { new_size: 5, .. }));
        let w = read_event(
            &event(
                "FailedGetResourceMetric",
                "Warning",
                "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API",
                7,
            ),
            now,
        )
        .unwrap();
        assert!(
            matches!(&w.what, EventKind::Warning { reason, count: 7, .. } if reason == "FailedGetResourceMetric")
        );
        assert_ne!(e.dedup_key, w.dedup_key);
        let mut pod = event("Scheduled", "Normal", "x", 1);
        pod["involvedObject"]["kind"] = json!("Pod");
        assert_eq!(read_event(&pod, now), None);
    }

    #[test]
    fn keda_messages_carry_both_sizes() {
        assert_eq!(
            parse_keda_resize(
                "Scaled apps/v1.Deployment shop/worker from 0 to 1, triggered by kafka-orders"
            ),
            Some((0, 1, "triggered by kafka-orders".to_string()))
        );
        assert_eq!(
            parse_keda_resize("Deactivated apps/v1.Deployment shop/worker from 3 to 0"),
            Some((3, 0, String::new()))
        );
        assert_eq!(parse_keda_resize("Started scalers watch"), None);
        let mut e = event(
            "KEDAScaleTargetDeactivated",
            "Normal",
            "Deactivated apps/v1.Deployment shop/worker from 3 to 0",
            1,
        );
        e["involvedObject"] = json!({"kind": "ScaledObject", "name": "worker", "namespace": "shop",
                                     "apiVersion": "keda.sh/v1alpha1"});
        let r = read_event(&e, Utc::now()).unwrap();
        assert_eq!(r.object_kind, "ScaledObject");
        assert_eq!(
            r.what,
            EventKind::Resize {
                from: 3,
                to: 0,
                reason:
                    "KEDA deactivated the scale target (no trigger active for the cooldown period)"
                        .into()
            }
        );
        e["reason"] = json!("KEDAScalersStarted");
        e["message"] = json!("Started scalers watch");
        assert!(matches!(
            read_event(&e, Utc::now()).unwrap().what,
            EventKind::Lifecycle { .. }
        ));
    }

    #[test]
    fn from_size_survives_either_arrival_order() {
        let mut m = SizeMemory::default();
        m.observe(3);
        // Event first: status still says 3.
        assert_eq!(m.from_for(5), Some(3));
        // Status first: it already says 5.
        m.observe(5);
        assert_eq!(m.from_for(5), Some(3));
        assert_eq!(SizeMemory::default().from_for(4), None);
    }
}
