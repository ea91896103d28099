//! Clients from the console: create (dashboard and picker), rename, deactivate and
//! reactivate, delete with the typed purge confirmation; `:tenant` finding a client
//! created elsewhere; the empty install's first screen; a stage's kind on the pipeline.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_core::ErrorDetail;
use echo5_core::stages::{Stage, StageKind};
use echo5_core::tenants::Tenant;
use echo5_tui::app::overlay::{Overlay, PendingOp};
use echo5_tui::app::{ApiError, Call, Reply, Screen, State, TenantChange, update};

fn new_tenant(n: u128, slug: &str, name: &str) -> Tenant {
    let mut t = tenants()[0].clone();
    t.id = tenant_id(n);
    t.slug = slug.into();
    t.name = name.into();
    t
}

fn on_picker() -> State {
    let mut s = started();
    let fx = update(&mut s, key('2'));
    settle(&mut s, fx);
    s.toasts.clear();
    s
}

#[test]
fn a_on_the_dashboard_creates_a_client_and_opens_its_overview() {
    let mut s = started();
    update(&mut s, key('a'));
    assert!(matches!(&s.overlay, Some(Overlay::Form(f)) if f.title.starts_with("New client")));
    typ(&mut s, "Sunrise Care");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        calls(&fx),
        vec![Call::CreateTenant {
            name: "Sunrise Care".into(),
            slug: None
        }],
        "a blank slug is left to the daemon, which derives it from the name"
    );
    assert!(s.overlay.is_none());
    let req = &requests(&fx)[0];
    let more = answer(
        &mut s,
        req,
        Ok(Reply::TenantCreated(Box::new(new_tenant(
            9,
            "sunrise-care",
            "Sunrise Care",
        )))),
    );
    assert_eq!(s.tenant.as_ref().map(|t| t.id), Some(tenant_id(9)));
    assert_eq!(s.screen, Screen::Overview);
    let c = calls(&more);
    assert!(
        c.contains(&Call::RecentLeads {
            tenant: tenant_id(9)
        }),
        "{c:?}"
    );
    assert!(c.contains(&Call::ListTenants), "{c:?}");
    assert!(c.contains(&Call::Dashboard), "{c:?}");
    assert!(s.toasts.iter().any(|t| t.text.contains("Sunrise Care")));
    // `:tenant` finds it from the list at once.
    assert!(
        s.tenants
            .remote
            .data
            .iter()
            .flatten()
            .any(|t| t.slug == "sunrise-care")
    );
}

#[test]
fn create_checks_the_slug_and_the_name_before_sending() {
    let mut s = on_picker();
    update(&mut s, key('a'));
    typ(&mut s, "Open Arms Two");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "open-arms");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(fx.is_empty());
    match &s.overlay {
        Some(Overlay::Form(f)) => assert!(
            f.error.as_deref().unwrap_or("").contains("already uses"),
            "{:?}",
            f.error
        ),
        other => panic!("{other:?}"),
    }
    for _ in 0.."open-arms".len() {
        update(&mut s, code(KeyCode::Backspace));
    }
    typ(&mut s, "Bad Slug");
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(matches!(&s.overlay, Some(Overlay::Form(f)) if f.error.is_some()));
    for _ in 0.."Bad Slug".len() {
        update(&mut s, code(KeyCode::Backspace));
    }
    typ(&mut s, "oa-two");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        calls(&fx),
        vec![Call::CreateTenant {
            name: "Open Arms Two".into(),
            slug: Some("oa-two".into())
        }]
    );
}

#[test]
fn a_refused_create_says_why() {
    let mut s = on_picker();
    update(&mut s, key('a'));
    typ(&mut s, "Someone");
    let fx = update(&mut s, code(KeyCode::Enter));
    let err = ApiError::Http {
        status: 409,
        detail: ErrorDetail {
            code: "slug_taken".into(),
            message: "another tenant already uses the slug \"someone\"".into(),
            field: Some("slug".into()),
        },
    };
    answer(&mut s, &requests(&fx)[0], Err(err));
    assert!(
        s.toasts
            .iter()
            .any(|t| t.text.contains("not saved") && t.text.contains("slug")),
        "{:?}",
        s.toasts
    );
    assert_eq!(s.screen, Screen::Tenants);
}

#[test]
fn rename_sends_only_the_name() {
    let mut s = on_picker();
    update(&mut s, key('j'));
    update(&mut s, key('r'));
    assert!(
        matches!(&s.overlay, Some(Overlay::Form(f)) if f.fields[0].input.text() == "Caring Hearts")
    );
    for _ in 0.." Hearts".len() {
        update(&mut s, code(KeyCode::Backspace));
    }
    typ(&mut s, " Homes");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        calls(&fx),
        vec![Call::PatchTenant {
            tenant: tenant_id(2),
            change: TenantChange::Name("Caring Homes".into())
        }]
    );
    let renamed = {
        let mut t = tenants()[1].clone();
        t.name = "Caring Homes".into();
        t
    };
    let more = answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::TenantSaved(Box::new(renamed))),
    );
    assert!(calls(&more).contains(&Call::ListTenants));
    assert_eq!(
        s.tenants.remote.data.as_ref().map(|l| l[1].name.as_str()),
        Some("Caring Homes")
    );
    // The same name again sends nothing.
    update(&mut s, key('r'));
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
}

#[test]
fn deactivate_asks_first_and_reactivate_does_not() {
    let mut s = on_picker();
    update(&mut s, key('x'));
    match &s.overlay {
        Some(Overlay::Confirm(c)) => {
            assert!(c.message.contains("Open Arms") && c.message.contains("refused"));
            assert_eq!(
                c.op,
                PendingOp::DeactivateTenant {
                    tenant: tenant_id(1)
                }
            );
        }
        other => panic!("{other:?}"),
    }
    let fx = update(&mut s, key('y'));
    assert_eq!(
        calls(&fx),
        vec![Call::PatchTenant {
            tenant: tenant_id(1),
            change: TenantChange::Active(false)
        }]
    );
    // Family First is inactive: x reactivates it at once.
    update(&mut s, key('G'));
    let fx = update(&mut s, key('x'));
    assert!(s.overlay.is_none());
    assert_eq!(
        calls(&fx),
        vec![Call::PatchTenant {
            tenant: tenant_id(3),
            change: TenantChange::Active(true)
        }]
    );
    let mut back = tenants()[2].clone();
    back.active = true;
    answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::TenantSaved(Box::new(back))),
    );
    assert!(s.toasts.iter().any(|t| t.text.contains("active again")));
}

#[test]
fn delete_names_what_is_erased_and_wants_the_slug_typed() {
    let mut s = on_tenant_screen('3');
    let fx = update(&mut s, key('2'));
    settle(&mut s, fx);
    let fx = update(&mut s, key('d'));
    assert!(fx.is_empty());
    match &s.overlay {
        Some(Overlay::TypeToConfirm(c)) => {
            assert!(c.title.contains("Open Arms"));
            for erased in ["every lead", "pipeline", "settings", "API keys"] {
                assert!(c.message.contains(erased), "{erased}: {}", c.message);
            }
            assert_eq!(c.expect, "open-arms");
        }
        other => panic!("{other:?}"),
    }
    // Enter before the slug is typed (or a wrong one) sends nothing.
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    typ(&mut s, "open-arm");
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(matches!(&s.overlay, Some(Overlay::TypeToConfirm(c)) if c.error.is_some()));
    typ(&mut s, "s");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        calls(&fx),
        vec![Call::DeleteTenant {
            tenant: tenant_id(1),
            purge: true
        }]
    );
    // Deleting the selected client drops the selection and what was shown of it.
    let gen_before = s.tenant_gen;
    let more = answer(&mut s, &requests(&fx)[0], Ok(Reply::TenantDeleted));
    assert!(s.tenant.is_none());
    assert!(s.tenant_gen > gen_before);
    assert!(s.stages.remote.data.is_none());
    assert!(s.back.iter().all(|sc| !sc.needs_tenant()));
    assert!(
        !s.tenants
            .remote
            .data
            .iter()
            .flatten()
            .any(|t| t.id == tenant_id(1))
    );
    assert!(calls(&more).contains(&Call::ListTenants));
    assert!(
        s.toasts
            .iter()
            .any(|t| t.text.contains("deleted \"Open Arms\""))
    );
}

#[test]
fn esc_cancels_a_delete() {
    let mut s = on_picker();
    update(&mut s, key('d'));
    typ(&mut s, "open-arms");
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    assert!(s.overlay.is_none());
}

#[test]
fn tenant_finds_a_client_created_elsewhere_by_reading_the_list_again() {
    let mut s = started();
    update(&mut s, key(':'));
    typ(&mut s, "tenant sunrise");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(calls(&fx), vec![Call::ListTenants], "not known: read again");
    assert!(s.toasts.is_empty(), "no error before the fresh list");
    let mut list = tenants();
    list.push(new_tenant(9, "sunrise-care", "Sunrise Care"));
    let more = answer(&mut s, &requests(&fx)[0], Ok(Reply::Tenants(list)));
    assert_eq!(
        s.tenant.as_ref().map(|t| t.slug.as_str()),
        Some("sunrise-care")
    );
    settle(&mut s, more);
    // A name that is still unknown in the fresh list is an error, once.
    update(&mut s, key(':'));
    typ(&mut s, "tenant nowhere");
    let fx = update(&mut s, code(KeyCode::Enter));
    answer(&mut s, &requests(&fx)[0], Ok(Reply::Tenants(tenants())));
    assert!(
        s.toasts
            .iter()
            .any(|t| t.text.contains("no tenant matches"))
    );
}

#[test]
fn tenant_events_keep_the_tenant_list_current_on_any_screen() {
    let mut s = on_tenant_screen('5');
    let fx = stream(&mut s, event("tenant.updated", 7, Some(tenant_id(9))));
    assert!(calls(&fx).contains(&Call::ListTenants), "{:?}", calls(&fx));
    let fx = stream(&mut s, event("lead.created", 8, Some(tenant_id(1))));
    assert!(!calls(&fx).contains(&Call::ListTenants));
}

#[test]
fn an_empty_install_offers_to_create_the_first_client() {
    let mut s = State::new("http://127.0.0.1:8787", now());
    let fx = update(&mut s, echo5_tui::app::Action::Tick(now()));
    for req in requests(&fx) {
        let reply = match req.call {
            Call::ListTenants => Reply::Tenants(Vec::new()),
            Call::Dashboard => {
                let mut d = dashboard();
                d.tenants.clear();
                d.totals = Default::default();
                Reply::Dashboard(d)
            }
            _ => continue,
        };
        answer(&mut s, &req, Ok(reply));
    }
    assert_eq!(s.screen, Screen::Dashboard);
    update(&mut s, key('a'));
    assert!(matches!(&s.overlay, Some(Overlay::Form(f)) if f.title.starts_with("New client")));
}

#[test]
fn t_on_the_pipeline_changes_a_stage_kind() {
    let mut s = on_tenant_screen('3');
    // Qualified (open) → won.
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    let fx = update(&mut s, key('t'));
    assert_eq!(
        calls(&fx),
        vec![Call::SetStageKind {
            tenant: tenant_id(1),
            stage: stage_id(3),
            kind: StageKind::Won
        }]
    );
    assert_eq!(
        s.stages.remote.data.as_ref().map(|l| l[2].kind),
        Some(StageKind::Won),
        "shown at once"
    );
    let more = answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::StageKindSet(Stage {
            id: stage_id(3),
            name: "Qualified".into(),
            kind: StageKind::Won,
        })),
    );
    assert_eq!(
        calls(&more),
        vec![Call::ListStages {
            tenant: tenant_id(1)
        }]
    );
    assert!(s.toasts.iter().any(|t| t.text.contains("now won")));
}

#[test]
fn the_intake_stage_stays_open() {
    let mut s = on_tenant_screen('3');
    let fx = update(&mut s, key('t'));
    assert!(fx.is_empty(), "New is the intake stage");
    assert!(!s.toasts.is_empty());
    assert_eq!(
        s.stages.remote.data.as_ref().map(|l| l[0].kind),
        Some(StageKind::Open)
    );
}
