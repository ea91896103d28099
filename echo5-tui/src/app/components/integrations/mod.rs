//! Integrations: the selected tenant's ad sources (Google Ads lead forms, Meta Lead Ads),
//! each with its state, its last lead, its last error and the settings it still needs; `s`
//! reads Meta's leads of the last [`SYNC_DAYS`] days again (a backfill, confirmed first).

mod view;

use chrono::{DateTime, TimeDelta, Utc};
use echo5_core::integrations::{Integration, IntegrationSource, IntegrationState};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::Component;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::live::LiveEvent;
use crate::app::overlay::{Confirm, Overlay, PendingOp};
use crate::app::request::{admit, fetch, mutate};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch};

pub use view::state_text;

/// How far back a sync reads: Meta keeps a form's leads for 90 days.
pub const SYNC_DAYS: i64 = 90;

/// The selected tenant's sources as the daemon lists them, and the cursor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Integrations {
    pub remote: Remote<Vec<Integration>>,
    pub view: ListView,
}

impl Integrations {
    pub fn rows(&self) -> &[Integration] {
        self.remote.data.as_deref().unwrap_or_default()
    }

    pub fn selected(&self) -> Option<&Integration> {
        self.rows().get(self.view.selected)
    }
}

pub struct IntegrationsScreen;

const BINDINGS: &[Binding] = &[b(&[ch('s')], Cmd::Sync, "sync now (Meta)", true)];

impl Component for IntegrationsScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        if cmd == Cmd::Sync {
            ask_sync(state);
        }
        Vec::new()
    }

    fn wanted(&self, _state: &State, _force: bool) -> Vec<Resource> {
        vec![Resource::Integrations]
    }

    fn cursor_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.integrations.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.integrations.rows().len()
    }

    /// A new lead may be an ad lead: its source's last lead moves.
    fn live(&self, _state: &State, event: LiveEvent) -> Vec<Resource> {
        (event.topic.lead_or_sla || event.topic.tenant_updated)
            .then_some(Resource::Integrations)
            .into_iter()
            .collect()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Integrations]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        let tenant = state.tenant.as_ref()?.id;
        Some((Call::ListIntegrations { tenant }, state.tenant_scope()))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.integrations.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::ListIntegrations { .. }).then_some(Resource::Integrations)
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::SyncMeta { .. }).then_some(Resource::Integrations)
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        _call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        Ok(match reply {
            Reply::Integrations(list) => {
                if admit(state, Resource::Integrations, id) {
                    let now = state.now;
                    let i = &mut state.integrations;
                    i.remote.store(list, now);
                    let n = i.rows().len();
                    i.view.clamp(n);
                }
                Vec::new()
            }
            Reply::MetaSyncQueued(q) => {
                let text = match q.forms {
                    0 => "no Meta lead form seen yet: nothing to sync".to_string(),
                    1 => "Meta sync queued for 1 lead form".to_string(),
                    n => format!("Meta sync queued for {n} lead forms"),
                };
                state.toast(ToastLevel::Info, text);
                fetch(state, Resource::Integrations, true)
                    .into_iter()
                    .collect()
            }
            other => return Err(Box::new(other)),
        })
    }

    fn tenant_changed(&self, state: &mut State) {
        state.integrations = Integrations::default();
    }
}

/// Since when a sync started at `now` reads.
pub fn sync_since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - TimeDelta::days(SYNC_DAYS)
}

/// `s`: asks before a Meta backfill. Only Meta has one; a source that is not configured
/// says what it is missing instead.
fn ask_sync(state: &mut State) {
    if state.tenant.is_none() {
        return;
    }
    let meta = state
        .integrations
        .rows()
        .iter()
        .find(|i| i.source == IntegrationSource::Meta)
        .cloned();
    let Some(meta) = meta else {
        state.toast(ToastLevel::Error, "the sources are not loaded yet");
        return;
    };
    if meta.state == IntegrationState::NotConfigured {
        let missing = meta
            .missing
            .iter()
            .map(|m| crate::widgets::printable(m))
            .collect::<Vec<_>>()
            .join(", ");
        state.toast(
            ToastLevel::Error,
            format!("Meta is not configured: set {missing} first"),
        );
        return;
    }
    let since = sync_since(state.now);
    let mut message = format!(
        "Read Meta leads of the last {SYNC_DAYS} days again, from every lead form seen? \
         Leads already stored are skipped."
    );
    if meta.state == IntegrationState::Broken {
        message.push_str(" Meta refuses the tenant's token: the sync waits until it is replaced.");
    }
    state.overlay = Some(Overlay::Confirm(Confirm {
        title: "Sync Meta leads".into(),
        message,
        op: PendingOp::SyncMeta { since },
    }));
    state.dirty = true;
}

/// After the sync is confirmed.
pub(crate) fn sync(state: &mut State, since: DateTime<Utc>) -> Vec<Effect> {
    let Some(tenant) = state.tenant.as_ref().map(|t| t.id) else {
        return Vec::new();
    };
    vec![mutate(
        state,
        Call::SyncMeta { tenant, since },
        Resource::Integrations,
    )]
}
