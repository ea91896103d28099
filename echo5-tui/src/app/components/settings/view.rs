//! Settings: one row per field; secrets only ever as `set ••••1234`.

use echo5_core::business_hours::BusinessHours;
use echo5_core::secret::MaskedSecret;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use super::Row as Field;
use crate::app::components::frame::{empty_state, frame_block};
use crate::app::{SecretField, State};
use crate::theme;
use crate::widgets::{message, printable};

pub fn masked(m: &MaskedSecret) -> String {
    match (m.set, &m.last4) {
        (false, _) => "not set".into(),
        (true, Some(l)) if !l.is_empty() => format!("set ••••{l}"),
        (true, _) => "set ••••".into(),
    }
}

fn explain(f: Field) -> &'static str {
    match f {
        Field::SlaHours => {
            "A lead still in the intake stage this many hours after it arrived is in breach (1-720)."
        }
        Field::BusinessHours => {
            "When set, the SLA clock counts only these opening hours (local time, holidays closed). Enter edits as JSON, x clears: every hour counts."
        }
        Field::SpamKeywords => {
            "Case-insensitive words or phrases; a lead containing one is stored flagged as spam."
        }
        Field::ManagerEmail => "Where SLA breach alerts are mailed. Empty: alerts are only logged.",
        Field::DefaultCountry => {
            "Phones without a country code are read as numbers of this country (ISO code) and stored in E.164."
        }
        Field::AutoAssign => {
            "round_robin: each new lead goes to the next active manager, in turn. none: leads wait unassigned. Enter switches."
        }
        Field::Secret(SecretField::MetaAccessToken) => {
            "Write-only: Enter replaces it, x removes it. The daemon never shows it again."
        }
        Field::Secret(SecretField::GoogleAds) => {
            "Customer id, conversion action and webhook key for offline conversions; write-only."
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let name = state
        .tenant
        .as_ref()
        .map(|t| t.name.as_str())
        .unwrap_or("—");
    let block = frame_block(format!("Settings · {name}"), state);
    if let Some(text) = empty_state(&state.settings.remote, "") {
        return message(frame, area, block, &text);
    }
    let Some(s) = state.settings.remote.data.as_ref() else {
        return;
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [table_area, help_area] = Layout::vertical([
        Constraint::Length(Field::ALL.len() as u16 + 1),
        Constraint::Min(0),
    ])
    .areas(inner);
    let rows: Vec<Row> = Field::ALL
        .iter()
        .map(|f| {
            let value = match f {
                Field::SlaHours => Span::raw(format!("{} h", s.sla_hours)),
                Field::BusinessHours => match &s.business_hours {
                    Some(b) => Span::raw(printable(&business_hours_summary(b))),
                    None => Span::styled("not set (every hour counts)", theme::dim()),
                },
                Field::SpamKeywords if s.spam_keywords.is_empty() => {
                    Span::styled("none", theme::dim())
                }
                Field::SpamKeywords => Span::raw(format!(
                    "{} ({})",
                    s.spam_keywords.join(", "),
                    s.spam_keywords.len()
                )),
                Field::ManagerEmail => match &s.manager_email {
                    Some(e) => Span::raw(e.clone()),
                    None => Span::styled("not set", theme::dim()),
                },
                Field::Secret(SecretField::MetaAccessToken) => secret_span(&s.meta_access_token),
                Field::Secret(SecretField::GoogleAds) => secret_span(&s.google_ads),
                Field::DefaultCountry => Span::raw(s.default_country.clone()),
                Field::AutoAssign => match s.auto_assign {
                    echo5_core::assignment::AutoAssign::None => Span::styled("none", theme::dim()),
                    a => Span::raw(a.as_str()),
                },
            };
            Row::new(vec![
                Cell::from(format!(" {}", f.label())),
                Cell::from(value),
            ])
        })
        .collect();
    let mut table = Table::new(rows, [Constraint::Length(20), Constraint::Fill(1)])
        .header(Row::new(vec![" FIELD", "VALUE"]).style(theme::header_row()))
        .row_highlight_style(theme::selected());
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(state.settings.view.selected));
    frame.render_stateful_widget(table, table_area, &mut ts);
    if let Some(f) = Field::ALL.get(state.settings.view.selected) {
        // One blank line under the table, one column of margin on each side.
        let help_area = Rect {
            x: help_area.x.saturating_add(1),
            y: help_area.y.saturating_add(1),
            width: help_area.width.saturating_sub(2),
            height: help_area.height.saturating_sub(1),
        };
        frame.render_widget(
            Paragraph::new(explain(*f))
                .style(theme::dim())
                .wrap(Wrap { trim: true }),
            help_area,
        );
    }
}

/// `America/New_York · mon-fri 08:00-18:00 · 2 holidays`: days with the same hours run
/// together.
pub fn business_hours_summary(b: &BusinessHours) -> String {
    let w = &b.week;
    let days = [
        ("mon", &w.mon),
        ("tue", &w.tue),
        ("wed", &w.wed),
        ("thu", &w.thu),
        ("fri", &w.fri),
        ("sat", &w.sat),
        ("sun", &w.sun),
    ];
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let Some(h) = days[i].1 else {
            i += 1;
            continue;
        };
        let mut j = i;
        while j + 1 < days.len() && days[j + 1].1.as_ref() == Some(h) {
            j += 1;
        }
        let span = if i == j {
            days[i].0.to_string()
        } else {
            format!("{}-{}", days[i].0, days[j].0)
        };
        parts.push(format!("{span} {}", h.join("-")));
        i = j + 1;
    }
    let mut out = format!("{} · {}", b.timezone, parts.join(", "));
    match b.holidays.len() {
        0 => {}
        1 => out.push_str(" · 1 holiday"),
        n => out.push_str(&format!(" · {n} holidays")),
    }
    out
}

fn secret_span(m: &MaskedSecret) -> Span<'static> {
    let text = masked(m);
    if m.set {
        Span::raw(text)
    } else {
        Span::styled(text, theme::dim())
    }
}
