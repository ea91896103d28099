//! One line of key hints for what has the keys now, read from the keymap. While the filter
//! line is open, the footer is the filter prompt.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::State;
use crate::app::bindings::{self, Ctx};
use crate::app::overlay::Overlay;
use crate::theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let hints: Vec<(String, &str)> = match &state.overlay {
        Some(Overlay::Filter(f)) => {
            let help = if f.screen.component().server_search() {
                "   Enter search  Esc clear"
            } else {
                "   Enter keep  Esc clear"
            };
            // The search scrolls sideways when long; the hint gives way first.
            let room = usize::from(area.width.saturating_sub(1));
            let help = if f.input.text().chars().count() + help.chars().count() < room {
                help
            } else {
                ""
            };
            let (shown, col) = f.input.window(room - help.chars().count().min(room));
            let line = Line::from(vec![
                Span::styled(format!("/{shown}"), theme::key()),
                Span::styled(help, theme::dim()),
            ]);
            frame.render_widget(Paragraph::new(line), area);
            let x = area.x + 1 + col as u16;
            frame.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
            return;
        }
        Some(Overlay::Palette(_)) => vec![
            ("Enter".into(), "run"),
            ("Tab".into(), "complete"),
            ("↑↓".into(), "choose"),
            ("Esc".into(), "cancel"),
        ],
        Some(Overlay::Help { .. } | Overlay::LogLine { .. }) => {
            vec![("j/k".into(), "scroll"), ("Esc".into(), "close")]
        }
        Some(Overlay::Confirm(_)) => vec![("y".into(), "yes"), ("n/Esc".into(), "no")],
        Some(Overlay::TypeToConfirm(_)) => vec![
            ("Enter".into(), "confirm once typed"),
            ("Esc".into(), "cancel"),
        ],
        Some(Overlay::PickStage(_)) => vec![
            ("j/k".into(), "choose"),
            ("Enter".into(), "move"),
            ("Esc".into(), "cancel"),
        ],
        Some(Overlay::PickTenants(_)) => vec![
            ("Space".into(), "tick"),
            ("a".into(), "all / none"),
            ("Enter".into(), "apply"),
            ("Esc".into(), "cancel"),
        ],
        Some(Overlay::MoveTo(_)) => vec![
            ("j/k".into(), "choose"),
            ("Enter".into(), "next"),
            ("Esc".into(), "cancel"),
        ],
        Some(Overlay::Form(_)) => bindings::hints(Ctx::Dialog),
        Some(Overlay::Login(_)) => vec![
            ("Enter".into(), "log in"),
            ("^U".into(), "clear"),
            ("^C".into(), "quit"),
        ],
        Some(Overlay::ShowInvite(_)) => vec![("Enter/Esc".into(), "dismiss (shown once)")],
        Some(Overlay::ShowWebhookSecret(_)) => {
            vec![("Enter/Esc".into(), "dismiss (never shown again)")]
        }
        Some(Overlay::PickEvents(_)) => vec![
            ("Space".into(), "tick"),
            ("j/k".into(), "choose"),
            ("Enter".into(), "save"),
            ("Esc".into(), "cancel"),
        ],
        Some(Overlay::PickUser(_)) => vec![
            ("j/k".into(), "choose"),
            ("Enter".into(), "save"),
            ("Esc".into(), "cancel"),
        ],
        Some(Overlay::ShowKey(_)) => {
            vec![("Enter/Esc".into(), "dismiss (v reveals it again, audited)")]
        }
        None => bindings::hints_for(state, Ctx::Screen(state.screen)),
    };
    // Help and quit are pinned to the right edge so a narrow terminal never loses them.
    let (pinned, rest): (Vec<_>, Vec<_>) = hints
        .into_iter()
        .partition(|(k, _)| state.overlay.is_none() && (k == "?" || k == "q"));
    // Whole hints only: one cut mid-word reads as a different key.
    let spans_of = |list: Vec<(String, &str)>, max: u16| {
        let mut spans = vec![Span::raw(" ")];
        let mut used = 1usize;
        for (keys, desc) in list {
            let text = format!(" {desc}  ");
            let w = keys.chars().count() + text.chars().count();
            if used + w > max as usize {
                break;
            }
            used += w;
            spans.push(Span::styled(keys, theme::key()));
            spans.push(Span::raw(text));
        }
        Line::from(spans)
    };
    let right = spans_of(pinned, area.width);
    let right_w = if state.overlay.is_none() {
        right.width() as u16
    } else {
        0
    };
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(right_w)]).areas(area);
    frame.render_widget(Paragraph::new(spans_of(rest, l.width)), l);
    frame.render_widget(Paragraph::new(right), r);
}
