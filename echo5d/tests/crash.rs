//! Durability: the real daemon is killed with SIGKILL in the middle of concurrent ingest;
//! after a restart every lead that was answered 200 is there.

use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(data: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_echo5d"))
        .arg("--data-dir")
        .arg(data)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .args(["--key-rate-limit", "0", "--log", "warn"])
        .env_remove("ECHO5_MASTER_KEY")
        .env_remove("ECHO5_MASTER_KEY_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("daemon not ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_lead_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn(&data, port);
    wait_ready(&base).await;
    let token = std::fs::read_to_string(data.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    let client = reqwest::Client::new();
    let t: Value = client
        .post(format!("{base}/api/v1/tenants"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Open Arms"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let k: Value = client
        .post(format!("{base}/api/v1/tenants/open-arms/keys"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = k["secret"].as_str().unwrap().to_string();
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
        tokio::time::sleep(Duration::from_millis(400)).await;
        child.kill().unwrap(); // SIGKILL: no shutdown, no flush, no checkpoint.
        child.wait().unwrap();
        for w in workers {
            w.await.unwrap();
        }
        let acknowledged = acked.lock().unwrap().len();
        assert!(
            acknowledged > 50 * (round + 1),
            "round {round}: only {acknowledged} leads acknowledged"
        );
        child = spawn(&data, port);
        wait_ready(&base).await;
    }
    // Stop cleanly, then read the database directly.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());

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
