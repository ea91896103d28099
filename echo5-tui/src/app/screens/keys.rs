//! Keys: the selected tenant's ingest API keys. Create, rotate with a grace period, reveal
//! (audited) and revoke. A full key only ever lives in the modal that shows it.

use echo5_core::keys::{self, ApiKey, GRACE_HOURS_DEFAULT, GRACE_HOURS_MAX, KeyStatus};
use uuid::Uuid;

use super::super::effect::{Call, Effect};
use super::super::overlay::{Confirm, Field, Form, Overlay, PendingOp, Purpose};
use super::super::request::mutate;
use super::super::state::{Resource, State, ToastLevel};
use crate::keymap::Cmd;

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Add => {
            if state.tenant.is_none() {
                return Vec::new();
            }
            state.overlay = Some(Overlay::Form(Form {
                title: "Create API key".into(),
                fields: vec![Field::new(
                    "Label (the site it goes into; empty: default)",
                    "",
                )],
                focus: 0,
                purpose: Purpose::CreateKey,
                error: None,
            }));
            Vec::new()
        }
        Cmd::Rotate => {
            let Some(k) = usable_selected(state, "rotate") else {
                return Vec::new();
            };
            state.overlay = Some(Overlay::Form(Form {
                title: format!("Rotate {} \"{}\"", k.prefix, k.label),
                fields: vec![Field::new(
                    "Grace hours: the old key keeps working this long (0-720)",
                    GRACE_HOURS_DEFAULT.to_string(),
                )],
                focus: 0,
                purpose: Purpose::RotateKey { key: k.id },
                error: None,
            }));
            Vec::new()
        }
        Cmd::Reveal => {
            let Some(k) = usable_selected(state, "reveal") else {
                return Vec::new();
            };
            let Some(tenant) = state.tenant.as_ref().map(|t| t.id) else {
                return Vec::new();
            };
            vec![mutate(
                state,
                Call::RevealKey { tenant, key: k.id },
                Resource::Keys,
            )]
        }
        Cmd::Delete => {
            let Some(k) = state.selected_key().cloned() else {
                return Vec::new();
            };
            if status_now(state, &k) == KeyStatus::Revoked {
                state.toast(ToastLevel::Info, format!("{} is already revoked", k.prefix));
                return Vec::new();
            }
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: "Revoke API key".into(),
                message: format!(
                    "Revoke {} \"{}\"? Sites sending it get 401 at once; this cannot be undone.",
                    k.prefix, k.label
                ),
                op: PendingOp::RevokeKey { key: k.id },
            }));
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// A key's status at the console's clock: a grace period can run out between two polls.
pub(crate) fn status_now(state: &State, k: &ApiKey) -> KeyStatus {
    keys::status(state.now, k.expires_at, k.revoked_at)
}

/// The selected key if it still works; otherwise says why `what` cannot be done to it.
fn usable_selected(state: &mut State, what: &str) -> Option<ApiKey> {
    let k = state.selected_key()?.clone();
    let status = status_now(state, &k);
    if keys::usable(status) {
        return Some(k);
    }
    let word = match status {
        KeyStatus::Revoked => "revoked",
        _ => "expired",
    };
    state.toast(
        ToastLevel::Info,
        format!("{} is {word}; cannot {what} it", k.prefix),
    );
    None
}

/// Checks a submitted create/rotate form with core's rules; `Err` keeps the form open.
pub(crate) fn submit(
    state: &mut State,
    purpose: Purpose,
    values: &[String],
) -> Result<Vec<Effect>, String> {
    let tenant = state.tenant.as_ref().map(|t| t.id).ok_or("no tenant")?;
    let first = values.first().map(|v| v.trim()).unwrap_or_default();
    let call = match purpose {
        Purpose::CreateKey => {
            let label = if first.is_empty() {
                None
            } else {
                Some(keys::validate_label(Some(first)).map_err(|e| e.to_string())?)
            };
            Call::CreateKey { tenant, label }
        }
        Purpose::RotateKey { key } => Call::RotateKey {
            tenant,
            key,
            grace_hours: grace_hours(first)?,
        },
        _ => return Ok(Vec::new()),
    };
    Ok(vec![mutate(state, call, Resource::Keys)])
}

fn grace_hours(text: &str) -> Result<u32, String> {
    if text.is_empty() {
        return Ok(GRACE_HOURS_DEFAULT);
    }
    match text.parse::<u32>() {
        Ok(h) if h <= GRACE_HOURS_MAX => Ok(h),
        _ => Err(format!(
            "grace hours must be a whole number from 0 to {GRACE_HOURS_MAX}"
        )),
    }
}

/// After a revoke is confirmed.
pub(crate) fn revoke(state: &mut State, key: Uuid) -> Vec<Effect> {
    let Some(tenant) = state.tenant.as_ref().map(|t| t.id) else {
        return Vec::new();
    };
    vec![mutate(
        state,
        Call::RevokeKey { tenant, key },
        Resource::Keys,
    )]
}
