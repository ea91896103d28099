//! All leads: every tenant's leads in one list, newest first, limited to chosen tenants
//! and searched on the daemon; Enter opens a lead in its own tenant's Leads screen.

use super::super::effect::Effect;
use super::super::overlay::{Overlay, PickTenants};
use super::super::request::{fetch, fetch_more_all_leads};
use super::super::state::{LeadsView, ListView, Remote, Resource, Screen, State, ToastLevel};
use super::tenants::switch_tenant;
use super::{go, leads::display_name};
use crate::keymap::Cmd;

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Open => jump(state),
        Cmd::Tenants => {
            let Some(all) = state.tenants.data.as_ref() else {
                state.toast(ToastLevel::Info, "tenant list not loaded yet");
                return fetch(state, Resource::Tenants, false).into_iter().collect();
            };
            let choices: Vec<(String, String)> = all
                .iter()
                .map(|t| (t.slug.clone(), t.name.clone()))
                .collect();
            let checked = choices
                .iter()
                .map(|(slug, _)| state.all_leads_view.tenants.contains(slug))
                .collect();
            state.overlay = Some(Overlay::PickTenants(PickTenants {
                choices,
                checked,
                selected: 0,
            }));
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Enter: the lead's tenant becomes the selected one and its Leads screen opens, searched
/// for this lead's e-mail (else phone, else name) so it is on the first page, with the
/// cursor and the detail pane on it. Esc there clears the search.
fn jump(state: &mut State) -> Vec<Effect> {
    let Some(row) = state.selected_all_lead().cloned() else {
        return Vec::new();
    };
    let l = &row.lead;
    let q = l
        .email
        .clone()
        .or_else(|| l.phone.clone())
        .or_else(|| l.name.clone())
        .unwrap_or_default();
    let mut out = switch_tenant(state, &row.tenant);
    state.leads_view = LeadsView {
        list: ListView {
            selected: 0,
            filter: q.clone(),
        },
        query: q,
        focus: Some(l.id),
        detail_open: true,
        ..LeadsView::default()
    };
    state.leads = Remote::default();
    state.lead_detail = Remote::default();
    state.toast(
        ToastLevel::Info,
        format!("{} · {}", row.tenant.name, display_name(l)),
    );
    out.extend(go(state, Screen::Leads, true));
    out
}

/// After the cursor moved: past the last row loads the next page.
pub(super) fn after_move(state: &mut State, wanted_past_end: bool) -> Vec<Effect> {
    let len = state.all_lead_rows().len();
    let at_end = len > 0 && state.all_leads_view.list.selected + 1 >= len;
    if at_end && wanted_past_end {
        return fetch_more_all_leads(state).into_iter().collect();
    }
    Vec::new()
}

/// A new search from the filter line: the list starts over from the first page.
pub(crate) fn search(state: &mut State, q: String) -> Vec<Effect> {
    let q = q.trim().to_string();
    state.all_leads_view.list.filter = q.clone();
    if q == state.all_leads_view.query && state.all_leads.data.is_some() {
        return Vec::new();
    }
    state.all_leads_view.query = q;
    restart(state)
}

/// The tenant filter changed (slugs; empty: all tenants).
pub(crate) fn set_tenants(state: &mut State, slugs: Vec<String>) -> Vec<Effect> {
    if slugs == state.all_leads_view.tenants && state.all_leads.data.is_some() {
        return Vec::new();
    }
    state.all_leads_view.tenants = slugs;
    restart(state)
}

fn restart(state: &mut State) -> Vec<Effect> {
    let view = &mut state.all_leads_view;
    view.list.selected = 0;
    view.next_cursor = None;
    view.pages = 0;
    state.all_leads = Remote::default();
    fetch(state, Resource::AllLeads, true).into_iter().collect()
}
