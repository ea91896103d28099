//! All leads: every tenant's leads in one list, newest first, limited to chosen tenants
//! and searched on the daemon; Enter opens a lead in its own tenant's Leads screen.

mod view;

use crossterm::event::KeyCode;
use echo5_core::leads::LeadWithTenant;
use echo5_core::page::Page;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::{LeadsView, display_name};
use crate::app::action::Reply;
use crate::app::components::Component;
use crate::app::components::tenants::switch_tenant;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::navigation::go;
use crate::app::overlay::{Overlay, PickTenants};
use crate::app::request::{admit, fetch, issue};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, Screen, State};
use crate::keymap::{Binding, Cmd, b, ch, k};

/// Every tenant's leads (`GET /api/v1/leads`), as many pages as loaded, and how they are
/// viewed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllLeads {
    pub remote: Remote<Vec<LeadWithTenant>>,
    pub view: AllLeadsView,
}

impl AllLeads {
    pub fn rows(&self) -> &[LeadWithTenant] {
        self.remote.data.as_deref().unwrap_or_default()
    }

    pub fn selected(&self) -> Option<&LeadWithTenant> {
        self.rows().get(self.view.list.selected)
    }
}

/// The All leads screen: every tenant's leads (or the chosen tenants'), newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllLeadsView {
    pub list: ListView,
    /// The search the shown rows answer (`q`).
    pub query: String,
    /// Tenant slugs the list is limited to; empty: every tenant.
    pub tenants: Vec<String>,
    pub next_cursor: Option<String>,
    pub pages: u32,
}

/// The All leads screen. Its own component rather than a mode of [`super::LeadsScreen`]:
/// it is platform-wide (no tenant, no generation), pages another call and filters by
/// tenant, and shares only the lead type and its naming with the tenant's list.
pub struct AllLeadsScreen;

const BINDINGS: &[Binding] = &[
    b(&[k(KeyCode::Enter)], Cmd::Open, "open in its tenant", true),
    b(&[ch('t')], Cmd::Tenants, "tenants", true),
];

impl Component for AllLeadsScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        on_cmd(state, cmd)
    }

    // As for a tenant's leads: a poll must not fold paged-in rows back to one page.
    fn wanted(&self, state: &State, force: bool) -> Vec<Resource> {
        if force || state.all_leads.view.pages <= 1 {
            vec![Resource::AllLeads]
        } else {
            Vec::new()
        }
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.all_leads.view.list)
    }

    fn list_len(&self, state: &State) -> usize {
        state.all_leads.rows().len()
    }

    fn move_cursor(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        let before = state.all_leads.view.list.selected;
        crate::app::components::move_in_list(self, state, cmd);
        // Down (or End) on the last row asks for the next page.
        let after = state.all_leads.view.list.selected;
        let wanted =
            (matches!(cmd, Cmd::Down | Cmd::Bottom) && after == before) || cmd == Cmd::Bottom;
        after_move(state, wanted)
    }

    /// Esc first clears the search, then the tenant choice.
    fn back(&self, state: &mut State) -> Option<Vec<Effect>> {
        if !state.all_leads.view.query.is_empty() || !state.all_leads.view.list.filter.is_empty() {
            return Some(search(state, String::new()));
        }
        if !state.all_leads.view.tenants.is_empty() {
            return Some(set_tenants(state, Vec::new()));
        }
        None
    }

    fn server_search(&self) -> bool {
        true
    }

    fn search(&self, state: &mut State, q: String) -> Vec<Effect> {
        search(state, q)
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::AllLeads]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        Some((
            Call::ListAllLeads {
                tenants: state.all_leads.view.tenants.clone(),
                q: state.all_leads.view.query.clone(),
                cursor: None,
            },
            Scope::Global,
        ))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.all_leads.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::ListAllLeads { .. }).then_some(Resource::AllLeads)
    }

    fn still_wanted(&self, state: &State, call: &Call) -> bool {
        match call {
            Call::ListAllLeads { tenants, q, .. } => {
                *tenants == state.all_leads.view.tenants && *q == state.all_leads.view.query
            }
            _ => true,
        }
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        let Reply::AllLeads(page) = reply else {
            return Err(Box::new(reply));
        };
        {
            let more = matches!(
                call,
                Call::ListAllLeads {
                    cursor: Some(_),
                    ..
                }
            );
            if admit(state, Resource::AllLeads, id) {
                store_page(state, page, more);
            }
        }
        Ok(Vec::new())
    }
}

/// A page of every tenant's leads: the first replaces the list, later ones append.
fn store_page(state: &mut State, page: Page<LeadWithTenant>, more: bool) {
    let now = state.now;
    let keep = state.all_leads.selected().map(|l| l.lead.id);
    state.all_leads.view.next_cursor = page.next_cursor;
    if more {
        state.all_leads.view.pages += 1;
        let list = state.all_leads.remote.data.get_or_insert_with(Vec::new);
        for l in page.data {
            if !list.iter().any(|x| x.lead.id == l.lead.id) {
                list.push(l);
            }
        }
        state.all_leads.remote.updated_at = Some(now);
        state.all_leads.remote.error = None;
    } else {
        state.all_leads.view.pages = 1;
        state.all_leads.remote.store(page.data, now);
        if let Some(pos) =
            keep.and_then(|id| state.all_leads.rows().iter().position(|l| l.lead.id == id))
        {
            state.all_leads.view.list.selected = pos;
        }
    }
    let n = state.all_leads.rows().len();
    state.all_leads.view.list.clamp(n);
}

/// The next page of every tenant's leads, when there is one and no fetch is under way.
fn fetch_more(state: &mut State) -> Option<Effect> {
    let cursor = state.all_leads.view.next_cursor.clone()?;
    if state.all_leads.remote.loading() {
        return None;
    }
    let call = Call::ListAllLeads {
        tenants: state.all_leads.view.tenants.clone(),
        q: state.all_leads.view.query.clone(),
        cursor: Some(cursor),
    };
    Some(issue(state, Resource::AllLeads, call, Scope::Global))
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Open => jump(state),
        Cmd::Tenants => {
            let Some(all) = state.tenants.remote.data.as_ref() else {
                state.toast(ToastLevel::Info, "tenant list not loaded yet");
                return fetch(state, Resource::Tenants, false).into_iter().collect();
            };
            let choices: Vec<(String, String)> = all
                .iter()
                .map(|t| (t.slug.clone(), t.name.clone()))
                .collect();
            let checked = choices
                .iter()
                .map(|(slug, _)| state.all_leads.view.tenants.contains(slug))
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
    let Some(row) = state.all_leads.selected().cloned() else {
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
    state.leads.view = LeadsView {
        list: ListView {
            selected: 0,
            filter: q.clone(),
        },
        query: q,
        focus: Some(l.id),
        detail_open: true,
        ..LeadsView::default()
    };
    state.leads.remote = Remote::default();
    state.leads.detail = Remote::default();
    state.toast(
        ToastLevel::Info,
        format!("{} · {}", row.tenant.name, display_name(l)),
    );
    out.extend(go(state, Screen::Leads, true));
    out
}

/// After the cursor moved: past the last row loads the next page.
fn after_move(state: &mut State, wanted_past_end: bool) -> Vec<Effect> {
    let len = state.all_leads.rows().len();
    let at_end = len > 0 && state.all_leads.view.list.selected + 1 >= len;
    if at_end && wanted_past_end {
        return fetch_more(state).into_iter().collect();
    }
    Vec::new()
}

/// A new search from the filter line: the list starts over from the first page.
pub(crate) fn search(state: &mut State, q: String) -> Vec<Effect> {
    let q = q.trim().to_string();
    state.all_leads.view.list.filter = q.clone();
    if q == state.all_leads.view.query && state.all_leads.remote.data.is_some() {
        return Vec::new();
    }
    state.all_leads.view.query = q;
    restart(state)
}

/// The tenant filter changed (slugs; empty: all tenants).
pub(crate) fn set_tenants(state: &mut State, slugs: Vec<String>) -> Vec<Effect> {
    if slugs == state.all_leads.view.tenants && state.all_leads.remote.data.is_some() {
        return Vec::new();
    }
    state.all_leads.view.tenants = slugs;
    restart(state)
}

fn restart(state: &mut State) -> Vec<Effect> {
    let view = &mut state.all_leads.view;
    view.list.selected = 0;
    view.next_cursor = None;
    view.pages = 0;
    state.all_leads.remote = Remote::default();
    fetch(state, Resource::AllLeads, true).into_iter().collect()
}
