//! A deterministic store for TUI tests and benches: fixed times, no wall clock, no randomness.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use scaletop::config::Config;
use scaletop::model::{
    CapacityModel, CurrentPolicy, GroupId, GroupInfo, MetricKind, MetricTarget, Platform,
    PolicyModel, PolicyProvenance, ScalingEvent, Slo, TargetTrackingPolicy,
};
use scaletop::sources::{HealthState, Sample, SourceHealth, Update};
use scaletop::store::Store;
use scaletop::tui::app::App;
use scaletop::tui::theme::Theme;

/// 2024-11-29 00:00:00 UTC: the data's start.
pub const T0: i64 = 1_732_838_400;
/// Two hours of 15 s steps.
pub const STEPS: i64 = 480;
pub const STEP: i64 = 15;

pub fn at(ts: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(ts, 0).expect("valid fixture time")
}

/// Wall clock the tests pretend it is: 5 s after the newest data.
pub fn wall_now() -> DateTime<Utc> {
    at(T0 + STEPS * STEP + 5)
}

const NAMES: [&str; 6] = [
    "checkout",
    "catalog",
    "search",
    "payments",
    "image-resizer",
    "recommendations",
];

pub fn group_id(i: usize) -> GroupId {
    let name = match NAMES.get(i) {
        Some(n) => n.to_string(),
        None => format!("svc-{i:04}"),
    };
    GroupId::new(Platform::Sim, "ecommerce", name)
}

fn info(i: usize) -> GroupInfo {
    let mut g = GroupInfo::new(group_id(i));
    g.instance_type = Some("m5.large".into());
    g.capacity = Some(CapacityModel {
        capacity_per_replica_rps: 100.0,
        concurrency_per_replica: 8,
        startup_seconds: 90,
        warmup_seconds: 60,
        min_replicas: 2,
        max_replicas: if i == 3 { 12 } else { 40 },
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: 0.096,
        timeout_ms: 5000.0,
    });
    g.policy = Some(CurrentPolicy {
        model: PolicyModel::TargetTracking(TargetTrackingPolicy {
            targets: vec![MetricTarget {
                metric: MetricKind::CpuUtilization,
                target: 70.0,
            }],
            tolerance: 0.1,
            scale_up_cooldown_seconds: 60,
            scale_down_stabilization_seconds: 300,
        }),
        provenance: PolicyProvenance::SimulatorScenario,
    });
    g
}

/// Samples of group `i` at step `k`: a smooth, group-specific wave. `payments` (i = 3) sits at
/// its maximum of 12 replicas; `image-resizer` (i = 4) reports no memory (missing, not 0).
fn samples(i: usize, k: i64) -> Vec<Sample> {
    let phase = i as f64 * 0.7;
    let wave = ((k as f64 / 60.0) + phase).sin();
    let demand = if i == 3 {
        1250.0 + 100.0 * wave
    } else {
        400.0 + 150.0 * i as f64 + 200.0 * wave
    };
    let desired = if i == 3 {
        12.0
    } else {
        (demand / 70.0).ceil().max(2.0)
    };
    let ready = if i == 3 { 12.0 } else { desired };
    let cpu = 100.0 * demand / (ready * 100.0);
    let id = group_id(i);
    let mut out = vec![
        (MetricKind::RequestRate, demand),
        (MetricKind::ReplicasDesired, desired),
        (MetricKind::ReplicasReady, ready),
        (MetricKind::CpuUtilization, cpu.min(100.0)),
        (MetricKind::NetworkMbps, demand * 0.08),
        (MetricKind::LatencyP95Ms, 40.0 + cpu.min(100.0)),
        (MetricKind::CostUsdPerHour, ready * 0.096),
    ];
    if i != 4 {
        out.push((MetricKind::MemoryUtilization, 45.0 + 10.0 * wave));
    }
    out.into_iter()
        .map(|(metric, value)| Sample {
            group: id.clone(),
            metric,
            value,
        })
        .collect()
}

pub fn sim_health(updates: u64) -> SourceHealth {
    SourceHealth {
        source: "sim".into(),
        kind: "simulator".into(),
        target: "scenario ecommerce, seed 42".into(),
        state: HealthState::Up,
        last_ok: Some(at(T0 + STEPS * STEP)),
        updates,
        errors: 0,
        details: Default::default(),
    }
}

pub fn down_health() -> SourceHealth {
    SourceHealth {
        source: "prometheus".into(),
        kind: "prometheus".into(),
        target: "http://127.0.0.1:9090".into(),
        state: HealthState::Down {
            reason: "connection refused (tcp connect 127.0.0.1:9090)".into(),
        },
        last_ok: Some(at(T0 + STEPS * STEP - 300)),
        updates: 42,
        errors: 7,
        details: scaletop::sources::SourceDetails {
            latency_p50_ms: Some(12.4),
            latency_p95_ms: Some(48.0),
            series: Some(27),
            samples: Some(123_456),
            ..Default::default()
        },
    }
}

/// Every update the fixture feeds, in order.
pub fn updates(groups: usize, steps: i64) -> Vec<Update> {
    let mut out: Vec<Update> = (0..groups)
        .map(|i| Update::Group(Box::new(info(i))))
        .collect();
    out.push(Update::Health(SourceHealth {
        state: HealthState::Starting,
        ..sim_health(0)
    }));
    for k in 0..steps {
        let samples = (0..groups).flat_map(|i| samples(i, k)).collect();
        out.push(Update::Samples {
            at: at(T0 + k * STEP),
            samples,
        });
    }
    let event = |k: i64, i: usize, from: u32, to: u32, reason: &str| {
        Update::Event(ScalingEvent {
            at: at(T0 + k * STEP),
            group: group_id(i),
            from_replicas: from,
            to_replicas: to,
            reason: reason.into(),
            demand: Some(500.0),
            thrash: false,
            origin: Default::default(),
        })
    };
    if groups >= 4 {
        out.push(event(100, 0, 6, 8, "cpu 88% above target 70%"));
        out.push(event(150, 2, 9, 7, "cpu 52% below target 70% for 5m"));
        // Up then down within 10 minutes at the same demand: thrash.
        out.push(event(200, 1, 5, 7, "cpu 81% above target 70%"));
        out.push(event(220, 1, 7, 5, "cpu 58% below target 70% for 5m"));
        out.push(event(
            300,
            3,
            10,
            12,
            "cpu 95% above target 70%, capped at max 12",
        ));
    }
    out.push(Update::Health(sim_health(steps as u64)));
    out
}

pub fn store_with(groups: usize) -> Store {
    let mut store = Store::new(STEP, 5760);
    for u in updates(groups, STEPS) {
        store.apply(u);
    }
    store
}

/// The standard fixture: six groups, two hours of data, five events, the simulator up.
pub fn store() -> Store {
    store_with(NAMES.len())
}

pub fn app(store: &Store) -> App {
    let mut app = App::new(
        &Config::default(),
        Theme { color: true },
        "demo ecommerce (simulator, seed 42, 60x)".into(),
    );
    app.last_data_at = Some(at(T0 + STEPS * STEP));
    app.sync(store);
    app
}

/// The platform each fixture group runs on in [`platform_store`]: most on Kubernetes (HPA),
/// `search` on AWS (EC2 target tracking), `image-resizer` left on the simulator's own rule.
fn platform_of(name: &str) -> Platform {
    match name {
        "search" => Platform::Aws,
        "image-resizer" => Platform::Sim,
        _ => Platform::K8s,
    }
}

fn on_platform(id: &GroupId) -> GroupId {
    GroupId::new(platform_of(&id.name), id.scope.clone(), id.name.clone())
}

/// The standard fixture with groups on real platforms, so their policies can be replayed;
/// `recommendations` has a fixed replica count (nothing to replay).
pub fn platform_store() -> Store {
    let mut store = Store::new(STEP, 5760);
    for u in updates(NAMES.len(), STEPS) {
        let u = match u {
            Update::Group(mut info) => {
                info.id = on_platform(&info.id);
                // M/M/c p95 of an 80 ms service is ~240 ms: an SLO the replay can meet.
                info.slo = Some(Slo {
                    p95_latency_ms: 400.0,
                    ..Slo::default()
                });
                if info.id.name == "recommendations" {
                    if let Some(p) = info.policy.as_mut() {
                        p.model = PolicyModel::Fixed { replicas: 3 };
                    }
                }
                Update::Group(info)
            }
            Update::Samples { at, samples } => Update::Samples {
                at,
                samples: samples
                    .into_iter()
                    .map(|s| Sample {
                        group: on_platform(&s.group),
                        ..s
                    })
                    .collect(),
            },
            Update::Event(mut e) => {
                e.group = on_platform(&e.group);
                Update::Event(e)
            }
            other => other,
        };
        store.apply(u);
    }
    apply_surge(&mut store);
    store
}

/// At the newest step `checkout`'s demand doubles and it scales the way the HPA does:
/// ceil(ready x integer CPU / 70), at most +max(4, 100%) per sync, within max 40.
fn apply_surge(store: &mut Store) {
    let id = on_platform(&group_id(0));
    let Some(g) = store.group_index(&id) else {
        return;
    };
    let last = T0 + (STEPS - 1) * STEP;
    let ready = store.latest(g, MetricKind::ReplicasReady).unwrap_or(2.0);
    let demand = 2.0 * store.latest(g, MetricKind::RequestRate).unwrap_or(500.0);
    let cpu = 100.0 * demand / (ready * 100.0);
    let wanted = (ready * cpu.floor() / 70.0).ceil();
    let to = wanted.min((ready + 4.0).max(2.0 * ready)).min(40.0);
    let sample = |metric, value| Sample {
        group: id.clone(),
        metric,
        value,
    };
    store.apply(Update::Samples {
        at: at(last),
        samples: vec![
            sample(MetricKind::RequestRate, demand),
            sample(MetricKind::CpuUtilization, cpu),
            sample(MetricKind::ReplicasDesired, to),
        ],
    });
    store.apply(Update::Event(ScalingEvent {
        at: at(last),
        group: id,
        from_replicas: ready as u32,
        to_replicas: to as u32,
        reason: format!("cpu {cpu:.0}% above target 70%"),
        demand: Some(demand),
        thrash: false,
        origin: Default::default(),
    }));
}

/// The standard groups with only `steps` steps of data.
pub fn store_steps(groups: usize, steps: i64) -> Store {
    let mut store = Store::new(STEP, 5760);
    for u in updates(groups, steps) {
        store.apply(u);
    }
    store
}

/// Steps of [`workload_store`]: 12 hours.
pub const WORKLOAD_STEPS: i64 = 2880;

/// One group, `checkout`, with 12 hours of request rate built from known parts: an hourly
/// cycle, a 6-hour cycle, a slow rise, a little deterministic noise and one 10-minute spike at
/// 09:00.
pub fn workload_store() -> Store {
    let mut store = Store::new(STEP, 5760);
    let mut g = info(0);
    g.id = on_platform(&g.id);
    store.apply(Update::Group(Box::new(g.clone())));
    for k in 0..WORKLOAD_STEPS {
        let t = (k * STEP) as f64;
        let tau = std::f64::consts::TAU;
        let noise = ((k * 7919) % 101 - 50) as f64 / 5.0;
        let spike = if (2160..2200).contains(&k) {
            900.0
        } else {
            0.0
        };
        let demand = 600.0
            + 10.0 * t / 3600.0
            + 150.0 * (tau * t / 3600.0).sin()
            + 80.0 * (tau * t / 21_600.0).sin()
            + noise
            + spike;
        store.apply(Update::Samples {
            at: at(T0 + k * STEP),
            samples: vec![Sample {
                group: g.id.clone(),
                metric: MetricKind::RequestRate,
                value: demand,
            }],
        });
    }
    store
}

/// Steps of [`tuning_store`]: four days of 1-minute data, enough to hold out 30% (a day).
pub const TUNING_STEPS: i64 = 5760;
pub const TUNING_STEP: i64 = 60;

/// One Kubernetes group, `checkout`, for the tuning pane: four days of a daily demand cycle
/// (150 to 1,050 rps at 100 rps per replica), run by an HPA at cpu 50% — twice the headroom
/// the Slo needs, so the search has money to find.
pub fn tuning_store() -> Store {
    let mut store = Store::new(TUNING_STEP, TUNING_STEPS as usize);
    let mut g = info(0);
    g.id = on_platform(&g.id);
    // The daily ramp is slow: a scale-up may take up to half an hour of it.
    g.slo = Some(Slo {
        p95_latency_ms: 400.0,
        max_time_to_scale_seconds: 1800,
        ..Slo::default()
    });
    if let Some(p) = g.policy.as_mut() {
        p.model = PolicyModel::TargetTracking(TargetTrackingPolicy {
            targets: vec![MetricTarget {
                metric: MetricKind::CpuUtilization,
                target: 50.0,
            }],
            tolerance: 0.1,
            scale_up_cooldown_seconds: 0,
            scale_down_stabilization_seconds: 300,
        });
    }
    store.apply(Update::Group(Box::new(g.clone())));
    for k in 0..TUNING_STEPS {
        let day = (k * TUNING_STEP) as f64 / 86_400.0;
        let demand = 600.0 - 450.0 * (std::f64::consts::TAU * day).cos();
        let replicas = (demand / 50.0).ceil().max(2.0);
        let sample = |metric, value| Sample {
            group: g.id.clone(),
            metric,
            value,
        };
        store.apply(Update::Samples {
            at: at(T0 + k * TUNING_STEP),
            samples: vec![
                sample(MetricKind::RequestRate, demand),
                sample(MetricKind::ReplicasDesired, replicas),
                sample(MetricKind::ReplicasReady, replicas),
                sample(MetricKind::CpuUtilization, demand / replicas),
            ],
        });
    }
    store
}

/// Wall clock for [`tuning_store`]: 5 s after its newest data.
pub fn tuning_now() -> DateTime<Utc> {
    at(T0 + TUNING_STEPS * TUNING_STEP + 5)
}
