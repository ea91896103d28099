//! Integrations screen: the palette opens it and it lists the tenant's ad sources; `s`
//! asks before a Meta backfill and sends it only when confirmed; a source not configured
//! says what it misses; who may sync. Pure `update`, no terminal, no network.

mod common;

use chrono::TimeDelta;
use common::*;
use crossterm::event::KeyCode;
use echo5_core::integrations::IntegrationState;
use echo5_core::integrations::meta_graph::MetaSyncQueued;
use echo5_tui::app::access;
use echo5_tui::app::overlay::{Overlay, PendingOp};
use echo5_tui::app::{Call, Reply, Screen, State, update};
use echo5_tui::keymap::Cmd;

fn on_integrations() -> State {
    let mut s = on_tenant_screen('4');
    let fx = update(&mut s, key(':'));
    settle(&mut s, fx);
    typ(&mut s, "integrations");
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    s.toasts.clear();
    s
}

fn toasts(s: &State) -> Vec<String> {
    s.toasts.iter().map(|t| t.text.clone()).collect()
}

#[test]
fn the_palette_opens_integrations_and_lists_the_tenants_sources() {
    let s = on_integrations();
    assert_eq!(s.screen, Screen::Integrations);
    let rows = s.integrations.rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].state, IntegrationState::Broken);
}

#[test]
fn s_asks_first_and_syncs_meta_only_when_confirmed() {
    let mut s = on_integrations();
    let fx = update(&mut s, key('s'));
    assert!(calls(&fx).is_empty(), "nothing is sent before the confirm");
    let since = match &s.overlay {
        Some(Overlay::Confirm(c)) => {
            assert!(c.message.contains("90 days"), "{}", c.message);
            assert!(
                c.message.contains("refuses"),
                "a broken source says so: {}",
                c.message
            );
            match c.op {
                PendingOp::SyncMeta { since } => since,
                ref other => panic!("{other:?}"),
            }
        }
        other => panic!("expected a confirm, got {other:?}"),
    };
    assert_eq!(since, now() - TimeDelta::days(90));
    // Esc: nothing sent.
    let fx = update(&mut s, code(KeyCode::Esc));
    assert!(calls(&fx).is_empty() && s.overlay.is_none());
    update(&mut s, key('s'));
    let fx = update(&mut s, key('y'));
    let reqs = requests(&fx);
    let sync = reqs
        .iter()
        .find(|r| matches!(r.call, Call::SyncMeta { .. }))
        .unwrap_or_else(|| panic!("no sync in {reqs:?}"));
    assert_eq!(
        sync.call,
        Call::SyncMeta {
            tenant: tenant_id(1),
            since
        }
    );
    // The answer is told and the sources are fetched again.
    let more = answer(
        &mut s,
        sync,
        Ok(Reply::MetaSyncQueued(MetaSyncQueued { forms: 3 })),
    );
    assert_eq!(
        toasts(&s),
        vec!["Meta sync queued for 3 lead forms".to_string()]
    );
    assert!(
        calls(&more)
            .iter()
            .any(|c| matches!(c, Call::ListIntegrations { .. })),
        "{more:?}"
    );
}

#[test]
fn a_meta_source_not_configured_says_what_it_misses_instead_of_asking() {
    let mut s = on_integrations();
    let meta = s
        .integrations
        .remote
        .data
        .as_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i.source == echo5_core::integrations::IntegrationSource::Meta)
        .unwrap();
    meta.state = IntegrationState::NotConfigured;
    meta.missing = vec!["settings.meta_access_token".into()];
    let fx = update(&mut s, key('s'));
    assert!(calls(&fx).is_empty());
    assert!(s.overlay.is_none());
    assert_eq!(
        toasts(&s),
        vec!["Meta is not configured: set settings.meta_access_token first".to_string()]
    );
}

#[test]
fn syncing_needs_the_right_to_change_settings() {
    let s = on_integrations();
    assert!(access::cmd_need(Screen::Integrations, Cmd::Sync).is_some());
    assert_eq!(
        access::screen_need(Screen::Integrations),
        access::screen_need(Screen::Settings)
    );
    assert!(access::can_open(&s, Screen::Integrations));
}
