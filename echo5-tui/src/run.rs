//! The main loop: terminal input, API answers, the live event stream, a one-second clock
//! and signals feed `update`; effects go to the API worker; a frame is drawn only when state changed.
//!
//! Startup timing: with `ECHO5_TUI_TIMINGS=<file>` set, the console appends one line to that
//! file once the first frame showing daemon data (the dashboard's counts) is drawn:
//! `first_frame_ms=.. first_data_frame_ms=.. draw_ms=..`, counted from the start of `main`.
//! It is an environment variable rather than a flag because it is for measuring, not for
//! operators, and writing it can never disturb the terminal.

use chrono::{TimeDelta, Utc};
use crossterm::event::{Event, EventStream, KeyEventKind, MouseEventKind};
use futures::StreamExt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use crate::api::{Client, Worker};
use crate::app::auth::{Auth, TokenLoad};
use crate::app::state::ToastLevel;
use crate::app::{Action, Effect, State, update};
use crate::cli::Cli;
use crate::terminal::TerminalGuard;
use crate::ui;

/// The environment variable naming the startup-timings file (see the module docs).
pub const TIMINGS_ENV: &str = "ECHO5_TUI_TIMINGS";

/// `started` is taken first thing in `main`, so the timings include runtime start-up.
pub async fn run(cli: Cli, started: Instant) -> io::Result<()> {
    let mut timings = Timings::from_env(started);
    let source = cli.token_source();
    // Logging in as a user, the admin token is not read at all: the session is the only
    // credential the console holds.
    let (token, token_problem) = if cli.login.is_some() {
        (None, None)
    } else {
        match cli.load_token() {
            Ok(t) => (Some(t), None),
            Err(why) => (None, Some(why)),
        }
    };
    let client = Client::new(&cli.url, token).map_err(io::Error::other)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let worker = Worker::new(client.clone(), tx.clone());
    let mut stream: Option<tokio::task::JoinHandle<()>> = None;
    // The live log tail, open only while the Logs screen is.
    let mut log_stream: Option<tokio::task::JoinHandle<()>> = None;

    let mut state = State::new(cli.url.clone(), Utc::now());
    state.refresh_every = TimeDelta::seconds(i64::from(cli.refresh));
    for w in &cli.warnings {
        state.toast(ToastLevel::Error, w.clone());
    }
    if let Some(email) = &cli.login {
        crate::app::session::start(&mut state, email.trim());
    } else if let Some(why) = token_problem {
        state.auth = Auth::at_start(source, Err(why));
        let text = crate::app::auth::unauthorized_text(&state);
        state.toast(ToastLevel::Error, text);
    } else {
        state.auth = Auth::at_start(source, Ok(()));
    }

    let mut term_sig = signal(SignalKind::terminate())?;
    let mut hup_sig = signal(SignalKind::hangup())?;
    let mut guard = TerminalGuard::enter(cli.mouse)?;
    let mut events = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);

    loop {
        if state.dirty {
            let t = Instant::now();
            guard.terminal.draw(|f| ui::draw(f, &state))?;
            state.dirty = false;
            timings.drawn(&state, t.elapsed());
        }
        let action = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => match to_action(ev) {
                    Some(a) => a,
                    None => continue,
                },
                // The terminal is gone (or unreadable); nothing left to drive the console.
                Some(Err(_)) | None => break,
            },
            Some(a) = rx.recv() => a,
            _ = clock.tick() => Action::Tick(Utc::now()),
            // SIGTERM (service stop) and SIGHUP (SSH dropped): leave cleanly; the guard
            // restores the terminal on the way out.
            _ = term_sig.recv() => break,
            _ = hup_sig.recv() => break,
        };
        let effects = update(&mut state, action);
        for effect in effects {
            match effect {
                Effect::Api(req) => worker.spawn(req),
                Effect::Stream {
                    conn_id,
                    last_event_id,
                } => {
                    if let Some(old) = stream.take() {
                        old.abort();
                    }
                    stream = Some(tokio::spawn(crate::api::sse::run(
                        client.clone(),
                        conn_id,
                        last_event_id,
                        tx.clone(),
                    )));
                }
                Effect::LogStream { conn_id, last_seq } => {
                    if let Some(old) = log_stream.take() {
                        old.abort();
                    }
                    log_stream = Some(tokio::spawn(crate::api::sse::run_logs(
                        client.clone(),
                        conn_id,
                        last_seq,
                        tx.clone(),
                    )));
                }
                Effect::ReloadToken => {
                    // A small file, but still a read: off the runtime's threads.
                    let (cli, client, tx) = (cli.clone(), client.clone(), tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let load = match cli.load_token() {
                            Ok(t) => TokenLoad::Read {
                                changed: client.set_token(t),
                            },
                            Err(e) => e,
                        };
                        let _ = tx.send(Action::TokenLoaded(load));
                    });
                }
                Effect::StopLogStream => {
                    if let Some(old) = log_stream.take() {
                        old.abort();
                    }
                }
            }
        }
        if state.quit {
            break;
        }
    }
    for s in [stream, log_stream].into_iter().flatten() {
        s.abort();
    }
    drop(guard);
    Ok(())
}

/// Startup timings, written once when asked for; a write error is ignored because
/// measuring must never get in the operator's way.
struct Timings {
    path: Option<PathBuf>,
    started: Instant,
    first_frame: Option<Duration>,
}

impl Timings {
    fn from_env(started: Instant) -> Self {
        Timings {
            path: std::env::var_os(TIMINGS_ENV).map(PathBuf::from),
            started,
            first_frame: None,
        }
    }

    fn drawn(&mut self, state: &crate::app::State, draw: Duration) {
        if self.path.is_none() {
            return;
        }
        let at = self.started.elapsed();
        let first = *self.first_frame.get_or_insert(at);
        if state.dashboard.remote.data.is_none() {
            return;
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let line = format!(
            "first_frame_ms={:.1} first_data_frame_ms={:.1} draw_ms={:.3}\n",
            ms(first),
            ms(at),
            ms(draw)
        );
        if let Some(path) = self.path.take()
            && let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

fn to_action(ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Action::Key(k)),
        Event::Paste(s) => Some(Action::Paste(s)),
        Event::Resize(_, _) => Some(Action::Resize),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => Some(Action::Scroll(1)),
            MouseEventKind::ScrollUp => Some(Action::Scroll(-1)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent};

    fn mouse(kind: MouseEventKind) -> Event {
        Event::Mouse(MouseEvent {
            kind,
            column: 3,
            row: 4,
            modifiers: KeyModifiers::NONE,
        })
    }

    #[test]
    fn the_wheel_and_a_bracketed_paste_become_actions() {
        assert!(matches!(
            to_action(mouse(MouseEventKind::ScrollDown)),
            Some(Action::Scroll(1))
        ));
        assert!(matches!(
            to_action(mouse(MouseEventKind::ScrollUp)),
            Some(Action::Scroll(-1))
        ));
        // Clicks and drags mean nothing yet.
        assert!(to_action(mouse(MouseEventKind::Moved)).is_none());
        let pasted = to_action(Event::Paste("a\nb".into()));
        assert!(matches!(pasted, Some(Action::Paste(s)) if s == "a\nb"));
        let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert!(to_action(Event::Key(release)).is_none());
    }
}
