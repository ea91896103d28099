//! Stages: the selected tenant's pipeline, shown and edited on the Pipeline screen. Rules are checked with core's own pipeline
//! functions before anything is sent, so a refused change is explained at once.

mod view;

use std::collections::HashMap;

use crossterm::event::KeyCode;
use echo5_core::stages::{self, Stage, StageKind, StageSummary};
use ratatui::Frame;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::Component;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::overlay::{Confirm, Field, Form, MoveTo, Overlay, PendingOp, Purpose};
use crate::app::request::{admit, fetch, mutate};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, alt, b, ch, ctrl};

/// The selected tenant's stages in pipeline order, and the Pipeline screen's cursor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stages {
    pub remote: Remote<Vec<StageSummary>>,
    pub view: ListView,
    /// A stage to put the cursor on when it shows up (just added).
    pub focus: Option<Uuid>,
}

impl Stages {
    /// Stages in pipeline order, with the filter applied, and their indices in the full
    /// list (reordering works on the full list).
    pub fn filtered(&self) -> Vec<(usize, &StageSummary)> {
        let all = self.remote.data.as_deref().unwrap_or_default();
        let f = self.view.filter.to_lowercase();
        all.iter()
            .enumerate()
            .filter(|(_, s)| f.is_empty() || s.name.to_lowercase().contains(&f))
            .collect()
    }

    pub fn selected(&self) -> Option<(usize, &StageSummary)> {
        self.filtered().get(self.view.selected).copied()
    }

    /// A stage's name from the loaded pipeline.
    pub fn name(&self, id: Uuid) -> Option<&str> {
        self.remote
            .data
            .iter()
            .flatten()
            .find(|s| s.id == id)
            .map(|s| s.name.as_str())
    }

    /// After adding a stage, put the cursor on it once the list that holds it arrives.
    fn focus_pending(&mut self) {
        let ids: Vec<Uuid> = self.filtered().iter().map(|(_, s)| s.id).collect();
        self.view.focus(&mut self.focus, &ids);
    }
}

/// The Pipeline screen.
pub struct StagesScreen;

const BINDINGS: &[Binding] = &[
    b(&[ch('a')], Cmd::Add, "add stage", true),
    b(&[ch('r')], Cmd::Rename, "rename", true),
    b(&[ch('d')], Cmd::Delete, "delete", true),
    b(&[ctrl('k'), alt(KeyCode::Up)], Cmd::MoveUp, "move up", true),
    b(
        &[ctrl('j'), alt(KeyCode::Down)],
        Cmd::MoveDown,
        "move down",
        true,
    ),
    b(&[ch('t')], Cmd::Kind, "kind open/won/lost", true),
];

impl Component for StagesScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        on_cmd(state, cmd)
    }

    fn wanted(&self, _state: &State, _force: bool) -> Vec<Resource> {
        vec![Resource::Stages]
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.stages.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.stages.filtered().len()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Stages]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        let tenant = state.tenant.as_ref()?.id;
        Some((Call::ListStages { tenant }, state.tenant_scope()))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.stages.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::ListStages { .. }).then_some(Resource::Stages)
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        matches!(
            call,
            Call::AddStage { .. }
                | Call::RenameStage { .. }
                | Call::ReorderStages { .. }
                | Call::DeleteStage { .. }
                | Call::SetStageKind { .. }
        )
        .then_some(Resource::Stages)
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        _call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        let now = state.now;
        Ok(match reply {
            Reply::Stages(list) => {
                if admit(state, Resource::Stages, id) {
                    let st = &mut state.stages;
                    st.remote.store(list, now);
                    st.focus_pending();
                    let n = st.filtered().len();
                    st.view.clamp(n);
                }
                Vec::new()
            }
            Reply::Reordered(stages) => {
                if admit(state, Resource::Stages, id) {
                    // The reorder answer has no lead counts; they did not change.
                    let counts: HashMap<_, _> = state
                        .stages
                        .remote
                        .data
                        .iter()
                        .flatten()
                        .map(|s| (s.id, s.lead_count))
                        .collect();
                    let list = stages
                        .into_iter()
                        .map(|s| StageSummary {
                            lead_count: counts.get(&s.id).copied().unwrap_or(0),
                            id: s.id,
                            name: s.name,
                            kind: s.kind,
                        })
                        .collect();
                    state.stages.remote.store(list, now);
                }
                Vec::new()
            }
            Reply::StageAdded(stage) => {
                state.toast(ToastLevel::Info, format!("added stage \"{}\"", stage.name));
                state.stages.focus = Some(stage.id);
                fetch(state, Resource::Stages, true).into_iter().collect()
            }
            Reply::StageKindSet(stage) => {
                state.toast(
                    ToastLevel::Info,
                    format!("\"{}\" is now {}", stage.name, stage.kind.as_str()),
                );
                fetch(state, Resource::Stages, true).into_iter().collect()
            }
            Reply::StageRenamed(stage) => {
                state.toast(ToastLevel::Info, format!("renamed to \"{}\"", stage.name));
                fetch(state, Resource::Stages, true).into_iter().collect()
            }
            Reply::StageDeleted { moved_leads } => {
                let text = if moved_leads > 0 {
                    format!("stage deleted; {moved_leads} lead(s) moved")
                } else {
                    "stage deleted".to_string()
                };
                state.toast(ToastLevel::Info, text);
                fetch(state, Resource::Stages, true).into_iter().collect()
            }
            other => return Err(Box::new(other)),
        })
    }

    fn tenant_changed(&self, state: &mut State) {
        state.stages = Stages::default();
    }
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Add => {
            if state.stages.remote.data.is_none() {
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
            if let Some((_, s)) = state.stages.selected() {
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
        Cmd::Kind => next_kind(state),
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

/// `t`: the selected stage's kind, open → won → lost → open. Checked with core's pipeline
/// rules first (the intake stage stays open, one open stage remains), shown at once, and
/// sent as `PATCH .../stages/{id} {kind}`.
fn next_kind(state: &mut State) -> Vec<Effect> {
    let (Some(tenant), Some(list)) = (state.tenant.as_ref(), state.stages.remote.data.as_ref())
    else {
        return Vec::new();
    };
    let tenant = tenant.id;
    let Some((i, s)) = state.stages.selected() else {
        return Vec::new();
    };
    let kind = match s.kind {
        StageKind::Open => StageKind::Won,
        StageKind::Won => StageKind::Lost,
        StageKind::Lost => StageKind::Open,
    };
    let stage = s.id;
    let patch = stages::StagePatch {
        name: None,
        kind: Some(kind),
    };
    if let Err(e) = stages::patch(&as_stages(list), stage, &patch) {
        state.toast(ToastLevel::Error, e.to_string());
        return Vec::new();
    }
    if let Some(row) = state.stages.remote.data.as_mut().and_then(|l| l.get_mut(i)) {
        row.kind = kind;
    }
    vec![mutate(
        state,
        Call::SetStageKind {
            tenant,
            stage,
            kind,
        },
        Resource::Stages,
    )]
}

fn reorder(state: &mut State, delta: isize) -> Vec<Effect> {
    if !state.stages.view.filter.is_empty() {
        state.toast(ToastLevel::Info, "clear the filter (Esc) to reorder");
        return Vec::new();
    }
    let (Some(tenant), Some(list)) = (state.tenant.as_ref(), state.stages.remote.data.as_ref())
    else {
        return Vec::new();
    };
    let tenant = tenant.id;
    let i = state.stages.view.selected;
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
    state.stages.remote.data = Some(moved);
    state.stages.view.selected = j;
    vec![mutate(
        state,
        Call::ReorderStages { tenant, order },
        Resource::Stages,
    )]
}

/// `d`: a stage holding leads first asks where they go, then every delete asks to confirm.
fn start_delete(state: &mut State) {
    let Some((i, s)) = state.stages.selected() else {
        return;
    };
    let s = s.clone();
    let all = state.stages.remote.data.clone().unwrap_or_default();
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
    let list = state.stages.remote.data.clone().unwrap_or_default();
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
