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

/// How long until a future instant, for countdowns (a key's grace, a retry). Rounded *up*
/// to the minute, so a 2 h grace seen a few seconds after it began reads `2h`, not `1h`;
/// below a day it keeps the minutes (`1h 59m`), from a day on the hours (`3d 4h`), so the
/// reading is never off by a whole unit.
pub fn countdown(secs: i64) -> String {
    if secs <= 0 {
        return "now".into();
    }
    if secs < 60 {
        return "<1m".into();
    }
    let mins = (secs + 59) / 60;
    let (h, m) = (mins / 60, mins % 60);
    match (h, m) {
        (0, m) => format!("{m}m"),
        (h @ 1..24, 0) => format!("{h}h"),
        (h @ 1..24, m) => format!("{h}h {m}m"),
        (h, _) if h % 24 == 0 => format!("{}d", h / 24),
        (h, _) => format!("{}d {}h", h / 24, h % 24),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_rounds_up_to_the_minute_and_keeps_two_units() {
        let cases: &[(i64, &str)] = &[
            (-5, "now"),
            (0, "now"),
            (1, "<1m"),
            (59, "<1m"),
            (60, "1m"),
            (61, "2m"),
            (59 * 60, "59m"),
            (59 * 60 + 1, "1h"),
            (3600, "1h"),
            (3600 + 1, "1h 1m"),
            (3600 + 59 * 60, "1h 59m"),
            // A 2 h grace, a few seconds after the rotation: the bug read "1h".
            (2 * 3600 - 3, "2h"),
            (2 * 3600, "2h"),
            (23 * 3600 + 59 * 60 + 30, "1d"),
            (24 * 3600, "1d"),
            (24 * 3600 + 1, "1d"),
            (25 * 3600, "1d 1h"),
            (3 * 86_400 + 4 * 3600, "3d 4h"),
            (30 * 86_400, "30d"),
        ];
        for (secs, want) in cases {
            assert_eq!(countdown(*secs), *want, "{secs} s");
        }
    }

    #[test]
    fn elapsed_durations_floor() {
        let cases: &[(i64, &str)] = &[
            (59, "<1m"),
            (60, "1m"),
            (3599, "59m"),
            (3600, "1h"),
            (7199, "1h"),
            (86_400, "1d"),
        ];
        for (secs, want) in cases {
            assert_eq!(short_duration(*secs), *want, "{secs} s");
        }
    }
}
