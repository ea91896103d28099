//! Webhooks and Deliveries screens: create with the secret shown once, edit, pause, delete
//! and rotate with a confirmation, test; the delivery log's status filter, retry and
//! recover; and who sees the screens at all. Pure `update`, no terminal, no network.

mod common;

use chrono::TimeDelta;
use common::*;
use crossterm::event::KeyCode;
use echo5_core::users::{Role, User};
use echo5_core::webhooks::{DeliveryStatus, NewWebhook, Recovered, WebhookPatch};
use echo5_tui::app::access::{self, NOT_ALLOWED};
use echo5_tui::app::bindings::{self, Ctx, hints_for};
use echo5_tui::app::overlay::{Overlay, PendingOp};
use echo5_tui::app::{Call, Effect, Reply, Screen, State, update};

fn on_webhooks() -> State {
    let mut s = on_tenant_screen('4');
    let fx = update(&mut s, key(':'));
    settle(&mut s, fx);
    typ(&mut s, "webhooks");
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    s.toasts.clear();
    s
}

/// The CRM endpoint's delivery log open.
fn on_deliveries() -> State {
    let mut s = on_webhooks();
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    s.toasts.clear();
    s
}

fn single(fx: &[Effect]) -> Call {
    match calls(fx).as_slice() {
        [c] => c.clone(),
        other => panic!("expected one call, got {other:?}"),
    }
}

fn one_request(fx: &[Effect]) -> echo5_tui::app::Request {
    match requests(fx).as_slice() {
        [r] => r.clone(),
        other => panic!("expected one request, got {other:?}"),
    }
}

fn shown_secrets(s: &State) -> Vec<String> {
    match &s.overlay {
        Some(Overlay::ShowWebhookSecret(q)) => {
            q.iter().map(|k| k.secret.expose().clone()).collect()
        }
        _ => Vec::new(),
    }
}

fn form_error(s: &State) -> String {
    match &s.overlay {
        Some(Overlay::Form(f)) => f.error.clone().unwrap_or_default(),
        other => panic!("expected a form, got {other:?}"),
    }
}

fn ticks(s: &State) -> Vec<bool> {
    match &s.overlay {
        Some(Overlay::PickEvents(p)) => p.checked.clone(),
        other => panic!("expected the events chooser, got {other:?}"),
    }
}

fn toasts(s: &State) -> Vec<String> {
    s.toasts.iter().map(|t| t.text.clone()).collect()
}

#[test]
fn the_palette_opens_webhooks_and_lists_the_tenants_endpoints() {
    let s = on_webhooks();
    assert_eq!(s.screen, Screen::Webhooks);
    assert_eq!(s.webhooks.remote.data.as_ref().map(Vec::len), Some(3));
    let mut s = on_tenant_screen('4');
    update(&mut s, key(':'));
    typ(&mut s, "hooks");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Webhooks, "the alias works too");
    assert_eq!(
        single(&fx),
        Call::ListWebhooks {
            tenant: tenant_id(1)
        }
    );
}

#[test]
fn create_shows_the_secret_once_and_then_forgets_it() {
    let mut s = on_webhooks();
    update(&mut s, key('c'));
    typ(&mut s, "https://crm.example/hook");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "new CRM");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(fx.is_empty(), "the events come first: {fx:?}");
    // "All events" is ticked to begin with.
    assert!(ticks(&s)[0]);
    assert!(ticks(&s)[1..].iter().all(|t| !t));
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = one_request(&fx);
    assert_eq!(
        req.call,
        Call::CreateWebhook {
            tenant: tenant_id(1),
            new: NewWebhook {
                url: "https://crm.example/hook".into(),
                events: vec!["*".into()],
                description: Some("new CRM".into()),
                active: None,
            }
        }
    );
    assert!(s.overlay.is_none());
    let fx = answer(&mut s, &req, Ok(webhook_secret(0, false)));
    assert_eq!(shown_secrets(&s), [FAKE_WEBHOOK_SECRET]);
    // The list is fetched again and the cursor goes to the new endpoint.
    assert_eq!(
        calls(&fx),
        vec![Call::ListWebhooks {
            tenant: tenant_id(1)
        }]
    );
    // No Debug of the state shows it (the modal holds it as a Secret).
    assert!(!format!("{s:?}").contains(FAKE_WEBHOOK_SECRET));
    // A stray key does not lose it: only Enter or Esc does.
    for c in ['j', 'q', 'x', 'd'] {
        let fx = update(&mut s, key(c));
        assert!(fx.is_empty());
        assert_eq!(shown_secrets(&s), [FAKE_WEBHOOK_SECRET], "{c} dismissed it");
    }
    assert!(!s.quit);
    update(&mut s, code(KeyCode::Enter));
    assert!(s.overlay.is_none());
    assert!(shown_secrets(&s).is_empty());
    // Gone for good: the fresh list has no secret, and nothing brings the modal back.
    settle(&mut s, fx);
    for a in [key('j'), key('k'), code(KeyCode::Esc)] {
        update(&mut s, a);
        assert!(shown_secrets(&s).is_empty());
    }
}

#[test]
fn a_secret_answered_after_a_tenant_switch_is_still_shown() {
    let mut s = on_webhooks();
    update(&mut s, key('c'));
    typ(&mut s, "https://crm.example/hook");
    update(&mut s, code(KeyCode::Enter));
    let req = one_request(&update(&mut s, code(KeyCode::Enter)));
    update(&mut s, key(':'));
    typ(&mut s, "tenant caring-hearts");
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    answer(&mut s, &req, Ok(webhook_secret(0, false)));
    assert_eq!(shown_secrets(&s), [FAKE_WEBHOOK_SECRET]);
}

#[test]
fn the_create_form_refuses_what_is_no_url_and_keeps_what_was_typed() {
    let mut s = on_webhooks();
    update(&mut s, key('c'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(fx.is_empty());
    assert_eq!(form_error(&s), "the URL is required");
    typ(&mut s, "ftp://crm.example");
    update(&mut s, code(KeyCode::Enter));
    // Core's rule, the one the daemon applies.
    assert_eq!(form_error(&s), "url must be http:// or https://");
    match &s.overlay {
        Some(Overlay::Form(f)) => assert_eq!(f.fields[0].input.text(), "ftp://crm.example"),
        other => panic!("{other:?}"),
    }
    let mut s = on_webhooks();
    update(&mut s, key('c'));
    typ(&mut s, "https://user:pw@crm.example/hook");
    update(&mut s, code(KeyCode::Enter));
    assert!(
        form_error(&s).contains("user or password"),
        "{}",
        form_error(&s)
    );
}

#[test]
fn the_events_chooser_ticks_all_or_types_and_needs_one() {
    let mut s = on_webhooks();
    update(&mut s, key('c'));
    typ(&mut s, "https://crm.example/hook");
    update(&mut s, code(KeyCode::Enter));
    // Ticking a type unticks "all events".
    update(&mut s, key('j'));
    update(&mut s, key(' '));
    assert_eq!(&ticks(&s)[..3], [false, true, false]);
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    update(&mut s, key('x'));
    // Nothing ticked is refused in place.
    let mut none = s.clone();
    update(&mut none, key(' '));
    update(&mut none, key('k'));
    update(&mut none, key('k'));
    update(&mut none, key(' '));
    assert!(ticks(&none).iter().all(|t| !t));
    assert!(update(&mut none, code(KeyCode::Enter)).is_empty());
    match &none.overlay {
        Some(Overlay::PickEvents(p)) => assert!(p.error.is_some()),
        other => panic!("{other:?}"),
    }
    let fx = update(&mut s, code(KeyCode::Enter));
    match single(&fx) {
        Call::CreateWebhook { new, .. } => {
            assert_eq!(new.events, ["lead.created", "lead.stage_changed"]);
            assert_eq!(new.description, None);
        }
        other => panic!("{other:?}"),
    }
    // Ticking "all events" again unticks every type; Esc sends nothing.
    let mut s = on_webhooks();
    update(&mut s, key('c'));
    typ(&mut s, "https://crm.example/hook");
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key(' '));
    update(&mut s, key('j'));
    update(&mut s, key(' '));
    update(&mut s, key('k'));
    update(&mut s, key(' '));
    assert_eq!(ticks(&s)[..2], [true, false]);
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    assert!(s.overlay.is_none());
}

#[test]
fn edit_sends_only_what_changed() {
    let mut s = on_webhooks();
    update(&mut s, key('j'));
    update(&mut s, key('e'));
    // Description: the second field, cleared and typed again.
    update(&mut s, code(KeyCode::Tab));
    for _ in 0..40 {
        update(&mut s, code(KeyCode::Backspace));
    }
    typ(&mut s, "Zapier v2");
    update(&mut s, code(KeyCode::Enter));
    // The endpoint's events are ticked: lead.created and lead.stage_changed.
    assert_eq!(&ticks(&s)[..4], [false, true, false, true]);
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        single(&fx),
        Call::PatchWebhook {
            tenant: tenant_id(1),
            webhook: webhook_id(2),
            patch: WebhookPatch {
                description: Some("Zapier v2".into()),
                ..WebhookPatch::default()
            },
        }
    );
    // Nothing changed: nothing sent.
    let mut s = on_webhooks();
    update(&mut s, key('e'));
    update(&mut s, code(KeyCode::Enter));
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(toasts(&s).contains(&"nothing changed".to_string()));
}

#[test]
fn pause_toggles_and_resume_re_enables_a_disabled_endpoint() {
    let mut s = on_webhooks();
    let fx = update(&mut s, key('p'));
    let req = one_request(&fx);
    let patch = |active| WebhookPatch {
        active: Some(active),
        ..WebhookPatch::default()
    };
    assert_eq!(
        req.call,
        Call::PatchWebhook {
            tenant: tenant_id(1),
            webhook: webhook_id(1),
            patch: patch(false),
        }
    );
    let mut paused = webhooks()[0].clone();
    paused.active = false;
    answer(&mut s, &req, Ok(Reply::WebhookSaved(Box::new(paused))));
    assert_eq!(s.webhooks.selected().map(|w| w.active), Some(false));
    assert!(
        toasts(&s).iter().any(|t| t.starts_with("paused")),
        "{:?}",
        toasts(&s)
    );
    // Pressed again, it resumes.
    match single(&update(&mut s, key('p'))) {
        Call::PatchWebhook { patch: p, .. } => assert_eq!(p, patch(true)),
        other => panic!("{other:?}"),
    }
    // The paused one and the disabled one resume.
    for (row, id) in [(1, webhook_id(2)), (2, webhook_id(3))] {
        let mut s = on_webhooks();
        for _ in 0..row {
            update(&mut s, key('j'));
        }
        assert_eq!(
            single(&update(&mut s, key('p'))),
            Call::PatchWebhook {
                tenant: tenant_id(1),
                webhook: id,
                patch: patch(true),
            }
        );
    }
}

#[test]
fn delete_needs_confirmation() {
    let mut s = on_webhooks();
    let fx = update(&mut s, key('d'));
    assert!(fx.is_empty(), "nothing is sent before the yes");
    match &s.overlay {
        Some(Overlay::Confirm(c)) => {
            assert_eq!(
                c.op,
                PendingOp::DeleteWebhook {
                    webhook: webhook_id(1)
                }
            );
            assert!(c.message.contains("crm.openarms.example"), "{}", c.message);
        }
        other => panic!("expected a confirmation, got {other:?}"),
    }
    assert!(update(&mut s, key('n')).is_empty());
    assert!(s.overlay.is_none());
    update(&mut s, key('x'));
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    update(&mut s, key('x'));
    let fx = update(&mut s, key('y'));
    let req = one_request(&fx);
    assert_eq!(
        req.call,
        Call::DeleteWebhook {
            tenant: tenant_id(1),
            webhook: webhook_id(1)
        }
    );
    let fx = answer(&mut s, &req, Ok(Reply::WebhookDeleted));
    assert_eq!(s.webhooks.remote.data.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        calls(&fx),
        vec![Call::ListWebhooks {
            tenant: tenant_id(1)
        }]
    );
}

#[test]
fn rotate_confirms_then_shows_the_new_secret_once() {
    let mut s = on_webhooks();
    assert!(update(&mut s, key('R')).is_empty());
    assert!(matches!(
        &s.overlay,
        Some(Overlay::Confirm(c)) if c.op == PendingOp::RotateWebhookSecret { webhook: webhook_id(1) }
    ));
    let req = one_request(&update(&mut s, key('y')));
    assert_eq!(
        req.call,
        Call::RotateWebhookSecret {
            tenant: tenant_id(1),
            webhook: webhook_id(1)
        }
    );
    answer(&mut s, &req, Ok(webhook_secret(0, true)));
    match &s.overlay {
        Some(Overlay::ShowWebhookSecret(q)) => {
            assert_eq!(q.len(), 1);
            assert!(q[0].rotated);
            assert_eq!(q[0].previous_until, Some(now() + TimeDelta::hours(24)));
        }
        other => panic!("{other:?}"),
    }
    update(&mut s, code(KeyCode::Esc));
    assert!(shown_secrets(&s).is_empty());
}

#[test]
fn test_sends_a_test_message_and_the_open_log_is_fetched_again() {
    let mut s = on_webhooks();
    let req = one_request(&update(&mut s, key('t')));
    assert_eq!(
        req.call,
        Call::TestWebhook {
            tenant: tenant_id(1),
            webhook: webhook_id(1)
        }
    );
    answer(&mut s, &req, Ok(Reply::WebhookTested));
    assert!(toasts(&s).iter().any(|t| t.contains("test message queued")));
    let mut s = on_deliveries();
    let req = one_request(&update(&mut s, key('t')));
    let fx = answer(&mut s, &req, Ok(Reply::WebhookTested));
    assert!(
        calls(&fx)
            .iter()
            .any(|c| matches!(c, Call::ListDeliveries { .. })),
        "{fx:?}"
    );
}

#[test]
fn enter_opens_the_selected_endpoints_deliveries_and_esc_comes_back() {
    let mut s = on_webhooks();
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Deliveries);
    assert!(
        calls(&fx).contains(&Call::ListDeliveries {
            tenant: tenant_id(1),
            webhook: webhook_id(2),
            status: None,
            cursor: None,
        }),
        "{fx:?}"
    );
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Webhooks);
    let s = on_deliveries();
    assert_eq!(
        s.webhooks.deliveries.remote.data.as_ref().map(Vec::len),
        Some(3)
    );
}

#[test]
fn the_status_filter_cycles_and_asks_the_daemon() {
    let mut s = on_deliveries();
    let want = [
        Some(DeliveryStatus::Pending),
        Some(DeliveryStatus::Succeeded),
        Some(DeliveryStatus::Failed),
        None,
    ];
    for status in want {
        let fx = update(&mut s, key('f'));
        assert_eq!(s.webhooks.deliveries.status, status);
        assert_eq!(
            single(&fx),
            Call::ListDeliveries {
                tenant: tenant_id(1),
                webhook: webhook_id(1),
                status,
                cursor: None,
            }
        );
        settle(&mut s, fx);
        let shown: Vec<DeliveryStatus> = s
            .webhooks
            .deliveries
            .filtered()
            .iter()
            .map(|d| d.status)
            .collect();
        assert!(status.is_none_or(|st| shown == [st]), "{shown:?}");
    }
    // An answer for a filter no longer asked for is dropped.
    let old = one_request(&update(&mut s, key('f')));
    update(&mut s, key('f'));
    answer(
        &mut s,
        &old,
        Ok(Reply::Deliveries(echo5_core::page::Page {
            data: deliveries(),
            next_cursor: None,
        })),
    );
    assert!(s.webhooks.deliveries.remote.data.is_none());
}

#[test]
fn retry_sends_the_selected_message_again() {
    let mut s = on_deliveries();
    update(&mut s, key('j'));
    let req = one_request(&update(&mut s, key('r')));
    assert_eq!(
        req.call,
        Call::RetryDelivery {
            tenant: tenant_id(1),
            webhook: webhook_id(1),
            message_id: "msg_2x7PpendRetry".into(),
        }
    );
    let fx = answer(&mut s, &req, Ok(Reply::DeliveryRetried));
    assert!(toasts(&s).iter().any(|t| t.contains("queued")));
    assert!(
        calls(&fx)
            .iter()
            .any(|c| matches!(c, Call::ListDeliveries { .. }))
    );
}

#[test]
fn recover_checks_the_time_before_sending() {
    let mut s = on_deliveries();
    assert!(update(&mut s, key('R')).is_empty());
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(
        form_error(&s).starts_with("type a time"),
        "{}",
        form_error(&s)
    );
    for bad in ["yesterday", "2026-13-01", "5x", "2026-03-03 10:00", "-2h"] {
        let mut s = on_deliveries();
        update(&mut s, key('R'));
        typ(&mut s, bad);
        assert!(
            update(&mut s, code(KeyCode::Enter)).is_empty(),
            "{bad} was sent"
        );
        assert!(!form_error(&s).is_empty(), "{bad} accepted");
    }
    let mut future = on_deliveries();
    update(&mut future, key('R'));
    typ(&mut future, "2026-03-03 10:00");
    update(&mut future, code(KeyCode::Enter));
    assert_eq!(form_error(&future), "that time is in the future");
    for (typed, since) in [
        ("6h", now() - TimeDelta::hours(6)),
        ("2d ago", now() - TimeDelta::days(2)),
        (
            "2026-03-01 09:00",
            now() - TimeDelta::days(1) - TimeDelta::minutes(30),
        ),
        (
            "2026-03-01T09:00:00Z",
            now() - TimeDelta::hours(24) - TimeDelta::minutes(30),
        ),
        (
            "2026-03-01",
            now() - TimeDelta::hours(33) - TimeDelta::minutes(30),
        ),
    ] {
        let mut s = on_deliveries();
        update(&mut s, key('R'));
        typ(&mut s, typed);
        let fx = update(&mut s, code(KeyCode::Enter));
        let req = one_request(&fx);
        assert_eq!(
            req.call,
            Call::RecoverWebhook {
                tenant: tenant_id(1),
                webhook: webhook_id(1),
                since,
            },
            "{typed}"
        );
        let fx = answer(&mut s, &req, Ok(Reply::Recovered(Recovered { queued: 4 })));
        assert!(toasts(&s).iter().any(|t| t.starts_with("4 failed")));
        assert!(!calls(&fx).is_empty(), "the log is fetched again");
    }
}

#[test]
fn the_keys_are_in_the_keymap_help_and_footer() {
    let sections = bindings::help_sections();
    let rows = |title: &str| {
        sections
            .iter()
            .find(|(t, _)| *t == title)
            .map(|(_, rows)| rows.clone())
            .unwrap_or_default()
    };
    let keys: Vec<String> = rows("Webhooks").into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["Enter", "c", "e", "p", "t", "x/d", "R"]);
    let keys: Vec<String> = rows("Deliveries").into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["f", "r", "R", "t"]);
    let hints = bindings::hints(Ctx::Screen(Screen::Webhooks));
    assert_eq!(hints.first().map(|h| h.0.as_str()), Some("Enter"));
}

/// A manager of Open Arms with the role's permissions: no `manage_settings`.
fn manager() -> User {
    team()[1].clone()
}

#[test]
fn a_manager_without_manage_settings_never_sees_the_screens_or_their_keys() {
    let m = manager();
    assert!(!m.permissions.manage_settings);
    let mut s = logged_in_as(m);
    for screen in [Screen::Webhooks, Screen::Deliveries] {
        assert!(!access::can_open(&s, screen), "{screen:?}");
    }
    let offered = access::completions(&s, "");
    assert!(
        !offered.iter().any(|c| c == "webhooks" || c == "deliveries"),
        "{offered:?}"
    );
    assert!(access::completions(&s, "web").is_empty());
    let help: Vec<&str> = bindings::help_sections_for(&s)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert!(
        !help.contains(&"Webhooks") && !help.contains(&"Deliveries"),
        "{help:?}"
    );
    // Typed anyway, the palette says no and nothing is fetched.
    for cmd in ["webhooks", "hooks", "deliveries"] {
        update(&mut s, key(':'));
        typ(&mut s, cmd);
        s.toasts.clear();
        let fx = update(&mut s, code(KeyCode::Enter));
        assert!(fx.is_empty(), "{cmd}: {fx:?}");
        assert_ne!(s.screen, Screen::Webhooks);
        assert_ne!(s.screen, Screen::Deliveries);
        assert!(toasts(&s).contains(&NOT_ALLOWED.to_string()), "{cmd}");
    }
    // Tab never stops there.
    for _ in 0..30 {
        update(&mut s, code(KeyCode::Tab));
        assert!(!matches!(s.screen, Screen::Webhooks | Screen::Deliveries));
    }
    // And no screen's hints carry the webhook keys' descriptions.
    let hints: Vec<&str> = hints_for(&s, Ctx::Screen(Screen::Webhooks))
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    for changing in [
        "new",
        "edit",
        "pause/resume",
        "test",
        "delete",
        "rotate secret",
    ] {
        assert!(!hints.contains(&changing), "{changing} hinted: {hints:?}");
    }
    assert!(!access::may_fetch(&s, echo5_tui::app::Resource::Webhooks));
}

#[test]
fn manage_settings_opens_them_to_a_manager_and_a_tenant_admin_has_them() {
    let mut m = manager();
    m.permissions.manage_settings = true;
    let s = logged_in_as(m);
    assert!(access::can_open(&s, Screen::Webhooks));
    assert!(access::can_open(&s, Screen::Deliveries));
    let admin = user(
        1,
        "ada@openarms.example",
        "Ada Admin",
        Role::Admin,
        Some(tenant_id(1)),
    );
    let s = logged_in_as(admin);
    assert!(access::can_open(&s, Screen::Webhooks));
    assert!(access::allows(
        &s,
        Screen::Webhooks,
        echo5_tui::keymap::Cmd::Delete
    ));
}
