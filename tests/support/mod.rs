//! Harness for tests against real servers: start Prometheus, VictoriaMetrics and
//! `scaletop sim serve` on 127.0.0.1 with temp dirs, poll readiness (no fixed sleeps), kill on
//! drop. A missing tool skips loudly, or fails with SCALETOP_REQUIRE_ALL=1 (CI).
#![allow(dead_code)]

pub mod tmux;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// True if `tool` is on PATH; otherwise prints SKIPPED (or panics when required).
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("SCALETOP_REQUIRE_ALL").as_deref() == Ok("1") {
            panic!("{tool} not installed and SCALETOP_REQUIRE_ALL=1");
        }
        eprintln!("SKIPPED: {tool} not installed");
    }
    found
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A child process killed when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Minimal HTTP GET over std (the tests stay independent of the client under test).
pub fn http_get(addr: SocketAddr, path_and_query: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Some((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Polls until `ok` holds, up to `limit`.
pub fn wait_until(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn url_encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Series count of an instant query (0 on any error).
pub fn series_count(addr: SocketAddr, promql: &str) -> usize {
    http_get(addr, &format!("/api/v1/query?query={}", url_encode(promql)))
        .filter(|(s, _)| *s == 200)
        .and_then(|(_, b)| serde_json::from_str::<serde_json::Value>(&b).ok())
        .and_then(|v| v["data"]["result"].as_array().map(Vec::len))
        .unwrap_or(0)
}

/// `scaletop sim serve` on a free port; returns the guard and its address.
pub fn start_sim_serve(scenario: &str, speed: f64) -> (Guard, SocketAddr) {
    start_sim_serve_at(scenario, speed, "127.0.0.1:0")
}

/// `sim serve` on a given address (to restart it where a source expects it).
pub fn start_sim_serve_at(scenario: &str, speed: f64, listen: &str) -> (Guard, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args(["sim", "serve", "--scenario", scenario, "--listen", listen])
        .args(["--speed", &speed.to_string(), "--seed", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("scaletop sim serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let guard = Guard(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("sim serve prints its address");
    let addr = line
        .trim()
        .trim_start_matches("serving http://")
        .trim_end_matches("/metrics")
        .parse()
        .expect("address line");
    (guard, addr)
}

pub fn scrape_config(dir: &Path, target: SocketAddr) -> std::path::PathBuf {
    let path = dir.join("scrape.yml");
    std::fs::write(
        &path,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: sim\n    static_configs:\n      - targets: [\"{target}\"]\n"
        ),
    )
    .expect("write scrape config");
    path
}

/// Prometheus on `port` with `data` as its TSDB; waits for /-/ready.
pub fn start_prometheus(config: &Path, data: &Path, port: u16) -> Guard {
    start_prometheus_with(config, data, port, &[])
}

/// [`start_prometheus`] with extra flags.
pub fn start_prometheus_with(config: &Path, data: &Path, port: u16, extra: &[&str]) -> Guard {
    let child = Command::new("prometheus")
        .args(extra)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--storage.tsdb.retention.time=400d")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let guard = Guard(child);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    wait_until(Duration::from_secs(30), "prometheus /-/ready", || {
        http_get(addr, "/-/ready").is_some_and(|(s, _)| s == 200)
    });
    guard
}

/// Single-node VictoriaMetrics scraping per `config`; waits for /health.
pub fn start_victoria(config: &Path, data: &Path, port: u16) -> Guard {
    let child = Command::new("victoria-metrics")
        .arg(format!("-storageDataPath={}", data.display()))
        .arg(format!("-promscrape.config={}", config.display()))
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
        // Answer with the newest samples instead of hiding the last 30 s.
        .arg("-search.latencyOffset=0s")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("victoria-metrics starts");
    let guard = Guard(child);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    wait_until(Duration::from_secs(30), "victoria-metrics /health", || {
        http_get(addr, "/health").is_some_and(|(s, _)| s == 200)
    });
    guard
}

/// Writes a scaletop config with one Prometheus source.
pub fn source_config(dir: &Path, url: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("scaletop.toml");
    std::fs::write(
        &path,
        format!("[[sources.prometheus]]\nname = \"test\"\nurl = \"{url}\"\nbackfill = \"10m\"\nstep = \"15s\"\ninterval = \"1s\"\ntimeout = \"3s\"\nretries = 1\n{extra}"),
    )
    .expect("write config");
    path
}

/// Skips loudly, or panics under SCALETOP_REQUIRE_ALL=1 (CI), naming what is missing.
pub fn missing(what: &str) {
    if std::env::var("SCALETOP_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("{what} not installed and SCALETOP_REQUIRE_ALL=1");
    }
    eprintln!("SKIPPED: {what} not installed");
}

/// Python interpreters to try: $SCALETOP_PYTHON, the repo's `.venv-tools` (made by .ci/run),
/// then python3 on PATH.
fn python_candidates() -> Vec<std::path::PathBuf> {
    let mut c = Vec::new();
    if let Ok(p) = std::env::var("SCALETOP_PYTHON") {
        c.push(p.into());
    }
    c.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-tools/bin/python3"));
    c.push("python3".into());
    c
}

/// A Python that can import every module of `modules`, or None after a loud skip (a panic
/// under SCALETOP_REQUIRE_ALL=1).
pub fn python_with(modules: &[&str]) -> Option<std::path::PathBuf> {
    let import = format!("import {}", modules.join(", "));
    let found = python_candidates().into_iter().find(|py| {
        Command::new(py)
            .args(["-c", &import])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        missing(&format!("python modules {}", modules.join(", ")));
    }
    found
}

/// A console script installed beside a Python (e.g. `moto_server` in .venv-tools/bin), or on
/// PATH.
pub fn python_tool(python: &Path, name: &str) -> Option<std::path::PathBuf> {
    let beside = python.parent().map(|d| d.join(name));
    if let Some(p) = beside.filter(|p| p.is_file()) {
        return Some(p);
    }
    have(name).then(|| name.into())
}

/// Files with extension `ext` in `dir` (none if it does not exist yet).
pub fn files_in(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        })
        .unwrap_or_default()
}

/// A moto_server (the AWS API emulator) on a free 127.0.0.1 port, ready to answer, with the
/// python that has boto3 and moto; None (skipped loudly, or a failure in CI) without them.
pub fn start_moto() -> Option<(Guard, SocketAddr, std::path::PathBuf)> {
    let py = python_with(&["boto3", "moto"])?;
    let moto = python_tool(&py, "moto_server")?;
    let port = free_port();
    let child = Command::new(&moto)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let guard = Guard(child);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    wait_until(Duration::from_secs(30), "moto_server", || {
        http_get(addr, "/moto-api/").is_some()
    });
    Some((guard, addr, py))
}

/// Runs the built binary in `dir` with a config of nobody's: no `SCALETOP_CONFIG`, the user
/// config dir under `dir`, so the developer's own config never leaks into a test.
pub fn scaletop_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args(args)
        .current_dir(dir)
        .env_remove("SCALETOP_CONFIG")
        .env("XDG_CONFIG_HOME", dir.join("xdg"))
        .output()
        .expect("the scaletop binary runs")
}

/// `scaletop emit --target TARGET --from FROM --out DIR/out-TARGET` run in `dir`; the output
/// and the out dir.
pub fn emit_run(
    dir: &Path,
    from: &Path,
    target: &str,
) -> (std::process::Output, std::path::PathBuf) {
    let out_dir = dir.join(format!("out-{target}"));
    let out = scaletop_in(
        dir,
        &[
            "emit",
            "--target",
            target,
            "--from",
            &from.to_string_lossy(),
            "--out",
            &out_dir.to_string_lossy(),
        ],
    );
    (out, out_dir)
}

/// [`emit_run`] that must succeed; the out dir.
pub fn emit_ok(dir: &Path, from: &Path, target: &str) -> std::path::PathBuf {
    let (out, out_dir) = emit_run(dir, from, target);
    assert!(
        out.status.success(),
        "emit --target {target}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out_dir
}
