//! Dashboard and tenant picker key handling.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_tui::app::{Call, Screen, update};

#[test]
fn cursor_moves_and_stays_in_bounds() {
    let mut s = started();
    update(&mut s, key('k'));
    assert_eq!(s.dashboard.view.selected, 0);
    update(&mut s, key('j'));
    update(&mut s, code(KeyCode::Down));
    update(&mut s, key('j'));
    assert_eq!(s.dashboard.view.selected, 2);
    update(&mut s, key('g'));
    assert_eq!(s.dashboard.view.selected, 0);
    update(&mut s, key('G'));
    assert_eq!(s.dashboard.view.selected, 2);
}

#[test]
fn filter_narrows_and_esc_clears() {
    let mut s = started();
    update(&mut s, key('/'));
    typ(&mut s, "car");
    assert_eq!(s.tenants.filtered(&s.dashboard.view).len(), 1);
    update(&mut s, code(KeyCode::Enter));
    assert!(s.overlay.is_none());
    assert_eq!(s.dashboard.view.filter, "car");
    // j/k act on the list again once the filter line is closed.
    update(&mut s, key('j'));
    assert_eq!(s.dashboard.view.selected, 0);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.dashboard.view.filter, "");
    assert_eq!(s.tenants.filtered(&s.dashboard.view).len(), 3);
}

#[test]
fn enter_opens_the_client_overview() {
    let mut s = started();
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Overview);
    assert_eq!(s.tenant.as_ref().map(|t| t.id), Some(tenant_id(2)));
    // The client's newest leads first, and the breach list the header counts, which
    // follows the tenant.
    assert_eq!(
        calls(&fx).first(),
        Some(&Call::RecentLeads {
            tenant: tenant_id(2)
        })
    );
    assert!(calls(&fx).contains(&Call::ListBreaches {
        tenant: Some(tenant_id(2))
    }));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Dashboard);
}

#[test]
fn picker_filter_then_enter_picks_the_filtered_row() {
    let mut s = started();
    update(&mut s, key('2'));
    update(&mut s, key('/'));
    typ(&mut s, "first");
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.tenant.as_ref().map(|t| t.slug.as_str()),
        Some("family-first")
    );
    assert_eq!(
        s.screen,
        Screen::Dashboard,
        "back where the operator came from"
    );
}

#[test]
fn switching_tenant_drops_the_old_tenant_data() {
    let mut s = on_tenant_screen('3');
    assert!(s.stages.remote.data.is_some());
    update(&mut s, key('2'));
    update(&mut s, key('j'));
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Pipeline);
    assert!(
        s.stages.remote.data.is_none(),
        "Open Arms' stages must not show under Caring Hearts"
    );
}
