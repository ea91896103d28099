//! Connection state, retry backoff, stale answers and latest-wins.

mod common;

use chrono::TimeDelta;
use common::*;
use echo5_tui::app::{Action, Call, Conn, Reply, update};

#[test]
fn failures_degrade_then_down_and_keep_the_data() {
    let mut s = started();
    assert_eq!(s.conn, Conn::Connected);
    let mut t = now();
    for n in 1..=3u32 {
        t += TimeDelta::seconds(60);
        let fx = update(&mut s, Action::Tick(t));
        let req = requests(&fx);
        assert_eq!(req.len(), 1, "one retry at a time");
        answer(&mut s, &req[0], Err(unreachable()));
        assert_eq!(s.conn.failures(), n);
        // One toast for the whole outage, at its start; the header tells the rest.
        let fresh = s
            .toasts
            .iter()
            .filter(|x| x.until == t + TimeDelta::seconds(8))
            .count();
        assert_eq!(fresh, usize::from(n == 1));
    }
    assert!(matches!(s.conn, Conn::Down { failures: 3, .. }));
    assert_eq!(
        s.tenants.remote.data.as_ref().map(Vec::len),
        Some(3),
        "last data kept"
    );
    assert!(s.is_stale());
    // Backoff: the next retry waits 4 s after the third failure.
    assert_eq!(s.next_poll - s.now, TimeDelta::seconds(4));
    assert!(update(&mut s, Action::Tick(t + TimeDelta::seconds(3))).is_empty());
    let fx = update(&mut s, Action::Tick(t + TimeDelta::seconds(4)));
    assert_eq!(calls(&fx), vec![Call::Dashboard]);

    // Recovery: connected again, operator told, screen refetched.
    answer(&mut s, &requests(&fx)[0], Ok(Reply::Dashboard(dashboard())));
    assert_eq!(s.conn, Conn::Connected);
    assert!(s.toasts.iter().any(|x| x.text == "daemon is back"));
    assert!(!s.is_stale());
}

#[test]
fn backoff_caps_at_thirty_seconds() {
    use echo5_tui::app::state::Conn as C;
    let _ = C::Connecting;
    assert_eq!(echo5_tui_backoff(1), 1);
    assert_eq!(echo5_tui_backoff(4), 8);
    assert_eq!(echo5_tui_backoff(20), 30);
}

fn echo5_tui_backoff(f: u32) -> i64 {
    let mut s = started();
    s.conn = Conn::Degraded {
        failures: f - 1,
        since: now(),
    };
    if f == 1 {
        s.conn = Conn::Connected;
    }
    let fx = update(&mut s, Action::Tick(now() + TimeDelta::seconds(100)));
    answer(&mut s, &requests(&fx)[0], Err(unreachable()));
    (s.next_poll - s.now).num_seconds()
}

#[test]
fn a_poll_is_not_stacked_on_one_in_flight() {
    let mut s = started();
    let fx = update(&mut s, Action::Tick(now() + TimeDelta::seconds(5)));
    assert_eq!(fx.len(), 1);
    let fx = update(&mut s, Action::Tick(now() + TimeDelta::seconds(10)));
    assert!(fx.is_empty(), "the first poll has not answered yet");
}

#[test]
fn answers_for_a_previous_tenant_are_dropped() {
    let mut s = on_tenant_screen('3');
    let old = requests(&update(&mut s, ctrl('r')));
    assert_eq!(
        old[0].call,
        Call::ListStages {
            tenant: tenant_id(1)
        }
    );
    // Switch to Caring Hearts before the answer lands.
    update(&mut s, key(':'));
    typ(&mut s, "tenant caring-hearts");
    update(&mut s, common::code(crossterm::event::KeyCode::Enter));
    answer(&mut s, &old[0], Ok(Reply::Stages(stages())));
    assert!(
        s.stages.remote.data.is_none(),
        "Open Arms' stages were dropped"
    );
}

#[test]
fn an_older_answer_never_overwrites_a_newer_one() {
    let mut s = started();
    let first = requests(&update(&mut s, ctrl('r')));
    let second = requests(&update(&mut s, ctrl('r')));
    let mut newer = tenants();
    newer[0].name = "Open Arms Home Care".into();
    answer(&mut s, &second[0], Ok(Reply::Tenants(newer)));
    answer(&mut s, &first[0], Ok(Reply::Tenants(tenants())));
    assert_eq!(
        s.tenants.remote.data.as_ref().map(|t| t[0].name.as_str()),
        Some("Open Arms Home Care")
    );
}

#[test]
fn unauthorized_gives_advice_without_marking_the_daemon_down() {
    let mut s = echo5_tui::app::State::new("http://x", now());
    let fx = update(&mut s, Action::Tick(now()));
    let err = echo5_tui::app::ApiError::Http {
        status: 401,
        detail: echo5_core::ErrorDetail {
            code: "unauthorized".into(),
            message: "bad token".into(),
            field: None,
        },
    };
    answer(&mut s, &requests(&fx)[0], Err(err));
    assert_eq!(s.conn, Conn::Connected);
    assert!(s.toasts.iter().any(|t| t.text.contains("ECHO5_TOKEN")));
    assert!(s.dashboard.remote.error.is_some());
}

#[test]
fn toasts_expire_with_the_clock() {
    let mut s = started();
    s.toast(echo5_tui::app::state::ToastLevel::Info, "hello");
    s.dirty = false;
    update(&mut s, Action::Tick(now() + TimeDelta::seconds(1)));
    assert_eq!(s.toasts.len(), 1);
    update(&mut s, Action::Tick(now() + TimeDelta::seconds(5)));
    assert!(s.toasts.is_empty());
    assert!(s.dirty);
}
