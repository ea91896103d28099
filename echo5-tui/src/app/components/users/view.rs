//! Team and Users: one row per user (e-mail, name, role, permissions, active, last login).
//! Names and addresses are typed by people, so they are drawn through `printable`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table, TableState};

use super::{PERMISSIONS, held};
use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{ago, clip, message, printable};

/// The permissions as four letters, `-` for one not held: `VEDS` is everything.
fn perms(u: &echo5_core::users::User) -> String {
    PERMISSIONS
        .iter()
        .zip(['V', 'E', 'D', 'S'])
        .map(|(p, c)| if held(u, *p) { c } else { '-' })
        .collect()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, team: bool) {
    let users = if team {
        &state.team
    } else {
        &state.platform_users
    };
    let rows = users.filtered();
    let mut title = if team {
        let name = state
            .tenant
            .as_ref()
            .map(|t| t.name.as_str())
            .unwrap_or("—");
        format!("Team · {} ({} users)", printable(name), rows.len())
    } else {
        format!("Platform users ({})", rows.len())
    };
    if !users.view.filter.is_empty() {
        title = format!("{title} /{}", printable(&users.view.filter));
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&users.remote, "") {
        return message(frame, area, block, &text);
    }
    if rows.is_empty() {
        let text = if users.view.filter.is_empty() {
            "No users yet. Press a to invite one."
        } else {
            "No user matches the filter (Esc clears it)."
        };
        return message(frame, area, block, text);
    }
    let narrow = area.width < 100;
    let body: Vec<Row> = rows
        .iter()
        .map(|u| {
            let active = if u.active {
                Span::styled("active", theme::ok())
            } else {
                Span::styled("off", theme::bad())
            };
            let last = u
                .last_login_at
                .map(|t| ago(state.now, t))
                .unwrap_or_else(|| "never".into());
            let mut cells = vec![
                Cell::from(format!(" {}", clip(&printable(&u.email), 40))),
                Cell::from(clip(&printable(&u.name), 30)),
                Cell::from(u.role.as_str()),
            ];
            if !narrow {
                cells.push(Cell::from(perms(u)));
            }
            cells.extend([Cell::from(active), Cell::from(last)]);
            Row::new(cells)
        })
        .collect();
    let (widths, header) = if narrow {
        (
            vec![
                Constraint::Fill(3),
                Constraint::Fill(2),
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(8),
            ],
            vec![" EMAIL", "NAME", "ROLE", "ACTIVE", "LOGIN"],
        )
    } else {
        (
            vec![
                Constraint::Fill(3),
                Constraint::Fill(2),
                Constraint::Length(8),
                Constraint::Length(6),
                Constraint::Length(7),
                Constraint::Length(11),
            ],
            vec![" EMAIL", "NAME", "ROLE", "PERMS", "ACTIVE", "LAST LOGIN"],
        )
    };
    let mut table = Table::new(body, widths)
        .header(Row::new(header).style(theme::header_row()))
        .row_highlight_style(theme::selected())
        .block(block);
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(users.view.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}
