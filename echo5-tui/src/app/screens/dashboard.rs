//! Dashboard: every tenant at a glance; Enter opens one.

use super::super::effect::Effect;
use super::super::state::{Screen, State};
use super::{go, tenants::switch_tenant};
use crate::keymap::Cmd;

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Open => {
            let Some(t) = state
                .filtered_dash()
                .get(state.dashboard.selected)
                .map(|t| t.tenant.clone())
            else {
                return Vec::new();
            };
            let mut out = switch_tenant(state, &t);
            out.extend(go(state, Screen::Pipeline, true));
            out
        }
        _ => Vec::new(),
    }
}
