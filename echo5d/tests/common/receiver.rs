//! A real webhook receiver on a loopback port: records every request and answers as the
//! test plans, per path (a status, a delay, a redirect, a `Retry-After`).

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One planned answer.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    /// A status with extra headers (`Retry-After`, `Location`).
    WithHeaders(u16, Vec<(&'static str, String)>),
    /// Waits this long, then answers 200.
    Slow(Duration),
    /// Answers 200 only once the test calls `notify_waiters` on it.
    Held(Arc<tokio::sync::Notify>),
    /// A status whose body repeats the request's `Authorization` header, as a careless
    /// API's error page might: what a caller keeps of an answer must not keep a secret.
    EchoAuthorization(u16),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    /// Answers still planned per path; when none is left, `fallback` (200 by default).
    plans: HashMap<String, VecDeque<Reply>>,
    fallback: HashMap<String, Reply>,
}

#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pub port: u16,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let shared = inner.clone();
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let shared = shared.clone();
            async move { answer(shared, uri, headers, body).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            base: format!("http://127.0.0.1:{port}"),
            port,
            inner,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Answers for the next requests to `path`, in order.
    pub fn plan(&self, path: &str, replies: Vec<Reply>) {
        self.inner
            .lock()
            .unwrap()
            .plans
            .insert(path.into(), replies.into());
    }

    /// The answer to `path` once its plan is spent.
    pub fn always(&self, path: &str, reply: Reply) {
        self.inner
            .lock()
            .unwrap()
            .fallback
            .insert(path.into(), reply);
    }

    pub fn received(&self, path: &str) -> Vec<Received> {
        self.inner
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    pub fn all(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits (up to `within`) until `path` has had `n` requests; returns them.
    pub async fn wait_for(&self, path: &str, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received(path);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: {} of {n} requests within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn answer(inner: Arc<Mutex<Inner>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let reply = {
        let mut g = inner.lock().unwrap();
        g.received.push(Received {
            path: path.clone(),
            headers,
            body,
            at: Instant::now(),
        });
        g.plans
            .get_mut(&path)
            .and_then(VecDeque::pop_front)
            .or_else(|| g.fallback.get(&path).cloned())
            .unwrap_or(Reply::Status(200))
    };
    match reply {
        Reply::Status(s) => (StatusCode::from_u16(s).unwrap(), "answer").into_response(),
        Reply::WithHeaders(s, hs) => {
            let mut r = (StatusCode::from_u16(s).unwrap(), "answer").into_response();
            for (k, v) in hs {
                r.headers_mut().insert(k, v.parse().unwrap());
            }
            r
        }
        Reply::Slow(d) => {
            tokio::time::sleep(d).await;
            (StatusCode::OK, "late").into_response()
        }
        Reply::Held(gate) => {
            gate.notified().await;
            (StatusCode::OK, "released").into_response()
        }
        Reply::EchoAuthorization(s) => (
            StatusCode::from_u16(s).unwrap(),
            format!("{{\"error\":{{\"message\":\"Invalid API Key provided: {authorization}\"}}}}"),
        )
            .into_response(),
    }
}
