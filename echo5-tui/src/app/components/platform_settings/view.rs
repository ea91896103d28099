//! Platform: the settings fields, then the default pipeline, one cursor over both. A
//! refused change's reason stands beside the field it is about.

use echo5_core::stages::StageKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use super::{ErrorAt, PlatformRow};
use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::app::effect::PlatformField;
use crate::theme;
use crate::widgets::message;
use echo5_core::platform_settings::PlatformSettings;

fn explain(row: PlatformRow) -> &'static str {
    match row {
        PlatformRow::Field(PlatformField::SlaHours) => {
            "SLA hours a new tenant starts with (1-720). Existing tenants keep theirs."
        }
        PlatformRow::Field(PlatformField::GraceHours) => {
            "How long a rotated API key keeps working when a rotation names no grace (0-720)."
        }
        PlatformRow::Field(PlatformField::SpamKeywords) => {
            "Spam keywords a new tenant starts with; each tenant edits its own afterwards."
        }
        PlatformRow::Field(PlatformField::HoneypotFields) => {
            "Form field names that only bots fill in; a submission filling one is stored as spam."
        }
        PlatformRow::Field(PlatformField::OperatorName) => {
            "Who runs this platform. Empty clears it (x)."
        }
        PlatformRow::Field(PlatformField::OperatorEmail) => {
            "How to reach whoever runs this platform. Empty clears it (x)."
        }
        PlatformRow::Stage(_) => {
            "The pipeline new tenants start with. a add, r rename, d delete, t kind, Ctrl-J/K move."
        }
    }
}

fn list_value(items: &[String]) -> Span<'static> {
    if items.is_empty() {
        Span::styled("none", theme::dim())
    } else {
        Span::raw(format!("{} ({})", items.join(", "), items.len()))
    }
}

fn field_value(p: &PlatformSettings, f: PlatformField) -> Span<'static> {
    let opt = |v: &Option<String>| match v {
        Some(v) => Span::raw(v.clone()),
        None => Span::styled("not set", theme::dim()),
    };
    match f {
        PlatformField::SlaHours => Span::raw(format!("{} h", p.default_sla_hours)),
        PlatformField::GraceHours => Span::raw(format!("{} h", p.default_grace_hours)),
        PlatformField::SpamKeywords => list_value(&p.default_spam_keywords),
        PlatformField::HoneypotFields => list_value(&p.honeypot_fields),
        PlatformField::OperatorName => opt(&p.operator_name),
        PlatformField::OperatorEmail => opt(&p.operator_email),
    }
}

fn error_span(e: Option<&str>) -> Vec<Span<'static>> {
    match e {
        Some(e) => vec![Span::styled(format!("  ✗ {e}"), theme::bad())],
        None => Vec::new(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let block = frame_block("Platform · defaults for new tenants".into(), state);
    if let Some(text) = empty_state(&state.platform_settings.remote, "") {
        return message(frame, area, block, &text);
    }
    let Some(p) = state.platform_settings.remote.data.as_ref() else {
        return;
    };
    let view = &state.platform_settings.view;
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [table_area, help_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(2)]).areas(inner);

    let mut rows: Vec<Row> = PlatformField::ALL
        .iter()
        .map(|f| {
            let mut value = vec![field_value(p, *f)];
            value.extend(error_span(view.error(ErrorAt::Field(*f))));
            Row::new(vec![
                Cell::from(format!(" {}", f.label())),
                Cell::from(Line::from(value)),
            ])
        })
        .collect();
    rows.push(Row::new(vec![Cell::from("")]));
    let mut heading = vec![Span::styled(
        format!("{} stages", p.default_stages.len()),
        theme::dim(),
    )];
    heading.extend(error_span(view.error(ErrorAt::Stages)));
    rows.push(
        Row::new(vec![
            Cell::from(Span::styled(" Default pipeline", theme::header_row())),
            Cell::from(Line::from(heading)),
        ])
        .style(theme::title()),
    );
    for (i, s) in p.default_stages.iter().enumerate() {
        let kind = match s.kind {
            StageKind::Open => Span::styled("open", theme::ok()),
            StageKind::Won => Span::styled("won ", theme::key()),
            StageKind::Lost => Span::styled("lost", theme::bad()),
        };
        let mut value = vec![kind];
        if i == 0 {
            value.push(Span::styled("  intake: new leads land here", theme::dim()));
        }
        value.extend(error_span(view.error(ErrorAt::Stage(i))));
        rows.push(Row::new(vec![
            Cell::from(format!("  {:>2} {}", i + 1, s.name)),
            Cell::from(Line::from(value)),
        ]));
    }
    let fields = PlatformField::ALL.len();
    // Two rows (a gap and the pipeline's heading) sit between the fields and the stages.
    let table_index = if view.selected < fields {
        view.selected
    } else {
        view.selected + 2
    };
    let mut table = Table::new(rows, [Constraint::Length(24), Constraint::Fill(1)])
        .header(Row::new(vec![" FIELD", "VALUE"]).style(theme::header_row()))
        .row_highlight_style(theme::selected());
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(table_index));
    frame.render_stateful_widget(table, table_area, &mut ts);
    if let Some(row) = state.platform_settings.row() {
        let help_area = Rect {
            x: help_area.x.saturating_add(1),
            width: help_area.width.saturating_sub(2),
            ..help_area
        };
        frame.render_widget(
            Paragraph::new(explain(row))
                .style(theme::dim())
                .wrap(Wrap { trim: true }),
            help_area,
        );
    }
}
