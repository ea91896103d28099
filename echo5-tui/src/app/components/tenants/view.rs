//! Tenant picker: Enter switches; the selected tenant is marked, an inactive one flagged.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState};

use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::message;

/// How an inactive tenant is marked.
const INACTIVE_BADGE: &str = "✕ inactive: leads refused";

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let rows = state.tenants.filtered(&state.tenants.picker);
    let mut title = "Switch tenant".to_string();
    if !state.tenants.picker.filter.is_empty() {
        title.push_str(&format!(" /{}", state.tenants.picker.filter));
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&state.tenants.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        return message(
            frame,
            area,
            block,
            "No tenant matches (/ to change the filter, Esc clears it).",
        );
    }
    let items: Vec<ListItem> = rows
        .iter()
        .map(|t| {
            let current = state.tenant.as_ref().is_some_and(|s| s.id == t.id);
            let mut spans = vec![
                Span::raw(if current { "● " } else { "  " }),
                Span::styled(
                    t.name.clone(),
                    if t.active {
                        theme::title()
                    } else {
                        theme::dim()
                    },
                ),
                Span::raw("  "),
                Span::styled(t.slug.clone(), theme::dim()),
            ];
            // An inactive tenant's sites are refused (403 tenant_inactive): say so where the
            // operator picks it, not only by greying it out.
            if !t.active {
                spans.push(Span::raw("  "));
                spans.push(Span::styled(INACTIVE_BADGE, theme::bad()));
            }
            ListItem::new(Line::from(spans))
        })
        .collect();
    let mut list = List::new(items)
        .highlight_style(theme::selected())
        .block(block);
    if state.is_stale() {
        list = list.style(theme::dim());
    }
    let mut ls = ListState::default().with_selected(Some(state.tenants.picker.selected));
    frame.render_stateful_widget(list, area, &mut ls);
}
