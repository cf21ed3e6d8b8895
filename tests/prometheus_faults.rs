//! The Prometheus client and source against a local fault-injecting HTTP server: 5xx, 429/503
//! with Retry-After, answers slower than the timeout, truncated JSON, garbage, NaN/±Inf
//! values, warnings and a response far beyond the size limit. Each gives a clear error (or
//! the documented handling), the source shows down with the reason and recovers by itself,
//! and nothing already stored is lost.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scaletop::model::{GroupId, MetricKind, Platform};
use scaletop::sources::prometheus::{self, PromClient, PromError, PrometheusSourceConfig};
use scaletop::sources::{HealthState, SourceHealth, Update};
use scaletop::store::Store;

#[derive(Debug, Clone, PartialEq)]
enum Fault {
    None,
    Status(u16),
    /// `status` with `Retry-After: secs` for the next `times` requests, then normal answers.
    RetryAfter {
        status: u16,
        secs: u64,
        times: usize,
    },
    /// Sleeps this long before answering normally.
    Slow(Duration),
    /// A valid answer cut in the middle.
    Truncated,
    /// Bytes that are not JSON, with status 200.
    Garbage,
    /// Every value is "NaN", "+Inf" or "-Inf".
    NanInf,
    /// A normal answer with a warnings array.
    Warnings,
    /// A body of `mib` MiB, with or without a Content-Length header.
    Huge {
        mib: usize,
        declare_length: bool,
    },
}

const WARNING: &str = "PromQL info: metric might not be a counter";

#[derive(Debug, Default)]
struct Log {
    /// (arrival, path) of every request.
    requests: Vec<(Instant, String)>,
    /// Bytes of the huge body written before the client hung up.
    huge_written: usize,
}

/// A Prometheus look-alike: one group `shop/web`, whose value at Unix second t is
/// `value_at(t)`, answering `/api/v1/query` and `/api/v1/query_range` unless a fault is set.
struct FakeProm {
    addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    log: Arc<Mutex<Log>>,
}

/// Constant within each 15 s slot, so any sample of a slot gives the slot's value.
fn value_at(t: i64) -> f64 {
    (t.div_euclid(15) % 50 + 1) as f64
}

impl FakeProm {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let fault = Arc::new(Mutex::new(Fault::None));
        let log = Arc::new(Mutex::new(Log::default()));
        let (f, l) = (fault.clone(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (f, l) = (f.clone(), l.clone());
                std::thread::spawn(move || serve(stream, &f, &l));
            }
        });
        Self { addr, fault, log }
    }

    fn set(&self, fault: Fault) {
        *self.fault.lock().expect("fault lock") = fault;
    }

    fn requests(&self) -> Vec<(Instant, String)> {
        self.log.lock().expect("log lock").requests.clone()
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn serve(mut stream: TcpStream, fault: &Mutex<Fault>, log: &Mutex<Log>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| v.parse::<f64>().ok())
    };
    log.lock()
        .expect("log lock")
        .requests
        .push((Instant::now(), path.to_string()));
    let current = {
        let mut f = fault.lock().expect("fault lock");
        let now = f.clone();
        if let Fault::RetryAfter { times, .. } = &mut *f {
            *times = times.saturating_sub(1);
            if *times == 0 {
                *f = Fault::None;
            }
        }
        now
    };
    let values = |text: &dyn Fn(i64) -> String| -> String {
        let (start, end, step) = (
            param("start").unwrap_or(0.0) as i64,
            param("end").unwrap_or(0.0) as i64,
            param("step").unwrap_or(15.0).max(1.0) as i64,
        );
        let mut out = Vec::new();
        let mut t = start;
        while t <= end {
            out.push(format!("[{t},\"{}\"]", text(t)));
            t += step;
        }
        out.join(",")
    };
    let labels = r#"{"namespace":"shop","group":"web"}"#;
    let answer = |text: &dyn Fn(i64) -> String, extra: &str| -> String {
        if path == "/api/v1/query" {
            let now = chrono::Utc::now().timestamp();
            format!(
                r#"{{"status":"success"{extra},"data":{{"resultType":"vector","result":[{{"metric":{labels},"value":[{now},"{}"]}}]}}}}"#,
                text(now)
            )
        } else {
            format!(
                r#"{{"status":"success"{extra},"data":{{"resultType":"matrix","result":[{{"metric":{labels},"values":[{}]}}]}}}}"#,
                values(text)
            )
        }
    };
    let normal = |t: i64| value_at(t).to_string();
    let reply = |stream: &mut TcpStream, status: u16, extra_headers: &str, body: &[u8]| {
        let _ = write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n",
            body.len()
        );
        let _ = stream.write_all(body);
    };
    match current {
        Fault::None if path.starts_with("/api/v1/label/") => reply(
            &mut stream,
            200,
            "",
            br#"{"status":"success","data":["groups","ready"]}"#,
        ),
        Fault::None => reply(&mut stream, 200, "", answer(&normal, "").as_bytes()),
        Fault::Status(status) => reply(
            &mut stream,
            status,
            "",
            b"{\"status\":\"error\",\"error\":\"internal\"}",
        ),
        Fault::RetryAfter { status, secs, .. } => reply(
            &mut stream,
            status,
            &format!("Retry-After: {secs}\r\n"),
            b"slow down",
        ),
        Fault::Slow(pause) => {
            std::thread::sleep(pause);
            reply(&mut stream, 200, "", answer(&normal, "").as_bytes());
        }
        Fault::Truncated => {
            let body = answer(&normal, "");
            reply(&mut stream, 200, "", &body.as_bytes()[..body.len() / 2]);
        }
        Fault::Garbage => reply(&mut stream, 200, "", b"\x00\xff<html>oops</html>\x7f"),
        Fault::NanInf => {
            let odd = |t: i64| ["NaN", "+Inf", "-Inf"][t.rem_euclid(3) as usize].to_string();
            reply(&mut stream, 200, "", answer(&odd, "").as_bytes());
        }
        Fault::Warnings => {
            let extra = format!(r#","warnings":["{WARNING}"]"#);
            reply(&mut stream, 200, "", answer(&normal, &extra).as_bytes());
        }
        Fault::Huge {
            mib,
            declare_length,
        } => {
            let total = mib * 1024 * 1024;
            let framing = if declare_length {
                format!("Content-Length: {total}\r\n")
            } else {
                "Transfer-Encoding: chunked\r\n".to_string()
            };
            if write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n{framing}\r\n"
            )
            .is_err()
            {
                return;
            }
            let chunk = vec![b' '; 64 * 1024];
            let mut written = 0;
            while written < total {
                let ok = if declare_length {
                    stream.write_all(&chunk)
                } else {
                    write!(stream, "{:x}\r\n", chunk.len())
                        .and_then(|_| stream.write_all(&chunk))
                        .and_then(|_| stream.write_all(b"\r\n"))
                };
                if ok.is_err() {
                    break;
                }
                written += chunk.len();
            }
            log.lock().expect("log lock").huge_written = written;
        }
    }
}

fn config(url: &str) -> PrometheusSourceConfig {
    PrometheusSourceConfig {
        name: "fake".into(),
        url: url.into(),
        preset: "none".into(),
        interval: "1s".into(),
        backfill: "2m".into(),
        step: "15s".into(),
        timeout: "1s".into(),
        retries: 0,
        max_response_mib: 1,
        queries: [("discover", "groups"), ("replicas_ready", "ready")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn client(url: &str, retries: u32) -> PromClient {
    PromClient::from_config(&PrometheusSourceConfig {
        retries,
        ..config(url)
    })
    .expect("valid client config")
}

fn range_requests(fake: &FakeProm) -> Vec<Instant> {
    fake.requests()
        .into_iter()
        .filter(|(_, p)| p == "/api/v1/query_range")
        .map(|(t, _)| t)
        .collect()
}

async fn range(c: &PromClient) -> Result<Vec<prometheus::decode::RangeSeries>, PromError> {
    let now = chrono::Utc::now().timestamp();
    c.query_range("ready", now - 60, now, 15).await
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_with_their_status() {
    let fake = FakeProm::start();
    fake.set(Fault::Status(500));
    let err = range(&client(&fake.url(), 2)).await.unwrap_err();
    assert!(
        matches!(err, PromError::Http { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("HTTP 500"), "{err}");
    assert_eq!(range_requests(&fake).len(), 3, "first try and two retries");
}

#[tokio::test]
async fn retry_after_is_honoured_on_429_and_503() {
    for status in [429, 503] {
        let fake = FakeProm::start();
        fake.set(Fault::RetryAfter {
            status,
            secs: 2,
            times: 1,
        });
        let got = range(&client(&fake.url(), 1)).await;
        assert!(got.is_ok_and(|s| s.len() == 1), "{status}: retried once");
        let times = range_requests(&fake);
        assert_eq!(times.len(), 2, "{status}");
        // Without Retry-After the first backoff is at most 250 ms.
        let waited = times[1] - times[0];
        assert!(
            waited >= Duration::from_millis(1900),
            "{status}: waited {waited:?}"
        );
    }
    // Out of retries: the status is the error.
    let fake = FakeProm::start();
    fake.set(Fault::RetryAfter {
        status: 429,
        secs: 1,
        times: usize::MAX,
    });
    let err = range(&client(&fake.url(), 0)).await.unwrap_err();
    assert!(
        matches!(err, PromError::Http { status: 429, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_timeout() {
    let fake = FakeProm::start();
    fake.set(Fault::Slow(Duration::from_secs(4)));
    let began = Instant::now();
    let err = range(&client(&fake.url(), 0)).await.unwrap_err();
    assert!(matches!(err, PromError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("no answer within 1s"), "{err}");
    assert!(began.elapsed() < Duration::from_secs(3), "gave up on time");
}

#[tokio::test]
async fn truncated_json_and_garbage_are_decode_errors() {
    for fault in [Fault::Truncated, Fault::Garbage] {
        let fake = FakeProm::start();
        fake.set(fault.clone());
        let err = range(&client(&fake.url(), 1)).await.unwrap_err();
        assert!(
            matches!(err, PromError::Decode { .. }),
            "{fault:?}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("malformed JSON") && msg.contains("/api/v1/query_range"),
            "{msg}"
        );
        assert_eq!(range_requests(&fake).len(), 1, "a bad body is not retried");
    }
}

#[tokio::test]
async fn nan_and_infinite_values_are_missing_not_zero() {
    let fake = FakeProm::start();
    fake.set(Fault::NanInf);
    let series = range(&client(&fake.url(), 0)).await.expect("decodes");
    let values = &series[0].values;
    assert_eq!(values.len(), 5);
    assert!(values.iter().all(|p| p.value.is_nan()), "{values:?}");
}

#[tokio::test]
async fn warnings_are_kept_and_the_data_is_used() {
    let fake = FakeProm::start();
    fake.set(Fault::Warnings);
    let c = client(&fake.url(), 0);
    let series = range(&c).await.expect("data used");
    assert_eq!(series[0].values.len(), 5);
    assert_eq!(c.take_warnings(), vec![WARNING.to_string()]);
    assert!(c.take_warnings().is_empty(), "taken once");
}

#[tokio::test]
async fn a_response_beyond_the_size_limit_is_refused_without_reading_it_all() {
    for declare_length in [true, false] {
        let fake = FakeProm::start();
        fake.set(Fault::Huge {
            mib: 256,
            declare_length,
        });
        let err = range(&client(&fake.url(), 0)).await.unwrap_err();
        assert!(matches!(err, PromError::TooLarge { .. }), "{err:?}");
        assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
        // The server stops once the client hangs up: only socket buffers beyond the limit.
        wait_for(|| fake.log.lock().is_ok_and(|l| l.huge_written > 0)).await;
        let written = fake.log.lock().expect("log").huge_written;
        assert!(
            written < 64 * 1024 * 1024,
            "declare_length={declare_length}: server wrote {written} bytes"
        );
    }
}

async fn wait_for(mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < deadline, "condition never held");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Drives a source into a store and waits for its health to reach a state.
struct Harness {
    rx: tokio::sync::mpsc::Receiver<Update>,
    store: Store,
}

impl Harness {
    async fn until(&mut self, what: &str, limit: Duration, ok: impl Fn(&SourceHealth) -> bool) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(u)) => {
                    let done = matches!(&u, Update::Health(h) if ok(h));
                    self.store.apply(u);
                    if done {
                        return;
                    }
                }
                Ok(None) => panic!("source task ended while waiting for {what}"),
                Err(_) => panic!(
                    "no {what} within {limit:?}; health: {:?}",
                    self.store.health().collect::<Vec<_>>()
                ),
            }
        }
    }

    async fn up(&mut self) {
        // Two poll intervals plus a request's timeout.
        self.until("recovery", Duration::from_secs(4), |h| {
            h.state == HealthState::Up
        })
        .await;
    }

    fn stored(&self) -> Vec<(i64, f64)> {
        let id = GroupId::new(Platform::K8s, "shop", "web");
        let Some(ring) = self
            .store
            .group_index(&id)
            .and_then(|g| self.store.series(g, MetricKind::ReplicasReady))
        else {
            return Vec::new();
        };
        let end = ring.newest_timestamp().unwrap_or(0);
        let (n, step) = (ring.len(), ring.step_seconds());
        ring.window(end, n)
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| Some((end - (n - 1 - i) as i64 * step, v?)))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_goes_down_on_each_fault_and_recovers_by_itself_keeping_its_data() {
    let fake = FakeProm::start();
    let (tx, rx) = tokio::sync::mpsc::channel(4096);
    let task = prometheus::spawn(config(&fake.url()), tx);
    let mut h = Harness {
        rx,
        // One slot per second: live polls (every 1 s) land in their own slot.
        store: Store::new(1, 3_600),
    };
    h.up().await;
    let first = h.stored();
    assert!(first.len() >= 8, "2 min backfill at 15 s: {first:?}");
    for (t, v) in &first {
        assert_eq!(*v, value_at(*t), "backfilled value at {t}");
    }
    let faults = [
        (Fault::Status(500), "HTTP 500"),
        (
            Fault::RetryAfter {
                status: 429,
                secs: 1,
                times: usize::MAX,
            },
            "HTTP 429",
        ),
        (
            Fault::RetryAfter {
                status: 503,
                secs: 1,
                times: usize::MAX,
            },
            "HTTP 503",
        ),
        (Fault::Slow(Duration::from_secs(3)), "no answer within 1s"),
        (Fault::Truncated, "malformed JSON"),
        (Fault::Garbage, "malformed JSON"),
        (
            Fault::Huge {
                mib: 64,
                declare_length: false,
            },
            "larger than 1 MiB",
        ),
    ];
    for (fault, reason) in faults {
        let kept = h.stored();
        fake.set(fault.clone());
        h.until(
            &format!("down for {fault:?}"),
            Duration::from_secs(5),
            |s| matches!(&s.state, HealthState::Down { reason: r } if r.contains(reason)),
        )
        .await;
        let during = h.stored();
        for point in &kept {
            assert!(during.contains(point), "{fault:?} lost {point:?}");
        }
        fake.set(Fault::None);
        h.up().await;
    }
    // NaN/±Inf: the source stays up and those times stay missing.
    fake.set(Fault::NanInf);
    let nan_from = chrono::Utc::now().timestamp();
    for _ in 0..5 {
        h.until("a round of NaN", Duration::from_secs(4), |s| {
            s.state == HealthState::Up
        })
        .await;
    }
    let nan_to = chrono::Utc::now().timestamp();
    fake.set(Fault::Warnings);
    h.until("the warning shown", Duration::from_secs(4), |s| {
        s.state == HealthState::Up && s.details.warning.as_deref().is_some_and(|w| w == WARNING)
    })
    .await;
    fake.set(Fault::None);
    h.until("warning cleared", Duration::from_secs(4), |s| {
        s.state == HealthState::Up && s.details.warning.is_none()
    })
    .await;
    h.up().await;
    // Every stored value is the server's. Live polling stores every second; after each outage
    // the source resumed where it stopped, so no second is missing except the NaN ones (a
    // poll round's worth of slack at each edge of the NaN period).
    let all = h.stored();
    let live_from = first[first.len() - 1].0 + 1;
    let newest = all[all.len() - 1].0;
    assert!(newest >= nan_to, "data continues after the faults");
    for (t, v) in &all {
        assert_eq!(*v, value_at(*t), "value at {t}");
    }
    for point in &first {
        assert!(all.contains(point), "backfilled {point:?} kept");
    }
    let present: std::collections::HashSet<i64> = all.iter().map(|(t, _)| *t).collect();
    for t in live_from..=newest {
        if (nan_from + 2..=nan_to - 3).contains(&t) {
            assert!(
                !present.contains(&t),
                "second {t} was NaN yet holds a value"
            );
        } else if !(nan_from - 3..=nan_to + 3).contains(&t) {
            assert!(present.contains(&t), "second {t} missing");
        }
    }
    let health = h.store.health().next().cloned().expect("health");
    assert!(health.errors >= 7, "{health:?}");
    assert!(health.details.samples.is_some_and(|n| n > 0));
    assert!(health.details.latency_p95_ms.is_some());
    assert!(!task.is_finished());
    task.abort();
}
