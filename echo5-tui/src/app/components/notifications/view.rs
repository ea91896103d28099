//! Notifications: one row per channel, per event's rule and per escalation step, and the
//! preview of a template below. Tenant text (addresses, templates rendered with a lead) is
//! made printable before it is drawn.

use echo5_core::notifications::{Channel, Notifications as Doc, NotifyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{Row, configured};
use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{clip, message, printable};

fn masked(set: bool) -> &'static str {
    if set { "set" } else { "not set" }
}

/// What a channel row says about its setup.
pub fn channel_text(doc: &Doc, c: Channel) -> String {
    match c {
        Channel::Email => {
            let extra = doc
                .channels
                .email
                .as_ref()
                .map(|e| e.to.join(", "))
                .unwrap_or_default();
            let via = if doc.channels.sendgrid.is_some() {
                "SendGrid"
            } else {
                "SMTP"
            };
            if extra.is_empty() {
                format!("manager e-mail, via {via}")
            } else {
                format!("manager e-mail + {extra}, via {via}")
            }
        }
        Channel::Slack => match &doc.channels.slack {
            Some(s) => format!("incoming webhook {}", masked(s.webhook_url.set)),
            None => "not set up".into(),
        },
        Channel::Sms => match &doc.channels.sms {
            Some(s) => format!(
                "Twilio {} from {} to {} (token {})",
                s.account_sid,
                s.from,
                s.to.join(", "),
                masked(s.auth_token.set)
            ),
            None => "not set up".into(),
        },
    }
}

fn channels_of(list: &[Channel]) -> String {
    if list.is_empty() {
        "—".into()
    } else {
        list.iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn row_line(doc: &Doc, row: &Row, width: usize) -> Line<'static> {
    let (label, text, on) = match row {
        Row::Channel(c) => (
            format!("channel  {:<6}", c.as_str()),
            channel_text(doc, *c),
            configured(doc, *c),
        ),
        Row::Rule(e) => {
            let list = doc.rules.get(e).cloned().unwrap_or_default();
            let mut text = format!("→ {}", channels_of(&list));
            if *e == NotifyEvent::DigestDaily
                && let Some(d) = &doc.digest
            {
                text.push_str(&format!("  at {} {}", d.time, d.timezone));
            }
            if doc.templates.contains_key(e) {
                text.push_str("  (own template)");
            }
            (
                format!("rule     {:<13}", e.as_str()),
                text,
                !list.is_empty(),
            )
        }
        Row::Step(s) => {
            let to = if s.to.is_empty() {
                "the channels' recipients".to_string()
            } else {
                s.to.join(", ")
            };
            (
                format!("escalate +{:<3}h      ", s.after_hours),
                format!("→ {} to {to}", channels_of(&s.channels)),
                true,
            )
        }
    };
    let style = if on { theme::title() } else { theme::dim() };
    Line::from(vec![
        Span::styled(format!(" {label} "), theme::key()),
        Span::styled(clip(&printable(&text), width.saturating_sub(24)), style),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let n = &state.notifications;
    let block = frame_block("Notifications".into(), state);
    if let Some(text) = empty_state(&n.remote, "") {
        return message(frame, area, block, &text);
    }
    let Some(doc) = n.remote.data.as_ref() else {
        return;
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = n.rows();
    let [list_area, preview_area] = Layout::vertical([
        Constraint::Length(rows.len() as u16 + 1),
        Constraint::Min(0),
    ])
    .areas(inner);
    let width = list_area.width as usize;
    let mut lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let line = row_line(doc, r, width);
            if i == n.view.selected {
                line.style(theme::selected())
            } else {
                line
            }
        })
        .collect();
    if doc.escalation.is_empty() {
        lines.push(Line::from(Span::styled(
            " no escalation steps",
            theme::dim(),
        )));
    }
    frame.render_widget(Paragraph::new(lines), list_area);

    let title = match n.preview_event {
        Some(e) => format!(" Preview · {} ", e.as_str()),
        None => " Preview (Enter on a rule) ".into(),
    };
    let pblock = Block::default()
        .borders(Borders::TOP)
        .title(Span::styled(title, theme::header_row()));
    let body: Vec<Line> = match (&n.preview.data, &n.preview.error, n.preview_event) {
        (_, Some(e), Some(_)) => vec![Line::from(Span::styled(
            format!(" {}", printable(e)),
            theme::bad(),
        ))],
        (Some((ev, r)), None, Some(want)) if *ev == want => {
            let mut out = vec![Line::from(vec![
                Span::styled(" Subject: ", theme::dim()),
                Span::styled(printable(&r.subject), theme::title()),
            ])];
            out.extend(
                r.text
                    .lines()
                    .map(|l| Line::from(format!(" {}", printable(l)))),
            );
            out
        }
        (_, _, Some(_)) => vec![Line::from(Span::styled(" Loading…", theme::dim()))],
        _ => Vec::new(),
    };
    frame.render_widget(
        Paragraph::new(body)
            .block(pblock)
            .wrap(Wrap { trim: false }),
        preview_area,
    );
}
