//! Two lines: where we are connected and how well, then the screen tabs and the tenant.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::auth::AuthProblem;
use crate::app::components::Tabs;
use crate::app::state::LiveStatus;
use crate::app::{Conn, Screen, State, access};
use crate::theme;
use crate::widgets::printable;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let [top, tabs] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);

    let retry_in = (state.next_poll - state.now).num_seconds().max(0);
    let conn = match (state.conn, &state.auth.problem) {
        // The daemon answers, but not to us: "connected" would say all is well.
        (Conn::Connecting | Conn::Connected, Some(AuthProblem::NoTokenFile { .. })) => {
            Span::styled("✗ no token file", theme::bad())
        }
        (Conn::Connecting | Conn::Connected, Some(AuthProblem::Unusable { .. })) => {
            Span::styled("✗ no usable token", theme::bad())
        }
        (Conn::Connecting | Conn::Connected, Some(AuthProblem::Rejected)) => {
            Span::styled("✗ token refused", theme::bad())
        }
        (Conn::Connecting, None) => Span::styled("… connecting", theme::warn()),
        (Conn::Connected, None) => Span::styled("● connected", theme::ok()),
        (Conn::Degraded { .. }, _) => {
            Span::styled(format!("◐ degraded, retry {retry_in}s"), theme::warn())
        }
        (Conn::Down { .. }, _) => Span::styled(format!("○ down, retry {retry_in}s"), theme::bad()),
    };
    // "live" is the event stream, said as it is: open, opening, or off and when it tries
    // again. While the daemon is away the data's age comes first, with the stream's state.
    let stream = match state.live.status {
        LiveStatus::Connected => Some(("● live".to_string(), theme::ok())),
        LiveStatus::Disconnected => {
            let secs = state
                .live
                .retry_at
                .map_or(0, |t| (t - state.now).num_seconds().max(0));
            Some((format!("live off, retry {secs}s"), theme::warn()))
        }
        LiveStatus::Connecting => Some(("live …".to_string(), theme::dim())),
        LiveStatus::Off => None,
    };
    let live = match (state.stale_for(), state.live.status) {
        (Some(secs), LiveStatus::Disconnected) => {
            Span::styled(format!("stale {secs}s, live off"), theme::bad())
        }
        (Some(secs), LiveStatus::Connecting) => {
            Span::styled(format!("stale {secs}s, live …"), theme::bad())
        }
        (Some(secs), _) => Span::styled(format!("stale {secs}s"), theme::bad()),
        (None, _) => match stream {
            Some((text, style)) => Span::styled(text, style),
            None => Span::raw(""),
        },
    };
    let mut right = Vec::new();
    // Breaches in the SLA screen's scope, counted on every screen; new ones called out.
    // Without a session nothing of the last one shows, the breach count included.
    if let Some(rows) = state
        .sla
        .remote
        .data
        .as_ref()
        .filter(|_| !state.session.waiting())
        && !rows.is_empty()
    {
        let new = state.sla.unseen.len();
        // Narrow terminals keep room for the platform tabs with the short form.
        let what = if area.width >= 100 { " SLA" } else { "" };
        let text = if new > 0 {
            format!("▲ {}{what} · {new} new", rows.len())
        } else {
            format!("▲ {}{what}", rows.len())
        };
        let style = if new > 0 {
            theme::bad().add_modifier(Modifier::REVERSED)
        } else {
            theme::bad()
        };
        right.extend([Span::styled(text, style), Span::raw("  ")]);
    }
    right.extend([conn, Span::raw("  "), live]);
    if state.saving > 0 {
        right.push(Span::styled("  saving…", theme::warn()));
    }
    right.push(Span::raw(" "));
    let right = Line::from(right);
    let right_w = right.width() as u16;
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(right_w)]).areas(top);
    let mut left = Line::from(vec![
        Span::styled(" echo5 ", theme::title()),
        Span::styled(state.base_url.clone(), theme::dim()),
    ]);
    // Logged in (`--login`): who, and as what; without the role, or not at all, when the
    // line has no room for it.
    if let Some(u) = state.session.user.as_ref().filter(|_| state.session.ready) {
        let email = Span::styled(printable(&u.email), theme::title());
        let role = Span::styled(format!(" ({})", u.role.as_str()), theme::dim());
        let room = usize::from(l.width).saturating_sub(left.width() + 3);
        if email.width() + role.width() <= room {
            left.spans.extend([Span::raw("  "), email, role]);
        } else if email.width() <= room {
            left.spans.extend([Span::raw("  "), email]);
        }
    }
    // The platform screens sit beside the daemon they administer: full names, else short
    // ones, else only the one shown.
    let room = (l.width as usize).saturating_sub(left.width() + 1);
    let group = |short: bool, only_active: bool| {
        let mut spans = vec![Span::raw("  ")];
        for s in Screen::in_tabs(Tabs::Platform).filter(|s| access::can_open(state, *s)) {
            let active = s == state.screen;
            if only_active && !active {
                continue;
            }
            let name = if short && !active {
                s.short()
            } else {
                s.title()
            };
            spans.push(if active {
                Span::styled(format!(" {name} "), theme::tab_active())
            } else {
                Span::styled(format!(" {name} "), theme::dim())
            });
        }
        spans
    };
    if let Some(spans) = [group(false, false), group(true, false), group(true, true)]
        .into_iter()
        .find(|g| g.len() > 1 && Line::from(g.clone()).width() <= room)
    {
        left.spans.extend(spans);
    }
    frame.render_widget(Paragraph::new(left), l);
    frame.render_widget(Paragraph::new(right).right_aligned(), r);

    let tenant = match &state.tenant {
        Some(t) => {
            let mut spans = vec![
                Span::styled("tenant ", theme::dim()),
                Span::styled(t.name.clone(), theme::title()),
                Span::raw(" "),
            ];
            let inactive = state
                .tenants
                .remote
                .data
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|x| x.id == t.id && !x.active);
            if inactive {
                spans.push(Span::styled("inactive", theme::bad()));
                spans.push(Span::raw(" "));
            }
            Line::from(spans)
        }
        None => Line::from(Span::styled("no tenant (:tenant) ", theme::dim())),
    };
    let tenant_w = tenant.width() as u16;
    let tab_line = |pad: &str, gap: &str, short: bool| {
        let mut spans = vec![Span::raw(" ")];
        for (i, s) in numbered(state) {
            let name = if short && s != state.screen {
                s.short()
            } else {
                s.title()
            };
            let label = format!("{pad}{} {name}{pad}", i + 1);
            spans.push(if s == state.screen {
                Span::styled(label, theme::tab_active())
            } else {
                Span::styled(label, theme::dim())
            });
            spans.push(Span::raw(gap.to_string()));
        }
        Line::from(spans)
    };
    // Narrow terminals lose the padding between tabs, then the other tabs' full names,
    // then those names altogether, before they lose the tenant's name.
    let mut spans = tab_line(" ", " ", false);
    if spans.width() as u16 + tenant_w > tabs.width {
        spans = tab_line("", " ", false);
    }
    if spans.width() as u16 + tenant_w > tabs.width {
        spans = tab_line("", " ", true);
    }
    if spans.width() as u16 + tenant_w > tabs.width {
        let mut short = vec![Span::raw(" ")];
        for (i, s) in numbered(state) {
            short.push(if s == state.screen {
                Span::styled(format!("{} {}", i + 1, s.title()), theme::tab_active())
            } else {
                Span::styled(format!("{}", i + 1), theme::dim())
            });
            short.push(Span::raw(" "));
        }
        spans = Line::from(short);
    }
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(tenant_w)]).areas(tabs);
    frame.render_widget(Paragraph::new(spans), l);
    frame.render_widget(Paragraph::new(tenant).right_aligned(), r);
}

/// The numbered tabs the principal may open, each with its number (a hidden tab keeps its
/// number free, so the digit keys mean the same for everyone).
fn numbered(state: &State) -> Vec<(usize, Screen)> {
    Screen::in_tabs(Tabs::Numbered)
        .enumerate()
        .filter(|(_, s)| access::can_open(state, *s))
        .collect()
}
