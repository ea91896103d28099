//! Two lines: where we are connected and how well, then the screen tabs and the tenant.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::{Conn, Screen, State};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let [top, tabs] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);

    let retry_in = (state.next_poll - state.now).num_seconds().max(0);
    let conn = match state.conn {
        Conn::Connecting => Span::styled("… connecting", theme::warn()),
        Conn::Connected => Span::styled("● connected", theme::ok()),
        Conn::Degraded { .. } => {
            Span::styled(format!("◐ degraded, retry {retry_in}s"), theme::warn())
        }
        Conn::Down { .. } => Span::styled(format!("○ down, retry {retry_in}s"), theme::bad()),
    };
    // "live" is the auto-refresh; it becomes the SSE stream once the daemon has one.
    let live = match (state.conn, state.stale_for()) {
        (_, Some(secs)) => Span::styled(format!("stale {secs}s"), theme::bad()),
        (Conn::Connected, None) => Span::styled(
            format!("⟳ live {}s", state.refresh_every.num_seconds()),
            theme::ok(),
        ),
        _ => Span::raw(""),
    };
    let mut right = vec![conn, Span::raw("  "), live];
    if state.saving > 0 {
        right.push(Span::styled("  saving…", theme::warn()));
    }
    right.push(Span::raw(" "));
    let right = Line::from(right);
    let right_w = right.width() as u16;
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(right_w)]).areas(top);
    let left = Line::from(vec![
        Span::styled(" echo5 ", theme::title()),
        Span::styled(state.base_url.clone(), theme::dim()),
    ]);
    frame.render_widget(Paragraph::new(left), l);
    frame.render_widget(Paragraph::new(right).right_aligned(), r);

    let tenant = match &state.tenant {
        Some(t) => Line::from(vec![
            Span::styled("tenant ", theme::dim()),
            Span::styled(t.name.clone(), theme::title()),
            Span::raw(" "),
        ]),
        None => Line::from(Span::styled("no tenant (:tenant) ", theme::dim())),
    };
    let tenant_w = tenant.width() as u16;
    let tab_line = |pad: &str, gap: &str| {
        let mut spans = vec![Span::raw(" ")];
        for (i, s) in Screen::ALL.iter().enumerate() {
            let label = format!("{pad}{} {}{pad}", i + 1, s.title());
            spans.push(if *s == state.screen {
                Span::styled(label, theme::tab_active())
            } else {
                Span::styled(label, theme::dim())
            });
            spans.push(Span::raw(gap.to_string()));
        }
        Line::from(spans)
    };
    // Narrow terminals lose the padding between tabs before they lose the tenant's name.
    let mut spans = tab_line(" ", " ");
    if spans.width() as u16 + tenant_w > tabs.width {
        spans = tab_line("", " ");
    }
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(tenant_w)]).areas(tabs);
    frame.render_widget(Paragraph::new(spans), l);
    frame.render_widget(Paragraph::new(tenant).right_aligned(), r);
}
