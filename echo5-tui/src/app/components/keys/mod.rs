//! Keys: the selected tenant's ingest API keys. Create, rotate with a grace period, reveal
//! (audited) and revoke. A full key only ever lives in the modal that shows it.

mod view;

use echo5_core::keys::{self, ApiKey, KeyStatus};
use echo5_core::secret::Secret;
use echo5_core::validate::{GRACE_HOURS_DEFAULT, GRACE_HOURS_MAX};
use ratatui::Frame;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::Component;
use crate::app::action::{Reply, SecretOrigin};
use crate::app::effect::{Call, Effect, Scope};
use crate::app::live::LiveEvent;
use crate::app::overlay::{Confirm, Field, Form, Overlay, PendingOp, Purpose, ShownKey};
use crate::app::request::{admit, fetch, mutate};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch};

/// The selected tenant's API keys, newest first (never the keys themselves), and the
/// screen's cursor and filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keys {
    pub remote: Remote<Vec<ApiKey>>,
    pub view: ListView,
    /// A key just created or rotated, to put the cursor on when the list has it.
    pub focus: Option<Uuid>,
}

impl Keys {
    /// Keys with the filter (label or prefix) applied, newest first.
    pub fn filtered(&self) -> Vec<&ApiKey> {
        let all = self.remote.data.as_deref().unwrap_or_default();
        let f = self.view.filter.to_lowercase();
        all.iter()
            .filter(|k| {
                f.is_empty()
                    || k.label.to_lowercase().contains(&f)
                    || k.prefix.to_lowercase().contains(&f)
            })
            .collect()
    }

    pub fn selected(&self) -> Option<&ApiKey> {
        self.filtered().get(self.view.selected).copied()
    }

    /// After creating or rotating a key, put the cursor on the new one once the list has it.
    fn focus_pending(&mut self) {
        let ids: Vec<Uuid> = self.filtered().iter().map(|k| k.id).collect();
        self.view.focus(&mut self.focus, &ids);
    }
}

/// Where a site sends leads with a key, on the daemon the console talks to: the header
/// form (`POST /api/v1/leads` with `X-API-Key`) and, for form plugins that cannot set a
/// header (Elementor, Ninja Forms), the key in the path (`/api/v1/ingest/{key}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestUrls {
    pub with_header: String,
    pub key_in_url: String,
}

impl IngestUrls {
    pub fn new(base_url: &str, key: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        IngestUrls {
            with_header: format!("{base}/api/v1/leads"),
            key_in_url: format!("{base}/api/v1/ingest/{key}"),
        }
    }
}

pub struct KeysScreen;

const BINDINGS: &[Binding] = &[
    b(&[ch('c')], Cmd::Add, "create key", true),
    b(&[ch('R')], Cmd::Rotate, "rotate", true),
    b(&[ch('v')], Cmd::Reveal, "reveal", true),
    b(&[ch('x'), ch('d')], Cmd::Delete, "revoke", true),
];

impl Component for KeysScreen {
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
        vec![Resource::Keys]
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.keys.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.keys.filtered().len()
    }

    fn live(&self, _state: &State, event: LiveEvent) -> Vec<Resource> {
        ((event.topic.any || event.topic.key) && event.ours)
            .then_some(Resource::Keys)
            .into_iter()
            .collect()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Keys]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        let tenant = state.tenant.as_ref()?.id;
        Some((Call::ListKeys { tenant }, state.tenant_scope()))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.keys.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::ListKeys { .. }).then_some(Resource::Keys)
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        matches!(
            call,
            Call::CreateKey { .. }
                | Call::RotateKey { .. }
                | Call::RevealKey { .. }
                | Call::RevokeKey { .. }
        )
        .then_some(Resource::Keys)
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        _call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        Ok(match reply {
            Reply::Keys(list) => {
                if admit(state, Resource::Keys, id) {
                    let now = state.now;
                    let keys = &mut state.keys;
                    keys.remote.store(list, now);
                    keys.focus_pending();
                    let n = keys.filtered().len();
                    keys.view.clamp(n);
                }
                Vec::new()
            }
            Reply::KeySecret {
                key,
                secret,
                origin,
            } => {
                let changed_list = match &origin {
                    SecretOrigin::Created => {
                        state.toast(ToastLevel::Info, format!("created key {}", key.prefix));
                        true
                    }
                    SecretOrigin::Rotated { old_key } => {
                        let until = old_key
                            .expires_at
                            .map(|t| format!("until {}", t.format("%Y-%m-%d %H:%M UTC")))
                            .unwrap_or_else(|| "no longer".into());
                        state.toast(
                            ToastLevel::Info,
                            format!("rotated: {} works {until}", old_key.prefix),
                        );
                        true
                    }
                    SecretOrigin::Revealed => false,
                };
                if changed_list {
                    state.keys.focus = Some(key.id);
                }
                show_secret(state, key, secret, origin);
                if changed_list {
                    fetch(state, Resource::Keys, true).into_iter().collect()
                } else {
                    Vec::new()
                }
            }
            Reply::KeyRevoked(key) => {
                state.toast(ToastLevel::Info, format!("revoked {}", key.prefix));
                // Shown at once; the refetch confirms it.
                if let Some(row) = state
                    .keys
                    .remote
                    .data
                    .iter_mut()
                    .flatten()
                    .find(|k| k.id == key.id)
                {
                    *row = key;
                }
                fetch(state, Resource::Keys, true).into_iter().collect()
            }
            other => return Err(Box::new(other)),
        })
    }

    fn tenant_changed(&self, state: &mut State) {
        state.keys = Keys::default();
    }
}

/// Opens (or queues behind one already open) the modal that shows a full key once. It
/// replaces any other dialog: losing a half-typed form costs less than missing a key.
pub(crate) fn show_secret(
    state: &mut State,
    key: ApiKey,
    secret: Secret<String>,
    origin: SecretOrigin,
) {
    let tenant_name = state
        .tenants
        .remote
        .data
        .iter()
        .flatten()
        .find(|t| t.id == key.tenant_id)
        .map(|t| t.name.clone())
        .unwrap_or_else(|| key.tenant_id.to_string());
    let shown = ShownKey {
        tenant_name,
        key,
        secret,
        origin,
    };
    state.overlay = Some(match state.overlay.take() {
        Some(Overlay::ShowKey(mut queue)) => {
            queue.push(shown);
            Overlay::ShowKey(queue)
        }
        _ => Overlay::ShowKey(vec![shown]),
    });
    state.dirty = true;
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
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
            let Some(k) = state.keys.selected().cloned() else {
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
    let k = state.keys.selected()?.clone();
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
