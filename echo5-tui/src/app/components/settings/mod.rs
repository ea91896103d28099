//! Settings: SLA hours, business hours, spam keywords, manager email, phone country,
//! auto-assignment, and the two write-only secrets.

mod view;

use crossterm::event::KeyCode;
use echo5_core::assignment::AutoAssign;
use echo5_core::business_hours::{self, BusinessHours};
use echo5_core::secret::Secret;
use echo5_core::settings::{GoogleAdsConfig, TenantSettings, check_country};
use echo5_core::validate;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::Component;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope, SecretField, SettingsChange};
use crate::app::overlay::{Confirm, Field, Form, Overlay, PendingOp, Purpose};
use crate::app::request::{admit, mutate};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch, k};

/// The selected tenant's settings, and the row the cursor is on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub remote: Remote<TenantSettings>,
    pub view: ListView,
}

pub struct SettingsScreen;

const BINDINGS: &[Binding] = &[
    b(
        &[k(KeyCode::Enter), ch('e')],
        Cmd::Edit,
        "edit / replace",
        true,
    ),
    b(&[ch('x')], Cmd::Clear, "clear value", true),
];

impl Component for SettingsScreen {
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
        vec![Resource::Settings]
    }

    fn cursor_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.settings.view)
    }

    fn list_len(&self, _state: &State) -> usize {
        Row::ALL.len()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Settings]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        let tenant = state.tenant.as_ref()?.id;
        Some((Call::GetSettings { tenant }, state.tenant_scope()))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.settings.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::GetSettings { .. }).then_some(Resource::Settings)
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::PatchSettings { .. }).then_some(Resource::Settings)
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        _call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        match reply {
            Reply::Settings(s) => store_settings(state, id, s),
            Reply::SettingsSaved(s) => {
                store_settings(state, id, s);
                state.toast(ToastLevel::Info, "settings saved");
            }
            other => return Err(Box::new(other)),
        }
        Ok(Vec::new())
    }

    fn tenant_changed(&self, state: &mut State) {
        state.settings.remote = Remote::default();
    }
}

fn store_settings(state: &mut State, id: u64, s: TenantSettings) {
    if !admit(state, Resource::Settings, id) {
        return;
    }
    // The dashboard shows SLA hours from the tenant list; keep it in step.
    if let (Some(sel), Some(all)) = (&state.tenant, state.tenants.remote.data.as_mut())
        && let Some(t) = all.iter_mut().find(|t| t.id == sel.id)
    {
        t.settings = s.clone();
    }
    let now = state.now;
    state.settings.remote.store(s, now);
}

/// What the business-hours form starts with when none are set.
const BUSINESS_HOURS_EXAMPLE: &str = r#"{"timezone":"America/New_York","week":{"mon":["08:00","18:00"],"tue":["08:00","18:00"],"wed":["08:00","18:00"],"thu":["08:00","18:00"],"fri":["08:00","18:00"]},"holidays":[]}"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    SlaHours,
    BusinessHours,
    SpamKeywords,
    ManagerEmail,
    DefaultCountry,
    AutoAssign,
    Secret(SecretField),
}

impl Row {
    pub const ALL: [Row; 8] = [
        Row::SlaHours,
        Row::SpamKeywords,
        Row::ManagerEmail,
        Row::DefaultCountry,
        Row::AutoAssign,
        Row::BusinessHours,
        Row::Secret(SecretField::MetaAccessToken),
        Row::Secret(SecretField::GoogleAds),
    ];

    pub fn label(self) -> &'static str {
        match self {
            Row::SlaHours => "SLA hours",
            Row::BusinessHours => "Business hours",
            Row::SpamKeywords => "Spam keywords",
            Row::ManagerEmail => "Manager email",
            Row::DefaultCountry => "Phone country",
            Row::AutoAssign => "Auto-assign",
            Row::Secret(f) => f.label(),
        }
    }
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    let row = Row::ALL
        .get(state.settings.view.selected)
        .copied()
        .unwrap_or(Row::SlaHours);
    let Some(cur) = state.settings.remote.data.as_ref() else {
        if matches!(cmd, Cmd::Edit | Cmd::Clear) {
            state.toast(ToastLevel::Info, "settings not loaded yet");
        }
        return Vec::new();
    };
    match cmd {
        // Two values: Enter offers the other one.
        Cmd::Edit if row == Row::AutoAssign => {
            let (next, message) = match cur.auto_assign {
                AutoAssign::None => (
                    AutoAssign::RoundRobin,
                    "Give each new lead to the next active manager, in turn?",
                ),
                AutoAssign::RoundRobin => (
                    AutoAssign::None,
                    "Stop assigning new leads? They will wait unassigned.",
                ),
            };
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: format!("Auto-assign: {}", next.as_str()),
                message: message.to_string(),
                op: PendingOp::Settings(SettingsChange::AutoAssign(next)),
            }));
            return Vec::new();
        }
        Cmd::Edit => {
            let (title, fields, purpose) = match row {
                Row::AutoAssign => return Vec::new(),
                Row::SlaHours => (
                    "SLA hours".to_string(),
                    vec![Field::new("Hours (1-720)", cur.sla_hours.to_string())],
                    Purpose::SlaHours,
                ),
                Row::BusinessHours => (
                    "Business hours".to_string(),
                    vec![Field::new(
                        "JSON: {\"timezone\", \"week\": {\"mon\": [\"08:00\", \"18:00\"], …}, \"holidays\"}",
                        cur.business_hours
                            .as_ref()
                            .and_then(|b| serde_json::to_string(b).ok())
                            .unwrap_or_else(|| BUSINESS_HOURS_EXAMPLE.to_string()),
                    )],
                    Purpose::BusinessHours,
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
                Row::DefaultCountry => (
                    "Phone country".to_string(),
                    vec![Field::new(
                        "ISO code (US, GB, DE …)",
                        cur.default_country.clone(),
                    )],
                    Purpose::DefaultCountry,
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
                Row::DefaultCountry => {
                    state.toast(
                        ToastLevel::Info,
                        "the phone country cannot be cleared (Enter sets another)",
                    );
                    return Vec::new();
                }
                Row::BusinessHours if cur.business_hours.is_none() => {
                    state.toast(ToastLevel::Info, "business hours are not set");
                    return Vec::new();
                }
                Row::BusinessHours => (
                    "Clear the business hours? The SLA will count every hour again.".to_string(),
                    SettingsChange::BusinessHours(None),
                ),
                Row::AutoAssign if cur.auto_assign == AutoAssign::None => {
                    state.toast(ToastLevel::Info, "auto-assignment is already off");
                    return Vec::new();
                }
                Row::AutoAssign => (
                    "Stop assigning new leads? They will wait unassigned.".to_string(),
                    SettingsChange::AutoAssign(AutoAssign::None),
                ),
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
        Purpose::BusinessHours => {
            let b: BusinessHours = serde_json::from_str(first).map_err(|e| {
                format!("business hours must be JSON like {BUSINESS_HOURS_EXAMPLE}: {e}")
            })?;
            SettingsChange::BusinessHours(Some(Box::new(
                business_hours::validate("business_hours", &b).map_err(|e| e.to_string())?,
            )))
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
        Purpose::DefaultCountry => SettingsChange::DefaultCountry(
            check_country("default_country", first).map_err(|e| e.to_string())?,
        ),
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
