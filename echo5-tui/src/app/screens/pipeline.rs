//! Pipeline: the selected tenant's stages. Rules are checked with core's own pipeline
//! functions before anything is sent, so a refused change is explained at once.

use echo5_core::stages::{self, Stage, StageKind, StageSummary};
use uuid::Uuid;

use super::super::effect::{Call, Effect};
use super::super::overlay::{Confirm, Field, Form, MoveTo, Overlay, PendingOp, Purpose};
use super::super::request::mutate;
use super::super::state::{Resource, State, ToastLevel};
use crate::keymap::Cmd;

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Add => {
            if state.stages.data.is_none() {
                state.toast(ToastLevel::Info, "stages not loaded yet");
                return Vec::new();
            }
            state.overlay = Some(Overlay::Form(Form {
                title: "Add stage".into(),
                fields: vec![
                    Field::new("Name", ""),
                    Field::new("Kind (open/won/lost)", "open"),
                ],
                focus: 0,
                purpose: Purpose::AddStage,
                error: None,
            }));
            Vec::new()
        }
        Cmd::Rename => {
            if let Some((_, s)) = state.selected_stage() {
                let (id, name) = (s.id, s.name.clone());
                state.overlay = Some(Overlay::Form(Form {
                    title: format!("Rename \"{name}\""),
                    fields: vec![Field::new("Name", name)],
                    focus: 0,
                    purpose: Purpose::RenameStage { stage: id },
                    error: None,
                }));
            }
            Vec::new()
        }
        Cmd::Delete => {
            start_delete(state);
            Vec::new()
        }
        Cmd::MoveUp => reorder(state, -1),
        Cmd::MoveDown => reorder(state, 1),
        _ => Vec::new(),
    }
}

fn as_stages(list: &[StageSummary]) -> Vec<Stage> {
    list.iter()
        .map(|s| Stage {
            id: s.id,
            name: s.name.clone(),
            kind: s.kind,
        })
        .collect()
}

fn reorder(state: &mut State, delta: isize) -> Vec<Effect> {
    if !state.pipeline.filter.is_empty() {
        state.toast(ToastLevel::Info, "clear the filter (Esc) to reorder");
        return Vec::new();
    }
    let (Some(tenant), Some(list)) = (state.tenant.as_ref(), state.stages.data.as_ref()) else {
        return Vec::new();
    };
    let tenant = tenant.id;
    let i = state.pipeline.selected;
    let Some(j) = i.checked_add_signed(delta).filter(|j| *j < list.len()) else {
        return Vec::new();
    };
    if i >= list.len() {
        return Vec::new();
    }
    let mut moved = list.clone();
    moved.swap(i, j);
    let order: Vec<Uuid> = moved.iter().map(|s| s.id).collect();
    if let Err(e) = stages::reorder(&as_stages(list), &order) {
        state.toast(ToastLevel::Error, e.to_string());
        return Vec::new();
    }
    // Shown at once; if the daemon refuses, the reply handler refetches the real order.
    state.stages.data = Some(moved);
    state.pipeline.selected = j;
    vec![mutate(
        state,
        Call::ReorderStages { tenant, order },
        Resource::Stages,
    )]
}

/// `d`: a stage holding leads first asks where they go, then every delete asks to confirm.
fn start_delete(state: &mut State) {
    let Some((i, s)) = state.selected_stage() else {
        return;
    };
    let s = s.clone();
    let all = state.stages.data.clone().unwrap_or_default();
    // Leads in a stage usually belong one step back, so that is the default target.
    let mut choices: Vec<(Uuid, String)> = Vec::new();
    let prefer = if i > 0 { i - 1 } else { i + 1 };
    if let Some(p) = all.get(prefer) {
        choices.push((p.id, p.name.clone()));
    }
    choices.extend(
        all.iter()
            .enumerate()
            .filter(|(k, _)| *k != i && *k != prefer)
            .map(|(_, o)| (o.id, o.name.clone())),
    );
    let probe = (s.lead_count > 0)
        .then(|| choices.first().map(|c| c.0))
        .flatten();
    if let Err(e) = stages::delete(&as_stages(&all), s.id, probe, s.lead_count) {
        state.toast(ToastLevel::Error, e.to_string());
        return;
    }
    state.overlay = Some(if s.lead_count > 0 {
        Overlay::MoveTo(MoveTo {
            stage: s.id,
            stage_name: s.name,
            lead_count: s.lead_count,
            choices,
            selected: 0,
        })
    } else {
        confirm_delete(&s.name, s.id, None, 0, "")
    });
}

pub(crate) fn confirm_delete(
    name: &str,
    stage: Uuid,
    move_to: Option<Uuid>,
    leads: u64,
    target_name: &str,
) -> Overlay {
    let message = if leads > 0 {
        format!("Delete stage \"{name}\" and move its {leads} lead(s) to \"{target_name}\"?")
    } else {
        format!("Delete stage \"{name}\"? It holds no leads.")
    };
    Overlay::Confirm(Confirm {
        title: "Delete stage".into(),
        message,
        op: PendingOp::DeleteStage { stage, move_to },
    })
}

/// Checks a submitted add/rename form; `Err` keeps the form open with the reason.
pub(crate) fn submit(
    state: &mut State,
    purpose: Purpose,
    values: &[String],
) -> Result<Vec<Effect>, String> {
    let tenant = state.tenant.as_ref().map(|t| t.id).ok_or("no tenant")?;
    let list = state.stages.data.clone().unwrap_or_default();
    let raw = values.first().map(String::as_str).unwrap_or_default();
    let name = stages::validate_name(raw).map_err(|e| e.to_string())?;
    let except = match purpose {
        Purpose::RenameStage { stage } => Some(stage),
        _ => None,
    };
    if list
        .iter()
        .any(|s| Some(s.id) != except && s.name.to_lowercase() == name.to_lowercase())
    {
        return Err(format!("a stage named \"{name}\" already exists"));
    }
    match purpose {
        Purpose::AddStage => {
            let kind_text = values
                .get(1)
                .map(|k| k.trim().to_lowercase())
                .unwrap_or_default();
            let kind = if kind_text.is_empty() {
                StageKind::Open
            } else {
                StageKind::parse(&kind_text).ok_or("kind must be open, won or lost")?
            };
            Ok(vec![mutate(
                state,
                Call::AddStage { tenant, name, kind },
                Resource::Stages,
            )])
        }
        Purpose::RenameStage { stage } => {
            if list.iter().any(|s| s.id == stage && s.name == name) {
                return Ok(Vec::new());
            }
            Ok(vec![mutate(
                state,
                Call::RenameStage {
                    tenant,
                    stage,
                    name,
                },
                Resource::Stages,
            )])
        }
        _ => Ok(Vec::new()),
    }
}
