//! Overlays drawn over the body: help, palette, forms, the move-to chooser, confirmations.

use ratatui::Frame;
use ratatui::layout::{Constraint, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph, Wrap};

use crate::app::SecretOrigin;
use crate::app::State;
use crate::app::bindings;
use crate::app::overlay::{
    Form, MoveTo, Overlay, Palette, PickStage, PickTenants, ShownKey, TypeToConfirm, commands,
    completions,
};
use crate::theme;

pub fn draw(frame: &mut Frame, body: Rect, state: &State) {
    match &state.overlay {
        None | Some(Overlay::Filter(_)) => {}
        Some(Overlay::Help { scroll }) => help(frame, body, *scroll),
        Some(Overlay::Palette(p)) => palette(frame, body, state, p),
        Some(Overlay::Form(f)) => form(frame, body, f),
        Some(Overlay::MoveTo(m)) => move_to(frame, body, m),
        Some(Overlay::PickStage(p)) => pick_stage(frame, body, p),
        Some(Overlay::PickTenants(p)) => pick_tenants(frame, body, p),
        Some(Overlay::ShowKey(queue)) => {
            if let Some(first) = queue.first() {
                show_key(frame, body, first, queue.len() - 1);
            }
        }
        Some(Overlay::TypeToConfirm(c)) => type_to_confirm(frame, body, c),
        Some(Overlay::Confirm(c)) => {
            let area = centered(body, 60, 7);
            frame.render_widget(Clear, area);
            let text = vec![
                Line::raw(c.message.clone()),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("y", theme::key()),
                    Span::raw(" yes   "),
                    Span::styled("n", theme::key()),
                    Span::raw(" no"),
                ]),
            ];
            frame.render_widget(
                Paragraph::new(text)
                    .wrap(Wrap { trim: true })
                    .block(dialog_block(&c.title).border_style(theme::bad())),
                area,
            );
        }
    }
}

/// A destructive change's modal: what is erased (wrapped), then the word to type.
fn type_to_confirm(frame: &mut Frame, body: Rect, c: &TypeToConfirm) {
    let w = 64u16.min(body.width.saturating_sub(2));
    let text_w = w.saturating_sub(2).max(1) as usize;
    // Wrapped lines of the message, counted the way `Wrap` breaks them (roughly: by words).
    let mut msg_lines = 1usize;
    let mut col = 0usize;
    for word in c.message.split_whitespace() {
        let n = word.chars().count();
        if col > 0 && col + 1 + n > text_w {
            msg_lines += 1;
            col = n;
        } else {
            col += n + usize::from(col > 0);
        }
    }
    let h = msg_lines as u16 + 5 + u16::from(c.error.is_some());
    let area = centered(body, w, h);
    frame.render_widget(Clear, area);
    let block = dialog_block(&c.title).border_style(theme::bad());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = vec![
        Line::raw(c.message.clone()),
        Line::raw(""),
        Line::from(vec![
            Span::styled("Type ", theme::dim()),
            Span::styled(c.expect.clone(), theme::key()),
            Span::styled(" and Enter to delete, Esc to cancel", theme::dim()),
        ]),
        Line::from(vec![
            Span::styled("› ", theme::key()),
            Span::raw(c.input.text().to_string()),
        ]),
    ];
    if let Some(e) = &c.error {
        lines.push(Line::from(Span::styled(e.clone(), theme::bad())));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    let y = inner.y + msg_lines as u16 + 2;
    if y < inner.bottom() {
        let x = inner.x + 2 + c.input.cursor() as u16;
        frame.set_cursor_position(Position::new(x.min(inner.right().saturating_sub(1)), y));
    }
}

fn dialog_block(title: &str) -> Block<'static> {
    Block::bordered().title(Span::styled(format!(" {title} "), theme::title()))
}

/// A `w`×`h` box centred in `area`, shrunk to fit small terminals.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    area.centered(
        Constraint::Length(w.min(area.width.saturating_sub(2))),
        Constraint::Length(h.min(area.height)),
    )
}

fn help(frame: &mut Frame, body: Rect, scroll: u16) {
    let area = centered(body, 72, body.height);
    frame.render_widget(Clear, area);
    let mut lines = Vec::new();
    for (title, rows) in bindings::help_sections() {
        lines.push(Line::from(Span::styled(title, theme::header_row())));
        for (keys, desc) in rows {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<14}"), theme::key()),
                Span::raw(desc),
            ]));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::from(Span::styled(
        "Commands (:)",
        theme::header_row(),
    )));
    for (cmd, desc) in commands() {
        lines.push(Line::from(vec![
            Span::styled(format!("  {cmd:<14}"), theme::key()),
            Span::raw(desc),
        ]));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(dialog_block("Help")),
        area,
    );
}

fn palette(frame: &mut Frame, body: Rect, state: &State, p: &Palette) {
    let tenants = state.tenants.remote.data.as_deref().unwrap_or_default();
    let options = completions(p.input.text(), tenants);
    let shown = options.len().min(8) as u16;
    let w = 60.min(body.width.saturating_sub(2));
    let area = Rect::new(
        body.x + (body.width - w) / 2,
        body.y + 1,
        w,
        (3 + shown).min(body.height),
    );
    frame.render_widget(Clear, area);
    let block = dialog_block("Command");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let input_line = Rect { height: 1, ..inner };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(": ", theme::key()),
            Span::raw(p.input.text().to_string()),
        ])),
        input_line,
    );
    frame.set_cursor_position(Position::new(
        inner.x + 2 + p.input.cursor() as u16,
        inner.y,
    ));
    if shown == 0 {
        return;
    }
    let items: Vec<ListItem> = options
        .iter()
        .map(|o| {
            let desc = commands()
                .into_iter()
                .find(|(c, _)| c == o)
                .map(|(_, d)| d)
                .unwrap_or("");
            ListItem::new(Line::from(vec![
                Span::raw(format!("  {o:<22}")),
                Span::styled(desc, theme::dim()),
            ]))
        })
        .collect();
    let list_area = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let mut ls = ListState::default().with_selected(Some(p.selected.min(options.len() - 1)));
    frame.render_stateful_widget(
        List::new(items).highlight_style(theme::selected()),
        list_area,
        &mut ls,
    );
}

fn form(frame: &mut Frame, body: Rect, f: &Form) {
    let h = f.fields.len() as u16 * 2 + 2 + u16::from(f.error.is_some()) * 2;
    let area = centered(body, 60, h);
    frame.render_widget(Clear, area);
    let block = dialog_block(&f.title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    let mut cursor = None;
    for (i, field) in f.fields.iter().enumerate() {
        let focused = i == f.focus;
        lines.push(Line::from(Span::styled(
            field.label,
            if focused { theme::key() } else { theme::dim() },
        )));
        let shown = if field.secret {
            "•".repeat(field.input.text().chars().count())
        } else {
            field.input.text().to_string()
        };
        if focused {
            cursor = Some((
                inner.x + 2 + field.input.cursor() as u16,
                inner.y + lines.len() as u16,
            ));
        }
        lines.push(Line::from(vec![
            Span::styled("› ", theme::key()),
            Span::raw(shown),
        ]));
    }
    if let Some(e) = &f.error {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(e.clone(), theme::bad())));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    if let Some((x, y)) = cursor
        && y < inner.bottom()
    {
        frame.set_cursor_position(Position::new(x.min(inner.right().saturating_sub(1)), y));
    }
}

fn move_to(frame: &mut Frame, body: Rect, m: &MoveTo) {
    let h = m.choices.len() as u16 + 4;
    let area = centered(body, 56, h);
    frame.render_widget(Clear, area);
    let block = dialog_block(&format!("Delete \"{}\"", m.stage_name));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(
        Paragraph::new(format!("Move its {} lead(s) to:", m.lead_count)),
        Rect { height: 1, ..inner },
    );
    let items: Vec<ListItem> = m
        .choices
        .iter()
        .map(|(_, n)| ListItem::new(format!("  {n}")))
        .collect();
    let mut ls = ListState::default().with_selected(Some(m.selected));
    frame.render_stateful_widget(
        List::new(items).highlight_style(theme::selected()),
        Rect {
            y: inner.y + 2,
            height: inner.height.saturating_sub(2),
            ..inner
        },
        &mut ls,
    );
}

fn pick_stage(frame: &mut Frame, body: Rect, p: &PickStage) {
    let h = p.choices.len() as u16 + 4;
    let area = centered(body, 48, h);
    frame.render_widget(Clear, area);
    let block = dialog_block(&format!("Move \"{}\"", p.lead_name));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new("To stage:"), Rect { height: 1, ..inner });
    let items: Vec<ListItem> = p
        .choices
        .iter()
        .map(|(_, n)| ListItem::new(format!("  {n}")))
        .collect();
    let mut ls = ListState::default().with_selected(Some(p.selected));
    frame.render_stateful_widget(
        List::new(items).highlight_style(theme::selected()),
        Rect {
            y: inner.y + 2,
            height: inner.height.saturating_sub(2),
            ..inner
        },
        &mut ls,
    );
}

fn pick_tenants(frame: &mut Frame, body: Rect, p: &PickTenants) {
    let h = p.choices.len() as u16 + 4;
    let area = centered(body, 52, h);
    frame.render_widget(Clear, area);
    let block = dialog_block("All leads · tenants");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let ticked = p.checked.iter().filter(|c| **c).count();
    let head = if ticked == 0 {
        "None ticked: every tenant is listed.".to_string()
    } else {
        format!("{ticked} ticked: only these are listed.")
    };
    frame.render_widget(
        Paragraph::new(Span::styled(head, theme::dim())),
        Rect { height: 1, ..inner },
    );
    let items: Vec<ListItem> = p
        .choices
        .iter()
        .zip(&p.checked)
        .map(|((slug, name), on)| {
            ListItem::new(Line::from(vec![
                Span::raw(if *on { "  [x] " } else { "  [ ] " }),
                Span::raw(name.clone()),
                Span::styled(format!("  {slug}"), theme::dim()),
            ]))
        })
        .collect();
    let mut ls = ListState::default().with_selected(Some(p.selected));
    frame.render_stateful_widget(
        List::new(items).highlight_style(theme::selected()),
        Rect {
            y: inner.y + 2,
            height: inner.height.saturating_sub(2),
            ..inner
        },
        &mut ls,
    );
}

/// The one place a full API key is drawn. It sits alone on its line, unwrapped, so it can
/// be selected and copied with the mouse (capture is off by default).
fn show_key(frame: &mut Frame, body: Rect, k: &ShownKey, more: usize) {
    let title = match k.origin {
        SecretOrigin::Created => format!("New API key · {}", k.tenant_name),
        SecretOrigin::Rotated { .. } => format!("Rotated API key · {}", k.tenant_name),
        SecretOrigin::Revealed => format!("API key · {}", k.tenant_name),
    };
    let first = match k.origin {
        SecretOrigin::Revealed => "Revealed (the reveal is in the audit log). Copy it now:",
        _ => "Copy this key now: it is shown only this once.",
    };
    let mut lines = vec![
        Line::raw(first),
        Line::raw(""),
        Line::from(Span::styled(
            format!("  {}", k.secret.expose()),
            theme::key(),
        )),
        Line::raw(""),
        Line::from(vec![
            Span::styled("label ", theme::dim()),
            Span::raw(k.key.label.clone()),
            Span::styled("  prefix ", theme::dim()),
            Span::raw(k.key.prefix.clone()),
        ]),
    ];
    if let SecretOrigin::Rotated { old_key } = &k.origin {
        let until = old_key
            .expires_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "now".into());
        lines.push(Line::from(vec![
            Span::styled("old key ", theme::dim()),
            Span::raw(format!("{} works until {until}", old_key.prefix)),
        ]));
    }
    lines.push(Line::raw(
        "Sites send it as X-API-Key (or in the ingest URL).",
    ));
    lines.push(Line::raw(""));
    let mut last = vec![
        Span::styled("Enter/Esc", theme::key()),
        Span::raw(" dismiss"),
    ];
    if more > 0 {
        last.push(Span::styled(
            format!("   {more} more key(s) after this"),
            theme::warn(),
        ));
    }
    lines.push(Line::from(last));
    let area = centered(body, 64, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(dialog_block(&title).border_style(theme::warn())),
        area,
    );
}
