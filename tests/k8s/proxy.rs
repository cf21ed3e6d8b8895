//! A small HTTP proxy in front of kmock that does what kmock cannot: reject a bearer token
//! with 401 (as kube-apiserver does for an expired or revoked token), end watch streams the way
//! the API server does at its watch timeout (a clean end of the chunked body), and answer a
//! watch with the `ERROR` event a real server sends when the resource version is too old
//! (410 Expired). One request per connection (`Connection: close` both ways) keeps it simple.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What the proxy does, changeable while the test runs.
pub struct Faults {
    /// The only bearer token accepted; any other gets 401.
    pub valid_token: Mutex<String>,
    /// Every watch stream is ended cleanly after this long.
    pub cut_watches_after: Duration,
    /// The next watch of Events is answered with a 410 Expired error event.
    pub expire_next_event_watch: AtomicBool,
    /// Counters for the test's assertions.
    pub event_watches: AtomicUsize,
    pub event_lists: AtomicUsize,
    pub expired_sent: AtomicUsize,
    pub rejected: AtomicUsize,
}

pub struct Proxy {
    pub port: u16,
    pub faults: Arc<Faults>,
}

pub fn start(upstream: u16, token: &str, cut_watches_after: Duration) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let port = listener.local_addr().unwrap().port();
    let faults = Arc::new(Faults {
        valid_token: Mutex::new(token.to_string()),
        cut_watches_after,
        expire_next_event_watch: AtomicBool::new(false),
        event_watches: AtomicUsize::new(0),
        event_lists: AtomicUsize::new(0),
        expired_sent: AtomicUsize::new(0),
        rejected: AtomicUsize::new(0),
    });
    let f = faults.clone();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let f = f.clone();
            thread::spawn(move || {
                let _ = serve(conn, upstream, &f);
            });
        }
    });
    Proxy { port, faults }
}

/// Reads a request or response head (up to the blank line).
fn read_head(r: &mut BufReader<TcpStream>) -> std::io::Result<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end().to_string();
        if line.is_empty() {
            return Ok(lines);
        }
        lines.push(line);
    }
}

fn header<'a>(head: &'a [String], name: &str) -> Option<&'a str> {
    head.iter().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn status_body(code: u16, reason: &str, message: &str) -> String {
    serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code
    })
    .to_string()
}

fn serve(client: TcpStream, upstream: u16, f: &Faults) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let head = read_head(&mut reader)?;
    let mut out = client;
    let target = head[0].split_whitespace().nth(1).unwrap_or("").to_string();
    let is_watch = target.contains("watch=true") || target.contains("watch=1");
    let is_events = target.split('?').next().unwrap_or("").ends_with("/events");

    let expected = format!("Bearer {}", f.valid_token.lock().unwrap());
    if header(&head, "authorization") != Some(expected.as_str()) {
        f.rejected.fetch_add(1, Ordering::SeqCst);
        let body = status_body(401, "Unauthorized", "Unauthorized");
        write!(
            out,
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        return out.shutdown(Shutdown::Both);
    }
    if is_events {
        let counter = if is_watch {
            &f.event_watches
        } else {
            &f.event_lists
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
    if is_watch && is_events && f.expire_next_event_watch.swap(false, Ordering::SeqCst) {
        // The API server's answer to a watch from a compacted resource version.
        let event = format!(
            "{{\"type\":\"ERROR\",\"object\":{}}}\n",
            status_body(410, "Expired", "too old resource version: 918300 (918512)")
        );
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{event}\r\n0\r\n\r\n",
            event.len()
        )?;
        f.expired_sent.fetch_add(1, Ordering::SeqCst);
        return out.shutdown(Shutdown::Both);
    }

    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    for line in &head {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            write!(up, "{line}\r\n")?;
        }
    }
    write!(up, "Connection: close\r\n\r\n")?;
    let mut up_reader = BufReader::new(up.try_clone()?);
    let resp = read_head(&mut up_reader)?;
    for line in &resp {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            write!(out, "{line}\r\n")?;
        }
    }
    write!(out, "Connection: close\r\n\r\n")?;
    let chunked = header(&resp, "transfer-encoding").is_some_and(|v| v.contains("chunked"));
    if !(is_watch && chunked) {
        std::io::copy(&mut up_reader, &mut out)?;
        return out.shutdown(Shutdown::Both);
    }
    // A watch: forward whole chunks until the cut, then end the body cleanly.
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    thread::spawn(move || {
        while let Some(chunk) = read_chunk(&mut up_reader) {
            if tx.send(chunk).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + f.cut_watches_after;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) if chunk.is_empty() => break,
            Ok(chunk) => {
                write!(out, "{:x}\r\n", chunk.len())?;
                out.write_all(&chunk)?;
                out.write_all(b"\r\n")?;
                out.flush()?;
            }
            Err(_) => break,
        }
    }
    out.write_all(b"0\r\n\r\n")?;
    let _ = up.shutdown(Shutdown::Both);
    out.shutdown(Shutdown::Both)
}

/// One chunk of a chunked body; an empty Vec for the last chunk, None on a broken stream.
fn read_chunk(r: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut size = String::new();
    if r.read_line(&mut size).ok()? == 0 {
        return None;
    }
    let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
    let mut data = vec![0; n];
    r.read_exact(&mut data).ok()?;
    let mut crlf = [0; 2];
    r.read_exact(&mut crlf).ok()?;
    Some(data)
}
