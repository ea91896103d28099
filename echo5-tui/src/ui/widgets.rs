//! Pieces several screens share: the framed block with a stale marker, and empty states.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::theme;
use crate::app::{Remote, State};

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

pub fn message(frame: &mut Frame, area: Rect, block: Block, text: &str) {
    frame.render_widget(
        Paragraph::new(text.to_string())
            .style(theme::dim())
            .wrap(Wrap { trim: true })
            .block(block),
        area,
    );
}

/// Cuts `s` to `max` characters with an ellipsis, for fixed-width cells.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A duration in the largest unit that fits: `<1m`, `12m`, `5h`, `3d`.
pub fn short_duration(secs: i64) -> String {
    match secs.max(0) {
        0..60 => "<1m".into(),
        s @ 60..3600 => format!("{}m", s / 60),
        s @ 3600..86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// How long before `now` the instant `t` was: `3d ago`, `just now`.
pub fn ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    if secs < 60 {
        return "just now".into();
    }
    format!("{} ago", short_duration(secs))
}
