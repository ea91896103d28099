//! Tenants: the tenant list (`GET /api/v1/tenants`), the picker over it, and switching
//! tenant (also reached from `:tenant <name>`).

mod view;

use echo5_core::tenants::{Tenant, TenantRef};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Component, REGISTRY};
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::live::LiveEvent;
use crate::app::navigation::go;
use crate::app::request::admit;
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, Screen, State};
use crate::keymap::{Binding, Cmd, b, k};
use crossterm::event::KeyCode;

/// The tenant list, and the picker's cursor and filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tenants {
    pub remote: Remote<Vec<Tenant>>,
    pub picker: ListView,
}

impl Tenants {
    /// Tenants shown by the dashboard and the picker, with a list view's filter applied.
    pub fn filtered(&self, view: &ListView) -> Vec<&Tenant> {
        let all = self.remote.data.as_deref().unwrap_or_default();
        let f = view.filter.to_lowercase();
        all.iter()
            .filter(|t| {
                f.is_empty()
                    || t.name.to_lowercase().contains(&f)
                    || t.slug.to_lowercase().contains(&f)
            })
            .collect()
    }
}

pub struct TenantsScreen;

const BINDINGS: &[Binding] = &[b(&[k(KeyCode::Enter)], Cmd::Open, "switch to tenant", true)];

impl Component for TenantsScreen {
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
        vec![Resource::Tenants]
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.tenants.picker)
    }

    fn list_len(&self, state: &State) -> usize {
        state.tenants.filtered(&state.tenants.picker).len()
    }

    fn live(&self, _state: &State, event: LiveEvent) -> Vec<Resource> {
        (event.topic.any || event.topic.tenant_updated)
            .then_some(Resource::Tenants)
            .into_iter()
            .collect()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Tenants]
    }

    fn call(&self, _state: &State, _res: Resource) -> Option<(Call, Scope)> {
        Some((Call::ListTenants, Scope::Global))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.tenants.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::ListTenants).then_some(Resource::Tenants)
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        _call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        let Reply::Tenants(list) = reply else {
            return Err(Box::new(reply));
        };
        if admit(state, Resource::Tenants, id) {
            // Keep the header's name current if the tenant was renamed elsewhere.
            if let Some(sel) = &state.tenant
                && let Some(t) = list.iter().find(|t| t.id == sel.id)
            {
                state.tenant = Some(TenantRef {
                    id: t.id,
                    slug: t.slug.clone(),
                    name: t.name.clone(),
                });
            }
            let now = state.now;
            state.tenants.remote.store(list, now);
            let n = state.tenants.filtered(&state.dashboard.view).len();
            state.dashboard.view.clamp(n);
            let n = state.tenants.filtered(&state.tenants.picker).len();
            state.tenants.picker.clamp(n);
        }
        Ok(Vec::new())
    }
}

/// The reference a tenant is selected by.
pub(crate) fn tenant_ref(t: &Tenant) -> TenantRef {
    TenantRef {
        id: t.id,
        slug: t.slug.clone(),
        name: t.name.clone(),
    }
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Open => {
            let Some(t) = state
                .tenants
                .filtered(&state.tenants.picker)
                .get(state.tenants.picker.selected)
                .map(|t| (*t).clone())
            else {
                return Vec::new();
            };
            let mut out = switch_tenant(state, &tenant_ref(&t));
            out.extend(leave_picker(state));
            out
        }
        _ => Vec::new(),
    }
}

/// After a pick: the screen that asked for a tenant, else where the operator came from.
pub(crate) fn leave_picker(state: &mut State) -> Vec<Effect> {
    if state.screen != Screen::Tenants {
        return Vec::new();
    }
    let target = state
        .after_pick
        .take()
        .or_else(|| state.back.pop())
        .unwrap_or(Screen::Pipeline);
    go(state, target, false)
}

/// Makes `t` the selected tenant. Everything shown about the previous one is dropped and
/// the generation bumped, so its answers still in flight are ignored when they land.
pub(crate) fn switch_tenant(state: &mut State, t: &TenantRef) -> Vec<Effect> {
    let same = state.tenant.as_ref().is_some_and(|cur| cur.id == t.id);
    state.tenant = Some(t.clone());
    if !same {
        state.tenant_gen += 1;
        for d in REGISTRY {
            d.component.tenant_changed(state);
        }
        state.toast(ToastLevel::Info, format!("tenant: {}", t.name));
    }
    Vec::new()
}
