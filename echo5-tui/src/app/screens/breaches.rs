//! SLA breaches: every tenant's or the selected one's, most overdue first, kept current by
//! the live event stream.

use super::super::effect::Effect;
use super::super::request::fetch;
use super::super::state::{Remote, Resource, State, ToastLevel};
use crate::keymap::Cmd;

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Scope => {
            if state.breaches_all && state.tenant.is_none() {
                state.toast(ToastLevel::Info, "pick a tenant first (:tenant)");
                return Vec::new();
            }
            state.breaches_all = !state.breaches_all;
            // The other scope's rows must not stand in for this one's, even briefly.
            state.breaches = Remote::default();
            state.breaches_view.selected = 0;
            state.breaches_more = false;
            fetch(state, Resource::Breaches, true).into_iter().collect()
        }
        _ => Vec::new(),
    }
}
