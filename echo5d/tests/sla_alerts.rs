//! The SLA monitor with a real SMTP server started by the test: one alert per breached
//! lead, to the tenant's manager, with the lead link; retried while the server refuses,
//! delivered exactly once after it recovers, across a daemon restart.

mod common;

use chrono::TimeDelta;
use common::smtp::SmtpSink;
use common::{TestServer, t0};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

async fn eventually<F: Fn() -> bool>(what: &str, f: F) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// The alert's status and attempt count once at least `n` attempts are recorded (or as
/// they stand after 20 s; the caller's assertions then fail with them).
async fn attempts_reach(s: &TestServer, lead: uuid::Uuid, n: u32) -> (String, u32) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, attempts) = s.state.store.alert_state(lead).await.unwrap().unwrap();
        if attempts >= n || Instant::now() >= deadline {
            return (status, attempts);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The SLA monitor passes `/readyz` reports completed.
async fn sla_passes(s: &TestServer) -> u64 {
    let (status, ready) = s.get("/readyz").await;
    assert_eq!(status, reqwest::StatusCode::OK, "{ready}");
    ready["sla_passes"].as_u64().expect("sla_passes")
}

/// Waits until `n` more monitor passes than now have completed: each of them recorded
/// breaches and delivered whatever alert was due, wholly after this call began.
async fn passes_go_by(s: &TestServer, n: u64) {
    // A pass under way when this is called may have read the queue before; it does not
    // count.
    let from = sla_passes(s).await + 1;
    let deadline = Instant::now() + Duration::from_secs(30);
    while sla_passes(s).await < from + n {
        assert!(Instant::now() < deadline, "the monitor stopped passing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breach_mails_the_manager_once_with_the_lead_link() {
    let smtp = SmtpSink::start().await;
    let url = smtp.url();
    let s = TestServer::start_with(|a| {
        a.sla_interval = 1;
        a.smtp_url = Some(echo5_core::secret::Secret::new(url));
        a.public_url = Some("https://echo5.agency.example".into());
    })
    .await;
    s.tenant(r#"{"name":"Open Arms","settings":{"sla_hours":4,"manager_email":"boss@openarms.example"}}"#).await;
    s.tenant(r#"{"name":"No Manager","settings":{"sla_hours":4}}"#)
        .await;
    let (_, lead) = s
        .post(
            "/api/v1/tenants/open-arms/leads",
            &json!({"name":"Jane Waiting","email":"jane@example.com","created_at": (t0() - TimeDelta::hours(5)).to_rfc3339()}).to_string(),
        )
        .await;
    let (_, orphan) = s
        .post(
            "/api/v1/tenants/no-manager/leads",
            &json!({"name":"Nobody Told","created_at": (t0() - TimeDelta::hours(5)).to_rfc3339()})
                .to_string(),
        )
        .await;
    let id = lead["id"].as_str().unwrap().to_string();
    eventually("the alert mail", || smtp.mails().len() == 1).await;
    let mail = &smtp.mails()[0];
    assert_eq!(mail.to, ["boss@openarms.example"]);
    assert!(
        mail.data
            .contains("Subject: [Echo5] SLA breach at Open Arms: Jane Waiting has waited over 4 h"),
        "{}",
        mail.data
    );
    let body = mail.decoded();
    assert!(
        body.contains(&format!(
            "Open the lead: https://echo5.agency.example/api/v1/leads/{id}"
        )),
        "{body}"
    );
    assert!(
        mail.data.contains(&format!("Message-ID: <sla-{id}@echo5>")),
        "{}",
        mail.data
    );
    // Later passes do not send it again.
    passes_go_by(&s, 3).await;
    assert_eq!(smtp.mails().len(), 1);
    let lid: uuid::Uuid = id.parse().unwrap();
    assert_eq!(
        s.state.store.alert_state(lid).await.unwrap(),
        Some(("sent".into(), 1))
    );
    let oid: uuid::Uuid = orphan["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        s.state.store.alert_state(oid).await.unwrap().unwrap().0,
        "skipped",
        "no manager_email: nothing to send"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_smtp_server_gets_retries_and_one_mail_after_recovery_across_a_restart() {
    let smtp = SmtpSink::start().await;
    smtp.failing.store(true, Ordering::SeqCst);
    let url = smtp.url();
    let with_smtp = move |a: &mut echo5d::config::ServeArgs| {
        a.sla_interval = 1;
        a.smtp_url = Some(echo5_core::secret::Secret::new(url.clone()));
    };
    let s = TestServer::start_with(with_smtp.clone()).await;
    s.tenant(r#"{"name":"Open Arms","settings":{"sla_hours":4,"manager_email":"boss@openarms.example"}}"#).await;
    let (_, lead) = s
        .post(
            "/api/v1/tenants/open-arms/leads",
            &json!({"name":"Jane","created_at": (t0() - TimeDelta::hours(5)).to_rfc3339()})
                .to_string(),
        )
        .await;
    let lid: uuid::Uuid = lead["id"].as_str().unwrap().parse().unwrap();
    eventually("a refused attempt", || {
        smtp.refused.load(Ordering::SeqCst) >= 1
    })
    .await;
    // The retry waits for its backoff on the store's clock: move it on and see more tries.
    for _ in 0..2 {
        let before = smtp.refused.load(Ordering::SeqCst);
        // The retry time is set from the store's clock when the attempt is recorded: advance
        // the clock only once it is, or the retry lands after the advance.
        attempts_reach(&s, lid, before as u32).await;
        s.clock.advance(TimeDelta::minutes(11));
        eventually("another attempt", || {
            smtp.refused.load(Ordering::SeqCst) > before
        })
        .await;
    }
    // The server counts a refusal before the daemon records that attempt: wait for the
    // third attempt to be stored rather than reading once.
    let (status, attempts) = attempts_reach(&s, lid, 3).await;
    assert_eq!(status, "pending");
    assert!(attempts >= 3, "{attempts}");
    assert!(smtp.mails().is_empty());

    // Restart the daemon while the alert is still pending.
    let clock = s.clock.clone();
    let dir = s.stop().await;
    smtp.failing.store(false, Ordering::SeqCst);
    clock.advance(TimeDelta::minutes(11));
    let s = TestServer::start_in(dir, clock, with_smtp).await;
    eventually("the mail after recovery", || smtp.mails().len() == 1).await;
    passes_go_by(&s, 2).await;
    s.clock.advance(TimeDelta::hours(1));
    passes_go_by(&s, 2).await;
    assert_eq!(smtp.mails().len(), 1, "exactly one mail");
    assert_eq!(smtp.mails()[0].to, ["boss@openarms.example"]);
    assert_eq!(
        s.state.store.alert_state(lid).await.unwrap().unwrap().0,
        "sent"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_alerts_are_logged() {
    let s = TestServer::start_with(|a| a.sla_interval = 1).await;
    s.tenant(r#"{"name":"Open Arms","settings":{"sla_hours":4,"manager_email":"boss@openarms.example"}}"#).await;
    let (_, lead) = s
        .post(
            "/api/v1/tenants/open-arms/leads",
            &json!({"name":"Logged Lead","created_at": (t0() - TimeDelta::hours(5)).to_rfc3339()})
                .to_string(),
        )
        .await;
    let lid: uuid::Uuid = lead["id"].as_str().unwrap().parse().unwrap();
    let store = s.state.store.clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some((status, _)) = store.alert_state(lid).await.unwrap()
            && status == "logged"
        {
            break;
        }
        assert!(Instant::now() < deadline, "alert never logged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let own = common::captured_lines_naming(&lid.to_string());
    assert!(
        own.iter()
            .any(|l| l.contains("SLA alert (no SMTP configured")),
        "no log line of this test's alert: {own:?}"
    );
    s.stop().await;
}
