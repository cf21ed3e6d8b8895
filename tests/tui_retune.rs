//! Background re-tuning (issue 10, "keeping policies tuned") on the real app state: a group
//! whose policy wastes capacity is re-tuned off the UI thread and its recommendation surfaces
//! under `r` with the significance of its held-out saving; once that policy is in place, the
//! next re-tune finds nothing worth surfacing; a switch of source drops a late answer.

mod tui_support;

use scaletop::config::Config;
use scaletop::model::{PolicyModel, Recommendation};
use scaletop::sources::Update;
use scaletop::store::Store;
use scaletop::tui::app::App;
use scaletop::tui::jobs::retune::{self, RetuneFinding};
use scaletop::tui::jobs::{self, Job, JobOutput};
use scaletop::tui::theme::Theme;
use tui_support as fx;

fn app(store: &Store) -> App {
    let mut app = App::new(&Config::default(), Theme { color: false }, "test".into());
    app.sync(store);
    app
}

/// The background job `due_watch` starts, run to the end and applied.
fn retune_once(app: &mut App, store: &Store) -> RetuneFinding {
    let job = jobs::due_watch(app, store)
        .into_iter()
        .find_map(|j| match j {
            Job::Retune(j) => Some(*j),
            _ => None,
        })
        .expect("a background re-tune is due");
    assert!(app.retune.in_flight);
    let group = job.tune.group.clone();
    app.apply_job(jobs::run(Job::Retune(Box::new(job))));
    assert!(!app.retune.in_flight);
    app.retune.findings.get(&group).cloned().expect("a finding")
}

#[test]
fn a_wasteful_policy_is_surfaced_and_a_tuned_one_is_not() {
    let mut store = fx::tuning_store();
    let mut app = app(&store);

    // HPA at cpu 50% with twice the headroom the Slo needs.
    let first = retune_once(&mut app, &store);
    let sig = first
        .significance
        .clone()
        .expect("judged on held-out blocks");
    assert!(sig.significant, "{}", first.note);
    assert!(
        sig.saving_percent >= 5.0 && sig.lower_bound_percent > 0.0,
        "{sig:?}"
    );
    let rec: Recommendation = first.surfaced.clone().expect("surfaced");
    assert!(
        rec.evidence[0].starts_with("background re-tune: ")
            && rec.evidence[0].contains("95% lower bound"),
        "{:?}",
        rec.evidence
    );
    assert_eq!(app.retune.recommendations().count(), 1);

    // Not again before six hours of new data, whatever the wall clock says.
    assert!(app.retune.due(&store, i64::MAX / 2).is_none());

    // Put the recommended policy in place, as accepting it would: the next search, on the
    // same data, finds no further saving worth a change.
    let document = rec.artifact["document"].clone();
    assert!(!document.is_null(), "{}", rec.artifact);
    let mut info = store.groups()[0].clone();
    if let Some(p) = info.policy.as_mut() {
        p.model = PolicyModel::Native {
            text: serde_json::to_string(&document).expect("json"),
        };
    }
    store.apply(Update::Group(Box::new(info)));
    let mut fresh = self::app(&store);
    let again = retune_once(&mut fresh, &store);
    assert!(again.surfaced.is_none(), "{}", again.note);
    let sig = again.significance.expect("judged");
    assert!(sig.saving_percent < 5.0, "{sig:?}");
    assert_eq!(fresh.retune.recommendations().count(), 0);
}

#[test]
fn a_late_answer_about_a_previous_source_is_dropped() {
    let store = fx::tuning_store();
    let mut app = app(&store);
    let job = app
        .retune
        .due(&store, 0)
        .expect("the group has never been tuned");
    app.reset_for_new_source("another".into());
    let out = retune::run(job);
    app.apply_job(JobOutput::Retune(Box::new(out)));
    assert!(app.retune.findings.is_empty());
    assert!(!app.retune.in_flight);
}
