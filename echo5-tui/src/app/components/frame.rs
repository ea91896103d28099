//! A screen's frame as the model sees it: the bordered block that says when its data is old,
//! and what shows in place of data not loaded yet.

use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

use crate::app::{Remote, State};
use crate::theme;

/// A screen's frame. When the daemon is not answering, the title says how old the data is
/// and the border dims, so nobody mistakes old numbers for live ones.
pub fn frame_block<'a>(title: String, state: &State) -> Block<'a> {
    let mut block = Block::bordered().title(Span::styled(format!(" {title} "), theme::title()));
    if let Some(secs) = state.stale_for() {
        block = block
            .title(
                Line::from(Span::styled(format!(" stale {secs}s "), theme::warn())).right_aligned(),
            )
            .border_style(theme::dim());
    }
    block
}

/// What to show in place of a list that has nothing to show yet.
pub fn empty_state<T>(remote: &Remote<T>, empty: &str) -> Option<String> {
    if remote.data.is_some() {
        return None;
    }
    Some(match (&remote.error, remote.loading()) {
        (Some(e), _) => format!("Could not load: {e}"),
        (None, true) => "Loading…".to_string(),
        (None, false) => empty.to_string(),
    })
}
