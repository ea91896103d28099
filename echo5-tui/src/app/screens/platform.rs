//! Platform: the defaults new tenants start with (pipeline, SLA hours, spam keywords, key
//! grace hours), the honeypot field names ingest watches, and who runs the platform.
//! Each edit PATCHes only the field it changed; the stage list is sent whole, as the API
//! takes it, and checked first with core's pipeline rules.

use echo5_core::keys::GRACE_HOURS_MAX;
use echo5_core::stages::{self, STAGES_MAX, Stage, StageKind};
use echo5_core::validate;
use uuid::Uuid;

use super::super::effect::{Call, Effect, PlatformChange};
use super::super::overlay::{Confirm, Field, Form, Overlay, PendingOp, Purpose};
use super::super::request::mutate_global;
use super::super::state::{PlatformField, PlatformRow, Resource, State, ToastLevel};
use crate::keymap::Cmd;
use crate::platform::{PlatformSettings, StageTemplate};

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    let Some(cur) = state.platform.data.clone() else {
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
    let row = state.platform_row();
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
    state.platform_view.selected = PlatformField::ALL.len() + j;
    send(state, PlatformChange::Stages(list))
}

/// Sends one change. A new stage list is shown at once (the daemon's answer, or a refetch
/// after a refusal, replaces it); other fields change when the daemon has saved them.
pub(crate) fn send(state: &mut State, change: PlatformChange) -> Vec<Effect> {
    if let (PlatformChange::Stages(list), Some(cur)) = (&change, state.platform.data.as_mut()) {
        cur.default_stages = list.clone();
        let n = PlatformField::ALL.len() + list.len();
        state.platform_view.selected = state.platform_view.selected.min(n.saturating_sub(1));
    }
    state.platform_view.pending += 1;
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
    let Some(cur) = state.platform.data.clone() else {
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
            state.platform_view.selected = at;
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
