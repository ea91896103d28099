//! Screens, tabs, key hints and palette commands per principal, decided by core's
//! `authorize`: a manager, an agent, a tenant admin and an owner each see only what they
//! may use, and a key pressed anyway does nothing but say "not allowed".

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_core::users::{Role, User};
use echo5_tui::app::access::{self, NOT_ALLOWED};
use echo5_tui::app::bindings::{Ctx, hints_for};
use echo5_tui::app::{Call, Effect, Screen, State, update};

fn manager() -> User {
    team()[1].clone()
}

/// An agent with the role's own permissions (read-only).
fn agent() -> User {
    user(
        5,
        "ann@openarms.example",
        "Ann Agent",
        Role::Agent,
        Some(tenant_id(1)),
    )
}

fn admin() -> User {
    team()[0].clone()
}

fn owner() -> User {
    platform_users()[0].clone()
}

fn visible(s: &State) -> Vec<Screen> {
    Screen::all().filter(|x| access::can_open(s, *x)).collect()
}

fn hint_keys(s: &State) -> Vec<String> {
    hints_for(s, Ctx::Screen(s.screen))
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

fn palette(s: &State) -> Vec<String> {
    access::completions(s, "")
}

/// Presses `c` and checks it did nothing but toast "not allowed".
fn refused(s: &mut State, action: echo5_tui::app::Action) {
    let (screen, overlay) = (s.screen, s.overlay.clone());
    s.toasts.clear();
    let fx: Vec<Effect> = update(s, action);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(s.screen, screen);
    assert_eq!(s.overlay, overlay);
    let texts: Vec<&str> = s.toasts.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts, [NOT_ALLOWED]);
}

#[test]
fn a_manager_sees_their_lead_screens_and_nothing_of_settings_or_the_platform() {
    let mut s = logged_in_as(manager());
    assert_eq!(
        visible(&s),
        [
            Screen::Tenants,
            Screen::Pipeline,
            Screen::Leads,
            Screen::Breaches,
            Screen::Analytics,
            Screen::Overview
        ]
    );
    let p = palette(&s);
    for hidden in [
        "settings",
        "keys",
        "platform",
        "usage",
        "logs",
        "team",
        "users",
        "audit",
        "dashboard",
        "all",
        "global",
    ] {
        assert!(!p.iter().any(|c| c == hidden), "{hidden} offered: {p:?}");
    }
    for shown in ["leads", "sla", "analytics", "logout"] {
        assert!(p.iter().any(|c| c == shown), "{shown} missing: {p:?}");
    }
    // The overview's quick actions: leads, analytics, pipeline, add; no settings or keys.
    assert_eq!(s.screen, Screen::Overview);
    let keys = hint_keys(&s);
    assert!(
        keys.contains(&"l".to_string()) && keys.contains(&"a".to_string()),
        "{keys:?}"
    );
    assert!(!keys.contains(&"s".to_string()), "{keys:?}");
    refused(&mut s, key('s'));
    refused(&mut s, key('K'));
    // Number keys and the palette for screens they may not open.
    refused(&mut s, key('4'));
    refused(&mut s, key('5'));
    refused(&mut s, key('1'));
    update(&mut s, key(':'));
    typ(&mut s, "settings");
    s.toasts.clear();
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(fx.is_empty());
    assert!(s.toasts.iter().any(|t| t.text == NOT_ALLOWED));
    // Tab walks only the screens they may open.
    let mut seen = Vec::new();
    for _ in 0..20 {
        update(&mut s, code(KeyCode::Tab));
        seen.push(s.screen);
    }
    assert!(seen.iter().all(|x| visible(&s).contains(x)), "{seen:?}");
    // On Leads a manager moves, notes and assigns.
    update(&mut s, key('6'));
    let keys = hint_keys(&s);
    for k in ["m", "n", "a"] {
        assert!(keys.contains(&k.to_string()), "{k} missing: {keys:?}");
    }
    // Erasing needs delete_leads, which a manager's role does not give.
    refused(&mut s, key('D'));
}

#[test]
fn an_agent_reads_leads_but_has_no_key_that_changes_one() {
    let mut s = logged_in_as(agent());
    update(&mut s, key('6'));
    assert_eq!(s.screen, Screen::Leads);
    let keys = hint_keys(&s);
    for k in ["m", "n", "a"] {
        assert!(!keys.contains(&k.to_string()), "{k} shown: {keys:?}");
    }
    assert!(
        keys.contains(&"f".to_string()),
        "reading keys stay: {keys:?}"
    );
    // A lead open, the keys pressed anyway only say so.
    update(&mut s, code(KeyCode::Enter));
    for k in ['m', 'n', 'a', 'c', 'u'] {
        refused(&mut s, key(k));
    }
    update(&mut s, key('7'));
    assert_eq!(s.screen, Screen::Breaches);
    for k in ['m', 'n', 'a', 't'] {
        refused(&mut s, key(k));
    }
    // The help lists no key they cannot use.
    let help: Vec<String> = echo5_tui::app::bindings::help_sections_for(&s)
        .into_iter()
        .map(|(t, _)| t.to_string())
        .collect();
    assert!(!help.contains(&"Settings".to_string()), "{help:?}");
    assert!(!help.contains(&"Platform".to_string()), "{help:?}");
}

#[test]
fn an_agent_given_edit_leads_gets_the_keys_that_edit() {
    // Tom is an agent with an `edit_leads` override.
    let mut s = logged_in_as(team()[2].clone());
    let fx = update(&mut s, key('6'));
    settle(&mut s, fx);
    let keys = hint_keys(&s);
    for k in ["m", "n", "a"] {
        assert!(keys.contains(&k.to_string()), "{k} missing: {keys:?}");
    }
    assert!(!access::can_open(&s, Screen::Settings));
}

#[test]
fn a_tenant_admin_has_the_tenant_screens_and_its_team_but_not_the_platform() {
    let mut s = logged_in_as(admin());
    let v = visible(&s);
    for shown in [
        Screen::Settings,
        Screen::Keys,
        Screen::Team,
        Screen::Leads,
        Screen::Pipeline,
    ] {
        assert!(v.contains(&shown), "{shown:?} missing");
    }
    // A tenant admin may erase a lead: D asks to confirm.
    let fx = update(&mut s, key('6'));
    assert_eq!(s.screen, Screen::Leads);
    settle(&mut s, fx);
    assert!(!s.leads.rows().is_empty());
    update(&mut s, key('D'));
    assert!(
        matches!(
            s.overlay,
            Some(echo5_tui::app::overlay::Overlay::Confirm(_))
        ),
        "{:?}",
        s.overlay
    );
    update(&mut s, code(KeyCode::Esc));
    for hidden in [
        Screen::Dashboard,
        Screen::Platform,
        Screen::Usage,
        Screen::Logs,
        Screen::Users,
        Screen::AllLeads,
        Screen::GlobalAnalytics,
    ] {
        assert!(!v.contains(&hidden), "{hidden:?} shown");
    }
    update(&mut s, key('3'));
    let keys = hint_keys(&s);
    assert!(
        keys.contains(&"a".to_string()) && keys.contains(&"d".to_string()),
        "{keys:?}"
    );
    update(&mut s, key(':'));
    typ(&mut s, "team");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Team);
    assert!(
        calls(&fx)
            .iter()
            .any(|c| matches!(c, Call::ListUsers { .. }))
    );
    // The picker cannot create a client.
    update(&mut s, key('2'));
    refused(&mut s, key('a'));
}

#[test]
fn an_owner_has_every_screen_and_key() {
    let s = logged_in_as(owner());
    assert_eq!(visible(&s).len(), Screen::all().count());
    let p = palette(&s);
    for c in ["users", "team", "platform", "logs", "logout"] {
        assert!(p.iter().any(|x| x == c), "{c} missing: {p:?}");
    }
    assert_eq!(hint_keys(&s), hint_keys(&started()));
}
