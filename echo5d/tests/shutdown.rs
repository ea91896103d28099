//! SIGTERM under load, against the real `echo5d` binary: concurrent clients post leads
//! without pause, the daemon is told to stop in the middle of it, and afterwards the answers
//! the clients got are checked against what the restarted daemon has stored.
//!
//! What the daemon promises (docs/architecture.md "Start and stop", `server::serve`): on
//! SIGTERM it stops accepting, closes connections with no request in flight, answers every
//! request already in flight, commits, and exits 0. So, from the clients' side:
//! - an answer that arrives is a whole answer: 200 with the lead's id, or a JSON 503 (a full
//!   write queue) — never headers followed by a cut body;
//! - a request may go unanswered only because its connection was refused or closed before
//!   the daemon took the request up; such a request stored nothing;
//! - every 200 names a lead the restarted daemon still has, and every stored lead was
//!   answered 200 to its client (a 503 or no answer means "not stored").

mod common;

use common::daemon::{RealDaemon, sample_lead};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Concurrent clients, each on its own keep-alive connection.
const CLIENTS: usize = 16;

#[derive(Debug)]
enum Outcome {
    /// 200 with this lead id (ingest answers 200, never 201).
    Stored(String),
    /// A whole JSON 503.
    Refused,
    /// No answer at all: the request failed before any response head arrived.
    Unanswered(String),
}

/// What one client saw: (e-mail address it posted, outcome, when the outcome arrived).
type Seen = Vec<(String, Outcome, Instant)>;

/// Posts leads in a loop until the daemon refuses connections (or 60 s pass); returns what
/// each request got. An answer that breaks the promise panics the task.
async fn client_loop(base: String, key: String, n: usize) -> Seen {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut seen = Seen::new();
    let until = Instant::now() + Duration::from_secs(60);
    let mut seq = 0usize;
    while Instant::now() < until {
        seq += 1;
        let email = format!("c{n}-{seq}@example.com");
        let mut body = sample_lead();
        body["email"] = Value::String(email.clone());
        let sent = client
            .post(format!("{base}/api/v1/leads"))
            .header("x-api-key", &key)
            .json(&body)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                assert!(!e.is_timeout(), "request {email} hung: {e:?}");
                let refused = e.is_connect();
                seen.push((email, Outcome::Unanswered(format!("{e:?}")), Instant::now()));
                if refused {
                    // The listener is gone: the daemon is stopping or stopped.
                    break;
                }
                continue;
            }
        };
        let status = resp.status();
        let text = resp
            .text()
            .await
            .unwrap_or_else(|e| panic!("{email}: answer {status} cut short: {e:?}"));
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{email}: non-JSON answer {status}: {e}: {text}"));
        let outcome = match status {
            StatusCode::OK => Outcome::Stored(
                json["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("200 without an id: {json}"))
                    .to_string(),
            ),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(
                    json["error"]["code"]
                        .as_str()
                        .is_some_and(|c| !c.is_empty())
                        && json["error"]["message"]
                            .as_str()
                            .is_some_and(|m| !m.is_empty()),
                    "{email}: 503 without a JSON error: {json}"
                );
                Outcome::Refused
            }
            other => panic!("{email}: unexpected answer {other}: {json}"),
        };
        seen.push((email, outcome, Instant::now()));
    }
    seen
}

/// Every lead of tenant `slug`, spam included, page by page: e-mail address → id.
async fn all_leads(base: &str, token: &str, slug: &str) -> BTreeMap<String, String> {
    let client = reqwest::Client::new();
    let mut out = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/tenants/{slug}/leads?spam=all&limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = client.get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let page: Value = r.json().await.unwrap();
        for l in page["data"].as_array().unwrap() {
            let email = l["email"].as_str().unwrap_or_default().to_string();
            let id = l["id"].as_str().unwrap().to_string();
            assert!(
                out.insert(email.clone(), id).is_none(),
                "{email} stored twice"
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_answers_in_flight_requests_and_loses_no_acknowledged_lead() {
    let dir = tempfile::tempdir().unwrap();
    let (mut d, token, key) = RealDaemon::start_logged_with_key(dir.path(), |l| l).await;

    let tasks: Vec<_> = (0..CLIENTS)
        .map(|n| tokio::spawn(client_loop(d.base.clone(), key.clone(), n)))
        .collect();
    // Let the load settle in, then stop the daemon in the middle of it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let signalled = Instant::now();
    // `stop` waits on this thread; the clients go on on the others.
    let status = tokio::task::block_in_place(|| d.stop());
    let stopped_after = signalled.elapsed();
    assert!(status.success(), "exit after SIGTERM: {status}");

    let mut seen = Vec::new();
    for t in tasks {
        seen.extend(t.await.unwrap());
    }
    let mut acked: BTreeMap<String, String> = BTreeMap::new();
    let mut refused = BTreeSet::new();
    let mut unanswered = BTreeMap::new();
    let mut acked_after_signal = 0;
    for (email, outcome, at) in seen {
        match outcome {
            Outcome::Stored(id) => {
                if at > signalled {
                    acked_after_signal += 1;
                }
                acked.insert(email, id);
            }
            Outcome::Refused => {
                refused.insert(email);
            }
            Outcome::Unanswered(e) => {
                unanswered.insert(email, e);
            }
        }
    }
    assert!(
        acked.len() > CLIENTS,
        "too little load: {} acked",
        acked.len()
    );
    assert!(
        acked_after_signal > 0,
        "no answer arrived after the signal: the stop did not land mid-flight"
    );

    // The same data directory again.
    d.restart().await;
    let stored = all_leads(&d.base, &token, "open-arms").await;

    let lost: Vec<_> = acked
        .iter()
        .filter(|(email, id)| stored.get(*email) != Some(id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged leads lost (of {}): {:?}",
        lost.len(),
        acked.len(),
        lost.iter().take(5).collect::<Vec<_>>()
    );
    let unacknowledged: Vec<_> = stored
        .keys()
        .filter(|email| !acked.contains_key(*email))
        .map(|email| {
            let why = match (refused.contains(email), unanswered.get(email)) {
                (true, _) => "answered 503".to_string(),
                (_, Some(e)) => format!("no answer: {e}"),
                _ => "never sent".to_string(),
            };
            (email.clone(), why)
        })
        .collect();
    assert!(
        unacknowledged.is_empty(),
        "{} stored leads were never acknowledged to their client: {:?}",
        unacknowledged.len(),
        unacknowledged.iter().take(5).collect::<Vec<_>>()
    );
    eprintln!(
        "acked {} ({} after SIGTERM), refused {}, unanswered {}, stopped in {:?}",
        acked.len(),
        acked_after_signal,
        refused.len(),
        unanswered.len(),
        stopped_after
    );
    assert!(d.stop().success());
}
