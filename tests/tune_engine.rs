//! Tuning evidence on the simulator's scenarios (issue 7). Every figure asserted is recomputed
//! here by replaying the emitted document (read back through `parse_policy`) and the current
//! policy over the held-out part, not copied from the search's own report.

use scaletop::commands::tune::{scenario_group, GroupData};
use scaletop::engine::policy::parse_policy;
use scaletop::engine::replay::{replay, ExtraSeries, ReplayInput, ReplaySummary};
use scaletop::engine::tune::ramp::spike;
use scaletop::engine::tune::{
    auto_kinds, tune, PolicyDoc, SearchControl, SpaceSize, TuneOutcome, TuneRequest,
};

fn run(d: &GroupData) -> TuneOutcome {
    let req = TuneRequest {
        group: d.group.clone(),
        start: d.start,
        step_seconds: d.step_seconds,
        demand: &d.demand,
        extra: d
            .extra
            .iter()
            .map(|(n, v)| (n.clone(), v.as_slice()))
            .collect(),
        cap: d.cap.clone(),
        slo: d.slo.clone(),
        current: d.current.clone(),
        kinds: auto_kinds(&d.current),
        size: SpaceSize::Small,
        threads: 2,
        prune: true,
        visit: None,
        metric_choice: None,
        utc_offset_hours: 0,
    };
    tune(&req, &SearchControl::default()).expect("tune")
}

/// Replays a policy document's JSON text over steps [from, n) of the group's history.
fn replay_text(d: &GroupData, text: &str, from: usize) -> ReplaySummary {
    let mut a = parse_policy(text).expect("document reads back");
    let input = ReplayInput {
        start: d.start + from as i64 * d.step_seconds,
        step_seconds: d.step_seconds,
        demand_rps: &d.demand[from..],
        extra: d
            .extra
            .iter()
            .map(|(n, v)| ExtraSeries {
                name: n.clone(),
                values: &v[from..],
            })
            .collect(),
    };
    replay(a.as_mut(), &input, &d.cap, &d.slo, None, &d.group)
        .expect("replay")
        .summary
}

/// Held-out replays of the recommended document and the current policy, independently.
fn heldout(d: &GroupData, o: &TuneOutcome) -> (ReplaySummary, ReplaySummary) {
    let rec = o.recommended.as_ref().expect("a recommendation");
    let cut = o.split.train_steps;
    assert_eq!(
        cut,
        d.demand.len() - (d.demand.len() as f64 * 0.3).ceil() as usize
    );
    (
        replay_text(d, &rec.document.to_string(), cut),
        replay_text(d, &d.current.to_value().to_string(), cut),
    )
}

#[test]
fn microservices_recommendations_do_not_thrash_on_heldout_at_no_more_cost() {
    // A planted thrasher (70% CPU, 5% tolerance, no scale-down window) and a well-behaved
    // service.
    for group in ["recommendations", "frontend"] {
        let d = scenario_group("microservices", Some(group), 7 * 86_400, 60, 1, None).unwrap();
        let o = run(&d);
        let (rec, cur) = heldout(&d, &o);
        assert_eq!(rec.thrash_events, 0, "{group}: {rec:?}");
        assert!(
            rec.cost_usd <= cur.cost_usd + 1e-9,
            "{group}: recommended ${:.2} vs current ${:.2}",
            rec.cost_usd,
            cur.cost_usd
        );
        let waste = rec.wasted_replica_hours / rec.replica_hours;
        assert!(waste < 0.10, "{group}: waste {:.1}%", waste * 100.0);
        assert!(o.recommended.as_ref().unwrap().holds, "{group}");
        // The search's held-out figure is the independent replay's.
        let reported = &o.recommended.as_ref().unwrap().heldout;
        assert!((reported.cost_usd - rec.cost_usd).abs() < 1e-9);
    }
}

#[test]
fn ecommerce_saving_with_the_slo_kept_on_heldout() {
    let d = scenario_group("ecommerce", Some("storefront"), 14 * 86_400, 60, 1, None).unwrap();
    let o = run(&d);
    let (rec, cur) = heldout(&d, &o);
    let budget = (1.0 - d.slo.availability) * rec.duration_hours * 60.0;
    assert!(rec.sla_violation_minutes <= budget, "{rec:?}");
    assert_eq!(rec.thrash_events, 0);
    let saving = 1.0 - rec.cost_usd / cur.cost_usd;
    // Documented figure (small search, 14 days with Black Friday in the held-out part): see
    // the issue 7 closing note. The bar here is a real saving with the Slo kept.
    assert!(saving > 0.0, "saving {:.1}%", saving * 100.0);
    eprintln!(
        "ecommerce storefront: held-out saving {:.1}% ({} -> {} $/month), SLA minutes {} (budget {budget:.1})",
        saving * 100.0,
        cur.cost_usd_per_month.round(),
        rec.cost_usd_per_month.round(),
        rec.sla_violation_minutes
    );
}

#[test]
fn game_servers_spike_to_100k_users_or_the_reason() {
    let d = scenario_group("game", Some("game-servers"), 4 * 86_400, 60, 1, None).unwrap();
    // 100K concurrent players: one connection per request per second on this group.
    let peak = 100_000.0;
    let r = spike(&d.current, &d.cap, &d.slo, 0.0, peak, 240, 300).unwrap();
    // Physics, independent of the policy: no replica serves before it has started.
    if let Some(t) = r.seconds_to_serve_peak {
        assert!(t >= i64::from(d.cap.startup_seconds), "{r:?}");
    }
    assert_eq!(r.replicas_needed, 1000);
    if !r.within_limit {
        let why = r.reason.as_deref().unwrap_or("");
        assert!(why.contains("240 s to start"), "{why}");
    }
    // With the group's current minimum raised to what the peak needs, it is served at once:
    // the reason given (startup) is the real limit.
    let mut raised = d.current.clone();
    if let PolicyDoc::Hpa(m) = &mut raised {
        m.spec.min_replicas = Some(1000);
    }
    let r = spike(&raised, &d.cap, &d.slo, 0.0, peak, 240, 300).unwrap();
    assert!(r.within_limit, "{r:?}");
}
