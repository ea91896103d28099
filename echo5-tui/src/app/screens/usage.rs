//! Usage: per tenant, what a month cost — leads accepted, spam, duplicates, refusals, API
//! calls and storage — with a month picker.

use super::super::effect::Effect;
use super::super::request::fetch;
use super::super::state::{Resource, State, ToastLevel};
use crate::keymap::Cmd;
use crate::platform::{Month, MonthNav};

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    let month = match cmd {
        Cmd::PrevMonth => state.usage_month.prev(),
        Cmd::NextMonth => {
            let next = state.usage_month.next();
            if next > Month::of(state.now) {
                state.toast(ToastLevel::Info, "no usage recorded in the future yet");
                return Vec::new();
            }
            next
        }
        _ => return Vec::new(),
    };
    state.usage_month = month;
    state.usage_view.selected = 0;
    // The old month's numbers stay on screen (titled with their month) until the new ones
    // land; the answer for the old month is dropped if it comes late.
    fetch(state, Resource::Usage, true).into_iter().collect()
}
