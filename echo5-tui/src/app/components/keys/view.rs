//! Keys: the selected tenant's API keys, newest first. Only prefixes are ever listed; a
//! full key appears only in the modal drawn by `overlay`.

use chrono::{DateTime, Utc};
use echo5_core::keys::{self, KeyStatus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table, TableState};

use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{ago, clip, countdown, message};

pub fn status_span(status: KeyStatus) -> Span<'static> {
    match status {
        KeyStatus::Active => Span::styled("active", theme::ok()),
        KeyStatus::Expiring => Span::styled("expiring", theme::warn()),
        KeyStatus::Expired => Span::styled("expired", theme::dim()),
        KeyStatus::Revoked => Span::styled("revoked", theme::bad()),
    }
}

/// "in 23h" for a future instant (rounded up: a grace is never shown shorter than it is),
/// "3d ago" for a past one.
fn when(now: DateTime<Utc>, t: Option<DateTime<Utc>>, none: &'static str) -> String {
    match t {
        None => none.to_string(),
        Some(t) if t > now => format!("in {}", countdown((t - now).num_seconds())),
        Some(t) => ago(now, t),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let name = state
        .tenant
        .as_ref()
        .map(|t| t.name.as_str())
        .unwrap_or("—");
    let rows = state.keys.filtered();
    let usable = rows
        .iter()
        .filter(|k| keys::usable(keys::status(state.now, k.expires_at, k.revoked_at)))
        .count();
    let mut title = format!("Keys · {name} ({usable} working, {} total)", rows.len());
    if !state.keys.view.filter.is_empty() {
        title = format!("Keys · {name} /{}", state.keys.view.filter);
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&state.keys.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        let text = if state.keys.view.filter.is_empty() {
            "No API keys yet. Press c to create one for a site's form plugin."
        } else {
            "No key matches the filter (Esc clears it)."
        };
        return message(frame, area, block, text);
    }
    let narrow = area.width < 100;
    let body: Vec<Row> = rows
        .iter()
        .map(|k| {
            let status = keys::status(state.now, k.expires_at, k.revoked_at);
            // A revoked key's end is its revocation, not the expiry it never reached.
            let ends = match status {
                KeyStatus::Revoked => k.revoked_at,
                _ => k.expires_at,
            };
            Row::new(vec![
                Cell::from(format!(" {}", k.prefix)),
                Cell::from(clip(&k.label, 40)),
                Cell::from(status_span(status)),
                Cell::from(ago(state.now, k.created_at)),
                Cell::from(when(state.now, k.last_used_at, "never")),
                Cell::from(when(state.now, ends, "—")),
            ])
        })
        .collect();
    let widths = if narrow {
        [
            Constraint::Length(9),
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(9),
            // "in 10d 23h": a countdown keeps two units.
            Constraint::Length(10),
        ]
    } else {
        [
            Constraint::Length(10),
            Constraint::Fill(1),
            Constraint::Length(9),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(10),
        ]
    };
    let mut table = Table::new(body, widths)
        .header(
            Row::new(vec![
                " PREFIX",
                "LABEL",
                "STATUS",
                "CREATED",
                "LAST USED",
                "ENDS",
            ])
            .style(theme::header_row()),
        )
        .row_highlight_style(theme::selected())
        .block(block);
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(state.keys.view.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}
