//! Slow and idle connections against the real binary: half-sent heads, trickled bodies,
//! idle keep-alive connections and silent sockets are closed after their timeout, the
//! connection cap makes room by closing the longest-waiting ones, the open-file limit is
//! raised, and meanwhile `/healthz` and ingest answer well-behaved clients at once.
//!
//! Options go through the environment (`ECHO5_*`), so `ECHO5D_TEST_BIN=<older echo5d>`
//! runs the same attacks against a build that predates the flags.

mod common;

use common::daemon::RealDaemon;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the tests wait for a connection to be closed before calling it held forever.
const GIVE_UP: Duration = Duration::from_secs(15);

struct Closed {
    /// From the moment the timeout's clock can have started at the earliest (the test's
    /// side, so never later than the daemon's).
    after: Duration,
    /// What the daemon sent before closing.
    answer: String,
}

/// Reads until the daemon closes the connection, writing `trickle` every 300 ms meanwhile.
/// `None` if it is still open after [`GIVE_UP`].
async fn until_closed(mut s: TcpStream, since: Instant, trickle: Option<&[u8]>) -> Option<Closed> {
    let mut buf = [0u8; 4096];
    let mut answer = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    let give_up = tokio::time::sleep(GIVE_UP);
    tokio::pin!(give_up);
    loop {
        tokio::select! {
            r = s.read(&mut buf) => match r {
                Ok(0) | Err(_) => {
                    return Some(Closed {
                        after: since.elapsed(),
                        answer: String::from_utf8_lossy(&answer).into_owned(),
                    })
                }
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            },
            _ = tick.tick() => {
                if let Some(t) = trickle {
                    // A failed write means the daemon is gone; the read above will say so.
                    let _ = s.write_all(t).await;
                }
            }
            _ = &mut give_up => return None,
        }
    }
}

/// Whether the daemon has closed `s` (EOF or reset) within `wait`.
async fn is_closed(s: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    match tokio::time::timeout(wait, s.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => panic!("unexpected bytes on a silent connection"),
        Err(_) => false,
    }
}

/// Asks `/healthz` on `s` and reads until its answer has come.
async fn answer_healthz(s: &mut TcpStream) {
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: echo5\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("\"ok\"") {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
}

/// `/healthz` and an ingest answer, three times each (a hang fails after [`GIVE_UP`]). That
/// they come while the slow connections are still held is each caller's to show: the
/// behaviour is "answered at all before the slow clients are cut", not a latency.
async fn well_behaved_clients_answered(d: &RealDaemon, key: &str) {
    let client = reqwest::Client::new();
    for i in 0..3 {
        let r = client
            .get(d.url("/healthz"))
            .timeout(GIVE_UP)
            .send()
            .await
            .expect("/healthz answers while slow connections are held");
        assert_eq!(r.status(), StatusCode::OK);
        let r = client
            .post(d.url("/api/v1/leads"))
            .header("x-api-key", key)
            .json(&json!({"name": format!("Patient {i}"), "email": format!("p{i}@example.com")}))
            .timeout(GIVE_UP)
            .send()
            .await
            .expect("ingest answers while slow connections are held");
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let timeout = Duration::from_secs(2);
    let (d, token, key) = RealDaemon::start_logged_with_key(dir.path(), |l| {
        l.env("ECHO5_HEADER_READ_TIMEOUT", "2s")
            .env("ECHO5_BODY_TIMEOUT", "2s")
            .env("ECHO5_IDLE_TIMEOUT", "2s")
    })
    .await;
    let addr = format!("127.0.0.1:{}", d.port);

    // 500 connections, 100 of each kind.
    let kinds = [
        "silent",
        "partial head",
        "slow ingest body",
        "slow admin body",
        "idle keep-alive",
    ];
    let mut held = Vec::new();
    for i in 0..500 {
        let kind = kinds[i % kinds.len()];
        let since = Instant::now();
        let mut s = TcpStream::connect(&addr).await.unwrap();
        let (trickle, since): (Option<&'static [u8]>, Instant) = match kind {
            "silent" => (None, since),
            "partial head" => {
                s.write_all(b"POST /api/v1/leads HTTP/1.1\r\nHost: echo5\r\n")
                    .await
                    .unwrap();
                // A header line now and then, never the blank line that ends the head.
                (Some(b"X-Slow: a\r\n".as_slice()), since)
            }
            "slow ingest body" | "slow admin body" => {
                let (path, auth) = if kind == "slow ingest body" {
                    ("/api/v1/leads", format!("X-API-Key: {key}"))
                } else {
                    ("/api/v1/tenants", format!("Authorization: Bearer {token}"))
                };
                let t = Instant::now();
                s.write_all(
                    format!(
                        "POST {path} HTTP/1.1\r\nHost: echo5\r\n{auth}\r\n\
                         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
                    )
                    .as_bytes(),
                )
                .await
                .unwrap();
                (Some(b" ".as_slice()), t)
            }
            _ => {
                answer_healthz(&mut s).await;
                (None, Instant::now())
            }
        };
        held.push((kind, tokio::spawn(until_closed(s, since, trickle))));
    }

    // While they are held, well-behaved clients are answered: when the answers are in, most
    // slow connections are still open (the first ones opened may have reached their timeout
    // on a slow machine; all 500 must not have).
    well_behaved_clients_answered(&d, &key).await;
    let still_held = held.iter().filter(|(_, t)| !t.is_finished()).count();
    assert!(
        still_held >= 250,
        "only {still_held} of 500 slow connections were still held when the well-behaved \
         clients had been answered"
    );

    for (kind, task) in held {
        let closed = task
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("a {kind} connection was still open after {GIVE_UP:?}"));
        assert!(
            closed.after >= timeout - Duration::from_millis(500),
            "a {kind} connection was closed after {:?}, before its timeout",
            closed.after
        );
        match kind {
            "slow admin body" => {
                assert!(
                    closed.answer.starts_with("HTTP/1.1 408"),
                    "{}",
                    closed.answer
                );
                assert!(closed.answer.contains("body_timeout"), "{}", closed.answer);
            }
            "slow ingest body" => {
                assert!(closed.answer.starts_with("HTTP/1.1 4"), "{}", closed.answer);
            }
            _ => assert_eq!(closed.answer, "", "{kind}"),
        }
    }
    // Nothing was stored from the trickled bodies, and the daemon is still fine.
    well_behaved_clients_answered(&d, &key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_the_longest_waiting_connections_make_room() {
    let dir = tempfile::tempdir().unwrap();
    let (d, _, key) = RealDaemon::start_logged_with_key(dir.path(), |l| {
        l.env("ECHO5_MAX_CONNECTIONS", "50")
            // Long enough that only the cap can close them within the test.
            .env("ECHO5_HEADER_READ_TIMEOUT", "60s")
    })
    .await;
    let addr = format!("127.0.0.1:{}", d.port);
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(TcpStream::connect(&addr).await.unwrap());
        // In order of arrival, so "longest waiting" is well defined.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Answered while 200 silent connections hold on (their timeout is 60 s).
    well_behaved_clients_answered(&d, &key).await;
    // The oldest 100 made room for newer ones; the newest 20 are still open.
    for (i, s) in silent.iter_mut().enumerate().take(100) {
        assert!(
            is_closed(s, Duration::from_secs(3)).await,
            "silent connection {i} of 200 is still open at a cap of 50"
        );
    }
    for (i, s) in silent.iter_mut().enumerate().skip(185) {
        assert!(
            !is_closed(s, Duration::from_millis(50)).await,
            "connection {i}, among the newest, was closed"
        );
    }
}

/// The soft open-file limit from `/proc/<pid>/limits`: (soft, hard).
fn open_file_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let f: Vec<&str> = line.split_whitespace().collect();
    (f[3].to_string(), f[4].to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_file_limit_is_raised_so_a_flood_of_sockets_does_not_lock_everyone_out() {
    let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
    if hard.is_some_and(|h| h < 2048) {
        eprintln!("hard open-file limit {hard:?} is too low for this test; skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = RealDaemon::start_logged(dir.path(), |l| {
        l.soft_open_files(256)
            .env("ECHO5_HEADER_READ_TIMEOUT", "60s")
    })
    .await;
    let (soft, hard) = open_file_limits(d.pid());
    assert_eq!(soft, hard, "the soft limit is raised to the hard one");
    let token = d.token();
    let (_, key) = d.tenant_and_key(&token).await;
    let addr = format!("127.0.0.1:{}", d.port);
    // More sockets than the soft limit the daemon was started with.
    let mut silent = Vec::new();
    for _ in 0..400 {
        silent.push(TcpStream::connect(&addr).await.unwrap());
    }
    // Answered while 400 silent connections hold on (their timeout is 60 s).
    well_behaved_clients_answered(&d, &key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_heads_are_refused_with_431() {
    let dir = tempfile::tempdir().unwrap();
    let d = RealDaemon::start_logged(dir.path(), |l| l.env("ECHO5_MAX_HEADER_BYTES", "8192")).await;
    let client = reqwest::Client::new();
    let ok = client
        .get(d.url("/healthz"))
        .header("x-padding", "a".repeat(4000))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let mut s = TcpStream::connect(format!("127.0.0.1:{}", d.port))
        .await
        .unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: echo5\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    // The daemon may answer and close before it has read everything.
    let _ = s.write_all(head.as_bytes()).await;
    let closed = until_closed(s, Instant::now(), None)
        .await
        .expect("closed after the answer");
    assert!(
        closed.answer.starts_with("HTTP/1.1 431"),
        "{}",
        closed.answer
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_is_not_held_up_by_slow_connections_and_finishes_requests_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (mut d, _, key) = RealDaemon::start_logged_with_key(dir.path(), |l| {
        l.env("ECHO5_HEADER_READ_TIMEOUT", "60s")
            .env("ECHO5_IDLE_TIMEOUT", "60s")
    })
    .await;
    let addr = format!("127.0.0.1:{}", d.port);
    let mut held = Vec::new();
    for i in 0..100 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: echo5\r\nX-Slow: ")
                .await
                .unwrap();
        }
        held.push(s);
    }
    // A request in flight when the signal comes: its body is still on the way.
    let mut inflight = TcpStream::connect(&addr).await.unwrap();
    let body = br#"{"name":"Late Lead","email":"late@example.com"}"#;
    inflight
        .write_all(
            format!(
                "POST /api/v1/leads HTTP/1.1\r\nHost: echo5\r\nX-API-Key: {key}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\
                 Expect: 100-continue\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // "100 Continue" comes once the handler reads the body: the request is in flight.
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&got).contains("\r\n\r\n") {
        let n = tokio::time::timeout(GIVE_UP, inflight.read(&mut buf))
            .await
            .expect("the daemon reads the in-flight request")
            .unwrap();
        assert!(n > 0, "closed before reading the body");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    let pid = d.pid();
    let stopper = std::thread::spawn(move || {
        let t = Instant::now();
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        t
    });
    let signalled = stopper.join().unwrap();
    // The body follows once the daemon is shutting down.
    let deadline = Instant::now() + GIVE_UP;
    while !d.log_text().contains("shutting down") {
        assert!(
            Instant::now() < deadline,
            "no shutdown logged after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    inflight.write_all(body).await.unwrap();
    let answer = until_closed(inflight, Instant::now(), None)
        .await
        .expect("the in-flight request is answered and the connection closed");
    assert!(
        answer.answer.starts_with("HTTP/1.1 200"),
        "{}",
        answer.answer
    );
    let status = d.stop();
    assert!(status.success(), "{status}");
    // Not held up: the held connections' own timeout (60 s) would take twice this long.
    assert!(
        signalled.elapsed() < Duration::from_secs(30),
        "the stop took {:?}",
        signalled.elapsed()
    );
    // The lead answered 200 during the shutdown is in the database.
    let db = rusqlite::Connection::open(dir.path().join("data").join("echo5.db")).unwrap();
    let n: i64 = db
        .query_row(
            "SELECT count(*) FROM leads WHERE email = 'late@example.com'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_its_answers_is_dropped_after_the_send_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let d = RealDaemon::start_logged(dir.path(), |l| {
        l.env("ECHO5_SEND_TIMEOUT", "2s")
            .env("ECHO5_HEADER_READ_TIMEOUT", "60s")
            .env("ECHO5_IDLE_TIMEOUT", "60s")
    })
    .await;
    let doc_len = reqwest::get(d.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    // Far more answer than the socket buffers hold, asked for at once and never read.
    const ASKED: usize = 300;
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let mut s = sock
        .connect(format!("127.0.0.1:{}", d.port).parse().unwrap())
        .await
        .unwrap();
    s.write_all(
        "GET /api/v1/openapi.json HTTP/1.1\r\nHost: echo5\r\n\r\n"
            .repeat(ASKED)
            .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    // Reading now drains what was sent before the daemon gave up, then finds it closed.
    let closed = until_closed(s, Instant::now(), None)
        .await
        .expect("the connection of a client that stopped reading is closed");
    assert!(
        closed.answer.len() < ASKED * doc_len,
        "all {} bytes were delivered: the daemon waited for the reader",
        closed.answer.len()
    );
    // The daemon serves others meanwhile.
    let r = reqwest::get(d.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// A connection that has been answered once and then sits idle.
async fn answered_once(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    answer_healthz(&mut s).await;
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idle_and_header_timeouts_are_independent() {
    for (header, idle) in [("60s", "1s"), ("1s", "60s")] {
        let dir = tempfile::tempdir().unwrap();
        let d = RealDaemon::start_logged(dir.path(), |l| {
            l.env("ECHO5_HEADER_READ_TIMEOUT", header)
                .env("ECHO5_IDLE_TIMEOUT", idle)
        })
        .await;
        let addr = format!("127.0.0.1:{}", d.port);
        let mut idle_conn = answered_once(&addr).await;
        let mut silent = TcpStream::connect(&addr).await.unwrap();
        let mut partial = TcpStream::connect(&addr).await.unwrap();
        partial
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        // The connections under the 1 s timeout are closed (a hang fails after GIVE_UP);
        // then those under the 60 s one are still open 2 s later.
        let mut conns = [
            ("idle", &mut idle_conn, idle == "1s"),
            ("silent", &mut silent, header == "1s"),
            ("partial head", &mut partial, header == "1s"),
        ];
        for (what, conn, _) in conns.iter_mut().filter(|c| c.2) {
            assert!(
                is_closed(conn, GIVE_UP).await,
                "header timeout {header}, idle timeout {idle}: the {what} connection is open"
            );
        }
        for (what, conn, _) in conns.iter_mut().filter(|c| !c.2) {
            assert!(
                !is_closed(conn, Duration::from_secs(2)).await,
                "header timeout {header}, idle timeout {idle}: the {what} connection was closed"
            );
        }
    }
}
