//! Analytics across clients: the summed figures, leads per day, top sources, and one row
//! per client with its own figures.

use echo5_core::analytics::{Count, GlobalAnalytics};
use echo5_core::stages::StageKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Padding, Paragraph, Row, Sparkline, Table, TableState};

use crate::app::State;
use crate::app::components::format::percent;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{clip, message};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let g = &state.global_analytics;
    let who = if g.tenants.is_empty() {
        "all clients".to_string()
    } else {
        format!("{} chosen clients", g.tenants.len())
    };
    let block = frame_block(format!("Analytics · {who} · last {} days", g.days), state);
    if let Some(text) = empty_state(&g.remote, "") {
        return message(frame, area, block, &text);
    }
    let Some(r) = g.remote.data.as_ref() else {
        return;
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let spark_h = if inner.height >= 30 { 5 } else { 2 };
    let [summary, sources, spark, table] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Length(spark_h),
        Constraint::Min(3),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(summary_line(r)), summary);
    frame.render_widget(
        Paragraph::new(vec![
            top_line("sources", &r.totals.by_source, sources.width),
            top_line("utm", &r.totals.by_utm_source, sources.width),
        ]),
        sources,
    );
    let width = spark.width.saturating_sub(2) as usize;
    let counts: Vec<u64> = r.totals.per_day.iter().map(|d| d.count).collect();
    let shown = &counts[counts.len().saturating_sub(width)..];
    frame.render_widget(
        Sparkline::default()
            .data(shown)
            .style(theme::ok())
            .block(Block::new().padding(Padding::horizontal(1))),
        spark,
    );
    breakdown(frame, table, state, r);
}

fn summary_line(r: &GlobalAnalytics) -> Line<'static> {
    let t = &r.totals;
    let kind = |k: StageKind| {
        t.by_kind
            .iter()
            .find(|c| c.kind == k)
            .map_or(0, |c| c.count)
    };
    Line::from(vec![
        Span::styled(" leads ", theme::dim()),
        Span::styled(t.total.to_string(), theme::title()),
        Span::styled("   won ", theme::dim()),
        Span::styled(percent(t.won_rate), theme::title()),
        Span::styled(
            format!(
                "   open {} · won {} · lost {}",
                kind(StageKind::Open),
                kind(StageKind::Won),
                kind(StageKind::Lost)
            ),
            theme::dim(),
        ),
        Span::styled(
            format!("   {} contacted", t.first_contact.contacted),
            theme::dim(),
        ),
    ])
}

/// ` sources  website 120 · meta 30 · …`, as many as fit.
fn top_line(label: &str, counts: &[Count], width: u16) -> Line<'static> {
    let mut text = String::new();
    for c in counts {
        let item = format!("{} {}", clip(&c.key, 24), c.count);
        if text.chars().count() + item.chars().count() + 14 > width as usize {
            break;
        }
        if !text.is_empty() {
            text.push_str(" · ");
        }
        text.push_str(&item);
    }
    if text.is_empty() {
        text.push('—');
    }
    Line::from(vec![
        Span::styled(format!(" {label:<8} "), theme::dim()),
        Span::raw(text),
    ])
}

fn breakdown(frame: &mut Frame, area: Rect, state: &State, r: &GlobalAnalytics) {
    let num = |n: u64| Cell::from(format!("{n:>6}"));
    let rows: Vec<Row> = r
        .by_tenant
        .iter()
        .map(|p| {
            let a = &p.analytics;
            let now_in = |kind: StageKind| -> u64 {
                a.by_stage
                    .iter()
                    .filter(|s| s.kind == kind)
                    .map(|s| s.count)
                    .sum()
            };
            Row::new(vec![
                Cell::from(format!(" {}", p.tenant.name)),
                num(a.total),
                num(now_in(StageKind::Won)),
                num(now_in(StageKind::Lost)),
                Cell::from(format!("{:>6}", percent(a.won_rate))),
                num(a.first_contact.contacted),
            ])
        })
        .collect();
    let mut table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(9),
        ],
    )
    .header(
        Row::new(vec![
            " CLIENT",
            " LEADS",
            "   WON",
            "  LOST",
            " WON %",
            "CONTACTED",
        ])
        .style(theme::header_row()),
    )
    .row_highlight_style(theme::selected());
    if state.is_stale() {
        table = table.style(theme::dim());
    }
    let mut ts = TableState::default().with_selected(Some(state.global_analytics.view.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}
