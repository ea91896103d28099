//! Logs: the history fetch and the live tail (opened with the screen, closed when it is
//! left, reconnecting with Last-Event-ID), following vs. scrolled up, level filter,
//! search, and the bounded buffer.

mod common;

use chrono::TimeDelta;
use common::*;
use crossterm::event::KeyCode;
use echo5_core::logs::LogLevel;
use echo5_tui::app::components::logs::{LOG_BUFFER, bottom_index};
use echo5_tui::app::state::LiveStatus;
use echo5_tui::app::{Action, Call, Effect, LogMsg, Screen, State, update};

fn on_logs() -> State {
    let mut s = on_command("logs");
    log_stream(&mut s, LogMsg::Opened);
    s
}

fn seqs_shown(s: &State) -> Vec<u64> {
    let needle = s.logs.needle();
    s.logs
        .lines
        .iter()
        .filter(|l| s.logs.shows(l, &needle))
        .map(|l| l.seq)
        .collect()
}

fn bottom(s: &State) -> Option<u64> {
    bottom_index(&s.logs).and_then(|i| s.logs.lines.get(i).map(|l| l.seq))
}

#[test]
fn opening_logs_fetches_history_and_opens_the_tail() {
    let mut s = started();
    update(&mut s, key(':'));
    typ(&mut s, "logs");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Logs);
    assert!(calls(&fx).contains(&Call::GetLogs { level: None }));
    let tail: Vec<&Effect> = fx
        .iter()
        .filter(|e| matches!(e, Effect::LogStream { .. }))
        .collect();
    assert_eq!(tail.len(), 1, "{fx:?}");
    settle(&mut s, fx);
    assert_eq!(s.logs.lines.len(), 30);
    // Leaving closes the tail; messages from it are ignored from then on.
    let conn = s.logs.stream.conn_id;
    let fx = update(&mut s, key('1'));
    assert!(fx.contains(&Effect::StopLogStream));
    assert_eq!(s.logs.stream.status, LiveStatus::Off);
    update(
        &mut s,
        Action::LogStream {
            conn_id: conn,
            msg: LogMsg::Lines(log_lines(31, 31)),
        },
    );
    assert_eq!(s.logs.lines.len(), 30);
    // Coming back resumes after the newest line held.
    update(&mut s, key(':'));
    typ(&mut s, "logs");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::LogStream {
                last_seq: Some(30),
                ..
            }
        )),
        "{fx:?}"
    );
}

#[test]
fn the_tail_reconnects_after_a_backoff_with_the_last_seq() {
    let mut s = on_logs();
    log_stream(&mut s, LogMsg::Lines(log_lines(31, 32)));
    log_stream(
        &mut s,
        LogMsg::Closed {
            error: "reset".into(),
        },
    );
    assert_eq!(s.logs.stream.status, LiveStatus::Disconnected);
    // Not before the backoff.
    let fx = update(&mut s, Action::Tick(now()));
    assert!(!fx.iter().any(|e| matches!(e, Effect::LogStream { .. })));
    let fx = update(&mut s, Action::Tick(now() + TimeDelta::seconds(2)));
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::LogStream {
                last_seq: Some(32),
                ..
            }
        )),
        "{fx:?}"
    );
}

#[test]
fn lines_the_tail_skipped_are_fetched() {
    let mut s = on_logs();
    let fx = log_stream(&mut s, LogMsg::Lagged);
    assert_eq!(calls(&fx), vec![Call::GetLogs { level: None }]);
}

#[test]
fn the_view_follows_the_tail_until_scrolled_up() {
    let mut s = on_logs();
    assert!(s.logs.follow);
    assert_eq!(bottom(&s), Some(30));
    log_stream(&mut s, LogMsg::Lines(log_lines(31, 33)));
    assert_eq!(bottom(&s), Some(33), "following: the newest at the bottom");
    // k scrolls up one: paused there.
    update(&mut s, key('k'));
    assert!(!s.logs.follow);
    assert_eq!(bottom(&s), Some(32));
    // New lines do not move a paused view; they are counted.
    log_stream(&mut s, LogMsg::Lines(log_lines(34, 36)));
    assert_eq!(bottom(&s), Some(32));
    assert_eq!(s.logs.unseen, 3);
    // j walks down; past the newest line it follows again.
    for _ in 0..4 {
        update(&mut s, key('j'));
    }
    assert_eq!(bottom(&s), Some(36));
    assert!(!s.logs.follow);
    update(&mut s, key('j'));
    assert!(s.logs.follow);
    assert_eq!(s.logs.unseen, 0);
    // g goes to the oldest line, G back to the tail; f pauses and resumes.
    update(&mut s, key('g'));
    assert_eq!(bottom(&s), Some(1));
    update(&mut s, key('G'));
    assert!(s.logs.follow);
    update(&mut s, key('f'));
    assert!(!s.logs.follow);
    assert_eq!(bottom(&s), Some(36));
    update(&mut s, key('f'));
    assert!(s.logs.follow);
    // PgUp moves twenty lines.
    update(&mut s, code(KeyCode::PageUp));
    assert_eq!(bottom(&s), Some(16));
}

#[test]
fn the_level_filter_cycles_and_asks_the_daemon_for_more() {
    let mut s = on_logs();
    let fx = update(&mut s, key('l'));
    assert_eq!(s.logs.level, Some(LogLevel::Info));
    assert_eq!(
        calls(&fx),
        vec![Call::GetLogs {
            level: Some(LogLevel::Info)
        }]
    );
    assert!(
        seqs_shown(&s).iter().all(|seq| seq % 7 != 5),
        "DEBUG lines hidden"
    );
    update(&mut s, key('l'));
    assert_eq!(s.logs.level, Some(LogLevel::Warn));
    assert!(
        seqs_shown(&s)
            .iter()
            .all(|seq| seq % 7 == 0 || seq % 7 == 3)
    );
    update(&mut s, key('l'));
    assert_eq!(s.logs.level, Some(LogLevel::Error));
    assert_eq!(seqs_shown(&s), vec![3, 10, 17, 24]);
    update(&mut s, key('l'));
    assert_eq!(s.logs.level, None);
    assert_eq!(seqs_shown(&s).len(), 30);
}

#[test]
fn search_filters_as_typed_and_esc_clears_it() {
    let mut s = on_logs();
    update(&mut s, key('/'));
    let fx = typ(&mut s, "SMTP");
    assert!(calls(&fx).is_empty(), "searched on the client");
    assert_eq!(seqs_shown(&s), vec![7, 14, 21, 28]);
    update(&mut s, code(KeyCode::Enter));
    // A new line that does not match stays out of view; one that does comes in at the bottom.
    log_stream(&mut s, LogMsg::Lines(log_lines(31, 34)));
    assert_eq!(bottom(&s), Some(28));
    log_stream(&mut s, LogMsg::Lines(log_lines(42, 42)));
    assert_eq!(bottom(&s), Some(42));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.logs.view.filter, "");
    assert_eq!(bottom(&s), Some(42));
}

#[test]
fn the_buffer_is_bounded_and_history_merges_by_seq() {
    let mut s = on_logs();
    log_stream(
        &mut s,
        LogMsg::Lines(log_lines(31, LOG_BUFFER as u64 + 100)),
    );
    assert_eq!(s.logs.lines.len(), LOG_BUFFER);
    assert_eq!(s.logs.lines.front().map(|l| l.seq), Some(101));
    assert_eq!(
        s.logs.lines.back().map(|l| l.seq),
        Some(LOG_BUFFER as u64 + 100)
    );
    // A history answer overlapping the tail adds nothing twice.
    let mut s = on_logs();
    log_stream(&mut s, LogMsg::Lines(log_lines(29, 40)));
    assert_eq!(s.logs.lines.len(), 40);
    let seqs: Vec<u64> = s.logs.lines.iter().map(|l| l.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn enter_opens_the_bottom_line_in_full_and_esc_closes_it() {
    use echo5_tui::app::overlay::Overlay;
    let mut s = on_logs();
    // Following: the newest line; scrolled back: the line at the bottom of the view.
    update(&mut s, code(KeyCode::Enter));
    match &s.overlay {
        Some(Overlay::LogLine { line, scroll }) => {
            assert_eq!(Some(line.seq), bottom(&s));
            assert_eq!(*scroll, 0);
        }
        other => panic!("the line in full: {other:?}"),
    }
    update(&mut s, key('j'));
    assert!(matches!(
        s.overlay,
        Some(Overlay::LogLine { scroll: 1, .. })
    ));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.overlay.is_none());
    assert_eq!(
        s.screen,
        Screen::Logs,
        "Esc closes the line, not the screen"
    );
    update(&mut s, key('k'));
    update(&mut s, key('k'));
    let anchored = bottom(&s);
    update(&mut s, code(KeyCode::Enter));
    assert!(
        matches!(&s.overlay, Some(Overlay::LogLine { line, .. }) if Some(line.seq) == anchored)
    );
}
