//! The daemon's recent log lines in memory, for `GET /api/v1/system/logs` and its live tail.
//!
//! A `tracing` layer ([`RingLayer`]) installed beside the stderr formatter copies each event
//! into a bounded ring ([`LogRing`], 5,000 lines) after scrubbing anything that looks like a
//! key or token. The ring belongs to one daemon (it sits in `AppState`), so tests can run
//! many daemons in one process and give each its own.
//!
//! Neither the ring nor stderr ([`SafeFields`]) ever carries a control character or an
//! invisible format character from a message or field value: they are written escaped
//! (`\u{1b}`, `\r`, `\n`), so no text reaching a log line can drive the terminal that shows
//! it (escape sequences, OSC 52 clipboard writes, bidi overrides) or forge a second line.

use chrono::Utc;
use echo5_core::logs::{LogLevel, LogLine, LogPage, LogSince, scrub_secrets};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Lines kept. At most [`MESSAGE_MAX`] bytes each, so the ring stays under ~25 MB.
pub const LOG_RING: usize = 5_000;
/// Longest message kept; longer ones are cut (on a character boundary) and marked.
pub const MESSAGE_MAX: usize = 4_096;

pub struct LogRing {
    state: Mutex<RingState>,
    capacity: usize,
    tx: broadcast::Sender<LogLine>,
}

struct RingState {
    next_seq: u64,
    lines: VecDeque<(LogLevel, LogLine)>,
}

impl LogRing {
    pub fn new(capacity: usize) -> Arc<LogRing> {
        let (tx, _) = broadcast::channel(1024);
        Arc::new(LogRing {
            state: Mutex::new(RingState {
                next_seq: 1,
                lines: VecDeque::with_capacity(capacity.min(LOG_RING)),
            }),
            capacity: capacity.max(1),
            tx,
        })
    }

    /// Adds a line (scrubbed, cut to [`MESSAGE_MAX`]) and sends it to live tails.
    pub fn push(&self, level: LogLevel, target: &str, message: &str) {
        let mut message = escape_controls(&scrub_secrets(message)).into_owned();
        if message.len() > MESSAGE_MAX {
            let mut cut = MESSAGE_MAX;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(" …[cut]");
        }
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let line = LogLine {
            seq: st.next_seq,
            time: Utc::now(),
            level: level.as_str().to_string(),
            target: target.to_string(),
            message,
        };
        st.next_seq += 1;
        if st.lines.len() >= self.capacity {
            st.lines.pop_front();
        }
        st.lines.push_back((level, line.clone()));
        // Under the lock, so live tails see lines in seq order; no tail is fine.
        let _ = self.tx.send(line);
    }

    /// Lines at `min` or above: after `since`, the first `limit` (a poller passing the last
    /// seq it saw misses nothing the ring still holds); without `since`, the newest `limit`.
    /// Oldest first either way.
    pub fn query(&self, min: LogLevel, since: Option<LogSince>, limit: usize) -> LogPage {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let latest_seq = st.next_seq - 1;
        let matches =
            |(lvl, l): &&(LogLevel, LogLine)| *lvl >= min && since.is_none_or(|s| s.admits(l));
        let data: Vec<LogLine> = match since {
            Some(_) => st
                .lines
                .iter()
                .filter(matches)
                .take(limit)
                .map(|(_, l)| l.clone())
                .collect(),
            None => {
                let mut newest: Vec<LogLine> = st
                    .lines
                    .iter()
                    .rev()
                    .filter(matches)
                    .take(limit)
                    .map(|(_, l)| l.clone())
                    .collect();
                newest.reverse();
                newest
            }
        };
        LogPage { data, latest_seq }
    }

    /// A live receiver and the kept lines after `last_seq` it would otherwise miss.
    /// Subscribing under the lock means no line falls between the two.
    pub fn subscribe(&self, last_seq: Option<u64>) -> (Vec<LogLine>, broadcast::Receiver<LogLine>) {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let rx = self.tx.subscribe();
        let replay = match last_seq {
            Some(n) => st
                .lines
                .iter()
                .filter(|(_, l)| l.seq > n)
                .map(|(_, l)| l.clone())
                .collect(),
            None => Vec::new(),
        };
        (replay, rx)
    }
}

/// `s` with every control character and invisible format character written as an escape
/// (`\n`, `\r`, `\t`, `\u{1b}`, `\u{202e}`), so it prints as one inert line.
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || echo5_core::ingest::clean::is_invisible(c);
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// How the stderr log writes an event's fields: as the default formatter does (the message,
/// then `name=value` pairs), with every value passed through [`escape_controls`]. The default
/// writes `%`-formatted values as they are, so one call site logging text it did not make
/// would hand the terminal raw escape sequences.
pub struct SafeFields;

impl<'writer> FormatFields<'writer> for SafeFields {
    fn format_fields<R: RecordFields>(
        &self,
        writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        let mut v = SafeVisitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut v);
        v.result
    }
}

struct SafeVisitor<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: std::fmt::Result,
}

impl Visit for SafeVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let name = field.name();
        // The `log` bridge's bookkeeping (module, file, line) is not part of the line.
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        let text = format!("{value:?}");
        let text = escape_controls(&text);
        let sep = if self.first { "" } else { " " };
        self.first = false;
        self.result = if name == "message" {
            write!(self.writer, "{sep}{text}")
        } else {
            write!(self.writer, "{sep}{name}={text}")
        };
    }
}

/// The `tracing` layer that feeds a [`LogRing`].
pub struct RingLayer {
    ring: Arc<LogRing>,
}

impl RingLayer {
    pub fn new(ring: Arc<LogRing>) -> RingLayer {
        RingLayer { ring }
    }
}

/// A span's fields as text (`method=GET route=/api/v1/leads`), kept in its extensions.
struct SpanFields(String);

/// Collects an event's or span's fields: the message apart, the rest as `key=value`.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
    /// The real target of a line bridged from the `log` crate (its own target is `log`).
    log_target: Option<String>,
}

impl Fields {
    fn add(&mut self, field: &Field, value: std::fmt::Arguments<'_>) {
        if field.name() == "message" {
            let _ = self.message.write_fmt(value);
        } else if field.name().starts_with("log.") {
            // The `log` bridge's own bookkeeping (module, file, line): not part of the line.
        } else {
            if !self.rest.is_empty() {
                self.rest.push(' ');
            }
            let _ = write!(self.rest, "{}=", field.name());
            let _ = self.rest.write_fmt(value);
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else if field.name() == "log.target" {
            self.log_target = Some(value.to_string());
        } else {
            self.add(field, format_args!("{value:?}"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.add(field, format_args!("{value:?}"));
    }
}

fn level_of(l: &tracing::Level) -> LogLevel {
    match *l {
        tracing::Level::ERROR => LogLevel::Error,
        tracing::Level::WARN => LogLevel::Warn,
        tracing::Level::INFO => LogLevel::Info,
        tracing::Level::DEBUG => LogLevel::Debug,
        _ => LogLevel::Trace,
    }
}

impl<S> Layer<S> for RingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        attrs.record(&mut f);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(f.rest));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        values.record(&mut f);
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            match ext.get_mut::<SpanFields>() {
                Some(s) if !f.rest.is_empty() => {
                    if !s.0.is_empty() {
                        s.0.push(' ');
                    }
                    s.0.push_str(&f.rest);
                }
                Some(_) => {}
                None => ext.insert(SpanFields(f.rest)),
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = level_of(meta.level());
        let mut f = Fields::default();
        event.record(&mut f);
        let target = f.log_target.as_deref().unwrap_or(meta.target());
        // Other crates' debug and trace lines stay out: the HTTP stack logs each frame it
        // writes at those levels, and a live tail of them would feed itself.
        if level < LogLevel::Info && !target.starts_with("echo5") {
            return;
        }
        let mut text = String::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                text.push_str(span.name());
                if let Some(f) = span.extensions().get::<SpanFields>()
                    && !f.0.is_empty()
                {
                    let _ = write!(text, "{{{}}}", f.0);
                }
                text.push_str(": ");
            }
        }
        text.push_str(&f.message);
        if !f.rest.is_empty() {
            if !f.message.is_empty() {
                text.push(' ');
            }
            text.push_str(&f.rest);
        }
        self.ring.push(level, target, &text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn the_layer_captures_scrubs_and_bounds() {
        let ring = LogRing::new(4);
        let sub = tracing_subscriber::registry().with(RingLayer::new(ring.clone()));
        tracing::subscriber::with_default(sub, || {
            tracing::info!("first");
            let span = tracing::info_span!("http", method = "POST", route = "/api/v1/leads");
            let _g = span.enter();
            tracing::info!(status = 401, "refused e5_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z");
            tracing::warn!(auth = "Bearer e5a_secrettokensecrettoken", "admin refused");
            tracing::debug!("debug line");
            tracing::error!("boom");
        });
        let all = ring.query(LogLevel::Trace, None, 100);
        assert_eq!(all.latest_seq, 5);
        assert_eq!(
            all.data.iter().map(|l| l.seq).collect::<Vec<_>>(),
            [2, 3, 4, 5],
            "bounded: the oldest line went"
        );
        let text = serde_json::to_string(&all).unwrap();
        assert!(!text.contains("secrettoken"), "{text}");
        assert!(!text.contains("Ab3dEf6hIj9kLm2nOp5q"), "{text}");
        assert_eq!(
            all.data[0].message,
            "http{method=\"POST\" route=\"/api/v1/leads\"}: refused e5_[redacted] status=401"
        );
        assert_eq!(all.data[1].level, "WARN");
        assert_eq!(all.data[1].target, module_path!());
        let warn = ring.query(LogLevel::Warn, None, 100);
        assert_eq!(warn.data.iter().map(|l| l.seq).collect::<Vec<_>>(), [3, 5]);
        let since = ring.query(LogLevel::Trace, Some(LogSince::Seq(3)), 1);
        assert_eq!(since.data.iter().map(|l| l.seq).collect::<Vec<_>>(), [4]);
        let newest = ring.query(LogLevel::Trace, None, 1);
        assert_eq!(newest.data[0].seq, 5);
        let (replay, _rx) = ring.subscribe(Some(4));
        assert_eq!(replay.iter().map(|l| l.seq).collect::<Vec<_>>(), [5]);
    }

    #[test]
    fn control_characters_are_escaped_in_the_ring() {
        let ring = LogRing::new(10);
        let sub = tracing_subscriber::registry().with(RingLayer::new(ring.clone()));
        let name = "Jane\u{1b}]52;c;aGk=\u{7}\r\n2026-01-01 WARN forged\u{202e}\u{9b}2J";
        tracing::subscriber::with_default(sub, || {
            tracing::info!(who = %name, "seen {name}");
        });
        let l = &ring.query(LogLevel::Trace, None, 1).data[0];
        assert!(
            !l.message.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{:?}",
            l.message
        );
        assert!(
            l.message.contains("\\u{1b}]52;c;aGk=\\u{7}\\r\\n2026"),
            "{:?}",
            l.message
        );
    }

    #[test]
    fn safe_fields_escape_what_the_default_writes_raw() {
        use tracing_subscriber::fmt::MakeWriter;
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        impl<'a> MakeWriter<'a> for Buf {
            type Writer = Buf;
            fn make_writer(&'a self) -> Buf {
                self.clone()
            }
        }
        let buf = Buf::default();
        let sub = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(buf.clone())
                .with_ansi(false)
                .fmt_fields(SafeFields),
        );
        let evil = "x\u{1b}[2J\r\nERROR forged\u{85}\u{202e}";
        tracing::subscriber::with_default(sub, || {
            let span = tracing::info_span!("http", route = %evil);
            let _g = span.enter();
            tracing::warn!(subject = %evil, n = 3, quoted = evil, "msg {evil}");
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(out.matches('\n').count(), 1, "{out:?}");
        assert!(out.ends_with('\n'));
        assert!(
            !out.trim_end()
                .chars()
                .any(|c| c.is_control() || c == '\u{202e}'),
            "{out:?}"
        );
        assert!(
            out.contains("subject=x\\u{1b}[2J\\r\\nERROR forged"),
            "{out:?}"
        );
        assert!(out.contains(" n=3"), "{out:?}");
        assert!(out.contains("msg x\\u{1b}"), "{out:?}");
    }

    #[test]
    fn long_lines_are_cut() {
        let ring = LogRing::new(10);
        ring.push(LogLevel::Info, "t", &"é".repeat(MESSAGE_MAX));
        let l = &ring.query(LogLevel::Trace, None, 1).data[0];
        assert!(l.message.len() <= MESSAGE_MAX + 10);
        assert!(l.message.ends_with("…[cut]"));
    }
}
