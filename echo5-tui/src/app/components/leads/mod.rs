//! Leads: the selected tenant's leads page by page (All leads, every tenant's, is [`all`]), a search sent to the daemon, the detail
//! pane, and the three changes an operator makes to a lead: stage, notes, assignee.

pub mod all;
pub(crate) mod view;

use crossterm::event::KeyCode;
use echo5_core::leads::{Lead, LeadDetail};
use echo5_core::page::Page;
use echo5_core::validate;
use ratatui::Frame;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::Component;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, LeadChange, Scope};
use crate::app::live::LiveEvent;
use crate::app::overlay::{Field, Form, Overlay, PickStage, Purpose};
use crate::app::request::{admit, fetch, issue, mutate};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch, k};

/// The selected tenant's leads, newest first, as many pages as loaded; the lead open in
/// the detail pane; and how the list is viewed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Leads {
    pub remote: Remote<Vec<Lead>>,
    pub view: LeadsView,
    pub detail: Remote<LeadDetail>,
}

impl Leads {
    pub fn rows(&self) -> &[Lead] {
        self.remote.data.as_deref().unwrap_or_default()
    }

    pub fn selected(&self) -> Option<&Lead> {
        self.rows().get(self.view.list.selected)
    }
}

/// The Leads screen's view: a page-by-page list for the committed search, and the detail pane.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadsView {
    pub list: ListView,
    /// The search the shown rows answer (`q`); `list.filter` is what the filter line holds.
    pub query: String,
    /// Where the next page starts; `None` once the last page is in.
    pub next_cursor: Option<String>,
    /// The detail pane is open (and has the focus for Esc).
    pub detail_open: bool,
    /// Pages loaded for the current search.
    pub pages: u32,
    /// A lead to put the cursor on when a page holding it arrives (opened from All leads).
    pub focus: Option<Uuid>,
}

pub struct LeadsScreen;

const BINDINGS: &[Binding] = &[
    b(
        &[k(KeyCode::Enter), k(KeyCode::Tab)],
        Cmd::Open,
        "details",
        true,
    ),
    b(&[ch('m')], Cmd::MoveStage, "move stage", true),
    b(&[ch('n')], Cmd::Notes, "notes", true),
    b(&[ch('a')], Cmd::Assign, "assignee", true),
];

impl Component for LeadsScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        on_cmd(state, cmd)
    }

    fn wanted(&self, state: &State, force: bool) -> Vec<Resource> {
        let mut r = Vec::new();
        // A poll would fold the pages scrolled in back to the first one; only an
        // explicit refresh (or a new search) starts over.
        if force || state.leads.view.pages <= 1 {
            r.push(Resource::Leads);
        }
        // Stage names for the table and the move-stage picker.
        if force || state.stages.remote.data.is_none() {
            r.push(Resource::Stages);
        }
        if state.leads.view.detail_open {
            r.push(Resource::LeadDetail);
        }
        r
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.leads.view.list)
    }

    fn list_len(&self, state: &State) -> usize {
        state.leads.rows().len()
    }

    fn move_cursor(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        let before = state.leads.view.list.selected;
        super::move_in_list(self, state, cmd);
        // Down (or End) on the last row asks for the next page.
        let after = state.leads.view.list.selected;
        let wanted =
            (matches!(cmd, Cmd::Down | Cmd::Bottom) && after == before) || cmd == Cmd::Bottom;
        after_move(state, wanted)
    }

    /// Esc first closes the lead pane, then clears the search.
    fn back(&self, state: &mut State) -> Option<Vec<Effect>> {
        if state.leads.view.detail_open {
            state.leads.view.detail_open = false;
            return Some(Vec::new());
        }
        if !state.leads.view.query.is_empty() || !state.leads.view.list.filter.is_empty() {
            return Some(search(state, String::new()));
        }
        None
    }

    fn server_search(&self) -> bool {
        true
    }

    fn search(&self, state: &mut State, q: String) -> Vec<Effect> {
        search(state, q)
    }

    // Paged-in rows would fold back to the first page; the list refreshes on the next poll
    // or Ctrl-R. The open lead's pane is cheap to keep current.
    fn live(&self, state: &State, event: LiveEvent) -> Vec<Resource> {
        if state.leads.view.detail_open && event.ours && event.topic.lead_or_sla {
            vec![Resource::LeadDetail]
        } else {
            Vec::new()
        }
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Leads, Resource::LeadDetail]
    }

    fn call(&self, state: &State, res: Resource) -> Option<(Call, Scope)> {
        let tenant = state.tenant.as_ref()?.id;
        let scope = state.tenant_scope();
        match res {
            Resource::LeadDetail => {
                let lead = state.leads.selected()?.id;
                Some((Call::GetLead { lead }, scope))
            }
            _ => Some((
                Call::ListLeads {
                    tenant,
                    q: state.leads.view.query.clone(),
                    cursor: None,
                },
                scope,
            )),
        }
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(match res {
            Resource::LeadDetail => &mut state.leads.detail,
            _ => &mut state.leads.remote,
        })
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        match call {
            Call::ListLeads { .. } => Some(Resource::Leads),
            Call::GetLead { .. } => Some(Resource::LeadDetail),
            _ => None,
        }
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::PatchLead { .. }).then_some(Resource::Leads)
    }

    fn still_wanted(&self, state: &State, call: &Call) -> bool {
        match call {
            Call::ListLeads { q, .. } => *q == state.leads.view.query,
            Call::GetLead { lead } => state.leads.selected().is_some_and(|l| l.id == *lead),
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
        let now = state.now;
        Ok(match reply {
            Reply::Leads(page) => {
                let more = matches!(
                    call,
                    Call::ListLeads {
                        cursor: Some(_),
                        ..
                    }
                );
                if admit(state, Resource::Leads, id) && store_leads(state, page, more) {
                    // A lead opened from All leads: its pane shows its history too.
                    if state.leads.view.detail_open {
                        return Ok(fetch(state, Resource::LeadDetail, true)
                            .into_iter()
                            .collect());
                    }
                }
                Vec::new()
            }
            Reply::Lead(detail) => {
                if admit(state, Resource::LeadDetail, id) {
                    state.leads.detail.store(*detail, now);
                }
                Vec::new()
            }
            Reply::LeadSaved(detail) => {
                let what = match call {
                    Call::PatchLead {
                        change: LeadChange::Stage(to),
                        ..
                    } => format!(
                        "moved to {}",
                        state.stages.name(*to).unwrap_or("the new stage")
                    ),
                    Call::PatchLead {
                        change: LeadChange::Notes(_),
                        ..
                    } => "notes saved".to_string(),
                    _ => "assignee saved".to_string(),
                };
                state.toast(ToastLevel::Info, what);
                if let Some(row) = state
                    .leads
                    .remote
                    .data
                    .iter_mut()
                    .flatten()
                    .find(|l| l.id == detail.lead.id)
                {
                    *row = detail.lead.clone();
                }
                if state
                    .leads
                    .selected()
                    .is_some_and(|l| l.id == detail.lead.id)
                {
                    state.leads.detail.store(*detail, now);
                }
                // Lead counts per stage changed; the breach list may have too.
                fetch(state, Resource::Stages, true).into_iter().collect()
            }
            other => return Err(Box::new(other)),
        })
    }

    fn tenant_changed(&self, state: &mut State) {
        state.leads = Leads::default();
    }
}

/// A page of leads: the first replaces the list (keeping the cursor on the same lead when
/// it is still there), later ones append. True when the cursor went to the lead waiting
/// in `view.focus`.
fn store_leads(state: &mut State, page: Page<Lead>, more: bool) -> bool {
    let now = state.now;
    let keep = state.leads.selected().map(|l| l.id);
    let view = &mut state.leads.view;
    view.next_cursor = page.next_cursor;
    if more {
        view.pages += 1;
        let list = state.leads.remote.data.get_or_insert_with(Vec::new);
        // A lead that arrived between two pages shifts the rest by one; never show it twice.
        for l in page.data {
            if !list.iter().any(|x| x.id == l.id) {
                list.push(l);
            }
        }
        state.leads.remote.updated_at = Some(now);
        state.leads.remote.error = None;
    } else {
        view.pages = 1;
        state.leads.remote.store(page.data, now);
        if let Some(pos) = keep.and_then(|id| state.leads.rows().iter().position(|l| l.id == id)) {
            state.leads.view.list.selected = pos;
        }
    }
    let n = state.leads.rows().len();
    state.leads.view.list.clamp(n);
    let focused = state
        .leads
        .view
        .focus
        .and_then(|id| state.leads.rows().iter().position(|l| l.id == id));
    if let Some(pos) = focused {
        state.leads.view.list.selected = pos;
        state.leads.view.focus = None;
    }
    focused.is_some()
}

/// The next page of leads, when there is one and no leads fetch is under way.
fn fetch_more_leads(state: &mut State) -> Option<Effect> {
    let tenant = state.tenant.as_ref()?.id;
    let cursor = state.leads.view.next_cursor.clone()?;
    if state.leads.remote.loading() {
        return None;
    }
    let call = Call::ListLeads {
        tenant,
        q: state.leads.view.query.clone(),
        cursor: Some(cursor),
    };
    let scope = state.tenant_scope();
    Some(issue(state, Resource::Leads, call, scope))
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Open => {
            if state.leads.view.detail_open {
                state.leads.view.detail_open = false;
                return Vec::new();
            }
            if state.leads.selected().is_none() {
                return Vec::new();
            }
            state.leads.view.detail_open = true;
            state.leads.detail = Remote::default();
            fetch(state, Resource::LeadDetail, true)
                .into_iter()
                .collect()
        }
        Cmd::MoveStage => {
            let Some(lead) = state.leads.selected().cloned() else {
                return Vec::new();
            };
            let choices: Vec<(Uuid, String)> = state
                .stages
                .remote
                .data
                .iter()
                .flatten()
                .map(|s| (s.id, s.name.clone()))
                .collect();
            if choices.is_empty() {
                state.toast(ToastLevel::Info, "stages not loaded yet");
                return fetch(state, Resource::Stages, false).into_iter().collect();
            }
            let selected = choices
                .iter()
                .position(|(id, _)| *id == lead.stage_id)
                .unwrap_or(0);
            state.overlay = Some(Overlay::PickStage(PickStage {
                lead: lead.id,
                lead_name: display_name(&lead),
                choices,
                selected,
            }));
            Vec::new()
        }
        Cmd::Notes | Cmd::Assign => {
            let Some(lead) = state.leads.selected().cloned() else {
                return Vec::new();
            };
            let (title, field, purpose) = if cmd == Cmd::Notes {
                (
                    "Notes",
                    Field::multiline(
                        "Notes (Alt-Enter: new line; empty clears them)",
                        lead.notes.clone().unwrap_or_default(),
                    ),
                    Purpose::LeadNotes { lead: lead.id },
                )
            } else {
                (
                    "Assignee",
                    Field::new(
                        "Assigned to (empty: nobody)",
                        lead.assigned_to.clone().unwrap_or_default(),
                    ),
                    Purpose::LeadAssignee { lead: lead.id },
                )
            };
            state.overlay = Some(Overlay::Form(Form {
                title: format!("{title} · {}", display_name(&lead)),
                fields: vec![field],
                focus: 0,
                purpose,
                error: None,
            }));
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// How a lead is named on screen: its name, else its e-mail or phone.
pub fn display_name(l: &Lead) -> String {
    l.name
        .clone()
        .or_else(|| l.email.clone())
        .or_else(|| l.phone.clone())
        .unwrap_or_else(|| "(no name)".into())
}

/// After the cursor moved: past the last row loads the next page; with the pane open,
/// the pane follows the cursor.
fn after_move(state: &mut State, wanted_past_end: bool) -> Vec<Effect> {
    let mut out = Vec::new();
    let len = state.leads.rows().len();
    let at_end = len > 0 && state.leads.view.list.selected + 1 >= len;
    if at_end && wanted_past_end {
        out.extend(fetch_more_leads(state));
    }
    if state.leads.view.detail_open {
        let shown = state.leads.detail.data.as_ref().map(|d| d.lead.id);
        if shown != state.leads.selected().map(|l| l.id) {
            state.leads.detail = Remote::default();
            out.extend(fetch(state, Resource::LeadDetail, true));
        }
    }
    out
}

/// A new search from the filter line: the list starts over from the first page.
pub(crate) fn search(state: &mut State, q: String) -> Vec<Effect> {
    let q = q.trim().to_string();
    state.leads.view.list.filter = q.clone();
    if q == state.leads.view.query && state.leads.remote.data.is_some() {
        return Vec::new();
    }
    state.leads.view.query = q;
    state.leads.view.list.selected = 0;
    state.leads.view.next_cursor = None;
    state.leads.view.pages = 0;
    state.leads.view.detail_open = false;
    state.leads.remote = Remote::default();
    fetch(state, Resource::Leads, true).into_iter().collect()
}

pub(crate) fn move_stage(state: &mut State, lead: Uuid, to: Uuid) -> Vec<Effect> {
    if state
        .leads
        .rows()
        .iter()
        .any(|l| l.id == lead && l.stage_id == to)
    {
        state.toast(ToastLevel::Info, "already in that stage");
        return Vec::new();
    }
    vec![mutate(
        state,
        Call::PatchLead {
            lead,
            change: LeadChange::Stage(to),
        },
        Resource::Leads,
    )]
}

/// Checks a submitted notes/assignee form; `Err` keeps the form open.
pub(crate) fn submit(
    state: &mut State,
    purpose: Purpose,
    values: &[String],
) -> Result<Vec<Effect>, String> {
    let text = values.first().map(|v| v.trim()).unwrap_or_default();
    let value = (!text.is_empty()).then(|| text.to_string());
    let (lead, change) = match purpose {
        Purpose::LeadNotes { lead } => {
            if text.chars().count() > echo5_core::leads::NOTES_MAX_CHARS {
                return Err(format!(
                    "notes must be at most {} characters",
                    echo5_core::leads::NOTES_MAX_CHARS
                ));
            }
            (lead, LeadChange::Notes(value))
        }
        Purpose::LeadAssignee { lead } => {
            if let Some(v) = &value {
                validate::text("assigned_to", v, validate::NAME_MAX_CHARS)
                    .map_err(|e| e.to_string())?;
            }
            (lead, LeadChange::Assignee(value))
        }
        _ => return Ok(Vec::new()),
    };
    Ok(vec![mutate(
        state,
        Call::PatchLead { lead, change },
        Resource::Leads,
    )])
}
