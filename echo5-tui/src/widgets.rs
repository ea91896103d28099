//! Drawing pieces several screens share: a message in a block, and text cut or worded to fit
//! a cell. They know nothing of the console's state, so every layer may draw with them.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::theme;

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
