//! Platform: the defaults new tenants start with (pipeline, SLA hours, spam keywords, key
//! grace hours), the honeypot field names ingest watches, and who runs the platform.
//! Each edit PATCHes only the field it changed; the stage list is sent whole, as the API
//! takes it, and checked first with core's pipeline rules.

use echo5_core::stages::{self, STAGES_MAX, Stage, StageKind};
use echo5_core::validate;
use echo5_core::validate::GRACE_HOURS_MAX;
use uuid::Uuid;

mod view;

use crossterm::event::KeyCode;
use echo5_core::platform_settings::{PlatformSettings, StageTemplate};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::Component;
use crate::app::action::{ApiError, Reply};
use crate::app::effect::{Call, Effect, PlatformChange, PlatformField, Scope};
use crate::app::overlay::{Confirm, Field, Form, Overlay, PendingOp, Purpose};
use crate::app::request::{admit, mutate_global};
use crate::app::state::{Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, alt, b, ch, ctrl, k};

/// `GET /api/v1/platform/settings`, and the Platform screen's cursor and refusals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Platform {
    pub remote: Remote<PlatformSettings>,
    pub view: PlatformView,
}

impl Platform {
    /// The Platform screen's rows in cursor order.
    pub fn rows(&self) -> Vec<PlatformRow> {
        let stages = self
            .remote
            .data
            .as_ref()
            .map_or(0, |p| p.default_stages.len());
        PlatformField::ALL
            .iter()
            .map(|f| PlatformRow::Field(*f))
            .chain((0..stages).map(PlatformRow::Stage))
            .collect()
    }

    pub fn row(&self) -> Option<PlatformRow> {
        self.rows().get(self.view.selected).copied()
    }

    /// After a new answer: the cursor stays within the rows.
    fn clamp(&mut self) {
        let n = self.rows().len();
        self.view.selected = self.view.selected.min(n.saturating_sub(1));
    }
}

/// A row of the Platform screen: the fields first, then the default stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlatformRow {
    Field(PlatformField),
    /// Index into `default_stages`.
    Stage(usize),
}

/// Where a refused change's reason is shown on the Platform screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorAt {
    Field(PlatformField),
    /// The stage list as a whole (its heading).
    Stages,
    Stage(usize),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlatformView {
    /// Cursor over [`Platform::rows`].
    pub selected: usize,
    /// The daemon's reasons for refusing the last change of a field, shown beside it until
    /// that field is saved.
    pub errors: Vec<(ErrorAt, String)>,
    /// PATCHes sent and not answered: polls wait, so an answer read before a change landed
    /// cannot undo it on screen.
    pub pending: u32,
}

impl PlatformView {
    pub fn error(&self, at: ErrorAt) -> Option<&str> {
        self.errors
            .iter()
            .find(|(a, _)| *a == at)
            .map(|(_, e)| e.as_str())
    }
}

/// The Platform screen.
pub struct PlatformScreen;

const BINDINGS: &[Binding] = &[
    b(
        &[k(KeyCode::Enter), ch('e')],
        Cmd::Edit,
        "edit / rename",
        true,
    ),
    b(&[ch('a')], Cmd::Add, "add stage", true),
    b(&[ch('d')], Cmd::Delete, "delete stage", true),
    b(&[ch('t')], Cmd::Kind, "stage kind", true),
    b(&[ctrl('k'), alt(KeyCode::Up)], Cmd::MoveUp, "move up", true),
    b(
        &[ctrl('j'), alt(KeyCode::Down)],
        Cmd::MoveDown,
        "move down",
        true,
    ),
    b(&[ch('r')], Cmd::Rename, "rename stage", false),
    b(&[ch('x')], Cmd::Clear, "clear value", false),
];

impl Component for PlatformScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        on_cmd(state, cmd)
    }

    // A poll while a change is on its way could show the settings from before it.
    fn wanted(&self, state: &State, force: bool) -> Vec<Resource> {
        if state.platform_settings.view.pending > 0 && !force {
            Vec::new()
        } else {
            vec![Resource::Platform]
        }
    }

    fn list_len(&self, state: &State) -> usize {
        state.platform_settings.rows().len()
    }

    fn move_cursor(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        let len = self.list_len(state);
        let v = &mut state.platform_settings.view;
        match cmd {
            Cmd::Up => v.selected = v.selected.saturating_sub(1),
            Cmd::Down => v.selected = (v.selected + 1).min(len.saturating_sub(1)),
            Cmd::Top => v.selected = 0,
            Cmd::Bottom => v.selected = len.saturating_sub(1),
            _ => {}
        }
        Vec::new()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Platform]
    }

    fn call(&self, _state: &State, _res: Resource) -> Option<(Call, Scope)> {
        Some((Call::GetPlatform, Scope::Global))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.platform_settings.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::GetPlatform).then_some(Resource::Platform)
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::PatchPlatform { .. }).then_some(Resource::Platform)
    }

    fn answered(&self, state: &mut State, call: &Call, err: Option<&ApiError>) {
        if let Call::PatchPlatform { change } = call {
            let view = &mut state.platform_settings.view;
            view.pending = view.pending.saturating_sub(1);
            platform_outcome(state, change, err);
        }
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        _call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        let now = state.now;
        match reply {
            Reply::Platform(p) => {
                if admit(state, Resource::Platform, id) {
                    state.platform_settings.remote.store(*p, now);
                    state.platform_settings.clamp();
                }
            }
            Reply::PlatformSaved(p) => {
                if admit(state, Resource::Platform, id) {
                    state.platform_settings.remote.store(*p, now);
                    state.platform_settings.clamp();
                }
                state.toast(ToastLevel::Info, "platform settings saved");
            }
            other => return Err(Box::new(other)),
        }
        Ok(Vec::new())
    }
}

/// After a platform PATCH is answered: a refusal is shown beside the field it is about
/// (the daemon's `field` when it names one, else the field that was sent, since a PATCH
/// carries only one); a success clears that field's old refusal.
fn platform_outcome(state: &mut State, change: &PlatformChange, err: Option<&ApiError>) {
    let sent = error_at(change);
    let view = &mut state.platform_settings.view;
    match err {
        None => view.errors.retain(|(at, _)| {
            *at != sent && !(sent == ErrorAt::Stages && matches!(at, ErrorAt::Stage(_)))
        }),
        Some(ApiError::Http { detail, .. }) => {
            let at = detail
                .field
                .as_deref()
                .and_then(error_at_field)
                .unwrap_or(sent);
            view.errors.retain(|(a, _)| *a != at);
            view.errors.push((at, detail.message.clone()));
        }
        // Not the daemon's verdict on the value: the toast and the header say it.
        Some(_) => {}
    }
}

/// Where the daemon's refusal of `change` is shown.
fn error_at(change: &PlatformChange) -> ErrorAt {
    match change {
        PlatformChange::Stages(_) => ErrorAt::Stages,
        PlatformChange::SlaHours(_) => ErrorAt::Field(PlatformField::SlaHours),
        PlatformChange::GraceHours(_) => ErrorAt::Field(PlatformField::GraceHours),
        PlatformChange::SpamKeywords(_) => ErrorAt::Field(PlatformField::SpamKeywords),
        PlatformChange::HoneypotFields(_) => ErrorAt::Field(PlatformField::HoneypotFields),
        PlatformChange::OperatorName(_) => ErrorAt::Field(PlatformField::OperatorName),
        PlatformChange::OperatorEmail(_) => ErrorAt::Field(PlatformField::OperatorEmail),
    }
}

/// `default_stages[2].name` → the third stage; `operator_email` → that field.
fn error_at_field(path: &str) -> Option<ErrorAt> {
    if let Some(rest) = path.strip_prefix("default_stages") {
        let index = rest
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .and_then(|(n, _)| n.parse::<usize>().ok());
        return Some(index.map_or(ErrorAt::Stages, ErrorAt::Stage));
    }
    PlatformField::ALL
        .into_iter()
        .find(|f| path == f.json() || path.starts_with(&format!("{}[", f.json())))
        .map(ErrorAt::Field)
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    let Some(cur) = state.platform_settings.remote.data.clone() else {
        if matches!(
            cmd,
            Cmd::Edit
                | Cmd::Clear
                | Cmd::Add
                | Cmd::Rename
                | Cmd::Delete
                | Cmd::MoveUp
                | Cmd::MoveDown
                | Cmd::Kind
        ) {
            state.toast(ToastLevel::Info, "platform settings not loaded yet");
        }
        return Vec::new();
    };
    let row = state.platform_settings.row();
    match (cmd, row) {
        (Cmd::Edit, Some(PlatformRow::Field(f))) => {
            state.overlay = Some(field_form(&cur, f));
            Vec::new()
        }
        (Cmd::Edit | Cmd::Rename, Some(PlatformRow::Stage(i))) => {
            if let Some(s) = cur.default_stages.get(i) {
                state.overlay = Some(Overlay::Form(Form {
                    title: format!("Rename default stage \"{}\"", s.name),
                    fields: vec![Field::new("Name", s.name.clone())],
                    focus: 0,
                    purpose: Purpose::RenameDefaultStage { index: i },
                    error: None,
                }));
            }
            Vec::new()
        }
        (Cmd::Add, _) => {
            state.overlay = Some(Overlay::Form(Form {
                title: "Add default stage".into(),
                fields: vec![
                    Field::new("Name", ""),
                    Field::new("Kind (open/won/lost)", "open"),
                ],
                focus: 0,
                purpose: Purpose::AddDefaultStage,
                error: None,
            }));
            Vec::new()
        }
        (Cmd::Delete, Some(PlatformRow::Stage(i))) => {
            let mut list = cur.default_stages.clone();
            if i >= list.len() {
                return Vec::new();
            }
            let gone = list.remove(i);
            if let Err(e) = check_stages(&list) {
                state.toast(ToastLevel::Error, e);
                return Vec::new();
            }
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: "Delete default stage".into(),
                message: format!(
                    "Remove \"{}\" from the default pipeline? Tenants created from now on \
                     will not have it; existing tenants keep their own stages.",
                    gone.name
                ),
                op: PendingOp::Platform(PlatformChange::Stages(list)),
            }));
            Vec::new()
        }
        (Cmd::MoveUp, Some(PlatformRow::Stage(i))) => reorder(state, &cur, i, -1),
        (Cmd::MoveDown, Some(PlatformRow::Stage(i))) => reorder(state, &cur, i, 1),
        (Cmd::Kind, Some(PlatformRow::Stage(i))) => {
            let mut list = cur.default_stages.clone();
            let Some(s) = list.get_mut(i) else {
                return Vec::new();
            };
            s.kind = match s.kind {
                StageKind::Open => StageKind::Won,
                StageKind::Won => StageKind::Lost,
                StageKind::Lost => StageKind::Open,
            };
            if let Err(e) = check_stages(&list) {
                state.toast(ToastLevel::Error, e);
                return Vec::new();
            }
            send(state, PlatformChange::Stages(list))
        }
        (Cmd::Clear, Some(PlatformRow::Field(f))) => {
            let (message, change) = match f {
                PlatformField::SlaHours | PlatformField::GraceHours => {
                    state.toast(ToastLevel::Info, format!("{} cannot be cleared", f.label()));
                    return Vec::new();
                }
                PlatformField::SpamKeywords => (
                    "Remove every default spam keyword? Existing tenants keep theirs.",
                    PlatformChange::SpamKeywords(Vec::new()),
                ),
                PlatformField::HoneypotFields => (
                    "Remove every honeypot field name? Ingest stops flagging filled honeypots.",
                    PlatformChange::HoneypotFields(Vec::new()),
                ),
                PlatformField::OperatorName => (
                    "Clear the operator name?",
                    PlatformChange::OperatorName(None),
                ),
                PlatformField::OperatorEmail => (
                    "Clear the operator email?",
                    PlatformChange::OperatorEmail(None),
                ),
            };
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: format!("Clear {}", f.label()),
                message: message.into(),
                op: PendingOp::Platform(change),
            }));
            Vec::new()
        }
        (Cmd::Clear, Some(PlatformRow::Stage(_))) => {
            state.toast(ToastLevel::Info, "d deletes a stage");
            Vec::new()
        }
        (
            Cmd::Rename | Cmd::Delete | Cmd::MoveUp | Cmd::MoveDown | Cmd::Kind,
            Some(PlatformRow::Field(_)),
        ) => {
            state.toast(ToastLevel::Info, "move the cursor to a default stage first");
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn field_form(cur: &PlatformSettings, f: PlatformField) -> Overlay {
    let (label, value) = match f {
        PlatformField::SlaHours => ("Hours (1-720)", cur.default_sla_hours.to_string()),
        PlatformField::GraceHours => (
            "Hours an old key keeps working after a rotation (0-720)",
            cur.default_grace_hours.to_string(),
        ),
        PlatformField::SpamKeywords => ("Comma-separated", cur.default_spam_keywords.join(", ")),
        PlatformField::HoneypotFields => (
            "Comma-separated form field names",
            cur.honeypot_fields.join(", "),
        ),
        PlatformField::OperatorName => (
            "Name (empty clears)",
            cur.operator_name.clone().unwrap_or_default(),
        ),
        PlatformField::OperatorEmail => (
            "Email (empty clears)",
            cur.operator_email.clone().unwrap_or_default(),
        ),
    };
    Overlay::Form(Form {
        title: f.label().to_string(),
        fields: vec![Field::new(label, value)],
        focus: 0,
        purpose: Purpose::Platform(f),
        error: None,
    })
}

/// The default pipeline checked with the rules a tenant's pipeline keeps: names valid and
/// unique (case-insensitively), the first stage open, at most [`STAGES_MAX`].
fn check_stages(list: &[StageTemplate]) -> Result<(), String> {
    if list.len() > STAGES_MAX {
        return Err(format!("a pipeline holds at most {STAGES_MAX} stages"));
    }
    let as_stages: Vec<Stage> = list
        .iter()
        .enumerate()
        .map(|(i, s)| Stage {
            id: Uuid::from_u128(i as u128 + 1),
            name: s.name.clone(),
            kind: s.kind,
        })
        .collect();
    stages::check_pipeline(&as_stages).map_err(|e| e.to_string())?;
    for (i, s) in list.iter().enumerate() {
        stages::validate_name(&s.name).map_err(|e| e.to_string())?;
        if list[..i]
            .iter()
            .any(|o| o.name.to_lowercase() == s.name.to_lowercase())
        {
            return Err(format!("a stage named \"{}\" already exists", s.name));
        }
    }
    Ok(())
}

fn reorder(state: &mut State, cur: &PlatformSettings, i: usize, delta: isize) -> Vec<Effect> {
    let mut list = cur.default_stages.clone();
    let Some(j) = i.checked_add_signed(delta).filter(|j| *j < list.len()) else {
        return Vec::new();
    };
    list.swap(i, j);
    if let Err(e) = check_stages(&list) {
        state.toast(ToastLevel::Error, e);
        return Vec::new();
    }
    state.platform_settings.view.selected = PlatformField::ALL.len() + j;
    send(state, PlatformChange::Stages(list))
}

/// Sends one change. A new stage list is shown at once (the daemon's answer, or a refetch
/// after a refusal, replaces it); other fields change when the daemon has saved them.
pub(crate) fn send(state: &mut State, change: PlatformChange) -> Vec<Effect> {
    if let (PlatformChange::Stages(list), Some(cur)) =
        (&change, state.platform_settings.remote.data.as_mut())
    {
        cur.default_stages = list.clone();
        let n = PlatformField::ALL.len() + list.len();
        state.platform_settings.view.selected = state
            .platform_settings
            .view
            .selected
            .min(n.saturating_sub(1));
    }
    state.platform_settings.view.pending += 1;
    vec![mutate_global(
        state,
        Call::PatchPlatform { change },
        Resource::Platform,
    )]
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

fn opt_text(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// Checks a submitted Platform form with core's rules; `Err` keeps the form open. A value
/// equal to the current one sends nothing.
pub(crate) fn submit(
    state: &mut State,
    purpose: Purpose,
    values: &[String],
) -> Result<Vec<Effect>, String> {
    let Some(cur) = state.platform_settings.remote.data.clone() else {
        return Err("platform settings not loaded yet".into());
    };
    let first = values.first().map(|v| v.trim()).unwrap_or_default();
    let change = match purpose {
        Purpose::Platform(PlatformField::SlaHours) => {
            let h: u32 = first
                .parse()
                .map_err(|_| "SLA hours must be a whole number".to_string())?;
            let h = validate::sla_hours("default_sla_hours", h).map_err(|e| e.to_string())?;
            (h != cur.default_sla_hours).then_some(PlatformChange::SlaHours(h))
        }
        Purpose::Platform(PlatformField::GraceHours) => {
            let h = match first.parse::<u32>() {
                Ok(h) if h <= GRACE_HOURS_MAX => h,
                _ => {
                    return Err(format!(
                        "grace hours must be a whole number from 0 to {GRACE_HOURS_MAX}"
                    ));
                }
            };
            (h != cur.default_grace_hours).then_some(PlatformChange::GraceHours(h))
        }
        Purpose::Platform(PlatformField::SpamKeywords) => {
            let words = validate::spam_keywords("default_spam_keywords", &split_list(first))
                .map_err(|e| e.to_string())?;
            (words != cur.default_spam_keywords).then_some(PlatformChange::SpamKeywords(words))
        }
        Purpose::Platform(PlatformField::HoneypotFields) => {
            // The daemon keeps them by the keyword rules (lower-cased, ≤100 characters,
            // at most 500) since it compares field names loosely.
            let names = validate::spam_keywords("honeypot_fields", &split_list(first))
                .map_err(|e| e.to_string())?;
            (names != cur.honeypot_fields).then_some(PlatformChange::HoneypotFields(names))
        }
        Purpose::Platform(PlatformField::OperatorName) => {
            let name = match opt_text(first) {
                Some(n) => Some(
                    validate::text("operator_name", &n, validate::NAME_MAX_CHARS)
                        .map_err(|e| e.to_string())?,
                ),
                None => None,
            };
            (name != cur.operator_name).then_some(PlatformChange::OperatorName(name))
        }
        Purpose::Platform(PlatformField::OperatorEmail) => {
            let email = match opt_text(first) {
                Some(e) => Some(validate::email("operator_email", &e).map_err(|e| e.to_string())?),
                None => None,
            };
            (email != cur.operator_email).then_some(PlatformChange::OperatorEmail(email))
        }
        Purpose::AddDefaultStage => {
            let name = stages::validate_name(first).map_err(|e| e.to_string())?;
            let kind_text = values
                .get(1)
                .map(|k| k.trim().to_lowercase())
                .unwrap_or_default();
            let kind = if kind_text.is_empty() {
                StageKind::Open
            } else {
                StageKind::parse(&kind_text).ok_or("kind must be open, won or lost")?
            };
            let mut list = cur.default_stages.clone();
            list.push(StageTemplate { name, kind });
            check_stages(&list)?;
            let at = PlatformField::ALL.len() + list.len() - 1;
            let out = send(state, PlatformChange::Stages(list));
            state.platform_settings.view.selected = at;
            return Ok(out);
        }
        Purpose::RenameDefaultStage { index } => {
            let name = stages::validate_name(first).map_err(|e| e.to_string())?;
            let mut list = cur.default_stages.clone();
            let Some(s) = list.get_mut(index) else {
                return Err("that stage is gone; press Esc".into());
            };
            if s.name == name {
                None
            } else {
                s.name = name;
                check_stages(&list)?;
                Some(PlatformChange::Stages(list))
            }
        }
        _ => return Ok(Vec::new()),
    };
    Ok(change.map(|c| send(state, c)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use echo5_core::platform_settings::PlatformSettingsPatch;
    use serde_json::json;

    #[test]
    fn a_patch_sends_only_its_field() {
        let p = PlatformSettingsPatch {
            operator_name: Some(None),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(p).ok(),
            Some(json!({"operator_name": null}))
        );
    }
}
