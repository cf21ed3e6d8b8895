//! Alert evaluation off the UI thread: the UI copies what the rules read out of the store
//! ([`AlertInputs`]) and hands the evaluator itself to the job; the job gives it back with the
//! notifications due, so the alert state still changes in one place, one evaluation at a time.

use crate::alerts::condition::AlertInputs;
use crate::alerts::{Evaluator, Notification};
use crate::store::Store;

#[derive(Debug)]
pub struct AlertsJob {
    /// Which source's data this is for; a late answer for a replaced source is dropped.
    pub epoch: u64,
    pub evaluator: Evaluator,
    pub inputs: AlertInputs,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertsOutcome {
    pub epoch: u64,
    pub evaluator: Evaluator,
    pub notifications: Vec<Notification>,
}

/// Takes the evaluator for one evaluation; None before any data (the evaluator stays).
pub fn job(store: &Store, evaluator: &mut Option<Evaluator>, epoch: u64) -> Option<AlertsJob> {
    let inputs = AlertInputs::from_store(store, evaluator.as_ref()?.rules())?;
    Some(AlertsJob {
        epoch,
        evaluator: evaluator.take()?,
        inputs,
    })
}

pub fn run(mut job: AlertsJob) -> AlertsOutcome {
    let notifications = job.evaluator.evaluate_inputs(&job.inputs);
    AlertsOutcome {
        epoch: job.epoch,
        evaluator: job.evaluator,
        notifications,
    }
}
