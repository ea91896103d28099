//! SLA breaches: most overdue first, across tenants or for the selected one; live.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table, TableState};

use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{message, short_duration};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let rows = state.sla.filtered();
    let scope = match (&state.tenant, state.sla.all) {
        (Some(t), false) => t.name.clone(),
        _ => "all tenants".to_string(),
    };
    let more = if state.sla.more { "+" } else { "" };
    let mut title = format!("SLA breaches · {scope} ({}{more})", rows.len());
    if !state.sla.view.filter.is_empty() {
        title.push_str(&format!(" /{}", state.sla.view.filter));
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&state.sla.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        let text = if state.sla.view.filter.is_empty() {
            "No lead is past its SLA. New breaches appear here as they happen."
        } else {
            "No breach matches the filter (Esc clears it)."
        };
        return message(frame, area, block, text);
    }
    let wide = area.width >= 100;
    let body: Vec<Row> = rows
        .iter()
        .map(|b| {
            // Counted at the console's clock so the column keeps growing between fetches.
            let overdue = (state.now - b.deadline)
                .num_seconds()
                .max(b.overdue_minutes * 60);
            let contact = b.email.as_deref().or(b.phone.as_deref()).unwrap_or("");
            let mut cells = vec![
                Cell::from(Span::styled(
                    format!("{:>6}", short_duration(overdue)),
                    theme::bad(),
                )),
                Cell::from(b.tenant.name.clone()),
                Cell::from(b.name.clone().unwrap_or_else(|| "—".into())),
                Cell::from(contact.to_string()),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(
                    b.created_at.format("%m-%d %H:%M").to_string(),
                    theme::dim(),
                )));
                cells.push(Cell::from(Span::styled(
                    b.deadline.format("%m-%d %H:%M").to_string(),
                    theme::dim(),
                )));
            }
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(7),
        Constraint::Fill(2),
        Constraint::Fill(2),
        Constraint::Fill(3),
    ];
    let mut head = vec!["OVERDUE", "TENANT", "NAME", "EMAIL / PHONE"];
    if wide {
        widths.extend([Constraint::Length(11), Constraint::Length(11)]);
        head.extend(["ARRIVED", "DEADLINE"]);
    }
    let mut table = Table::new(body, widths)
        .header(Row::new(head).style(theme::header_row()))
        .row_highlight_style(theme::selected())
        .block(block);
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(state.sla.view.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}
