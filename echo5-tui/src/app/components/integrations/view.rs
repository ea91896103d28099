//! Integrations: one row per source. Error texts come from the daemon, which writes Meta's
//! and Google's words into them: drawn through `printable`, so no escape sequence reaches
//! the terminal.

use echo5_core::integrations::{Integration, IntegrationState};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{ago, clip, message, printable};

/// "ok", "waiting", "failing", "broken", "not configured".
pub fn state_text(s: IntegrationState) -> &'static str {
    match s {
        IntegrationState::NotConfigured => "not configured",
        IntegrationState::Waiting => "waiting",
        IntegrationState::Ok => "ok",
        IntegrationState::Failing => "failing",
        IntegrationState::Broken => "broken",
    }
}

fn state_span(i: &Integration) -> Span<'static> {
    let style = match i.state {
        IntegrationState::Ok => theme::ok(),
        IntegrationState::Waiting | IntegrationState::NotConfigured => theme::dim(),
        IntegrationState::Failing => theme::warn(),
        IntegrationState::Broken => theme::bad(),
    };
    Span::styled(state_text(i.state), style)
}

fn source_name(i: &Integration) -> &'static str {
    match i.source {
        echo5_core::integrations::IntegrationSource::Google => "Google Ads",
        echo5_core::integrations::IntegrationSource::Meta => "Meta Lead Ads",
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let name = state
        .tenant
        .as_ref()
        .map(|t| t.name.as_str())
        .unwrap_or("—");
    let it = &state.integrations;
    let block = frame_block(format!("Integrations · {}", printable(name)), state);
    if let Some(text) = empty_state(&it.remote, "No ad sources.") {
        return message(frame, area, block, &text);
    }
    let now = state.now;
    let rows: Vec<Row> = it
        .rows()
        .iter()
        .map(|i| {
            let error = match (&i.last_error, i.last_error_at) {
                (Some(e), Some(at)) => format!("{} · {}", ago(now, at), printable(e)),
                (Some(e), None) => printable(e),
                _ => "—".into(),
            };
            Row::new(vec![
                Cell::from(source_name(i)),
                Cell::from(state_span(i)),
                Cell::from(i.last_lead_at.map_or("never".into(), |t| ago(now, t))),
                Cell::from(error),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(14),
        Constraint::Length(15),
        Constraint::Length(10),
        Constraint::Fill(1),
    ];
    let mut table = Table::new(rows, widths)
        .header(
            Row::new(vec!["SOURCE", "STATE", "LAST LEAD", "LAST ERROR"]).style(theme::header_row()),
        )
        .row_highlight_style(theme::selected());
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [list, detail] = Layout::vertical([Constraint::Length(4), Constraint::Min(3)]).areas(inner);
    let mut ts = TableState::default().with_selected(Some(it.view.selected));
    frame.render_stateful_widget(table, list, &mut ts);
    // The selected source in full: the whole error, what it still needs, what to do.
    let Some(sel) = it.selected() else {
        return;
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{} ", source_name(sel)), theme::header_row()),
        state_span(sel),
    ])];
    if let Some(since) = sel.broken_since {
        lines.push(Line::from(format!(
            "On hold since {}: Meta refuses the tenant's access token. Leads wait and are \
             fetched once a new token is saved (Settings · meta access token).",
            ago(now, since)
        )));
    }
    if let Some(e) = &sel.last_error {
        lines.push(Line::from(format!(
            "Last error: {}",
            clip(&printable(e), 400)
        )));
    }
    if !sel.missing.is_empty() {
        let missing: Vec<String> = sel.missing.iter().map(|m| printable(m)).collect();
        lines.push(Line::from(format!("Still needs: {}", missing.join(", "))));
    }
    if sel.source == echo5_core::integrations::IntegrationSource::Meta {
        lines.push(Line::styled(
            "s: read the last 90 days of Meta leads again (leads already stored are skipped)",
            theme::dim(),
        ));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), detail);
}
