//! Durability: the real daemon is killed with SIGKILL in the middle of concurrent ingest;
//! after a restart every lead that was answered 200 is there.

mod common;

use common::daemon::{Launch, RealDaemon};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_lead_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Restarts keep the port, so the workers' base URL stays valid.
    let mut daemon = RealDaemon::start(
        &data,
        Launch::new().args(&["--key-rate-limit", "0", "--log", "warn"]),
    )
    .await;
    let base = daemon.base.clone();
    let token = daemon.token();
    let (t, key) = daemon.tenant_and_key(&token).await;
    let client = reqwest::Client::new();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();

    for round in 0..3 {
        let mut workers = Vec::new();
        for w in 0..16 {
            let (client, base, key, acked) =
                (client.clone(), base.clone(), key.clone(), acked.clone());
            workers.push(tokio::spawn(async move {
                for i in 0.. {
                    let body = format!(
                        r#"{{"name":"Lead {round}-{w}-{i}","email":"r{round}w{w}i{i}@example.com","message":"{}"}}"#,
                        "care ".repeat(150)
                    );
                    let r = client
                        .post(format!("{base}/api/v1/leads"))
                        .header("x-api-key", &key)
                        .header("content-type", "application/json")
                        .body(body)
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    match r {
                        Ok(resp) if resp.status() == StatusCode::OK => {
                            if let Ok(v) = resp.json::<Value>().await {
                                acked.lock().unwrap().push(v["id"].as_str().unwrap().to_string());
                            }
                        }
                        // The daemon died: this worker is done.
                        _ => return,
                    }
                }
            }));
        }
        // Killed in the middle of ingest: once this round has leads acknowledged, with the
        // workers still posting.
        let want = 50 * (round + 1) + 1;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let got = acked.lock().unwrap().len();
            if got >= want {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "round {round}: only {got} of {want} leads acknowledged after 60 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        daemon.kill(); // SIGKILL: no shutdown, no flush, no checkpoint.
        for w in workers {
            w.await.unwrap();
        }
        let acknowledged = acked.lock().unwrap().len();
        assert!(
            acknowledged > 50 * (round + 1),
            "round {round}: only {acknowledged} leads acknowledged"
        );
        daemon.restart().await;
    }
    // Stop cleanly, then read the database directly.
    assert!(daemon.stop().success());

    let mk = echo5d::datadir::master_key(&data, None, None).unwrap();
    let store = echo5_data::Store::open(
        &data.join("echo5.db"),
        mk,
        Arc::new(echo5_core::clock::SystemClock),
        Default::default(),
    )
    .unwrap();
    let ids = acked.lock().unwrap().clone();
    let mut missing = 0;
    for id in &ids {
        if store.get_lead(id.parse().unwrap()).await.is_err() {
            missing += 1;
        }
    }
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged leads lost",
        ids.len()
    );
    let tid: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    let stored = store.count_leads(tid).await.unwrap() as usize;
    assert!(
        stored >= ids.len(),
        "{stored} stored < {} acknowledged",
        ids.len()
    );
    eprintln!(
        "{} acknowledged, {stored} stored over 3 SIGKILLs",
        ids.len()
    );
}
