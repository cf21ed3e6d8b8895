//! Scaling activities (DescribeScalingActivities) as platform scaling events. The desired
//! capacity change is read from the activity's Cause, which EC2 Auto Scaling writes as
//! "At <time> <trigger> changing the desired capacity from A to B." (EC2 Auto Scaling User
//! Guide, "Verify a scaling activity"); the instance launches and terminations that follow
//! each carry the same first sentence, so one desired change is one event however many
//! instances it moved.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::model::{EventOrigin, GroupId, ScalingEvent};

/// One activity as the API returned it, reduced to what an event needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRecord {
    pub id: String,
    pub group: GroupId,
    pub description: String,
    pub cause: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    /// Successful, Failed, InProgress, Cancelled, ...
    pub status: String,
    pub status_message: String,
}

const CHANGE: &str = "changing the desired capacity from ";

/// Seconds from start to end of the successful instance launches ("Launching a new EC2
/// instance: i-..."), which end when the instance is InService.
pub fn launch_seconds(records: &[ActivityRecord]) -> Vec<u32> {
    records
        .iter()
        .filter(|a| {
            a.status == "Successful" && a.description.starts_with("Launching a new EC2 instance")
        })
        .filter_map(|a| u32::try_from((a.end? - a.start).num_seconds()).ok())
        .collect()
}

/// `(from, to)` of the first "changing the desired capacity from A to B" in a Cause.
pub fn capacity_change(cause: &str) -> Option<(u32, u32)> {
    let at = cause.find(CHANGE)? + CHANGE.len();
    let mut words = cause[at..].split_whitespace();
    let from = words.next()?.parse().ok()?;
    (words.next()? == "to").then_some(())?;
    let to = words
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    Some((from, to))
}

/// The sentence of the Cause that names the desired change, e.g. "At 2024-05-16T17:52:02Z a
/// monitor alarm X in state ALARM triggered policy Y changing the desired capacity from 1 to 2".
fn change_sentence(cause: &str) -> Option<&str> {
    let at = cause.find(CHANGE)?;
    let start = cause[..at].rfind(".  ").map_or(0, |i| i + 3);
    let end = cause[at..].find('.').map_or(cause.len(), |i| at + i);
    Some(cause[start..end].trim())
}

/// "At 2012-04-12T17:31:30Z ..." -> that time.
fn leading_time(sentence: &str) -> Option<DateTime<Utc>> {
    let t = sentence.strip_prefix("At ")?.split_whitespace().next()?;
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Turns activities (any order) into events, oldest first, one per desired-capacity change;
/// `seen` holds the changes already delivered (by group and Cause sentence) and is updated.
pub fn to_events(
    activities: &[ActivityRecord],
    seen: &mut HashSet<(GroupId, String)>,
) -> Vec<ScalingEvent> {
    let mut events: Vec<ScalingEvent> = activities
        .iter()
        .filter_map(|a| {
            let sentence = change_sentence(&a.cause)?;
            let (from, to) = capacity_change(sentence)?;
            if !seen.insert((a.group.clone(), sentence.to_string())) {
                return None;
            }
            let trigger = sentence
                .split_once(' ')
                .filter(|_| sentence.starts_with("At "))
                .and_then(|(_, rest)| rest.split_once(' '))
                .map_or(sentence, |(_, rest)| rest);
            let mut reason = format!("{trigger} ({})", a.description);
            if a.status == "Failed" || a.status == "Cancelled" {
                reason.push_str(&format!(": activity {}", a.status));
                if !a.status_message.is_empty() {
                    reason.push_str(&format!(", {}", a.status_message));
                }
            }
            Some(ScalingEvent {
                at: leading_time(sentence).unwrap_or(a.start),
                group: a.group.clone(),
                from_replicas: from,
                to_replicas: to,
                reason,
                demand: None,
                thrash: false,
                origin: EventOrigin::Platform,
            })
        })
        .collect();
    events.sort_by_key(|e| e.at);
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Platform;

    // Cause text of the DescribeScalingActivities example in the EC2 Auto Scaling API
    // Reference.
    const API_REF_CAUSE: &str = "At 2012-04-12T17:31:30Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 1.  At 2012-04-12T17:32:07Z an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 0 to 1.";

    fn record(id: &str, cause: &str, description: &str) -> ActivityRecord {
        ActivityRecord {
            id: id.into(),
            group: GroupId::new(Platform::Aws, "123456789012/us-east-1", "my-asg"),
            description: description.into(),
            cause: cause.into(),
            start: DateTime::parse_from_rfc3339("2012-04-12T17:32:07Z")
                .unwrap()
                .with_timezone(&Utc),
            end: None,
            status: "Successful".into(),
            status_message: String::new(),
        }
    }

    #[test]
    fn reads_the_desired_change_and_not_the_actual_one() {
        assert_eq!(capacity_change(API_REF_CAUSE), Some((0, 1)));
        assert_eq!(
            capacity_change("... changing the desired capacity from 12 to 4."),
            Some((12, 4))
        );
        assert_eq!(
            capacity_change("an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped."),
            None
        );
        assert_eq!(
            capacity_change("changing the desired capacity from two to 4"),
            None
        );
    }

    #[test]
    fn one_event_per_change_with_the_trigger_as_reason() {
        let c = "At 2024-05-16T17:52:02Z a monitor alarm TargetTracking-my-asg-AlarmHigh-fc0e4183 in state ALARM triggered policy cpu50 changing the desired capacity from 2 to 4.  At 2024-05-16T17:52:10Z an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 2 to 4.";
        let acts = vec![
            record("b", c, "Launching a new EC2 instance: i-0b"),
            record("a", c, "Launching a new EC2 instance: i-0a"),
            record(
                "x",
                API_REF_CAUSE,
                "Launching a new EC2 instance: i-dd2d19ac",
            ),
        ];
        let mut seen = HashSet::new();
        let ev = to_events(&acts, &mut seen);
        assert_eq!(ev.len(), 2);
        assert_eq!((ev[0].from_replicas, ev[0].to_replicas), (0, 1));
        assert_eq!(ev[0].at.to_rfc3339(), "2012-04-12T17:31:30+00:00");
        assert_eq!((ev[1].from_replicas, ev[1].to_replicas), (2, 4));
        assert!(ev[1].reason.starts_with(
            "a monitor alarm TargetTracking-my-asg-AlarmHigh-fc0e4183 in state ALARM triggered policy cpu50"
        ), "{}", ev[1].reason);
        assert!(ev.iter().all(|e| e.origin == EventOrigin::Platform));
        // The next poll returns the same activities: nothing new.
        assert!(to_events(&acts, &mut seen).is_empty());
    }

    #[test]
    fn failed_activity_says_so() {
        let mut a = record("f", API_REF_CAUSE, "Launching a new EC2 instance.  Status Reason: We currently do not have sufficient capacity");
        a.status = "Failed".into();
        a.status_message = "We currently do not have sufficient m5.large capacity".into();
        let ev = to_events(&[a], &mut HashSet::new());
        assert!(ev[0].reason.contains("activity Failed"), "{}", ev[0].reason);
    }
}
