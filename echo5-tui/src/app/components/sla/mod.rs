//! SLA breaches: the selected client's (every client's when none is selected, or on `t`),
//! most overdue first, kept current by the live event stream wherever the operator is. A
//! breach that appears after the list was first loaded is announced (a toast, the header's
//! count) and marked NEW until the cursor has been on it. Enter opens its lead beside the
//! list, where it is moved, assigned and noted without leaving the screen.

mod view;

use crossterm::event::KeyCode;
use echo5_core::leads::LeadDetail;
use echo5_core::sla::Breach;
use echo5_core::stages::StageSummary;
use ratatui::Frame;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::leads::assignee;
use super::{Component, Tabs};
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::live::LiveEvent;
use crate::app::overlay::{Field, Form, Overlay, PickStage, Purpose};
use crate::app::request::{admit, fetch, mutate};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, Screen, State};
use crate::keymap::{Binding, Cmd, b, ch, k};
use crate::widgets::printable;

/// SLA breaches, most overdue first, and the breach open beside them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sla {
    pub remote: Remote<Vec<Breach>>,
    pub view: ListView,
    /// Every client's breaches although one is selected (`t`); a client switch ends it.
    pub all: bool,
    /// More breaches exist than the one page shown.
    pub more: bool,
    /// Breaches that arrived after the list was first loaded, not yet looked at.
    pub unseen: Vec<Uuid>,
    /// The breach whose lead is open beside the list.
    pub open: Option<Breach>,
    pub lead: Remote<LeadDetail>,
    /// The open breach's client's stages, with that client's id.
    pub stages: Remote<(Uuid, Vec<StageSummary>)>,
    /// A move asked for before those stages were in: the chooser opens when they land.
    pub move_pending: Option<Uuid>,
}

impl Sla {
    /// Breaches with the filter (tenant, name, e-mail, phone) applied.
    pub fn filtered(&self) -> Vec<&Breach> {
        let f = self.view.filter.to_lowercase();
        self.remote
            .data
            .iter()
            .flatten()
            .filter(|b| {
                f.is_empty()
                    || [
                        Some(&b.tenant.name),
                        Some(&b.tenant.slug),
                        b.name.as_ref(),
                        b.email.as_ref(),
                        b.phone.as_ref(),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|v| v.to_lowercase().contains(&f))
            })
            .collect()
    }

    pub fn selected(&self) -> Option<&Breach> {
        self.filtered().get(self.view.selected).copied()
    }

    pub fn is_new(&self, lead: Uuid) -> bool {
        self.unseen.contains(&lead)
    }

    /// A stage of the open breach's client, by id.
    pub fn stage_name(&self, id: Uuid) -> Option<&str> {
        let (_, stages) = self.stages.data.as_ref()?;
        stages.iter().find(|s| s.id == id).map(|s| s.name.as_str())
    }

    /// The client whose breaches are listed: `None` for every client.
    pub fn scope(&self, state: &State) -> Option<Uuid> {
        if self.all {
            None
        } else {
            state.tenant.as_ref().map(|t| t.id)
        }
    }
}

/// The SLA screen.
pub struct SlaScreen;

const BINDINGS: &[Binding] = &[
    // Short words, and the filter key among the screen's own: at 80 columns the footer
    // has room for these six beside help and quit, and `t` and `/` are what an owner
    // looking for one client's breaches needs.
    b(&[k(KeyCode::Enter)], Cmd::Open, "open", true),
    b(&[ch('m')], Cmd::MoveStage, "move", true),
    b(&[ch('a')], Cmd::Assign, "assign", true),
    b(&[ch('n')], Cmd::Notes, "note", true),
    b(&[ch('t')], Cmd::Scope, "all/one", true),
    b(&[ch('/')], Cmd::Filter, "filter", true),
];

impl Component for SlaScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        on_cmd(state, cmd)
    }

    fn wanted(&self, state: &State, _force: bool) -> Vec<Resource> {
        let mut r = vec![Resource::Breaches];
        if state.sla.open.is_some() {
            r.push(Resource::BreachLead);
        }
        r
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.sla.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.sla.filtered().len()
    }

    fn move_cursor(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        super::move_in_list(self, state, cmd);
        mark_seen(state);
        // The open pane follows the cursor, as on the Leads screen.
        if state.sla.open.is_some() {
            return open_selected(state);
        }
        Vec::new()
    }

    /// Esc first closes the open lead; the cursor stays on its breach.
    fn back(&self, state: &mut State) -> Option<Vec<Effect>> {
        if state.sla.open.is_some() {
            close(state);
            return Some(Vec::new());
        }
        None
    }

    fn live(&self, state: &State, event: LiveEvent) -> Vec<Resource> {
        let mut r = Vec::new();
        let relevant = event.topic.lead_or_sla || event.topic.tenant_updated;
        if relevant && (state.sla.scope(state).is_none() || event.ours) {
            r.push(Resource::Breaches);
            if state.sla.open.is_some() && event.topic.lead_or_sla {
                r.push(Resource::BreachLead);
            }
        }
        r
    }

    /// The breach list is loaded once at start and kept current by the events that can
    /// change it, whatever the screen, so a new breach is announced everywhere.
    fn background(&self, state: &State, event: Option<LiveEvent>) -> Vec<Resource> {
        let wanted = match event {
            None => state.sla.remote.data.is_none() && !state.sla.remote.loading(),
            Some(e) => e.topic.breaches && (state.sla.scope(state).is_none() || e.ours),
        };
        if wanted {
            vec![Resource::Breaches]
        } else {
            Vec::new()
        }
    }

    fn resources(&self) -> &'static [Resource] {
        &[
            Resource::Breaches,
            Resource::BreachLead,
            Resource::BreachStages,
        ]
    }

    fn call(&self, state: &State, res: Resource) -> Option<(Call, Scope)> {
        match res {
            Resource::BreachLead => {
                let lead = state.sla.open.as_ref()?.lead_id;
                Some((Call::GetBreachLead { lead }, Scope::Global))
            }
            Resource::BreachStages => {
                let tenant = state.sla.open.as_ref()?.tenant.id;
                Some((Call::ListBreachStages { tenant }, Scope::Global))
            }
            _ => match state.sla.scope(state) {
                None => Some((Call::ListBreaches { tenant: None }, Scope::Global)),
                Some(t) => Some((Call::ListBreaches { tenant: Some(t) }, state.tenant_scope())),
            },
        }
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(match res {
            Resource::BreachLead => &mut state.sla.lead,
            Resource::BreachStages => &mut state.sla.stages,
            _ => &mut state.sla.remote,
        })
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        match call {
            Call::ListBreaches { .. } => Some(Resource::Breaches),
            Call::GetBreachLead { .. } => Some(Resource::BreachLead),
            Call::ListBreachStages { .. } => Some(Resource::BreachStages),
            _ => None,
        }
    }

    /// Only the scope asked for last, and only the breach still open.
    fn still_wanted(&self, state: &State, call: &Call) -> bool {
        let open = state.sla.open.as_ref();
        match call {
            Call::ListBreaches { tenant } => *tenant == state.sla.scope(state),
            Call::GetBreachLead { lead } => open.is_some_and(|b| b.lead_id == *lead),
            Call::ListBreachStages { tenant } => open.is_some_and(|b| b.tenant.id == *tenant),
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
        match (call, reply) {
            (_, Reply::Breaches(page)) => {
                if admit(state, Resource::Breaches, id) {
                    state.sla.more = page.next_cursor.is_some();
                    store_breaches(state, page.data);
                }
                Ok(Vec::new())
            }
            (Call::GetBreachLead { .. }, Reply::Lead(detail)) => {
                if admit(state, Resource::BreachLead, id) {
                    state.sla.lead.store(*detail, now);
                }
                Ok(Vec::new())
            }
            (Call::ListBreachStages { tenant }, Reply::Stages(list)) => {
                if admit(state, Resource::BreachStages, id) {
                    state.sla.stages.store((*tenant, list), now);
                    if let Some(lead) = state.sla.move_pending.take()
                        && state.sla.open.as_ref().is_some_and(|b| b.lead_id == lead)
                    {
                        pick_stage(state);
                    }
                }
                Ok(Vec::new())
            }
            (_, other) => Err(Box::new(other)),
        }
    }

    /// A change saved from the open pane (or from the Leads screen) comes back to Leads,
    /// which owns the call; the pane shows it and the list drops a lead that left breach.
    fn observe(&self, state: &mut State, _call: &Call, reply: &Reply) -> Vec<Effect> {
        if let Reply::NoteAdded { lead, note } = reply {
            // The open lead's timeline gains the note; the breach list does not change.
            if let Some(d) = state.sla.lead.data.as_mut().filter(|d| d.lead.id == *lead)
                && !d.lead.notes.iter().any(|n| n.id == note.id)
            {
                d.lead.notes.push(note.clone());
                state.dirty = true;
            }
            return Vec::new();
        }
        let Reply::LeadSaved(detail) = reply else {
            return Vec::new();
        };
        let id = detail.lead.id;
        let listed = state
            .sla
            .remote
            .data
            .iter()
            .flatten()
            .any(|b| b.lead_id == id);
        let open = state.sla.open.as_ref().is_some_and(|b| b.lead_id == id);
        if open {
            let now = state.now;
            state.sla.lead.store((**detail).clone(), now);
        }
        if listed || open {
            return fetch(state, Resource::Breaches, true).into_iter().collect();
        }
        Vec::new()
    }

    fn tenant_changed(&self, state: &mut State) {
        // The list follows the selected client: the old scope's rows, marks and open lead
        // go, and the next list is a new baseline (nothing in it is announced as new).
        state.sla = Sla::default();
    }
}

/// A breach list answer: sorted most overdue first, the cursor kept on its breach, and
/// breaches not in the previous list announced.
fn store_breaches(state: &mut State, mut rows: Vec<Breach>) {
    rows.sort_by_key(|b| (b.deadline, b.created_at));
    let keep = state.sla.selected().map(|b| b.lead_id);
    let fresh: Vec<Breach> = match &state.sla.remote.data {
        // The first list is what the operator starts from, not news.
        None => Vec::new(),
        Some(prev) => rows
            .iter()
            .filter(|b| !prev.iter().any(|p| p.lead_id == b.lead_id))
            .cloned()
            .collect(),
    };
    let now = state.now;
    let sla = &mut state.sla;
    sla.unseen.extend(fresh.iter().map(|b| b.lead_id));
    sla.unseen
        .retain(|id| rows.iter().any(|b| b.lead_id == *id));
    sla.remote.store(rows, now);
    if let Some(pos) = keep.and_then(|id| sla.filtered().iter().position(|b| b.lead_id == id)) {
        sla.view.selected = pos;
    }
    let n = sla.filtered().len();
    sla.view.clamp(n);
    announce(state, &fresh);
}

/// A toast for new breaches, whatever the screen, saying how to get to them.
fn announce(state: &mut State, fresh: &[Breach]) {
    let how = if state.screen == Screen::Breaches {
        String::new()
    } else {
        Screen::in_tabs(Tabs::Numbered)
            .position(|s| s == Screen::Breaches)
            .map(|i| format!(" — {} shows it", i + 1))
            .unwrap_or_default()
    };
    let text = match fresh {
        [] => return,
        [one] => format!(
            "new SLA breach: {} at {}{how}",
            printable(one.name.as_deref().unwrap_or("a lead")),
            printable(&one.tenant.name)
        ),
        many => format!("{} new SLA breaches{how}", many.len()),
    };
    state.toast(ToastLevel::Alert, text);
}

/// The cursor is on a breach: it is no longer news.
fn mark_seen(state: &mut State) {
    if let Some(id) = state.sla.selected().map(|b| b.lead_id) {
        state.sla.unseen.retain(|x| *x != id);
    }
}

fn close(state: &mut State) {
    state.sla.open = None;
    state.sla.lead = Remote::default();
    state.sla.move_pending = None;
}

/// Opens the selected breach's lead (and its client's stages, unless held already).
fn open_selected(state: &mut State) -> Vec<Effect> {
    let Some(b) = state.sla.selected().cloned() else {
        return Vec::new();
    };
    mark_seen(state);
    let mut out = Vec::new();
    if state
        .sla
        .open
        .as_ref()
        .is_none_or(|o| o.lead_id != b.lead_id)
    {
        state.sla.lead = Remote::default();
        state.sla.move_pending = None;
        let tenant = b.tenant.id;
        state.sla.open = Some(b);
        out.extend(fetch(state, Resource::BreachLead, true));
        let have = state.sla.stages.data.as_ref().map(|(t, _)| *t);
        if have != Some(tenant) {
            state.sla.stages = Remote::default();
            out.extend(fetch(state, Resource::BreachStages, true));
        }
    }
    out
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Scope => {
            if state.tenant.is_none() {
                state.toast(
                    ToastLevel::Info,
                    "every client's breaches are shown; pick one (:tenant) to narrow",
                );
                return Vec::new();
            }
            state.sla.all = !state.sla.all;
            // The other scope's rows must not stand in for this one's, even briefly; the
            // new scope's first list is a new baseline.
            state.sla.remote = Remote::default();
            state.sla.view.selected = 0;
            state.sla.more = false;
            close(state);
            fetch(state, Resource::Breaches, true).into_iter().collect()
        }
        Cmd::Open => {
            let same = match (state.sla.selected(), &state.sla.open) {
                (Some(s), Some(o)) => s.lead_id == o.lead_id,
                _ => false,
            };
            if same {
                close(state);
                return Vec::new();
            }
            open_selected(state)
        }
        Cmd::MoveStage | Cmd::Assign | Cmd::Notes => {
            let mut out = open_selected(state);
            match cmd {
                Cmd::MoveStage => out.extend(move_stage(state)),
                Cmd::Assign => out.extend(assign(state)),
                _ => note(state),
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The stage chooser for the open breach, once its client's stages are in.
fn move_stage(state: &mut State) -> Vec<Effect> {
    let Some(lead) = state.sla.open.as_ref().map(|b| b.lead_id) else {
        return Vec::new();
    };
    if state.sla.stages.data.is_some() && !state.sla.stages.loading() {
        pick_stage(state);
        return Vec::new();
    }
    state.sla.move_pending = Some(lead);
    if state.sla.stages.loading() {
        return Vec::new();
    }
    fetch(state, Resource::BreachStages, true)
        .into_iter()
        .collect()
}

fn pick_stage(state: &mut State) {
    let Some(b) = state.sla.open.as_ref() else {
        return;
    };
    let Some((_, stages)) = state.sla.stages.data.as_ref() else {
        return;
    };
    let choices: Vec<(Uuid, String)> = stages.iter().map(|s| (s.id, s.name.clone())).collect();
    // A breached lead waits in the first stage; its own stage is preselected once known.
    let current = state
        .sla
        .lead
        .data
        .as_ref()
        .filter(|d| d.lead.id == b.lead_id)
        .map(|d| d.lead.stage_id);
    let selected = current
        .and_then(|c| choices.iter().position(|(id, _)| *id == c))
        .unwrap_or(0);
    state.overlay = Some(Overlay::PickStage(PickStage {
        lead: b.lead_id,
        lead_name: breach_name(b),
        choices,
        selected,
    }));
}

/// The assignee chooser for the open breach's lead, with its client's users.
fn assign(state: &mut State) -> Vec<Effect> {
    let Some(b) = state.sla.open.as_ref() else {
        return Vec::new();
    };
    let detail = state
        .sla
        .lead
        .data
        .as_ref()
        .filter(|d| d.lead.id == b.lead_id);
    let target = assignee::Target {
        lead: b.lead_id,
        tenant: b.tenant.id,
        name: breach_name(b),
        // The breach row says whom until the lead's detail is in.
        current: detail.map_or(b.assigned_to, |d| d.lead.assigned_to),
        current_name: detail
            .and_then(|d| d.assignee.as_ref())
            .map(|a| format!("{} <{}>", a.name, a.email)),
    };
    assignee::open(state, target)
}

fn note(state: &mut State) {
    let Some(b) = state.sla.open.as_ref() else {
        return;
    };
    state.overlay = Some(Overlay::Form(Form {
        title: format!("Note · {}", breach_name(b)),
        fields: vec![Field::multiline("New note (Alt-Enter: new line)", "")],
        focus: 0,
        purpose: Purpose::BreachNote { lead: b.lead_id },
        error: None,
    }));
}

/// Whether the breach open on the SLA screen is `lead` and already in `stage`: a move
/// there would change nothing.
pub(crate) fn in_stage(state: &State, lead: Uuid, stage: Uuid) -> bool {
    state
        .sla
        .lead
        .data
        .as_ref()
        .is_some_and(|d| d.lead.id == lead && d.lead.stage_id == stage)
}

/// How a breach's lead is named on screen.
pub fn breach_name(b: &Breach) -> String {
    printable(
        b.name
            .as_deref()
            .or(b.email.as_deref())
            .or(b.phone.as_deref())
            .unwrap_or("(no name)"),
    )
}

/// Checks a submitted note; `Err` keeps the form open with the reason.
pub(crate) fn submit(
    state: &mut State,
    purpose: Purpose,
    values: &[String],
) -> Result<Vec<Effect>, String> {
    let Purpose::BreachNote { lead } = purpose else {
        return Ok(Vec::new());
    };
    // As typed: a note keeps its own line breaks and indentation.
    let text = values.first().cloned().unwrap_or_default();
    let text = echo5_core::leads::note_text("note", &text).map_err(|e| e.to_string())?;
    Ok(vec![add_note(state, lead, text)])
}

/// The one request adding a note: appended to the lead's timeline
/// (`POST /api/v1/leads/{id}/notes`), never replacing the notes before it.
fn add_note(state: &mut State, lead: Uuid, text: String) -> Effect {
    mutate(state, Call::AddNote { lead, text }, Resource::Leads)
}
