//! Analytics: leads per day (sparkline), by source and the stage funnel (bars), won rate
//! and time to first contact, over 7, 30 or 90 days.

use echo5_core::analytics::{Analytics, Count};
use echo5_core::stages::StageKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};

use crate::app::State;
use crate::app::components::frame::{empty_state, frame_block};
use crate::theme;
use crate::widgets::{clip, message};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let name = state
        .tenant
        .as_ref()
        .map(|t| t.name.as_str())
        .unwrap_or("—");
    let block = frame_block(
        format!("Analytics · {name} · last {} days", state.analytics.days),
        state,
    );
    if let Some(text) = empty_state(&state.analytics.remote, "") {
        return message(frame, area, block, &text);
    }
    let Some(a) = state.analytics.remote.data.as_ref() else {
        return;
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let spark_h = if inner.height >= 30 { 6 } else { 3 };
    let [summary, spark_title, spark, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(spark_h),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(summary_line(a)), summary);

    let max_day = a.per_day.iter().map(|d| d.count).max().unwrap_or(0);
    let (first, last) = (a.per_day.first(), a.per_day.last());
    let span = match (first, last) {
        (Some(f), Some(l)) => format!("{} … {}", f.day.format("%m-%d"), l.day.format("%m-%d")),
        _ => String::new(),
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" Leads per day ", theme::header_row()),
            Span::styled(format!("(max {max_day}) {span}"), theme::dim()),
        ])),
        spark_title,
    );
    // The newest days on the right; older ones drop off when the terminal is narrow.
    let width = spark.width.saturating_sub(2) as usize;
    let counts: Vec<u64> = a.per_day.iter().map(|d| d.count).collect();
    let shown = &counts[counts.len().saturating_sub(width)..];
    frame.render_widget(
        Sparkline::default()
            .data(shown)
            .style(theme::ok())
            .block(Block::new().padding(ratatui::widgets::Padding::horizontal(1))),
        spark,
    );

    let [left, right] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(rest);
    frame.render_widget(Paragraph::new(sources(a, left.width)), left);
    frame.render_widget(Paragraph::new(funnel(a, right.width)), right);
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "—".into(), |r| format!("{:.0}%", r * 100.0))
}

fn minutes(m: Option<f64>) -> String {
    match m {
        None => "—".into(),
        Some(m) if m < 60.0 => format!("{m:.0}m"),
        Some(m) if m < 60.0 * 48.0 => format!("{:.1}h", m / 60.0),
        Some(m) => format!("{:.1}d", m / 1440.0),
    }
}

fn summary_line(a: &Analytics) -> Line<'static> {
    let fc = &a.first_contact;
    Line::from(vec![
        Span::styled(" leads ", theme::dim()),
        Span::styled(a.total.to_string(), theme::title()),
        Span::styled("   won ", theme::dim()),
        Span::styled(pct(a.won_rate), theme::title()),
        Span::styled("   first contact median ", theme::dim()),
        Span::styled(minutes(fc.median_minutes), theme::title()),
        Span::styled("  p90 ", theme::dim()),
        Span::styled(minutes(fc.p90_minutes), theme::title()),
        Span::styled(format!("  ({} contacted)", fc.contacted), theme::dim()),
    ])
}

/// `label ████ n` rows scaled to the largest value.
fn bar(label: &str, label_w: usize, n: u64, max: u64, bar_w: usize, tail: String) -> Line<'static> {
    let len = if max == 0 {
        0
    } else {
        ((n as f64 / max as f64) * bar_w as f64).round() as usize
    };
    let len = if n > 0 { len.max(1) } else { 0 };
    Line::from(vec![
        Span::raw(format!(" {:<label_w$} ", clip(label, label_w))),
        Span::styled("█".repeat(len), theme::key()),
        Span::raw(format!("{} {n}", " ".repeat(bar_w - len.min(bar_w)))),
        Span::styled(tail, theme::dim()),
    ])
}

fn sources(a: &Analytics, width: u16) -> Vec<Line<'static>> {
    let bar_w = (width as usize).saturating_sub(8 + 2 + 6).max(4);
    let mut lines = ranked("By source", &a.by_source, bar_w, "no leads in range");
    // The campaigns' `utm_source` tags: where the paid and tagged traffic came from.
    lines.extend(ranked(
        "By UTM source",
        &a.by_utm_source,
        bar_w,
        "no lead with a utm_source",
    ));
    lines
}

/// A titled list of `key ████ n` bars, biggest first as the API ranks them.
fn ranked(title: &str, counts: &[Count], bar_w: usize, none: &str) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::raw(""),
        Line::from(Span::styled(format!(" {title}"), theme::header_row())),
    ];
    let max = counts.iter().map(|c| c.count).max().unwrap_or(0);
    if counts.is_empty() {
        lines.push(Line::from(Span::styled(format!(" {none}"), theme::dim())));
    }
    for c in counts {
        lines.push(bar(
            &printable(&c.key),
            8,
            c.count,
            max,
            bar_w,
            String::new(),
        ));
    }
    lines
}

/// A key as text for the terminal: a UTM tag is what a visitor's link said, so control
/// characters are dropped even though ingest already removes them.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

fn funnel(a: &Analytics, width: u16) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::raw(""),
        Line::from(vec![
            Span::styled(" Stage funnel ", theme::header_row()),
            Span::styled("reached · conversion", theme::dim()),
        ]),
    ];
    let max = a
        .by_stage
        .iter()
        .map(|s| s.reached.max(s.count))
        .max()
        .unwrap_or(0);
    let label_w = 14;
    let bar_w = (width as usize).saturating_sub(label_w + 2 + 12).max(4);
    for s in &a.by_stage {
        // Lost stages are not steps of the funnel (the API counts no "reached" for them):
        // what they show is how many leads are there now.
        let l = if s.kind == StageKind::Lost {
            bar(&s.name, label_w, s.count, max, bar_w, " lost".into()).style(theme::dim())
        } else {
            let conv = a
                .conversion
                .iter()
                .find(|c| c.to_stage == s.stage_id)
                .map(|c| format!(" {}", pct(c.rate)))
                .unwrap_or_default();
            bar(&s.name, label_w, s.reached, max, bar_w, conv)
        };
        lines.push(l);
    }
    lines
}
