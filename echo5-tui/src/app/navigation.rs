//! Commands every screen shares (quit, help, palette, filter, refresh, back, moving
//! between screens and rows); the rest goes to the current screen's component.

use super::effect::Effect;
use super::input::LineInput;
use super::overlay::{Filter, Overlay, Palette};
use super::request::refresh_screen;
use super::state::{ListView, ToastLevel};
use super::{Screen, State, access, auth, live};
use crate::keymap::Cmd;

/// Enough history for Esc to retrace a session; older steps are forgotten.
const BACK_LIMIT: usize = 32;

pub(crate) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Quit => {
            state.quit = true;
            Vec::new()
        }
        Cmd::Help => {
            state.overlay = Some(Overlay::Help { scroll: 0 });
            Vec::new()
        }
        Cmd::Palette => {
            state.overlay = Some(Overlay::Palette(Palette::default()));
            Vec::new()
        }
        Cmd::Filter => {
            match list_mut(state) {
                Some(view) => {
                    let input = LineInput::new(view.filter.clone());
                    state.overlay = Some(Overlay::Filter(Filter {
                        screen: state.screen,
                        input,
                    }));
                }
                None => state.toast(ToastLevel::Info, "nothing to filter on this screen"),
            }
            Vec::new()
        }
        // ^R is the operator's "try again now" for everything: the screen's data, the
        // token file (it may have been replaced) and the event stream.
        Cmd::Refresh => {
            let mut out = refresh_screen(state, true);
            out.extend(auth::on_refresh(state));
            out.extend(live::reconnect_now(state));
            out
        }
        Cmd::Back => back(state),
        Cmd::NextScreen => go(state, access::step(state, state.screen, true), true),
        Cmd::PrevScreen => go(state, access::step(state, state.screen, false), true),
        Cmd::Go(n) => match Screen::by_number(n) {
            Some(s) => go(state, s, true),
            None => Vec::new(),
        },
        Cmd::Up | Cmd::Down | Cmd::Top | Cmd::Bottom => {
            state.screen.component().move_cursor(state, cmd)
        }
        other => state.screen.component().on_cmd(state, other),
    }
}

/// Opens `target`; a per-tenant screen with no tenant chosen opens the picker first and
/// comes back to it once one is. `push` records where we were for Esc.
pub(crate) fn go(state: &mut State, target: Screen, push: bool) -> Vec<Effect> {
    if !access::can_open(state, target) {
        state.toast(ToastLevel::Info, access::NOT_ALLOWED);
        return Vec::new();
    }
    let mut target = target;
    if target.needs_tenant() && state.tenant.is_none() {
        state.after_pick = Some(target);
        target = Screen::Tenants;
        state.toast(ToastLevel::Info, "pick a tenant first");
    }
    if target != state.screen {
        if push {
            state.back.push(state.screen);
            if state.back.len() > BACK_LIMIT {
                state.back.remove(0);
            }
        }
        state.screen = target;
    }
    refresh_screen(state, false)
}

/// Esc: first what the screen itself closes (a pane, a search), then a filter, then a
/// step back.
fn back(state: &mut State) -> Vec<Effect> {
    if let Some(out) = state.screen.component().back(state) {
        return out;
    }
    if let Some(view) = list_mut(state)
        && !view.filter.is_empty()
    {
        view.filter.clear();
        view.selected = 0;
        return Vec::new();
    }
    match state.back.pop() {
        Some(prev) => {
            state.after_pick = None;
            state.screen = prev;
            refresh_screen(state, false)
        }
        None => Vec::new(),
    }
}

/// The list view of the current screen, when it has a filterable list.
pub(crate) fn list_mut(state: &mut State) -> Option<&mut ListView> {
    state.screen.component().list_mut(state)
}
