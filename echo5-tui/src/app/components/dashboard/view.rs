//! Dashboard: one row per tenant with its lead counts and SLA state, and a totals row.

use echo5_core::sla::SlaRule;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table, TableState};

use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{ago, message};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let rows = state.dashboard.filtered();
    let mut title = format!("Tenants ({})", rows.len());
    if !state.dashboard.view.filter.is_empty() {
        title.push_str(&format!(" /{}", state.dashboard.view.filter));
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&state.dashboard.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        let text = if state.dashboard.view.filter.is_empty() {
            "No clients yet. Press a to create your first client."
        } else {
            "No tenant matches the filter (Esc clears it)."
        };
        return message(frame, area, block, text);
    }
    let num = |n: u64| Cell::from(format!("{n:>6}"));
    let mut body: Vec<Row> = rows
        .iter()
        .map(|t| {
            let mark = if state.tenant.as_ref().is_some_and(|s| s.id == t.tenant.id) {
                "● "
            } else {
                "  "
            };
            let mut name = Span::raw(format!("{mark}{}", t.tenant.name));
            if !t.active {
                name = name.style(theme::dim());
            }
            let breach = if t.counts.in_breach > 0 {
                Span::styled(format!("{:>9}", t.counts.in_breach), theme::bad())
            } else {
                Span::styled(format!("{:>9}", 0), theme::dim())
            };
            let oldest = match t.oldest_waiting {
                Some(at) => {
                    // Core's rule, with the client's business hours when the tenant
                    // list has them.
                    let hours = state
                        .tenants
                        .remote
                        .data
                        .iter()
                        .flatten()
                        .find(|x| x.id == t.tenant.id)
                        .and_then(|x| x.settings.business_hours.as_ref());
                    let overdue = SlaRule::new(t.sla_hours, hours).deadline(at) < state.now;
                    let text = ago(state.now, at);
                    if overdue {
                        Span::styled(text, theme::bad())
                    } else {
                        Span::raw(text)
                    }
                }
                None => Span::styled("—", theme::dim()),
            };
            Row::new(vec![
                Cell::from(name),
                num(t.counts.today),
                num(t.counts.last_7d),
                num(t.counts.last_30d),
                num(t.counts.open),
                Cell::from(breach),
                Cell::from(oldest),
                Cell::from(format!("{:>4}", t.sla_hours)),
            ])
        })
        .collect();
    if let Some(d) = &state.dashboard.remote.data {
        let t = &d.totals;
        body.push(
            Row::new(vec![
                Cell::from("  Total"),
                num(t.today),
                num(t.last_7d),
                num(t.last_30d),
                num(t.open),
                Cell::from(format!("{:>9}", t.in_breach)),
                Cell::from(""),
                Cell::from(""),
            ])
            .style(theme::title()),
        );
    }
    let mut table = Table::new(
        body,
        [
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(9),
            Constraint::Length(14),
            Constraint::Length(5),
        ],
    )
    .header(
        Row::new(vec![
            "  TENANT",
            " TODAY",
            "    7D",
            "   30D",
            "  OPEN",
            "IN BREACH",
            "OLDEST WAITING",
            "SLA h",
        ])
        .style(theme::header_row()),
    )
    .row_highlight_style(theme::selected())
    .block(block);
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(state.dashboard.view.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}
