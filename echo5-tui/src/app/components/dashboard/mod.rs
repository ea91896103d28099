//! Dashboard: every tenant at a glance (`GET /api/v1/dashboard`); Enter opens a client's
//! overview, `a` creates a client, `A` shows analytics across clients.

mod view;

use crossterm::event::KeyCode;
use echo5_core::dashboard::{self as core, TenantDashboard};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::Component;
use super::tenants::{open_create, switch_tenant};
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::live::LiveEvent;
use crate::app::navigation::go;
use crate::app::request::admit;
use crate::app::state::{ListView, Remote, RemoteStatus};
use crate::app::{Resource, Screen, State};
use crate::keymap::{Binding, Cmd, b, ch, k};

/// Counts per tenant, and the table's cursor and filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dashboard {
    pub remote: Remote<core::Dashboard>,
    pub view: ListView,
}

impl Dashboard {
    /// Rows with the filter (tenant name or slug) applied.
    pub fn filtered(&self) -> Vec<&TenantDashboard> {
        let f = self.view.filter.to_lowercase();
        self.remote
            .data
            .iter()
            .flat_map(|d| d.tenants.iter())
            .filter(|t| {
                f.is_empty()
                    || t.tenant.name.to_lowercase().contains(&f)
                    || t.tenant.slug.to_lowercase().contains(&f)
            })
            .collect()
    }
}

pub struct DashboardScreen;

const BINDINGS: &[Binding] = &[
    b(&[k(KeyCode::Enter)], Cmd::Open, "open client", true),
    b(&[ch('a')], Cmd::Add, "new client", true),
    b(&[ch('A')], Cmd::AllAnalytics, "analytics (all)", true),
];

impl Component for DashboardScreen {
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
        vec![Resource::Dashboard]
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.dashboard.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.dashboard.filtered().len()
    }

    fn live(&self, _state: &State, event: LiveEvent) -> Vec<Resource> {
        (event.topic.lead_or_sla || event.topic.tenant_updated)
            .then_some(Resource::Dashboard)
            .into_iter()
            .collect()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Dashboard]
    }

    fn call(&self, _state: &State, _res: Resource) -> Option<(Call, Scope)> {
        Some((Call::Dashboard, Scope::Global))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.dashboard.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::Dashboard).then_some(Resource::Dashboard)
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        _call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        let Reply::Dashboard(d) = reply else {
            return Err(Box::new(reply));
        };
        if admit(state, Resource::Dashboard, id) {
            let now = state.now;
            state.dashboard.remote.store(d, now);
            let n = state.dashboard.filtered().len();
            state.dashboard.view.clamp(n);
        }
        Ok(Vec::new())
    }
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Open => {
            let Some(t) = state
                .dashboard
                .filtered()
                .get(state.dashboard.view.selected)
                .map(|t| t.tenant.clone())
            else {
                return Vec::new();
            };
            let mut out = switch_tenant(state, &t);
            out.extend(go(state, Screen::Overview, true));
            out
        }
        Cmd::Add => {
            open_create(state);
            Vec::new()
        }
        Cmd::AllAnalytics => go(state, Screen::GlobalAnalytics, true),
        _ => Vec::new(),
    }
}
