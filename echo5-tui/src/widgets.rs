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

/// `text` broken into lines of at most `width` characters, at spaces where it can be and
/// inside a word only when the word alone is longer than a line. Line breaks in the text
/// are kept. Drawn line by line, the caller knows how many rows a message needs.
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut len = 0usize;
        for word in para.split(' ') {
            let mut word: Vec<char> = word.chars().collect();
            let gap = usize::from(len > 0);
            if len + gap + word.len() <= width {
                if gap == 1 {
                    line.push(' ');
                }
                line.extend(&word);
                len += gap + word.len();
                continue;
            }
            if len > 0 {
                out.push(std::mem::take(&mut line));
            }
            while word.len() > width {
                out.push(word.drain(..width).collect());
            }
            len = word.len();
            line = word.into_iter().collect();
        }
        out.push(line);
    }
    out
}

/// Text from outside (log lines, lead fields) made safe to draw: control characters,
/// which a terminal would obey, are shown as `�`.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_breaks_at_spaces_and_splits_only_overlong_words() {
        assert_eq!(
            wrap_words("sla_hours must be between 1 and 720", 12),
            ["sla_hours", "must be", "between 1", "and 720"]
        );
        assert_eq!(wrap_words("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
        assert_eq!(wrap_words("a\nb", 10), ["a", "b"]);
        assert_eq!(printable("ok\u{1b}[2J"), "ok\u{fffd}[2J");
    }

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
