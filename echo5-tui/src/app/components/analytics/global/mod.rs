//! Analytics across clients (`GET /api/v1/analytics`): every client's figures, or a chosen
//! set's, summed over 7, 30 or 90 days, with a row per client. Enter opens a client.

mod view;

use crossterm::event::KeyCode;
use echo5_core::analytics::GlobalAnalytics as Report;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::ANALYTICS_RANGES;
use crate::app::action::Reply;
use crate::app::components::Component;
use crate::app::components::tenants::switch_tenant;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::live::LiveEvent;
use crate::app::navigation::go;
use crate::app::overlay::{Overlay, PickTenants};
use crate::app::request::{admit, fetch};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, Screen, State};
use crate::keymap::{Binding, Cmd, b, ch, k};

/// The summed analytics, the range and clients they cover, and the breakdown's cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalAnalytics {
    pub remote: Remote<Report>,
    /// One of [`ANALYTICS_RANGES`].
    pub days: u32,
    /// Slugs of the chosen clients; empty for all.
    pub tenants: Vec<String>,
    pub view: ListView,
}

impl Default for GlobalAnalytics {
    fn default() -> Self {
        GlobalAnalytics {
            remote: Remote::default(),
            days: 30,
            tenants: Vec::new(),
            view: ListView::default(),
        }
    }
}

impl GlobalAnalytics {
    fn rows(&self) -> usize {
        self.remote.data.as_ref().map_or(0, |r| r.by_tenant.len())
    }
}

pub struct GlobalAnalyticsScreen;

const BINDINGS: &[Binding] = &[
    b(&[k(KeyCode::Enter)], Cmd::Open, "open client", true),
    b(&[ch('r')], Cmd::Range, "range 7/30/90 d", true),
    b(&[ch('t')], Cmd::Tenants, "clients", true),
];

impl Component for GlobalAnalyticsScreen {
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
        vec![Resource::GlobalAnalytics]
    }

    fn cursor_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.global_analytics.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.global_analytics.rows()
    }

    fn live(&self, _state: &State, event: LiveEvent) -> Vec<Resource> {
        (event.topic.lead_or_sla || event.topic.tenant_updated)
            .then_some(Resource::GlobalAnalytics)
            .into_iter()
            .collect()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::GlobalAnalytics]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        let g = &state.global_analytics;
        Some((
            Call::GetGlobalAnalytics {
                tenants: g.tenants.clone(),
                days: g.days,
            },
            Scope::Global,
        ))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.global_analytics.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::GetGlobalAnalytics { .. }).then_some(Resource::GlobalAnalytics)
    }

    fn still_wanted(&self, state: &State, call: &Call) -> bool {
        match call {
            Call::GetGlobalAnalytics { tenants, days } => {
                *days == state.global_analytics.days && *tenants == state.global_analytics.tenants
            }
            _ => true,
        }
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        _call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        let Reply::GlobalAnalytics(a) = reply else {
            return Err(Box::new(reply));
        };
        if admit(state, Resource::GlobalAnalytics, id) {
            let now = state.now;
            state.global_analytics.remote.store(*a, now);
            let n = state.global_analytics.rows();
            state.global_analytics.view.clamp(n);
        }
        Ok(Vec::new())
    }
}

/// The pick-clients dialog's answer: only these slugs (none: all).
pub(crate) fn set_tenants(state: &mut State, slugs: Vec<String>) -> Vec<Effect> {
    state.global_analytics.tenants = slugs;
    state.global_analytics.view.selected = 0;
    fetch(state, Resource::GlobalAnalytics, true)
        .into_iter()
        .collect()
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Range => {
            let g = &mut state.global_analytics;
            let i = ANALYTICS_RANGES
                .iter()
                .position(|d| *d == g.days)
                .map_or(0, |i| (i + 1) % ANALYTICS_RANGES.len());
            g.days = ANALYTICS_RANGES[i];
            fetch(state, Resource::GlobalAnalytics, true)
                .into_iter()
                .collect()
        }
        Cmd::Tenants => {
            let Some(all) = state.tenants.remote.data.as_ref() else {
                state.toast(ToastLevel::Info, "client list not loaded yet");
                return fetch(state, Resource::Tenants, false).into_iter().collect();
            };
            let choices: Vec<(String, String)> = all
                .iter()
                .map(|t| (t.slug.clone(), t.name.clone()))
                .collect();
            let checked = choices
                .iter()
                .map(|(slug, _)| state.global_analytics.tenants.contains(slug))
                .collect();
            state.overlay = Some(Overlay::PickTenants(PickTenants {
                choices,
                checked,
                selected: 0,
            }));
            Vec::new()
        }
        Cmd::Open => {
            let g = &state.global_analytics;
            let Some(t) = g
                .remote
                .data
                .as_ref()
                .and_then(|r| r.by_tenant.get(g.view.selected))
                .map(|p| p.tenant.clone())
            else {
                return Vec::new();
            };
            let mut out = switch_tenant(state, &t);
            out.extend(go(state, Screen::Overview, true));
            out
        }
        _ => Vec::new(),
    }
}
