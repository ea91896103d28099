//! Pipeline: the stages in order with their lead counts.

use echo5_core::stages::StageKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table, TableState};

use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::message;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let name = state
        .tenant
        .as_ref()
        .map(|t| t.name.as_str())
        .unwrap_or("—");
    let rows = state.stages.filtered();
    let total: u64 = state
        .stages
        .remote
        .data
        .iter()
        .flatten()
        .map(|s| s.lead_count)
        .sum();
    let mut title = format!("Pipeline · {name} ({} stages, {total} leads)", rows.len());
    if !state.stages.view.filter.is_empty() {
        title = format!("Pipeline · {name} /{}", state.stages.view.filter);
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&state.stages.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        return message(
            frame,
            area,
            block,
            "No stage matches the filter (Esc clears it).",
        );
    }
    let body: Vec<Row> = rows
        .iter()
        .map(|(i, s)| {
            let kind = match s.kind {
                StageKind::Open => Span::styled("open", theme::ok()),
                StageKind::Won => Span::styled("won", theme::key()),
                StageKind::Lost => Span::styled("lost", theme::bad()),
            };
            let note = if *i == 0 {
                "intake: new leads land here"
            } else {
                ""
            };
            Row::new(vec![
                Cell::from(format!("{:>2}", i + 1)),
                Cell::from(s.name.clone()),
                Cell::from(kind),
                Cell::from(format!("{:>6}", s.lead_count)),
                Cell::from(Span::styled(note, theme::dim())),
            ])
        })
        .collect();
    let mut table = Table::new(
        body,
        [
            Constraint::Length(3),
            Constraint::Length(24),
            Constraint::Length(5),
            Constraint::Length(6),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(vec![" #", "STAGE", "KIND", " LEADS", ""]).style(theme::header_row()))
    .row_highlight_style(theme::selected())
    .block(block);
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(state.stages.view.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}
