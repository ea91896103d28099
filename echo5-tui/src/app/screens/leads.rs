//! Leads: the selected tenant's leads page by page, a search sent to the daemon, the detail
//! pane, and the three changes an operator makes to a lead: stage, notes, assignee.

use echo5_core::leads::Lead;
use echo5_core::validate;
use uuid::Uuid;

use super::super::effect::{Call, Effect, LeadChange};
use super::super::overlay::{Field, Form, Overlay, PickStage, Purpose};
use super::super::request::{fetch, fetch_more_leads, mutate};
use super::super::state::{Remote, Resource, State, ToastLevel};
use crate::keymap::Cmd;

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Open => {
            if state.leads_view.detail_open {
                state.leads_view.detail_open = false;
                return Vec::new();
            }
            if state.selected_lead().is_none() {
                return Vec::new();
            }
            state.leads_view.detail_open = true;
            state.lead_detail = Remote::default();
            fetch(state, Resource::LeadDetail, true)
                .into_iter()
                .collect()
        }
        Cmd::MoveStage => {
            let Some(lead) = state.selected_lead().cloned() else {
                return Vec::new();
            };
            let choices: Vec<(Uuid, String)> = state
                .stages
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
            let Some(lead) = state.selected_lead().cloned() else {
                return Vec::new();
            };
            let (title, label, value, purpose) = if cmd == Cmd::Notes {
                (
                    "Notes",
                    "Notes (one line here; empty clears them)",
                    lead.notes.clone().unwrap_or_default().replace('\n', " "),
                    Purpose::LeadNotes { lead: lead.id },
                )
            } else {
                (
                    "Assignee",
                    "Assigned to (empty: nobody)",
                    lead.assigned_to.clone().unwrap_or_default(),
                    Purpose::LeadAssignee { lead: lead.id },
                )
            };
            state.overlay = Some(Overlay::Form(Form {
                title: format!("{title} · {}", display_name(&lead)),
                fields: vec![Field::new(label, value)],
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
pub(super) fn after_move(state: &mut State, wanted_past_end: bool) -> Vec<Effect> {
    let mut out = Vec::new();
    let len = state.lead_rows().len();
    let at_end = len > 0 && state.leads_view.list.selected + 1 >= len;
    if at_end && wanted_past_end {
        out.extend(fetch_more_leads(state));
    }
    if state.leads_view.detail_open {
        let shown = state.lead_detail.data.as_ref().map(|d| d.lead.id);
        if shown != state.selected_lead().map(|l| l.id) {
            state.lead_detail = Remote::default();
            out.extend(fetch(state, Resource::LeadDetail, true));
        }
    }
    out
}

/// A new search from the filter line: the list starts over from the first page.
pub(crate) fn search(state: &mut State, q: String) -> Vec<Effect> {
    let q = q.trim().to_string();
    state.leads_view.list.filter = q.clone();
    if q == state.leads_view.query && state.leads.data.is_some() {
        return Vec::new();
    }
    state.leads_view.query = q;
    state.leads_view.list.selected = 0;
    state.leads_view.next_cursor = None;
    state.leads_view.pages = 0;
    state.leads_view.detail_open = false;
    state.leads = Remote::default();
    fetch(state, Resource::Leads, true).into_iter().collect()
}

pub(crate) fn move_stage(state: &mut State, lead: Uuid, to: Uuid) -> Vec<Effect> {
    if state
        .lead_rows()
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
