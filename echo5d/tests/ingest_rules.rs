//! Ingest rules over loopback: each error status, spam, duplicates, double submits,
//! Idempotency-Key, rate limit, a full write queue, CORS and usage counters.

mod common;

use chrono::TimeDelta;
use common::{TestServer, assert_error};
use reqwest::StatusCode;
use serde_json::Value;
use std::task::{Context, Waker};
use std::time::Duration;

/// The month the tests' clock is in.
fn may_2026() -> echo5_core::usage::Month {
    echo5_core::usage::Month::parse("2026-05").unwrap()
}

const JSON_CT: Option<&str> = Some("application/json");

#[tokio::test]
async fn each_error_status_with_a_json_body() {
    let s = TestServer::start().await;
    let (t, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let post = |k: Option<&str>| {
        let mut r = s
            .client
            .post(s.url("/api/v1/leads"))
            .header("content-type", "application/json")
            .body(r#"{"name":"Jane"}"#);
        if let Some(k) = k {
            r = r.header("x-api-key", k);
        }
        r
    };
    // 401: missing, unknown, revoked.
    let resp = post(None).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"]["code"],
        "missing_api_key"
    );
    let resp = post(Some("e5_unknownunknownunknownunknown12"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_api_key"
    );
    let resp = s
        .client
        .post(s.url("/api/v1/ingest/e5_nope"))
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // 413: over 64 KiB, whether declared or streamed.
    let big = format!(r#"{{"name":"Jane","message":"{}"}}"#, "x".repeat(65 * 1024));
    assert_error(
        &s.submit(&key, JSON_CT, big.as_bytes()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    );
    // 415: a type no plugin sends.
    assert_error(
        &s.submit(
            &key,
            Some("application/xml"),
            b"<lead><name>x</name></lead>",
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );
    assert_error(
        &s.submit(&key, Some("image/png"), b"\x89PNG").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );
    // 400: unparseable, and parseable without any way to contact the person.
    assert_error(
        &s.submit(&key, JSON_CT, b"{\"name\": ").await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
        None,
    );
    assert_error(
        &s.submit(&key, JSON_CT, b"[1,2,3]").await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
        None,
    );
    assert_error(
        &s.submit(
            &key,
            JSON_CT,
            br#"{"message":"no contact at all","company":"X"}"#,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "no_contact",
        None,
    );
    assert_error(
        &s.submit(&key, JSON_CT, br#"{"name":"","email":"  "}"#)
            .await,
        StatusCode::BAD_REQUEST,
        "no_contact",
        None,
    );
    // 400 for a bad Idempotency-Key.
    let resp = s
        .client
        .post(s.url("/api/v1/leads"))
        .header("x-api-key", &key)
        .header("idempotency-key", "x".repeat(300))
        .header("content-type", "application/json")
        .body(r#"{"name":"Jane"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Nothing was stored by any of these, and the daemon is fine.
    let tid: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(s.state.store.count_leads(tid).await.unwrap(), 0);
    assert_eq!(
        s.client
            .get(s.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // The refusals made with a valid key were counted.
    let usage = s
        .state
        .store
        .usage_report(may_2026(), Some(tid.into()))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(usage.rejected, 8);
    assert_eq!(usage.accepted, 0);
    s.stop().await;
}

#[tokio::test]
async fn spam_is_stored_flagged_and_answered_like_a_clean_lead() {
    let s = TestServer::start().await;
    let (_, key) = s
        .tenant_with_key(
            r#"{"name":"Open Arms","settings":{"spam_keywords":["casino","crypto loan"]}}"#,
        )
        .await;
    let (st, clean) = s
        .submit(
            &key,
            JSON_CT,
            br#"{"name":"Real Person","email":"real@example.com","message":"Care for mum"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let cases: [(&[u8], &str); 4] = [
        (br#"{"name":"Bot","email":"b1@spam.example","message":"Best CASINO bonus!"}"#, "keyword:casino"),
        (br#"{"name":"Bot","email":"b2@spam.example","message":"cheap crypto loan today"}"#, "keyword:crypto loan"),
        (br#"{"name":"Bot","email":"b3@spam.example","hp":"filled by a bot"}"#, "honeypot:hp"),
        (
            br#"{"name":"Bot","email":"b4@spam.example","message":"http://a.example http://b.example https://c.example www.d.example"}"#,
            "links:4",
        ),
    ];
    for (body, reason) in cases {
        let (status, receipt) = s.submit(&key, JSON_CT, body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            receipt["status"], clean["status"],
            "the reply says nothing about spam"
        );
        assert_eq!(
            receipt.as_object().unwrap().len(),
            2,
            "same shape: id and status"
        );
        let lead = s.lead(&receipt).await;
        assert!(lead.is_spam, "{reason}");
        assert_eq!(lead.spam_reason.as_deref(), Some(reason));
    }
    // Word boundaries: "casinos" is not "casino".
    let (_, r) = s
        .submit(
            &key,
            JSON_CT,
            br#"{"name":"History Buff","email":"h@example.com","message":"old casinos of Reno"}"#,
        )
        .await;
    assert!(!s.lead(&r).await.is_spam);
    let tid = s.lead(&clean).await.tenant_id;
    let usage = s
        .state
        .store
        .usage_report(may_2026(), Some(tid.into()))
        .await
        .unwrap()
        .remove(0);
    assert_eq!((usage.accepted, usage.spam), (6, 4));
    s.stop().await;
}

#[tokio::test]
async fn duplicates_link_to_the_first_lead_within_30_days() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let (_, other_key) = s.tenant_with_key(r#"{"name":"Caring Hearts"}"#).await;
    let (_, first) = s
        .submit(
            &key,
            JSON_CT,
            br#"{"name":"Jane","email":"jane@example.com","phone":"5550102000"}"#,
        )
        .await;
    assert_eq!(first["status"], "created");
    s.clock.advance(TimeDelta::days(10));
    let (_, by_email) = s
        .submit(
            &key,
            JSON_CT,
            br#"{"name":"Jane D","email":"JANE@example.com","message":"again"}"#,
        )
        .await;
    assert_eq!(by_email["status"], "duplicate");
    assert_ne!(
        by_email["id"], first["id"],
        "a duplicate is stored as its own lead"
    );
    assert_eq!(
        s.duplicate_of(&by_email).await.as_deref(),
        first["id"].as_str()
    );
    let (_, by_phone) = s
        .submit(&key, JSON_CT, br#"{"name":"J","phone":"(555) 010-2000"}"#)
        .await;
    assert_eq!(by_phone["status"], "duplicate");
    assert_eq!(
        s.duplicate_of(&by_phone).await.as_deref(),
        first["id"].as_str()
    );
    // Another tenant's lead with the same e-mail is not a duplicate.
    let (_, elsewhere) = s
        .submit(
            &other_key,
            JSON_CT,
            br#"{"name":"Jane","email":"jane@example.com"}"#,
        )
        .await;
    assert_eq!(elsewhere["status"], "created");
    // After 30 days it is a new lead again.
    s.clock.advance(TimeDelta::days(21));
    let (_, later) = s
        .submit(
            &key,
            JSON_CT,
            br#"{"name":"Jane","email":"jane@example.com","message":"back"}"#,
        )
        .await;
    assert_eq!(later["status"], "created");
    s.stop().await;
}

#[tokio::test]
async fn double_submits_and_idempotency_keys_return_the_first_answer() {
    let s = TestServer::start().await;
    let (t, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let tid: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    let body = br#"{"name":"Jane","email":"jane@example.com"}"#;
    let (_, a) = s.submit(&key, JSON_CT, body).await;
    s.clock.advance(TimeDelta::minutes(9));
    let (status, b) = s.submit(&key, JSON_CT, body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a, b, "a double submit gets the first answer");
    assert_eq!(s.state.store.count_leads(tid).await.unwrap(), 1);
    s.clock.advance(TimeDelta::minutes(2));
    let (_, c) = s.submit(&key, JSON_CT, body).await;
    assert_ne!(
        c["id"], a["id"],
        "after 10 minutes it is a new (duplicate) lead"
    );
    assert_eq!(c["status"], "duplicate");

    let with_idem = |k: &'static str, body: &'static str| {
        s.client
            .post(s.url("/api/v1/leads"))
            .header("x-api-key", &key)
            .header("idempotency-key", k)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let first: Value = with_idem("retry-1", r#"{"name":"Ann","email":"ann@example.com"}"#)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    s.clock.advance(TimeDelta::hours(23));
    // A retry with the same key and body gets the first answer; a changed body is refused
    // (see tests/idempotency.rs).
    let retry: Value = with_idem("retry-1", r#"{"name":"Ann","email":"ann@example.com"}"#)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(retry, first);
    let changed = with_idem("retry-1", r#"{"name":"Ann B","email":"ann@example.com"}"#)
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.state.store.count_leads(tid).await.unwrap(), 3);
    // How long a key is kept: see `an_idempotency_key_outlives_the_plugins_retry_window`.
    s.stop().await;
}

/// The WordPress plugin retries a submission for 7 days. A lead stored by the daemon whose
/// answer was lost, retried on the plugin's last day, is answered with the first lead and
/// stored nothing new; once the window (`IDEMPOTENCY_WINDOW`, 8 days) is over, pruning drops
/// the record and the same key is a new request.
#[tokio::test]
async fn an_idempotency_key_outlives_the_plugins_retry_window() {
    use echo5_core::dedup::IDEMPOTENCY_WINDOW;
    assert!(
        IDEMPOTENCY_WINDOW >= TimeDelta::days(7) + TimeDelta::hours(1),
        "the window covers the plugin's 7 days of retries"
    );
    let s = TestServer::start().await;
    let (t, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let tid: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    let body = r#"{"name":"Ann","email":"ann@example.com","message":"Call me"}"#;
    let send = || {
        let req = s
            .client
            .post(s.url("/api/v1/leads"))
            .header("x-api-key", &key)
            .header("idempotency-key", "wp-site-shortcode-0-entry-7")
            .header("content-type", "application/json")
            .body(body);
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    let first = send().await;
    assert_eq!(first["status"], "created");

    // The plugin's last retry, 7 days and an hour later (its hourly step ran late).
    s.clock.advance(TimeDelta::days(7) + TimeDelta::hours(1));
    assert_eq!(
        s.state.store.prune_idempotency().await.unwrap(),
        0,
        "the pruning keeps the record inside the window"
    );
    let replay = send().await;
    assert_eq!(replay, first, "the retry gets the first lead");
    assert_eq!(s.state.store.count_leads(tid).await.unwrap(), 1);

    // Past the window the record is pruned and the key is a new request.
    s.clock.advance(
        IDEMPOTENCY_WINDOW - TimeDelta::days(7) - TimeDelta::hours(1) + TimeDelta::minutes(1),
    );
    assert_eq!(s.state.store.prune_idempotency().await.unwrap(), 1);
    let later = send().await;
    assert_ne!(
        later["id"], first["id"],
        "after the window the key is forgotten"
    );
    assert_eq!(
        later["status"], "duplicate",
        "the same person again, linked"
    );
    assert_eq!(s.state.store.count_leads(tid).await.unwrap(), 2);
    s.stop().await;
}

#[tokio::test]
async fn the_rate_limit_is_per_key_with_retry_after() {
    let s = TestServer::start_with(|a| a.key_rate_limit = 3).await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let (_, other) = s.tenant_with_key(r#"{"name":"Caring Hearts"}"#).await;
    for i in 0..3 {
        let (status, _) = s
            .submit(&key, JSON_CT, format!(r#"{{"name":"P{i}"}}"#).as_bytes())
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let resp = s
        .client
        .post(s.url("/api/v1/leads"))
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .body(r#"{"name":"P4"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"]["code"],
        "rate_limited"
    );
    let (status, _) = s.submit(&other, JSON_CT, br#"{"name":"Other site"}"#).await;
    assert_eq!(status, StatusCode::OK, "another key is not limited");
    s.stop().await;
}

#[tokio::test]
async fn a_full_write_queue_answers_503_and_recovers() {
    let s = TestServer::start_with(|a| a.write_queue = 1).await;
    let (t, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    // Hold the writer: wait until its thread runs the blocker (so the queue is empty)...
    let (started, running) = std::sync::mpsc::channel::<()>();
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let hold = std::sync::Arc::new(std::sync::Mutex::new(hold));
    let store = s.state.store.clone();
    let blocker = tokio::spawn(async move {
        // The daemon's own background jobs (the outbox worker, the monitor) may hold the
        // one queue slot for a moment: try again until the blocker is in.
        loop {
            let (started, hold) = (started.clone(), hold.clone());
            let tried = store
                .write(move |_| {
                    let _ = started.send(());
                    let _ = hold.lock().map(|h| h.recv());
                    Ok(())
                })
                .await;
            match tried {
                Err(echo5_data::StoreError::QueueFull) => {
                    tokio::time::sleep(Duration::from_millis(5)).await
                }
                other => break other,
            }
        }
    });
    tokio::task::spawn_blocking(move || running.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("the writer runs the blocker");
    // ...and fill its one queue slot: the first poll queues the job (the writer's channel
    // takes it at once).
    // (A background job of the daemon's may have taken the slot already: full either way.)
    let probing = s.state.store.clone();
    let queued = {
        let mut probe = Box::pin(probing.probe_write());
        match probe.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            std::task::Poll::Pending => Some(probe),
            std::task::Poll::Ready(Err(echo5_data::StoreError::QueueFull)) => None,
            std::task::Poll::Ready(other) => {
                panic!("the probe ran past a held writer: {other:?}")
            }
        }
    };
    // A full queue answers at once; a post that waits for the held writer is the bug (the
    // limit is a hang guard, not a latency bound).
    let resp = tokio::time::timeout(
        Duration::from_secs(30),
        s.client
            .post(s.url("/api/v1/leads"))
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body(r#"{"name":"Busy"}"#)
            .send(),
    )
    .await
    .expect("the post waited for the held writer instead of answering 503")
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"]["code"],
        "write_queue_full"
    );
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    if let Some(q) = queued {
        q.await.unwrap();
    }
    let (status, r) = s.submit(&key, JSON_CT, br#"{"name":"Busy"}"#).await;
    assert_eq!(status, StatusCode::OK, "recovers by itself: {r}");
    let tid: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(s.state.store.count_leads(tid).await.unwrap(), 1);
    s.stop().await;
}

#[tokio::test]
async fn cors_preflight_is_answered_for_ingest() {
    let s = TestServer::start().await;
    for path in ["/api/v1/leads", "/api/v1/ingest/e5_whatever"] {
        let resp = s
            .client
            .request(reqwest::Method::OPTIONS, s.url(path))
            .header("origin", "https://www.openarms.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-api-key")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["access-control-allow-origin"], "*");
        let methods = resp.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(methods.contains("POST"), "{methods}");
        let headers = resp.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(headers.contains("x-api-key"), "{headers}");
    }
    // The admin API is not opened to browsers.
    let resp = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/api/v1/tenants"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    s.stop().await;
}

#[tokio::test]
async fn usage_counters_survive_a_restart() {
    let s = TestServer::start().await;
    let (t, key) = s
        .tenant_with_key(r#"{"name":"Open Arms","settings":{"spam_keywords":["casino"]}}"#)
        .await;
    let tid: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    s.submit(&key, JSON_CT, br#"{"name":"A","email":"a@example.com"}"#)
        .await;
    s.submit(
        &key,
        JSON_CT,
        br#"{"name":"A again","email":"a@example.com"}"#,
    )
    .await;
    s.submit(&key, JSON_CT, br#"{"name":"casino bot"}"#).await;
    s.submit(&key, JSON_CT, br#"{"company":"no contact"}"#)
        .await;
    let before = s
        .state
        .store
        .usage_report(may_2026(), Some(tid.into()))
        .await
        .unwrap()
        .remove(0);
    let dir = s.stop().await;
    let mk = echo5d::datadir::master_key(dir.path(), None, None).unwrap();
    let clock: std::sync::Arc<dyn echo5_core::clock::Clock> =
        std::sync::Arc::new(echo5_core::clock::ManualClock::new(common::t0()));
    let store =
        echo5_data::Store::open(&dir.path().join("echo5.db"), mk, clock, Default::default())
            .unwrap();
    let after = store
        .usage_report(may_2026(), Some(tid.into()))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(after, before);
    assert_eq!(after.accepted, 3);
    assert_eq!(after.duplicates, 1);
    assert_eq!(after.spam, 1);
    assert_eq!(after.rejected, 1);
    assert_eq!(after.api_calls, 4);
    assert_eq!(after.keys.len(), 1);
}

/// The duplicate and double-submit windows live in memory; a restart rebuilds them from the
/// stored leads, so neither a retry nor a returning contact slips through after a restart.
#[tokio::test]
async fn duplicate_and_double_submit_windows_survive_a_restart() {
    let s = TestServer::start().await;
    let (t, key) = s
        .tenant_with_key(r#"{"name":"Open Arms","settings":{"spam_keywords":["casino"]}}"#)
        .await;
    let tid: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    let body = br#"{"name":"Jane","email":"jane@example.com","phone":"5550102000"}"#;
    let (_, first) = s.submit(&key, JSON_CT, body).await;
    assert_eq!(first["status"], "created");
    let (_, spam_first) = s
        .submit(
            &key,
            JSON_CT,
            br#"{"name":"Bot","email":"b1@spam.example","message":"Best CASINO bonus!"}"#,
        )
        .await;
    // Answered like a clean lead, stored flagged.
    assert_eq!(spam_first["status"], "created");
    assert!(s.lead(&spam_first).await.is_spam);
    let clock = s.clock.clone();
    let dir = s.stop().await;

    clock.advance(TimeDelta::minutes(5));
    let s = TestServer::start_in(dir, clock.clone(), |_| {}).await;
    let (status, again) = s.submit(&key, JSON_CT, body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        again, first,
        "a double submit across a restart gets the first answer"
    );
    let (_, spam_again) = s
        .submit(
            &key,
            JSON_CT,
            br#"{"name":"Bot","email":"b1@spam.example","message":"Best CASINO bonus!"}"#,
        )
        .await;
    assert_eq!(spam_again, spam_first);
    assert_eq!(s.state.store.count_leads(tid).await.unwrap(), 2);
    let (_, by_phone) = s
        .submit(&key, JSON_CT, br#"{"name":"J","phone":"(555) 010-2000"}"#)
        .await;
    assert_eq!(by_phone["status"], "duplicate");
    assert_eq!(
        s.duplicate_of(&by_phone).await.as_deref(),
        first["id"].as_str()
    );
    let dir = s.stop().await;

    // Past both windows, a restart keeps neither: the same body is a new original lead.
    clock.advance(TimeDelta::days(31));
    let s = TestServer::start_in(dir, clock, |_| {}).await;
    let (_, later) = s.submit(&key, JSON_CT, body).await;
    assert_eq!(later["status"], "created");
    assert_ne!(later["id"], first["id"]);
    assert_eq!(s.state.store.count_leads(tid).await.unwrap(), 4);
    s.stop().await;
}

/// Leads written by other paths than ingest (here the demo seed) count as originals at once,
/// not only after the next restart rebuilds the windows.
#[tokio::test]
async fn a_seeded_lead_is_an_original_for_the_next_submission() {
    let s = TestServer::start_with(|a| a.demo = true).await;
    let (status, tenants) = s.get("/api/v1/tenants").await;
    assert_eq!(status, StatusCode::OK);
    let slug = tenants["data"][0]["slug"].as_str().unwrap().to_string();
    let (_, page) = s
        .get(&format!("/api/v1/tenants/{slug}/leads?limit=200"))
        .await;
    let now = echo5_core::clock::Clock::now(&*s.clock);
    let original = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| {
            l["email"].is_string()
                && l["duplicate_of"].is_null()
                && l["is_spam"] == false
                && l["created_at"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| now - t.to_utc() < TimeDelta::days(29))
        })
        .expect("a recent clean demo lead with an e-mail")
        .clone();
    let (status, k) = s.post(&format!("/api/v1/tenants/{slug}/keys"), "{}").await;
    assert_eq!(status, StatusCode::CREATED);
    let key = k["secret"].as_str().unwrap();
    let body = format!(
        r#"{{"name":"Returning","email":"{}"}}"#,
        original["email"].as_str().unwrap()
    );
    let (_, again) = s.submit(key, JSON_CT, body.as_bytes()).await;
    assert_eq!(again["status"], "duplicate");
    assert_eq!(
        s.duplicate_of(&again).await.as_deref(),
        original["id"].as_str()
    );
    s.stop().await;
}

/// Phones are stored in E.164, read in the tenant's `default_country` when they carry no
/// country code: the same number typed with and without `+1` is one number (a duplicate),
/// a UK tenant's national numbers get +44, and the setting is validated and audited.
#[tokio::test]
async fn phones_are_stored_in_e164_with_the_tenants_country() {
    let s = TestServer::start().await;
    let (us, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    assert_eq!(us["settings"]["default_country"], "US");
    let (_, first) = s
        .submit(
            &key,
            JSON_CT,
            br#"{"name":"Jane","phone":"555-010-2000 x12"}"#,
        )
        .await;
    assert_eq!(s.lead(&first).await.phone.as_deref(), Some("+15550102000"));
    let (_, again) = s
        .submit(
            &key,
            JSON_CT,
            br#"{"name":"J","phone":"+1 (555) 010-2000"}"#,
        )
        .await;
    assert_eq!(again["status"], "duplicate", "both formats are one number");
    assert_eq!(
        s.duplicate_of(&again).await.as_deref(),
        first["id"].as_str()
    );
    // Not a number of the tenant's country: kept as its digits, as before.
    let (_, short) = s
        .submit(&key, JSON_CT, br#"{"name":"Short","phone":"555 0102"}"#)
        .await;
    assert_eq!(s.lead(&short).await.phone.as_deref(), Some("5550102"));

    let (uk, uk_key) = s
        .tenant_with_key(r#"{"name":"Caring Hearts","settings":{"default_country":"gb"}}"#)
        .await;
    assert_eq!(uk["settings"]["default_country"], "GB");
    let (_, london) = s
        .submit(
            &uk_key,
            JSON_CT,
            br#"{"name":"Ann","phone":"020 7946 0958"}"#,
        )
        .await;
    assert_eq!(
        s.lead(&london).await.phone.as_deref(),
        Some("+442079460958")
    );
    let (_, intl) = s
        .submit(
            &uk_key,
            JSON_CT,
            br#"{"name":"Ann","phone":"+44 (0)20 7946 0958"}"#,
        )
        .await;
    assert_eq!(intl["status"], "duplicate");

    // The setting: validated (naming the field), changed on its own, audited.
    let refused = s
        .patch(
            "/api/v1/tenants/caring-hearts/settings",
            r#"{"default_country":"XX"}"#,
        )
        .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_country",
        Some("default_country"),
    );
    let (status, body) = s
        .patch(
            "/api/v1/tenants/caring-hearts/settings",
            r#"{"default_country":"de"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["default_country"], "DE");
    let (_, audit) = s.get("/api/v1/audit?tenant=caring-hearts").await;
    assert!(
        audit.to_string().contains("settings.default_country"),
        "{audit}"
    );
    // Manual entry reads the number the same way, with the new country.
    let (status, lead) = s
        .post(
            "/api/v1/tenants/caring-hearts/leads",
            r#"{"name":"Max","phone":"030 1234567"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    assert_eq!(lead["phone"], "+49301234567");
    s.stop().await;
}
