//! The outbox survives SIGKILL: the real daemon is killed in the middle of ingest with a
//! subscribed endpoint, restarted, and every lead it answered 200 reaches the receiver.

mod common;

use common::daemon::{Launch, RealDaemon};
use common::receiver::Receiver;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_lead_reaches_the_receiver_across_sigkills() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rx = Receiver::start().await;
    let mut daemon = RealDaemon::start(
        &data,
        Launch::new().args(&[
            "--key-rate-limit",
            "0",
            "--log",
            "warn",
            "--outbound-allow-cidr",
            "127.0.0.0/8",
        ]),
    )
    .await;
    let base = daemon.base.clone();
    let token = daemon.token();
    let (t, key) = daemon.tenant_and_key(&token).await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!(
            "{base}/api/v1/tenants/{}/webhooks",
            t["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .json(&json!({"url": rx.url("/crm"), "events": ["lead.created"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();

    for round in 0..3 {
        let mut workers = Vec::new();
        for w in 0..16 {
            let (client, base, key, acked) =
                (client.clone(), base.clone(), key.clone(), acked.clone());
            workers.push(tokio::spawn(async move {
                for i in 0.. {
                    let body = json!({
                        "name": format!("Lead {round}-{w}-{i}"),
                        "email": format!("r{round}w{w}i{i}@example.com"),
                    });
                    let r = client
                        .post(format!("{base}/api/v1/leads"))
                        .header("x-api-key", &key)
                        .json(&body)
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    match r {
                        Ok(resp) if resp.status() == StatusCode::OK => {
                            if let Ok(v) = resp.json::<Value>().await {
                                acked
                                    .lock()
                                    .unwrap()
                                    .push(v["id"].as_str().unwrap().to_string());
                            }
                        }
                        _ => return,
                    }
                }
            }));
        }
        let want = 40 * (round + 1) + 1;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while acked.lock().unwrap().len() < want {
            assert!(
                std::time::Instant::now() < deadline,
                "round {round}: too few leads"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        daemon.kill();
        for w in workers {
            w.await.unwrap();
        }
        daemon.restart().await;
    }
    let want: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let seen = loop {
        let seen: BTreeSet<String> = rx
            .received("/crm")
            .iter()
            .filter_map(|r| r.json()["data"]["id"].as_str().map(str::to_string))
            .collect();
        if want.is_subset(&seen) || std::time::Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let missing: Vec<&String> = want.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged leads never reached the receiver: {:?}",
        missing.len(),
        want.len(),
        &missing[..missing.len().min(5)]
    );
    // At least once: a repeat carries the same webhook-id as the first send.
    let all = rx.received("/crm");
    let mut ids_by_lead = std::collections::HashMap::<String, BTreeSet<String>>::new();
    for r in &all {
        if let Some(l) = r.json()["data"]["id"].as_str() {
            ids_by_lead
                .entry(l.to_string())
                .or_default()
                .insert(r.header("webhook-id"));
        }
    }
    assert!(ids_by_lead.values().all(|ids| ids.len() == 1));
    eprintln!(
        "{} acknowledged, {} deliveries received ({} repeats) over 3 SIGKILLs",
        want.len(),
        all.len(),
        all.len() - seen.len()
    );
    assert!(daemon.stop().success());
}
