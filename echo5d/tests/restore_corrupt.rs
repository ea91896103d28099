//! `echo5d restore` of a damaged backup, beyond the tampering cases in `maintenance.rs`
//! (a planted row, single flipped bytes, a bare database): truncations at every part of
//! the file, garbage, a backup of another installation (another master key), a format
//! version this build does not read, and a backup that authenticates but holds a damaged
//! database (as a backup of an already-damaged disk would). Each is refused with a message
//! that says what is wrong and a non-zero exit, nothing is left behind, and the daemon then
//! starts on the data it had, including a lead acknowledged after the backup was made.

mod common;

use common::daemon::{Launch, RealDaemon};
use common::real_api::get_json;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Bytes before the database in a backup: magic, version, fingerprint, length.
const HEADER_LEN: usize = 33;
/// The HMAC-SHA256 trailer.
const MAC_LEN: usize = 32;

fn echo5d(args: &[&str]) -> Output {
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
    cmd.output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A data directory `root/name` with tenant "Open Arms" and a lead, a backup of it, then
/// one more lead (after@example.com): (data dir, backup file).
async fn installation(root: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let data = root.join(name);
    let mut d = RealDaemon::start(&data, Launch::new()).await;
    let token = d.token();
    let (_, key) = d.tenant_and_key(&token).await;
    let client = reqwest::Client::new();
    let r = d
        .post_lead(
            &client,
            &key,
            &serde_json::json!({"name": "Before Backup", "email": "before@example.com"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let file = root.join(format!("{name}.e5b"));
    let out = echo5d(&["--data-dir", s(&data), "backup", "--to", s(&file)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = d
        .post_lead(
            &client,
            &key,
            &serde_json::json!({"name": "After Backup", "email": "after@example.com"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(d.stop().success());
    (data, file)
}

/// Rebuilds a backup around `db` (a database image) with a correct header and MAC under
/// the master key of `data`: what `echo5d backup` would have written for that image.
fn authenticated(original: &[u8], data: &Path, db: &[u8]) -> Vec<u8> {
    let hex = std::fs::read_to_string(data.join("master.key")).unwrap();
    let key = echo5_core::crypto::MasterKey::parse(hex.trim(), 1).unwrap();
    let mut out = original[..HEADER_LEN - 8].to_vec();
    out.extend_from_slice(&(db.len() as u64).to_be_bytes());
    out.extend_from_slice(db);
    let mut mac = key.backup_mac();
    mac.update(&out);
    out.extend_from_slice(&mac.finalize());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_backups_are_refused_and_the_database_is_left_as_it_was() {
    let root = tempfile::tempdir().unwrap();
    let (data, file) = installation(root.path(), "main").await;
    let (_, foreign) = installation(root.path(), "other").await;
    let good = std::fs::read(&file).unwrap();
    let db_len = good.len() - HEADER_LEN - MAC_LEN;
    let inner = &good[HEADER_LEN..HEADER_LEN + db_len];
    let db_before = std::fs::read(data.join("echo5.db")).unwrap();

    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    let not_a_backup = "is not an authenticated Echo5 backup";
    let tampered = "failed authentication";
    // Truncations: every part of the file cut.
    cases.push(("empty file", Vec::new(), not_a_backup));
    cases.push(("cut in the magic", good[..4].to_vec(), not_a_backup));
    cases.push((
        "cut in the header",
        good[..HEADER_LEN - 3].to_vec(),
        not_a_backup,
    ));
    cases.push(("header only", good[..HEADER_LEN].to_vec(), not_a_backup));
    cases.push((
        "cut in the database",
        good[..HEADER_LEN + db_len / 2].to_vec(),
        tampered,
    ));
    cases.push((
        "MAC missing",
        good[..good.len() - MAC_LEN].to_vec(),
        tampered,
    ));
    cases.push((
        "MAC cut by one byte",
        good[..good.len() - 1].to_vec(),
        tampered,
    ));
    // The length field lies (the file itself intact).
    let mut longer = good.clone();
    longer[HEADER_LEN - 1] = longer[HEADER_LEN - 1].wrapping_add(1);
    cases.push(("length field off by one", longer, tampered));
    let mut huge = good.clone();
    huge[HEADER_LEN - 8..HEADER_LEN].copy_from_slice(&u64::MAX.to_be_bytes());
    cases.push(("length field at its maximum", huge, tampered));
    // Extra bytes after the MAC.
    let mut appended = good.clone();
    appended.extend_from_slice(b"trailing");
    cases.push(("bytes after the MAC", appended, tampered));
    // Garbage: random bytes of the same size; then the right magic followed by garbage.
    let mut garbage = vec![0u8; good.len()];
    echo5_core::crypto::fill_random(&mut garbage).unwrap();
    cases.push(("random bytes", garbage.clone(), not_a_backup));
    let mut magic_then_garbage = garbage;
    magic_then_garbage[..9].copy_from_slice(&good[..9]);
    cases.push((
        "magic and version, then garbage",
        magic_then_garbage,
        "the master key does not match this backup",
    ));
    // Another format version.
    let mut v2 = good.clone();
    v2[8] = 2;
    cases.push(("format version 2", v2, "format version 2"));
    // A backup of another installation: made under another master key.
    cases.push((
        "another installation's backup",
        std::fs::read(&foreign).unwrap(),
        "the master key does not match this backup",
    ));
    // Authentic, but the database inside is damaged: its header, one page in the middle
    // overwritten, cut in half.
    let mut bad_header = inner.to_vec();
    bad_header[..16].copy_from_slice(b"not a database!\0");
    cases.push((
        "authentic, the SQLite header damaged",
        authenticated(&good, &data, &bad_header),
        "database",
    ));
    let page = u16::from_be_bytes([inner[16], inner[17]]) as usize;
    let pages = db_len / page;
    assert!(pages >= 4, "a database of {pages} pages");
    let mut bad_page = inner.to_vec();
    let mid = pages / 2;
    bad_page[mid * page..(mid + 1) * page].fill(0xA5);
    cases.push((
        "authentic, one page overwritten",
        authenticated(&good, &data, &bad_page),
        "backup",
    ));
    let half = &inner[..(pages / 2) * page];
    cases.push((
        "authentic, the database cut in half",
        authenticated(&good, &data, half),
        // SQLite's own words; the message names the staged copy, not the backup file.
        "database disk image is malformed",
    ));

    let bad = root.path().join("bad.e5b");
    for (what, bytes, expect) in &cases {
        std::fs::write(&bad, bytes).unwrap();
        let out = echo5d(&["--data-dir", s(&data), "restore", "--from", s(&bad)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: restored\n{err}");
        assert_ne!(out.status.code(), Some(0), "{what}");
        assert!(
            err.contains(expect),
            "{what}: expected {expect:?} in\n{err}"
        );
        assert!(
            !err.contains("panicked"),
            "{what}: a panic is not a message\n{err}"
        );
        assert_eq!(
            std::fs::read(data.join("echo5.db")).unwrap(),
            db_before,
            "{what}: the database changed"
        );
        assert!(
            !data.join("echo5.db.restoring").exists(),
            "{what}: a staged file was left"
        );
    }

    // The daemon starts on the data it had: the lead made after the backup is there.
    let mut d = RealDaemon::start(&data, Launch::new()).await;
    let token = d.token();
    let page: Value = get_json(
        &reqwest::Client::new(),
        &d.url("/api/v1/tenants/open-arms/leads?spam=all"),
        &token,
    )
    .await;
    let emails: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["email"].as_str().unwrap())
        .collect();
    assert!(emails.contains(&"after@example.com"), "{page}");
    assert!(emails.contains(&"before@example.com"), "{page}");
    assert!(d.stop().success());
}
