//! Overlays drawn over the body: help, palette, forms, the move-to chooser, confirmations.

use ratatui::Frame;
use ratatui::layout::{Constraint, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph, Wrap};

use crate::app::SecretOrigin;
use crate::app::State;
use crate::app::access;
use crate::app::bindings;
use crate::app::components::keys::IngestUrls;
use crate::app::components::webhooks::{event_choices, until_text};
use crate::app::overlay::{
    Field, Form, Login, MoveTo, Overlay, Palette, PickEvents, PickStage, PickTenants, PickUser,
    ShownInvite, ShownKey, ShownWebhookSecret, TypeToConfirm, UserPick,
};
use crate::theme;
use crate::widgets::{printable, wrap_words};
use echo5_core::logs::LogLine;

pub fn draw(frame: &mut Frame, body: Rect, state: &State) {
    match &state.overlay {
        None | Some(Overlay::Filter(_)) => {}
        Some(Overlay::Help { scroll }) => help(frame, body, state, *scroll),
        Some(Overlay::Login(l)) => login(frame, body, state, l),
        Some(Overlay::ShowInvite(i)) => show_invite(frame, body, i),
        Some(Overlay::PickUser(p)) => pick_user(frame, body, p),
        Some(Overlay::LogLine { line, scroll }) => log_line(frame, body, line, *scroll),
        Some(Overlay::Palette(p)) => palette(frame, body, state, p),
        Some(Overlay::Form(f)) => form(frame, body, f),
        Some(Overlay::MoveTo(m)) => move_to(frame, body, m),
        Some(Overlay::PickStage(p)) => pick_stage(frame, body, p),
        Some(Overlay::PickTenants(p)) => pick_tenants(frame, body, p),
        Some(Overlay::ShowKey(queue)) => {
            if let Some(first) = queue.first() {
                show_key(frame, body, &state.base_url, first, queue.len() - 1);
            }
        }
        Some(Overlay::TypeToConfirm(c)) => type_to_confirm(frame, body, c),
        Some(Overlay::PickEvents(p)) => pick_events(frame, body, p),
        Some(Overlay::ShowWebhookSecret(queue)) => {
            if let Some(first) = queue.first() {
                show_webhook_secret(frame, body, first, queue.len() - 1);
            }
        }
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

fn help(frame: &mut Frame, body: Rect, state: &State, scroll: u16) {
    let area = centered(body, 72, body.height);
    frame.render_widget(Clear, area);
    let mut lines = Vec::new();
    for (title, rows) in bindings::help_sections_for(state) {
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
    for (cmd, desc) in access::commands(state) {
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

/// A log line in full: its time, level and target, then the message wrapped to the box,
/// scrolled by j/k. The daemon escapes control characters; they are made harmless here too.
fn log_line(frame: &mut Frame, body: Rect, l: &LogLine, scroll: u16) {
    // The whole body: a long line needs every column it can get.
    let area = body;
    frame.render_widget(Clear, area);
    let block = dialog_block("Log line");
    let inner = block.inner(area);
    let width = usize::from(inner.width.max(1));
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                l.time.format("%Y-%m-%d %H:%M:%S%.3f UTC  ").to_string(),
                theme::dim(),
            ),
            Span::styled(printable(&l.level), theme::key()),
        ]),
        Line::from(Span::styled(printable(&l.target), theme::dim())),
        Line::raw(""),
    ];
    lines.extend(
        wrap_words(&printable(&l.message), width)
            .into_iter()
            .map(Line::raw),
    );
    // Never scrolled past the last line.
    let max = lines.len().saturating_sub(usize::from(inner.height));
    let scroll = scroll.min(u16::try_from(max).unwrap_or(u16::MAX));
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)).block(block), area);
}

fn palette(frame: &mut Frame, body: Rect, state: &State, p: &Palette) {
    let options = access::completions(state, p.input.text());
    let commands = access::commands(state);
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
    let (typed, col) = p.input.window(usize::from(inner.width.saturating_sub(2)));
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(": ", theme::key()),
            Span::raw(typed),
        ])),
        input_line,
    );
    frame.set_cursor_position(Position::new(inner.x + 2 + col as u16, inner.y));
    if shown == 0 {
        return;
    }
    let items: Vec<ListItem> = options
        .iter()
        .map(|o| {
            let desc = commands
                .iter()
                .find(|(c, _)| c == o)
                .map(|(_, d)| *d)
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

/// Rows a multi-line field (notes) shows; longer text scrolls to keep the cursor in view.
const MULTILINE_ROWS: usize = 5;

fn form(frame: &mut Frame, body: Rect, f: &Form) {
    let w = 60.min(body.width.saturating_sub(2));
    // Inside the borders, after the `› ` prompt.
    let text_w = usize::from(w.saturating_sub(4));
    let inner_w = usize::from(w.saturating_sub(2));
    let field_rows = |field: &Field| {
        if field.input.is_multiline() {
            MULTILINE_ROWS
        } else {
            1
        }
    };
    // A refusal is wrapped, never cut: the dialog grows to hold all of it.
    let error = f
        .error
        .as_deref()
        .map(|e| wrap_words(e, inner_w))
        .unwrap_or_default();
    let h = f.fields.iter().map(|x| 1 + field_rows(x)).sum::<usize>()
        + 2
        + if error.is_empty() { 0 } else { error.len() + 1 };
    let area = centered(body, w, u16::try_from(h).unwrap_or(u16::MAX));
    frame.render_widget(Clear, area);
    let block = dialog_block(&f.title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    let mut cursor = None;
    let prompt = |first: bool| Span::styled(if first { "› " } else { "  " }, theme::key());
    for (i, field) in f.fields.iter().enumerate() {
        let focused = i == f.focus;
        lines.push(Line::from(Span::styled(
            field.label,
            if focused { theme::key() } else { theme::dim() },
        )));
        if field.input.is_multiline() {
            let (rows, (row, col)) = field.input.rows(text_w);
            // The last rows when the text is longer than the box, so the cursor shows.
            let first = (row + 1).saturating_sub(MULTILINE_ROWS);
            if focused {
                cursor = Some((col, lines.len() + row - first));
            }
            for (n, r) in rows.iter().skip(first).take(MULTILINE_ROWS).enumerate() {
                lines.push(Line::from(vec![prompt(n == 0), Span::raw(r.clone())]));
            }
            for n in rows.len().saturating_sub(first)..MULTILINE_ROWS {
                lines.push(Line::from(prompt(n == 0)));
            }
            continue;
        }
        let (shown, col) = if field.secret {
            field.input.masked().window(text_w)
        } else {
            field.input.window(text_w)
        };
        if focused {
            cursor = Some((col, lines.len()));
        }
        lines.push(Line::from(vec![prompt(true), Span::raw(shown)]));
    }
    if !error.is_empty() {
        lines.push(Line::raw(""));
        lines.extend(
            error
                .into_iter()
                .map(|l| Line::from(Span::styled(l, theme::bad()))),
        );
    }
    frame.render_widget(Paragraph::new(lines), inner);
    if let Some((col, row)) = cursor {
        let (x, y) = (inner.x + 2 + col as u16, inner.y + row as u16);
        if y < inner.bottom() {
            frame.set_cursor_position(Position::new(x.min(inner.right().saturating_sub(1)), y));
        }
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

/// The login dialog: who, at which daemon, and the password as dots (never its characters).
fn login(frame: &mut Frame, body: Rect, state: &State, l: &Login) {
    let h = 8 + u16::from(l.reason.is_some()) + u16::from(l.error.is_some());
    let area = centered(body, 60, h);
    frame.render_widget(Clear, area);
    let block = dialog_block("Log in to Echo5");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text_w = usize::from(inner.width.saturating_sub(1)).max(1);
    let mut lines = Vec::new();
    if let Some(why) = &l.reason {
        lines.push(Line::from(Span::styled(
            clip_to(why, text_w),
            theme::warn(),
        )));
    }
    lines.extend([
        Line::from(vec![
            Span::styled("daemon    ", theme::dim()),
            Span::raw(clip_to(&state.base_url, text_w.saturating_sub(10))),
        ]),
        Line::from(vec![
            Span::styled("e-mail    ", theme::dim()),
            Span::raw(clip_to(&printable(&l.email), text_w.saturating_sub(10))),
        ]),
        Line::raw(""),
    ]);
    // One dot per character typed, at most the line's width.
    let dots = "•".repeat(l.password_chars().min(text_w.saturating_sub(12)));
    let pw_row = inner.y + lines.len() as u16;
    lines.push(Line::from(vec![
        Span::styled("password  ", theme::dim()),
        Span::styled("› ", theme::key()),
        Span::raw(dots.clone()),
    ]));
    lines.push(Line::raw(""));
    if let Some(e) = &l.error {
        lines.push(Line::from(Span::styled(
            clip_to(&printable(e), text_w),
            theme::bad(),
        )));
    }
    let status = if l.busy {
        Line::from(Span::styled("logging in…", theme::warn()))
    } else {
        Line::from(vec![
            Span::styled("Enter", theme::key()),
            Span::raw(" log in   "),
            Span::styled("^C", theme::key()),
            Span::raw(" quit"),
        ])
    };
    lines.push(status);
    frame.render_widget(Paragraph::new(lines), inner);
    if !l.busy && pw_row < inner.bottom() {
        let x = inner.x + 12 + dots.chars().count() as u16;
        frame.set_cursor_position(Position::new(
            x.min(inner.right().saturating_sub(1)),
            pw_row,
        ));
    }
}

fn clip_to(text: &str, width: usize) -> String {
    crate::widgets::clip(text, width.max(1))
}

/// A new user's invitation link, with what it is for and that it is not shown again.
fn show_invite(frame: &mut Frame, body: Rect, i: &ShownInvite) {
    let area = centered(body, 76, 10);
    frame.render_widget(Clear, area);
    let lines = vec![
        Line::raw(format!(
            "Invitation for {}. This link is shown only this once:",
            printable(&i.email)
        )),
        Line::raw(""),
        Line::from(Span::styled(
            format!("  {}", printable(i.url.expose())),
            theme::key(),
        )),
        Line::raw(""),
        Line::from(Span::styled(
            "Copy it now and send it to them (valid 72 h, single use).",
            theme::dim(),
        )),
        Line::raw(""),
        Line::from(vec![
            Span::styled("Enter/Esc", theme::key()),
            Span::raw(" dismiss"),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(dialog_block("Invitation link")),
        area,
    );
}

fn pick_user(frame: &mut Frame, body: Rect, p: &PickUser) {
    // While the assignee list loads (or when it failed) one line says so.
    let status = match &p.pick {
        UserPick::Assignee(a) if a.waiting.is_some() => Some(("loading…".to_string(), false)),
        UserPick::Assignee(a) => a
            .error
            .as_ref()
            .map(|e| (format!("users not listed: {}", printable(e)), true)),
        _ => None,
    };
    let rows = p.choices.len() + usize::from(status.is_some());
    let h = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(4);
    let w = if matches!(p.pick, UserPick::Assignee(_)) {
        64
    } else {
        56
    };
    let area = centered(body, w, h);
    frame.render_widget(Clear, area);
    let block = dialog_block(&printable(&p.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let head = match p.pick {
        UserPick::Role { .. } => "New role:",
        UserPick::Permission { .. } => "Enter turns the chosen one on or off:",
        UserPick::Assignee(_) => "Assign to:",
    };
    frame.render_widget(Paragraph::new(head), Rect { height: 1, ..inner });
    let mut items: Vec<ListItem> = p
        .choices
        .iter()
        .map(|c| ListItem::new(format!("  {c}")))
        .collect();
    if let Some((text, error)) = status {
        let style = if error { theme::bad() } else { theme::dim() };
        items.push(ListItem::new(Span::styled(format!("  {text}"), style)));
    }
    let selected = (!p.choices.is_empty()).then_some(p.selected);
    let mut ls = ListState::default().with_selected(selected);
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
/// be selected and copied with the mouse (capture is off by default); so do the ingest URLs
/// a site's form plugin is given.
fn show_key(frame: &mut Frame, body: Rect, base_url: &str, k: &ShownKey, more: usize) {
    let title = match k.origin {
        SecretOrigin::Created => format!("New API key · {}", k.tenant_name),
        SecretOrigin::Rotated { .. } => format!("Rotated API key · {}", k.tenant_name),
        SecretOrigin::Revealed => format!("API key · {}", k.tenant_name),
    };
    // The daemon keeps every key sealed so an admin can reveal it again: saying "only
    // this once" would send operators rotating keys they could simply look up.
    let first = match k.origin {
        SecretOrigin::Revealed => "Revealed (the reveal is in the audit log). Copy it now:",
        _ => "Copy this key now; v on the Keys screen reveals it again (audited).",
    };
    let urls = IngestUrls::new(base_url, k.secret.expose());
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
    lines.extend([
        Line::raw(""),
        Line::from(Span::styled(
            "A site's form posts leads to (key in the X-API-Key header):",
            theme::dim(),
        )),
        Line::from(Span::styled(
            format!("  {}", urls.with_header),
            theme::key(),
        )),
        Line::from(Span::styled(
            "or, for plugins that cannot set a header (key in the URL):",
            theme::dim(),
        )),
        Line::from(Span::styled(format!("  {}", urls.key_in_url), theme::key())),
        Line::raw(""),
    ]);
    shown_once(frame, body, &title, lines, more, "key(s)");
}

/// The events of a webhook endpoint: "all events", then each type, ticked with Space.
fn pick_events(frame: &mut Frame, body: Rect, p: &PickEvents) {
    let choices = event_choices();
    let rows = choices.len() + usize::from(p.error.is_some());
    let h = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(5);
    let area = centered(body, 52, h);
    frame.render_widget(Clear, area);
    let block = dialog_block(&p.title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("Space", theme::key()),
            Span::styled(" ticks, ", theme::dim()),
            Span::styled("Enter", theme::key()),
            Span::styled(" saves, ", theme::dim()),
            Span::styled("Esc", theme::key()),
            Span::styled(" cancels", theme::dim()),
        ])),
        Rect { height: 1, ..inner },
    );
    let mut items: Vec<ListItem> = choices
        .iter()
        .zip(&p.checked)
        .map(|(c, on)| {
            let name = if *c == "*" {
                "* all events (and types added later)".to_string()
            } else {
                (*c).to_string()
            };
            ListItem::new(Line::from(vec![
                Span::raw(if *on { "  [x] " } else { "  [ ] " }),
                Span::raw(name),
            ]))
        })
        .collect();
    if let Some(e) = &p.error {
        items.push(ListItem::new(Span::styled(format!("  {e}"), theme::bad())));
    }
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

/// The one place a webhook signing secret is drawn, alone on its line so it can be
/// selected and copied. The daemon keeps only what it needs to sign: it is never shown
/// again, and the modal says so.
fn show_webhook_secret(frame: &mut Frame, body: Rect, s: &ShownWebhookSecret, more: usize) {
    let title = if s.rotated {
        "New signing secret (rotated)"
    } else {
        "New webhook endpoint"
    };
    let mut lines = vec![
        Line::from(Span::styled(
            "Copy this signing secret now: it will not be shown again.",
            theme::warn(),
        )),
        Line::raw(""),
        Line::from(Span::styled(
            format!("  {}", s.secret.expose()),
            theme::key(),
        )),
        Line::raw(""),
        Line::from(vec![
            Span::styled("endpoint ", theme::dim()),
            Span::raw(clip_to(&printable(&s.url), 70)),
        ]),
        Line::from(Span::styled(
            "The receiver checks webhook-signature with it (Standard Webhooks).",
            theme::dim(),
        )),
    ];
    if s.rotated {
        lines.push(Line::from(Span::styled(
            format!(
                "The old secret signs too until {}.",
                until_text(s.previous_until)
            ),
            theme::dim(),
        )));
    }
    lines.push(Line::raw(""));
    shown_once(frame, body, title, lines, more, "secret(s)");
}

/// The end of a dialog that shows something once (a new key, a webhook secret): the
/// dismiss line with how many more wait, and a box wide enough for the longest line, so a
/// key or URL is never wrapped or cut when copied.
fn shown_once(
    frame: &mut Frame,
    body: Rect,
    title: &str,
    mut lines: Vec<Line<'static>>,
    more: usize,
    what: &str,
) {
    let mut last = vec![
        Span::styled("Enter/Esc", theme::key()),
        Span::raw(" dismiss"),
    ];
    if more > 0 {
        last.push(Span::styled(
            format!("   {more} more {what} after this"),
            theme::warn(),
        ));
    }
    lines.push(Line::from(last));
    let widest = lines.iter().map(Line::width).max().unwrap_or(0) as u16;
    let area = centered(
        body,
        widest.saturating_add(2).max(64),
        lines.len() as u16 + 2,
    );
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(dialog_block(title).border_style(theme::warn())),
        area,
    );
}
