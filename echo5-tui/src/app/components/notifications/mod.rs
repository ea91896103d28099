//! Notifications: the selected tenant's channels (e-mail, Slack, SMS; `t` sends a test),
//! which events go where, the escalation steps, and a preview of an event's template with
//! a sample lead (Enter). Changing the settings is the API's (`PUT`/`PATCH`); this screen
//! shows and tries them. Secrets arrive masked and are shown as set or not.

mod view;

use echo5_core::notifications::{
    Channel, EscalationStep, Notifications as Doc, NotifyEvent, Rendered,
};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::Component;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::request::{admit, fetch, mutate};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch, k};
use crossterm::event::KeyCode;

/// The settings as the daemon answers them, the cursor over the rows, and the preview.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notifications {
    pub remote: Remote<Doc>,
    pub view: ListView,
    /// The event whose template the preview pane shows (or is loading).
    pub preview_event: Option<NotifyEvent>,
    pub preview: Remote<(NotifyEvent, Rendered)>,
}

/// One line of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Channel(Channel),
    Rule(NotifyEvent),
    Step(EscalationStep),
}

/// The rows, in screen order: the three channels, the four events' rules, the steps.
pub fn rows(doc: &Doc) -> Vec<Row> {
    let mut out: Vec<Row> = Channel::ALL.into_iter().map(Row::Channel).collect();
    out.extend(NotifyEvent::ALL.into_iter().map(Row::Rule));
    out.extend(doc.escalation.iter().cloned().map(Row::Step));
    out
}

impl Notifications {
    pub fn rows(&self) -> Vec<Row> {
        self.remote.data.as_ref().map(rows).unwrap_or_default()
    }

    pub fn selected(&self) -> Option<Row> {
        self.rows().get(self.view.selected).cloned()
    }
}

/// Whether a channel is set up: e-mail always is (the manager's address), Slack and SMS
/// once configured.
pub fn configured(doc: &Doc, c: Channel) -> bool {
    match c {
        Channel::Email => true,
        Channel::Slack => doc.channels.slack.is_some(),
        Channel::Sms => doc.channels.sms.is_some(),
    }
}

pub struct NotificationsScreen;

const BINDINGS: &[Binding] = &[
    b(&[ch('t')], Cmd::Test, "test channel", true),
    b(&[k(KeyCode::Enter), ch('p')], Cmd::Open, "preview", true),
];

impl Component for NotificationsScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        on_cmd(state, cmd)
    }

    fn wanted(&self, state: &State, _force: bool) -> Vec<Resource> {
        let mut out = vec![Resource::Notifications];
        if state.notifications.preview_event.is_some() {
            out.push(Resource::NotificationPreview);
        }
        out
    }

    fn cursor_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.notifications.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.notifications.rows().len()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Notifications, Resource::NotificationPreview]
    }

    fn call(&self, state: &State, res: Resource) -> Option<(Call, Scope)> {
        let tenant = state.tenant.as_ref()?.id;
        let call = match res {
            Resource::NotificationPreview => Call::PreviewNotification {
                tenant,
                event: state.notifications.preview_event?,
            },
            _ => Call::GetNotifications { tenant },
        };
        Some((call, state.tenant_scope()))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(match res {
            Resource::NotificationPreview => &mut state.notifications.preview,
            _ => &mut state.notifications.remote,
        })
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        match call {
            Call::GetNotifications { .. } => Some(Resource::Notifications),
            Call::PreviewNotification { .. } => Some(Resource::NotificationPreview),
            _ => None,
        }
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::TestNotification { .. }).then_some(Resource::Notifications)
    }

    fn still_wanted(&self, state: &State, call: &Call) -> bool {
        match call {
            Call::PreviewNotification { event, .. } => {
                state.notifications.preview_event == Some(*event)
            }
            _ => true,
        }
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        match reply {
            Reply::Notifications(doc) => {
                if admit(state, Resource::Notifications, id) {
                    let now = state.now;
                    state.notifications.remote.store(*doc, now);
                    let n = state.notifications.rows().len();
                    state.notifications.view.clamp(n);
                }
            }
            Reply::NotificationPreview(r) => {
                if let Call::PreviewNotification { event, .. } = call
                    && admit(state, Resource::NotificationPreview, id)
                {
                    let now = state.now;
                    state.notifications.preview.store((*event, *r), now);
                }
            }
            Reply::NotificationTested(n) => {
                let channel = match call {
                    Call::TestNotification { channel, .. } => channel.as_str(),
                    _ => "the channel",
                };
                state.toast(
                    ToastLevel::Info,
                    format!("test queued for {channel}: {n} message(s)"),
                );
            }
            other => return Err(Box::new(other)),
        }
        Ok(Vec::new())
    }

    fn tenant_changed(&self, state: &mut State) {
        state.notifications = Notifications::default();
    }
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    let Some(tenant) = state.tenant.as_ref().map(|t| t.id) else {
        return Vec::new();
    };
    let Some(row) = state.notifications.selected() else {
        return Vec::new();
    };
    match cmd {
        Cmd::Test => {
            let Row::Channel(channel) = row else {
                state.toast(
                    ToastLevel::Error,
                    "t tests a channel: move to e-mail, Slack or SMS",
                );
                return Vec::new();
            };
            let set = state
                .notifications
                .remote
                .data
                .as_ref()
                .is_some_and(|d| configured(d, channel));
            if !set {
                state.toast(
                    ToastLevel::Error,
                    format!("{} is not set up for this tenant", channel.as_str()),
                );
                return Vec::new();
            }
            vec![mutate(
                state,
                Call::TestNotification { tenant, channel },
                Resource::Notifications,
            )]
        }
        Cmd::Open => {
            let event = match row {
                Row::Rule(e) => e,
                Row::Step(_) => NotifyEvent::SlaEscalated,
                Row::Channel(_) => NotifyEvent::SlaBreached,
            };
            state.notifications.preview_event = Some(event);
            fetch(state, Resource::NotificationPreview, true)
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    }
}
