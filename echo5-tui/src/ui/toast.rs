//! Toasts: short-lived messages in a strip of their own between the screen and the footer,
//! newest at the bottom. The screen is laid out above the strip, so a toast never covers
//! a row (the selected one included); long messages wrap instead of being cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::State;
use crate::app::state::{Toast, ToastLevel};
use crate::theme;
use crate::widgets::wrap_words;

/// Rows one toast may take; a longer message is cut at the end of the last one.
const MAX_ROWS: usize = 3;

fn lines(t: &Toast, width: u16) -> Vec<String> {
    let (mark, _) = look(t.level);
    let room = usize::from(width.saturating_sub(6)).max(10);
    let mut rows = wrap_words(&t.text, room);
    if rows.len() > MAX_ROWS {
        rows.truncate(MAX_ROWS);
        if let Some(last) = rows.last_mut() {
            last.push('…');
        }
    }
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let lead = if i == 0 { mark } else { "  " };
            format!(" {lead}{r} ")
        })
        .collect()
}

fn look(level: ToastLevel) -> (&'static str, ratatui::style::Style) {
    match level {
        ToastLevel::Info => ("✓ ", theme::ok()),
        ToastLevel::Error => ("✗ ", theme::bad()),
        ToastLevel::Alert => ("▲ ", theme::bad()),
    }
}

/// Rows the strip needs at this terminal width (0 without toasts).
pub fn height(width: u16, state: &State) -> u16 {
    let rows: usize = state.toasts.iter().map(|t| lines(t, width).len()).sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let mut y = area.y;
    for t in &state.toasts {
        let (_, style) = look(t.level);
        let rows = lines(t, area.width);
        // One block per toast: its rows share a left edge.
        let w = rows.iter().map(|r| r.chars().count()).max().unwrap_or(0);
        let w = (w as u16).min(area.width);
        for row in rows {
            if y >= area.bottom() {
                return;
            }
            let row = format!("{row:<width$}", width = usize::from(w));
            let at = Rect::new(area.right().saturating_sub(w + 1), y, w, 1);
            frame.render_widget(
                Paragraph::new(Line::from(Span::styled(
                    row,
                    style.add_modifier(Modifier::REVERSED),
                ))),
                at,
            );
            y += 1;
        }
    }
}
