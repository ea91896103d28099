//! The live event stream: one connection to `GET /api/v1/events`, parsed into
//! [`StreamMsg`]s for the main loop. When to reconnect (and from which event id) is
//! `update`'s decision, so this only ever runs one connection to its end.

use std::time::Duration;
use tokio::sync::mpsc;

use super::Client;
use crate::app::{Action, LogMsg, StreamMsg};
use echo5_core::logs::LogLine;

/// The daemon sends a keep-alive comment every 15 s; three missed ones mean the connection
/// is dead even if TCP has not noticed.
const IDLE_LIMIT: Duration = Duration::from_secs(45);

/// One `event:`/`id:`/`data:` block of the stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
}

/// Incremental Server-Sent Events parser: feed it bytes as they arrive (split anywhere),
/// take whole frames out. Comments (keep-alives) and unknown fields are skipped.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    cur: Frame,
    has_data: bool,
}

impl Parser {
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Frame> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line);
            if line.is_empty() {
                let frame = std::mem::take(&mut self.cur);
                if self.has_data || frame.event.is_some() {
                    out.push(frame);
                }
                self.has_data = false;
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line.as_ref(), ""),
            };
            match field {
                "event" => self.cur.event = Some(value.to_string()),
                "id" => self.cur.id = Some(value.to_string()),
                "data" => {
                    if self.has_data {
                        self.cur.data.push('\n');
                    }
                    self.cur.data.push_str(value);
                    self.has_data = true;
                }
                _ => {}
            }
        }
        out
    }
}

/// What the console needs of a frame: its kind, id and tenant.
pub fn to_msg(frame: Frame) -> StreamMsg {
    let event: Option<echo5_core::events::Event> = serde_json::from_str(&frame.data).ok();
    let id = frame
        .id
        .as_deref()
        .and_then(|i| i.trim().parse().ok())
        .or(event.as_ref().map(|e| e.id));
    let kind = frame
        .event
        .or_else(|| event.as_ref().map(|e| e.kind.clone()))
        .unwrap_or_else(|| "message".into());
    StreamMsg::Event {
        id,
        kind,
        tenant: event.and_then(|e| e.tenant.map(|t| t.id)),
    }
}

/// Reads an open stream until it ends, handing each read's frames to `on_frames` (which
/// returns false once nobody listens). Returns why it ended, or `None` if the listener left.
async fn pump(
    mut resp: reqwest::Response,
    mut on_frames: impl FnMut(Vec<Frame>) -> bool,
) -> Option<String> {
    let mut parser = Parser::default();
    loop {
        match tokio::time::timeout(IDLE_LIMIT, resp.chunk()).await {
            Err(_) => return Some("no keep-alive from the daemon".to_string()),
            Ok(Err(e)) => return Some(e.to_string()),
            Ok(Ok(None)) => return Some("the daemon closed the stream".to_string()),
            Ok(Ok(Some(bytes))) => {
                let frames = parser.feed(&bytes);
                if !frames.is_empty() && !on_frames(frames) {
                    return None;
                }
            }
        }
    }
}

/// Runs one connection until it ends, reporting to `tx` tagged with `conn_id`. It always
/// ends with `Closed`, which is what makes `update` schedule the next attempt.
pub async fn run(
    client: Client,
    conn_id: u64,
    last_event_id: Option<u64>,
    tx: mpsc::UnboundedSender<Action>,
) {
    let send = |msg: StreamMsg| tx.send(Action::Stream { conn_id, msg }).is_ok();
    let error = match client.open_events(last_event_id).await {
        Err(e) => e.to_string(),
        Ok(resp) => {
            if !send(StreamMsg::Opened) {
                return;
            }
            let sent = pump(resp, |frames| frames.into_iter().all(|f| send(to_msg(f)))).await;
            match sent {
                Some(why) => why,
                None => return,
            }
        }
    };
    let _ = send(StreamMsg::Closed { error });
}

/// A `log` frame's line; other frames (and lines this console cannot read) are skipped.
pub fn to_log_line(frame: &Frame) -> Option<LogLine> {
    if frame.event.as_deref().is_some_and(|e| e != "log") {
        return None;
    }
    serde_json::from_str(&frame.data).ok()
}

/// The live log tail: like [`run`], but every read's lines travel as one message, so a
/// burst of log lines costs one update and one redraw rather than one each.
pub async fn run_logs(
    client: Client,
    conn_id: u64,
    last_seq: Option<u64>,
    tx: mpsc::UnboundedSender<Action>,
) {
    let send = |msg: LogMsg| tx.send(Action::LogStream { conn_id, msg }).is_ok();
    let error = match client.open_log_stream(last_seq).await {
        Err(e) => e.to_string(),
        Ok(resp) => {
            if !send(LogMsg::Opened) {
                return;
            }
            let sent = pump(resp, |frames| {
                let lines: Vec<LogLine> = frames.iter().filter_map(to_log_line).collect();
                let lagged = frames.iter().any(|f| f.event.as_deref() == Some("lagged"));
                (lines.is_empty() || send(LogMsg::Lines(lines)))
                    && (!lagged || send(LogMsg::Lagged))
            })
            .await;
            match sent {
                Some(why) => why,
                None => return,
            }
        }
    };
    let _ = send(LogMsg::Closed { error });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_anywhere_and_comments_skipped() {
        let text = ": keep-alive\n\nevent: lead.created\nid: 7\ndata: {\"a\":1}\n\nevent: sla.breached\r\nid: 8\r\ndata: x\r\n\r\n";
        let mut p = Parser::default();
        let mut frames = Vec::new();
        for chunk in text.as_bytes().chunks(5) {
            frames.extend(p.feed(chunk));
        }
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].event.as_deref(), Some("lead.created"));
        assert_eq!(frames[0].id.as_deref(), Some("7"));
        assert_eq!(frames[0].data, "{\"a\":1}");
        assert_eq!(frames[1].event.as_deref(), Some("sla.breached"));
        assert_eq!(frames[1].data, "x");
    }

    #[test]
    fn multi_line_data_joins_with_newlines() {
        let mut p = Parser::default();
        let f = p.feed(b"data: a\ndata: b\n\n");
        assert_eq!(f[0].data, "a\nb");
    }

    #[test]
    fn log_frames_become_lines() {
        let mut p = Parser::default();
        let frames = p.feed(
            b"event: log\nid: 41\ndata: {\"seq\":41,\"time\":\"2026-03-02T09:30:00Z\",\"level\":\"INFO\",\"target\":\"echo5d\",\"message\":\"hello\"}\n\n: ping\n\nevent: other\ndata: {}\n\n",
        );
        let lines: Vec<LogLine> = frames.iter().filter_map(to_log_line).collect();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].seq, 41);
        assert_eq!(lines[0].message, "hello");
    }

    #[test]
    fn event_json_gives_the_tenant() {
        let data = r#"{"id":12,"kind":"lead.created","at":"2026-03-02T09:30:00Z","tenant":{"id":"00000000-0000-0000-0000-000000001001","slug":"open-arms","name":"Open Arms"},"data":{}}"#;
        let msg = to_msg(Frame {
            event: Some("lead.created".into()),
            id: Some("12".into()),
            data: data.into(),
        });
        assert_eq!(
            msg,
            StreamMsg::Event {
                id: Some(12),
                kind: "lead.created".into(),
                tenant: Some(uuid::Uuid::from_u128(0x1001)),
            }
        );
    }
}
