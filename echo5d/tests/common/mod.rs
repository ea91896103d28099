//! The daemon on a real loopback port, in-process, over a real database file.
#![allow(dead_code)]

pub mod daemon;
pub mod graph;
pub mod plans;
pub mod real_api;
pub mod receiver;
pub mod smtp;
pub mod sse;
pub mod stripe;

use chrono::{DateTime, Utc};
use echo5_core::clock::ManualClock;
use echo5d::config::ServeArgs;
use echo5d::{AppState, run};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::oneshot;

pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

/// Every log line the in-process daemons of this test binary write. Tests run in parallel in
/// one process and share the one global subscriber, so this is the union of every test's
/// lines: right for asserting what never appears in any log (a secret), wrong for asserting
/// that a line appeared — use [`captured_lines_naming`] with a value only this test owns.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

/// The captured log lines that contain `id` (a lead or tenant id created by the calling test),
/// so a positive check sees only its own test's lines, not a neighbour's.
pub fn captured_lines_naming(id: &str) -> Vec<String> {
    captured_logs()
        .lines()
        .filter(|l| l.contains(id))
        .map(str::to_owned)
        .collect()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("trace")
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .try_init();
        buf
    })
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn args(dir: &std::path::Path) -> ServeArgs {
    ServeArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: Some(dir.to_path_buf()),
        demo: false,
        log: "info".into(),
        master_key: None,
        master_key_file: None,
        db_readers: 2,
        write_queue: 1024,
        key_rate_limit: 0,
        sla_interval: 3600,
        smtp_url: None,
        smtp_from: "Echo5 <echo5@test.example>".into(),
        public_url: None,
        smtp_url_file: None,
        http: Default::default(),
        sessions: Default::default(),
        // No test reaches Meta: a test with Meta leads starts its own Graph API stand-in
        // (`graph`); anything else queued finds this closed port and is retried.
        outbound: echo5d::config::OutboundArgs {
            meta_graph_url: "http://127.0.0.1:9".into(),
            ..Default::default()
        },
    }
}

pub struct TestServer {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// Starts with adjusted flags (a small write queue, a rate limit...).
    pub async fn start_with(adjust: impl FnOnce(&mut ServeArgs)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        TestServer::start_in(dir, Arc::new(ManualClock::new(t0())), adjust).await
    }

    /// Starts on an existing data directory (a restart) with the given clock.
    pub async fn start_in(
        dir: tempfile::TempDir,
        clock: Arc<ManualClock>,
        adjust: impl FnOnce(&mut ServeArgs),
    ) -> TestServer {
        log_buffer();
        let mut a = args(dir.path());
        adjust(&mut a);
        let prepared = run::prepare(&a, clock.clone()).await.unwrap();
        let token = prepared.new_admin_token.unwrap_or_else(|| {
            read_admin_token(dir.path()).expect("admin.token of the earlier start")
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let state = prepared.state.clone();
        let handle = tokio::spawn(echo5d::launch_with(
            echo5d::Listeners {
                main: listener,
                admin: None,
            },
            prepared.state,
            echo5d::app::http_options(&a.http, None, 1),
            async {
                let _ = rx.await;
            },
        ));
        TestServer {
            base,
            token: token.expose().clone(),
            client: reqwest::Client::new(),
            state,
            clock,
            dir,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request with the admin token and, when given, a JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("non-JSON body for {path} ({status}): {e}: {text}"))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &str) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &str) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &str) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a tenant and returns its JSON.
    pub async fn tenant(&self, body: &str) -> Value {
        let (status, t) = self.post("/api/v1/tenants", body).await;
        assert_eq!(status, StatusCode::CREATED, "{t}");
        t
    }

    /// Creates a tenant and an API key for it; returns the key.
    pub async fn tenant_with_key(&self, body: &str) -> (Value, String) {
        let t = self.tenant(body).await;
        let (status, k) = self
            .post(
                &format!("/api/v1/tenants/{}/keys", t["slug"].as_str().unwrap()),
                "{}",
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{k}");
        (t, k["secret"].as_str().unwrap().to_string())
    }

    /// Posts a raw submission with the key in `X-API-Key`.
    pub async fn submit(
        &self,
        key: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(self.url("/api/v1/leads"))
            .header("x-api-key", key)
            .body(body.to_vec());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON {status}: {text}")),
        )
    }

    /// The stored lead behind an ingest answer.
    pub async fn lead(&self, receipt: &Value) -> echo5_core::leads::Lead {
        let id: uuid::Uuid = receipt["id"]
            .as_str()
            .expect("id in receipt")
            .parse()
            .unwrap();
        self.state.store.get_lead(id).await.unwrap()
    }

    /// The id of the lead the receipt's lead was linked to as a duplicate, if any.
    pub async fn duplicate_of(&self, receipt: &Value) -> Option<String> {
        self.lead(receipt).await.duplicate_of.map(|d| d.to_string())
    }

    /// Stops serving and waits for pending writes to commit.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
        self.dir
    }
}

/// Asserts an error body: status, code and (when given) field.
#[track_caller]
pub fn assert_error(
    got: &(StatusCode, Value),
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    assert_eq!(got.0, status, "body: {}", got.1);
    assert_eq!(got.1["error"]["code"], code, "body: {}", got.1);
    assert!(
        got.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "error needs a message: {}",
        got.1
    );
    match field {
        Some(f) => assert_eq!(got.1["error"]["field"], f, "body: {}", got.1),
        None => assert!(
            got.1["error"].get("field").is_none(),
            "unexpected field: {}",
            got.1
        ),
    }
}

/// `admin.token` of a data directory, read as the console reads it on the same machine.
fn read_admin_token(dir: &std::path::Path) -> Option<echo5_core::secret::Secret<String>> {
    echo5d::datadir::read_secret_file(&dir.join(echo5d::datadir::ADMIN_TOKEN_FILE))
        .ok()
        .filter(|s| !s.expose().is_empty())
}
