//! Usage: the month picker (wrapping over years, never into the future), the request per
//! month, and an old month's late answer dropped.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_core::usage::Month;
use echo5_tui::app::{Call, Effect, Reply, Screen, State, update};

fn on_usage() -> State {
    on_command("usage")
}

fn month(fx: &[Effect]) -> String {
    match calls(fx).as_slice() {
        [Call::GetUsage { month }] => month.to_string(),
        other => panic!("expected one usage fetch, got {other:?}"),
    }
}

#[test]
fn opens_on_the_current_month() {
    let mut s = started();
    update(&mut s, key(':'));
    typ(&mut s, "usage");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Usage);
    assert_eq!(month(&fx), "2026-03");
    settle(&mut s, fx);
    assert_eq!(
        s.usage.remote.data.as_ref().map(|u| u.tenants.len()),
        Some(3)
    );
}

#[test]
fn the_month_picker_wraps_years_and_stops_at_this_month() {
    let mut s = on_usage();
    assert_eq!(month(&update(&mut s, key('h'))), "2026-02");
    assert_eq!(month(&update(&mut s, key('['))), "2026-01");
    assert_eq!(month(&update(&mut s, code(KeyCode::Left))), "2025-12");
    assert_eq!(
        s.usage.month,
        Month {
            year: 2025,
            month: 12
        }
    );
    assert_eq!(month(&update(&mut s, key('l'))), "2026-01");
    assert_eq!(month(&update(&mut s, key(']'))), "2026-02");
    assert_eq!(month(&update(&mut s, code(KeyCode::Right))), "2026-03");
    // March 2026 is now: no later month.
    assert!(update(&mut s, key('l')).is_empty());
    assert_eq!(s.usage.month.to_string(), "2026-03");
    assert!(s.toasts.iter().any(|t| t.text.contains("future")));
}

#[test]
fn a_late_answer_for_another_month_is_dropped() {
    let mut s = on_usage();
    let feb = requests(&update(&mut s, key('h')));
    let jan = requests(&update(&mut s, key('h')));
    answer(
        &mut s,
        &jan[0],
        Ok(Reply::Usage(Box::new(usage("2026-01")))),
    );
    answer(
        &mut s,
        &feb[0],
        Ok(Reply::Usage(Box::new(usage("2026-02")))),
    );
    assert_eq!(
        s.usage.remote.data.as_ref().map(|u| u.month.as_str()),
        Some("2026-01")
    );
}

#[test]
fn filter_narrows_the_tenants_and_polls_refetch() {
    let mut s = on_usage();
    update(&mut s, key('/'));
    typ(&mut s, "caring");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.usage.filtered().len(), 1);
    assert_eq!(s.usage.filtered()[0].tenant.slug, "caring-hearts");
    let fx = update(
        &mut s,
        echo5_tui::app::Action::Tick(now() + chrono::TimeDelta::seconds(6)),
    );
    assert!(
        calls(&fx)
            .iter()
            .any(|c| matches!(c, Call::GetUsage { .. }))
    );
}
