//! Dashboard: one row per tenant. Lead counts (today, 7 d, open, in breach) join these
//! columns when the daemon's dashboard endpoint exists.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table, TableState};

use super::theme;
use super::widgets::{empty_state, frame_block, message};
use crate::app::State;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let rows = state.filtered_tenants(&state.dashboard);
    let mut title = format!("Tenants ({})", rows.len());
    if !state.dashboard.filter.is_empty() {
        title.push_str(&format!(" /{}", state.dashboard.filter));
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&state.tenants, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        let text = if state.dashboard.filter.is_empty() {
            "No tenants yet. Create one with POST /api/v1/tenants."
        } else {
            "No tenant matches the filter (Esc clears it)."
        };
        return message(frame, area, block, text);
    }
    let body: Vec<Row> = rows
        .iter()
        .map(|t| {
            let mark = if state.tenant.as_ref().is_some_and(|s| s.id == t.id) {
                "● "
            } else {
                "  "
            };
            let active = if t.active {
                Span::styled("yes", theme::ok())
            } else {
                Span::styled("no", theme::dim())
            };
            Row::new(vec![
                Cell::from(format!("{mark}{}", t.name)),
                Cell::from(t.slug.clone()),
                Cell::from(active),
                Cell::from(format!("{:>4}", t.settings.sla_hours)),
            ])
        })
        .collect();
    let mut table = Table::new(
        body,
        [
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Length(6),
            Constraint::Length(5),
        ],
    )
    .header(Row::new(vec!["  NAME", "SLUG", "ACTIVE", "SLA h"]).style(theme::header_row()))
    .row_highlight_style(theme::selected())
    .block(block);
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(state.dashboard.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}
