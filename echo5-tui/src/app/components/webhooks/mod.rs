//! Webhooks: the selected tenant's outgoing webhook endpoints. Create one (its signing
//! secret is shown once), edit its URL, events and description, pause or resume it, rotate
//! its secret, send it a test message, delete it; Enter opens its delivery log
//! ([`deliveries`]). A secret only ever lives in the modal that shows it.

pub mod deliveries;
mod view;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use echo5_core::secret::Secret;
use echo5_core::webhooks::{EventType, NewWebhook, Webhook, WebhookPatch};
use ratatui::Frame;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::Component;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::navigation::go;
use crate::app::overlay::{
    Confirm, EventsFor, Field, Form, Overlay, PendingOp, PickEvents, Purpose, ShownWebhookSecret,
};
use crate::app::request::{admit, fetch, mutate};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, Screen, State};
use crate::keymap::{self, Binding, Cmd, b, ch, k};

pub use view::{endpoint_state_text, events_text};

/// The selected tenant's endpoints as the daemon lists them (never their secrets), the
/// screen's cursor and filter, and the delivery log of the endpoint opened.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Webhooks {
    pub remote: Remote<Vec<Webhook>>,
    pub view: ListView,
    /// An endpoint just created, to put the cursor on when the list has it.
    pub focus: Option<Uuid>,
    pub deliveries: deliveries::Deliveries,
}

impl Webhooks {
    /// Endpoints with the filter (URL, description or an event) applied.
    pub fn filtered(&self) -> Vec<&Webhook> {
        let all = self.remote.data.as_deref().unwrap_or_default();
        let f = self.view.filter.to_lowercase();
        all.iter()
            .filter(|w| {
                f.is_empty()
                    || w.url.to_lowercase().contains(&f)
                    || w.description.to_lowercase().contains(&f)
                    || w.events.iter().any(|e| e.contains(&f))
            })
            .collect()
    }

    pub fn selected(&self) -> Option<&Webhook> {
        self.filtered().get(self.view.selected).copied()
    }

    pub fn find(&self, id: Uuid) -> Option<&Webhook> {
        self.remote.data.iter().flatten().find(|w| w.id == id)
    }

    fn focus_pending(&mut self) {
        let ids: Vec<Uuid> = self.filtered().iter().map(|w| w.id).collect();
        self.view.focus(&mut self.focus, &ids);
    }
}

/// How an endpoint stands: sending, paused by a user, or disabled by the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointState {
    Active,
    Paused,
    /// Why: `gone` (the receiver answered 410) or `failing` (5 days of failures).
    Disabled(String),
}

pub fn endpoint_state(w: &Webhook) -> EndpointState {
    match (w.active, &w.disabled_reason) {
        (true, _) => EndpointState::Active,
        (false, None) => EndpointState::Paused,
        (false, Some(r)) => EndpointState::Disabled(r.clone()),
    }
}

pub struct WebhooksScreen;

const BINDINGS: &[Binding] = &[
    b(&[k(KeyCode::Enter)], Cmd::Open, "deliveries", true),
    b(&[ch('c')], Cmd::Add, "new", true),
    b(&[ch('e')], Cmd::Edit, "edit", true),
    b(&[ch('p')], Cmd::Active, "pause/resume", true),
    b(&[ch('t')], Cmd::Test, "test", true),
    b(&[ch('x'), ch('d')], Cmd::Delete, "delete", true),
    b(&[ch('R')], Cmd::Rotate, "rotate secret", false),
];

impl Component for WebhooksScreen {
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
        vec![Resource::Webhooks]
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.webhooks.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.webhooks.filtered().len()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Webhooks]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        let tenant = state.tenant.as_ref()?.id;
        Some((Call::ListWebhooks { tenant }, state.tenant_scope()))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.webhooks.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::ListWebhooks { .. }).then_some(Resource::Webhooks)
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        matches!(
            call,
            Call::CreateWebhook { .. }
                | Call::PatchWebhook { .. }
                | Call::DeleteWebhook { .. }
                | Call::RotateWebhookSecret { .. }
        )
        .then_some(Resource::Webhooks)
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        Ok(match reply {
            Reply::Webhooks(list) => {
                if admit(state, Resource::Webhooks, id) {
                    let now = state.now;
                    let w = &mut state.webhooks;
                    w.remote.store(list, now);
                    w.focus_pending();
                    let n = w.filtered().len();
                    w.view.clamp(n);
                }
                Vec::new()
            }
            Reply::WebhookSecret {
                webhook,
                secret,
                rotated,
            } => {
                let text = if rotated {
                    format!("rotated the secret of {}", short_url(&webhook.url))
                } else {
                    format!("created {}", short_url(&webhook.url))
                };
                state.toast(ToastLevel::Info, text);
                state.webhooks.focus = Some(webhook.id);
                show_secret(state, &webhook, secret, rotated);
                fetch(state, Resource::Webhooks, true).into_iter().collect()
            }
            Reply::WebhookSaved(w) => {
                let paused = match call {
                    Call::PatchWebhook { patch, .. } => patch.active,
                    _ => None,
                };
                let text = match paused {
                    Some(false) => format!("paused {}", short_url(&w.url)),
                    Some(true) => format!("resumed {}", short_url(&w.url)),
                    None => format!("saved {}", short_url(&w.url)),
                };
                state.toast(ToastLevel::Info, text);
                // Shown at once; the refetch confirms it.
                if let Some(row) = state
                    .webhooks
                    .remote
                    .data
                    .iter_mut()
                    .flatten()
                    .find(|x| x.id == w.id)
                {
                    *row = *w;
                }
                fetch(state, Resource::Webhooks, true).into_iter().collect()
            }
            Reply::WebhookDeleted => {
                if let Call::DeleteWebhook { webhook, .. } = call {
                    if let Some(list) = state.webhooks.remote.data.as_mut() {
                        list.retain(|w| w.id != *webhook);
                    }
                    if state.webhooks.deliveries.webhook == Some(*webhook) {
                        state.webhooks.deliveries = deliveries::Deliveries::default();
                    }
                    let n = state.webhooks.filtered().len();
                    state.webhooks.view.clamp(n);
                }
                state.toast(ToastLevel::Info, "endpoint deleted");
                fetch(state, Resource::Webhooks, true).into_iter().collect()
            }
            other => return Err(Box::new(other)),
        })
    }

    fn tenant_changed(&self, state: &mut State) {
        state.webhooks = Webhooks::default();
    }
}

/// A URL cut for a toast: the host and the start of the path.
fn short_url(url: &str) -> String {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(url)
        .trim_end_matches('/');
    crate::widgets::printable(&crate::widgets::clip(rest, 40))
}

fn tenant(state: &State) -> Option<Uuid> {
    state.tenant.as_ref().map(|t| t.id)
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    if state.tenant.is_none() {
        return Vec::new();
    }
    match cmd {
        Cmd::Open => {
            let Some(w) = state.webhooks.selected().map(|w| w.id) else {
                return Vec::new();
            };
            deliveries::open(state, w);
            go(state, Screen::Deliveries, true)
        }
        Cmd::Add => {
            state.overlay = Some(Overlay::Form(Form {
                title: "New webhook endpoint".into(),
                fields: vec![
                    Field::new("URL the daemon posts to (https://…)", ""),
                    Field::new("Description (optional)", ""),
                ],
                focus: 0,
                purpose: Purpose::CreateWebhook,
                error: None,
            }));
            Vec::new()
        }
        Cmd::Edit => {
            let Some(w) = state.webhooks.selected().cloned() else {
                return Vec::new();
            };
            state.overlay = Some(Overlay::Form(Form {
                title: "Edit webhook endpoint (events next)".into(),
                fields: vec![
                    Field::new("URL the daemon posts to (https://…)", w.url.clone()),
                    Field::new("Description (optional)", w.description.clone()),
                ],
                focus: 0,
                purpose: Purpose::EditWebhook { webhook: w.id },
                error: None,
            }));
            Vec::new()
        }
        Cmd::Active => {
            let Some(w) = state.webhooks.selected().cloned() else {
                return Vec::new();
            };
            // Resuming also re-enables an endpoint the daemon disabled.
            let patch = WebhookPatch {
                active: Some(!w.active),
                ..WebhookPatch::default()
            };
            patch_call(state, w.id, patch)
        }
        Cmd::Test => {
            let Some(w) = state.webhooks.selected().map(|w| w.id) else {
                return Vec::new();
            };
            test(state, w)
        }
        Cmd::Rotate => {
            let Some(w) = state.webhooks.selected().cloned() else {
                return Vec::new();
            };
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: "Rotate signing secret".into(),
                message: format!(
                    "Rotate the secret of {}? The new one is shown once; the old one keeps \
                     signing too for 24 h, so the receiver can switch.",
                    short_url(&w.url)
                ),
                op: PendingOp::RotateWebhookSecret { webhook: w.id },
            }));
            Vec::new()
        }
        Cmd::Delete => {
            let Some(w) = state.webhooks.selected().cloned() else {
                return Vec::new();
            };
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: "Delete webhook endpoint".into(),
                message: format!(
                    "Delete {}? Messages not yet delivered are dropped and its delivery log \
                     goes with it; this cannot be undone.",
                    short_url(&w.url)
                ),
                op: PendingOp::DeleteWebhook { webhook: w.id },
            }));
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn patch_call(state: &mut State, webhook: Uuid, patch: WebhookPatch) -> Vec<Effect> {
    let Some(tenant) = tenant(state) else {
        return Vec::new();
    };
    vec![mutate(
        state,
        Call::PatchWebhook {
            tenant,
            webhook,
            patch,
        },
        Resource::Webhooks,
    )]
}

/// Sends a test message to `webhook`; its delivery shows in the log.
pub(crate) fn test(state: &mut State, webhook: Uuid) -> Vec<Effect> {
    let Some(tenant) = tenant(state) else {
        return Vec::new();
    };
    vec![mutate(
        state,
        Call::TestWebhook { tenant, webhook },
        Resource::Deliveries,
    )]
}

/// Opens (or queues behind one already open) the modal that shows a signing secret once.
/// It replaces any other dialog: losing a half-typed form costs less than missing a
/// secret the daemon never shows again.
pub(crate) fn show_secret(
    state: &mut State,
    webhook: &Webhook,
    secret: Secret<String>,
    rotated: bool,
) {
    let shown = ShownWebhookSecret {
        url: webhook.url.clone(),
        secret,
        rotated,
        previous_until: if rotated {
            webhook.previous_secret_expires_at
        } else {
            None
        },
    };
    state.overlay = Some(match state.overlay.take() {
        Some(Overlay::ShowWebhookSecret(mut queue)) => {
            queue.push(shown);
            Overlay::ShowWebhookSecret(queue)
        }
        _ => Overlay::ShowWebhookSecret(vec![shown]),
    });
    state.dirty = true;
}

/// After a delete or a rotation is confirmed.
pub(crate) fn perform(state: &mut State, op: PendingOp) -> Vec<Effect> {
    let Some(tenant) = tenant(state) else {
        return Vec::new();
    };
    let call = match op {
        PendingOp::DeleteWebhook { webhook } => Call::DeleteWebhook { tenant, webhook },
        PendingOp::RotateWebhookSecret { webhook } => Call::RotateWebhookSecret { tenant, webhook },
        _ => return Vec::new(),
    };
    vec![mutate(state, call, Resource::Webhooks)]
}

/// The URL and description of the form before the events, checked with core's rules for
/// an endpoint (the same the daemon applies). Whether the URL's address may be reached is
/// the daemon's to say: it resolves the name and refuses private addresses
/// (`url_forbidden`).
pub fn check_form(url: &str, description: &str) -> Result<(String, String), String> {
    let (url, description) = (url.trim(), description.trim());
    if url.is_empty() {
        return Err("the URL is required".into());
    }
    WebhookPatch {
        url: Some(url.to_string()),
        description: Some(description.to_string()),
        ..WebhookPatch::default()
    }
    .validate()
    .map_err(|e| e.to_string())?;
    Ok((url.to_string(), description.to_string()))
}

/// The chooser's lines: "all events" first, then each type.
pub fn event_choices() -> Vec<&'static str> {
    std::iter::once("*")
        .chain(EventType::ALL.iter().map(|t| t.as_str()))
        .collect()
}

/// The chooser's ticks for an endpoint's `events`.
fn ticks(events: &[String]) -> Vec<bool> {
    event_choices()
        .into_iter()
        .map(|c| events.iter().any(|e| e == c))
        .collect()
}

/// The events the ticks say: `["*"]`, or each ticked type in the list's order.
pub fn ticked_events(checked: &[bool]) -> Vec<String> {
    if checked.first().copied().unwrap_or(false) {
        return vec!["*".into()];
    }
    event_choices()
        .into_iter()
        .zip(checked)
        .skip(1)
        .filter(|(_, on)| **on)
        .map(|(c, _)| c.to_string())
        .collect()
}

/// Checks a submitted form with the rules above; `Err` keeps the form open.
pub(crate) fn submit(
    state: &mut State,
    purpose: Purpose,
    values: &[String],
) -> Result<Vec<Effect>, String> {
    let tenant = tenant(state).ok_or("no tenant")?;
    let value = |i: usize| values.get(i).map(String::as_str).unwrap_or_default();
    match purpose {
        Purpose::CreateWebhook => {
            let (url, description) = check_form(value(0), value(1))?;
            state.overlay = Some(Overlay::PickEvents(PickEvents {
                title: format!("Events sent to {}", short_url(&url)),
                checked: ticks(&["*".to_string()]),
                selected: 0,
                then: EventsFor::Create { url, description },
                error: None,
            }));
            Ok(Vec::new())
        }
        Purpose::EditWebhook { webhook } => {
            let (url, description) = check_form(value(0), value(1))?;
            let current = state
                .webhooks
                .find(webhook)
                .map(|w| w.events.clone())
                .unwrap_or_default();
            state.overlay = Some(Overlay::PickEvents(PickEvents {
                title: format!("Events sent to {}", short_url(&url)),
                checked: ticks(&current),
                selected: 0,
                then: EventsFor::Edit {
                    webhook,
                    url,
                    description,
                },
                error: None,
            }));
            Ok(Vec::new())
        }
        Purpose::RecoverWebhook { webhook } => {
            let since = deliveries::parse_since(value(0), state.now)?;
            Ok(vec![mutate(
                state,
                Call::RecoverWebhook {
                    tenant,
                    webhook,
                    since,
                },
                Resource::Deliveries,
            )])
        }
        _ => Ok(Vec::new()),
    }
}

/// The event chooser: j/k move, Space (or x) ticks, Enter sends, Esc cancels. Ticking
/// "all events" unticks the types, and ticking a type unticks "all events".
pub(crate) fn pick_events_key(state: &mut State, mut p: PickEvents, key: KeyEvent) -> Vec<Effect> {
    let n = p.checked.len();
    match (key.code, keymap::dialog(&key)) {
        (_, Some(Cmd::Cancel)) => return Vec::new(),
        (_, Some(Cmd::Confirm)) => {
            let events = ticked_events(&p.checked);
            if events.is_empty() {
                p.error = Some("tick at least one event, or all events".into());
            } else {
                return send_events(state, p.then, events);
            }
        }
        (KeyCode::Char('j') | KeyCode::Down, _) => {
            p.selected = (p.selected + 1).min(n.saturating_sub(1));
        }
        (KeyCode::Char('k') | KeyCode::Up, _) => p.selected = p.selected.saturating_sub(1),
        (KeyCode::Char(' ') | KeyCode::Char('x'), _) => {
            let i = p.selected;
            if let Some(on) = p.checked.get(i).copied() {
                if i == 0 && !on {
                    p.checked.iter_mut().for_each(|c| *c = false);
                } else if i > 0 && !on {
                    p.checked[0] = false;
                }
                p.checked[i] = !on;
                p.error = None;
            }
        }
        _ => {}
    }
    state.overlay = Some(Overlay::PickEvents(p));
    Vec::new()
}

fn send_events(state: &mut State, then: EventsFor, events: Vec<String>) -> Vec<Effect> {
    let Some(tenant) = tenant(state) else {
        return Vec::new();
    };
    match then {
        EventsFor::Create { url, description } => {
            let new = NewWebhook {
                url,
                events,
                description: (!description.is_empty()).then_some(description),
                active: None,
            };
            vec![mutate(
                state,
                Call::CreateWebhook { tenant, new },
                Resource::Webhooks,
            )]
        }
        EventsFor::Edit {
            webhook,
            url,
            description,
        } => {
            let Some(w) = state.webhooks.find(webhook).cloned() else {
                state.toast(ToastLevel::Error, "that endpoint is no longer listed");
                return Vec::new();
            };
            // Only what changed is sent.
            let patch = WebhookPatch {
                url: (url != w.url).then_some(url),
                events: (events != w.events).then_some(events),
                description: (description != w.description).then_some(description),
                active: None,
            };
            if patch == WebhookPatch::default() {
                state.toast(ToastLevel::Info, "nothing changed");
                return Vec::new();
            }
            patch_call(state, webhook, patch)
        }
    }
}

/// When a secret's predecessor stops signing, for the modal.
pub fn until_text(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "24 h from now".into())
}
