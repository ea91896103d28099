//! Logs: the daemon's recent log lines and its live tail. The view follows the newest line
//! unless the operator scrolled up; a level filter and a `/` search narrow what is shown.
//! The buffer is bounded ([`LOG_BUFFER`]): the oldest lines go first.

use std::collections::VecDeque;

use super::super::action::LogMsg;
use super::super::effect::Effect;
use super::super::request::{backoff, fetch};
use super::super::state::{LOG_BUFFER, LiveStatus, LogsView, Resource, Screen, State};
use crate::keymap::Cmd;
use crate::platform::{LogLevel, LogLine};

/// Lines moved by PgUp/PgDn.
pub const PAGE: usize = 20;

/// The level filter's steps, in the order `l` cycles them (`None`: every line).
pub const LEVELS: [Option<LogLevel>; 4] = [
    None,
    Some(LogLevel::Info),
    Some(LogLevel::Warn),
    Some(LogLevel::Error),
];

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
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

fn follow(v: &mut LogsView) {
    v.follow = true;
    v.anchor = None;
    v.unseen = 0;
}

/// Stops following with the view where it is: the newest shown line becomes the anchor.
fn pause(v: &mut LogsView) {
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
pub fn bottom_index(v: &LogsView) -> Option<usize> {
    let needle = v.needle();
    let upto = match (v.follow, v.anchor) {
        (false, Some(seq)) => v.lines.partition_point(|l| l.seq <= seq),
        _ => v.lines.len(),
    };
    let found = v.lines.range(..upto).rposition(|l| v.shows(l, &needle));
    // The anchor line left the buffer or the filter: the oldest shown line stands in.
    found.or_else(|| v.lines.iter().position(|l| v.shows(l, &needle)))
}

fn scroll_up(v: &mut LogsView, n: usize) -> Vec<Effect> {
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

fn scroll_down(v: &mut LogsView, n: usize) -> Vec<Effect> {
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
pub(crate) fn merge_history(state: &mut State, mut lines: Vec<LogLine>) {
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
