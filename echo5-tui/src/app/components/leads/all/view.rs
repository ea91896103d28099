//! All leads: every tenant's leads in one table with a tenant column, newest first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table, TableState};

use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{clip, message};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let view = &state.all_leads.view;
    let rows = state.all_leads.rows();
    let scope = if view.tenants.is_empty() {
        "every tenant".to_string()
    } else {
        clip(&view.tenants.join(", "), 40)
    };
    let more = if view.next_cursor.is_some() { "+" } else { "" };
    let mut title = format!("All leads · {scope} ({}{more})", rows.len());
    if !view.query.is_empty() {
        title.push_str(&format!(" /{}", view.query));
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&state.all_leads.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        let text = if view.query.is_empty() && view.tenants.is_empty() {
            "No leads yet."
        } else {
            "No lead matches (Esc clears the search, then the tenant filter)."
        };
        return message(frame, area, block, text);
    }
    let narrow = area.width < 100;
    let body: Vec<Row> = rows
        .iter()
        .map(|r| {
            let l = &r.lead;
            let contact = l.email.as_deref().or(l.phone.as_deref()).unwrap_or("");
            let mark = if l.is_spam {
                Span::styled("s", theme::dim())
            } else if l.duplicate_of.is_some() {
                Span::styled("d", theme::dim())
            } else {
                Span::raw(" ")
            };
            let mut cells = vec![
                Cell::from(mark),
                Cell::from(Span::styled(
                    l.created_at.format("%m-%d %H:%M").to_string(),
                    theme::dim(),
                )),
                Cell::from(r.tenant.name.clone()),
                Cell::from(l.name.clone().unwrap_or_default()),
                Cell::from(contact.to_string()),
                Cell::from(l.source.as_str()),
            ];
            if !narrow {
                cells.push(Cell::from(Span::styled(
                    r.tenant.slug.clone(),
                    theme::dim(),
                )));
            }
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(11),
        Constraint::Fill(2),
        Constraint::Fill(3),
        Constraint::Fill(if narrow { 3 } else { 4 }),
        Constraint::Length(7),
    ];
    let mut head = vec!["", "CREATED", "TENANT", "NAME", "EMAIL / PHONE", "SOURCE"];
    if !narrow {
        widths.push(Constraint::Fill(2));
        head.push("SLUG");
    }
    let mut table = Table::new(body, widths)
        .header(Row::new(head).style(theme::header_row()))
        .row_highlight_style(theme::selected())
        .block(block);
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(view.list.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}
