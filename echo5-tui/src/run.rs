//! The main loop: terminal input, API answers, a one-second clock and signals feed
//! `update`; effects go to the API worker; a frame is drawn only when state changed.

use chrono::{TimeDelta, Utc};
use crossterm::event::{Event, EventStream, KeyEventKind, MouseEventKind};
use futures::StreamExt;
use std::io;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use crate::api::{Client, Worker};
use crate::app::state::ToastLevel;
use crate::app::{Action, Effect, State, update};
use crate::cli::Cli;
use crate::terminal::TerminalGuard;
use crate::ui;

pub async fn run(cli: Cli) -> io::Result<()> {
    let (token, token_problem) = match cli.token() {
        Ok(t) => (Some(t), None),
        Err(why) => (None, Some(why)),
    };
    let client = Client::new(&cli.url, token).map_err(io::Error::other)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let worker = Worker::new(client, tx);

    let mut state = State::new(cli.url.clone(), Utc::now());
    state.refresh_every = TimeDelta::seconds(i64::from(cli.refresh));
    if let Some(why) = token_problem {
        state.toast(ToastLevel::Error, why);
    }

    let mut term_sig = signal(SignalKind::terminate())?;
    let mut hup_sig = signal(SignalKind::hangup())?;
    let mut guard = TerminalGuard::enter(cli.mouse)?;
    let mut events = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);

    loop {
        if state.dirty {
            guard.terminal.draw(|f| ui::draw(f, &state))?;
            state.dirty = false;
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
            }
        }
        if state.quit {
            break;
        }
    }
    drop(guard);
    Ok(())
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
