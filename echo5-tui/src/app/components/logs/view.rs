//! Logs: the daemon's lines, newest at the bottom, following the tail unless scrolled up.
//! Matches of the `/` search are highlighted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Logs, line_level};
use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::app::state::LiveStatus;
use crate::theme;
use crate::widgets::{clip, message, printable};
use echo5_core::logs::{LogLevel, LogLine};

fn level_span(l: &LogLine) -> Span<'static> {
    let style = match line_level(l) {
        LogLevel::Error => theme::bad(),
        LogLevel::Warn => theme::warn(),
        LogLevel::Info => theme::ok(),
        LogLevel::Debug | LogLevel::Trace => theme::dim(),
    };
    Span::styled(format!("{:<5} ", clip(&l.level, 5)), style)
}

/// `text` with every case-insensitive occurrence of `needle` (lower-cased) highlighted.
fn highlighted(text: &str, needle: &str) -> Vec<Span<'static>> {
    let hit = theme::warn().add_modifier(Modifier::REVERSED);
    // Byte offsets of the lower-cased text match the original only when lower-casing keeps
    // every character's length; otherwise the line is shown without highlight.
    let same_len = |c: char| c.to_lowercase().map(char::len_utf8).sum::<usize>() == c.len_utf8();
    if needle.is_empty() || !(text.is_ascii() || text.chars().all(same_len)) {
        return vec![Span::raw(text.to_string())];
    }
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(pos) = lower[at..].find(needle) {
        let start = at + pos;
        let end = start + needle.len();
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) || end > text.len() {
            break;
        }
        if start > at {
            out.push(Span::raw(text[at..start].to_string()));
        }
        out.push(Span::styled(text[start..end].to_string(), hit));
        at = end;
    }
    if at < text.len() {
        out.push(Span::raw(text[at..].to_string()));
    }
    out
}

/// Indices of the lines to show, oldest first: `height` lines ending at the bottom line,
/// or starting at the first one when fewer come before it.
fn window(v: &Logs, height: usize) -> Vec<usize> {
    let Some(bottom) = super::bottom_index(v) else {
        return Vec::new();
    };
    let needle = v.needle();
    let mut out: Vec<usize> = Vec::with_capacity(height);
    let mut i = bottom + 1;
    while out.len() < height && i > 0 {
        i -= 1;
        if v.lines.get(i).is_some_and(|l| v.shows(l, &needle)) {
            out.push(i);
        }
    }
    out.reverse();
    // Scrolled near the top: fill the view with the lines after the bottom one.
    let mut j = bottom + 1;
    while out.len() < height && j < v.lines.len() {
        if v.lines.get(j).is_some_and(|l| v.shows(l, &needle)) {
            out.push(j);
        }
        j += 1;
    }
    out
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let v = &state.logs;
    let mut title = format!("Logs ({})", v.lines.len());
    if let Some(l) = v.level {
        title.push_str(&format!(" · {}+", l.as_str()));
    }
    if !v.view.filter.is_empty() {
        title.push_str(&format!(" /{}", v.view.filter));
    }
    let (mode, mode_style) = if v.follow {
        ("following".to_string(), theme::ok())
    } else if v.unseen > 0 {
        (format!("paused · {} new (G)", v.unseen), theme::warn())
    } else {
        ("paused (G follows)".to_string(), theme::warn())
    };
    let tail = match v.stream.status {
        LiveStatus::Connected => Span::styled(" ● tail ", theme::ok()),
        LiveStatus::Connecting | LiveStatus::Off => Span::styled(" tail … ", theme::dim()),
        LiveStatus::Disconnected => {
            let secs = v
                .stream
                .retry_at
                .map_or(0, |t| (t - state.now).num_seconds().max(0));
            Span::styled(format!(" tail off, retry {secs}s "), theme::warn())
        }
    };
    let block = frame_block(title, state)
        .title(Line::from(Span::styled(format!(" {mode} "), mode_style)).right_aligned())
        .title(Line::from(tail).right_aligned());
    if v.lines.is_empty()
        && let Some(text) = empty_state(&state.logs.fetch, "No log lines yet.")
    {
        return message(frame, area, block, &text);
    }
    let inner = block.inner(area);
    let shown = window(v, inner.height as usize);
    if shown.is_empty() {
        let text = if v.lines.is_empty() {
            "No log lines yet."
        } else {
            "No line matches (l changes the level, Esc clears the search)."
        };
        return message(frame, area, block, text);
    }
    let needle = v.needle();
    let target_w = if inner.width >= 100 { 22 } else { 0 };
    // The bottom line is the one Enter opens in full.
    let marked = super::bottom_index(v);
    let lines: Vec<Line> = shown
        .iter()
        .filter_map(|i| v.lines.get(*i).map(|l| (*i, l)))
        .map(|(i, l)| {
            let mut spans = vec![
                Span::styled(l.time.format("%H:%M:%S ").to_string(), theme::dim()),
                level_span(l),
            ];
            if target_w > 0 {
                spans.push(Span::styled(
                    format!("{:<target_w$} ", clip(&l.target, target_w)),
                    theme::dim(),
                ));
            }
            spans.extend(highlighted(&printable(&l.message), &needle));
            let line = Line::from(spans);
            if Some(i) == marked {
                line.style(theme::selected())
            } else {
                line
            }
        })
        .collect();
    let mut p = Paragraph::new(lines).block(block);
    if state.is_stale() {
        p = p.style(theme::dim());
    }
    frame.render_widget(p, area);
}

#[cfg(test)]
mod tests {
    use super::highlighted;

    fn joined(spans: &[ratatui::text::Span]) -> String {
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn highlight_keeps_the_text_and_never_splits_a_character() {
        let s = highlighted("SMTP down; smtp retry", "smtp");
        assert_eq!(joined(&s), "SMTP down; smtp retry");
        assert_eq!(s.len(), 4);
        // Lower-casing changes byte lengths here (Kelvin sign, dotted İ): no highlight,
        // and no panic.
        for text in ["\u{212A}elvin smtp İstanbul", "İİ\u{212A}\u{212A}smtp"] {
            let s = highlighted(text, "smtp");
            assert_eq!(joined(&s), text);
        }
        assert_eq!(joined(&highlighted("café smtp", "smtp")), "café smtp");
        assert_eq!(highlighted("café smtp", "smtp").len(), 2);
    }
}
