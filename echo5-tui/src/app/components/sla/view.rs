//! SLA breaches: most overdue first, across clients or for the selected one; live. New
//! breaches are marked NEW; an open breach's lead sits beside the list (wide terminals) or
//! in its place (narrow ones).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table, TableState};

use super::breach_name;
use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::app::components::leads::view::pane;
use crate::theme;
use crate::widgets::{clip, message, printable, short_duration};

/// Below this width the open lead replaces the list instead of sitting beside it.
const SIDE_BY_SIDE: u16 = 100;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    if state.sla.open.is_some() {
        if area.width >= SIDE_BY_SIDE {
            let [l, r] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(area);
            list(frame, l, state);
            lead(frame, r, state);
        } else {
            lead(frame, area, state);
        }
    } else {
        list(frame, area, state);
    }
}

/// The open breach's lead, with the keys that act on it.
fn lead(frame: &mut Frame, area: Rect, state: &State) {
    let Some(b) = state.sla.open.as_ref() else {
        return;
    };
    let detail = &state.sla.lead;
    match detail.data.as_ref().filter(|d| d.lead.id == b.lead_id) {
        Some(d) => pane(frame, area, state, &d.lead, detail, &|id| {
            state.sla.stage_name(id)
        }),
        None => {
            let text = match &detail.error {
                Some(e) => format!("Could not load: {e}"),
                None => "Loading…".to_string(),
            };
            let title = format!(
                "Lead · {}",
                clip(&breach_name(b), area.width.saturating_sub(12) as usize)
            );
            message(frame, area, frame_block(title, state), &text);
        }
    }
}

fn list(frame: &mut Frame, area: Rect, state: &State) {
    let rows = state.sla.filtered();
    let scope = match (&state.tenant, state.sla.all) {
        (Some(t), false) => t.name.clone(),
        _ => "all tenants".to_string(),
    };
    let more = if state.sla.more { "+" } else { "" };
    let mut title = format!("SLA breaches · {scope} ({}{more})", rows.len());
    let unseen = rows.iter().filter(|b| state.sla.is_new(b.lead_id)).count();
    if unseen > 0 {
        title.push_str(&format!(" · {unseen} new"));
    }
    if !state.sla.view.filter.is_empty() {
        title.push_str(&format!(" /{}", state.sla.view.filter));
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&state.sla.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        let text = if state.sla.view.filter.is_empty() {
            "No lead is past its SLA. New breaches appear here as they happen, and are announced on every screen."
        } else {
            "No breach matches the filter (Esc clears it)."
        };
        return message(frame, area, block, text);
    }
    let wide = area.width >= SIDE_BY_SIDE;
    let body: Vec<Row> = rows
        .iter()
        .map(|b| {
            // Counted at the console's clock so the column keeps growing between fetches.
            let overdue = (state.now - b.deadline)
                .num_seconds()
                .max(b.overdue_minutes * 60);
            let contact = b.email.as_deref().or(b.phone.as_deref()).unwrap_or("");
            let mark = if state.sla.is_new(b.lead_id) {
                Span::styled("NEW", theme::bad().add_modifier(Modifier::REVERSED))
            } else {
                Span::raw("")
            };
            let mut cells = vec![
                Cell::from(mark),
                Cell::from(Span::styled(
                    format!("{:>6}", short_duration(overdue)),
                    theme::bad(),
                )),
                Cell::from(printable(&b.tenant.name)),
                Cell::from(printable(b.name.as_deref().unwrap_or("—"))),
                Cell::from(printable(contact)),
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
        Constraint::Length(3),
        Constraint::Length(7),
        Constraint::Fill(2),
        Constraint::Fill(2),
        Constraint::Fill(3),
    ];
    let mut head = vec!["", "OVERDUE", "TENANT", "NAME", "EMAIL / PHONE"];
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
