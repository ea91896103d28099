//! Analytics: the selected tenant's charts over 7, 30 or 90 days; `global`, the same
//! across clients.

pub mod global;
mod view;

use chrono::TimeDelta;
use echo5_core::analytics::Analytics as Report;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::Component;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::request::{admit, fetch};
use crate::app::state::{Remote, RemoteStatus};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch};

/// The analytics ranges the console offers, in the order the range key cycles them.
pub const ANALYTICS_RANGES: [u32; 3] = [7, 30, 90];

/// The selected tenant's analytics and the range they cover.
#[derive(Debug, Clone, PartialEq)]
pub struct Analytics {
    pub remote: Remote<Report>,
    /// Days the analytics cover, one of [`ANALYTICS_RANGES`].
    pub days: u32,
}

impl Default for Analytics {
    fn default() -> Self {
        Analytics {
            remote: Remote::default(),
            days: 30,
        }
    }
}

pub struct AnalyticsScreen;

const BINDINGS: &[Binding] = &[b(&[ch('r')], Cmd::Range, "range 7/30/90 d", true)];

impl Component for AnalyticsScreen {
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
        vec![Resource::Analytics]
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Analytics]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        let tenant = state.tenant.as_ref()?.id;
        let days = state.analytics.days;
        Some((
            Call::GetAnalytics {
                tenant,
                days,
                from: state.now - TimeDelta::days(i64::from(days)),
            },
            state.tenant_scope(),
        ))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.analytics.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::GetAnalytics { .. }).then_some(Resource::Analytics)
    }

    fn still_wanted(&self, state: &State, call: &Call) -> bool {
        match call {
            Call::GetAnalytics { days, .. } => *days == state.analytics.days,
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
        let Reply::Analytics(a) = reply else {
            return Err(Box::new(reply));
        };
        if admit(state, Resource::Analytics, id) {
            let now = state.now;
            state.analytics.remote.store(*a, now);
        }
        Ok(Vec::new())
    }

    // The range stays: it is the operator's choice, not the tenant's data.
    fn tenant_changed(&self, state: &mut State) {
        state.analytics.remote = Remote::default();
    }
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Range => {
            let i = ANALYTICS_RANGES
                .iter()
                .position(|d| *d == state.analytics.days)
                .map_or(0, |i| (i + 1) % ANALYTICS_RANGES.len());
            state.analytics.days = ANALYTICS_RANGES[i];
            // The old range's numbers stay on screen (titled with their range) until the
            // new ones land; the answer to the old request is dropped.
            fetch(state, Resource::Analytics, true)
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    }
}
