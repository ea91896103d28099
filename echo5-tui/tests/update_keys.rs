//! Keys screen: create, rotate, reveal and revoke, and the once-only key modal. Pure
//! `update`, no terminal, no network.

mod common;

use chrono::TimeDelta;
use common::*;
use crossterm::event::KeyCode;
use echo5_core::secret::Secret;
use echo5_tui::app::ApiError;
use echo5_tui::app::bindings;
use echo5_tui::app::overlay::{Overlay, PendingOp};
use echo5_tui::app::state::ToastLevel;
use echo5_tui::app::{Call, Reply, Screen, SecretOrigin, State, update};

fn on_keys() -> State {
    on_tenant_screen('5')
}

fn single(fx: &[echo5_tui::app::Effect]) -> Call {
    match calls(fx).as_slice() {
        [c] => c.clone(),
        other => panic!("expected one call, got {other:?}"),
    }
}

fn shown_secrets(s: &State) -> Vec<String> {
    match &s.overlay {
        Some(Overlay::ShowKey(q)) => q.iter().map(|k| k.secret.expose().clone()).collect(),
        _ => Vec::new(),
    }
}

fn form_error(s: &State) -> String {
    match &s.overlay {
        Some(Overlay::Form(f)) => f.error.clone().unwrap_or_default(),
        other => panic!("expected a form, got {other:?}"),
    }
}

#[test]
fn number_key_opens_keys_and_lists_them() {
    let s = on_keys();
    assert_eq!(s.screen, Screen::Keys);
    assert_eq!(s.keys.remote.data.as_ref().map(Vec::len), Some(4));
    let mut s = started();
    update(&mut s, key('5'));
    // No tenant yet: the picker first, then back to Keys.
    assert_eq!(s.screen, Screen::Tenants);
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Keys);
    assert_eq!(
        calls(&fx),
        vec![
            Call::ListKeys {
                tenant: tenant_id(1)
            },
            Call::ListBreaches {
                tenant: Some(tenant_id(1))
            }
        ]
    );
}

#[test]
fn palette_and_tab_reach_keys() {
    let mut s = on_tenant_screen('4');
    update(&mut s, key(':'));
    typ(&mut s, "keys");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Keys);
    assert_eq!(
        single(&fx),
        Call::ListKeys {
            tenant: tenant_id(1)
        }
    );
    let mut s = on_tenant_screen('4');
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.screen, Screen::Keys);
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.screen, Screen::Leads);
    // On Leads, Tab moves between the table and the detail pane; S-Tab still goes back.
    update(&mut s, code(KeyCode::BackTab));
    assert_eq!(s.screen, Screen::Keys);
    let mut s = on_tenant_screen('1');
    update(&mut s, code(KeyCode::BackTab));
    // The platform and hidden screens come after the numbered ones; S-Tab reaches the last.
    assert_eq!(Some(s.screen), Screen::all().last(), "S-Tab wraps around");
}

#[test]
fn help_and_footer_come_from_the_keymap() {
    let sections = bindings::help_sections();
    let keys = sections
        .iter()
        .find(|(t, _)| *t == "Keys")
        .map(|(_, rows)| rows.clone())
        .unwrap_or_default();
    let descs: Vec<&str> = keys.iter().map(|(_, d)| *d).collect();
    assert_eq!(descs, vec!["create key", "rotate", "reveal", "revoke"]);
    assert!(keys.iter().any(|(k, d)| k == "x/d" && *d == "revoke"));
    let hints = bindings::hints(bindings::Ctx::Screen(Screen::Keys));
    assert_eq!(hints.first().map(|h| h.0.as_str()), Some("c"));
}

#[test]
fn create_with_and_without_label() {
    let mut s = on_keys();
    update(&mut s, key('c'));
    assert!(matches!(s.overlay, Some(Overlay::Form(_))));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        single(&fx),
        Call::CreateKey {
            tenant: tenant_id(1),
            label: None
        }
    );
    assert!(s.overlay.is_none());
    assert_eq!(s.saving, 1);

    update(&mut s, key('c'));
    typ(&mut s, "  caring.example ");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        single(&fx),
        Call::CreateKey {
            tenant: tenant_id(1),
            label: Some("caring.example".into())
        }
    );
}

#[test]
fn create_rejects_a_too_long_label_and_esc_cancels() {
    let mut s = on_keys();
    update(&mut s, key('c'));
    typ(&mut s, &"x".repeat(81));
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(form_error(&s).contains("label"), "{}", form_error(&s));
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    assert!(s.overlay.is_none());
}

#[test]
fn new_key_is_shown_once_and_dropped_on_dismiss() {
    let mut s = on_keys();
    update(&mut s, key('c'));
    typ(&mut s, "site");
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = requests(&fx)[0].clone();
    let more = answer(&mut s, &req, Ok(created_key("site")));
    assert_eq!(shown_secrets(&s), vec![FAKE_KEY.to_string()]);
    assert!(
        !format!("{s:?}").contains(FAKE_KEY),
        "the key never shows in Debug"
    );
    assert!(!format!("{more:?}").contains(FAKE_KEY));
    // The list is fetched again, and the cursor lands on the new key when it arrives.
    assert_eq!(
        single(&more),
        Call::ListKeys {
            tenant: tenant_id(1)
        }
    );
    let mut with_new = keys();
    if let Reply::KeySecret { key, .. } = created_key("site") {
        with_new.insert(1, key);
    }
    answer(&mut s, &requests(&more)[0], Ok(Reply::Keys(with_new)));
    assert_eq!(s.keys.view.selected, 1);
    assert_eq!(
        shown_secrets(&s).len(),
        1,
        "a refresh leaves the modal alone"
    );

    // Stray keys, including q and the screen's own keys, do not dismiss it.
    for c in ['j', 'q', 'x', 'c', '1', ':'] {
        assert!(update(&mut s, key(c)).is_empty());
        assert_eq!(shown_secrets(&s).len(), 1, "{c} must not dismiss");
    }
    assert!(!s.quit);
    update(&mut s, code(KeyCode::Enter));
    assert!(s.overlay.is_none());
    assert!(!format!("{s:?}").contains("FAKEfake"));
    assert_eq!(s.screen, Screen::Keys);
}

#[test]
fn esc_also_dismisses_and_queued_keys_show_in_turn() {
    let mut s = on_keys();
    let fx = update(&mut s, key('v'));
    let first = requests(&fx)[0].clone();
    update(&mut s, key('c'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let second = requests(&fx)[0].clone();
    let revealed = Reply::KeySecret {
        key: keys()[0].clone(),
        secret: Secret::new("e5_REVEALEDrevealed0000000000000000".into()),
        origin: SecretOrigin::Revealed,
    };
    answer(&mut s, &first, Ok(revealed));
    answer(&mut s, &second, Ok(created_key("default")));
    assert_eq!(shown_secrets(&s).len(), 2);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(shown_secrets(&s), vec![FAKE_KEY.to_string()]);
    update(&mut s, code(KeyCode::Esc));
    assert!(s.overlay.is_none());
}

#[test]
fn a_new_key_still_shows_after_switching_tenant() {
    let mut s = on_keys();
    update(&mut s, key('c'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = requests(&fx)[0].clone();
    update(&mut s, key(':'));
    typ(&mut s, "tenant caring");
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    assert_eq!(s.tenant.as_ref().map(|t| t.id), Some(tenant_id(2)));
    let more = answer(&mut s, &req, Ok(created_key("default")));
    assert!(more.is_empty(), "no refetch for a tenant no longer shown");
    match &s.overlay {
        Some(Overlay::ShowKey(q)) => assert_eq!(q[0].tenant_name, "Open Arms"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rotate_asks_for_grace_hours_default_24() {
    let mut s = on_keys();
    update(&mut s, key('R'));
    match &s.overlay {
        Some(Overlay::Form(f)) => {
            assert_eq!(f.fields[0].input.text(), "24");
            assert!(f.title.contains("e5_Zx9Qr"));
        }
        other => panic!("{other:?}"),
    }
    update(&mut s, code(KeyCode::Backspace));
    update(&mut s, code(KeyCode::Backspace));
    typ(&mut s, "721");
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(form_error(&s).contains("0 to 720"));
    update(&mut s, ctrl('u'));
    typ(&mut s, "0");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        single(&fx),
        Call::RotateKey {
            tenant: tenant_id(1),
            key: key_id(1),
            grace_hours: 0
        }
    );

    // Empty means the default.
    update(&mut s, key('R'));
    update(&mut s, ctrl('u'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(matches!(
        single(&fx),
        Call::RotateKey {
            grace_hours: 24,
            ..
        }
    ));
}

#[test]
fn rotated_key_is_shown_with_the_old_keys_end() {
    let mut s = on_keys();
    update(&mut s, key('R'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let mut old = keys()[0].clone();
    old.expires_at = Some(now() + TimeDelta::hours(24));
    let Reply::KeySecret { key, secret, .. } = created_key("openarms.com") else {
        panic!("fixture");
    };
    let more = answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::KeySecret {
            key,
            secret,
            origin: SecretOrigin::Rotated { old_key: old },
        }),
    );
    assert_eq!(shown_secrets(&s), vec![FAKE_KEY.to_string()]);
    assert!(
        s.toasts
            .iter()
            .any(|t| t.text.contains("e5_Zx9Qr works until 2026-03-03 09:30"))
    );
    assert!(matches!(single(&more), Call::ListKeys { .. }));
}

#[test]
fn rotate_and_reveal_refuse_dead_keys() {
    let mut s = on_keys();
    update(&mut s, key('G'));
    assert!(update(&mut s, key('R')).is_empty());
    assert!(s.overlay.is_none());
    assert!(s.toasts.iter().any(|t| t.text.contains("revoked")));
    update(&mut s, key('k'));
    assert!(update(&mut s, key('v')).is_empty());
    assert!(
        s.toasts
            .iter()
            .any(|t| t.text.contains("e5_Old11 is expired"))
    );
}

#[test]
fn a_grace_period_running_out_counts_at_the_console_clock() {
    let mut s = on_keys();
    update(&mut s, key('j'));
    // 23 hours later the rotated key's 22-hour grace is over, with no refetch.
    update(
        &mut s,
        echo5_tui::app::Action::Tick(now() + TimeDelta::hours(23)),
    );
    assert!(update(&mut s, key('R')).is_empty());
    assert!(s.toasts.iter().any(|t| t.text.contains("expired")));
}

#[test]
fn reveal_sends_at_once_and_shows_the_key() {
    let mut s = on_keys();
    update(&mut s, key('j'));
    let fx = update(&mut s, key('v'));
    assert_eq!(
        single(&fx),
        Call::RevealKey {
            tenant: tenant_id(1),
            key: key_id(2)
        }
    );
    let more = answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::KeySecret {
            key: keys()[1].clone(),
            secret: Secret::new(FAKE_KEY.into()),
            origin: SecretOrigin::Revealed,
        }),
    );
    assert!(more.is_empty(), "a reveal changes nothing to refetch");
    assert_eq!(shown_secrets(&s).len(), 1);
}

#[test]
fn revoke_asks_first_with_x_or_d() {
    for c in ['x', 'd'] {
        let mut s = on_keys();
        assert!(update(&mut s, key(c)).is_empty());
        match &s.overlay {
            Some(Overlay::Confirm(cf)) => {
                assert_eq!(cf.op, PendingOp::RevokeKey { key: key_id(1) });
                assert!(cf.message.contains("e5_Zx9Qr"));
            }
            other => panic!("{other:?}"),
        }
        assert!(update(&mut s, key('n')).is_empty());
        assert!(s.overlay.is_none());
        update(&mut s, key(c));
        let fx = update(&mut s, key('y'));
        assert_eq!(
            single(&fx),
            Call::RevokeKey {
                tenant: tenant_id(1),
                key: key_id(1)
            }
        );
        let mut revoked = keys()[0].clone();
        revoked.revoked_at = Some(now());
        revoked.status = echo5_core::keys::KeyStatus::Revoked;
        let more = answer(&mut s, &requests(&fx)[0], Ok(Reply::KeyRevoked(revoked)));
        assert_eq!(
            s.keys.remote.data.as_ref().and_then(|k| k[0].revoked_at),
            Some(now())
        );
        assert!(matches!(single(&more), Call::ListKeys { .. }));
    }
}

#[test]
fn revoking_a_revoked_key_says_so() {
    let mut s = on_keys();
    update(&mut s, key('G'));
    assert!(update(&mut s, key('x')).is_empty());
    assert!(s.overlay.is_none());
    assert!(s.toasts.iter().any(|t| t.text.contains("already revoked")));
}

#[test]
fn a_refused_create_toasts_and_refetches() {
    let mut s = on_keys();
    update(&mut s, key('c'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let err = ApiError::Http {
        status: 422,
        detail: echo5_core::ErrorDetail {
            code: "invalid".into(),
            message: "label is too long".into(),
            field: Some("label".into()),
        },
    };
    let more = answer(&mut s, &requests(&fx)[0], Err(err));
    assert!(s.overlay.is_none());
    assert!(
        s.toasts
            .iter()
            .any(|t| t.level == ToastLevel::Error && t.text.contains("label is too long"))
    );
    assert!(matches!(single(&more), Call::ListKeys { .. }));
    assert_eq!(s.saving, 0);
}

#[test]
fn filter_and_cursor_work_on_keys() {
    let mut s = on_keys();
    update(&mut s, key('/'));
    typ(&mut s, "landing");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.keys.filtered().len(), 1);
    assert_eq!(s.keys.selected().map(|k| k.id), Some(key_id(3)));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.keys.filtered().len(), 4);
    update(&mut s, key('G'));
    assert_eq!(s.keys.selected().map(|k| k.id), Some(key_id(4)));
    update(&mut s, key('g'));
    assert_eq!(s.keys.selected().map(|k| k.id), Some(key_id(1)));
}

#[test]
fn switching_tenant_forgets_the_keys() {
    let mut s = on_keys();
    update(&mut s, key('j'));
    update(&mut s, key(':'));
    typ(&mut s, "tenant caring");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.keys.view.selected, 0);
    // The keys, and the breach list the header counts, which follows the tenant.
    assert_eq!(
        calls(&fx),
        vec![
            Call::ListKeys {
                tenant: tenant_id(2)
            },
            Call::ListBreaches {
                tenant: Some(tenant_id(2))
            }
        ]
    );
    assert!(s.keys.remote.data.is_none());
}
