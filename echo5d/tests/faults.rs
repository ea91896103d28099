//! Fault behaviour, against the real `echo5d` binary:
//!
//! - the filesystem under the database fills up: a small tmpfs mounted by the test when it
//!   runs as root (`full_filesystem`), and one mounted without root inside a user namespace
//!   of the test's own (`full_filesystem_unprivileged`); `.ci/run` sets `ECHO5_REQUIRE_TMPFS`
//!   and `ECHO5_REQUIRE_USERNS_TMPFS` where the machine allows each, so neither can pass there
//!   without its tmpfs;
//! - another process holds the database's write lock.
//!
//! In both, ingest answers 200 or 503 + `Retry-After` with a JSON error (never a 500, a hang
//! or a dropped connection), `/readyz` says 503 while the fault lasts and `/healthz` stays
//! 200, the daemon recovers by itself once the fault is gone, and every lead that was
//! answered 200 — before, during and after — is stored, also after a restart.

mod common;

use common::daemon::{Launch, RealDaemon};
use common::real_api::get_json;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// No single request may take longer than this. WordPress' `wp_remote_post` gives up after
/// 5 s by default, so a 503 must come well before that.
const MAX_LATENCY: Duration = Duration::from_secs(5);
/// Generous bounds for a 2-core machine shared with other builds.
const FAULT_SEEN_WITHIN: Duration = Duration::from_secs(20);
const RECOVER_WITHIN: Duration = Duration::from_secs(20);
/// Beyond `--data-dir` and `--listen`.
const DAEMON_ARGS: &[&str] = &[
    "--key-rate-limit",
    "0",
    "--log",
    "info",
    "--db-readers",
    "2",
];

/// `1` makes `full_filesystem` fail when it cannot mount its tmpfs, instead of running
/// the write-error scenario in its place.
const REQUIRE_TMPFS: &str = "ECHO5_REQUIRE_TMPFS";
/// `1` makes `full_filesystem_unprivileged` fail when it cannot mount its tmpfs in a user
/// namespace, instead of saying so and passing.
const REQUIRE_USERNS_TMPFS: &str = "ECHO5_REQUIRE_USERNS_TMPFS";

fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

/// A tmpfs mounted for one test; lazily unmounted on drop, also when the test fails.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("tmpfs")
            .arg(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Tmpfs {
                dir: dir.to_path_buf(),
            })
        } else {
            Err(format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A tmpfs mounted without privileges: `unshare` gives a holder process a user namespace
/// (this user mapped to root in it) and a mount namespace of its own, mounts the tmpfs on
/// `dir` there and sleeps. Only processes in those namespaces see the mount at `dir`: the
/// daemon is started inside them (`Launch::in_namespaces_of`); this process reaches the same
/// files through the holder's `/proc/<pid>/root` (`view`). Killing the holder on drop
/// unmounts it once the daemon is gone too.
struct UserTmpfs {
    holder: std::process::Child,
    dir: PathBuf,
}

impl UserTmpfs {
    fn mount(dir: &Path, size: &str) -> Result<UserTmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let mut holder = Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "--propagation", "private"])
            .args(["sh", "-c"])
            .arg(r#"mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" && echo mounted && exec sleep 100000"#)
            .arg("sh")
            .arg(dir)
            .arg(size)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        let mut line = String::new();
        let stdout = holder.stdout.take().expect("piped");
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        if line.trim() == "mounted" {
            return Ok(UserTmpfs {
                holder,
                dir: dir.to_path_buf(),
            });
        }
        let _ = holder.kill();
        let out = holder
            .wait_with_output()
            .map_err(|e| format!("unshare: {e}"))?;
        Err(format!(
            "unshare --user --mount + mount -t tmpfs failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }

    fn pid(&self) -> u32 {
        self.holder.id()
    }

    /// The mounted directory as this process (outside the namespaces) reaches it.
    fn view(&self) -> PathBuf {
        Path::new(&format!("/proc/{}/root", self.pid()))
            .join(self.dir.strip_prefix("/").expect("an absolute path"))
    }
}

impl Drop for UserTmpfs {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// What one ingest request got.
#[derive(Debug)]
enum Answer {
    Stored(String),
    /// 503 with `Retry-After` and this error code.
    Unavailable(String),
    /// Anything else: a failure of the test.
    Wrong(String),
}

/// Every ingest answer, by phase.
#[derive(Default)]
struct Tally {
    acked: Vec<String>,
    /// (phase, status or code) -> count
    counts: BTreeMap<(u8, String), usize>,
    wrong: Vec<String>,
    max_latency: Duration,
}

impl Tally {
    fn record(&mut self, phase: u8, a: &Answer, took: Duration) {
        self.max_latency = self.max_latency.max(took);
        let key = match a {
            Answer::Stored(id) => {
                self.acked.push(id.clone());
                "200".to_string()
            }
            Answer::Unavailable(code) => format!("503 {code}"),
            Answer::Wrong(w) => {
                self.wrong.push(format!("phase {phase}: {w}"));
                "wrong".to_string()
            }
        };
        *self.counts.entry((phase, key)).or_default() += 1;
    }

    fn count(&self, phase: u8, key: &str) -> usize {
        self.counts
            .get(&(phase, key.to_string()))
            .copied()
            .unwrap_or(0)
    }
}

async fn post_lead(client: &reqwest::Client, d_base: &str, key: &str, tag: &str) -> Answer {
    // ~1.5 KiB per lead (the raw body is kept beside the parsed fields), so a few MiB fill
    // quickly once the filler leaves no room.
    let body = json!({
        "name": format!("Lead {tag}"),
        "email": format!("{tag}@example.com"),
        "message": "we would like to talk about care for our mother ".repeat(15),
    });
    let r = client
        .post(format!("{d_base}/api/v1/leads"))
        .header("x-api-key", key)
        .json(&body)
        .timeout(Duration::from_secs(20))
        .send()
        .await;
    let r = match r {
        Ok(r) => r,
        Err(e) => return Answer::Wrong(format!("transport error (hang or dropped): {e}")),
    };
    let status = r.status();
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let text = r.text().await.unwrap_or_default();
    let v: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => return Answer::Wrong(format!("{status} with a non-JSON body: {text}")),
    };
    match status {
        StatusCode::OK => match v["id"].as_str() {
            Some(id) => Answer::Stored(id.to_string()),
            None => Answer::Wrong(format!("200 without an id: {v}")),
        },
        StatusCode::SERVICE_UNAVAILABLE => {
            let code = v["error"]["code"].as_str().unwrap_or("").to_string();
            let msg_ok = v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty());
            match retry_after {
                Some(s) if (1..=60).contains(&s) && !code.is_empty() && msg_ok => {
                    Answer::Unavailable(code)
                }
                _ => Answer::Wrong(format!("503 without Retry-After or error body: {v}")),
            }
        }
        other => Answer::Wrong(format!("{other}: {v}")),
    }
}

/// Workers posting leads until stopped, each answer tallied under the current phase.
struct Load {
    stop: Arc<AtomicBool>,
    phase: Arc<AtomicU8>,
    tally: Arc<Mutex<Tally>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(base: &str, key: &str, workers: usize, prefix: &str) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let phase = Arc::new(AtomicU8::new(BEFORE));
        let tally: Arc<Mutex<Tally>> = Arc::default();
        let client = reqwest::Client::new();
        let handles = (0..workers)
            .map(|w| {
                let (stop, phase, tally, client) =
                    (stop.clone(), phase.clone(), tally.clone(), client.clone());
                let (base, key, prefix) = (base.to_string(), key.to_string(), prefix.to_string());
                tokio::spawn(async move {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let p = phase.load(Ordering::Relaxed);
                        let t = Instant::now();
                        let a = post_lead(&client, &base, &key, &format!("{prefix}w{w}i{i}")).await;
                        let took = t.elapsed();
                        let unavailable = matches!(a, Answer::Unavailable(_));
                        tally.lock().unwrap().record(p, &a, took);
                        i += 1;
                        if unavailable {
                            // A polite client backs off a little on 503.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            phase,
            tally,
            workers: handles,
        }
    }

    /// Polls until at least `n` answers `key` were tallied in `phase`; fails after
    /// `FAULT_SEEN_WITHIN` (a hang, not a slow machine).
    async fn wait_for(&self, phase: u8, key: &str, n: usize, name: &str) {
        let deadline = Instant::now() + FAULT_SEEN_WITHIN;
        loop {
            let got = self.tally.lock().unwrap().count(phase, key);
            if got >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "[{name}] only {got} answers {key} in phase {phase} after {FAULT_SEEN_WITHIN:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn set_phase(&self, p: u8) {
        self.phase.store(p, Ordering::Relaxed);
    }

    async fn finish(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            w.await.unwrap();
        }
        Arc::try_unwrap(self.tally)
            .ok()
            .expect("workers done")
            .into_inner()
            .unwrap()
    }
}

/// `/readyz` status and error code.
async fn readyz(client: &reqwest::Client, d: &RealDaemon) -> (StatusCode, String, Duration) {
    let t = Instant::now();
    let r = client
        .get(d.url("/readyz"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("readyz answers");
    let status = r.status();
    let has_retry = r.headers().contains_key("retry-after");
    let v: Value = r.json().await.expect("readyz body is JSON");
    if status == StatusCode::SERVICE_UNAVAILABLE {
        assert!(has_retry, "readyz 503 carries Retry-After: {v}");
    }
    let code = v["error"]["code"].as_str().unwrap_or("").to_string();
    (status, code, t.elapsed())
}

async fn healthz(client: &reqwest::Client, d: &RealDaemon) -> StatusCode {
    client
        .get(d.url("/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("healthz answers")
        .status()
}

/// Every id is readable over the admin API; returns how many leads the tenant holds.
async fn assert_all_stored(d: &RealDaemon, token: &str, ids: &[String]) -> u64 {
    let client = reqwest::Client::new();
    let mut missing = Vec::new();
    for id in ids {
        let r = client
            .get(d.url(&format!("/api/v1/leads/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let ok = r.status() == StatusCode::OK
            && r.json::<Value>().await.unwrap()["id"].as_str() == Some(id.as_str());
        if !ok {
            missing.push(id.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged leads are missing: {:?}",
        missing.len(),
        ids.len(),
        &missing[..missing.len().min(5)]
    );
    let v: Value = get_json(&client, &d.url("/api/v1/tenants/open-arms/stages"), token).await;
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["lead_count"].as_u64().unwrap())
        .sum()
}

/// The database file is sound (opened from this process after the daemon stopped). It is
/// checked on a copy: SQLite resolves symbolic links in a database path, and would follow
/// `/proc/<pid>/root` (see `UserTmpfs`) out of the namespace the file lives in.
fn assert_integrity(db: &Path) {
    let copy = tempfile::tempdir().unwrap();
    let name = db.file_name().unwrap().to_string_lossy().into_owned();
    for suffix in ["", "-wal"] {
        let from = db.with_file_name(format!("{name}{suffix}"));
        if from.exists() {
            std::fs::copy(&from, copy.path().join(format!("{name}{suffix}"))).unwrap();
        }
    }
    let conn = rusqlite::Connection::open_with_flags(
        copy.path().join(&name),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// Keeps a filesystem full: writes a filler file until ENOSPC, then keeps grabbing any
/// space that frees up until stopped. Dropping it stops the thread and deletes the file.
struct Filler {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    bytes: u64,
}

impl Filler {
    fn fill(path: &Path) -> Filler {
        let mut f = std::fs::File::create(path).unwrap();
        let big = vec![0x5au8; 64 * 1024];
        let small = vec![0x5au8; 4096];
        let mut bytes = 0u64;
        let mut enospc = false;
        for chunk in [&big, &small] {
            loop {
                match f.write(chunk) {
                    Ok(0) => break,
                    Ok(n) => bytes += n as u64,
                    Err(e) => {
                        enospc |= e.raw_os_error() == Some(28);
                        break;
                    }
                }
            }
        }
        assert!(enospc, "the filler never hit ENOSPC after {bytes} bytes");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = f.write(&small);
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };
        Filler {
            path: path.to_path_buf(),
            stop,
            thread: Some(thread),
            bytes,
        }
    }

    fn release(mut self) {
        self.stop_and_delete();
    }

    fn stop_and_delete(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for Filler {
    fn drop(&mut self) {
        self.stop_and_delete();
    }
}

/// Polls until an ingest answers 200 and `/readyz` answers 200; returns how long it took.
async fn wait_recovered(
    d: &RealDaemon,
    key: &str,
    since: Instant,
    extra_acked: &mut Vec<String>,
) -> Duration {
    let client = reqwest::Client::new();
    let mut i = 0;
    loop {
        let a = post_lead(&client, &d.base, key, &format!("probe{i}")).await;
        i += 1;
        match a {
            Answer::Stored(id) => {
                extra_acked.push(id);
                if readyz(&client, d).await.0 == StatusCode::OK {
                    return since.elapsed();
                }
            }
            Answer::Unavailable(_) => {}
            Answer::Wrong(w) => panic!("while recovering: {w}"),
        }
        assert!(
            since.elapsed() < RECOVER_WITHIN,
            "the daemon did not recover within {RECOVER_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn print_tally(scenario: &str, t: &Tally) {
    let counts: Vec<String> = t
        .counts
        .iter()
        .map(|((p, k), n)| format!("phase {p} {k}: {n}"))
        .collect();
    eprintln!(
        "[{scenario}] {} acknowledged; max latency {:?}; {}",
        t.acked.len(),
        t.max_latency,
        counts.join(", ")
    );
}

/// Phases of a scenario, for the tally.
const BEFORE: u8 = 0;
const FAULT: u8 = 1;
const AFTER: u8 = 2;

/// Workers posting leads through a fault.
const LOAD_WORKERS: usize = 6;

/// Room for the daemon's files with a margin; the filler takes the rest.
const TMPFS_SIZE: &str = "16m";

/// One fault, start to finish, on a daemon over `data`:
/// leads before; the fault switched on (`inject`) while workers keep posting; `/readyz` and
/// ingest answer 503 `code` with `Retry-After` within bounds, `/healthz` and reads stay
/// 200; the fault switched off (`clear`); the daemon recovers without a restart; every
/// lead answered 200 is readable, after a clean stop the file is sound, and after a
/// restart every lead is still there.
async fn scenario<G>(
    name: &str,
    data: &Path,
    launch: Launch,
    code: &str,
    inject: impl FnOnce(&RealDaemon) -> G,
    clear: impl FnOnce(G),
) {
    let mut d = RealDaemon::start(data, launch.clone()).await;
    let token = d.token();
    let (_tenant, key) = d.tenant_and_key(&token).await;
    let client = reqwest::Client::new();

    let mut acked = Vec::new();
    for i in 0..20 {
        match post_lead(&client, &d.base, &key, &format!("before{i}")).await {
            Answer::Stored(id) => acked.push(id),
            other => panic!("[{name}] before the fault: {other:?}"),
        }
    }

    let load = Load::start(&d.base, &key, LOAD_WORKERS, name);
    // The fault strikes under load: wait until the workers are answered.
    load.wait_for(BEFORE, "200", LOAD_WORKERS, name).await;
    load.set_phase(FAULT);
    let guard = inject(&d);
    let fault_at = Instant::now();

    // /readyz says so within bounds; /healthz does not (the process is alive).
    let (ready_503_after, ready_took) = loop {
        let (status, got, took) = readyz(&client, &d).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(got, code, "[{name}] /readyz error code");
            break (fault_at.elapsed(), took);
        }
        assert!(
            fault_at.elapsed() < FAULT_SEEN_WITHIN,
            "[{name}] /readyz still 200 {FAULT_SEEN_WITHIN:?} into the fault"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        ready_took < MAX_LATENCY,
        "[{name}] /readyz took {ready_took:?}"
    );
    assert_eq!(
        healthz(&client, &d).await,
        StatusCode::OK,
        "[{name}] /healthz"
    );
    // Ingest is refused with the same code (and Retry-After, checked per answer).
    load.wait_for(FAULT, &format!("503 {code}"), 8, name).await;
    // Reads go through their own connections and still work.
    let r = client
        .get(d.url(&format!("/api/v1/leads/{}", acked[0])))
        .bearer_auth(&token)
        .timeout(MAX_LATENCY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "[{name}] reads during the fault"
    );

    // The fault goes away: the daemon recovers by itself.
    load.set_phase(AFTER);
    let cleared = Instant::now();
    clear(guard);
    let recovered_after = wait_recovered(&d, &key, cleared, &mut acked).await;
    // The workers are answered 200 again too (not just the probe).
    load.wait_for(AFTER, "200", LOAD_WORKERS, name).await;
    let tally = load.finish().await;
    print_tally(name, &tally);
    eprintln!(
        "[{name}] /readyz 503 {code} {ready_503_after:?} into the fault (answered in {ready_took:?}); \
         recovered {recovered_after:?} after it was cleared"
    );
    let log_text = d.log_text();
    eprintln!(
        "[{name}] writer log: {} failed group commits, {} batches that could not begin",
        log_text.matches("group commit failed").count(),
        log_text.matches("cannot begin a write transaction").count()
    );
    assert!(
        tally.wrong.is_empty(),
        "[{name}] wrong answers: {:?}",
        tally.wrong
    );
    assert!(
        tally.max_latency < MAX_LATENCY,
        "[{name}] slowest answer {:?}",
        tally.max_latency
    );
    assert!(tally.count(AFTER, "200") > 0, "[{name}] ingest works again");
    acked.extend(tally.acked.iter().cloned());
    for i in 0..10 {
        match post_lead(&client, &d.base, &key, &format!("after{i}")).await {
            Answer::Stored(id) => acked.push(id),
            other => panic!("[{name}] after recovery: {other:?}"),
        }
    }

    // Every acknowledged lead is there, and after a clean restart on the same directory.
    let stored = assert_all_stored(&d, &token, &acked).await;
    assert!(
        stored >= acked.len() as u64,
        "[{name}] {stored} < {}",
        acked.len()
    );
    let status = d.stop();
    assert!(status.success(), "[{name}] clean stop: {status}");
    assert!(
        !d.log_text().contains("panicked"),
        "[{name}] a panic in the log"
    );
    assert_integrity(&data.join("echo5.db"));
    let mut again = RealDaemon::start(data, launch).await;
    assert_eq!(
        assert_all_stored(&again, &token, &acked).await,
        stored,
        "[{name}] the restart kept every lead"
    );
    assert!(again.stop().success());
    eprintln!(
        "[{name}] {} acknowledged, {stored} stored, all present after a restart",
        acked.len()
    );
}

/// The filesystem under the database fills up: a real tmpfs when this runs as root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_filesystem() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("mnt");
    let log = tmp.path().join("echo5d.log");
    let mount = match Tmpfs::mount(&mnt, TMPFS_SIZE) {
        Ok(m) => m,
        Err(why) if required(REQUIRE_TMPFS) => {
            panic!("{REQUIRE_TMPFS}=1 but this test cannot mount its tmpfs: {why}")
        }
        Err(why) => {
            // Not root (or no tmpfs): say so, and run the unprivileged stand-in instead of
            // passing without doing anything. A full filesystem over HTTP is also covered
            // without root by `full_filesystem_unprivileged`.
            eprintln!(
                "[full_filesystem] MODE: FALLBACK, cannot mount a tmpfs ({why}); \
                 running the RLIMIT_FSIZE write-error scenario instead"
            );
            file_size_limit_scenario("full_filesystem (fallback)", tmp.path()).await;
            return;
        }
    };
    eprintln!(
        "[full_filesystem] MODE: real tmpfs ({TMPFS_SIZE}) at {}",
        mnt.display()
    );
    scenario(
        "full_filesystem",
        &mnt.join("data"),
        Launch::new().args(DAEMON_ARGS).log_to(&log),
        "storage_full",
        |_| fill("full_filesystem", &mnt.join("filler")),
        Filler::release,
    )
    .await;
    drop(mount);
}

/// Fills the filesystem `path` is on; it had room left (the daemon did not fill it alone).
fn fill(name: &str, path: &Path) -> Filler {
    let filler = Filler::fill(path);
    eprintln!("[{name}] the filler took {} KiB", filler.bytes / 1024);
    assert!(
        filler.bytes > 1024 * 1024,
        "the daemon had filled the tmpfs by itself before the filler ran"
    );
    filler
}

/// The filesystem under the database fills up, without root: a real tmpfs (ENOSPC, so
/// SQLITE_FULL, so 503 `storage_full`) in a user and mount namespace of this test's own.
/// A file-size limit cannot stand in for it: a write past `RLIMIT_FSIZE` fails with EFBIG,
/// which SQLite reports as SQLITE_IOERR_WRITE (only ENOSPC or a short write is SQLITE_FULL),
/// hence `storage_unavailable` in `write_errors_from_a_file_size_limit`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_filesystem_unprivileged() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("mnt");
    let ns = match UserTmpfs::mount(&mnt, TMPFS_SIZE) {
        Ok(ns) => ns,
        Err(why) if required(REQUIRE_USERNS_TMPFS) => {
            panic!("{REQUIRE_USERNS_TMPFS}=1 but this test cannot mount its tmpfs: {why}")
        }
        Err(why) => {
            eprintln!(
                "[full_filesystem_unprivileged] MODE: NOT RUN, no user namespace here ({why}); \
                 set {REQUIRE_USERNS_TMPFS}=1 to make this a failure"
            );
            return;
        }
    };
    eprintln!(
        "[full_filesystem_unprivileged] MODE: tmpfs ({TMPFS_SIZE}) in a user namespace, as uid {}, \
         reached at {}",
        rustix::process::getuid().as_raw(),
        ns.view().display()
    );
    let filler = ns.view().join("filler");
    scenario(
        "full_filesystem_unprivileged",
        &ns.view().join("data"),
        Launch::new()
            .args(DAEMON_ARGS)
            .log_to(&tmp.path().join("echo5d.log"))
            .in_namespaces_of(ns.pid(), &mnt.join("data")),
        "storage_full",
        |_| fill("full_filesystem_unprivileged", &filler),
        Filler::release,
    )
    .await;
    drop(ns);
}

/// Another process holds the database's write lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_locked_by_another_process() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let db = data.join("echo5.db");
    scenario(
        "locked",
        &data,
        Launch::new()
            .args(DAEMON_ARGS)
            .log_to(&tmp.path().join("echo5d.log")),
        "storage_busy",
        |_| {
            // This test process is not the daemon: its write transaction holds SQLite's
            // write lock on the file, as an operator's `sqlite3` session would.
            let locker = rusqlite::Connection::open(&db).unwrap();
            locker.busy_timeout(Duration::from_secs(30)).unwrap();
            locker.execute_batch("BEGIN IMMEDIATE").unwrap();
            locker
        },
        |locker| {
            locker.execute_batch("ROLLBACK").unwrap();
            drop(locker);
        },
    )
    .await;
}

/// Every write the daemon makes to a file fails (EFBIG): an I/O error under the commit.
/// Needs no privileges, so it is also the stand-in for the full-filesystem test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_errors_from_a_file_size_limit() {
    let tmp = tempfile::tempdir().unwrap();
    file_size_limit_scenario("write_errors", tmp.path()).await;
}

/// `prlimit` lowers the running daemon's RLIMIT_FSIZE soft limit to 0, so every write(2)
/// to a regular file fails with EFBIG (SQLite: SQLITE_IOERR_WRITE), then lifts it again.
async fn file_size_limit_scenario(name: &str, tmp: &Path) {
    let set = |pid: u32, limit: &str| {
        let out = Command::new("prlimit")
            .arg(format!("--pid={pid}"))
            .arg(format!("--fsize={limit}:"))
            .output()
            .expect("prlimit (util-linux) is installed");
        assert!(
            out.status.success(),
            "prlimit --fsize={limit}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    scenario(
        name,
        &tmp.join("data"),
        Launch::new()
            .args(DAEMON_ARGS)
            .log_to(&tmp.join("echo5d.log")),
        "storage_unavailable",
        |d| {
            let pid = d.pid();
            set(pid, "0");
            pid
        },
        |pid| set(pid, "unlimited"),
    )
    .await;
}
