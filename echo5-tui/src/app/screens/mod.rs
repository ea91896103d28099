//! What a command means on each screen, plus the navigation they share.

pub(crate) mod all_leads;
mod analytics;
mod breaches;
mod dashboard;
pub(crate) mod keys;
pub(crate) mod leads;
pub(crate) mod logs;
pub(crate) mod pipeline;
pub(crate) mod platform;
pub(crate) mod settings;
pub(crate) mod tenants;
mod usage;

use super::effect::Effect;
use super::input::LineInput;
use super::overlay::{Filter, Overlay, Palette};
use super::request::refresh_screen;
use super::state::{ListView, Screen, State, ToastLevel};
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
        Cmd::Refresh => refresh_screen(state, true),
        Cmd::Back => back(state),
        Cmd::NextScreen => go(state, state.screen.next(), true),
        Cmd::PrevScreen => go(state, state.screen.prev(), true),
        Cmd::Go(s) => go(state, s, true),
        // The log view scrolls by lines rather than moving a cursor.
        Cmd::Up | Cmd::Down | Cmd::Top | Cmd::Bottom if state.screen == Screen::Logs => {
            logs::on_cmd(state, cmd)
        }
        Cmd::Up | Cmd::Down | Cmd::Top | Cmd::Bottom => {
            let before = match state.screen {
                Screen::AllLeads => state.all_leads_view.list.selected,
                _ => state.leads_view.list.selected,
            };
            move_cursor(state, cmd);
            // Down (or End) on the last row asks for the next page.
            let past_end = |after: usize| {
                (matches!(cmd, Cmd::Down | Cmd::Bottom) && after == before) || cmd == Cmd::Bottom
            };
            match state.screen {
                Screen::Leads => {
                    let wanted = past_end(state.leads_view.list.selected);
                    leads::after_move(state, wanted)
                }
                Screen::AllLeads => {
                    let wanted = past_end(state.all_leads_view.list.selected);
                    all_leads::after_move(state, wanted)
                }
                _ => Vec::new(),
            }
        }
        other => match state.screen {
            Screen::Dashboard => dashboard::on_cmd(state, other),
            Screen::Tenants => tenants::on_cmd(state, other),
            Screen::Pipeline => pipeline::on_cmd(state, other),
            Screen::Settings => settings::on_cmd(state, other),
            Screen::Keys => keys::on_cmd(state, other),
            Screen::Leads => leads::on_cmd(state, other),
            Screen::Breaches => breaches::on_cmd(state, other),
            Screen::Analytics => analytics::on_cmd(state, other),
            Screen::Platform => platform::on_cmd(state, other),
            Screen::AllLeads => all_leads::on_cmd(state, other),
            Screen::Usage => usage::on_cmd(state, other),
            Screen::Logs => logs::on_cmd(state, other),
        },
    }
}

/// Opens `target`; a per-tenant screen with no tenant chosen opens the picker first and
/// comes back to it once one is. `push` records where we were for Esc.
pub(crate) fn go(state: &mut State, target: Screen, push: bool) -> Vec<Effect> {
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

/// Esc: first closes the lead pane, then clears a filter, then steps back.
fn back(state: &mut State) -> Vec<Effect> {
    if state.screen == Screen::Leads {
        if state.leads_view.detail_open {
            state.leads_view.detail_open = false;
            return Vec::new();
        }
        if !state.leads_view.query.is_empty() || !state.leads_view.list.filter.is_empty() {
            return leads::search(state, String::new());
        }
    }
    if state.screen == Screen::AllLeads {
        if !state.all_leads_view.query.is_empty() || !state.all_leads_view.list.filter.is_empty() {
            return all_leads::search(state, String::new());
        }
        if !state.all_leads_view.tenants.is_empty() {
            return all_leads::set_tenants(state, Vec::new());
        }
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
    match state.screen {
        Screen::Dashboard => Some(&mut state.dashboard),
        Screen::Tenants => Some(&mut state.picker),
        Screen::Pipeline => Some(&mut state.pipeline),
        Screen::Keys => Some(&mut state.keys_view),
        Screen::Leads => Some(&mut state.leads_view.list),
        Screen::Breaches => Some(&mut state.breaches_view),
        Screen::AllLeads => Some(&mut state.all_leads_view.list),
        Screen::Usage => Some(&mut state.usage_view),
        Screen::Logs => Some(&mut state.logs.view),
        Screen::Settings | Screen::Analytics | Screen::Platform => None,
    }
}

fn list_len(state: &State) -> usize {
    match state.screen {
        Screen::Dashboard => state.filtered_dash().len(),
        Screen::Leads => state.lead_rows().len(),
        Screen::Breaches => state.filtered_breaches().len(),
        Screen::Analytics => 0,
        Screen::Tenants => state.filtered_tenants(&state.picker).len(),
        Screen::Pipeline => state.filtered_stages().len(),
        Screen::Settings => settings::Row::ALL.len(),
        Screen::Keys => state.filtered_keys().len(),
        Screen::Platform => state.platform_rows().len(),
        Screen::AllLeads => state.all_lead_rows().len(),
        Screen::Usage => state.filtered_usage().len(),
        Screen::Logs => 0,
    }
}

fn move_cursor(state: &mut State, cmd: Cmd) {
    let len = list_len(state);
    if state.screen == Screen::Platform {
        let v = &mut state.platform_view;
        match cmd {
            Cmd::Up => v.selected = v.selected.saturating_sub(1),
            Cmd::Down => v.selected = (v.selected + 1).min(len.saturating_sub(1)),
            Cmd::Top => v.selected = 0,
            Cmd::Bottom => v.selected = len.saturating_sub(1),
            _ => {}
        }
        return;
    }
    let view = match state.screen {
        Screen::Settings => &mut state.settings_view,
        _ => match list_mut(state) {
            Some(v) => v,
            None => return,
        },
    };
    match cmd {
        Cmd::Up => view.move_by(-1, len),
        Cmd::Down => view.move_by(1, len),
        Cmd::Top => view.selected = 0,
        Cmd::Bottom => view.selected = len.saturating_sub(1),
        _ => {}
    }
}
