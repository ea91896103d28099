//! Drawing: a pure function of the state. Nothing here changes state or does I/O, so a
//! frame can be rendered into a test buffer with fixed data and a fixed clock.

mod all_leads;
mod analytics;
mod breaches;
mod dashboard;
mod footer;
mod header;
mod keys;
mod leads;
mod logs;
mod overlay;
mod pipeline;
mod platform;
mod settings;
mod tenants;
mod theme;
mod toast;
mod usage;
mod widgets;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

use crate::app::{Screen, State};

pub fn draw(frame: &mut Frame, state: &State) {
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    header::draw(frame, head, state);
    match state.screen {
        Screen::Dashboard => dashboard::draw(frame, body, state),
        Screen::Tenants => tenants::draw(frame, body, state),
        Screen::Pipeline => pipeline::draw(frame, body, state),
        Screen::Settings => settings::draw(frame, body, state),
        Screen::Keys => keys::draw(frame, body, state),
        Screen::Leads => leads::draw(frame, body, state),
        Screen::Breaches => breaches::draw(frame, body, state),
        Screen::Analytics => analytics::draw(frame, body, state),
        Screen::Platform => platform::draw(frame, body, state),
        Screen::AllLeads => all_leads::draw(frame, body, state),
        Screen::Usage => usage::draw(frame, body, state),
        Screen::Logs => logs::draw(frame, body, state),
    }
    toast::draw(frame, body, state);
    overlay::draw(frame, body, state);
    footer::draw(frame, foot, state);
}
