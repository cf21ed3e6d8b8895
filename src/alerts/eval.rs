//! The in-app evaluator: pending -> firing -> resolved per (rule, instance), with
//! Alertmanager-style grouping (one notification per rule per evaluation; a new alert in an
//! already-notified group waits `group_interval`) and a re-notify interval, so a flapping
//! fleet does not produce a storm. Pure: the caller passes the store and the time.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::store::Store;

use super::condition::{active, AlertInputs};
use super::rule::{AlertRule, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Firing,
    Pending,
    Resolved,
}

/// One (rule, instance) and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertInstance {
    pub rule: String,
    pub severity: Severity,
    pub instance: String,
    pub state: AlertState,
    /// When the condition became true (Unix seconds).
    pub active_since: i64,
    pub firing_since: Option<i64>,
    pub resolved_at: Option<i64>,
    /// The rule's `for`, seconds.
    pub for_seconds: i64,
    pub evidence: String,
    pub summary: String,
    pub runbook: String,
    #[serde(skip)]
    notified: bool,
}

/// A batch sent to the user: one per rule group per evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub rule: String,
    pub severity: Severity,
    pub at: i64,
    /// Instances newly firing in this batch.
    pub new: Vec<String>,
    /// Every instance firing in the group now.
    pub firing: Vec<String>,
    /// True when this is a reminder for alerts already notified.
    pub repeat: bool,
}

/// Resolved alerts stay listed this long.
pub const RESOLVED_KEEP_SECONDS: i64 = 3600;

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluator {
    rules: Vec<AlertRule>,
    group_interval_seconds: i64,
    renotify_seconds: i64,
    alerts: BTreeMap<(usize, String), AlertInstance>,
    /// Last notification time per rule.
    group_notified: BTreeMap<usize, i64>,
}

impl Evaluator {
    pub fn new(rules: Vec<AlertRule>, group_interval_seconds: i64, renotify_seconds: i64) -> Self {
        Self {
            rules,
            group_interval_seconds: group_interval_seconds.max(0),
            renotify_seconds: renotify_seconds.max(1),
            alerts: BTreeMap::new(),
            group_notified: BTreeMap::new(),
        }
    }

    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    /// Evaluates every rule against the store at its newest time; returns the notifications
    /// due now. A store with no data yet evaluates nothing.
    pub fn evaluate(&mut self, store: &Store) -> Vec<Notification> {
        match AlertInputs::from_store(store, &self.rules) {
            Some(inputs) => self.evaluate_inputs(&inputs),
            None => Vec::new(),
        }
    }

    /// Evaluates every rule on inputs copied out of the store (off the UI thread).
    pub fn evaluate_inputs(&mut self, inputs: &AlertInputs) -> Vec<Notification> {
        let found: Vec<_> = self.rules.iter().map(|r| active(r, inputs)).collect();
        self.step(inputs.now, found)
    }

    /// Advances the state machine with each rule's active instances at `now`.
    pub fn step(
        &mut self,
        now: i64,
        found: Vec<Vec<super::condition::Active>>,
    ) -> Vec<Notification> {
        for (ri, actives) in found.into_iter().enumerate() {
            let Some(rule) = self.rules.get(ri) else {
                continue;
            };
            let mut seen = std::collections::BTreeSet::new();
            for a in actives {
                seen.insert(a.instance.clone());
                let key = (ri, a.instance.clone());
                let entry = self.alerts.entry(key).or_insert_with(|| AlertInstance {
                    rule: rule.name.clone(),
                    severity: rule.severity,
                    instance: a.instance.clone(),
                    state: AlertState::Pending,
                    active_since: now,
                    firing_since: None,
                    resolved_at: None,
                    for_seconds: rule.for_seconds,
                    evidence: String::new(),
                    summary: rule.summary.clone(),
                    runbook: rule.runbook.clone(),
                    notified: false,
                });
                if entry.state == AlertState::Resolved {
                    // Came back: a fresh episode, pending again.
                    entry.state = AlertState::Pending;
                    entry.active_since = now;
                    entry.firing_since = None;
                    entry.resolved_at = None;
                    entry.notified = false;
                }
                entry.evidence = a.evidence;
                if entry.state == AlertState::Pending
                    && now - entry.active_since >= rule.for_seconds
                {
                    entry.state = AlertState::Firing;
                    entry.firing_since = Some(now);
                }
            }
            for ((r, inst), alert) in self.alerts.iter_mut() {
                if *r == ri && !seen.contains(inst) && alert.state != AlertState::Resolved {
                    alert.state = AlertState::Resolved;
                    alert.resolved_at = Some(now);
                }
            }
        }
        // Pending alerts that resolved never fired: forget them. Old resolved ones expire.
        self.alerts.retain(|_, a| match a.state {
            AlertState::Resolved => {
                a.firing_since.is_some()
                    && a.resolved_at
                        .is_some_and(|t| now - t < RESOLVED_KEEP_SECONDS)
            }
            _ => true,
        });
        self.notifications(now)
    }

    fn notifications(&mut self, now: i64) -> Vec<Notification> {
        let mut out = Vec::new();
        for (ri, rule) in self.rules.iter().enumerate() {
            let firing: Vec<&mut AlertInstance> = self
                .alerts
                .iter_mut()
                .filter(|((r, _), a)| *r == ri && a.state == AlertState::Firing)
                .map(|(_, a)| a)
                .collect();
            if firing.is_empty() {
                continue;
            }
            let last = self.group_notified.get(&ri).copied();
            let has_new = firing.iter().any(|a| !a.notified);
            let since_last = last.map(|t| now - t);
            let due_new = has_new && since_last.is_none_or(|s| s >= self.group_interval_seconds);
            let due_repeat = since_last.is_some_and(|s| s >= self.renotify_seconds);
            if !(due_new || due_repeat) {
                continue;
            }
            let new: Vec<String> = firing
                .iter()
                .filter(|a| !a.notified)
                .map(|a| a.instance.clone())
                .collect();
            let all: Vec<String> = firing.iter().map(|a| a.instance.clone()).collect();
            for a in firing {
                a.notified = true;
            }
            self.group_notified.insert(ri, now);
            out.push(Notification {
                rule: rule.name.clone(),
                severity: rule.severity,
                at: now,
                repeat: new.is_empty(),
                new,
                firing: all,
            });
        }
        out
    }

    /// Every tracked alert: firing first, then pending, then resolved; newest first within.
    pub fn alerts(&self) -> Vec<AlertInstance> {
        let mut v: Vec<AlertInstance> = self.alerts.values().cloned().collect();
        v.sort_by(|a, b| {
            a.state
                .cmp(&b.state)
                .then(b.severity.cmp(&a.severity))
                .then(b.active_since.cmp(&a.active_since))
                .then(a.rule.cmp(&b.rule))
                .then(a.instance.cmp(&b.instance))
        });
        v
    }

    pub fn count(&self, state: AlertState) -> usize {
        self.alerts.values().filter(|a| a.state == state).count()
    }
}

#[cfg(test)]
mod tests {
    use super::super::condition::Active;
    use super::super::rule::default_rules;
    use super::*;

    fn act(i: &str) -> Active {
        Active {
            instance: i.into(),
            evidence: "x".into(),
        }
    }

    /// Only the at-max rule (for = 600 s), evaluated every 60 s.
    fn evaluator() -> Evaluator {
        let rules = vec![default_rules().remove(0)];
        Evaluator::new(rules, 300, 3600)
    }

    #[test]
    fn pending_until_for_then_firing_then_resolved() {
        let mut e = evaluator();
        assert!(e.step(0, vec![vec![act("a")]]).is_empty());
        assert_eq!(e.alerts()[0].state, AlertState::Pending);
        assert!(
            e.step(540, vec![vec![act("a")]]).is_empty(),
            "9 min < for 10 min"
        );
        let n = e.step(600, vec![vec![act("a")]]);
        assert_eq!(n.len(), 1);
        assert_eq!(
            (n[0].new.clone(), n[0].repeat),
            (vec!["a".to_string()], false)
        );
        let a = &e.alerts()[0];
        assert_eq!(
            (a.state, a.active_since, a.firing_since),
            (AlertState::Firing, 0, Some(600))
        );
        assert!(e.step(660, vec![vec![]]).is_empty());
        let a = &e.alerts()[0];
        assert_eq!((a.state, a.resolved_at), (AlertState::Resolved, Some(660)));
        e.step(660 + RESOLVED_KEEP_SECONDS, vec![vec![]]);
        assert!(e.alerts().is_empty(), "resolved alerts expire");
    }

    #[test]
    fn a_blip_shorter_than_for_never_fires_nor_lingers() {
        let mut e = evaluator();
        e.step(0, vec![vec![act("a")]]);
        e.step(60, vec![vec![]]);
        assert!(e.alerts().is_empty());
    }

    #[test]
    fn grouped_and_rate_limited_no_storm() {
        let mut e = evaluator();
        e.step(0, vec![vec![act("a"), act("b")]]);
        let n = e.step(600, vec![vec![act("a"), act("b")]]);
        assert_eq!(n.len(), 1, "one notification for the group");
        assert_eq!(n[0].new.len(), 2);
        // c starts at 60 and fires at 660, but the group was notified at 600: it waits for
        // group_interval (300 s).
        let mut sent = Vec::new();
        for t in (660..=3600).step_by(60) {
            let mut act_now = vec![act("a"), act("b")];
            if t >= 660 {
                act_now.push(act("c"));
            }
            sent.extend(e.step(t, vec![act_now]));
        }
        // c became active at 660, fires at 1260 (for 600), group last notified 600 -> due.
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].new, vec!["c".to_string()]);
        assert_eq!(sent[0].at, 1260);
        // Re-notify after an hour of still firing, as one reminder.
        let n = e.step(1260 + 3600, vec![vec![act("a"), act("b"), act("c")]]);
        assert_eq!(n.len(), 1);
        assert!(n[0].repeat && n[0].firing.len() == 3);
    }

    #[test]
    fn flapping_instance_does_not_renotify_within_group_interval() {
        let rules = vec![default_rules().remove(1)]; // thrashing, for 0
        let mut e = Evaluator::new(rules, 300, 3600);
        let mut sent = 0;
        for t in (0..600).step_by(60) {
            let on = (t / 60) % 2 == 0;
            sent += e
                .step(t, vec![if on { vec![act("a")] } else { vec![] }])
                .len();
        }
        // Fires at 0, 120, 240, ... but is notified at 0 and 360 (first after group_interval).
        assert_eq!(sent, 2);
    }
}
