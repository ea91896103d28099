//! Settings: SLA hours, spam keywords, manager email, and the two write-only secrets.

use echo5_core::secret::Secret;
use echo5_core::tenants::GoogleAdsConfig;
use echo5_core::validate;

use super::super::effect::{Call, Effect, SecretField, SettingsChange};
use super::super::overlay::{Confirm, Field, Form, Overlay, PendingOp, Purpose};
use super::super::request::mutate;
use super::super::state::{Resource, State, ToastLevel};
use crate::keymap::Cmd;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    SlaHours,
    SpamKeywords,
    ManagerEmail,
    Secret(SecretField),
}

impl Row {
    pub const ALL: [Row; 5] = [
        Row::SlaHours,
        Row::SpamKeywords,
        Row::ManagerEmail,
        Row::Secret(SecretField::MetaAccessToken),
        Row::Secret(SecretField::GoogleAds),
    ];

    pub fn label(self) -> &'static str {
        match self {
            Row::SlaHours => "SLA hours",
            Row::SpamKeywords => "Spam keywords",
            Row::ManagerEmail => "Manager email",
            Row::Secret(f) => f.label(),
        }
    }
}

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    let row = Row::ALL
        .get(state.settings_view.selected)
        .copied()
        .unwrap_or(Row::SlaHours);
    let Some(cur) = state.settings.data.as_ref() else {
        if matches!(cmd, Cmd::Edit | Cmd::Clear) {
            state.toast(ToastLevel::Info, "settings not loaded yet");
        }
        return Vec::new();
    };
    match cmd {
        Cmd::Edit => {
            let (title, fields, purpose) = match row {
                Row::SlaHours => (
                    "SLA hours".to_string(),
                    vec![Field::new("Hours (1-720)", cur.sla_hours.to_string())],
                    Purpose::SlaHours,
                ),
                Row::SpamKeywords => (
                    "Spam keywords".to_string(),
                    vec![Field::new("Comma-separated", cur.spam_keywords.join(", "))],
                    Purpose::SpamKeywords,
                ),
                Row::ManagerEmail => (
                    "Manager email".to_string(),
                    vec![Field::new(
                        "Email (empty clears)",
                        cur.manager_email.clone().unwrap_or_default(),
                    )],
                    Purpose::ManagerEmail,
                ),
                Row::Secret(SecretField::MetaAccessToken) => (
                    "Replace Meta access token".to_string(),
                    vec![Field::secret("New token")],
                    Purpose::Secret(SecretField::MetaAccessToken),
                ),
                Row::Secret(SecretField::GoogleAds) => (
                    "Replace Google Ads settings".to_string(),
                    vec![
                        Field::new("Customer id", ""),
                        Field::new("Conversion action", ""),
                        Field::secret("Webhook key"),
                    ],
                    Purpose::Secret(SecretField::GoogleAds),
                ),
            };
            state.overlay = Some(Overlay::Form(Form {
                title,
                fields,
                focus: 0,
                purpose,
                error: None,
            }));
        }
        Cmd::Clear => {
            let (message, change) = match row {
                Row::SlaHours => {
                    state.toast(ToastLevel::Info, "SLA hours cannot be cleared");
                    return Vec::new();
                }
                Row::SpamKeywords => (
                    "Remove every spam keyword?".to_string(),
                    SettingsChange::SpamKeywords(Vec::new()),
                ),
                Row::ManagerEmail => (
                    "Clear the manager email? SLA alerts will only be logged.".to_string(),
                    SettingsChange::ManagerEmail(None),
                ),
                Row::Secret(f) => (
                    format!("Remove the stored {}?", f.label()),
                    match f {
                        SecretField::MetaAccessToken => SettingsChange::MetaAccessToken(None),
                        SecretField::GoogleAds => SettingsChange::GoogleAds(None),
                    },
                ),
            };
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: format!("Clear {}", row.label()),
                message,
                op: PendingOp::Settings(change),
            }));
        }
        _ => {}
    }
    Vec::new()
}

/// Validates a settings form with core's rules; `Err` keeps the form open with the reason.
pub(crate) fn submit(
    state: &mut State,
    purpose: Purpose,
    values: &[String],
) -> Result<Vec<Effect>, String> {
    let first = values.first().map(|v| v.trim()).unwrap_or_default();
    let change = match purpose {
        Purpose::SlaHours => {
            let h: u32 = first
                .parse()
                .map_err(|_| "SLA hours must be a whole number".to_string())?;
            SettingsChange::SlaHours(
                validate::sla_hours("sla_hours", h).map_err(|e| e.to_string())?,
            )
        }
        Purpose::SpamKeywords => {
            let words: Vec<String> = first
                .split(',')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect();
            SettingsChange::SpamKeywords(
                validate::spam_keywords("spam_keywords", &words).map_err(|e| e.to_string())?,
            )
        }
        Purpose::ManagerEmail => SettingsChange::ManagerEmail(if first.is_empty() {
            None
        } else {
            Some(validate::email("manager_email", first).map_err(|e| e.to_string())?)
        }),
        Purpose::Secret(SecretField::MetaAccessToken) => {
            if first.is_empty() {
                return Err("type the new token (x on the row clears it)".into());
            }
            let t = validate::text("meta_access_token", first, validate::SECRET_MAX_CHARS)
                .map_err(|e| e.to_string())?;
            SettingsChange::MetaAccessToken(Some(Secret::new(t)))
        }
        Purpose::Secret(SecretField::GoogleAds) => {
            let get = |i: usize| {
                values
                    .get(i)
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            let g = GoogleAdsConfig {
                customer_id: get(0),
                conversion_action: get(1),
                webhook_key: get(2),
            };
            if g.customer_id.is_empty()
                || g.conversion_action.is_empty()
                || g.webhook_key.is_empty()
            {
                return Err("all three Google Ads fields are needed".into());
            }
            SettingsChange::GoogleAds(Some(Secret::new(g)))
        }
        _ => return Ok(Vec::new()),
    };
    Ok(save(state, change).into_iter().collect())
}

pub(crate) fn save(state: &mut State, change: SettingsChange) -> Option<Effect> {
    let tenant = state.tenant.as_ref()?.id;
    Some(mutate(
        state,
        Call::PatchSettings { tenant, change },
        Resource::Settings,
    ))
}
