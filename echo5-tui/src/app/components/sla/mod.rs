//! SLA breaches: every tenant's or the selected one's, most overdue first, kept current by
//! the live event stream.

mod view;

use echo5_core::sla::Breach;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::Component;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::live::LiveEvent;
use crate::app::request::{admit, fetch};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch};

/// SLA breaches, most overdue first: all tenants, or the selected one.
#[derive(Debug, Clone, PartialEq)]
pub struct Sla {
    pub remote: Remote<Vec<Breach>>,
    pub view: ListView,
    /// Breaches of every tenant (true) or only the selected one.
    pub all: bool,
    /// More breaches exist than the one page shown.
    pub more: bool,
}

impl Default for Sla {
    fn default() -> Self {
        Sla {
            remote: Remote::default(),
            view: ListView::default(),
            all: true,
            more: false,
        }
    }
}

impl Sla {
    /// Breaches with the filter (tenant, name, e-mail, phone) applied.
    pub fn filtered(&self) -> Vec<&Breach> {
        let f = self.view.filter.to_lowercase();
        self.remote
            .data
            .iter()
            .flatten()
            .filter(|b| {
                f.is_empty()
                    || [
                        Some(&b.tenant.name),
                        Some(&b.tenant.slug),
                        b.name.as_ref(),
                        b.email.as_ref(),
                        b.phone.as_ref(),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|v| v.to_lowercase().contains(&f))
            })
            .collect()
    }
}

/// The SLA screen.
pub struct SlaScreen;

const BINDINGS: &[Binding] = &[b(&[ch('t')], Cmd::Scope, "all / this tenant", true)];

impl Component for SlaScreen {
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
        if !state.sla.all && state.tenant.is_none() {
            vec![Resource::Tenants]
        } else {
            vec![Resource::Breaches]
        }
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.sla.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.sla.filtered().len()
    }

    fn live(&self, state: &State, event: LiveEvent) -> Vec<Resource> {
        let relevant = event.topic.lead_or_sla || event.topic.tenant_updated;
        (relevant && (state.sla.all || event.ours))
            .then_some(Resource::Breaches)
            .into_iter()
            .collect()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Breaches]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        if state.sla.all {
            return Some((Call::ListBreaches { tenant: None }, Scope::Global));
        }
        let tenant = state.tenant.as_ref()?.id;
        Some((
            Call::ListBreaches {
                tenant: Some(tenant),
            },
            state.tenant_scope(),
        ))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.sla.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::ListBreaches { .. }).then_some(Resource::Breaches)
    }

    /// Only the scope asked for last: all tenants, or the selected one.
    fn still_wanted(&self, state: &State, call: &Call) -> bool {
        match call {
            Call::ListBreaches { tenant } => {
                let want = if state.sla.all {
                    None
                } else {
                    state.tenant.as_ref().map(|t| t.id)
                };
                *tenant == want
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
        let Reply::Breaches(page) = reply else {
            return Err(Box::new(reply));
        };
        if admit(state, Resource::Breaches, id) {
            let now = state.now;
            let sla = &mut state.sla;
            sla.more = page.next_cursor.is_some();
            sla.remote.store(page.data, now);
            let n = sla.filtered().len();
            sla.view.clamp(n);
        }
        Ok(Vec::new())
    }

    fn tenant_changed(&self, state: &mut State) {
        if !state.sla.all {
            state.sla.remote = Remote::default();
            state.sla.view = ListView::default();
        }
    }
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Scope => {
            if state.sla.all && state.tenant.is_none() {
                state.toast(ToastLevel::Info, "pick a tenant first (:tenant)");
                return Vec::new();
            }
            state.sla.all = !state.sla.all;
            // The other scope's rows must not stand in for this one's, even briefly.
            state.sla.remote = Remote::default();
            state.sla.view.selected = 0;
            state.sla.more = false;
            fetch(state, Resource::Breaches, true).into_iter().collect()
        }
        _ => Vec::new(),
    }
}
