//! Toasts: short-lived messages stacked at the bottom right of the body.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::app::state::ToastLevel;
use crate::app::{Screen, State};
use crate::theme;
use crate::widgets::clip;

pub fn draw(frame: &mut Frame, body: Rect, state: &State) {
    let max_w = body.width.saturating_sub(4) as usize;
    // Newest at the bottom, just above the frame's lower border. On the Logs screen the
    // bottom is where new lines arrive, so toasts stack down from the top there instead.
    let from_top = state.screen == Screen::Logs;
    let mut y = if from_top {
        body.y + 1
    } else {
        body.bottom().saturating_sub(2)
    };
    for t in state.toasts.iter().rev() {
        if y <= body.y || y + 1 >= body.bottom() {
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
        if from_top {
            y += 1;
        } else {
            y -= 1;
        }
    }
}
