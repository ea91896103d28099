//! Audit screen: opened from the palette, paged as the API pages, filtered by client and by
//! action. Pure `update`, no terminal, no network.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_core::audit::AuditAction;
use echo5_tui::app::overlay::Overlay;
use echo5_tui::app::{Call, Screen, State, update};

fn on_audit() -> State {
    let mut s = on_command("audit");
    s.toasts.clear();
    s
}

fn audit_call(fx: &[echo5_tui::app::Effect]) -> Call {
    calls(fx)
        .into_iter()
        .find(|c| matches!(c, Call::ListAudit { .. }))
        .expect("an audit listing")
}

#[test]
fn colon_audit_opens_every_clients_rows_newest_first() {
    let mut s = started();
    let fx = update(&mut s, key(':'));
    settle(&mut s, fx);
    typ(&mut s, "audit");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Audit);
    assert_eq!(
        audit_call(&fx),
        Call::ListAudit {
            tenant: None,
            action: None,
            cursor: None,
        }
    );
    settle(&mut s, fx);
    let ids: Vec<i64> = s.audit.filtered().iter().map(|e| e.id).collect();
    assert_eq!(ids, [999, 998, 997, 996]);
}

#[test]
fn down_past_the_last_row_loads_the_next_page() {
    let mut s = on_audit();
    for _ in 0..3 {
        assert!(requests(&update(&mut s, key('j'))).is_empty());
    }
    let fx = update(&mut s, key('j'));
    assert_eq!(
        audit_call(&fx),
        Call::ListAudit {
            tenant: None,
            action: None,
            cursor: Some("audit2".into()),
        }
    );
    settle(&mut s, fx);
    assert_eq!(s.audit.filtered().len(), 6);
    assert_eq!(s.audit.next_cursor, None);
    // The last page is in: no more requests.
    let fx = update(&mut s, key('G'));
    assert!(requests(&fx).is_empty());
}

#[test]
fn t_narrows_to_the_selected_client_and_back() {
    let mut s = started();
    let fx = update(&mut s, key(':'));
    settle(&mut s, fx);
    typ(&mut s, "audit");
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    // No client chosen yet: it says so and sends nothing.
    assert!(requests(&update(&mut s, key('t'))).is_empty());
    assert!(s.toasts.iter().any(|t| t.text.contains("pick a client")));

    let mut s = on_tenant_screen('1');
    let fx = update(&mut s, key(':'));
    settle(&mut s, fx);
    typ(&mut s, "audit");
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    let fx = update(&mut s, key('t'));
    assert_eq!(
        audit_call(&fx),
        Call::ListAudit {
            tenant: Some(tenant_id(1)),
            action: None,
            cursor: None,
        }
    );
    assert!(
        s.audit.remote.data.is_none(),
        "the other scope's rows are not shown"
    );
    let fx = update(&mut s, key('t'));
    assert_eq!(
        audit_call(&fx),
        Call::ListAudit {
            tenant: None,
            action: None,
            cursor: None,
        }
    );
}

#[test]
fn a_filters_by_an_action_named_or_started() {
    let mut s = on_audit();
    update(&mut s, key('a'));
    typ(&mut s, "lead.");
    // Several actions start so: the form says which and stays.
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
    match &s.overlay {
        Some(Overlay::Form(f)) => {
            let e = f.error.as_deref().unwrap_or_default();
            assert!(
                e.contains("lead.note_added") && e.contains("lead.updated"),
                "{e}"
            );
        }
        other => panic!("form closed: {other:?}"),
    }
    typ(&mut s, "n");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        audit_call(&fx),
        Call::ListAudit {
            tenant: None,
            action: Some(AuditAction::LeadNoteAdded),
            cursor: None,
        }
    );
    assert!(s.overlay.is_none());
    settle(&mut s, fx);
    // Empty clears it.
    update(&mut s, key('a'));
    for _ in 0..20 {
        update(&mut s, code(KeyCode::Backspace));
    }
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        audit_call(&fx),
        Call::ListAudit {
            tenant: None,
            action: None,
            cursor: None,
        }
    );
    // An unknown one is refused.
    update(&mut s, key('a'));
    typ(&mut s, "x");
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
}

#[test]
fn slash_narrows_the_loaded_rows_by_who_or_what() {
    let mut s = on_audit();
    update(&mut s, key('/'));
    typ(&mut s, "system");
    let ids: Vec<i64> = s.audit.filtered().iter().map(|e| e.id).collect();
    assert_eq!(ids, [996]);
}
