//! Drawing: a pure function of the state. The frame around the screen is drawn here; the
//! screen itself by its component. Nothing here changes state or does I/O, so a
//! frame can be rendered into a test buffer with fixed data and a fixed clock.

mod footer;
mod header;
mod overlay;
mod toast;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

use crate::app::State;

pub fn draw(frame: &mut Frame, state: &State) {
    let toasts = toast::height(frame.area().width, state);
    let [head, body, strip, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(toasts),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    header::draw(frame, head, state);
    // Without a session (logged out, or it ended) nothing of the last one is drawn.
    if !state.session.waiting() {
        state.screen.component().draw(frame, body, state);
    }
    toast::draw(frame, strip, state);
    overlay::draw(frame, body, state);
    footer::draw(frame, foot, state);
}
