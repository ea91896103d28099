//! Leads: the table (newest first, paged in as the cursor passes the end) and the detail
//! pane. Wide terminals show both side by side; narrow ones give the pane the whole body.

use chrono::{DateTime, Utc};
use echo5_core::audit::actor_name;
use echo5_core::leads::{Lead, LeadDetail, Note, SpamFilter, StageMove};
use echo5_core::sla::{SlaFacts, SlaRule};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Padding, Paragraph, Row, Table, TableState, Wrap};

use uuid::Uuid;

use crate::app::components::frame::{empty_state, frame_block};
use crate::app::{Remote, State};
use crate::theme;
use crate::widgets::{ago, clip, message};

/// Below this width the detail pane replaces the table instead of sitting beside it.
const SIDE_BY_SIDE: u16 = 100;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    if state.leads.view.detail_open {
        if area.width >= SIDE_BY_SIDE {
            let [l, r] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(area);
            table(frame, l, state);
            detail(frame, r, state);
        } else {
            detail(frame, area, state);
        }
    } else {
        table(frame, area, state);
    }
}

/// Whether a lead is past its tenant's SLA at the console's clock, by core's rule (business
/// hours included; intake is the first stage; spam and duplicates carry no SLA).
fn breached(state: &State, l: &Lead) -> bool {
    let intake = state
        .stages
        .remote
        .data
        .as_ref()
        .and_then(|s| s.first())
        .map(|s| s.id);
    let sla = state
        .tenants
        .remote
        .data
        .iter()
        .flatten()
        .find(|t| t.id == l.tenant_id)
        .map(|t| SlaRule::new(t.settings.sla_hours, t.settings.business_hours.as_ref()));
    match (intake, sla) {
        (Some(intake), Some(sla)) => sla.is_breached(
            state.now,
            SlaFacts {
                created_at: l.created_at,
                in_intake: l.stage_id == intake,
                is_spam: l.is_spam,
                is_duplicate: l.duplicate_of.is_some(),
            },
        ),
        _ => false,
    }
}

fn table(frame: &mut Frame, area: Rect, state: &State) {
    let name = state
        .tenant
        .as_ref()
        .map(|t| t.name.as_str())
        .unwrap_or("—");
    let rows = state.leads.rows();
    let more = if state.leads.view.next_cursor.is_some() {
        "+"
    } else {
        ""
    };
    let mut title = format!("Leads · {name} ({}{more})", rows.len());
    if !state.leads.view.query.is_empty() {
        title.push_str(&format!(" /{}", state.leads.view.query));
    }
    let filters = filter_words(state);
    if !filters.is_empty() {
        title.push_str(&format!(" [{}]", filters.join(" · ")));
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&state.leads.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        let text = if !state.leads.view.query.is_empty() {
            "No lead matches the search (Esc clears it)."
        } else if !state.leads.view.filters.is_empty() {
            "No lead matches the filters (f changes them, Esc clears them)."
        } else {
            "No leads yet (c adds one)."
        };
        return message(frame, area, block, text);
    }
    let body: Vec<Row> = rows
        .iter()
        .map(|l| {
            let contact = l.email.as_deref().or(l.phone.as_deref()).unwrap_or("");
            let stage = state.stages.name(l.stage_id).unwrap_or("?");
            let mark = if breached(state, l) {
                Span::styled("!", theme::bad())
            } else if l.is_test {
                // An ad platform's test lead (stored like spam, kept out of every count).
                Span::styled("t", theme::dim())
            } else if l.is_spam {
                Span::styled("s", theme::dim())
            } else {
                Span::raw(" ")
            };
            Row::new(vec![
                Cell::from(mark),
                Cell::from(Span::styled(
                    l.created_at.format("%m-%d %H:%M").to_string(),
                    theme::dim(),
                )),
                Cell::from(l.name.clone().unwrap_or_default()),
                Cell::from(contact.to_string()),
                Cell::from(stage.to_string()),
                Cell::from(l.source.as_str()),
            ])
        })
        .collect();
    let narrow = area.width < 90;
    let mut table = Table::new(
        body,
        [
            Constraint::Length(1),
            Constraint::Length(11),
            Constraint::Fill(3),
            Constraint::Fill(if narrow { 3 } else { 4 }),
            Constraint::Fill(2),
            Constraint::Length(7),
        ],
    )
    .header(
        Row::new(vec![
            "",
            "CREATED",
            "NAME",
            "EMAIL / PHONE",
            "STAGE",
            "SOURCE",
        ])
        .style(theme::header_row()),
    )
    .row_highlight_style(theme::selected())
    .block(block);
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(state.leads.view.list.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}

fn detail(frame: &mut Frame, area: Rect, state: &State) {
    let Some(lead) = state.leads.selected() else {
        return message(
            frame,
            area,
            frame_block("Lead".into(), state),
            "No lead selected.",
        );
    };
    pane(frame, area, state, lead, &state.leads.detail, &|id| {
        state.stages.name(id)
    });
}

/// Who the lead is assigned to: the user's name and e-mail from the detail, else the id
/// from the row (until the detail arrives), else `—`.
fn assignee_text(lead: &Lead, detail: Option<&LeadDetail>) -> String {
    let Some(id) = lead.assigned_to else {
        return "—".into();
    };
    match detail
        .and_then(|d| d.assignee.as_ref())
        .filter(|a| a.id == id)
    {
        Some(a) if a.active => crate::widgets::printable(&format!("{} <{}>", a.name, a.email)),
        Some(a) => crate::widgets::printable(&format!("{} <{}> (deactivated)", a.name, a.email)),
        None => id.to_string(),
    }
}

/// One lead's pane: its fields, message, notes and stage history. `detail` is the fetch of
/// its history (the row alone is enough for the fields); `stage_name` names its client's
/// stages. The SLA screen draws an open breach with it too.
pub(crate) fn pane<'a>(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    lead: &Lead,
    detail: &Remote<LeadDetail>,
    stage_name: &dyn Fn(Uuid) -> Option<&'a str>,
) {
    let title = format!(
        "Lead · {}",
        clip(
            &super::display_name(lead),
            area.width.saturating_sub(12) as usize
        )
    );
    let block = frame_block(title, state).padding(Padding::horizontal(1));
    // The list row is enough for the fields; the history needs the detail call.
    let d = detail.data.as_ref().filter(|d| d.lead.id == lead.id);
    let lead = d.map(|d| &d.lead).unwrap_or(lead);
    let field = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<11}"), theme::dim()),
            Span::raw(v),
        ])
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let mut lines = vec![
        field("email", opt(&lead.email)),
        field("phone", opt(&lead.phone)),
        field(
            "stage",
            stage_name(lead.stage_id).unwrap_or("?").to_string(),
        ),
        field(
            "source",
            if lead.is_test {
                format!("{} (test lead)", lead.source.as_str())
            } else {
                lead.source.as_str().to_string()
            },
        ),
        field(
            "created",
            format!(
                "{} ({})",
                lead.created_at.format("%Y-%m-%d %H:%M"),
                ago(state.now, lead.created_at)
            ),
        ),
        field(
            "contacted",
            lead.first_contacted_at
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "not yet".into()),
        ),
        field("assigned", assignee_text(lead, d)),
    ];
    if let Some(c) = &lead.company {
        lines.push(field("company", c.clone()));
    }
    if let Some(u) = &lead.utm_campaign {
        lines.push(field("campaign", u.clone()));
    }
    match d.map(|d| d.in_breach) {
        Some(true) => lines.push(Line::from(Span::styled("● SLA breached", theme::bad()))),
        _ if breached(state, lead) => {
            lines.push(Line::from(Span::styled("● SLA breached", theme::bad())))
        }
        _ => {}
    }
    if lead.is_spam {
        lines.push(field("spam", opt(&lead.spam_reason)));
    }
    if let Some(m) = &lead.message {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled("Message", theme::header_row())));
        lines.push(Line::raw(m.clone()));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        "Timeline (newest first; n adds a note)",
        theme::header_row(),
    )));
    lines.extend(timeline(lead, d, detail, stage_name));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

/// The filters in force, in words, for the table's title.
fn filter_words(state: &State) -> Vec<String> {
    let f = &state.leads.view.filters;
    let mut out = Vec::new();
    if let Some(s) = f.stage {
        out.push(format!("stage {}", state.stages.name(s).unwrap_or("?")));
    }
    if let Some(s) = f.source {
        out.push(format!("source {}", s.as_str()));
    }
    match f.breached {
        Some(true) => out.push("in breach".into()),
        Some(false) => out.push("not in breach".into()),
        None => {}
    }
    if f.spam != SpamFilter::Hide {
        out.push(format!("spam {}", super::spam_word(f.spam)));
    }
    if let Some(d) = f.from {
        out.push(format!("from {d}"));
    }
    if let Some(d) = f.to {
        out.push(format!("to {d}"));
    }
    out
}

/// One entry of a lead's timeline.
enum Entry<'a> {
    Note(&'a Note),
    Move(&'a StageMove),
}

/// Notes and stage moves together, newest first, each with its time and who; a note's
/// text below its heading, line by line (tabs as spaces, no carriage returns).
fn timeline<'a, 's>(
    lead: &'a Lead,
    d: Option<&'a LeadDetail>,
    detail: &Remote<LeadDetail>,
    stage_name: &dyn Fn(Uuid) -> Option<&'s str>,
) -> Vec<Line<'a>> {
    let mut entries: Vec<(DateTime<Utc>, Entry)> =
        lead.notes.iter().map(|n| (n.at, Entry::Note(n))).collect();
    if let Some(d) = d {
        entries.extend(d.history.iter().map(|m| (m.at, Entry::Move(m))));
    }
    // Stable: a note and a move at the same instant keep notes first, as written.
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut lines = Vec::new();
    for (at, e) in &entries {
        let when = Span::styled(at.format("%m-%d %H:%M ").to_string(), theme::dim());
        match e {
            Entry::Note(n) => {
                lines.push(Line::from(vec![
                    when,
                    Span::styled("note", theme::header_row()),
                    Span::styled(format!(" · {}", n.author), theme::dim()),
                ]));
                for l in n.text.lines() {
                    let l = l.replace('\t', "    ").replace('\r', "");
                    lines.push(Line::raw(format!("  {l}")));
                }
            }
            Entry::Move(m) => {
                let from = m.from_stage.and_then(stage_name).unwrap_or("—");
                let to = stage_name(m.to_stage).unwrap_or("?");
                lines.push(Line::from(vec![
                    when,
                    Span::raw(format!("{from} → {to}")),
                    Span::styled(format!(" · {}", actor_name(&m.by)), theme::dim()),
                ]));
            }
        }
    }
    match d {
        None if detail.loading() => lines.push(Line::from(Span::styled(
            "Loading stage moves…",
            theme::dim(),
        ))),
        None => {
            if let Some(e) = &detail.error {
                lines.push(Line::from(Span::styled(e.clone(), theme::dim())));
            }
        }
        Some(_) if entries.is_empty() => lines.push(Line::from(Span::styled(
            "nothing yet: no notes, no moves",
            theme::dim(),
        ))),
        Some(_) => {}
    }
    lines
}
