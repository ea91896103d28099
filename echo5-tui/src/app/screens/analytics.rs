//! Analytics: the selected tenant's charts over 7, 30 or 90 days.

use super::super::effect::Effect;
use super::super::request::fetch;
use super::super::state::{ANALYTICS_RANGES, Resource, State};
use crate::keymap::Cmd;

pub(super) fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Range => {
            let i = ANALYTICS_RANGES
                .iter()
                .position(|d| *d == state.analytics_days)
                .map_or(0, |i| (i + 1) % ANALYTICS_RANGES.len());
            state.analytics_days = ANALYTICS_RANGES[i];
            // The old range's numbers stay on screen (titled with their range) until the
            // new ones land; the answer to the old request is dropped.
            fetch(state, Resource::Analytics, true)
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    }
}
