//! The SLA breaches screen and the live event stream: connecting, backoff, Last-Event-ID,
//! and events turning into coalesced refetches.

mod common;

use chrono::TimeDelta;
use common::*;
use echo5_tui::app::state::LiveStatus;
use echo5_tui::app::{Action, Call, Effect, Reply, Screen, State, StreamMsg, update};

fn streams(fx: &[Effect]) -> Vec<(u64, Option<u64>)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Stream {
                conn_id,
                last_event_id,
            } => Some((*conn_id, *last_event_id)),
            _ => None,
        })
        .collect()
}

fn on_sla() -> State {
    let mut s = started();
    let fx = update(&mut s, key('7'));
    settle(&mut s, fx);
    s
}

#[test]
fn seven_opens_all_breaches_without_a_tenant() {
    let mut s = started();
    let fx = update(&mut s, key('7'));
    assert_eq!(s.screen, Screen::Breaches);
    assert_eq!(calls(&fx), vec![Call::ListBreaches { tenant: None }]);
    settle(&mut s, fx);
    assert_eq!(s.sla.filtered().len(), 3);
}

#[test]
fn the_list_follows_the_selected_tenant_and_t_widens_it_to_all() {
    let mut s = on_sla();
    // No tenant yet: every tenant's breaches, nothing to narrow to.
    assert!(requests(&update(&mut s, key('t'))).is_empty());
    assert_eq!(s.sla.scope(&s), None);
    let mut s = on_tenant_screen('7');
    // A tenant is selected: its breaches only.
    assert_eq!(s.sla.scope(&s), Some(tenant_id(1)));
    assert_eq!(s.sla.filtered().len(), 2);
    let fx = update(&mut s, key('t'));
    assert!(s.sla.all);
    assert_eq!(calls(&fx), vec![Call::ListBreaches { tenant: None }]);
    let widened = requests(&fx);
    let fx = update(&mut s, key('t'));
    assert_eq!(
        calls(&fx),
        vec![Call::ListBreaches {
            tenant: Some(tenant_id(1))
        }]
    );
    settle(&mut s, fx);
    // The all-tenants answer lands after the switch back: dropped.
    answer(
        &mut s,
        &widened[0],
        Ok(Reply::Breaches(echo5_core::page::Page {
            data: breaches(),
            next_cursor: None,
        })),
    );
    assert_eq!(s.sla.filtered().len(), 2);
    // Switching tenant: the list follows, and "all" ends with the switch.
    update(&mut s, key('t'));
    update(&mut s, key(':'));
    typ(&mut s, "tenant caring-hearts");
    let fx = update(&mut s, code(crossterm::event::KeyCode::Enter));
    assert!(!s.sla.all);
    assert!(calls(&fx).contains(&Call::ListBreaches {
        tenant: Some(tenant_id(2))
    }));
    settle(&mut s, fx);
    let names: Vec<_> = s.sla.filtered().iter().map(|b| b.tenant.id).collect();
    assert_eq!(names, vec![tenant_id(2)]);
}

#[test]
fn the_stream_connects_at_start_and_reconnects_with_backoff_and_last_event_id() {
    let mut s = State::new("http://x", now());
    let fx = update(&mut s, Action::Tick(now()));
    assert_eq!(streams(&fx), vec![(1, None)]);
    assert_eq!(s.live.status, LiveStatus::Connecting);
    // A second tick while connecting opens nothing more.
    assert!(streams(&update(&mut s, Action::Tick(now()))).is_empty());
    stream(&mut s, StreamMsg::Opened);
    assert_eq!(s.live.status, LiveStatus::Connected);
    stream(&mut s, event("lead.created", 41, None));
    stream(&mut s, event("key.created", 42, None));
    assert_eq!(s.live.last_event_id, Some(42));

    let mut t = now();
    stream(
        &mut s,
        StreamMsg::Closed {
            error: "reset".into(),
        },
    );
    assert_eq!(s.live.status, LiveStatus::Disconnected);
    // Backoff 1 s, 2 s, 4 s … and the id is kept for every attempt.
    for (n, wait) in [(2u64, 1i64), (3, 2), (4, 4)] {
        assert!(
            streams(&update(
                &mut s,
                Action::Tick(t + TimeDelta::milliseconds(wait * 1000 - 1))
            ))
            .is_empty()
        );
        t += TimeDelta::seconds(wait);
        let fx = update(&mut s, Action::Tick(t));
        assert_eq!(streams(&fx), vec![(n, Some(42))]);
        stream(
            &mut s,
            StreamMsg::Closed {
                error: "refused".into(),
            },
        );
    }
    // A message from an old connection changes nothing.
    update(
        &mut s,
        Action::Stream {
            conn_id: 1,
            msg: StreamMsg::Opened,
        },
    );
    assert_eq!(s.live.status, LiveStatus::Disconnected);
    // Success resets the backoff.
    t += TimeDelta::seconds(8);
    update(&mut s, Action::Tick(t));
    stream(&mut s, StreamMsg::Opened);
    assert_eq!(s.live.failures, 0);
}

#[test]
fn breach_events_refetch_and_bursts_coalesce() {
    let mut s = on_sla();
    for kind in [
        "sla.breached",
        "lead.updated",
        "lead.created",
        "tenant.updated",
    ] {
        let fx = stream(&mut s, event(kind, 1, Some(tenant_id(2))));
        let mut want = vec![Call::ListBreaches { tenant: None }];
        // The tenant list follows tenant events on every screen.
        if kind == "tenant.updated" {
            want.push(Call::ListTenants);
        }
        assert_eq!(calls(&fx), want, "{kind}");
        settle(&mut s, fx);
    }
    // Irrelevant here.
    assert!(requests(&stream(&mut s, event("key.created", 2, Some(tenant_id(1))))).is_empty());

    // A burst: the first event fetches, the rest only mark it to fetch once more.
    let first = requests(&stream(&mut s, event("lead.created", 3, None)));
    assert_eq!(first.len(), 1);
    for id in 4..10 {
        assert!(requests(&stream(&mut s, event("lead.created", id, None))).is_empty());
    }
    let again = answer(
        &mut s,
        &first[0],
        Ok(canned(&first[0].call).expect("canned")),
    );
    let again = requests(&again);
    assert_eq!(again.len(), 1, "one follow-up fetch for the whole burst");
    assert!(
        answer(
            &mut s,
            &again[0],
            Ok(canned(&again[0].call).expect("canned"))
        )
        .is_empty()
    );
    assert_eq!(s.live.last_event_id, Some(9));
}

#[test]
fn one_tenant_scope_ignores_other_tenants_events() {
    let mut s = on_tenant_screen('7');
    assert!(
        requests(&stream(
            &mut s,
            event("sla.breached", 5, Some(tenant_id(2)))
        ))
        .is_empty()
    );
    assert_eq!(
        calls(&stream(
            &mut s,
            event("sla.breached", 6, Some(tenant_id(1)))
        )),
        vec![Call::ListBreaches {
            tenant: Some(tenant_id(1))
        }]
    );
}

#[test]
fn other_screens_refresh_on_their_events() {
    let mut s = started();
    assert_eq!(
        calls(&stream(
            &mut s,
            event("lead.created", 1, Some(tenant_id(1)))
        )),
        vec![Call::Dashboard]
    );
    let mut s = on_tenant_screen('5');
    assert_eq!(
        calls(&stream(&mut s, event("key.rotated", 2, Some(tenant_id(1))))),
        vec![Call::ListKeys {
            tenant: tenant_id(1)
        }]
    );
    assert!(requests(&stream(&mut s, event("key.rotated", 3, Some(tenant_id(2))))).is_empty());
    assert!(
        requests(&stream(
            &mut s,
            event("lead.created", 4, Some(tenant_id(1)))
        ))
        .is_empty()
    );
}

#[test]
fn a_resumed_stream_refetches_what_may_have_been_missed() {
    let mut s = on_sla();
    let fx = stream(&mut s, event("lead.created", 7, None));
    settle(&mut s, fx);
    let fx = stream(&mut s, StreamMsg::Closed { error: "x".into() });
    settle(&mut s, fx);
    let fx = update(&mut s, Action::Tick(now() + TimeDelta::seconds(1)));
    settle(&mut s, fx);
    let fx = stream(&mut s, StreamMsg::Opened);
    assert!(calls(&fx).contains(&Call::ListBreaches { tenant: None }));
}

#[test]
fn slash_filters_breaches_on_screen_and_esc_clears() {
    let mut s = on_sla();
    update(&mut s, key('/'));
    let fx = typ(&mut s, "june");
    assert!(requests(&fx).is_empty(), "filtered locally");
    assert_eq!(s.sla.filtered().len(), 1);
    update(&mut s, code(crossterm::event::KeyCode::Enter));
    update(&mut s, code(crossterm::event::KeyCode::Esc));
    assert_eq!(s.sla.filtered().len(), 3);
    // j/k stay within the list.
    update(&mut s, key('G'));
    assert_eq!(s.sla.view.selected, 2);
}

/// The daemon goes away long enough for the stream's backoff to reach 30 s, and the API
/// calls fail too.
fn daemon_gone_for_a_while() -> State {
    let mut s = started();
    for _ in 0..7 {
        stream(
            &mut s,
            StreamMsg::Closed {
                error: "refused".into(),
            },
        );
    }
    assert_eq!(s.live.status, LiveStatus::Disconnected);
    assert!(
        s.live
            .retry_at
            .is_some_and(|t| t >= now() + TimeDelta::seconds(30))
    );
    let t = s.next_poll;
    let fx = update(&mut s, Action::Tick(t));
    for r in requests(&fx) {
        answer(&mut s, &r, Err(unreachable()));
    }
    assert!(s.conn.is_failing());
    s
}

#[test]
fn the_stream_reopens_as_soon_as_the_daemon_answers_again() {
    let mut s = daemon_gone_for_a_while();
    let t = s.next_poll;
    let fx = update(&mut s, Action::Tick(t));
    assert!(streams(&fx).is_empty(), "still backing off");
    // The daemon is back: the first answer reopens the stream, without waiting 30 s.
    let req = requests(&fx);
    let after = answer(&mut s, &req[0], Ok(canned(&req[0].call).expect("canned")));
    assert_eq!(streams(&after).len(), 1, "{after:?}");
    assert_eq!(s.live.status, LiveStatus::Connecting);
    stream(&mut s, StreamMsg::Opened);
    assert_eq!(s.live.status, LiveStatus::Connected);
}

#[test]
fn ctrl_r_reopens_a_stream_that_is_off_and_leaves_an_open_one() {
    let mut s = daemon_gone_for_a_while();
    let fx = update(&mut s, ctrl('r'));
    assert_eq!(streams(&fx).len(), 1);
    // An attempt under way (it may hang on a daemon that went away) is replaced too; its
    // messages are ignored from now on.
    let old = s.live.conn_id;
    let fx = update(&mut s, ctrl('r'));
    assert_eq!(streams(&fx), vec![(old + 1, s.live.last_event_id)]);
    update(
        &mut s,
        Action::Stream {
            conn_id: old,
            msg: StreamMsg::Opened,
        },
    );
    assert_eq!(s.live.status, LiveStatus::Connecting);
    stream(&mut s, StreamMsg::Opened);
    assert!(streams(&update(&mut s, ctrl('r'))).is_empty());
}
