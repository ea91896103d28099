//! The maintenance commands (`new-admin-token`, `rotate-master-key`, `backup`, `restore`)
//! run as the real `echo5d` binary beside a real serving daemon, and the handling of
//! secrets given on the command line.

mod common;

use common::daemon::{Launch, RealDaemon};
use common::real_api::get_json;
use common::smtp::SmtpSink;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// `echo5d ARGS` with nothing from the caller's environment that names a data directory
/// or a secret; `envs` added.
fn echo5d(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(common::daemon::daemon_bin());
    cmd.args(args);
    for k in [
        "ECHO5_DATA_DIR",
        "ECHO5_MASTER_KEY",
        "ECHO5_MASTER_KEY_FILE",
        "ECHO5_SMTP_URL",
        "ECHO5_SMTP_URL_FILE",
        "ECHO5_DEMO",
    ] {
        cmd.env_remove(k);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// `echo5d ARGS` expected to exit by itself within 30 s (killed and failed otherwise):
/// (status, stderr).
fn run_bounded(args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(common::daemon::daemon_bin())
        .args(args)
        .env_remove("ECHO5_MASTER_KEY")
        .env_remove("ECHO5_MASTER_KEY_FILE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("echo5d {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (out.status, text(&out.stderr))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

async fn status_with(base: &str, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/tenants"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn submit(d: &RealDaemon, key: &str, email: &str) -> String {
    let r = d
        .post_lead(
            &reqwest::Client::new(),
            key,
            &json!({"name": "Jane Doe", "email": email}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

async fn lead_status(d: &RealDaemon, token: &str, id: &str) -> StatusCode {
    reqwest::Client::new()
        .get(d.url(&format!("/api/v1/leads/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn reveal(d: &RealDaemon, token: &str, key_id: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(d.url(&format!("/api/v1/tenants/open-arms/keys/{key_id}/reveal")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn key_id(d: &RealDaemon, token: &str) -> String {
    let v: Value = get_json(
        &reqwest::Client::new(),
        &d.url("/api/v1/tenants/open-arms/keys"),
        token,
    )
    .await;
    v["data"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_admin_token_while_serving_revokes_the_old_one_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = RealDaemon::start(&data, Launch::new()).await;
    let old = d.token();
    assert_eq!(status_with(&d.base, &old).await, StatusCode::OK);

    let out = echo5d(&["--data-dir", s(&data), "new-admin-token"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let done = Instant::now();
    let new = d.token();
    assert_ne!(new, old);
    assert!(text(&out.stdout).contains(&new));

    // The leaked token stops working without a restart, and the new one works.
    let mut revoked_after = None;
    while done.elapsed() < Duration::from_secs(1) {
        if status_with(&d.base, &old).await == StatusCode::UNAUTHORIZED {
            revoked_after = Some(done.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let revoked_after = revoked_after.expect("the old admin token still works 1 s later");
    eprintln!("old admin token refused {revoked_after:?} after new-admin-token exited");
    assert_eq!(status_with(&d.base, &new).await, StatusCode::OK);
    // And it stays refused.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(status_with(&d.base, &old).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_and_restore_are_refused_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut d = RealDaemon::start(&data, Launch::new().args(&["--key-rate-limit", "0"])).await;
    let token = d.token();
    let (_, key) = d.tenant_and_key(&token).await;
    let kid = key_id(&d, &token).await;
    let before = submit(&d, &key, "before@example.com").await;
    // A backup is fine while serving.
    let file = dir.path().join("snapshot.e5b");
    let out = echo5d(&["--data-dir", s(&data), "backup", "--to", s(&file)], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let master = std::fs::read_to_string(data.join("master.key")).unwrap();

    let out = echo5d(&["--data-dir", s(&data), "rotate-master-key"], &[]);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "rotation ran under a serving daemon");
    assert!(
        err.contains("rotate-master-key refused")
            && err.contains(&format!("pid {}", d.pid()))
            && err.contains("stop it first"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("master.key")).unwrap(),
        master
    );
    assert!(!data.join("master.key.new").exists());
    let (status, revealed) = reveal(&d, &token, &kid).await;
    assert_eq!(status, StatusCode::OK, "{revealed}");
    assert_eq!(revealed["secret"], key);

    // The lock is not a file that can be removed to get around it.
    for f in std::fs::read_dir(&data).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("echo5d.") {
            std::fs::remove_file(data.join(name)).unwrap();
        }
    }
    let out = echo5d(
        &["--data-dir", s(&data), "restore", "--from", s(&file)],
        &[],
    );
    let err = text(&out.stderr);
    assert!(!out.status.success(), "restore ran under a serving daemon");
    assert!(
        err.contains("restore refused") && err.contains("stop it first"),
        "{err}"
    );
    assert!(!data.join("echo5.db.restoring").exists());
    // A lead acknowledged after the refused restore survives the restart: the database
    // under the daemon was never swapped.
    let after = submit(&d, &key, "after@example.com").await;
    assert_eq!(lead_status(&d, &token, &before).await, StatusCode::OK);
    assert!(d.stop().success());
    d.restart().await;
    assert_eq!(lead_status(&d, &token, &before).await, StatusCode::OK);
    assert_eq!(lead_status(&d, &token, &after).await, StatusCode::OK);
    let (status, revealed) = reveal(&d, &token, &kid).await;
    assert_eq!(status, StatusCode::OK, "{revealed}");

    // A second daemon on the same directory is refused too (and exits by itself).
    let port = common::daemon::free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    let (status, err) = run_bounded(&["--data-dir", s(&data), "--listen", &listen]);
    assert!(!status.success());
    assert!(
        err.contains("cannot serve") && err.contains("stop it first"),
        "{err}"
    );

    // Stopped, both run.
    assert!(d.stop().success());
    let out = echo5d(
        &["--data-dir", s(&data), "restore", "--from", s(&file)],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = echo5d(&["--data-dir", s(&data), "rotate-master-key"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn backup_of_a_missing_or_empty_data_dir_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let to = dir.path().join("b.e5b");
    let out = echo5d(&["--data-dir", s(&missing), "backup", "--to", s(&to)], &[]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("nothing to back up"),
        "{}",
        text(&out.stderr)
    );
    assert!(!missing.exists(), "the data directory was created");
    assert!(!to.exists());

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = echo5d(&["--data-dir", s(&empty), "backup", "--to", s(&to)], &[]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "files were created in an empty data directory"
    );
    assert!(!to.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_after_the_command_work_and_show_in_its_help() {
    for cmd in ["backup", "restore", "rotate-master-key", "new-admin-token"] {
        let out = echo5d(&[cmd, "--help"], &[]);
        assert!(out.status.success());
        let help = text(&out.stdout);
        for flag in ["--data-dir", "--master-key-file", "--master-key", "--log"] {
            assert!(help.contains(flag), "`{cmd} --help` lacks {flag}:\n{help}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut d = RealDaemon::start(&data, Launch::new()).await;
    assert!(d.stop().success());
    let to = dir.path().join("after.e5b");
    let out = echo5d(&["backup", "--data-dir", s(&data), "--to", s(&to)], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(to.is_file());
    // The master key after the command, too (a data directory whose key is not in it).
    let key = std::fs::read_to_string(data.join("master.key")).unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, &key).unwrap();
    std::fs::remove_file(data.join("master.key")).unwrap();
    let to = dir.path().join("keyfile.e5b");
    let out = echo5d(
        &[
            "backup",
            "--to",
            s(&to),
            "--data-dir",
            s(&data),
            "--master-key-file",
            s(&key_file),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!data.join("master.key").exists(), "no key invented");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_file_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = RealDaemon::start(&data, Launch::new()).await;
    let to = dir.path().join("fresh.e5b");
    let out = echo5d(&["--data-dir", s(&data), "backup", "--to", s(&to)], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mode = std::fs::metadata(&to).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "backup file mode {mode:o}");
    drop(d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_never_writes_through_an_existing_file_or_symlink() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = RealDaemon::start(&data, Launch::new()).await;
    let backup = |to: &Path| echo5d(&["--data-dir", s(&data), "backup", "--to", s(to)], &[]);

    // An existing file is left as it was.
    let existing = dir.path().join("existing");
    std::fs::write(&existing, "keep me").unwrap();
    let out = backup(&existing);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");

    // A symbolic link to a file, and a dangling one: nothing is written through either.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "victim").unwrap();
    let link = dir.path().join("link.e5b");
    symlink(&victim, &link).unwrap();
    assert!(!backup(&link).status.success());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim");
    let planted = dir.path().join("planted");
    let dangling = dir.path().join("dangling.e5b");
    symlink(&planted, &dangling).unwrap();
    let out = backup(&dangling);
    assert!(!out.status.success());
    assert!(
        !planted.exists(),
        "the backup was written through a symlink"
    );
    // No temporary copy is left in the data directory.
    let leftovers: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("backup"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    drop(d);
}

/// Adds an admin token row to the database inside `file`, as someone with write access to
/// the backup but not the master key would: a bare SQLite file is edited in place; the
/// authenticated format (33-byte header whose last 8 bytes are the database length, the
/// database, a 32-byte MAC) is rebuilt around the edited database with the MAC it had.
fn inject_admin_token(file: &Path, token: &str) {
    let edit = |db: &Path| {
        let c = rusqlite::Connection::open(db).unwrap();
        c.execute(
            "INSERT INTO admin_tokens(id, hash, label, created_at) VALUES (?1, ?2, 'planted', 0)",
            rusqlite::params![
                uuid::Uuid::now_v7().to_string(),
                echo5_core::crypto::sha256(token.as_bytes()).as_slice()
            ],
        )
        .unwrap();
        c.execute_batch("PRAGMA journal_mode = DELETE").unwrap();
    };
    let bytes = std::fs::read(file).unwrap();
    if bytes.starts_with(b"SQLite format 3\0") {
        edit(file);
        return;
    }
    let len = u64::from_be_bytes(bytes[25..33].try_into().unwrap()) as usize;
    let inner = file.with_extension("inner.db");
    std::fs::write(&inner, &bytes[33..33 + len]).unwrap();
    edit(&inner);
    let edited = std::fs::read(&inner).unwrap();
    let mut out = bytes[..25].to_vec();
    out.extend_from_slice(&(edited.len() as u64).to_be_bytes());
    out.extend_from_slice(&edited);
    out.extend_from_slice(&bytes[bytes.len() - 32..]);
    std::fs::write(file, out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_tampered_or_unauthenticated_backup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut d = RealDaemon::start(&data, Launch::new()).await;
    let token = d.token();
    d.tenant_and_key(&token).await;
    let file = dir.path().join("good.e5b");
    let out = echo5d(&["--data-dir", s(&data), "backup", "--to", s(&file)], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(d.stop().success());
    let db_before = std::fs::read(data.join("echo5.db")).unwrap();
    let restore =
        |from: &Path| echo5d(&["--data-dir", s(&data), "restore", "--from", s(from)], &[]);

    // A planted admin token.
    let planted = "e5a_PlantedTokenPlantedTokenPlantedToken1234";
    let forged = dir.path().join("forged.e5b");
    std::fs::copy(&file, &forged).unwrap();
    inject_admin_token(&forged, planted);
    let out = restore(&forged);
    let err = text(&out.stderr);
    assert!(
        !out.status.success(),
        "a backup with a planted token was restored"
    );
    assert!(err.contains("failed authentication"), "{err}");
    assert_eq!(std::fs::read(data.join("echo5.db")).unwrap(), db_before);

    // One byte flipped, anywhere in the middle.
    let bytes = std::fs::read(&file).unwrap();
    let flipped = dir.path().join("flipped.e5b");
    for at in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 5] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        std::fs::write(&flipped, &bad).unwrap();
        let out = restore(&flipped);
        assert!(!out.status.success(), "byte {at} flipped, still restored");
        assert!(
            text(&out.stderr).contains("failed authentication"),
            "{}",
            text(&out.stderr)
        );
    }

    // A bare database (no authentication at all) is refused for what it is.
    let bare = dir.path().join("bare.db");
    std::fs::copy(data.join("echo5.db"), &bare).unwrap();
    let out = restore(&bare);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not an authenticated Echo5 backup"),
        "{}",
        text(&out.stderr)
    );
    assert!(!data.join("echo5.db.restoring").exists());

    // The untouched backup restores, and the planted token never worked.
    let out = restore(&file);
    assert!(out.status.success(), "{}", text(&out.stderr));
    d.restart().await;
    assert_eq!(status_with(&d.base, &token).await, StatusCode::OK);
    assert_eq!(
        status_with(&d.base, planted).await,
        StatusCode::UNAUTHORIZED
    );
    let tenants: Value = get_json(&reqwest::Client::new(), &d.url("/api/v1/tenants"), &token).await;
    assert_eq!(tenants["data"][0]["slug"], "open-arms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_given_as_flags_are_warned_about_and_file_twins_work() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = "5e".repeat(32);

    // --master-key on the command line: a warning that names the file twin, not the key.
    let mut d = RealDaemon::start(
        &data,
        Launch::new()
            .args(&[
                "--master-key",
                &key,
                "--smtp-url",
                "smtp://alerts:Hunter2Pass@127.0.0.1:1",
            ])
            .stderr_piped(),
    )
    .await;
    let (status, _, err) = d.stop_with_output();
    assert!(status.success(), "{err}");
    assert!(
        err.contains("--master-key on the command line") && err.contains("--master-key-file"),
        "{err}"
    );
    assert!(err.contains("--smtp-url-file"), "{err}");
    assert!(!err.contains(&key) && !err.contains("Hunter2Pass"), "{err}");

    // The same values from the environment: no warning.
    let mut d = RealDaemon::start(
        &data,
        Launch::new()
            .env("ECHO5_MASTER_KEY", &key)
            .env("ECHO5_SMTP_URL", "smtp://alerts:Hunter2Pass@127.0.0.1:1")
            .stderr_piped(),
    )
    .await;
    let (_, _, err) = d.stop_with_output();
    assert!(!err.contains("visible to every local user"), "{err}");

    // After a command too.
    let out = echo5d(
        &[
            "new-admin-token",
            "--data-dir",
            s(&data),
            "--master-key",
            &key,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--master-key-file"));

    // --smtp-url-file: the alert for a lead past its SLA reaches the server named in it.
    let smtp = SmtpSink::start().await;
    let url_file = dir.path().join("smtp-url");
    std::fs::write(&url_file, format!("{}\n", smtp.url())).unwrap();
    let key_file = dir.path().join("master-key");
    std::fs::write(&key_file, &key).unwrap();
    let mut d = RealDaemon::start(
        &data,
        Launch::new()
            .args(&[
                "--smtp-url-file",
                s(&url_file),
                "--master-key-file",
                s(&key_file),
                "--sla-interval",
                "1",
            ])
            .stderr_piped(),
    )
    .await;
    let token = d.token();
    let client = reqwest::Client::new();
    let r = client
        .post(d.url("/api/v1/tenants"))
        .bearer_auth(&token)
        .json(&json!({"name": "Open Arms", "settings": {"sla_hours": 4, "manager_email": "boss@openarms.example"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created_at = (chrono::Utc::now() - chrono::TimeDelta::hours(5)).to_rfc3339();
    let r = client
        .post(d.url("/api/v1/tenants/open-arms/leads"))
        .bearer_auth(&token)
        .json(&json!({"name": "Jane Waiting", "created_at": created_at}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let deadline = Instant::now() + Duration::from_secs(20);
    while smtp.mails().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(smtp.mails().len(), 1, "no alert through the SMTP URL file");
    let (_, _, err) = d.stop_with_output();
    assert!(!err.contains("visible to every local user"), "{err}");

    // Both the URL and its file: refused.
    let out = echo5d(
        &["--data-dir", s(&data), "--master-key-file", s(&key_file)],
        &[
            ("ECHO5_SMTP_URL", "smtp://127.0.0.1:1"),
            ("ECHO5_SMTP_URL_FILE", s(&url_file)),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("only one"),
        "{}",
        text(&out.stderr)
    );
}
