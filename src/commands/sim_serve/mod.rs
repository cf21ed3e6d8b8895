//! `scaletop sim serve`: the live simulated fleet as a Prometheus `/metrics` endpoint.
//! One task steps the simulator and publishes the rendered text through a `watch` channel;
//! each connection reads the latest text. A minimal HTTP/1.1 responder is all a scraper needs.

pub mod exposition;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::cli::CliError;
use crate::config::Config;
use crate::sim::{Scenario, Simulator};
use exposition::Exposition;

/// Simulated seconds per published step.
const STEP_SECONDS: u64 = 15;
/// A request head larger than this is refused.
const MAX_REQUEST_HEAD_BYTES: usize = 8192;
/// A client that sends nothing for this long is dropped.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Args)]
pub struct SimServeArgs {
    #[arg(long)]
    pub scenario: String,
    /// Address to listen on, e.g. 127.0.0.1:9464 (port 0 picks a free port; the chosen
    /// address is printed on the first line of standard output).
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub listen: String,
    /// Simulated seconds per real second. Counters still advance at the simulated rates per
    /// real second, so `rate()` over them reads the simulated request and CPU rates at any
    /// speed (a 30x run shows the day's curve 30x faster, not 30x higher).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    #[arg(long)]
    pub seed: Option<u64>,
}

pub fn run(args: &SimServeArgs, cfg: &Config) -> Result<(), CliError> {
    let scenario = Scenario::load(&args.scenario).map_err(|e| CliError::usage(e.to_string()))?;
    if !(args.speed.is_finite() && args.speed > 0.0 && args.speed <= 100_000.0) {
        return Err(CliError::usage(format!(
            "--speed must be between 0 and 100000, got {}",
            args.speed
        )));
    }
    let addr: SocketAddr = args.listen.parse().map_err(|e| {
        CliError::usage(format!(
            "--listen '{}': {e} (expected IP:PORT)",
            args.listen
        ))
    })?;
    let seed = args.seed.unwrap_or(cfg.demo.seed);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start runtime: {e}")))?;
    runtime.block_on(serve(scenario, seed, args.speed, addr))
}

async fn serve(
    scenario: Scenario,
    seed: u64,
    speed: f64,
    addr: SocketAddr,
) -> Result<(), CliError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::usage(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::usage(format!("cannot listen on {addr}: {e}")))?;
    println!("serving http://{bound}/metrics");
    eprintln!(
        "scaletop: scenario {} at {speed}x, Ctrl-C to stop",
        scenario.name()
    );

    let mut sim = Simulator::new(&scenario, seed);
    let mut frame = sim.new_frame();
    let mut expo = Exposition::new(sim.groups().len());
    // One step first so every series exists before the first scrape.
    sim.advance_frame(STEP_SECONDS, &mut frame);
    expo.accumulate(&frame, STEP_SECONDS as f64 / speed);
    let (tx, rx) = watch::channel(Arc::new(expo.render(&sim, &frame)));

    tokio::spawn(async move {
        let real_step = Duration::from_secs_f64(STEP_SECONDS as f64 / speed);
        let mut ticker = tokio::time::interval(real_step);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            sim.advance_frame(STEP_SECONDS, &mut frame);
            // One simulated step took STEP_SECONDS / speed real seconds; scrapers take rates
            // over real time.
            expo.accumulate(&frame, STEP_SECONDS as f64 / speed);
            if tx.send(Arc::new(expo.render(&sim, &frame))).is_err() {
                return;
            }
        }
    });

    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            accepted = listener.accept() => {
                // A failed accept (e.g. too many open files) is that client's problem only.
                if let Ok((stream, _)) = accepted {
                    let body = rx.borrow().clone();
                    tokio::spawn(respond(stream, body));
                }
            }
        }
    }
}

/// Reads one request head and answers it; then closes the connection.
async fn respond(mut stream: TcpStream, body: Arc<String>) {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(REQUEST_READ_TIMEOUT, async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST_HEAD_BYTES {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        true
    })
    .await;
    if !matches!(read, Ok(true)) {
        return;
    }
    let request_line = head
        .split(|&b| b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).trim().to_string())
        .unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, content_type, text): (&str, &str, &str) = match (method, path) {
        ("GET", "/metrics") => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", &body),
        ("GET", "/" | "/-/healthy") => {
            ("200 OK", "text/plain", "scaletop sim serve: see /metrics\n")
        }
        ("GET", _) => ("404 Not Found", "text/plain", "not found\n"),
        _ => ("405 Method Not Allowed", "text/plain", "only GET\n"),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        text.len()
    );
    if stream.write_all(response.as_bytes()).await.is_ok() {
        let _ = stream.write_all(text.as_bytes()).await;
    }
    let _ = stream.shutdown().await;
}
