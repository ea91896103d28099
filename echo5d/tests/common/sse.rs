//! A Server-Sent Events response read frame by frame.

use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

pub struct SseStream {
    resp: reqwest::Response,
    buf: String,
    /// Everything received, to search for secrets at the end.
    pub all: String,
}

impl SseStream {
    /// Sends `req` (with `Last-Event-ID: last_id` when given); the answer must be a 200
    /// event stream.
    pub async fn open(req: reqwest::RequestBuilder, last_id: Option<u64>) -> SseStream {
        let req = match last_id {
            Some(id) => req.header("last-event-id", id.to_string()),
            None => req,
        };
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        SseStream {
            resp,
            buf: String::new(),
            all: String::new(),
        }
    }

    /// The next event of `kind` (id, parsed data), skipping others; `None` when the stream
    /// ended; fails after 10 s.
    pub async fn next(&mut self, kind: &str) -> Option<(u64, Value)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                let field = |name: &str| {
                    frame.lines().find_map(|l| {
                        l.strip_prefix(&format!("{name}:"))
                            .map(|v| v.trim().to_string())
                    })
                };
                if field("event").as_deref() == Some(kind) {
                    let id = field("id").unwrap().parse().unwrap();
                    let data: Value = serde_json::from_str(&field("data").unwrap()).unwrap();
                    return Some((id, data));
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .unwrap_or_else(|_| panic!("no {kind} event within 10 s"))
                .ok()??;
            let text = String::from_utf8_lossy(&chunk);
            self.all.push_str(&text);
            self.buf.push_str(&text);
        }
    }
}
