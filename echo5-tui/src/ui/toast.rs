//! Toasts: short-lived messages stacked at the bottom right of the body.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::theme;
use super::widgets::clip;
use crate::app::State;
use crate::app::state::ToastLevel;

pub fn draw(frame: &mut Frame, body: Rect, state: &State) {
    let max_w = body.width.saturating_sub(4) as usize;
    // Newest at the bottom, just above the frame's lower border.
    let mut y = body.bottom().saturating_sub(2);
    for t in state.toasts.iter().rev() {
        if y <= body.y {
            break;
        }
        let (mark, style) = match t.level {
            ToastLevel::Info => ("✓ ", theme::ok()),
            ToastLevel::Error => ("✗ ", theme::bad()),
        };
        let text = format!(" {mark}{} ", clip(&t.text, max_w.saturating_sub(4)));
        let w = text.chars().count() as u16;
        let area = Rect::new(body.right().saturating_sub(w + 2), y, w, 1);
        frame.render_widget(Clear, area);
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                text,
                style.add_modifier(ratatui::style::Modifier::REVERSED),
            ))),
            area,
        );
        y -= 1;
    }
}
