//! The outbox against a real database file: messages only for subscribed tenants, written
//! with the change; fan-out to endpoints; secrets that survive a master-key rotation.

mod common;

use common::{Fixture, ingest, key_for, master_key, new_tenant, t0};
use echo5_core::leads::{Lead, new_lead_id};
use echo5_core::webhooks::{NewWebhook, WebhookPatch, secret_key};
use echo5_data::StoreOptions;
use rusqlite::Connection;
use std::collections::HashMap;

fn open() -> Fixture {
    common::open_with(master_key(42), StoreOptions::default())
}

fn lead(tenant: uuid::Uuid, n: u32) -> Lead {
    let mut l = Lead::blank(new_lead_id(t0()), tenant, uuid::Uuid::nil(), t0());
    l.name = Some(format!("Lead {n}"));
    l.email = Some(format!("lead{n}@example.com"));
    l
}

fn messages(f: &Fixture) -> Vec<(String, String, Option<String>)> {
    let c = Connection::open(f.db()).unwrap();
    c.prepare("SELECT tenant_id, event_type, payload FROM outbox_messages ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn hook(url: &str, events: &[&str]) -> NewWebhook {
    NewWebhook {
        url: url.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        description: None,
        active: None,
    }
}

#[tokio::test]
async fn only_subscribed_tenants_get_messages_and_fan_out_makes_deliveries() {
    let f = open();
    let quiet = new_tenant(&f.store, r#"{"name":"Quiet"}"#).await.unwrap();
    let loud = new_tenant(&f.store, r#"{"name":"Loud"}"#).await.unwrap();
    let w = f
        .store
        .create_webhook(
            "admin:test".into(),
            loud.id.into(),
            hook("https://crm.example/in", &["lead.created"]),
        )
        .await
        .unwrap();
    let other = f
        .store
        .create_webhook(
            "admin:test".into(),
            loud.id.into(),
            hook("https://zap.example/in", &["sla.breached"]),
        )
        .await
        .unwrap();
    let qk = key_for(&f.store, quiet.id).await;
    let lk = key_for(&f.store, loud.id).await;
    ingest(&f.store, qk, lead(quiet.id, 1), None).await;
    let l = ingest(&f.store, lk, lead(loud.id, 2), None).await;
    // Spam is nobody's news.
    ingest(&f.store, lk, lead(loud.id, 3), Some("keyword")).await;
    let m = messages(&f);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].0, loud.id.to_string());
    assert_eq!(m[0].1, "lead.created");
    // Ingest writes no JSON: the body is made when it is fanned out.
    assert_eq!(m[0].2, None);

    assert_eq!(f.store.outbox_fan_out().await.unwrap(), 1);
    assert_eq!(
        f.store.outbox_fan_out().await.unwrap(),
        0,
        "the cursor moved"
    );
    let due = f.store.due_deliveries(8, HashMap::new(), 64).await.unwrap();
    assert_eq!(due.len(), 1, "only the endpoint taking lead.created");
    let d = &due[0];
    assert_eq!(d.endpoint_id, w.webhook.id);
    assert_eq!(d.keys.len(), 1);
    assert_eq!(*d.keys[0], *secret_key(&w.secret).unwrap());
    let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(body["type"], "lead.created");
    assert_eq!(body["data"]["id"], l.id.to_string());
    assert_eq!(body["data"]["email"], "lead2@example.com");
    assert!(body["data"].get("raw").is_none());
    // In flight: not handed out again.
    let busy = HashMap::from([(d.endpoint_id, vec![d.message_seq])]);
    assert!(
        f.store
            .due_deliveries(8, busy, 64)
            .await
            .unwrap()
            .is_empty()
    );
    let _ = other;

    // Paused: nothing more is written for the tenant.
    f.store
        .patch_webhook(
            "admin:test".into(),
            loud.id.into(),
            w.webhook.id,
            WebhookPatch {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    ingest(&f.store, lk, lead(loud.id, 4), None).await;
    assert_eq!(messages(&f).len(), 1);
}

#[tokio::test]
async fn webhook_secrets_survive_a_master_key_rotation() {
    let f = open();
    let t = new_tenant(&f.store, r#"{"name":"Rotating"}"#)
        .await
        .unwrap();
    let w = f
        .store
        .create_webhook(
            "admin:test".into(),
            t.id.into(),
            hook("https://crm.example/in", &["*"]),
        )
        .await
        .unwrap();
    let rotated = f
        .store
        .rotate_webhook_secret("admin:test".into(), t.id.into(), w.webhook.id)
        .await
        .unwrap();
    let r = f.store.rotate_master_key(master_key(7)).await.unwrap();
    assert_eq!(r.tenant_secrets, 2, "the secret and the previous one");
    f.store
        .test_webhook(t.id.into(), w.webhook.id)
        .await
        .unwrap();
    let due = f.store.due_deliveries(8, HashMap::new(), 64).await.unwrap();
    assert_eq!(due.len(), 1);
    let keys: Vec<Vec<u8>> = due[0].keys.iter().map(|k| k.to_vec()).collect();
    assert_eq!(
        keys,
        vec![
            secret_key(&rotated.secret).unwrap().to_vec(),
            secret_key(&w.secret).unwrap().to_vec()
        ]
    );
}

fn count(f: &Fixture, sql: &str) -> i64 {
    Connection::open(f.db())
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// Sends every due delivery, each ending as `verdict` says for its (endpoint, seq).
async fn attempt_all(
    f: &Fixture,
    verdict: impl Fn(uuid::Uuid, i64) -> Option<echo5_data::deliveries::AttemptOutcome>,
) {
    use echo5_data::deliveries::AttemptRecord;
    f.store.outbox_fan_out().await.unwrap();
    for d in f.store.due_deliveries(8, HashMap::new(), 64).await.unwrap() {
        if let Some(outcome) = verdict(d.endpoint_id, d.message_seq) {
            f.store
                .finish_attempt(AttemptRecord {
                    endpoint_id: d.endpoint_id,
                    message_seq: d.message_seq,
                    at: f.store.now(),
                    status_code: Some(200),
                    duration_ms: 1,
                    response: String::new(),
                    error: None,
                    outcome,
                })
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn pruning_keeps_what_is_pending_young_or_newest_and_removes_the_rest() {
    use chrono::TimeDelta;
    use echo5_core::outbox_tasks::{MailTask, NewTask, TaskOutcome, TaskStatus};
    use echo5_data::deliveries::AttemptOutcome;
    use echo5_data::outbox_tasks::TaskFilter;

    let f = open();
    let t = new_tenant(&f.store, r#"{"name":"Pruned"}"#).await.unwrap();
    let a = f
        .store
        .create_webhook(
            "admin:test".into(),
            t.id.into(),
            hook("https://a.example/in", &["*"]),
        )
        .await
        .unwrap()
        .webhook
        .id;
    let b = f
        .store
        .create_webhook(
            "admin:test".into(),
            t.id.into(),
            hook("https://b.example/in", &["*"]),
        )
        .await
        .unwrap()
        .webhook
        .id;
    let k = key_for(&f.store, t.id).await;
    for n in 1..=3 {
        ingest(&f.store, k, lead(t.id, n), None).await;
    }
    // A takes all three; B takes the first, gives up on the second, keeps retrying the third.
    attempt_all(&f, |ep, seq| {
        Some(match (ep == b, seq) {
            (true, 2) => AttemptOutcome::GaveUp,
            (true, 3) => AttemptOutcome::Retry(t0() + TimeDelta::days(365)),
            _ => AttemptOutcome::Succeeded,
        })
    })
    .await;
    let mail = |n: u32| {
        NewTask::mail(
            &MailTask {
                to: format!("m{n}@example.com"),
                subject: "s".into(),
                text: "t".into(),
            },
            t0(),
        )
    };
    let sent = f.store.enqueue_task(mail(1)).await.unwrap().unwrap();
    let keyed = f
        .store
        .enqueue_task(mail(2).dedup("k"))
        .await
        .unwrap()
        .unwrap();
    let waiting = f.store.enqueue_task(mail(3)).await.unwrap().unwrap();
    f.store
        .finish_task(sent, TaskOutcome::Succeeded)
        .await
        .unwrap();
    f.store
        .finish_task(
            keyed,
            TaskOutcome::Failed {
                error: "550".into(),
            },
        )
        .await
        .unwrap();

    f.clock.advance(TimeDelta::days(31));
    ingest(&f.store, k, lead(t.id, 4), None).await;
    attempt_all(&f, |_, seq| (seq == 4).then_some(AttemptOutcome::Succeeded)).await;
    assert_eq!(count(&f, "SELECT count(*) FROM outbox_attempts"), 8);

    let p = f
        .store
        .prune_outbox(f.store.now() - TimeDelta::days(30))
        .await
        .unwrap();
    assert_eq!(p.messages, 2, "{p:?}");
    assert_eq!(p.tasks, 2, "{p:?}");
    let seqs = |sql: &str| -> Vec<i64> {
        Connection::open(f.db())
            .unwrap()
            .prepare(sql)
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(seqs("SELECT seq FROM outbox_messages ORDER BY seq"), [3, 4]);
    assert_eq!(
        seqs("SELECT DISTINCT message_seq FROM outbox_deliveries ORDER BY 1"),
        [3, 4]
    );
    // A's record of message 3 goes with B's pending one: the message is kept whole.
    assert_eq!(count(&f, "SELECT count(*) FROM outbox_attempts"), 4);
    let page = f
        .store
        .list_deliveries(t.id.into(), a, None, None, None)
        .await
        .unwrap();
    assert_eq!(page.data.len(), 2);
    let tasks = f.store.tasks(TaskFilter::default(), 10).await.unwrap();
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t.id != sent));
    let k_task = tasks.iter().find(|t| t.id == keyed).unwrap();
    assert_eq!(k_task.payload, serde_json::json!({}));
    assert_eq!(
        f.store.enqueue_task(mail(5).dedup("k")).await.unwrap(),
        None
    );
    let w = tasks.iter().find(|t| t.id == waiting).unwrap();
    assert_eq!(w.status, TaskStatus::Pending);
    assert_eq!(w.payload["to"], "m3@example.com");

    // Everything finished and old: the newest message stays, so no seq is ever reused.
    attempt_all(&f, |_, _| Some(AttemptOutcome::Succeeded)).await;
    f.clock.advance(TimeDelta::days(400));
    attempt_all(&f, |_, _| Some(AttemptOutcome::Succeeded)).await;
    let p = f
        .store
        .prune_outbox(f.store.now() - TimeDelta::days(30))
        .await
        .unwrap();
    assert_eq!(p.messages, 1, "{p:?}");
    assert_eq!(seqs("SELECT seq FROM outbox_messages"), [4]);
    ingest(&f.store, k, lead(t.id, 5), None).await;
    assert_eq!(seqs("SELECT seq FROM outbox_messages ORDER BY seq"), [4, 5]);
    assert_eq!(
        f.store.outbox_fan_out().await.unwrap(),
        1,
        "the new message fans out"
    );
}
