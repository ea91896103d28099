//! Tenant notifications against local stand-ins of the providers, started by the test,
//! which record every request: each request is checked as the provider documents it
//! (SendGrid v3 JSON with the key as bearer, Twilio form fields with basic auth, Slack
//! JSON `{text}`). Breaches, escalation steps, digests and new leads each go out once; a
//! provider that is down is retried, across a daemon restart, and sent to once.

mod common;

use base64::Engine;
use chrono::TimeDelta;
use common::receiver::{Receiver, Reply};
use common::{TestServer, t0};
use echo5_core::outbox_tasks::{TaskKind, TaskStatus};
use echo5_data::outbox_tasks::TaskFilter;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-token-0123456789";
const SG_KEY: &str = "SG.sendgrid-key-0123456789";
const SLACK_PATH: &str = "/services/T000/B000/slacksecret";
const TWILIO_PATH: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

/// Flags for a daemon whose provider calls go to `rx` (on loopback, which tests allow).
fn flags(rx: &Receiver) -> impl Fn(&mut echo5d::config::ServeArgs) + Clone + use<> {
    let base = rx.base.clone();
    move |a| {
        a.sla_interval = 1;
        a.outbound.outbound_allow_cidr = vec!["127.0.0.0/8".parse().unwrap()];
        a.outbound.sendgrid_api_url = base.clone();
        a.outbound.twilio_api_url = base.clone();
        a.outbound.outbound_retry_schedule =
            echo5_core::outbox::RetrySchedule::parse("0,60,60,60,60,60,60").unwrap();
    }
}

/// Every channel set up, pointing at `rx`.
fn channels(rx: &Receiver) -> Value {
    json!({
        "email": {"to": ["ops@openarms.example"]},
        "slack": {"webhook_url": rx.url(SLACK_PATH)},
        "sms": {"account_sid": SID, "auth_token": TOKEN, "from": "+14155550100", "to": ["+14155550101"]},
        "sendgrid": {"api_key": SG_KEY, "from": "alerts@openarms.example"}
    })
}

async fn lead_at(s: &TestServer, slug: &str, name: &str, ago: TimeDelta) -> String {
    let (st, lead) = s
        .post(
            &format!("/api/v1/tenants/{slug}/leads"),
            &json!({"name": name, "email": "jane@example.com",
                    "created_at": (t0() - ago).to_rfc3339()})
            .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{lead}");
    lead["id"].as_str().unwrap().to_string()
}

async fn notification_tasks(s: &TestServer) -> Vec<echo5_data::outbox_tasks::Task> {
    s.state
        .store
        .tasks(
            TaskFilter {
                kind: Some(TaskKind::Notification),
                ..Default::default()
            },
            1000,
        )
        .await
        .unwrap()
}

/// Waits until the monitor has made `n` more passes than now.
async fn passes_go_by(s: &TestServer, n: u64) {
    let passes = || async {
        let (_, ready) = s.get("/readyz").await;
        ready["sla_passes"].as_u64().unwrap()
    };
    let from = passes().await + 1;
    let deadline = Instant::now() + WAIT;
    while passes().await < from + n {
        assert!(Instant::now() < deadline, "the monitor stopped passing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until no notification task is pending (all sent or failed).
async fn all_sent(s: &TestServer) {
    let deadline = Instant::now() + WAIT;
    loop {
        let tasks = notification_tasks(s).await;
        if tasks.iter().all(|t| t.status != TaskStatus::Pending) {
            return;
        }
        assert!(Instant::now() < deadline, "tasks still pending: {tasks:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breach_goes_to_email_slack_and_sms_as_each_provider_documents() {
    let rx = Receiver::start().await;
    rx.always(TWILIO_PATH, Reply::Status(201));
    rx.always("/v3/mail/send", Reply::Status(202));
    let s = TestServer::start_with(flags(&rx)).await;
    s.tenant(r#"{"name":"Open Arms","settings":{"sla_hours":4,"manager_email":"boss@openarms.example"}}"#).await;
    let (st, doc) = s
        .put(
            "/api/v1/tenants/open-arms/notifications",
            &json!({
                "channels": channels(&rx),
                "rules": {"sla.breached": ["email", "slack", "sms"]},
                "branding": {"display_name": "Open Arms Care", "from_name": "Open Arms Alerts", "reply_to": "desk@openarms.example"},
                "templates": {"sla.breached": {
                    "subject": "Breach: {{ lead.name }}",
                    "text": "{{ lead.name }} waited past {{ breach.deadline }} ({{ breach.sla_hours }} h) at {{ tenant.name }}: {{ link }}",
                    "html": "<p>{{ lead.name }} at {{ branding.display_name }}</p>"
                }}
            })
            .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{doc}");
    // Secrets are masked in the answer, as the other secrets are.
    let shown = doc.to_string();
    assert!(
        !shown.contains("slacksecret") && !shown.contains(TOKEN) && !shown.contains(SG_KEY),
        "{shown}"
    );
    assert_eq!(doc["channels"]["sms"]["auth_token"]["set"], true);
    assert_eq!(doc["channels"]["sendgrid"]["api_key"]["last4"], "6789");

    let id = lead_at(&s, "open-arms", "Jane <b>Bold</b>", TimeDelta::hours(5)).await;

    // E-mail: SendGrid v3, one request per recipient (manager and ops).
    let mails = rx.wait_for("/v3/mail/send", 2, WAIT).await;
    let mut to: Vec<String> = Vec::new();
    for m in &mails {
        assert_eq!(m.header("authorization"), format!("Bearer {SG_KEY}"));
        assert!(m.header("content-type").starts_with("application/json"));
        let b = m.json();
        assert_eq!(b["personalizations"].as_array().unwrap().len(), 1);
        to.push(
            b["personalizations"][0]["to"][0]["email"]
                .as_str()
                .unwrap()
                .into(),
        );
        assert_eq!(
            b["from"],
            json!({"email": "alerts@openarms.example", "name": "Open Arms Alerts"})
        );
        assert_eq!(b["reply_to"], json!({"email": "desk@openarms.example"}));
        assert_eq!(b["subject"], "Breach: Jane <b>Bold</b>");
        assert_eq!(b["content"][0]["type"], "text/plain");
        let text = b["content"][0]["value"].as_str().unwrap();
        assert!(text.contains("Jane <b>Bold</b> waited past"), "{text}");
        assert!(text.contains("(4 h) at Open Arms:"), "{text}");
        assert!(text.contains(&format!("/api/v1/leads/{id}")), "{text}");
        assert_eq!(b["content"][1]["type"], "text/html");
        // HTML is escaped: the lead's markup is text.
        assert_eq!(
            b["content"][1]["value"],
            "<p>Jane &lt;b&gt;Bold&lt;&#x2f;b&gt; at Open Arms Care</p>"
        );
    }
    to.sort();
    assert_eq!(to, ["boss@openarms.example", "ops@openarms.example"]);

    // SMS: Twilio's form fields, basic auth with the account SID and token.
    let sms = rx.wait_for(TWILIO_PATH, 1, WAIT).await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"));
    assert_eq!(sms[0].header("authorization"), format!("Basic {basic}"));
    assert_eq!(
        sms[0].header("content-type"),
        "application/x-www-form-urlencoded"
    );
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&sms[0].body).unwrap();
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(field("To"), "+14155550101");
    assert_eq!(field("From"), "+14155550100");
    assert!(
        field("Body").starts_with("Jane <b>Bold</b> waited past"),
        "{form:?}"
    );

    // Slack: the incoming webhook's JSON.
    let slack = rx.wait_for(SLACK_PATH, 1, WAIT).await;
    assert!(
        slack[0]
            .header("content-type")
            .starts_with("application/json")
    );
    let body = slack[0].json();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("Jane <b>Bold</b> waited past")
    );

    // Later passes send nothing again; the plain alert is not sent beside them.
    all_sent(&s).await;
    passes_go_by(&s, 3).await;
    assert_eq!(rx.received("/v3/mail/send").len(), 2);
    assert_eq!(rx.received(TWILIO_PATH).len(), 1);
    assert_eq!(rx.received(SLACK_PATH).len(), 1);
    let lid: uuid::Uuid = id.parse().unwrap();
    assert_eq!(
        s.state.store.alert_state(lid).await.unwrap().unwrap().0,
        "skipped"
    );
    assert_eq!(notification_tasks(&s).await.len(), 4);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_sends_each_step_once_and_stops_when_the_lead_is_moved() {
    let rx = Receiver::start().await;
    rx.always(TWILIO_PATH, Reply::Status(201));
    let s = TestServer::start_with(flags(&rx)).await;
    s.tenant(r#"{"name":"Open Arms","settings":{"sla_hours":4}}"#)
        .await;
    let (st, doc) = s
        .put(
            "/api/v1/tenants/open-arms/notifications",
            &json!({
                "channels": channels(&rx),
                "escalation": [
                    {"after_hours": 1, "channels": ["slack"]},
                    {"after_hours": 3, "to": ["+14155550199"], "channels": ["sms"]}
                ]
            })
            .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{doc}");
    // Breached a minute ago: the first step is due in 59 minutes.
    let ago = TimeDelta::hours(4) + TimeDelta::minutes(1);
    lead_at(&s, "open-arms", "Still Waiting", ago).await;
    let moved = lead_at(&s, "open-arms", "Soon Moved", ago).await;
    passes_go_by(&s, 2).await;
    assert!(rx.all().is_empty(), "no rule for sla.breached: nothing yet");

    // One hour after the breach: the first step, for both leads, once.
    s.clock.advance(TimeDelta::minutes(61));
    let first = rx.wait_for(SLACK_PATH, 2, WAIT).await;
    let texts: Vec<String> = first
        .iter()
        .map(|r| r.json()["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("Still Waiting")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("Soon Moved")), "{texts:?}");
    passes_go_by(&s, 2).await;
    assert_eq!(rx.received(SLACK_PATH).len(), 2, "each step once");

    // The second lead is moved out of intake; its later step never goes.
    let (_, stages) = s.get("/api/v1/tenants/open-arms/stages").await;
    let contacted = stages["data"][1]["id"].as_str().unwrap().to_string();
    let (st, l) = s
        .patch(
            &format!("/api/v1/leads/{moved}"),
            &json!({"stage_id": contacted}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{l}");
    s.clock.advance(TimeDelta::hours(2));
    let sms = rx.wait_for(TWILIO_PATH, 1, WAIT).await;
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&sms[0].body).unwrap();
    assert!(
        form.contains(&("To".into(), "+14155550199".into())),
        "the step's own recipient: {form:?}"
    );
    let body = &form.iter().find(|(k, _)| k == "Body").unwrap().1;
    assert!(
        body.contains("Still Waiting") && body.contains("3 h after"),
        "{body}"
    );
    passes_go_by(&s, 3).await;
    s.clock.advance(TimeDelta::hours(5));
    passes_go_by(&s, 3).await;
    all_sent(&s).await;
    assert_eq!(
        rx.received(TWILIO_PATH).len(),
        1,
        "the moved lead's step never goes"
    );
    assert_eq!(rx.received(SLACK_PATH).len(), 2);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_down_is_retried_across_a_restart_and_sent_once() {
    let rx = Receiver::start().await;
    rx.always(TWILIO_PATH, Reply::Status(503));
    let f = flags(&rx);
    let s = TestServer::start_with(f.clone()).await;
    s.tenant(r#"{"name":"Open Arms","settings":{"sla_hours":4}}"#)
        .await;
    let (st, doc) = s
        .put(
            "/api/v1/tenants/open-arms/notifications",
            &json!({"channels": channels(&rx), "rules": {"sla.breached": ["sms", "slack"]}})
                .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{doc}");
    lead_at(&s, "open-arms", "Jane Down", TimeDelta::hours(5)).await;
    // Slack is up: sent once, whatever Twilio does.
    rx.wait_for(SLACK_PATH, 1, WAIT).await;
    rx.wait_for(TWILIO_PATH, 1, WAIT).await;
    // The retry waits on the schedule (60 s on the store's clock).
    let deadline = Instant::now() + WAIT;
    loop {
        let t = notification_tasks(&s).await;
        let sms = t.iter().find(|t| t.payload["channel"] == "sms").unwrap();
        if sms.attempts >= 1 {
            assert_eq!(sms.status, TaskStatus::Pending);
            assert!(
                sms.last_error.as_deref().unwrap_or("").contains("503"),
                "{sms:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no attempt recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.clock.advance(TimeDelta::seconds(61));
    rx.wait_for(TWILIO_PATH, 2, WAIT).await;

    // Restart while the SMS is still pending; the provider comes back.
    let clock = s.clock.clone();
    let dir = s.stop().await;
    rx.always(TWILIO_PATH, Reply::Status(201));
    clock.advance(TimeDelta::seconds(61));
    let s = TestServer::start_in(dir, clock, f).await;
    all_sent(&s).await;
    passes_go_by(&s, 2).await;
    s.clock.advance(TimeDelta::hours(1));
    passes_go_by(&s, 2).await;
    let tasks = notification_tasks(&s).await;
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert!(
        tasks.iter().all(|t| t.status == TaskStatus::Succeeded),
        "{tasks:?}"
    );
    // Two refused attempts, then exactly one that was accepted; Slack never again.
    assert_eq!(rx.received(TWILIO_PATH).len(), 3);
    assert_eq!(rx.received(SLACK_PATH).len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn templates_render_escape_and_a_broken_one_is_refused_with_its_line() {
    let rx = Receiver::start().await;
    let s = TestServer::start_with(flags(&rx)).await;
    s.tenant(r#"{"name":"Open Arms","settings":{"sla_hours":4}}"#)
        .await;
    let path = "/api/v1/tenants/open-arms/notifications";

    // A syntax error and a misspelt variable: 400, the part and the line named.
    let (st, e) = s
        .put(
            path,
            &json!({"templates": {"sla.breached": {"html": "<p>\n{{ lead.name }\n</p>"}}})
                .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"]["code"], "template_invalid");
    assert_eq!(e["error"]["field"], "templates.sla.breached.html");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("line 2"),
        "{e}"
    );
    let (st, e) = s
        .patch(
            path,
            &json!({"templates": {"lead.created": {"text": "hi\n\n{{ lead.nmae }}"}}}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("line 3"),
        "{e}"
    );
    // Nothing was stored.
    let (_, doc) = s.get(path).await;
    assert_eq!(doc["templates"], json!({}));

    // Fields are named; a rule needs its channel.
    let (st, e) = s
        .put(
            path,
            &json!({"rules": {"sla.breached": ["sms"]}}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "rules.sla.breached[0]");
    // The Slack URL passes the address rule at save.
    let (st, e) = s
        .patch(
            path,
            &json!({"channels": {"slack": {"webhook_url": "http://169.254.169.254/latest"}}})
                .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"]["code"], "url_forbidden");

    // Saved, then previewed with the sample lead: variables rendered, HTML escaped.
    let (st, doc) = s
        .patch(
            path,
            &json!({"branding": {"display_name": "Open <Arms>", "accent_color": "#112233"},
                    "templates": {"sla.breached": {"subject": "{{ branding.display_name }}: {{ lead.name }}"}}})
            .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{doc}");
    let (st, p) = s
        .post(
            &format!("{path}/preview"),
            &json!({"event": "sla.breached"}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["subject"], "Open <Arms>: Jane <Sample> Doe");
    assert!(p["text"].as_str().unwrap().contains("4-hour SLA"), "{p}");
    let html = p["html"].as_str().unwrap();
    assert!(
        html.contains("Jane &lt;Sample&gt; Doe") && html.contains("#112233"),
        "{html}"
    );
    assert!(
        !html.contains("<Sample>") && !html.contains("<Arms>"),
        "{html}"
    );
    // A template tried before saving.
    let (st, p) = s
        .post(
            &format!("{path}/preview"),
            &json!({"event": "digest.daily", "template": {"text": "{{ digest.new_leads }} new"}})
                .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["text"], "12 new");
    let (st, e) = s
        .post(
            &format!("{path}/preview"),
            &json!({"event": "digest.daily", "template": {"text": "{{ lead.name }}"}}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "no lead in a digest: {e}");

    // The audit log names the change, never a secret.
    let (_, audit) = s.get("/api/v1/audit?tenant=open-arms").await;
    let text = audit.to_string();
    assert!(text.contains("notifications.updated"), "{text}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_message_new_leads_and_the_daily_digest_go_out_once() {
    let rx = Receiver::start().await;
    let s = TestServer::start_with(flags(&rx)).await;
    let (tenant, key) = s
        .tenant_with_key(r#"{"name":"Open Arms","settings":{"sla_hours":4}}"#)
        .await;
    let slug = tenant["slug"].as_str().unwrap().to_string();
    let path = format!("/api/v1/tenants/{slug}/notifications");
    // t0 is 20:26 UTC: the digest at 21:00 UTC.
    let (st, doc) = s
        .put(
            &path,
            &json!({"channels": {"slack": {"webhook_url": rx.url(SLACK_PATH)}},
                    "rules": {"lead.created": ["slack"], "digest.daily": ["slack"]},
                    "digest": {"time": "21:00", "timezone": "UTC"}})
            .to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{doc}");

    let (st, q) = s
        .post(
            &format!("{path}/test"),
            &json!({"channel": "slack"}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{q}");
    assert_eq!(q["queued"], 1);
    let got = rx.wait_for(SLACK_PATH, 1, WAIT).await;
    assert!(
        got[0].json()["text"]
            .as_str()
            .unwrap()
            .contains("Jane <Sample> Doe")
    );
    let (st, e) = s
        .post(
            &format!("{path}/test"),
            &json!({"channel": "sms"}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    // A new lead is announced once.
    let body = json!({"name": "Nina New", "email": "nina@example.com"}).to_string();
    let (st, r) = s
        .submit(&key, Some("application/json"), body.as_bytes())
        .await;
    assert!(st.is_success(), "{r}");
    let got = rx.wait_for(SLACK_PATH, 2, WAIT).await;
    assert!(
        got[1].json()["text"]
            .as_str()
            .unwrap()
            .contains("New lead for Open Arms: Nina New"),
        "{:?}",
        got[1].json()
    );
    passes_go_by(&s, 3).await;
    assert_eq!(rx.received(SLACK_PATH).len(), 2);

    // The digest at its local time, once that day.
    s.clock.advance(TimeDelta::minutes(40));
    let got = rx.wait_for(SLACK_PATH, 3, WAIT).await;
    let text = got[2].json()["text"].as_str().unwrap().to_string();
    assert!(text.contains("1 new leads"), "{text}");
    passes_go_by(&s, 3).await;
    s.clock.advance(TimeDelta::hours(2));
    passes_go_by(&s, 3).await;
    assert_eq!(rx.received(SLACK_PATH).len(), 3, "one digest a day");
    s.stop().await;
}
