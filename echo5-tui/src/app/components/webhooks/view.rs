//! Webhooks: the endpoint list, and one endpoint's delivery log with the attempts of the
//! selected message. URLs and descriptions are typed by people and a receiver's answer is
//! written by whoever runs the receiver: all of it is drawn through `printable`, so no
//! escape sequence in it ever reaches the terminal.

use chrono::{DateTime, Utc};
use echo5_core::webhooks::{Attempt, Delivery, DeliveryStatus, Webhook};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};

use super::{EndpointState, endpoint_state};
use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{ago, clip, countdown, message, printable};

/// "active", "paused", or "disabled: 410 gone" / "disabled: failing 5d"; `short` for a
/// narrow column ("off: 410 gone", "off: failing").
pub fn endpoint_state_text(w: &Webhook, short: bool) -> String {
    let off = if short { "off" } else { "disabled" };
    match endpoint_state(w) {
        EndpointState::Active => "active".into(),
        EndpointState::Paused => "paused".into(),
        EndpointState::Disabled(r) => match (r.as_str(), short) {
            ("gone", _) => format!("{off}: 410 gone"),
            ("failing", true) => format!("{off}: failing"),
            ("failing", false) => format!("{off}: failing 5d"),
            (other, _) => format!("{off}: {}", printable(other)),
        },
    }
}

fn state_span(w: &Webhook, width: usize, short: bool) -> Span<'static> {
    let style = match endpoint_state(w) {
        EndpointState::Active => theme::ok(),
        EndpointState::Paused => theme::warn(),
        EndpointState::Disabled(_) => theme::bad(),
    };
    Span::styled(clip(&endpoint_state_text(w, short), width), style)
}

/// `all events`, one event's name, or the first and how many more.
pub fn events_text(events: &[String]) -> String {
    match events {
        [] => "none".into(),
        [one] if one == "*" => "all events".into(),
        [one] => printable(one),
        [first, rest @ ..] => format!("{} +{}", printable(first), rest.len()),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let name = state
        .tenant
        .as_ref()
        .map(|t| t.name.as_str())
        .unwrap_or("—");
    let w = &state.webhooks;
    let rows = w.filtered();
    let active = rows.iter().filter(|x| x.active).count();
    let mut title = format!(
        "Webhooks · {} ({active} active, {} total)",
        printable(name),
        rows.len()
    );
    if !w.view.filter.is_empty() {
        title = format!(
            "Webhooks · {} /{}",
            printable(name),
            printable(&w.view.filter)
        );
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&w.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        let text = if w.view.filter.is_empty() {
            "No webhook endpoints yet. Press c to send this tenant's leads to a CRM, Zapier, \
             Make or n8n."
        } else {
            "No endpoint matches the filter (Esc clears it)."
        };
        return message(frame, area, block, text);
    }
    let narrow = area.width < 100;
    let state_w = if narrow { 13 } else { 20 };
    let body: Vec<Row> = rows
        .iter()
        .map(|x| {
            Row::new(vec![
                Cell::from(state_span(x, state_w, narrow)),
                Cell::from(printable(&x.url)),
                Cell::from(events_text(&x.events)),
                Cell::from(printable(&x.description)),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(state_w as u16),
        Constraint::Fill(3),
        Constraint::Length(if narrow { 15 } else { 22 }),
        Constraint::Fill(2),
    ];
    let mut table = Table::new(body, widths)
        .header(Row::new(vec!["STATUS", "URL", "EVENTS", "DESCRIPTION"]).style(theme::header_row()))
        .row_highlight_style(theme::selected());
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    // The selected endpoint in full under the table: a long URL, every event and a
    // rotation's grace are cut or left out in its row.
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [list, detail] = Layout::vertical([Constraint::Min(2), Constraint::Length(3)]).areas(inner);
    let mut ts = TableState::default().with_selected(Some(w.view.selected));
    frame.render_stateful_widget(table, list, &mut ts);
    if let Some(sel) = w.selected() {
        draw_endpoint_detail(frame, detail, state, sel);
    }
}

fn draw_endpoint_detail(frame: &mut Frame, area: Rect, state: &State, w: &Webhook) {
    let width = usize::from(area.width).max(1);
    let events = if w.events.iter().any(|e| e == "*") {
        "all events".to_string()
    } else {
        printable(&w.events.join(", "))
    };
    let mut second = vec![Span::styled("events ", theme::dim()), Span::raw(events)];
    if let Some(t) = w.previous_secret_expires_at.filter(|t| *t > state.now) {
        second.push(Span::styled(
            format!(
                "  old secret signs too for {}",
                countdown((t - state.now).num_seconds())
            ),
            theme::warn(),
        ));
    }
    let lines = vec![
        Line::from(Span::styled("─".repeat(width), theme::dim())),
        Line::from(vec![
            state_span(w, 24, false),
            Span::raw("  "),
            Span::raw(clip(&printable(&w.url), width.saturating_sub(26))),
        ]),
        Line::from(second),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

pub fn status_word(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Succeeded => "succeeded",
        DeliveryStatus::Failed => "failed",
    }
}

fn delivery_span(s: DeliveryStatus) -> Span<'static> {
    let style = match s {
        DeliveryStatus::Pending => theme::warn(),
        DeliveryStatus::Succeeded => theme::ok(),
        DeliveryStatus::Failed => theme::bad(),
    };
    Span::styled(status_word(s), style)
}

/// "in 4m" for a future attempt, "due" for one whose time has come, "—" for none.
fn next_text(now: DateTime<Utc>, t: Option<DateTime<Utc>>) -> String {
    match t {
        None => "—".into(),
        Some(t) if t > now => format!("in {}", countdown((t - now).num_seconds())),
        Some(_) => "due".into(),
    }
}

pub fn draw_deliveries(frame: &mut Frame, area: Rect, state: &State) {
    let w = &state.webhooks;
    let d = &w.deliveries;
    let Some(id) = d.webhook else {
        let block = frame_block("Deliveries".into(), state);
        return message(
            frame,
            area,
            block,
            "No endpoint open. On :webhooks, choose one and press Enter.",
        );
    };
    let url = w
        .find(id)
        .map(|x| x.url.as_str())
        .unwrap_or("(endpoint not listed)");
    let rows = d.filtered();
    let more = if d.next_cursor.is_some() { "+" } else { "" };
    let shown = match d.status {
        Some(s) => format!(" [{}]", status_word(s)),
        None => String::new(),
    };
    let mut title = format!(
        "Deliveries · {}{shown} ({}{more})",
        clip(&printable(url), 40),
        rows.len()
    );
    if !d.view.filter.is_empty() {
        title.push_str(&format!(" /{}", printable(&d.view.filter)));
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&d.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        let text = if d.status.is_none() && d.view.filter.is_empty() {
            "Nothing sent to this endpoint yet. t sends a test message."
        } else {
            "No delivery matches (f changes the status, Esc clears the filter)."
        };
        return message(frame, area, block, text);
    }
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let narrow = area.width < 100;
    let body: Vec<Row> = rows
        .iter()
        .map(|x| {
            Row::new(vec![
                Cell::from(delivery_span(x.status)),
                Cell::from(x.event_type.as_str()),
                Cell::from(ago(state.now, x.created_at)),
                Cell::from(next_text(state.now, x.next_attempt_at)),
                Cell::from(x.attempts.len().to_string()),
                Cell::from(Span::styled(
                    id_tail(&x.message_id, if narrow { 20 } else { 40 }),
                    theme::dim(),
                )),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(10),
        Constraint::Length(19),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    let header = ["STATUS", "TYPE", "CREATED", "NEXT", "TRIES", "MESSAGE ID"];
    let mut table = Table::new(body, widths)
        .header(Row::new(header).style(theme::header_row()))
        .row_highlight_style(theme::selected())
        .block(block);
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(d.view.selected));
    frame.render_stateful_widget(table, top, &mut ts);
    if let Some(sel) = d.selected() {
        draw_attempts(frame, bottom, sel);
    }
}

/// The selected message's attempts, newest first: when, the receiver's status, how long,
/// why it failed, and the start of its answer on one line.
fn draw_attempts(frame: &mut Frame, area: Rect, x: &Delivery) {
    let title = format!(
        "Attempts · {} · {}",
        clip(&printable(&x.message_id), 40),
        x.event_type.as_str()
    );
    let block = Block::bordered().title(Span::styled(format!(" {title} "), theme::title()));
    if x.attempts.is_empty() {
        return message(frame, area, block, "Not tried yet.");
    }
    let narrow = area.width < 100;
    let body: Vec<Row> = x
        .attempts
        .iter()
        .rev()
        .map(|a| {
            let code = match a.status_code {
                Some(c) if (200..300).contains(&c) => Span::styled(c.to_string(), theme::ok()),
                Some(c) => Span::styled(c.to_string(), theme::bad()),
                None => Span::styled("—", theme::bad()),
            };
            let when = if narrow {
                a.at.format("%m-%d %H:%M").to_string()
            } else {
                a.at.format("%Y-%m-%d %H:%M:%S").to_string()
            };
            Row::new(vec![
                Cell::from(Span::styled(when, theme::dim())),
                Cell::from(code),
                Cell::from(took(a.duration_ms)),
                Cell::from(answer_text(a)),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(if narrow { 11 } else { 19 }),
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Fill(1),
    ];
    let table = Table::new(body, widths)
        .header(Row::new(vec!["AT", "CODE", "TOOK", "ERROR / ANSWER"]).style(theme::header_row()))
        .block(block);
    frame.render_widget(table, area);
}

/// An attempt's error, then the start of the receiver's answer, as one line of harmless
/// text: whitespace runs (line breaks too) become one space, control characters `�`.
pub fn answer_text(a: &Attempt) -> String {
    let answer = a.response.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = match (&a.error, answer.is_empty()) {
        (Some(e), true) => e.clone(),
        (Some(e), false) => format!("{e}: {answer}"),
        (None, false) => answer,
        (None, true) => String::new(),
    };
    clip(&printable(&text), 200)
}

/// How long an attempt took: `87ms`, `1.2s`, `15.0s`.
fn took(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

/// A message id in `width` characters, cut at the start when longer: ids begin with the
/// time they were made, so neighbours share their start and differ at the end.
fn id_tail(id: &str, width: usize) -> String {
    let id = printable(id);
    let n = id.chars().count();
    if n <= width {
        return id;
    }
    let tail: String = id.chars().skip(n - width.saturating_sub(1)).collect();
    format!("…{tail}")
}
