//! Plans: one row per plan with its price, each limit and how many clients are on it;
//! below, the selected plan's clients by name and the selected client's billing.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use super::clients_on;
use crate::app::State;
use crate::app::components::format::{grouped, limit, money};
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{clip, message, printable};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let plans = &state.plans;
    let block = frame_block("Plans".into(), state);
    const NONE: &str = "No plans yet. c: a new plan (clients without one have no limits).";
    if let Some(text) = empty_state(&plans.remote, NONE) {
        return message(frame, area, block, &text);
    }
    if plans.remote.data.as_ref().is_some_and(Vec::is_empty) {
        return message(frame, area, block, NONE);
    }
    let rows: Vec<Row> = plans
        .filtered()
        .iter()
        .map(|p| {
            let l = &p.limits;
            Row::new(vec![
                Cell::from(printable(&p.name)),
                Cell::from(money(p.price_cents, &p.currency)),
                Cell::from(limit(l.leads_per_month)),
                Cell::from(limit(l.users)),
                Cell::from(limit(l.api_keys)),
                Cell::from(limit(l.webhooks)),
                Cell::from(
                    l.retention_days
                        .map_or_else(|| "forever".into(), |d| format!("{} d", grouped(d.into()))),
                ),
                Cell::from(grouped(p.tenants)),
            ])
        })
        .collect();
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(14),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(7),
    ];
    let mut table = Table::new(rows, widths)
        .header(
            Row::new(vec![
                "PLAN",
                "PRICE/MONTH",
                "LEADS/MO",
                "USERS",
                "KEYS",
                "HOOKS",
                "RETENTION",
                "CLIENTS",
            ])
            .style(theme::header_row()),
        )
        .row_highlight_style(theme::selected());
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let n = plans.filtered().len() as u16;
    let [list, detail] = Layout::vertical([
        Constraint::Max(n.saturating_add(1).max(2)),
        Constraint::Min(3),
    ])
    .areas(inner);
    let mut ts = TableState::default().with_selected(Some(plans.view.selected));
    frame.render_stateful_widget(table, list, &mut ts);
    frame.render_widget(
        Paragraph::new(detail_lines(state)).wrap(Wrap { trim: true }),
        detail,
    );
}

/// The selected plan's clients, the selected client's plan and Stripe customer, and the
/// keys that change them.
fn detail_lines(state: &State) -> Vec<Line<'static>> {
    let mut lines = vec![Line::default()];
    if let Some(p) = state.plans.selected() {
        let names: Vec<String> = clients_on(state, p.id)
            .iter()
            .map(|t| printable(&t.name))
            .collect();
        let on = if names.is_empty() {
            "no client".to_string()
        } else {
            clip(&names.join(", "), 300)
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", printable(&p.name)), theme::header_row()),
            Span::raw(format!("· clients: {on}")),
        ]));
        if let Some(l) = p.limits.leads_per_month {
            lines.push(Line::styled(
                format!(
                    "Leads past {} a month are kept and flagged over plan; users, keys and \
                     webhooks past their limits are refused.",
                    grouped(l)
                ),
                theme::dim(),
            ));
        }
    }
    if let Some(sel) = &state.tenant {
        let t = state
            .tenants
            .remote
            .data
            .iter()
            .flatten()
            .find(|t| t.id == sel.id);
        let plan = t
            .and_then(|t| t.plan_id)
            .map(|id| {
                state
                    .plans
                    .find(id)
                    .map_or_else(|| "a plan not listed".into(), |p| printable(&p.name))
            })
            .unwrap_or_else(|| "no plan (no limits)".into());
        let stripe = t.and_then(|t| t.stripe_customer_id.as_deref()).map_or_else(
            || "no Stripe customer (usage not reported)".into(),
            |c| format!("Stripe customer {}", printable(c)),
        );
        lines.push(Line::from(format!(
            "{}: {plan} · {stripe}",
            printable(&sel.name)
        )));
    }
    lines.push(Line::styled(
        "c new · e edit · a put a client on it · u take a client off its plan · $ Stripe \
         customer · x delete",
        theme::dim(),
    ));
    lines
}
