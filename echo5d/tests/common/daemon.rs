//! The real `echo5d` binary as a child process, for tests that need `main` itself (signals,
//! restarts, the process's own log, faults injected from outside).
//!
//! Each daemon runs on its own data directory (the caller's temp dir) and a free loopback
//! port; it is killed on drop, so a failing test leaves nothing behind, and when it logs to a
//! file (`Launch::log_to`) the last lines of that log are printed if the test is failing.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a start may take (a 2-core machine shared with other builds).
const READY_WITHIN: Duration = Duration::from_secs(30);
/// How long a SIGTERM may take before the daemon is killed and the test fails.
const STOP_WITHIN: Duration = Duration::from_secs(30);

/// How often a daemon whose port was taken before it could bind it is started again.
const PORT_RETRIES: u32 = 5;

/// A loopback port nobody listens on right now (which another process may take before the
/// daemon binds it: `RealDaemon::wait_ready` starts the daemon again on a new one then).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Something else listens on loopback `port` (binding it fails with "address in use").
fn port_taken(port: u16) -> bool {
    matches!(
        std::net::TcpListener::bind(("127.0.0.1", port)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse
    )
}

/// Process `pid` holds a socket listening on IPv4 `port` (Linux: `/proc/net/tcp` and the
/// process's file descriptors), so an answer on the port comes from it.
fn listens_on(pid: u32, port: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    let want = format!(":{port:04X}");
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // local_address, rem_address, st (0A = LISTEN), ..., inode
            (f.len() > 9 && f[1].ends_with(&want) && f[3] == "0A")
                .then(|| format!("socket:[{}]", f[9]))
        })
        .collect();
    if inodes.is_empty() {
        return false;
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .any(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
}

/// Where the daemon's stderr (its log) goes.
#[derive(Clone, Default)]
enum Stderr {
    #[default]
    Null,
    /// Read by a thread of the test process as it comes (a daemon logging at trace fills
    /// a pipe's 64 KiB long before it exits, and would block on its next write); handed
    /// over by `stop_with_output` / `wait_with_output`.
    Piped,
    /// Copied into this file by a thread of the test process (so faults injected into the
    /// daemon's own file writes cannot lose it).
    File(PathBuf),
}

/// How to start the daemon beyond `--data-dir` and `--listen`. `ECHO5_MASTER_KEY` and
/// `ECHO5_MASTER_KEY_FILE` are always removed from the environment (set them with `env`);
/// stdout and stderr go nowhere unless asked for.
#[derive(Clone, Default)]
pub struct Launch {
    args: Vec<String>,
    envs: Vec<(String, String)>,
    env_removes: Vec<String>,
    stdout_piped: bool,
    stderr: Stderr,
    /// A lower soft open-file limit for the daemon process.
    soft_open_files: Option<u64>,
    /// Run inside the user and mount namespaces of this process (`nsenter`), where the data
    /// directory is at this path (the test reaches it through the `data` it was given).
    namespaces_of: Option<(u32, PathBuf)>,
}

/// The binary under test: `ECHO5D_TEST_BIN` (e.g. a release build of an older commit, to
/// show a regression test fails there), or this build's.
pub fn daemon_bin() -> String {
    std::env::var("ECHO5D_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_echo5d").to_string())
}

impl Launch {
    /// Starts the daemon with this soft open-file limit (the hard one unchanged).
    pub fn soft_open_files(mut self, n: u64) -> Launch {
        self.soft_open_files = Some(n);
        self
    }

    pub fn new() -> Launch {
        Launch::default()
    }

    /// Runs the daemon inside the user and mount namespaces of process `pid` (see
    /// `UserTmpfs`), with `--data-dir inside` as that process sees it.
    pub fn in_namespaces_of(mut self, pid: u32, inside: &Path) -> Launch {
        self.namespaces_of = Some((pid, inside.to_path_buf()));
        self
    }

    pub fn args(mut self, args: &[&str]) -> Launch {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Launch {
        self.envs.push((key.to_string(), value.to_string()));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Launch {
        self.env_removes.push(key.to_string());
        self
    }

    /// stdout and stderr into pipes, read when the daemon has exited.
    pub fn piped(mut self) -> Launch {
        self.stdout_piped = true;
        self.stderr = Stderr::Piped;
        self
    }

    /// stderr into a pipe, read when the daemon has exited; stdout nowhere.
    pub fn stderr_piped(mut self) -> Launch {
        self.stderr = Stderr::Piped;
        self
    }

    /// stderr appended to `log` (see `RealDaemon::log_text`).
    pub fn log_to(mut self, log: &Path) -> Launch {
        self.stderr = Stderr::File(log.to_path_buf());
        self
    }
}

pub struct RealDaemon {
    child: Option<Child>,
    pub base: String,
    pub port: u16,
    pub data: PathBuf,
    launch: Launch,
    /// The port came from `free_port` (so another may be picked if it was taken).
    port_picked: bool,
    /// Drains a piped stderr while the daemon runs; yields what it read once it closes.
    stderr_reader: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl RealDaemon {
    /// Spawns the daemon on `data` and a free port, without waiting for it.
    pub fn spawn(data: &Path, launch: Launch) -> RealDaemon {
        let mut d = RealDaemon::spawn_on(data, free_port(), launch);
        d.port_picked = true;
        d
    }

    /// Spawns the daemon on `data` and `port`, without waiting for it.
    pub fn spawn_on(data: &Path, port: u16, launch: Launch) -> RealDaemon {
        let mut cmd = match &launch.namespaces_of {
            None => Command::new(daemon_bin()),
            Some((pid, _)) => {
                // nsenter joins the namespaces and execs the daemon: the child is the daemon.
                let mut c = Command::new("nsenter");
                c.arg(format!("--target={pid}"))
                    .args(["--user", "--mount", "--preserve-credentials", "--"])
                    .arg(daemon_bin());
                c
            }
        };
        let data_arg = match &launch.namespaces_of {
            Some((_, inside)) => inside.clone(),
            None => data.to_path_buf(),
        };
        if let Some(n) = launch.soft_open_files {
            use std::os::unix::process::CommandExt;
            // SAFETY: only a setrlimit system call runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
                    let hard = getrlimit(Resource::Nofile).maximum;
                    setrlimit(
                        Resource::Nofile,
                        Rlimit {
                            current: Some(n),
                            maximum: hard,
                        },
                    )
                    .map_err(std::io::Error::from)
                });
            }
        }
        cmd.arg("--data-dir")
            .arg(&data_arg)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(&launch.args)
            .env_remove("ECHO5_MASTER_KEY")
            .env_remove("ECHO5_MASTER_KEY_FILE")
            .stdout(if launch.stdout_piped {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(match launch.stderr {
                Stderr::Null => Stdio::null(),
                Stderr::Piped | Stderr::File(_) => Stdio::piped(),
            });
        for k in &launch.env_removes {
            cmd.env_remove(k);
        }
        for (k, v) in &launch.envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        if let Stderr::File(log) = &launch.stderr {
            let mut log_file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap();
            let mut stderr = child.stderr.take().unwrap();
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut log_file));
        }
        let stderr_reader = match (&launch.stderr, child.stderr.take()) {
            (Stderr::Piped, Some(mut stderr)) => Some(std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = stderr.read_to_end(&mut buf);
                buf
            })),
            _ => None,
        };
        RealDaemon {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            port,
            data: data.to_path_buf(),
            launch,
            port_picked: false,
            stderr_reader,
        }
    }

    /// Spawns the daemon on `data` and a free port and waits until `/readyz` says 200.
    pub async fn start(data: &Path, launch: Launch) -> RealDaemon {
        let mut d = RealDaemon::spawn(data, launch);
        d.wait_ready().await;
        d
    }

    /// Spawns the daemon on `dir/data`, logging to `dir/daemon.log`, with the per-key rate
    /// limit off (so a test's own traffic is not what gets throttled) and the options
    /// `adjust` adds; waits until ready.
    pub async fn start_logged(dir: &Path, adjust: impl FnOnce(Launch) -> Launch) -> RealDaemon {
        let launch = Launch::new()
            .log_to(&dir.join("daemon.log"))
            .env("ECHO5_KEY_RATE_LIMIT", "0");
        RealDaemon::start(&dir.join("data"), adjust(launch)).await
    }

    /// `start_logged`, then tenant "Open Arms" with an API key: (daemon, admin token, key
    /// secret).
    pub async fn start_logged_with_key(
        dir: &Path,
        adjust: impl FnOnce(Launch) -> Launch,
    ) -> (RealDaemon, String, String) {
        let d = RealDaemon::start_logged(dir, adjust).await;
        let token = d.token();
        let (_, key) = d.tenant_and_key(&token).await;
        (d, token, key)
    }

    /// After `kill` or `stop`: the same binary, data directory, port and options again,
    /// waited for until ready.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "restart of a running daemon");
        *self = RealDaemon::spawn_on(&self.data, self.port, self.launch.clone());
        self.wait_ready().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// The admin token the daemon wrote into its data directory.
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.data.join("admin.token"))
            .unwrap()
            .trim()
            .to_string()
    }

    /// The log so far, when it goes to a file; empty otherwise.
    pub fn log_text(&self) -> String {
        match &self.launch.stderr {
            Stderr::File(log) => std::fs::read_to_string(log).unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// Polls `/readyz` until this daemon answers 200 on its port; fails if the daemon exits
    /// or is not ready in time. A daemon spawned on a port picked by `free_port` that
    /// another test took in the meantime is started again on a new port.
    pub async fn wait_ready(&mut self) {
        let mut attempts = 0;
        loop {
            match self.ready_or_exit().await {
                Ok(()) => return,
                Err(status)
                    if self.port_picked && attempts < PORT_RETRIES && port_taken(self.port) =>
                {
                    attempts += 1;
                    eprintln!(
                        "daemon exited at start ({status}): port {} was taken by another process; \
                         starting it again on a new port",
                        self.port
                    );
                    *self = RealDaemon::spawn(&self.data, self.launch.clone());
                }
                Err(status) => panic!("daemon exited at start: {status}\n{}", self.log_text()),
            }
        }
    }

    /// `Ok` once `/readyz` says 200 and the answering socket is this daemon's own (not a
    /// process that took the port); `Err` with the exit status if the daemon exits first.
    async fn ready_or_exit(&mut self) -> Result<(), ExitStatus> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                return Err(status);
            }
            if listens_on(self.pid(), self.port)
                && let Ok(r) = client
                    .get(self.url("/readyz"))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await
                && r.status() == StatusCode::OK
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("daemon did not become ready\n{}", self.log_text());
    }

    /// SIGKILL: no shutdown, no flush, no checkpoint.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM, then waits for the exit (bounded; killed and failed if it hangs).
    pub fn stop(&mut self) -> ExitStatus {
        self.stop_with_output().0
    }

    /// `stop`, and what the daemon wrote to the pipes asked for in `Launch`: (status,
    /// stdout, stderr).
    pub fn stop_with_output(&mut self) -> (ExitStatus, String, String) {
        let pid = self.pid().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + STOP_WITHIN;
        loop {
            if self.child.as_mut().unwrap().try_wait().unwrap().is_some() {
                return self.wait_with_output();
            }
            if Instant::now() > deadline {
                let mut child = self.child.take().unwrap();
                let _ = child.kill();
                let _ = child.wait();
                panic!("daemon did not stop within 30 s\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the daemon to exit by itself (a refused start): (status, stdout, stderr).
    pub fn wait_with_output(&mut self) -> (ExitStatus, String, String) {
        let mut child = self.child.take().expect("running");
        let status = child.wait().unwrap();
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut o) = child.stdout.take() {
            o.read_to_string(&mut out).unwrap();
        }
        if let Some(mut e) = child.stderr.take() {
            e.read_to_string(&mut err).unwrap();
        }
        if let Some(reader) = self.stderr_reader.take() {
            err = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
        }
        (status, out, err)
    }

    /// A JSON lead posted with `key` in `X-API-Key`, from `client`.
    pub async fn post_lead(
        &self,
        client: &reqwest::Client,
        key: &str,
        body: &Value,
    ) -> reqwest::Response {
        client
            .post(self.url("/api/v1/leads"))
            .header("x-api-key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Tenant "Open Arms" and an API key for it, over the admin API: (tenant, key secret).
    pub async fn tenant_and_key(&self, token: &str) -> (Value, String) {
        tenant_and_key_at(&self.base, token).await
    }
}

/// A lead with only a name and an e-mail address: Jane Roe.
pub fn sample_lead() -> Value {
    json!({"name": "Jane Roe", "email": "jane@example.com"})
}

/// Tenant "Open Arms" and an API key for it, over the admin API at `base` (the main listener
/// or `--admin-listen`'s): (tenant, key secret).
pub async fn tenant_and_key_at(base: &str, token: &str) -> (Value, String) {
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{base}/api/v1/tenants"))
        .bearer_auth(token)
        .json(&json!({"name": "Open Arms"}))
        .send()
        .await
        .expect("the admin API answers");
    assert_eq!(r.status(), StatusCode::CREATED);
    let t: Value = r.json().await.unwrap();
    let r = client
        .post(format!("{base}/api/v1/tenants/open-arms/keys"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let k: Value = r.json().await.unwrap();
    (t, k["secret"].as_str().unwrap().to_string())
}

impl Drop for RealDaemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            let log = self.log_text();
            if log.is_empty() {
                return;
            }
            let tail: Vec<&str> = log.lines().rev().take(80).collect();
            eprintln!("--- daemon log (last lines) ---");
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }
}
