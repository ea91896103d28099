//! The real `echo5d` binary: first start, demo data, restart, graceful stop, master key.

mod common;

use common::daemon::{Launch, RealDaemon};
use common::real_api::get_json;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The daemon on `dir` with `extra` arguments and `envs`, stdout and stderr kept for
/// `stop_with_output`; not waited for.
fn start(dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> RealDaemon {
    let launch = envs
        .iter()
        .fold(Launch::new().args(extra).piped(), |l, (k, v)| l.env(k, v));
    RealDaemon::spawn(dir, launch)
}

/// Polls until `acked` holds at least `n` ids; fails after 30 s (the writers hang or fail).
async fn until_acked<T>(acked: &std::sync::Mutex<Vec<T>>, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = acked.lock().unwrap().len();
        if got >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {got} of {n} leads acknowledged after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn tenants(base: &str, token: &str) -> Vec<Value> {
    let v: Value = get_json(
        &reqwest::Client::new(),
        &format!("{base}/api/v1/tenants"),
        token,
    )
    .await;
    v["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn first_start_demo_restart_and_graceful_stop() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut d = start(&data, &["--demo"], &[]);
    d.wait_ready().await;
    let token = std::fs::read_to_string(data.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["admin.token", "master.key"] {
            let mode = std::fs::metadata(data.join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        let mode = std::fs::metadata(&data).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "data dir is owner-only");
    }
    assert_eq!(
        std::fs::read_to_string(data.join("master.key"))
            .unwrap()
            .trim()
            .len(),
        64
    );
    let base = d.base.clone();
    let mut slugs: Vec<String> = tenants(&base, &token)
        .await
        .iter()
        .map(|t| t["slug"].as_str().unwrap().to_string())
        .collect();
    slugs.sort();
    assert_eq!(slugs, ["caring-hearts", "family-first", "open-arms"]);
    let stages = get_json(
        &reqwest::Client::new(),
        &format!("{base}/api/v1/tenants/open-arms/stages"),
        &token,
    )
    .await;
    let leads: u64 = stages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["lead_count"].as_u64().unwrap())
        .sum();
    assert_eq!(leads, 140);

    let (status, out, err) = d.stop_with_output();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}\n{err}");
    assert!(
        out.contains(&token),
        "the first start prints the token once"
    );
    assert!(!err.contains(&token), "the token never reaches the log");
    assert!(err.contains("stopped cleanly"), "{err}");

    // Second start with --demo: same token, nothing seeded twice, token not printed again.
    let mut d = start(&data, &["--demo"], &[]);
    d.wait_ready().await;
    assert_eq!(tenants(&d.base, &token).await.len(), 3);
    let (status, out, err) = d.stop_with_output();
    assert!(status.success());
    assert!(!out.contains(&token));
    assert!(err.contains("already present"), "{err}");
}

#[tokio::test]
async fn master_key_sources_and_a_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = "11".repeat(32);
    let mut d = start(&data, &[], &[("ECHO5_MASTER_KEY", &key)]);
    d.wait_ready().await;
    let (status, _, err) = d.stop_with_output();
    assert!(status.success());
    assert!(
        !data.join("master.key").exists(),
        "an env key means no key file"
    );
    assert!(!err.contains(&key), "the key never reaches the log");

    // The same key from a file works.
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let mut d = start(
        &data,
        &[],
        &[("ECHO5_MASTER_KEY_FILE", key_file.to_str().unwrap())],
    );
    d.wait_ready().await;
    assert!(d.stop_with_output().0.success());

    // A different key is refused at start with a clear message.
    let wrong = "22".repeat(32);
    let mut d = start(&data, &[], &[("ECHO5_MASTER_KEY", &wrong)]);
    let (status, _, err) = d.wait_with_output();
    assert!(!status.success());
    assert!(err.contains("master key does not match"), "{err}");
    assert!(!err.contains(&wrong));

    // Both sources at once is ambiguous: refused.
    let mut d = start(
        &data,
        &[],
        &[
            ("ECHO5_MASTER_KEY", &key),
            ("ECHO5_MASTER_KEY_FILE", key_file.to_str().unwrap()),
        ],
    );
    assert!(!d.wait_with_output().0.success());
    // A malformed key too.
    let mut d = start(&data, &[], &[("ECHO5_MASTER_KEY", "short")]);
    assert!(!d.wait_with_output().0.success());
}

#[tokio::test]
async fn new_admin_token_revokes_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut d = start(&data, &[], &[]);
    d.wait_ready().await;
    let old = std::fs::read_to_string(data.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    assert!(d.stop_with_output().0.success());
    let out = Command::new(env!("CARGO_BIN_EXE_echo5d"))
        .arg("--data-dir")
        .arg(&data)
        .arg("new-admin-token")
        .env_remove("ECHO5_MASTER_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = std::fs::read_to_string(data.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    assert_ne!(new, old);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&new));
    let mut d = start(&data, &[], &[]);
    d.wait_ready().await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/tenants", d.base);
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(&old)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(&new)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert!(d.stop_with_output().0.success());
}

async fn admin(base: &str, token: &str, method: reqwest::Method, path: &str, body: &str) -> Value {
    let resp = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

fn echo5d(data: &Path, args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echo5d"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("ECHO5_MASTER_KEY")
        .env_remove("ECHO5_MASTER_KEY_FILE");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn rotate_master_key_keeps_keys_and_secrets_usable() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut d = start(&data, &[], &[]);
    d.wait_ready().await;
    let token = std::fs::read_to_string(data.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    admin(
        &d.base,
        &token,
        Method::POST,
        "/api/v1/tenants",
        r#"{"name":"Open Arms","settings":{"meta_access_token":"EAAGsecretMETA5555"}}"#,
    )
    .await;
    let key = admin(
        &d.base,
        &token,
        Method::POST,
        "/api/v1/tenants/open-arms/keys",
        "{}",
    )
    .await;
    assert!(d.stop_with_output().0.success());
    let old_master = std::fs::read_to_string(data.join("master.key")).unwrap();

    let out = echo5d(&data, &["rotate-master-key"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 tenant secret(s) and 1 API key(s)"),
        "{stdout}"
    );
    let new_master = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert_ne!(new_master, old_master);
    assert!(!data.join("master.key.new").exists());
    assert!(
        !stdout.contains(new_master.trim()),
        "a data-dir key is not printed"
    );

    let mut d = start(&data, &[], &[]);
    d.wait_ready().await;
    let revealed = admin(
        &d.base,
        &token,
        Method::POST,
        &format!(
            "/api/v1/tenants/open-arms/keys/{}/reveal",
            key["id"].as_str().unwrap()
        ),
        "",
    )
    .await;
    assert_eq!(revealed["secret"], key["secret"]);
    let who = reqwest::Client::new()
        .get(format!("{}/api/v1/key", d.base))
        .header("x-api-key", key["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(who.status(), StatusCode::OK);
    let t = admin(
        &d.base,
        &token,
        Method::GET,
        "/api/v1/tenants/open-arms",
        "",
    )
    .await;
    assert_eq!(t["settings"]["meta_access_token"]["last4"], "5555");
    assert!(d.stop_with_output().0.success());

    // An interrupted rotation (database committed, master.key not yet replaced) is finished
    // at the next start instead of locking the operator out.
    let out = echo5d(&data, &["rotate-master-key"], &[]);
    assert!(out.status.success());
    let newest = std::fs::read_to_string(data.join("master.key")).unwrap();
    std::fs::rename(data.join("master.key"), data.join("master.key.new")).unwrap();
    std::fs::write(data.join("master.key"), &new_master).unwrap();
    let mut d = start(&data, &[], &[]);
    d.wait_ready().await;
    let revealed = admin(
        &d.base,
        &token,
        Method::POST,
        &format!(
            "/api/v1/tenants/open-arms/keys/{}/reveal",
            key["id"].as_str().unwrap()
        ),
        "",
    )
    .await;
    assert_eq!(revealed["secret"], key["secret"]);
    let (status, _, err) = d.stop_with_output();
    assert!(status.success());
    assert!(err.contains("interrupted master-key rotation"), "{err}");
    assert_eq!(
        std::fs::read_to_string(data.join("master.key")).unwrap(),
        newest
    );
}

#[tokio::test]
async fn rotating_an_env_master_key_prints_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let old = "ab".repeat(32);
    let mut d = start(&data, &[], &[("ECHO5_MASTER_KEY", &old)]);
    d.wait_ready().await;
    assert!(d.stop_with_output().0.success());
    let out = echo5d(&data, &["rotate-master-key"], &[("ECHO5_MASTER_KEY", &old)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let new = stdout.lines().last().unwrap().trim().to_string();
    assert_eq!(new.len(), 64, "{stdout}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(&new),
        "not in the log"
    );
    // The old key is refused now, the new one works.
    let mut d = start(&data, &[], &[("ECHO5_MASTER_KEY", &old)]);
    assert!(!d.wait_with_output().0.success());
    let mut d = start(&data, &[], &[("ECHO5_MASTER_KEY", &new)]);
    d.wait_ready().await;
    assert!(d.stop_with_output().0.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_write_load_restores_to_the_same_leads() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut d = start(&data, &["--key-rate-limit", "0"], &[]);
    d.wait_ready().await;
    let token = std::fs::read_to_string(data.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    let t = admin(
        &d.base,
        &token,
        Method::POST,
        "/api/v1/tenants",
        r#"{"name":"Open Arms"}"#,
    )
    .await;
    let key = admin(
        &d.base,
        &token,
        Method::POST,
        "/api/v1/tenants/open-arms/keys",
        "{}",
    )
    .await;
    let key = key["secret"].as_str().unwrap().to_string();
    // Acknowledged leads in the order each worker got its answers: (worker, id).
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(usize, String)>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (base, key, acked, stop) = (d.base.clone(), key.clone(), acked.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                i += 1;
                let r = client
                    .post(format!("{base}/api/v1/leads"))
                    .header("x-api-key", &key)
                    .header("content-type", "application/json")
                    .body(format!(
                        r#"{{"name":"W{w} {i}","email":"w{w}i{i}@example.com"}}"#
                    ))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                let v: Value = r.json().await.unwrap();
                acked
                    .lock()
                    .unwrap()
                    .push((w, v["id"].as_str().unwrap().to_string()));
            }
        }));
    }
    // The backup starts with writes under way...
    until_acked(&acked, 20).await;
    let before_backup: Vec<String> = acked.lock().unwrap().iter().map(|a| a.1.clone()).collect();
    let file = dir.path().join("snapshot.db");
    let out = echo5d(&data, &["backup", "--to", file.to_str().unwrap()], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ...and they go on after it.
    let after_backup = acked.lock().unwrap().len();
    assert!(
        !before_backup.is_empty(),
        "no lead acknowledged before the backup"
    );
    assert!(
        after_backup > before_backup.len(),
        "no lead acknowledged while the backup ran ({after_backup} in all)"
    );
    until_acked(&acked, after_backup + 20).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    let total_acked = acked.lock().unwrap().len();
    assert!(d.stop_with_output().0.success());
    // A second backup to the same file is refused rather than overwriting it.
    assert!(
        !echo5d(&data, &["backup", "--to", file.to_str().unwrap()], &[])
            .status
            .success()
    );

    let out = echo5d(&data, &["restore", "--from", file.to_str().unwrap()], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored_count: usize = String::from_utf8_lossy(&out.stdout)
        .split('(')
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let mk = echo5d::datadir::master_key(&data, None, None).unwrap();
    let store = echo5_data::Store::open(
        &data.join("echo5.db"),
        mk,
        std::sync::Arc::new(echo5_core::clock::SystemClock),
        Default::default(),
    )
    .unwrap();
    let tid: uuid::Uuid = t["id"].as_str().unwrap().parse().unwrap();
    let stored = store.count_leads(tid).await.unwrap() as usize;
    assert_eq!(
        stored, restored_count,
        "the restored database is the backup"
    );
    assert!(
        stored >= before_backup.len() && stored <= total_acked,
        "{} <= {stored} <= {total_acked}",
        before_backup.len()
    );
    for id in &before_backup {
        assert!(
            store.get_lead(id.parse().unwrap()).await.is_ok(),
            "lead {id} acknowledged before the backup is missing"
        );
    }
    // The copy is one moment of the database: each worker's acknowledged leads up to some
    // point, none after it, and nothing that was not acknowledged.
    let acked = acked.lock().unwrap().clone();
    let mut in_copy = 0;
    let mut gap = [false; 4];
    for (w, id) in &acked {
        if store.get_lead(id.parse().unwrap()).await.is_ok() {
            assert!(
                !gap[*w],
                "worker {w}: lead {id} in the copy after one that is not"
            );
            in_copy += 1;
        } else {
            gap[*w] = true;
        }
    }
    assert_eq!(in_copy, stored, "the copy holds exactly acknowledged leads");
    // A backup made under another master key is refused.
    drop(store);
    let other = dir.path().join("other");
    let out = echo5d(&other, &["restore", "--from", file.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no master key"), "{err}");
    assert!(!other.join("master.key").exists(), "no key invented");
    // With a different key it is refused too, naming the mismatch.
    let out = echo5d(
        &other,
        &["restore", "--from", file.to_str().unwrap()],
        &[("ECHO5_MASTER_KEY", &"33".repeat(32))],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("master key does not match"), "{err}");
}

/// The first start on a fresh data directory: one INFO line (where it serves, where its
/// data is), the token printed with what it is for and the console command to run next.
#[tokio::test]
async fn first_start_logs_one_info_line_and_says_what_to_do_next() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let launch = Launch::new()
        .piped()
        .env_remove("ECHO5_LOG")
        .env_remove("RUST_LOG");
    let mut d = RealDaemon::spawn(&data, launch);
    d.wait_ready().await;
    let token = d.token();
    let port = d.port;
    let (status, out, err) = d.stop_with_output();
    assert!(status.success(), "{err}");
    let info: Vec<&str> = err.lines().filter(|l| l.contains(" INFO ")).collect();
    // The start's lines, then the two of the stop (SIGTERM) this test caused.
    let start: Vec<&str> = info
        .iter()
        .copied()
        .filter(|l| !l.contains("shutting down") && !l.contains("stopped cleanly"))
        .collect();
    assert_eq!(
        start.len(),
        1,
        "one INFO line at start, not {}:\n{err}",
        start.len()
    );
    assert!(
        start[0].contains(&format!("127.0.0.1:{port}"))
            && start[0].contains(&data.display().to_string()),
        "{}",
        start[0]
    );
    assert!(out.contains(&token), "the token is printed once:\n{out}");
    assert!(
        out.contains("Authorization: Bearer"),
        "what the token is for:\n{out}"
    );
    assert!(
        out.contains(&format!(
            "echo5-tui --data-dir {} --url http://127.0.0.1:{port}",
            data.display()
        )),
        "the next command:\n{out}"
    );
    assert!(!err.contains(&token), "the token never reaches the log");
}
