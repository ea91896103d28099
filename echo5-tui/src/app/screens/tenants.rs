//! The tenant picker, and switching tenant (also reached from `:tenant <name>`).

use echo5_core::tenants::{Tenant, TenantRef};

/// The reference a tenant is selected by.
pub(crate) fn tenant_ref(t: &Tenant) -> TenantRef {
    TenantRef {
        id: t.id,
        slug: t.slug.clone(),
        name: t.name.clone(),
    }
}

use super::super::effect::Effect;
use super::super::state::{LeadsView, ListView, Remote, Screen, State, ToastLevel};
use super::go;
use crate::keymap::Cmd;

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Open => {
            let Some(t) = state
                .filtered_tenants(&state.picker)
                .get(state.picker.selected)
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
        state.leads = Remote::default();
        state.leads_view = LeadsView::default();
        state.lead_detail = Remote::default();
        state.analytics = Remote::default();
        if !state.breaches_all {
            state.breaches = Remote::default();
            state.breaches_view = ListView::default();
        }
        state.tenant_gen += 1;
        state.stages = Remote::default();
        state.settings = Remote::default();
        state.keys = Remote::default();
        state.pipeline = ListView::default();
        state.keys_view = ListView::default();
        state.focus_stage = None;
        state.focus_key = None;
        state.toast(ToastLevel::Info, format!("tenant: {}", t.name));
    }
    Vec::new()
}
