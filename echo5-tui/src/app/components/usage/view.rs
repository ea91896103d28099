//! Usage: a month's totals, one row per tenant with a bar of its accepted leads, and the
//! selected tenant's API keys below when there is room.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};

use super::MonthNav;
use crate::app::State;
use crate::app::components::format::{grouped, human_bytes, money};
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{ago, clip, message};
use echo5_core::plans::{PlanUse, Revenue};
use echo5_core::usage::{TenantUsage, UsageReport};

/// `used/limit`, or `used/—` without a limit.
fn of(used: u64, limit: Option<u64>) -> String {
    match limit {
        Some(l) => format!("{}/{}", grouped(used), grouped(l)),
        None => format!("{}/—", grouped(used)),
    }
}

/// Whether any limit is reached (the leads one counts from its 100 %).
fn at_limit(p: &PlanUse) -> bool {
    let reached = |used: u64, limit: Option<u64>| limit.is_some_and(|l| used >= l);
    reached(p.used.leads_this_month, p.limits.leads_per_month)
        || reached(p.used.users, p.limits.users)
        || reached(p.used.api_keys, p.limits.api_keys)
        || reached(p.used.webhooks, p.limits.webhooks)
}

/// The selected tenant's plan and its use against each limit, in one line.
fn plan_line(p: &PlanUse) -> Line<'static> {
    let d = |s: String| Span::styled(s, theme::dim());
    let v =
        |s: String, full: bool| Span::styled(s, if full { theme::bad() } else { theme::title() });
    let l = &p.limits;
    let u = &p.used;
    Line::from(vec![
        d(" plan ".into()),
        Span::styled(clip(&p.plan_name, 24), theme::title()),
        d(format!(" · {}/month", money(p.price_cents, &p.currency))),
        d(" · leads ".into()),
        v(
            of(u.leads_this_month, l.leads_per_month),
            l.leads_per_month.is_some_and(|x| u.leads_this_month >= x),
        ),
        d(" · users ".into()),
        v(of(u.users, l.users), l.users.is_some_and(|x| u.users >= x)),
        d(" · keys ".into()),
        v(
            of(u.api_keys, l.api_keys),
            l.api_keys.is_some_and(|x| u.api_keys >= x),
        ),
        d(" · webhooks ".into()),
        v(
            of(u.webhooks, l.webhooks),
            l.webhooks.is_some_and(|x| u.webhooks >= x),
        ),
        d(match l.retention_days {
            Some(days) => format!(" · kept {days} d"),
            None => String::new(),
        }),
    ])
}

fn revenue_spans(r: &[Revenue]) -> Vec<Span<'static>> {
    if r.is_empty() {
        return Vec::new();
    }
    let all: Vec<String> = r.iter().map(|r| money(r.cents, &r.currency)).collect();
    vec![
        Span::styled("  ·  revenue ", theme::dim()),
        Span::styled(format!("{}/month", all.join(" + ")), theme::title()),
    ]
}

/// Room the keys pane needs below the table to be worth showing.
const KEYS_MIN_BODY: u16 = 28;

fn totals_lines(u: &UsageReport, label: String, wide: bool) -> Vec<Line<'static>> {
    let t = &u.totals;
    let n = |v: u64| Span::styled(grouped(v), theme::title());
    let d = |s: &'static str| Span::styled(s, theme::dim());
    let mut first = vec![
        Span::styled(format!(" {label}"), theme::header_row()),
        d("  ·  active tenants "),
        n(u.active_tenants),
    ];
    first.extend(revenue_spans(&u.revenue));
    first.extend([d("  ·  "), Span::styled("h/l", theme::key()), d(" month")]);
    vec![
        Line::from(first),
        Line::from(vec![
            d(" accepted "),
            n(t.accepted),
            d("  spam "),
            n(t.spam),
            d(if wide { "  duplicates " } else { "  dup " }),
            n(t.duplicates),
            d("  rejected "),
            n(t.rejected),
            d(if wide { "  API calls " } else { "  calls " }),
            n(t.api_calls),
            d("  storage "),
            Span::styled(human_bytes(t.storage_bytes), theme::title()),
        ]),
    ]
}

fn bar(n: u64, max: u64, width: usize) -> Span<'static> {
    let len = if max == 0 {
        0
    } else {
        ((n as f64 / max as f64) * width as f64).round() as usize
    };
    let len = if n > 0 { len.max(1) } else { 0 }.min(width);
    Span::styled("█".repeat(len), theme::key())
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let month = state.usage.month.label();
    let mut title = format!("Usage · {month}");
    if !state.usage.view.filter.is_empty() {
        title.push_str(&format!(" /{}", state.usage.view.filter));
    }
    let block = frame_block(title, state);
    if let Some(text) = empty_state(&state.usage.remote, "") {
        return message(frame, area, block, &text);
    }
    let Some(u) = state.usage.remote.data.as_ref() else {
        return;
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = state.usage.filtered();
    let selected = rows.get(state.usage.view.selected).copied();
    let keys_h = match selected {
        Some(t) if area.height >= KEYS_MIN_BODY => {
            (t.keys.len() as u16).clamp(1, 8) + 3 + u16::from(t.plan.is_some())
        }
        _ => 0,
    };
    let [head, table_area, keys_area] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(0),
        Constraint::Length(keys_h),
    ])
    .areas(inner);
    // The answer names its month; while a new month loads, the old numbers say whose they are.
    let label = if u.month == state.usage.month.to_string() {
        month
    } else {
        format!("{} (loading {})", u.month, state.usage.month)
    };
    let wide = area.width >= 100;
    frame.render_widget(Paragraph::new(totals_lines(u, label, wide)), head);

    if rows.is_empty() {
        let text = if state.usage.view.filter.is_empty() {
            " No tenant had any traffic this month."
        } else {
            " No tenant matches the filter (Esc clears it)."
        };
        frame.render_widget(Paragraph::new(text).style(theme::dim()), table_area);
        return;
    }
    let max = rows.iter().map(|t| t.accepted).max().unwrap_or(0);
    let num = |v: u64, w: usize| Cell::from(format!("{:>w$}", grouped(v)));
    // What the fixed columns leave for the bar, roughly: the tenant column takes a share.
    let fixed: u16 = if wide {
        8 + 6 + 6 + 8 + 9 + 10 + 9 + 8
    } else {
        7 + 5 + 5 + 5 + 7 + 9 + 6
    };
    let bar_w = (inner.width.saturating_sub(fixed) / 2).max(4) as usize;
    let body: Vec<Row> = rows
        .iter()
        .map(|t| {
            let c = t;
            let name = match &t.plan {
                Some(p) => Line::from(vec![
                    Span::raw(format!(" {} ", clip(&t.tenant.name, 24))),
                    Span::styled(
                        format!("[{}]", clip(&p.plan_name, 12)),
                        if at_limit(p) {
                            theme::bad()
                        } else {
                            theme::dim()
                        },
                    ),
                ]),
                None => Line::from(format!(" {}", clip(&t.tenant.name, 24))),
            };
            let mut cells = vec![
                Cell::from(name),
                num(c.accepted, if wide { 8 } else { 7 }),
                num(c.spam, if wide { 6 } else { 5 }),
                num(c.duplicates, if wide { 6 } else { 5 }),
                num(c.rejected, if wide { 8 } else { 5 }),
                num(c.api_calls, if wide { 9 } else { 7 }),
                Cell::from(format!("{:>9}", human_bytes(c.storage_bytes))),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(
                    t.last_lead_at
                        .map(|at| ago(state.now, at))
                        .unwrap_or_else(|| "—".into()),
                    theme::dim(),
                )));
            }
            cells.push(Cell::from(bar(c.accepted, max, bar_w)));
            let row = Row::new(cells);
            if t.active {
                row
            } else {
                row.style(theme::dim())
            }
        })
        .collect();
    let (widths, head): (Vec<Constraint>, Vec<&str>) = if wide {
        (
            vec![
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Fill(1),
            ],
            vec![
                " TENANT",
                "ACCEPTED",
                "  SPAM",
                "   DUP",
                "REJECTED",
                "API CALLS",
                "  STORAGE",
                "LAST LEAD",
                "LEADS",
            ],
        )
    } else {
        (
            vec![
                Constraint::Fill(1),
                Constraint::Length(7),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(7),
                Constraint::Length(9),
                Constraint::Fill(1),
            ],
            vec![
                " TENANT",
                "ACCEPTD",
                " SPAM",
                "  DUP",
                "  REJ",
                "  CALLS",
                "  STORAGE",
                "LEADS",
            ],
        )
    };
    let mut table = Table::new(body, widths)
        .header(Row::new(head).style(theme::header_row()))
        .row_highlight_style(theme::selected());
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(state.usage.view.selected));
    frame.render_stateful_widget(table, table_area, &mut ts);
    if keys_h > 0
        && let Some(t) = selected
    {
        keys(frame, keys_area, t);
    }
}

fn keys(frame: &mut Frame, area: Rect, t: &TenantUsage) {
    let area = match &t.plan {
        Some(p) => {
            let [line, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
            frame.render_widget(Paragraph::new(plan_line(p)), line);
            rest
        }
        None => area,
    };
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme::dim())
        .title(Span::styled(
            format!(" Keys · {} ", t.tenant.name),
            theme::title(),
        ));
    if t.keys.is_empty() {
        frame.render_widget(
            Paragraph::new(" No API key traffic this month.")
                .style(theme::dim())
                .block(block),
            area,
        );
        return;
    }
    let num = |v: u64| Cell::from(format!("{:>9}", grouped(v)));
    let rows: Vec<Row> = t
        .keys
        .iter()
        .map(|k| {
            let (prefix, name) = match (&k.prefix, k.key_id) {
                (Some(p), _) => (p.clone(), k.name.clone().unwrap_or_default()),
                (None, Some(_)) => ("—".into(), k.name.clone().unwrap_or_default()),
                (None, None) => ("—".into(), "no valid key".into()),
            };
            Row::new(vec![
                Cell::from(format!(" {prefix}")),
                Cell::from(name),
                num(k.accepted),
                num(k.spam),
                num(k.duplicates),
                num(k.rejected),
                num(k.api_calls),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Fill(1),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(9),
        ],
    )
    .header(
        Row::new(vec![
            " PREFIX",
            "NAME",
            " ACCEPTED",
            "     SPAM",
            "      DUP",
            " REJECTED",
            "API CALLS",
        ])
        .style(theme::header_row()),
    )
    .block(block);
    frame.render_widget(table, area);
}
