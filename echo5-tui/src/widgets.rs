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
}
