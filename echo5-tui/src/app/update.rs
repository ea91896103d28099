//! The only function that changes [`State`]. It performs no I/O: what must happen outside
//! comes back as [`Effect`]s.

use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};

use super::action::Action;
use super::components::logs;
use super::effect::Effect;
use super::reply::on_reply;
use super::request::{refresh_screen, schedule_poll};
use super::state::ToastLevel;
use super::{State, access, auth, bindings, live, navigation, overlay_keys};
use crate::keymap::Cmd;

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Tick(now) => on_tick(state, now),
        Action::Resize => {
            state.dirty = true;
            Vec::new()
        }
        Action::Stream { conn_id, msg } => live::on_stream(state, conn_id, msg),
        Action::LogStream { conn_id, msg } => logs::on_stream(state, conn_id, msg),
        Action::TokenLoaded(load) => auth::on_loaded(state, load),
        Action::Api(reply) => {
            // ratatui diffs frames, so redrawing after an unchanged answer costs little.
            state.dirty = true;
            on_reply(state, *reply)
        }
        Action::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return Vec::new();
            }
            state.dirty = true;
            // Ctrl-C always quits, whatever dialog is open.
            if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
                state.quit = true;
                return Vec::new();
            }
            let (screen, shown) = (state.screen, state.toasts.clone());
            let mut out = match state.overlay.take() {
                Some(overlay) => overlay_keys::on_key(state, overlay, key),
                None => match bindings::lookup(state.screen, &key) {
                    // A key whose hint the principal does not see does nothing but say so.
                    Some(cmd) if !access::allows(state, state.screen, cmd) => {
                        state.toast(ToastLevel::Info, access::NOT_ALLOWED);
                        Vec::new()
                    }
                    Some(cmd) => navigation::on_cmd(state, cmd),
                    None => Vec::new(),
                },
            };
            if state.screen != screen {
                state.drop_toasts_of_last_screen(&shown);
            }
            // A key may have opened or left the Logs screen: its live tail follows (not
            // while a login is awaited: there is no session to open it with).
            if !state.session.waiting() {
                out.extend(logs::sync_stream(state));
            }
            out
        }
        Action::Paste(text) => {
            state.dirty = true;
            overlay_keys::on_paste(state, &text);
            Vec::new()
        }
        Action::Scroll(delta) => {
            if state.overlay.is_some() {
                return Vec::new();
            }
            state.dirty = true;
            let cmd = if delta > 0 { Cmd::Down } else { Cmd::Up };
            navigation::on_cmd(state, cmd)
        }
    }
}

fn on_tick(state: &mut State, now: chrono::DateTime<chrono::Utc>) -> Vec<Effect> {
    state.now = now;
    let before = state.toasts.len();
    state.toasts.retain(|t| t.until > now);
    // Only redraw for the clock when something on screen counts with it.
    if state.toasts.len() != before || state.is_stale() || state.saving > 0 {
        state.dirty = true;
    }
    // Waiting for a login (`--login`): nothing to fetch or stream without a session.
    if state.session.waiting() {
        return Vec::new();
    }
    let mut out = live::on_tick(state);
    out.extend(logs::sync_stream(state));
    if now < state.next_poll {
        return out;
    }
    schedule_poll(state);
    out.extend(refresh_screen(state, false));
    out
}
