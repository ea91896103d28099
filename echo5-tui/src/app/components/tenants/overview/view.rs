//! A client's overview: its figures, its newest leads and its quick actions.

use echo5_core::leads::Lead;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::app::State;
use crate::app::components::format::{minutes, percent};
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{ago, clip, message};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let Some(t) = state.tenant.as_ref() else {
        return message(
            frame,
            area,
            frame_block("Overview".into(), state),
            "No client chosen.",
        );
    };
    let block = frame_block(format!("{} · {}", t.name, t.slug), state);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [kpis, _, title, leads, actions] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(kpi_lines(state)), kpis);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            " Newest leads",
            theme::header_row(),
        ))),
        title,
    );
    recent(frame, leads, state);
    frame.render_widget(Paragraph::new(action_line()), actions);
}

fn figure(label: &str, value: String) -> Vec<Span<'static>> {
    vec![
        Span::styled(format!(" {label} "), theme::dim()),
        Span::styled(value, theme::title()),
        Span::raw("  "),
    ]
}

fn kpi_lines(state: &State) -> Vec<Line<'static>> {
    let id = state.tenant.as_ref().map(|t| t.id);
    let row = state
        .dashboard
        .remote
        .data
        .iter()
        .flat_map(|d| d.tenants.iter())
        .find(|r| Some(r.tenant.id) == id);
    let mut lines = Vec::new();
    match row {
        Some(r) => {
            let c = &r.counts;
            let mut spans = Vec::new();
            spans.extend(figure("today", c.today.to_string()));
            spans.extend(figure("7 d", c.last_7d.to_string()));
            spans.extend(figure("30 d", c.last_30d.to_string()));
            spans.extend(figure("open", c.open.to_string()));
            spans.push(Span::styled(" in breach ", theme::dim()));
            spans.push(Span::styled(
                c.in_breach.to_string(),
                if c.in_breach > 0 {
                    theme::bad()
                } else {
                    theme::title()
                },
            ));
            lines.push(Line::from(spans));
            let mut second = vec![Span::styled(
                format!(" SLA {} h", r.sla_hours),
                theme::dim(),
            )];
            if let Some(at) = r.oldest_waiting {
                second.push(Span::styled("   oldest waiting ", theme::dim()));
                second.push(Span::raw(ago(state.now, at)));
            }
            if !r.active {
                second.push(Span::styled("   ✕ inactive: leads refused", theme::bad()));
            }
            lines.push(Line::from(second));
        }
        // A tenant user has no cross-tenant dashboard to read: the analytics line below
        // gives their figures.
        None if !crate::app::access::may_fetch(state, crate::app::Resource::Dashboard) => {}
        None => lines.push(Line::from(Span::styled(
            if state.dashboard.remote.error.is_some() {
                " figures could not be loaded"
            } else {
                " loading figures…"
            },
            theme::dim(),
        ))),
    }
    if let Some(a) = state.analytics.remote.data.as_ref() {
        let mut spans = vec![Span::styled(
            format!(" last {} d:", state.analytics.days),
            theme::dim(),
        )];
        spans.extend(figure("leads", a.total.to_string()));
        spans.extend(figure("won", percent(a.won_rate)));
        spans.extend(figure(
            "first contact median",
            minutes(a.first_contact.median_minutes),
        ));
        lines.push(Line::from(spans));
    }
    lines
}

fn recent(frame: &mut Frame, area: Rect, state: &State) {
    let remote = &state.overview.recent;
    if let Some(text) = empty_state(remote, "") {
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {text}"), theme::dim())),
            area,
        );
        return;
    }
    let leads = remote.data.as_deref().unwrap_or_default();
    if leads.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                " No leads yet. a adds one; sites send theirs with an API key (K).",
                theme::dim(),
            )),
            area,
        );
        return;
    }
    let name_w = (area.width as usize / 3).max(8);
    let rows: Vec<Row> = leads
        .iter()
        .map(|l| {
            let contact = l.email.as_deref().or(l.phone.as_deref()).unwrap_or("");
            Row::new(vec![
                Cell::from(Span::styled(
                    l.created_at.format(" %m-%d %H:%M").to_string(),
                    theme::dim(),
                )),
                Cell::from(clip(&display_name(l), name_w)),
                Cell::from(contact.to_string()),
                Cell::from(if l.is_spam { "spam" } else { l.source.as_str() }),
            ])
        })
        .collect();
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(12),
                Constraint::Fill(3),
                Constraint::Fill(3),
                Constraint::Length(7),
            ],
        ),
        area,
    );
}

fn action_line() -> Line<'static> {
    let mut spans = Vec::new();
    for (key, what) in [
        ("a", "add a lead"),
        ("l", "leads"),
        ("c", "analytics"),
        ("s", "settings"),
        ("p", "pipeline"),
        ("K", "keys"),
    ] {
        spans.push(Span::styled(format!(" {key}"), theme::key()));
        spans.push(Span::raw(format!(" {what} ")));
    }
    Line::from(spans)
}

/// A lead as a row names it: its name, else how to reach it. (The Leads screen has its own;
/// the tenants component does not reach into leads, which reaches into tenants.)
fn display_name(l: &Lead) -> String {
    l.name
        .clone()
        .or_else(|| l.email.clone())
        .or_else(|| l.phone.clone())
        .unwrap_or_else(|| "(no name)".into())
}
