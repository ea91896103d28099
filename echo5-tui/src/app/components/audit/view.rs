//! Audit: one row per action, newest first: when, who (by name), what, which client, and
//! what changed.

use echo5_core::audit::{AuditEntry, actor_name};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table, TableState};

use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::message;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let a = &state.audit;
    let rows = a.filtered();
    let scope = match (&state.tenant, a.client_only) {
        (Some(t), true) => t.name.clone(),
        _ => "all clients".to_string(),
    };
    let more = if a.next_cursor.is_some() { "+" } else { "" };
    let mut title = format!("Audit · {scope} ({}{more})", rows.len());
    if let Some(action) = a.action {
        title.push_str(&format!(" [{}]", action.as_str()));
    }
    if !a.view.filter.is_empty() {
        title.push_str(&format!(" /{}", a.view.filter));
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&a.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        let text = if a.view.filter.is_empty() && a.action.is_none() {
            "Nothing audited yet."
        } else {
            "No row matches (a changes the action, Esc clears the filter)."
        };
        return message(frame, area, block, text);
    }
    let wide = area.width >= 100;
    let body: Vec<Row> = rows
        .iter()
        .map(|e| {
            let mut cells = vec![
                Cell::from(Span::styled(
                    e.at.format("%m-%d %H:%M").to_string(),
                    theme::dim(),
                )),
                Cell::from(actor_name(&e.actor).to_string()),
                Cell::from(e.action.clone()),
                Cell::from(
                    e.tenant
                        .as_ref()
                        .map(|t| t.name.clone())
                        .unwrap_or_default(),
                ),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(summary(e), theme::dim())));
            }
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Fill(2),
        Constraint::Fill(2),
    ];
    let mut header = vec!["WHEN", "WHO", "ACTION", "CLIENT"];
    if wide {
        widths.push(Constraint::Fill(4));
        header.push("WHAT");
    }
    let mut table = Table::new(body, widths)
        .header(Row::new(header).style(theme::header_row()))
        .row_highlight_style(theme::selected())
        .block(block);
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(a.view.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}

/// What changed, in a few words: the fields a row names as changed, else its details as
/// `key=value` pairs (an id shortened to its first 8 characters).
fn summary(e: &AuditEntry) -> String {
    let short = |v: &serde_json::Value| -> String {
        match v {
            serde_json::Value::String(s) if s.len() == 36 => s[..8].to_string(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    };
    if let Some(changed) = e.details.get("changed").and_then(|c| c.as_array()) {
        let names: Vec<String> = changed.iter().map(short).collect();
        return format!("changed {}", names.join(", "));
    }
    match e.details.as_object() {
        Some(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| format!("{k}={}", short(v)))
            .collect::<Vec<_>>()
            .join(" "),
        _ => e
            .target
            .as_deref()
            .map(|t| t.chars().take(8).collect())
            .unwrap_or_default(),
    }
}
