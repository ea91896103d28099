//! A client's overview (what choosing a client opens) and the analytics across clients.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_tui::app::overlay::{Overlay, Purpose};
use echo5_tui::app::{Call, Screen, State, update};

fn on_overview() -> State {
    let mut s = started();
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    s.toasts.clear();
    s
}

#[test]
fn enter_on_the_dashboard_opens_the_client_overview() {
    let mut s = started();
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Overview);
    assert_eq!(s.tenant.as_ref().map(|t| t.id), Some(tenant_id(2)));
    let c = calls(&fx);
    assert_eq!(
        c.first(),
        Some(&Call::RecentLeads {
            tenant: tenant_id(2)
        }),
        "its own leads first: {c:?}"
    );
    assert!(
        c.iter().any(
            |c| matches!(c, Call::GetAnalytics { tenant, days: 30, .. } if *tenant == tenant_id(2))
        ),
        "{c:?}"
    );
    settle(&mut s, fx);
    assert_eq!(s.overview.recent.data.as_ref().map(Vec::len), Some(5));
    assert!(s.analytics.remote.data.is_some());
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Dashboard);
}

#[test]
fn quick_actions_open_the_client_screens() {
    for (k, screen) in [
        ('l', Screen::Leads),
        ('c', Screen::Analytics),
        ('s', Screen::Settings),
        ('p', Screen::Pipeline),
        ('K', Screen::Keys),
    ] {
        let mut s = on_overview();
        update(&mut s, key(k));
        assert_eq!(s.screen, screen, "{k}");
        assert_eq!(s.tenant.as_ref().map(|t| t.id), Some(tenant_id(1)));
        update(&mut s, code(KeyCode::Esc));
        assert_eq!(s.screen, Screen::Overview, "Esc comes back ({k})");
    }
}

#[test]
fn a_opens_manual_entry_on_the_leads_screen() {
    let mut s = on_overview();
    update(&mut s, key('a'));
    assert_eq!(s.screen, Screen::Leads);
    assert!(
        matches!(&s.overlay, Some(Overlay::Form(f)) if f.purpose == Purpose::NewLead),
        "{:?}",
        s.overlay
    );
    // Esc closes the form, then goes back to the overview.
    update(&mut s, code(KeyCode::Esc));
    assert!(s.overlay.is_none());
    assert_eq!(s.screen, Screen::Leads);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Overview);
}

#[test]
fn the_overview_follows_its_client_live() {
    let mut s = on_overview();
    let fx = stream(&mut s, event("lead.created", 5, Some(tenant_id(1))));
    let c = calls(&fx);
    assert!(c.contains(&Call::RecentLeads {
        tenant: tenant_id(1)
    }));
    assert!(c.contains(&Call::Dashboard));
    settle(&mut s, fx);
    // Another client's lead moves the dashboard figures only.
    let fx = stream(&mut s, event("lead.created", 6, Some(tenant_id(2))));
    assert_eq!(calls(&fx), vec![Call::Dashboard]);
}

#[test]
fn recent_leads_of_a_client_left_behind_are_dropped() {
    let mut s = started();
    let fx = update(&mut s, code(KeyCode::Enter));
    let reqs = requests(&fx);
    let recent = reqs
        .iter()
        .find(|r| matches!(r.call, Call::RecentLeads { .. }))
        .expect("recent leads asked for")
        .clone();
    // Switch to Caring Hearts before Open Arms' leads land.
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('j'));
    update(&mut s, code(KeyCode::Enter));
    answer(&mut s, &recent, Ok(canned(&recent.call).expect("canned")));
    assert!(s.overview.recent.data.is_none());
}

#[test]
fn global_analytics_from_the_dashboard_sum_all_clients() {
    let mut s = started();
    let fx = update(&mut s, key('A'));
    assert_eq!(s.screen, Screen::GlobalAnalytics);
    assert_eq!(
        calls(&fx),
        vec![Call::GetGlobalAnalytics {
            tenants: Vec::new(),
            days: 30
        }]
    );
    settle(&mut s, fx);
    let r = s.global_analytics.remote.data.as_ref().expect("loaded");
    assert_eq!(r.by_tenant.len(), 3);
    assert_eq!(
        r.totals.total,
        r.by_tenant.iter().map(|p| p.analytics.total).sum::<u64>()
    );
    // `r` cycles the range, as on a client's analytics.
    let fx = update(&mut s, key('r'));
    assert_eq!(
        calls(&fx),
        vec![Call::GetGlobalAnalytics {
            tenants: Vec::new(),
            days: 90
        }]
    );
}

#[test]
fn choosing_clients_narrows_the_sum_and_a_stale_answer_is_dropped() {
    let mut s = on_command("global");
    let old = update(&mut s, key('r'));
    update(&mut s, key('t'));
    assert!(matches!(&s.overlay, Some(Overlay::PickTenants(_))));
    update(&mut s, key(' '));
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    update(&mut s, key(' '));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        calls(&fx),
        vec![Call::GetGlobalAnalytics {
            tenants: vec!["open-arms".into(), "family-first".into()],
            days: 90
        }]
    );
    // The answer for all clients, asked before the choice, is not shown.
    let before = s.global_analytics.remote.data.clone();
    let req = &requests(&old)[0];
    answer(&mut s, req, Ok(canned(&req.call).expect("canned")));
    assert_eq!(s.global_analytics.remote.data, before);
    settle(&mut s, fx);
    let r = s.global_analytics.remote.data.as_ref().expect("loaded");
    let slugs: Vec<&str> = r.by_tenant.iter().map(|p| p.tenant.slug.as_str()).collect();
    assert_eq!(slugs, ["open-arms", "family-first"]);
}

#[test]
fn enter_on_a_client_row_opens_its_overview() {
    let mut s = on_command("global");
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Overview);
    assert_eq!(s.tenant.as_ref().map(|t| t.id), Some(tenant_id(2)));
    assert!(calls(&fx).contains(&Call::RecentLeads {
        tenant: tenant_id(2)
    }));
}

#[test]
fn the_global_screen_answers_to_its_palette_names() {
    for name in ["global", "analytics-all"] {
        let s = on_command(name);
        assert_eq!(s.screen, Screen::GlobalAnalytics, "{name}");
    }
    let s = on_command("overview");
    assert_eq!(s.screen, Screen::Tenants, "a client is picked first");
}
