//! Logs: the daemon's recent log lines and its live tail. The view follows the newest line
//! unless the operator scrolled up; a level filter and a `/` search narrow what is shown.
//! The buffer is bounded ([`LOG_BUFFER`]): the oldest lines go first.

use std::collections::VecDeque;

mod view;

use crossterm::event::KeyCode;
use echo5_core::logs::{LogLevel, LogLine};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::Component;
use crate::app::action::{LogMsg, Reply};
use crate::app::effect::{Call, Effect, Scope};
use crate::app::overlay::Overlay;
use crate::app::request::{admit, backoff, fetch};
use crate::app::state::{ListView, Live, LiveStatus, Remote, RemoteStatus};
use crate::app::{Resource, Screen, State};
use crate::keymap::{Binding, Cmd, b, ch, ctrl, k};

/// Log lines kept on the client; older ones are dropped first.
pub const LOG_BUFFER: usize = 5000;

/// The Logs screen's data: a bounded, seq-ordered buffer fed by the history fetch and the live
/// tail, and how it is viewed.
#[derive(Debug, Clone, PartialEq)]
pub struct Logs {
    /// Bookkeeping of the history fetch; the lines live in `lines`.
    pub fetch: Remote<()>,
    pub lines: VecDeque<LogLine>,
    /// `filter` is the search (a case-insensitive substring); `selected` is unused.
    pub view: ListView,
    /// Least severe level shown; `None` shows every line.
    pub level: Option<LogLevel>,
    /// Keep the newest line at the bottom as lines arrive.
    pub follow: bool,
    /// While not following: the seq of the line at the bottom of the view.
    pub anchor: Option<u64>,
    /// Matching lines that arrived while not following.
    pub unseen: usize,
    /// The live tail (`GET /api/v1/system/logs/stream`), open only while the screen is.
    pub stream: Live,
}

impl Default for Logs {
    fn default() -> Self {
        Logs {
            fetch: Remote::default(),
            lines: VecDeque::new(),
            view: ListView::default(),
            level: None,
            follow: true,
            anchor: None,
            unseen: 0,
            stream: Live::default(),
        }
    }
}

impl Logs {
    /// Whether a line passes the level filter and the search.
    pub fn shows(&self, l: &LogLine, needle: &str) -> bool {
        self.level.is_none_or(|min| line_level(l) >= min)
            && (needle.is_empty()
                || contains_ci(&l.message, needle)
                || contains_ci(&l.target, needle))
    }

    /// The search, lower-cased once per use.
    pub fn needle(&self) -> String {
        self.view.filter.to_lowercase()
    }
}

/// Case-insensitive substring test without allocating for ASCII text.
pub fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    if needle_lower.is_empty() {
        return true;
    }
    if hay.is_ascii() && needle_lower.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle_lower.as_bytes());
        return h.len() >= n.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(needle_lower)
}

/// A line's level for colouring and the client-side filter; a level the console does not
/// know reads as `Info` (the line is still shown). Core keeps `level` a string on the wire.
pub fn line_level(line: &LogLine) -> LogLevel {
    LogLevel::parse(&line.level).unwrap_or(LogLevel::Info)
}

pub struct LogsScreen;

const BINDINGS: &[Binding] = &[
    b(&[k(KeyCode::Enter)], Cmd::Open, "open line", true),
    b(&[ch('l')], Cmd::Level, "level", true),
    b(&[ch('f')], Cmd::Follow, "follow / pause", true),
    b(
        &[k(KeyCode::PageUp), ctrl('b')],
        Cmd::PageUp,
        "page up",
        false,
    ),
    b(
        &[k(KeyCode::PageDown), ctrl('f')],
        Cmd::PageDown,
        "page down",
        false,
    ),
];

impl Component for LogsScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        on_cmd(state, cmd)
    }

    // The live tail keeps the lines current; the history is read once (or on Ctrl-R).
    fn wanted(&self, state: &State, force: bool) -> Vec<Resource> {
        if force || state.logs.fetch.data.is_none() || state.logs.stream.status == LiveStatus::Off {
            vec![Resource::Logs]
        } else {
            Vec::new()
        }
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.logs.view)
    }

    /// The log view scrolls by lines rather than moving a cursor.
    fn move_cursor(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        on_cmd(state, cmd)
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Logs]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        Some((
            Call::GetLogs {
                level: state.logs.level,
            },
            Scope::Global,
        ))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.logs.fetch)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::GetLogs { .. }).then_some(Resource::Logs)
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        _call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        let Reply::Logs(lines) = reply else {
            return Err(Box::new(reply));
        };
        if admit(state, Resource::Logs, id) {
            let now = state.now;
            state.logs.fetch.store((), now);
            merge_history(state, lines);
        }
        Ok(Vec::new())
    }
}

/// Lines moved by PgUp/PgDn.
pub const PAGE: usize = 20;

/// The level filter's steps, in the order `l` cycles them (`None`: every line).
pub const LEVELS: [Option<LogLevel>; 4] = [
    None,
    Some(LogLevel::Info),
    Some(LogLevel::Warn),
    Some(LogLevel::Error),
];

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        // The line at the bottom of the view (marked there), in full.
        Cmd::Open => {
            if let Some(line) = bottom_index(&state.logs).and_then(|i| state.logs.lines.get(i)) {
                state.overlay = Some(Overlay::LogLine {
                    line: Box::new(line.clone()),
                    scroll: 0,
                });
            }
            Vec::new()
        }
        Cmd::Level => {
            let i = LEVELS
                .iter()
                .position(|l| *l == state.logs.level)
                .map_or(0, |i| (i + 1) % LEVELS.len());
            state.logs.level = LEVELS[i];
            state.logs.unseen = 0;
            // The buffer may hold few lines of that level; the daemon has more.
            fetch(state, Resource::Logs, true).into_iter().collect()
        }
        Cmd::Follow => {
            if state.logs.follow {
                pause(&mut state.logs);
            } else {
                follow(&mut state.logs);
            }
            Vec::new()
        }
        Cmd::Up => scroll_up(&mut state.logs, 1),
        Cmd::PageUp => scroll_up(&mut state.logs, PAGE),
        Cmd::Down => scroll_down(&mut state.logs, 1),
        Cmd::PageDown => scroll_down(&mut state.logs, PAGE),
        Cmd::Top => {
            let needle = state.logs.needle();
            let first = state
                .logs
                .lines
                .iter()
                .find(|l| state.logs.shows(l, &needle))
                .map(|l| l.seq);
            if first.is_some() {
                state.logs.follow = false;
                state.logs.anchor = first;
            }
            Vec::new()
        }
        Cmd::Bottom => {
            follow(&mut state.logs);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn follow(v: &mut Logs) {
    v.follow = true;
    v.anchor = None;
    v.unseen = 0;
}

/// Stops following with the view where it is: the newest shown line becomes the anchor.
fn pause(v: &mut Logs) {
    let needle = v.needle();
    v.follow = false;
    v.anchor = v
        .lines
        .iter()
        .rev()
        .find(|l| v.shows(l, &needle))
        .map(|l| l.seq);
}

/// Index in `lines` of the line at the bottom of the view.
pub fn bottom_index(v: &Logs) -> Option<usize> {
    let needle = v.needle();
    let upto = match (v.follow, v.anchor) {
        (false, Some(seq)) => v.lines.partition_point(|l| l.seq <= seq),
        _ => v.lines.len(),
    };
    let found = v.lines.range(..upto).rposition(|l| v.shows(l, &needle));
    // The anchor line left the buffer or the filter: the oldest shown line stands in.
    found.or_else(|| v.lines.iter().position(|l| v.shows(l, &needle)))
}

fn scroll_up(v: &mut Logs, n: usize) -> Vec<Effect> {
    let Some(mut i) = bottom_index(v) else {
        return Vec::new();
    };
    let needle = v.needle();
    for _ in 0..n {
        match v.lines.range(..i).rposition(|l| v.shows(l, &needle)) {
            Some(j) => i = j,
            None => break,
        }
    }
    v.follow = false;
    v.anchor = v.lines.get(i).map(|l| l.seq);
    Vec::new()
}

fn scroll_down(v: &mut Logs, n: usize) -> Vec<Effect> {
    if v.follow {
        return Vec::new();
    }
    let Some(mut i) = bottom_index(v) else {
        return Vec::new();
    };
    let needle = v.needle();
    for _ in 0..n {
        match v.lines.range(i + 1..).position(|l| v.shows(l, &needle)) {
            Some(j) => i = i + 1 + j,
            None => {
                // Past the newest line: back to following the tail.
                follow(v);
                return Vec::new();
            }
        }
    }
    v.anchor = v.lines.get(i).map(|l| l.seq);
    Vec::new()
}

/// Puts lines into the seq-ordered buffer (skipping ones it has), then drops the oldest
/// beyond [`LOG_BUFFER`]. Returns how many were new.
fn merge(buf: &mut VecDeque<LogLine>, lines: Vec<LogLine>) -> Vec<u64> {
    let mut added = Vec::new();
    for l in lines {
        match buf.back() {
            // The common case, the live tail: newer than everything held.
            None => {
                added.push(l.seq);
                buf.push_back(l);
            }
            Some(last) if l.seq > last.seq => {
                added.push(l.seq);
                buf.push_back(l);
            }
            Some(_) => {
                if let Err(pos) = buf.binary_search_by_key(&l.seq, |x| x.seq) {
                    added.push(l.seq);
                    buf.insert(pos, l);
                }
            }
        }
    }
    while buf.len() > LOG_BUFFER {
        buf.pop_front();
    }
    added
}

/// The history answer: merged with what the tail already brought.
fn merge_history(state: &mut State, mut lines: Vec<LogLine>) {
    lines.sort_by_key(|l| l.seq);
    merge(&mut state.logs.lines, lines);
    note_last_seq(state);
}

fn note_last_seq(state: &mut State) {
    let newest = state.logs.lines.back().map(|l| l.seq);
    let s = &mut state.logs.stream;
    s.last_event_id = s.last_event_id.max(newest);
}

pub(crate) fn on_stream(state: &mut State, conn_id: u64, msg: LogMsg) -> Vec<Effect> {
    if conn_id != state.logs.stream.conn_id {
        return Vec::new();
    }
    let on_screen = state.screen == Screen::Logs;
    match msg {
        LogMsg::Opened => {
            state.logs.stream.status = LiveStatus::Connected;
            state.logs.stream.failures = 0;
            state.dirty |= on_screen;
        }
        LogMsg::Closed { .. } => {
            let s = &mut state.logs.stream;
            s.failures += 1;
            s.status = LiveStatus::Disconnected;
            s.retry_at = Some(state.now + backoff(s.failures));
            state.dirty |= on_screen;
        }
        LogMsg::Lagged => {
            return fetch(state, Resource::Logs, false).into_iter().collect();
        }
        LogMsg::Lines(lines) => {
            let added = merge(&mut state.logs.lines, lines);
            note_last_seq(state);
            if !state.logs.follow {
                let needle = state.logs.needle();
                let v = &state.logs;
                let shown = added
                    .iter()
                    .filter(|seq| {
                        v.lines
                            .binary_search_by_key(*seq, |l| l.seq)
                            .ok()
                            .and_then(|i| v.lines.get(i))
                            .is_some_and(|l| v.shows(l, &needle))
                    })
                    .count();
                state.logs.unseen += shown;
            }
            state.dirty |= on_screen && !added.is_empty();
        }
    }
    Vec::new()
}

/// Opens the tail while the Logs screen is shown (again after a backoff when it drops),
/// closes it when the screen is left. Called after every key and tick.
pub(crate) fn sync_stream(state: &mut State) -> Vec<Effect> {
    let s = &mut state.logs.stream;
    if state.screen != Screen::Logs {
        if s.status == LiveStatus::Off {
            return Vec::new();
        }
        // A new id, so whatever the closed connection still sends is ignored.
        s.conn_id += 1;
        s.status = LiveStatus::Off;
        s.retry_at = None;
        s.failures = 0;
        return vec![Effect::StopLogStream];
    }
    let due = match s.status {
        LiveStatus::Off => true,
        LiveStatus::Disconnected => s.retry_at.is_none_or(|t| t <= state.now),
        LiveStatus::Connecting | LiveStatus::Connected => false,
    };
    if !due {
        return Vec::new();
    }
    s.conn_id += 1;
    s.status = LiveStatus::Connecting;
    s.retry_at = None;
    vec![Effect::LogStream {
        conn_id: s.conn_id,
        last_seq: s.last_event_id,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn log_lines_parse_and_read_their_level() {
        let line: LogLine = serde_json::from_value(json!({
            "seq": 7, "time": "2026-03-02T09:30:00Z", "level": "WARN", "target": "echo5d::monitor", "message": "smtp down"
        }))
        .expect("log line parses");
        assert_eq!(line_level(&line), LogLevel::Warn);
        let odd = LogLine {
            level: "NOTICE".into(),
            ..line
        };
        assert_eq!(line_level(&odd), LogLevel::Info);
    }
}
