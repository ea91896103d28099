//! End to end in a real terminal: the real `echo5d --demo` on a loopback port and the real
//! `echo5-tui` inside a detached tmux session, driven with `send-keys` and read with
//! `capture-pane`. Every change made through the console is checked again over HTTP.
//!
//! The binaries are taken from the target directory this test was built into;
//! `cargo test --workspace` builds them first. Nothing here runs cargo.

use serde_json::Value;
use std::fs::OpenOptions;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Generous for a loaded CI machine; a passing run takes a few seconds per step at most.
const STEP: Duration = Duration::from_secs(20);
/// Reconnecting waits out the console's backoff (up to 8 s by then) on top of start-up.
const RECONNECT: Duration = Duration::from_secs(40);
const POLL: Duration = Duration::from_millis(100);

fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/e2e_tmux-xxxx → target/<profile>
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("test binary is inside target/<profile>/deps")
}

fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} not found: run `cargo build --workspace` (or `cargo test --workspace`) first, \
         with the same CARGO_TARGET_DIR and profile as this test",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// Owns everything the test starts; dropping it (also on a failed assertion) stops the
/// daemon and the tmux server, so nothing outlives the test.
struct Harness {
    dir: tempfile::TempDir,
    port: u16,
    socket: String,
    /// Where tmux put the socket; tmux leaves the file behind after kill-server.
    socket_path: Option<PathBuf>,
    daemon: Option<Child>,
    /// Flags the daemon starts with besides the harness's own.
    daemon_args: Vec<String>,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(Stdio::null())
            .status();
        if let Some(p) = &self.socket_path {
            let _ = std::fs::remove_file(p);
        }
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
    }
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = format!("echo5-e2e-{}-{}", std::process::id(), free_port());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("http client");
        Harness {
            dir,
            port: free_port(),
            socket,
            socket_path: None,
            daemon: None,
            daemon_args: Vec::new(),
            rt,
            http,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("daemon.log")
    }

    fn start_daemon(&mut self) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("daemon log");
        let err = log.try_clone().expect("daemon log");
        let child = Command::new(binary("echo5d"))
            .arg("--demo")
            .arg("--data-dir")
            .arg(self.dir.path())
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            // SLA passes every second, so a backdated lead's breach is found at once.
            .arg("--sla-interval")
            .arg("1")
            .args(&self.daemon_args)
            .env_remove("ECHO5_MASTER_KEY")
            .env_remove("ECHO5_MASTER_KEY_FILE")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("spawn echo5d");
        self.daemon = Some(child);
        let deadline = Instant::now() + STEP;
        loop {
            let up = self
                .rt
                .block_on(async { self.http.get(self.url("/healthz")).send().await })
                .is_ok_and(|r| r.status().is_success());
            if up {
                return;
            }
            if let Some(Ok(Some(status))) = self.daemon.as_mut().map(Child::try_wait) {
                panic!("echo5d exited early ({status}):\n{}", self.daemon_log());
            }
            assert!(
                Instant::now() < deadline,
                "echo5d not healthy in time:\n{}",
                self.daemon_log()
            );
            std::thread::sleep(POLL);
        }
    }

    /// SIGTERM, the way a service manager stops it, then waits for it to exit.
    fn stop_daemon(&mut self) {
        let Some(mut child) = self.daemon.take() else {
            return;
        };
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let deadline = Instant::now() + STEP;
        while child.try_wait().expect("try_wait").is_none() {
            assert!(Instant::now() < deadline, "echo5d ignored SIGTERM");
            std::thread::sleep(POLL);
        }
    }

    fn daemon_log(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn token(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("admin.token"))
            .expect("the daemon writes admin.token")
            .trim()
            .to_string()
    }

    fn api(&self, path: &str) -> Value {
        let req = self.http.get(self.url(path)).bearer_auth(self.token());
        self.rt.block_on(async {
            let resp = req.send().await.expect("GET");
            assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
            resp.json::<Value>().await.expect("json")
        })
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let req = self
            .http
            .post(self.url(path))
            .bearer_auth(self.token())
            .json(body);
        self.rt.block_on(async {
            let resp = req.send().await.expect("POST");
            assert!(resp.status().is_success(), "POST {path}: {}", resp.status());
            resp.json::<Value>().await.expect("json")
        })
    }

    fn patch(&self, path: &str, body: &Value) -> Value {
        let req = self
            .http
            .patch(self.url(path))
            .bearer_auth(self.token())
            .json(body);
        self.rt.block_on(async {
            let resp = req.send().await.expect("PATCH");
            assert!(
                resp.status().is_success(),
                "PATCH {path}: {}",
                resp.status()
            );
            resp.json::<Value>().await.expect("json")
        })
    }

    /// Polls the API until `ok` holds: the console's writes land asynchronously.
    fn api_until(&self, path: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + STEP;
        loop {
            let v = self.api(path);
            if ok(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "API never showed {what}: {v:#}");
            std::thread::sleep(POLL);
        }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux (is it installed?)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The console polling every second, as an operator in a hurry would run it.
    fn start_console(&mut self, timings: &Path) {
        self.start_console_polling_every(timings, 1);
    }

    /// Writes `body` to `script` and runs it in a new 120x40 tmux session `e2e`.
    fn run_in_tmux(&mut self, script: &Path, body: &str) {
        std::fs::write(script, body).expect("write script");
        let script = script.display().to_string();
        self.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            "120",
            "-y",
            "40",
            "sh",
            &script,
        ]);
        let path = self.tmux(&["display-message", "-p", "#{socket_path}"]);
        self.socket_path = Some(PathBuf::from(path.trim()));
    }

    /// The console with `--refresh <secs>`: its automatic refresh of the screen that often.
    fn start_console_polling_every(&mut self, timings: &Path, refresh_secs: u32) {
        // A script, so the pane outlives the console and shows how it left the terminal:
        // its exit code and the tty's line discipline (raw mode turns icanon and echo off).
        let script = self.dir.path().join("console.sh");
        let body = format!(
            "#!/bin/sh\n\
             unset ECHO5_TOKEN ECHO5_URL ECHO5_DATA_DIR\n\
             ECHO5_TUI_TIMINGS='{timings}' '{tui}' --url 'http://127.0.0.1:{port}' \
             --data-dir '{dir}' --refresh {refresh_secs}\n\
             rc=$?\n\
             echo \"TUI_EXIT=$rc\"\n\
             echo \"TTY $(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' ')\"\n\
             exec sleep 600\n",
            timings = timings.display(),
            tui = binary("echo5-tui").display(),
            port = self.port,
            dir = self.dir.path().display(),
        );
        self.run_in_tmux(&script, &body);
    }

    /// A tenant user with a password, made the way a tenant admin does it: invited with the
    /// admin token (`POST /api/v1/tenants/{t}/users`), the invitation link's token accepted
    /// with `password` (`POST /api/v1/auth/accept-invite`). For the `--login` walks (a
    /// manager sees only assigned leads; an agent cannot move one).
    fn tenant_user(&self, tenant: &str, email: &str, role: &str, password: &str) -> Value {
        let created = self.post(
            &format!("/api/v1/tenants/{tenant}/users"),
            &serde_json::json!({"email": email, "name": email, "role": role}),
        );
        let url = created["invite_url"].as_str().unwrap_or_default();
        let token: String = url
            .find("e5i_")
            .map(|i| {
                url[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            })
            .unwrap_or_default();
        assert!(!token.is_empty(), "no invitation token in {created:#}");
        let req = self
            .http
            .post(self.url("/api/v1/auth/accept-invite"))
            .json(&serde_json::json!({"token": token, "password": password}));
        self.rt.block_on(async {
            let resp = req.send().await.expect("accept-invite");
            assert!(
                resp.status().is_success(),
                "accept-invite: {}",
                resp.status()
            );
        });
        created
    }

    /// The console as `email` (`--login`, no admin token anywhere it could find): the
    /// password typed into its dialog and Enter, then waits for the dialog to go.
    fn start_console_as(&mut self, email: &str, password: &str) {
        let script = self.dir.path().join("console-login.sh");
        let body = format!(
            "#!/bin/sh\n\
             unset ECHO5_TOKEN ECHO5_URL ECHO5_DATA_DIR ECHO5_TOKEN_FILE\n\
             '{tui}' --url 'http://127.0.0.1:{port}' --data-dir /nonexistent \
             --login '{email}' --refresh 1\n\
             echo \"TUI_EXIT=$?\"\n\
             exec sleep 600\n",
            tui = binary("echo5-tui").display(),
            port = self.port,
        );
        self.run_in_tmux(&script, &body);
        self.wait_text("Log in to Echo5");
        self.typ(password);
        let typed = self.screen();
        assert!(
            !typed.contains(password),
            "the password is echoed:\n{typed}"
        );
        self.press("Enter");
        self.wait_for("the login dialog to close", STEP, |s| {
            !s.contains("Log in to Echo5")
        });
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "e2e"])
    }

    /// Waits until the pane satisfies `ok`; on timeout fails with what it showed instead.
    fn wait_for(&self, what: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "the console never showed {what}. Screen:\n{s}\n--- daemon log ---\n{}",
                self.daemon_log()
            );
            std::thread::sleep(POLL);
        }
    }

    fn wait_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), STEP, |s| s.contains(text))
    }

    /// Typed literally, one send-keys call.
    fn typ(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "e2e", "-l", text]);
    }

    /// Named keys: Enter, Escape, C-k, C-u.
    fn press(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "e2e", key]);
    }

    /// Pasted the way a terminal pastes: bracketed (`paste-buffer -p`) when the console asked
    /// for it, as crossterm's `EnableBracketedPaste` does; a newline in `text` reaches the
    /// pane as a carriage return, as a pasted line break does.
    fn paste(&self, text: &str) {
        self.tmux(&["set-buffer", "-b", "e2e-paste", "--", text]);
        self.tmux(&["paste-buffer", "-p", "-d", "-b", "e2e-paste", "-t", "e2e"]);
    }
}

/// The first `e5_` + 32 base62 characters on the screen.
fn key_on(screen: &str) -> Option<String> {
    screen
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .find_map(|w| {
            (w.len() == 35
                && w.starts_with("e5_")
                && w[3..].bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| w.to_string())
        })
}

fn stage_names(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn header(screen: &str) -> &str {
    screen.lines().next().unwrap_or_default()
}

#[test]
fn console_drives_the_real_daemon_in_tmux() {
    let started = Instant::now();
    let mut h = Harness::new();
    h.start_daemon();
    let timings = h.dir.path().join("timings.txt");
    h.start_console(&timings);

    // Start-up: the dashboard with the demo tenants, connected.
    h.wait_for("the dashboard, connected", STEP, |s| {
        s.contains("Caring Hearts") && header(s).contains("connected")
    });
    // Written just after that frame is drawn, so it may trail the screen by a moment.
    let deadline = Instant::now() + STEP;
    let t = loop {
        let t = std::fs::read_to_string(&timings).unwrap_or_default();
        if t.contains("first_data_frame_ms=") || Instant::now() > deadline {
            break t;
        }
        std::thread::sleep(POLL);
    };
    assert!(t.contains("first_data_frame_ms="), "timings file: {t:?}");
    eprintln!("startup timings: {}", t.trim());

    // Switch tenant from the palette.
    h.typ(":tenant caring");
    h.press("Enter");
    h.wait_text("tenant Caring Hearts");

    // Pipeline: add a stage (it lands last, cursor on it), then Ctrl-K moves it up one.
    h.typ("3");
    h.wait_text("Pipeline · Caring Hearts");
    // The title shows before the stages arrive, and `a` waits for them ("stages not loaded
    // yet"): wait for a row, not the title (a lost key press made this test flaky).
    h.wait_text("intake: new leads land here");
    h.typ("a");
    h.wait_text("Add stage");
    h.typ("E2E Stage");
    h.press("Enter");
    let v = h.api_until(
        "/api/v1/tenants/caring-hearts/stages",
        "the new stage last",
        |v| stage_names(v).last().map(String::as_str) == Some("E2E Stage"),
    );
    let n = stage_names(&v).len();
    h.wait_for("the new stage", STEP, |s| {
        s.lines()
            .any(|l| l.contains("E2E Stage") && l.contains(&format!(" {n} ")))
    });
    h.press("C-k");
    h.api_until(
        "/api/v1/tenants/caring-hearts/stages",
        "the new stage moved up one",
        |v| stage_names(v).get(n - 2).map(String::as_str) == Some("E2E Stage"),
    );
    h.wait_for("the stage one row up", STEP, |s| {
        s.lines()
            .any(|l| l.contains("E2E Stage") && l.contains(&format!(" {} ", n - 1)))
    });
    // `t` turns the selected stage's kind: open → won → lost → open, each saved.
    let walk = Instant::now();
    let kind_of = |v: &Value| {
        v["data"]
            .as_array()
            .and_then(|d| d.iter().find(|s| s["name"] == "E2E Stage"))
            .map(|s| s["kind"].as_str().unwrap_or("").to_string())
    };
    for kind in ["won", "lost", "open"] {
        h.typ("t");
        h.api_until(
            "/api/v1/tenants/caring-hearts/stages",
            &format!("the new stage {kind}"),
            |v| kind_of(v).as_deref() == Some(kind),
        );
        h.wait_for(&format!("{kind} on screen"), STEP, |s| {
            s.lines()
                .any(|l| l.contains("E2E Stage") && l.contains(kind))
        });
    }
    let mut added = walk.elapsed();

    // Settings: change the SLA hours.
    let before = h.api("/api/v1/tenants/caring-hearts/settings")["sla_hours"]
        .as_u64()
        .unwrap_or(0);
    let hours = if before == 7 { 9 } else { 7 };
    h.typ("4");
    h.wait_text("Settings · Caring Hearts");
    // The table, not just the frame: Enter before the data is in would do nothing.
    h.wait_text("SLA hours");
    h.press("Enter");
    h.wait_text("Hours (1-720)");
    h.press("C-u");
    h.typ(&hours.to_string());
    h.press("Enter");
    h.api_until(
        "/api/v1/tenants/caring-hearts/settings",
        "the new SLA hours",
        |v| v["sla_hours"].as_u64() == Some(hours),
    );
    h.wait_text(&format!(" {hours} h"));

    // Keys: create one; the modal shows it once, and it really works for ingest.
    h.typ("5");
    h.wait_text("Keys · Caring Hearts");
    h.typ("c");
    h.wait_text("Create API key");
    h.typ("e2e-site");
    h.press("Enter");
    let s = h.wait_for("the new key modal", STEP, |s| {
        s.contains("New API key") && key_on(s).is_some()
    });
    let first = key_on(&s).unwrap_or_default();
    let who = h.rt.block_on(async {
        let r = h
            .http
            .get(h.url("/api/v1/key"))
            .header("X-API-Key", &first)
            .send()
            .await
            .expect("GET /api/v1/key");
        assert!(
            r.status().is_success(),
            "the shown key is rejected: {}",
            r.status()
        );
        r.json::<Value>().await.expect("json")
    });
    assert_eq!(who["tenant"]["slug"], "caring-hearts");
    h.press("Enter");
    h.wait_for("the modal gone and the key with it", STEP, |s| {
        !s.contains("New API key") && key_on(s).is_none() && s.contains("e2e-site")
    });

    // Rotate it with the default grace: a new key, the old one expiring.
    h.typ("R");
    h.wait_text("Grace hours");
    h.press("Enter");
    let s = h.wait_for("the rotated key modal", STEP, |s| {
        s.contains("Rotated API key") && key_on(s).is_some()
    });
    let second = key_on(&s).unwrap_or_default();
    assert_ne!(first, second);
    let rotated_key = second.clone();
    let keys = h.api("/api/v1/tenants/caring-hearts/keys");
    let list = keys["data"].as_array().cloned().unwrap_or_default();
    let old = list
        .iter()
        .find(|k| first.starts_with(k["prefix"].as_str().unwrap_or("-")))
        .cloned()
        .unwrap_or_default();
    assert_eq!(old["status"], "expiring", "{keys:#}");
    assert!(
        list.iter().any(|k| k["rotated_from"] == old["id"]),
        "{keys:#}"
    );
    h.press("Escape");
    h.wait_for("the rotated modal gone", STEP, |s| {
        !s.contains("Rotated API key") && key_on(s).is_none()
    });

    // Leads: search with `/`, then move the lead found to the next stage with `m`.
    let lead = h.post(
        "/api/v1/tenants/caring-hearts/leads",
        &serde_json::json!({"name": "Zed Mover", "email": "zed.mover@example.com"}),
    );
    let lead_id = lead["id"].as_str().unwrap_or_default().to_string();
    h.typ("6");
    h.wait_text("Leads · Caring Hearts");
    h.typ("/");
    h.typ("zed mover");
    h.press("Enter");
    h.wait_for("the search result", STEP, |s| {
        s.contains("Leads · Caring Hearts (1) /zed mover") && s.contains("Zed Mover")
    });
    h.typ("m");
    h.wait_text("Move \"Zed Mover\"");
    h.typ("j");
    h.press("Enter");
    let stages = h.api("/api/v1/tenants/caring-hearts/stages");
    let second = stages["data"][1]["id"].clone();
    let second_name = stages["data"][1]["name"]
        .as_str()
        .unwrap_or("-")
        .to_string();
    h.api_until(
        &format!("/api/v1/leads/{lead_id}"),
        "the lead in the second stage",
        |v| v["stage_id"] == second,
    );
    h.wait_for("the lead's new stage on screen", STEP, |s| {
        s.lines()
            .any(|l| l.contains("Zed Mover") && l.contains(&second_name))
    });

    // Notes: two appended from the lead's pane, both kept, each with its author.
    h.press("Enter");
    h.wait_text("Timeline (newest first");
    for (i, text) in ["First call, no answer", "Second call: booked a tour"]
        .iter()
        .enumerate()
    {
        h.typ("n");
        h.wait_text("Add a note");
        h.typ(text);
        h.press("Enter");
        h.api_until(
            &format!("/api/v1/leads/{lead_id}"),
            "the note stored",
            |v| v["notes"].as_array().is_some_and(|n| n.len() == i + 1),
        );
    }
    let v = h.api(&format!("/api/v1/leads/{lead_id}"));
    let notes = v["notes"].as_array().cloned().unwrap_or_default();
    assert_eq!(notes[0]["text"], "First call, no answer");
    assert_eq!(notes[1]["text"], "Second call: booked a tour");
    assert!(notes.iter().all(|n| n["author"] == "admin"), "{notes:?}");
    h.wait_for("both notes on screen, each by admin", STEP, |s| {
        s.contains("First call, no answer")
            && s.contains("Second call: booked a tour")
            && s.matches("note · admin").count() >= 2
    });
    // A key right after Escape would read as Alt+key: each Escape is seen to land first.
    h.press("Escape"); // the pane
    h.wait_for("the pane closed", STEP, |s| {
        !s.contains("Timeline (newest first")
    });
    h.press("Escape"); // the search
    h.wait_for("the search cleared", STEP, |s| {
        s.contains("Leads · Caring Hearts (") && !s.contains("/zed mover")
    });

    // Filter by stage: the lead moved there is listed, the title says the filter.
    h.typ("f");
    h.wait_text("Filter leads");
    h.typ(&second_name);
    h.press("Enter");
    h.wait_for("the stage filter", STEP, |s| {
        s.contains(&format!("[stage {second_name}]")) && s.contains("Zed Mover")
    });
    h.press("Escape"); // the filter
    h.wait_for("the filter cleared", STEP, |s| {
        s.contains("Leads · Caring Hearts (") && !s.contains("[stage")
    });

    // CSV export: `e`, a path, Enter; the file holds what is listed.
    let walk = Instant::now();
    let csv = h.dir.path().join("e2e-leads.csv");
    h.typ("e");
    h.wait_text("Export leads as CSV");
    h.press("C-u");
    h.typ(csv.to_str().unwrap_or_default());
    h.press("Enter");
    h.wait_text("exported ");
    let text = std::fs::read_to_string(&csv).unwrap_or_default();
    let mut lines = text.lines();
    assert!(
        lines.next().is_some_and(|l| l.contains("created_at")),
        "no header row: {text:?}"
    );
    assert!(
        text.contains("Zed Mover"),
        "the listed lead is missing: {text:?}"
    );
    added += walk.elapsed();

    // Spam: a lead flagged (over the API) shows with spam shown only, and `u` clears it.
    let spam = h.post(
        "/api/v1/tenants/caring-hearts/leads",
        &serde_json::json!({"name": "Spammy Sam", "email": "sam@spam.example"}),
    );
    let spam_id = spam["id"].as_str().unwrap_or_default().to_string();
    h.patch(
        &format!("/api/v1/leads/{spam_id}"),
        &serde_json::json!({"is_spam": true}),
    );
    h.typ("s"); // shown
    h.wait_text("spam shown");
    h.typ("s"); // only
    h.wait_for("the spam lead, spam only", STEP, |s| {
        s.contains("[spam only]") && s.contains("Spammy Sam")
    });
    h.typ("u");
    h.api_until(
        &format!("/api/v1/leads/{spam_id}"),
        "the spam flag cleared",
        |v| v["is_spam"] == false,
    );
    h.typ("s"); // hidden again
    h.wait_for("spam hidden, Sam listed as a lead", STEP, |s| {
        !s.contains("spam only") && s.contains("Spammy Sam")
    });

    // SLA breaches: a lead backdated via the API shows up without a key press. This console
    // also polls every second; that only the event stream brings it is proven by
    // `live_changes_arrive_over_the_streams_not_the_poll`.
    // The screen follows the selected tenant; `t` widens it to every tenant.
    h.typ("7");
    h.wait_text("SLA breaches · Caring Hearts");
    h.typ("t");
    h.wait_text("SLA breaches · all tenants");
    h.wait_for("the live stream connected", STEP, |s| {
        header(s).contains("● live")
    });
    h.typ("/");
    h.typ("Backdated E2E");
    h.press("Enter");
    h.wait_text("No breach matches the filter");
    let five_days_ago = (chrono::Utc::now() - chrono::TimeDelta::days(5)).to_rfc3339();
    let posted = Instant::now();
    h.post(
        "/api/v1/tenants/open-arms/leads",
        &serde_json::json!({
            "name": "Backdated E2E",
            "email": "backdated@example.com",
            "created_at": five_days_ago,
        }),
    );
    h.wait_for("the new breach, live", Duration::from_secs(5), |s| {
        s.lines()
            .any(|l| l.contains("Backdated E2E") && l.contains("Open Arms") && l.contains("4d"))
    });
    eprintln!("breach on screen {:?} after the POST", posted.elapsed());
    // It is news: marked NEW in the list and counted in the header.
    h.wait_for("the new breach marked and counted", STEP, |s| {
        s.lines()
            .any(|l| l.contains("Backdated E2E") && l.contains("NEW"))
            && header(s).contains("new")
    });
    // Enter opens its lead on the SLA screen; `m` moves it out of the first stage, and the
    // list, read again from the daemon, no longer has it.
    h.press("Enter");
    h.wait_text("Lead · Backdated E2E");
    h.wait_text("SLA breached");
    h.typ("m");
    h.wait_text("To stage:");
    h.typ("j");
    h.press("Enter");
    h.wait_text("moved to");
    h.wait_for("the moved lead no longer in breach", STEP, |s| {
        !s.contains("SLA breached")
    });
    h.press("Escape");
    // The list's text is on screen beside the pane already: wait for the pane to go, or
    // the next key could follow the Escape closely enough to read as Alt+key.
    h.wait_for("the lead's pane closed", STEP, |s| {
        !s.contains("Lead · Backdated E2E") && s.contains("No breach matches the filter")
    });

    // Platform: the operator name changed in the console is what the API returns.
    h.typ(":platform");
    h.press("Enter");
    h.wait_text("Platform · defaults for new tenants");
    h.wait_text("Operator name");
    for _ in 0..4 {
        h.typ("j");
    }
    h.press("Enter");
    h.wait_text("Name (empty clears)");
    h.press("C-u");
    h.typ("E2E Operator");
    h.press("Enter");
    h.api_until(
        "/api/v1/platform/settings",
        "the operator name set in the console",
        |v| v["operator_name"] == "E2E Operator",
    );
    h.wait_for("the operator name on screen", STEP, |s| {
        s.lines()
            .any(|l| l.contains("Operator name") && l.contains("E2E Operator"))
    });

    // All leads: both tenants' leads with their tenant column; Enter opens one in its tenant.
    h.typ(":all");
    h.press("Enter");
    h.wait_for("leads of two tenants in one table", STEP, |s| {
        let rows: Vec<&str> = s.lines().filter(|l| l.starts_with("│")).collect();
        s.contains("All leads · every tenant")
            && s.contains("TENANT")
            && rows.iter().any(|l| l.contains("Open Arms"))
            && rows.iter().any(|l| l.contains("Caring Hearts"))
    });
    h.typ("/");
    h.typ("backdated@example.com");
    h.press("Enter");
    h.wait_for("the search across tenants", STEP, |s| {
        s.contains("(1) /backdated@example.com")
            && s.lines()
                .any(|l| l.contains("Backdated E2E") && l.contains("Open Arms"))
    });
    h.press("Enter");
    h.wait_for("the lead opened in its tenant", STEP, |s| {
        s.lines()
            .nth(1)
            .is_some_and(|l| l.contains("tenant Open Arms"))
            && s.contains("Leads · Open Arms (1) /backdated@example.com")
            && s.contains("Backdated E2E")
    });

    // Usage: a lead ingested with Caring Hearts' key is counted in its row.
    let ingested = h.rt.block_on(async {
        h.http
            .post(h.url("/api/v1/leads"))
            .header("X-API-Key", &rotated_key)
            .json(&serde_json::json!({"name": "Usage E2E", "email": "usage.e2e@example.com"}))
            .send()
            .await
            .expect("POST /api/v1/leads")
            .status()
    });
    assert!(ingested.is_success(), "ingest: {ingested}");
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let usage = h.api_until(
        &format!("/api/v1/usage?month={month}"),
        "the ingested lead counted",
        |v| {
            v["tenants"].as_array().is_some_and(|t| {
                t.iter().any(|t| {
                    t["tenant"]["slug"] == "caring-hearts" && t["accepted"].as_u64() >= Some(1)
                })
            })
        },
    );
    let accepted = usage["tenants"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["tenant"]["slug"] == "caring-hearts"))
        .and_then(|t| t["accepted"].as_u64())
        .unwrap_or(0);
    h.typ(":usage");
    h.press("Enter");
    h.wait_text("Usage · ");
    h.wait_for("Caring Hearts' accepted count", STEP, |s| {
        s.lines().any(|l| {
            l.contains("Caring Hearts")
                && l.split_whitespace()
                    .nth(3)
                    .is_some_and(|n| n.replace(',', "") == accepted.to_string())
        })
    });

    // Logs: a line the daemon logs after the screen is open arrives over the live tail.
    h.typ(":logs");
    h.press("Enter");
    h.wait_for("the log tail connected", STEP, |s| {
        s.contains("Logs (") && s.contains("● tail")
    });
    let logged = Instant::now();
    h.post(
        "/api/v1/tenants",
        &serde_json::json!({"name": "E2E Log Tenant"}),
    );
    let answered = logged.elapsed();
    h.wait_for("the new log line, live", Duration::from_secs(5), |s| {
        s.lines()
            .any(|l| l.contains("tenant created") && l.contains("e2e-log-tenant"))
    });
    eprintln!(
        "log line on screen {:?} after the POST (answered after {answered:?})",
        logged.elapsed()
    );
    // That client was created elsewhere a moment ago: `:tenant` finds it at once.
    h.typ(":tenant e2e-log");
    h.press("Enter");
    h.wait_text("tenant E2E Log Tenant");

    // A client created from the console (`a` on the dashboard) opens on its overview…
    h.typ("1");
    h.wait_text("Tenants (");
    h.typ("a");
    h.wait_text("New client");
    h.typ("E2E Client");
    h.press("Enter");
    h.wait_text("E2E Client · e2e-client");
    let created = h.api("/api/v1/tenants/e2e-client");
    assert_eq!(created["name"], "E2E Client");
    // …and is deleted from the picker once its slug is typed.
    h.typ("2");
    h.wait_text("Switch tenant");
    h.typ("/");
    h.typ("e2e-client");
    h.press("Enter");
    h.wait_text("Switch tenant /e2e-client");
    // Renamed with `r`, deactivated with `x` `y`, reactivated with `x`: each as the API has it.
    let walk = Instant::now();
    h.typ("r");
    h.wait_text("Rename \"E2E Client\"");
    h.press("C-u");
    h.typ("E2E Client Two");
    h.press("Enter");
    h.api_until("/api/v1/tenants/e2e-client", "the client renamed", |v| {
        v["name"] == "E2E Client Two"
    });
    h.wait_text("renamed to \"E2E Client Two\"");
    h.typ("x");
    h.wait_text("Deactivate client");
    h.typ("y");
    h.api_until("/api/v1/tenants/e2e-client", "the client inactive", |v| {
        v["active"] == false
    });
    h.wait_text("deactivated: its sites' leads are refused");
    h.typ("x");
    h.api_until(
        "/api/v1/tenants/e2e-client",
        "the client active again",
        |v| v["active"] == true,
    );
    h.wait_text("is active again");
    added += walk.elapsed();
    eprintln!("the rename, deactivate, stage kind and CSV export walks took {added:?}");
    h.typ("d");
    h.wait_text("Delete client \"E2E Client Two\"");
    h.typ("e2e-client");
    h.press("Enter");
    h.wait_text("deleted \"E2E Client Two\"");
    let gone = h.rt.block_on(async {
        h.http
            .get(h.url("/api/v1/tenants/e2e-client"))
            .bearer_auth(h.token())
            .send()
            .await
            .expect("GET")
            .status()
    });
    assert_eq!(gone.as_u16(), 404, "the client is gone");

    h.typ(":tenant caring");
    h.press("Enter");
    h.wait_text("tenant Caring Hearts");

    // Back to Keys for the outage: its rows are the "last data" to keep.
    h.typ("5");
    h.wait_text("e2e-site");

    // The daemon stops: the header says so, the last data stays on screen.
    h.stop_daemon();
    let s = h.wait_for("the daemon reported down", RECONNECT, |s| {
        header(s).contains("down")
    });
    assert!(s.contains("e2e-site"), "last data kept:\n{s}");
    assert!(s.contains("stale"), "marked stale:\n{s}");

    // It comes back on the same port: the console reconnects by itself.
    h.start_daemon();
    h.wait_for("reconnected", RECONNECT, |s| {
        header(s).contains("connected") && !s.contains("stale")
    });

    // Quit: the console exits 0 and leaves the terminal as it found it.
    h.typ("q");
    let s = h.wait_for("the shell after the console", STEP, |s| {
        s.contains("TUI_EXIT=") && s.lines().any(|l| l.starts_with("TTY "))
    });
    assert!(s.contains("TUI_EXIT=0"), "{s}");
    let tty = s
        .lines()
        .find(|l| l.starts_with("TTY "))
        .unwrap_or_default();
    assert!(
        tty.contains(" icanon")
            && tty.contains(" echo")
            && !tty.contains("-icanon")
            && !tty.contains("-echo"),
        "raw mode left on: {tty:?}"
    );
    let alt = h.tmux(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"]);
    assert_eq!(alt.trim(), "0", "still on the alternate screen");
    assert!(
        !s.contains("Keys · Caring Hearts"),
        "console still drawn:\n{s}"
    );
    eprintln!("e2e took {:?}", started.elapsed());
}

/// "Live" means live: the console polls once an hour here, so after a screen's first fetch
/// only the event stream (`GET /api/v1/events`) and the log tail can bring a change on
/// screen within seconds. The breach filter is pasted, bracketed, with a trailing line break
/// that must not act as Enter.
#[test]
fn live_changes_arrive_over_the_streams_not_the_poll() {
    const HOUR: u32 = 3600;
    let mut h = Harness::new();
    h.start_daemon();
    let timings = h.dir.path().join("timings.txt");
    h.start_console_polling_every(&timings, HOUR);
    h.wait_for("the dashboard, connected", STEP, |s| {
        s.contains("Caring Hearts") && header(s).contains("connected")
    });

    h.typ("7");
    h.wait_text("SLA breaches · all tenants");
    h.wait_for("the live stream connected", STEP, |s| {
        header(s).contains("● live")
    });
    h.typ("/");
    h.wait_text("Enter keep");
    h.paste("Live E2E\n");
    // Had the line break arrived as the Enter key, the filter line would be closed.
    h.wait_for("the pasted filter, its line still open", STEP, |s| {
        s.lines()
            .last()
            .is_some_and(|l| l.contains("/Live E2E   Enter keep"))
    });
    h.press("Enter");
    h.wait_text("No breach matches the filter");
    let posted = Instant::now();
    h.post(
        "/api/v1/tenants/open-arms/leads",
        &serde_json::json!({
            "name": "Live E2E",
            "email": "live.e2e@example.com",
            "created_at": (chrono::Utc::now() - chrono::TimeDelta::days(5)).to_rfc3339(),
        }),
    );
    h.wait_for(
        "the new breach, over the event stream",
        Duration::from_secs(5),
        |s| {
            s.lines()
                .any(|l| l.contains("Live E2E") && l.contains("Open Arms") && l.contains("4d"))
        },
    );
    eprintln!("breach on screen {:?} after the POST", posted.elapsed());

    // A lead that crosses its SLA while the screen is open: when it is created it is not in
    // breach yet, so `lead.created` brings nothing; only the SLA pass's `sla.breached`
    // (a second or so after the deadline) can bring it on screen.
    h.patch(
        "/api/v1/tenants/open-arms/settings",
        &serde_json::json!({"sla_hours": 1}),
    );
    let deadline_in = chrono::TimeDelta::seconds(4);
    let posted = Instant::now();
    h.post(
        "/api/v1/tenants/open-arms/leads",
        &serde_json::json!({
            "name": "Live E2E Soon",
            "email": "live.soon@example.com",
            "created_at": (chrono::Utc::now() - chrono::TimeDelta::hours(1) + deadline_in)
                .to_rfc3339(),
        }),
    );
    h.wait_for(
        "the breach as it happens, over the event stream",
        STEP,
        |s| {
            s.lines()
                .any(|l| l.contains("Live E2E Soon") && l.contains("Open Arms"))
        },
    );
    let seen = posted.elapsed();
    eprintln!("breach at its deadline on screen {seen:?} after the POST");
    assert!(
        seen >= Duration::from_secs(3),
        "on screen before its deadline ({seen:?}): the SLA path was not what brought it"
    );

    h.typ(":logs");
    h.press("Enter");
    h.wait_for("the log tail connected", STEP, |s| {
        s.contains("Logs (") && s.contains("● tail")
    });
    h.post(
        "/api/v1/tenants",
        &serde_json::json!({"name": "Live Log Tenant"}),
    );
    h.wait_for(
        "the new log line, over the tail",
        Duration::from_secs(5),
        |s| {
            s.lines()
                .any(|l| l.contains("tenant created") && l.contains("live-log-tenant"))
        },
    );

    // The daemon restarts: with no poll due for an hour, only the stream's own reconnect can
    // bring the next breach, so the stream must come back by itself.
    h.typ("7");
    h.wait_text("SLA breaches");
    h.stop_daemon();
    h.wait_for("the stream reported off", RECONNECT, |s| {
        !header(s).contains("● live")
    });
    h.start_daemon();
    h.wait_for("the stream reopened after the restart", RECONNECT, |s| {
        header(s).contains("● live") && !header(s).contains("live off")
    });
    let posted = Instant::now();
    h.post(
        "/api/v1/tenants/open-arms/leads",
        &serde_json::json!({
            "name": "Live E2E Again",
            "email": "live.again@example.com",
            "created_at": (chrono::Utc::now() - chrono::TimeDelta::days(3)).to_rfc3339(),
        }),
    );
    h.wait_for(
        "a breach after the restart, over the reopened stream",
        Duration::from_secs(5),
        |s| s.lines().any(|l| l.contains("Live E2E Again")),
    );
    eprintln!("breach after the restart on screen {:?}", posted.elapsed());
}

/// Logged in as client staff (`--login`): a manager's Leads screen holds only the leads
/// assigned to them, and an agent, who sees every lead of the tenant, cannot move one —
/// the key only says "not allowed" and the lead stays where it was.
#[test]
fn staff_log_in_a_manager_sees_their_leads_an_agent_cannot_move_one() {
    const PASSWORD: &str = "violet-Harbor-93-quietly-Lantern";
    let mut h = Harness::new();
    h.start_daemon();
    let mia = h.tenant_user("open-arms", "mia@openarms.test", "manager", PASSWORD);
    h.tenant_user("open-arms", "abe@openarms.test", "agent", PASSWORD);
    let mut ids = Vec::new();
    for (name, email) in [
        ("Mine Staffwalk", "mine.staffwalk@example.com"),
        ("Theirs Staffwalk", "theirs.staffwalk@example.com"),
    ] {
        let lead = h.post(
            "/api/v1/tenants/open-arms/leads",
            &serde_json::json!({"name": name, "email": email}),
        );
        ids.push(lead["id"].as_str().expect("lead id").to_string());
    }
    h.patch(
        &format!("/api/v1/leads/{}", ids[0]),
        &serde_json::json!({"assigned_to": mia["id"]}),
    );
    let stage_before = h.api(&format!("/api/v1/leads/{}", ids[1]))["stage_id"].clone();

    // The manager: their one lead, nothing else of the tenant, no settings or keys.
    h.start_console_as("mia@openarms.test", PASSWORD);
    h.typ("6");
    let s = h.wait_text("Mine Staffwalk");
    assert!(
        !s.contains("Theirs Staffwalk"),
        "a manager sees a lead assigned to nobody:\n{s}"
    );
    let top = header(&s);
    assert!(
        !top.contains("Settings") && !top.contains("Keys"),
        "a manager is offered screens they cannot use:\n{top}"
    );
    let rows = s.lines().filter(|l| l.contains("Staffwalk")).count();
    assert_eq!(rows, 1, "one assigned lead on screen:\n{s}");
    h.tmux(&["kill-session", "-t", "e2e"]);

    // The agent: every lead of the tenant, read-only.
    h.start_console_as("abe@openarms.test", PASSWORD);
    h.typ("6");
    h.wait_for("both new leads", STEP, |s| {
        s.contains("Mine Staffwalk") && s.contains("Theirs Staffwalk")
    });
    h.typ("/");
    h.typ("Theirs Staffwalk");
    h.press("Enter");
    h.wait_for("the filtered list", STEP, |s| {
        s.contains("Theirs Staffwalk") && !s.contains("Mine Staffwalk")
    });
    h.typ("m");
    h.wait_text("not allowed");
    let stage_after = h.api(&format!("/api/v1/leads/{}", ids[1]))["stage_id"].clone();
    assert_eq!(stage_before, stage_after, "an agent moved a lead");
}

/// A loopback webhook receiver: answers `200 ok` to every request and keeps each one's
/// head and body, as text.
struct Receiver {
    port: u16,
    got: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

fn receiver() -> Receiver {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
    let port = listener.local_addr().expect("receiver addr").port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = got.clone();
    // Lives as long as the test process; it only ever answers on loopback.
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(conn.try_clone().expect("clone the connection"));
            let mut head = String::new();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            store
                .lock()
                .expect("receiver store")
                .push((head, String::from_utf8_lossy(&body).into_owned()));
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    Receiver { port, got }
}

/// The `name:` header's value in a request head, as the receiver kept it.
fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The first `whsec_` secret on the screen.
fn webhook_secret_on(screen: &str) -> Option<String> {
    screen
        .split(|c: char| !(c.is_ascii_alphanumeric() || "_+/=".contains(c)))
        .find(|w| w.starts_with("whsec_") && w.len() > 20)
        .map(str::to_string)
}

#[test]
fn a_webhook_endpoint_made_in_the_console_gets_its_test_message() {
    let rx = receiver();
    let mut h = Harness::new();
    // The receiver is on loopback, which the address rule refuses unless allowed.
    h.daemon_args = vec!["--outbound-allow-cidr".into(), "127.0.0.0/8".into()];
    h.start_daemon();
    let timings = h.dir.path().join("timings.txt");
    h.start_console(&timings);
    h.wait_for("the dashboard, connected", STEP, |s| {
        s.contains("Caring Hearts") && header(s).contains("connected")
    });
    h.typ(":tenant caring");
    h.press("Enter");
    h.wait_text("tenant Caring Hearts");
    h.typ(":webhooks");
    h.press("Enter");
    h.wait_text("No webhook endpoints yet");

    // New endpoint: URL and description, then the events (all, as offered), then the
    // secret once.
    let url = format!("http://127.0.0.1:{}/hook", rx.port);
    h.typ("c");
    h.wait_text("New webhook endpoint");
    h.typ(&url);
    h.press("Tab");
    h.typ("e2e receiver");
    h.press("Enter");
    h.wait_text("Events sent to");
    h.press("Enter");
    let shown = h.wait_text("will not be shown again");
    let secret = webhook_secret_on(&shown).expect("a whsec_ secret in the modal");
    let listed = h.api_until(
        "/api/v1/tenants/caring-hearts/webhooks",
        "the new endpoint",
        |v| {
            v["data"]
                .as_array()
                .is_some_and(|a| a.iter().any(|w| w["url"] == url.as_str()))
        },
    );
    assert!(
        !listed.to_string().contains(&secret),
        "the list shows the secret: {listed:#}"
    );
    h.press("Enter");
    let after = h.wait_for("the secret modal to close", STEP, |s| {
        !s.contains("will not be shown again")
    });
    assert!(
        !after.contains(&secret),
        "the secret stayed on screen:\n{after}"
    );
    h.wait_text("e2e receiver");

    // A test message, then its delivery in the log: succeeded, with the receiver's 200.
    h.typ("t");
    h.wait_text("test message queued");
    h.press("Enter");
    h.wait_text("Deliveries ·");
    h.wait_for("the test message delivered", STEP, |s| {
        s.lines()
            .any(|l| l.contains("succeeded") && l.contains("webhook.test"))
    });
    h.wait_for("the attempt with the receiver's 200", STEP, |s| {
        s.lines().any(|l| l.contains(" 200 ") && l.contains("ok"))
    });

    // What the receiver got: a signed `webhook.test` message, the signature made with the
    // secret the modal showed.
    let got = rx.got.lock().expect("receiver store").clone();
    let (head, body) = got
        .iter()
        .find(|(_, b)| b.contains("webhook.test"))
        .unwrap_or_else(|| panic!("the receiver got no test message: {got:?}"));
    let id = header_value(head, "webhook-id").expect("webhook-id");
    let ts: i64 = header_value(head, "webhook-timestamp")
        .and_then(|t| t.parse().ok())
        .expect("webhook-timestamp");
    let sig = header_value(head, "webhook-signature").expect("webhook-signature");
    let key = echo5_core::webhooks::secret_key(&secret).expect("the shown secret is a whsec_");
    let want = echo5_core::webhooks::sign(&key, id, ts, body.as_bytes());
    assert!(
        sig.split(' ').any(|s| s == want),
        "signature {sig} is not made with the shown secret ({want})"
    );
    h.typ("q");
}

#[test]
fn a_plan_made_in_the_console_limits_its_client_on_the_real_daemon() {
    let mut h = Harness::new();
    h.start_daemon();
    let timings = h.dir.path().join("timings.txt");
    h.start_console(&timings);
    h.wait_for("the dashboard, connected", STEP, |s| {
        s.contains("Caring Hearts") && header(s).contains("connected")
    });
    let keys = h.api("/api/v1/tenants/caring-hearts/keys");
    let live = keys["data"].as_array().map_or(0, |a| {
        a.iter().filter(|k| k["revoked_at"].is_null()).count()
    });
    h.typ(":plans");
    h.press("Enter");
    h.wait_text("No plans yet");

    // A plan whose key limit is the keys the client already has.
    h.typ("c");
    h.wait_text("New plan");
    h.typ("Solo");
    h.press("Tab");
    h.typ("29.5");
    h.press("Tab");
    h.press("Tab");
    h.typ("1,000");
    h.press("Tab");
    h.press("Tab");
    h.typ(&live.to_string());
    h.press("Tab");
    h.press("Tab");
    h.typ("30");
    h.press("Enter");
    let listed = h.api_until("/api/v1/platform/plans", "the new plan", |v| {
        v["data"][0]["name"] == "Solo"
    });
    let plan = &listed["data"][0];
    assert_eq!(plan["price_cents"], 2950, "{plan:#}");
    assert_eq!(plan["currency"], "EUR");
    assert_eq!(plan["limits"]["leads_per_month"], 1000);
    assert_eq!(plan["limits"]["users"], Value::Null);
    assert_eq!(plan["limits"]["api_keys"], live as u64);
    assert_eq!(plan["limits"]["retention_days"], 30);
    let id = plan["id"].as_str().expect("an id").to_string();
    h.wait_text("29.50 EUR");

    // Caring Hearts on it: one more key is refused, in the daemon's words.
    h.typ("a");
    h.wait_text("Put a client on Solo");
    h.typ("caring");
    h.press("Enter");
    h.api_until(
        "/api/v1/tenants/caring-hearts",
        "Caring Hearts on Solo",
        |v| v["plan_id"] == id.as_str(),
    );
    h.wait_text("is on the plan \"Solo\"");
    h.typ(":tenant caring");
    h.press("Enter");
    h.wait_text("tenant Caring Hearts");
    h.typ("5");
    h.wait_text("create key");
    h.typ("c");
    h.press("Enter");
    h.wait_text(&format!("the tenant's plan allows {live} api_keys"));
    let after = h.api("/api/v1/tenants/caring-hearts/keys");
    assert_eq!(after["data"], keys["data"], "no key was made");

    // Off the plan, and the plan deleted after a yes.
    h.typ(":plans");
    h.press("Enter");
    h.wait_text("29.50 EUR");
    h.typ("u");
    h.wait_text("Take a client off its plan");
    h.press("Enter");
    h.api_until(
        "/api/v1/tenants/caring-hearts",
        "Caring Hearts off Solo",
        |v| v["plan_id"].is_null(),
    );
    h.wait_for("no client on Solo", STEP, |s| {
        s.contains("clients: no client")
    });
    h.typ("x");
    h.wait_text("Delete plan");
    h.press("Enter");
    h.api_until("/api/v1/platform/plans", "no plan", |v| {
        v["data"].as_array().is_some_and(|a| a.is_empty())
    });
    h.wait_text("No plans yet");
    h.typ("q");
}
