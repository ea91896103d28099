//! Screen changes, help, palette and quitting: pure `update`, no terminal, no network.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_tui::app::overlay::Overlay;
use echo5_tui::app::{Call, Screen, update};

#[test]
fn start_fetches_the_dashboard_and_the_tenant_list() {
    let mut s = echo5_tui::app::State::new("http://x", now());
    let fx = update(&mut s, echo5_tui::app::Action::Tick(now()));
    // The breach list too: the header counts breaches on every screen.
    assert_eq!(
        calls(&fx),
        vec![
            Call::Dashboard,
            Call::ListTenants,
            Call::ListBreaches { tenant: None }
        ]
    );
    assert!(s.tenants.remote.loading());
    assert!(s.dashboard.remote.loading());
}

#[test]
fn number_keys_and_tab_switch_screens_and_esc_goes_back() {
    let mut s = started();
    update(&mut s, key('2'));
    assert_eq!(s.screen, Screen::Tenants);
    update(&mut s, code(KeyCode::Tab));
    // Pipeline needs a tenant: the picker stays, waiting for one.
    assert_eq!(s.screen, Screen::Tenants);
    assert_eq!(s.after_pick, Some(Screen::Pipeline));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Dashboard);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Dashboard, "Esc with no history stays");
}

#[test]
fn per_tenant_screen_goes_through_the_picker_and_comes_back() {
    let mut s = started();
    update(&mut s, key('4'));
    assert_eq!(s.screen, Screen::Tenants);
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Settings);
    assert_eq!(
        s.tenant.as_ref().map(|t| t.slug.as_str()),
        Some("caring-hearts")
    );
    assert_eq!(
        calls(&fx),
        vec![
            Call::GetSettings {
                tenant: tenant_id(2)
            },
            Call::ListBreaches {
                tenant: Some(tenant_id(2))
            }
        ]
    );
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(
        s.screen,
        Screen::Dashboard,
        "the picker is not in the back history"
    );
}

#[test]
fn q_quits_and_ctrl_c_quits_even_from_a_dialog() {
    let mut s = started();
    update(&mut s, key('q'));
    assert!(s.quit);
    let mut s = started();
    update(&mut s, key(':'));
    update(&mut s, ctrl('c'));
    assert!(s.quit);
}

#[test]
fn help_opens_and_closes() {
    let mut s = started();
    update(&mut s, key('?'));
    assert!(matches!(s.overlay, Some(Overlay::Help { .. })));
    update(&mut s, key('j'));
    assert!(matches!(s.overlay, Some(Overlay::Help { scroll: 1 })));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.overlay.is_none());
    // q closes help rather than quitting.
    update(&mut s, key('?'));
    update(&mut s, key('q'));
    assert!(!s.quit);
}

#[test]
fn palette_switches_tenant_with_completion() {
    let mut s = started();
    update(&mut s, key(':'));
    typ(&mut s, "ten");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "car");
    update(&mut s, code(KeyCode::Tab));
    match &s.overlay {
        Some(Overlay::Palette(p)) => assert_eq!(p.input.text(), "tenant caring-hearts"),
        other => panic!("{other:?}"),
    }
    let gen_before = s.tenant_gen;
    update(&mut s, code(KeyCode::Enter));
    assert!(s.overlay.is_none());
    assert_eq!(
        s.tenant.as_ref().map(|t| t.name.as_str()),
        Some("Caring Hearts")
    );
    assert_eq!(s.tenant_gen, gen_before + 1);
}

#[test]
fn palette_matches_by_name_prefix_and_reports_ambiguity() {
    let mut s = started();
    update(&mut s, key(':'));
    typ(&mut s, "tenant fam");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.tenant.as_ref().map(|t| t.slug.as_str()),
        Some("family-first")
    );

    update(&mut s, key(':'));
    typ(&mut s, "tenant ar");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.tenant.as_ref().map(|t| t.slug.as_str()),
        Some("family-first"),
        "unchanged"
    );
    assert!(
        s.toasts.iter().any(|t| t.text.contains("matches")),
        "{:?}",
        s.toasts
    );
}

#[test]
fn palette_opens_screens_by_prefix_and_rejects_unknown() {
    let mut s = on_tenant_screen('1');
    update(&mut s, key(':'));
    typ(&mut s, "pipe");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Pipeline);
    assert!(
        calls(&fx).contains(&Call::ListStages {
            tenant: tenant_id(1)
        }) || s.stages.remote.data.is_some()
    );
    update(&mut s, key(':'));
    typ(&mut s, "bogus");
    update(&mut s, code(KeyCode::Enter));
    assert!(s.toasts.iter().any(|t| t.text.contains("unknown command")));
}

#[test]
fn help_lists_every_binding_from_the_keymap() {
    let sections = echo5_tui::app::bindings::help_sections();
    let all: Vec<&str> = sections
        .iter()
        .flat_map(|(_, r)| r.iter().map(|(_, d)| *d))
        .collect();
    assert_eq!(all.len(), echo5_tui::app::bindings::all_bindings().len());
    assert!(all.contains(&"move up"));
}
