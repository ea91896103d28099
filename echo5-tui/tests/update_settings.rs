//! Settings key handling: edit, validate with core's rules, replace and clear secrets.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_core::secret::Secret;
use echo5_tui::app::overlay::Overlay;
use echo5_tui::app::{Call, Reply, SettingsChange, update};

fn patch(fx: &[echo5_tui::app::Effect]) -> SettingsChange {
    match calls(fx).as_slice() {
        [Call::PatchSettings { tenant, change }] => {
            assert_eq!(*tenant, tenant_id(1));
            change.clone()
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn sla_hours_edit_validates_then_saves() {
    let mut s = on_tenant_screen('4');
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, ctrl('u'));
    typ(&mut s, "0");
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    match &s.overlay {
        Some(Overlay::Form(f)) => assert!(
            f.error
                .as_deref()
                .unwrap_or("")
                .contains("between 1 and 720")
        ),
        other => panic!("{other:?}"),
    }
    update(&mut s, code(KeyCode::Backspace));
    typ(&mut s, "4");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(patch(&fx), SettingsChange::SlaHours(4));
    let mut saved = open_arms_settings();
    saved.sla_hours = 4;
    answer(&mut s, &requests(&fx)[0], Ok(Reply::SettingsSaved(saved)));
    assert_eq!(
        s.settings.remote.data.as_ref().map(|x| x.sla_hours),
        Some(4)
    );
    // The dashboard's copy follows.
    assert_eq!(
        s.tenants
            .remote
            .data
            .as_ref()
            .map(|t| t[0].settings.sla_hours),
        Some(4)
    );
    assert!(s.toasts.iter().any(|t| t.text == "settings saved"));
}

#[test]
fn keywords_are_split_and_normalised() {
    let mut s = on_tenant_screen('4');
    update(&mut s, key('j'));
    update(&mut s, key('e'));
    update(&mut s, ctrl('u'));
    typ(&mut s, "Casino, , Loans ,casino");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        patch(&fx),
        SettingsChange::SpamKeywords(vec!["casino".into(), "loans".into()])
    );
}

#[test]
fn email_is_checked_and_empty_clears() {
    let mut s = on_tenant_screen('4');
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, ctrl('u'));
    typ(&mut s, "not-an-email");
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    update(&mut s, ctrl('u'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(patch(&fx), SettingsChange::ManagerEmail(None));
}

#[test]
fn secret_is_typed_masked_and_sent_wrapped() {
    let mut s = on_tenant_screen('4');
    update(&mut s, key('G'));
    update(&mut s, key('k')); // Meta access token
    update(&mut s, code(KeyCode::Enter));
    match &s.overlay {
        Some(Overlay::Form(f)) => {
            assert!(f.fields[0].secret && f.fields[0].input.text().is_empty())
        }
        other => panic!("{other:?}"),
    }
    typ(&mut s, "EAAGnewtoken5678");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        patch(&fx),
        SettingsChange::MetaAccessToken(Some(Secret::new("EAAGnewtoken5678".into())))
    );
    assert!(
        !format!("{fx:?}").contains("newtoken"),
        "effects never print a secret"
    );
}

#[test]
fn google_ads_needs_all_three_fields() {
    let mut s = on_tenant_screen('4');
    update(&mut s, key('G'));
    update(&mut s, code(KeyCode::Enter));
    typ(&mut s, "123-456-7890");
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "customers/1/conversionActions/2");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "whk_abcdefgh");
    let fx = update(&mut s, code(KeyCode::Enter));
    match patch(&fx) {
        SettingsChange::GoogleAds(Some(g)) => assert_eq!(g.expose().webhook_key, "whk_abcdefgh"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn clearing_asks_first_and_sla_cannot_be_cleared() {
    let mut s = on_tenant_screen('4');
    assert!(update(&mut s, key('x')).is_empty());
    assert!(s.overlay.is_none());
    update(&mut s, key('G'));
    update(&mut s, key('k'));
    update(&mut s, key('x'));
    assert!(matches!(s.overlay, Some(Overlay::Confirm(_))));
    let fx = update(&mut s, key('y'));
    assert_eq!(patch(&fx), SettingsChange::MetaAccessToken(None));
}

#[test]
fn the_phone_country_is_checked_upper_cased_and_sent_alone() {
    let mut s = on_tenant_screen('4');
    for _ in 0..3 {
        update(&mut s, key('j'));
    }
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, ctrl('u'));
    typ(&mut s, "XX");
    // Refused with core's rule: the form stays open and says why.
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    match &s.overlay {
        Some(echo5_tui::app::overlay::Overlay::Form(f)) => {
            assert!(
                f.error
                    .as_deref()
                    .is_some_and(|e| e.contains("default_country")),
                "{:?}",
                f.error
            );
        }
        other => panic!("the form is still open: {other:?}"),
    }
    update(&mut s, ctrl('u'));
    typ(&mut s, "gb");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(patch(&fx), SettingsChange::DefaultCountry("GB".into()));
    // It cannot be cleared, only set to another country.
    let fx = update(&mut s, key('x'));
    assert!(requests(&fx).is_empty());
    assert!(s.overlay.is_none());
}

#[test]
fn auto_assign_switches_after_a_confirmation_and_clears_to_none() {
    use echo5_core::assignment::AutoAssign;
    let mut s = on_tenant_screen('4');
    for _ in 0..4 {
        update(&mut s, key('j'));
    }
    // Off: x has nothing to clear; Enter offers round robin, and only y sends it.
    assert!(update(&mut s, key('x')).is_empty());
    assert!(s.overlay.is_none());
    update(&mut s, code(KeyCode::Enter));
    assert!(matches!(s.overlay, Some(Overlay::Confirm(_))));
    assert!(requests(&update(&mut s, code(KeyCode::Esc))).is_empty());
    assert!(s.overlay.is_none());
    update(&mut s, code(KeyCode::Enter));
    let fx = update(&mut s, key('y'));
    assert_eq!(
        patch(&fx),
        SettingsChange::AutoAssign(AutoAssign::RoundRobin)
    );
    let mut saved = open_arms_settings();
    saved.auto_assign = AutoAssign::RoundRobin;
    answer(&mut s, &requests(&fx)[0], Ok(Reply::SettingsSaved(saved)));
    // On: Enter offers none, and so does x.
    update(&mut s, code(KeyCode::Enter));
    let fx = update(&mut s, key('y'));
    assert_eq!(patch(&fx), SettingsChange::AutoAssign(AutoAssign::None));
    update(&mut s, key('x'));
    let fx = update(&mut s, key('y'));
    assert_eq!(patch(&fx), SettingsChange::AutoAssign(AutoAssign::None));
}

/// The business-hours row: the one above the two secrets.
fn to_business_hours(s: &mut echo5_tui::app::State) {
    update(s, key('G'));
    update(s, key('k'));
    update(s, key('k'));
}

#[test]
fn business_hours_are_edited_as_json_checked_with_core_and_cleared() {
    let mut s = on_tenant_screen('4');
    to_business_hours(&mut s);
    // Not set: x says so and sends nothing.
    assert!(update(&mut s, key('x')).is_empty());
    assert!(s.overlay.is_none());
    update(&mut s, code(KeyCode::Enter));
    match &s.overlay {
        Some(Overlay::Form(f)) => assert!(
            f.fields[0].input.text().contains("\"timezone\""),
            "an example to edit"
        ),
        other => panic!("{other:?}"),
    }
    update(&mut s, ctrl('u'));
    typ(
        &mut s,
        r#"{"timezone":"Europe/London","week":{"mon":["09:00","25:00"]}}"#,
    );
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    match &s.overlay {
        Some(Overlay::Form(f)) => assert!(
            f.error.as_deref().unwrap_or("").contains("week.mon[1]"),
            "{:?}",
            f.error
        ),
        other => panic!("{other:?}"),
    }
    update(&mut s, ctrl('u'));
    typ(&mut s, "not json");
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    update(&mut s, ctrl('u'));
    typ(
        &mut s,
        r#"{"timezone":"Europe/London","week":{"mon":["09:00","17:30"]},"holidays":["2026-12-28","2026-12-25"]}"#,
    );
    let fx = update(&mut s, code(KeyCode::Enter));
    let SettingsChange::BusinessHours(Some(b)) = patch(&fx) else {
        panic!("{fx:?}")
    };
    assert_eq!(b.timezone, "Europe/London");
    assert_eq!(
        b.holidays,
        ["2026-12-25", "2026-12-28"],
        "normalised by core"
    );
    let mut saved = open_arms_settings();
    saved.business_hours = Some(*b);
    answer(&mut s, &requests(&fx)[0], Ok(Reply::SettingsSaved(saved)));
    // Set: x asks first, then clears with null.
    assert!(update(&mut s, key('x')).is_empty());
    assert!(matches!(s.overlay, Some(Overlay::Confirm(_))));
    let fx = update(&mut s, key('y'));
    assert_eq!(patch(&fx), SettingsChange::BusinessHours(None));
}
