//! The Plans screen: the list with its clients, create and edit checked with core's rules
//! (only what changed is sent), delete behind a confirmation and refused while clients are
//! on the plan, putting a client on a plan or taking it off, a client's Stripe customer,
//! the daemon's refusals in its own words, and who may open it. Pure `update`.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_core::plans::{LimitsPatch, NewPlan, PlanLimits, PlanPatch};
use echo5_core::users::Role;
use echo5_tui::app::access;
use echo5_tui::app::overlay::Overlay;
use echo5_tui::app::{Call, Effect, Reply, Request, Screen, State, TenantChange, update};

fn on_plans() -> State {
    let s = on_command("plans");
    assert_eq!(s.screen, Screen::Plans);
    s
}

/// Open Arms selected, then the Plans screen.
fn on_plans_with_open_arms() -> State {
    let mut s = on_command("tenant open-arms");
    update(&mut s, key(':'));
    typ(&mut s, "plans");
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    s.toasts.clear();
    s
}

fn select(s: &mut State, name: &str) {
    update(s, key('g'));
    while s.plans.selected().map(|p| p.name.as_str()) != Some(name) {
        let before = s.plans.view.selected;
        update(s, key('j'));
        assert_ne!(s.plans.view.selected, before, "no plan {name}");
    }
}

fn one_request(fx: &[Effect]) -> Request {
    let r = requests(fx);
    assert_eq!(r.len(), 1, "{fx:?}");
    r[0].clone()
}

fn form_error(s: &State) -> String {
    match &s.overlay {
        Some(Overlay::Form(f)) => f.error.clone().unwrap_or_default(),
        other => panic!("expected a form, got {other:?}"),
    }
}

/// Types `values` into the open form's fields from the first, replacing what they hold.
fn fill(s: &mut State, values: &[&str]) {
    while matches!(&s.overlay, Some(Overlay::Form(f)) if f.focus != 0) {
        update(s, code(KeyCode::BackTab));
    }
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            update(s, code(KeyCode::Tab));
        }
        // Ctrl-U clears the field.
        update(s, ctrl('u'));
        typ(s, v);
    }
}

/// What each field of the open form holds.
fn form_values(s: &State) -> Vec<String> {
    match &s.overlay {
        Some(Overlay::Form(f)) => f
            .fields
            .iter()
            .map(|f| f.input.text().to_string())
            .collect(),
        other => panic!("expected a form, got {other:?}"),
    }
}

fn toasts(s: &State) -> Vec<String> {
    s.toasts.iter().map(|t| t.text.clone()).collect()
}

#[test]
fn the_palette_opens_plans_with_the_clients_on_each() {
    let mut s = started();
    update(&mut s, key(':'));
    typ(&mut s, "billing");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Plans, "the alias opens it too");
    assert!(calls(&fx).contains(&Call::ListPlans), "{fx:?}");
    settle(&mut s, fx);
    let names: Vec<&str> = s.plans.filtered().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Starter", "Pro", "Agency"]);
    let pro = plan_id(2);
    let on_pro: Vec<&str> = echo5_tui::app::components::plans::clients_on(&s, pro)
        .iter()
        .map(|t| t.slug.as_str())
        .collect();
    assert_eq!(on_pro, ["open-arms"]);
    // The filter narrows by name.
    update(&mut s, key('/'));
    typ(&mut s, "agen");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.plans.filtered().len(), 1);
    assert_eq!(s.plans.selected().map(|p| p.id), Some(plan_id(3)));
}

#[test]
fn create_sends_the_form_as_core_reads_it_and_the_cursor_goes_to_the_new_plan() {
    let mut s = on_plans();
    update(&mut s, key('c'));
    fill(
        &mut s,
        &["Growth", "1,099.5", "usd", "5,000", "", "4", "2", "730"],
    );
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = one_request(&fx);
    assert_eq!(
        req.call,
        Call::CreatePlan {
            new: NewPlan {
                name: "Growth".into(),
                price_cents: 109_950,
                currency: Some("usd".into()),
                limits: PlanLimits {
                    leads_per_month: Some(5000),
                    users: None,
                    api_keys: Some(4),
                    webhooks: Some(2),
                    retention_days: Some(730),
                },
            }
        }
    );
    assert!(s.overlay.is_none());
    let mut growth = plans()[0].clone();
    growth.id = plan_id(9);
    growth.name = "Growth".into();
    let fx = answer(&mut s, &req, Ok(Reply::PlanSaved(Box::new(growth.clone()))));
    assert_eq!(toasts(&s), ["created the plan \"Growth\""]);
    let refetch = one_request(&fx);
    assert_eq!(refetch.call, Call::ListPlans);
    let mut list = plans();
    list.push(growth);
    answer(&mut s, &refetch, Ok(Reply::Plans(list)));
    assert_eq!(s.plans.selected().map(|p| p.id), Some(plan_id(9)));
}

#[test]
fn a_bad_form_stays_open_with_the_reason_and_sends_nothing() {
    let mut s = on_plans();
    for (values, says) in [
        (["Pro+", "49.999", "EUR", "", "", "", "", ""], "price"),
        (["Pro+", "49", "EURO", "", "", "", "", ""], "ISO 4217"),
        (
            ["Pro+", "49", "EUR", "lots", "", "", "", ""],
            "leads a month",
        ),
        (["Pro+", "49", "EUR", "", "", "", "", "0"], "retention_days"),
        (["", "49", "EUR", "", "", "", "", ""], "name"),
    ] {
        update(&mut s, key('c'));
        fill(&mut s, &values);
        let fx = update(&mut s, code(KeyCode::Enter));
        assert!(fx.is_empty(), "{values:?}: {fx:?}");
        let e = form_error(&s);
        assert!(e.contains(says), "{values:?}: {e}");
        update(&mut s, code(KeyCode::Esc));
        assert!(s.overlay.is_none());
    }
}

#[test]
fn edit_starts_from_the_plan_and_sends_only_what_changed() {
    let mut s = on_plans();
    select(&mut s, "Pro");
    update(&mut s, key('e'));
    let shown = form_values(&s);
    assert_eq!(
        shown,
        ["Pro", "49.00", "EUR", "2500", "10", "5", "5", ""],
        "a missing limit is blank"
    );
    // Unchanged: nothing is sent.
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(fx.is_empty());
    assert_eq!(toasts(&s), ["nothing changed"]);
    update(&mut s, key('e'));
    fill(&mut s, &["Pro", "59", "EUR", "3000", "", "5", "5", "365"]);
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = one_request(&fx);
    assert_eq!(
        req.call,
        Call::PatchPlan {
            plan: plan_id(2),
            patch: PlanPatch {
                price_cents: Some(5900),
                limits: Some(LimitsPatch {
                    leads_per_month: Some(Some(3000)),
                    users: Some(None),
                    retention_days: Some(Some(365)),
                    ..LimitsPatch::default()
                }),
                ..PlanPatch::default()
            },
        }
    );
}

#[test]
fn delete_asks_first_and_is_refused_while_a_client_is_on_the_plan() {
    let mut s = on_plans();
    select(&mut s, "Pro");
    let fx = update(&mut s, key('d'));
    assert!(fx.is_empty());
    assert!(s.overlay.is_none(), "no confirmation for a plan in use");
    assert!(
        toasts(&s)[0].contains("1 client(s) on \"Pro\""),
        "{:?}",
        toasts(&s)
    );
    s.toasts.clear();
    select(&mut s, "Starter");
    let fx = update(&mut s, key('x'));
    assert!(fx.is_empty());
    assert!(matches!(s.overlay, Some(Overlay::Confirm(_))));
    // Esc keeps it.
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    update(&mut s, key('x'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = one_request(&fx);
    assert_eq!(req.call, Call::DeletePlan { plan: plan_id(1) });
    // The daemon knows better (a client moved onto it meanwhile): its words, and the
    // list fetched again.
    let fx = answer(
        &mut s,
        &req,
        Err(http_error(409, "plan_in_use", "1 tenant is on this plan")),
    );
    assert!(
        toasts(&s)
            .iter()
            .any(|t| t.contains("1 tenant is on this plan")),
        "{:?}",
        toasts(&s)
    );
    assert_eq!(calls(&fx), [Call::ListPlans]);
    // Deleted for real this time.
    update(&mut s, key('x'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = one_request(&fx);
    answer(&mut s, &req, Ok(Reply::PlanDeleted));
    assert!(s.plans.find(plan_id(1)).is_none());
    assert!(toasts(&s).contains(&"plan deleted".to_string()));
}

#[test]
fn a_client_goes_on_a_plan_and_comes_off_it() {
    let mut s = on_plans();
    select(&mut s, "Starter");
    update(&mut s, key('a'));
    fill(&mut s, &["nobody"]);
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(
        form_error(&s).contains("no tenant matches"),
        "{}",
        form_error(&s)
    );
    fill(&mut s, &["caring"]);
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = one_request(&fx);
    assert_eq!(
        req.call,
        Call::PatchTenant {
            tenant: tenant_id(2),
            change: TenantChange::Plan(Some(plan_id(1))),
        }
    );
    let mut caring = tenants()[1].clone();
    caring.plan_id = Some(plan_id(1));
    let fx = answer(&mut s, &req, Ok(Reply::TenantSaved(Box::new(caring))));
    assert_eq!(toasts(&s), ["\"Caring Hearts\" is on the plan \"Starter\""]);
    // The plans' client counts and the tenant list are read again.
    let again = calls(&fx);
    assert!(again.contains(&Call::ListPlans), "{again:?}");
    assert!(again.contains(&Call::ListTenants), "{again:?}");

    // Already on it: said in the form.
    select(&mut s, "Pro");
    update(&mut s, key('a'));
    fill(&mut s, &["open-arms"]);
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(form_error(&s).contains("already"), "{}", form_error(&s));
    update(&mut s, code(KeyCode::Esc));

    // Off its plan; a client with none cannot come off one.
    s.toasts.clear();
    update(&mut s, key('u'));
    fill(&mut s, &["family"]);
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(form_error(&s).contains("has no plan"), "{}", form_error(&s));
    fill(&mut s, &["Open Arms"]);
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = one_request(&fx);
    assert_eq!(
        req.call,
        Call::PatchTenant {
            tenant: tenant_id(1),
            change: TenantChange::Plan(None),
        }
    );
    let mut off = tenants()[0].clone();
    off.plan_id = None;
    answer(&mut s, &req, Ok(Reply::TenantSaved(Box::new(off))));
    assert_eq!(toasts(&s), ["\"Open Arms\" has no plan: no limits"]);
}

#[test]
fn the_client_fields_start_from_the_selected_client() {
    let mut s = on_plans_with_open_arms();
    update(&mut s, key('$'));
    let shown = form_values(&s);
    assert_eq!(shown, ["open-arms", "cus_OpenArms1"]);
    // Core's rule for a customer id, before anything is sent.
    fill(&mut s, &["open-arms", "acct_123"]);
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(form_error(&s).contains("cus_"), "{}", form_error(&s));
    fill(&mut s, &["open-arms", " cus_Other2 "]);
    let req = one_request(&update(&mut s, code(KeyCode::Enter)));
    assert_eq!(
        req.call,
        Call::PatchTenant {
            tenant: tenant_id(1),
            change: TenantChange::StripeCustomer(Some("cus_Other2".into())),
        }
    );
    let mut saved = tenants()[0].clone();
    saved.stripe_customer_id = Some("cus_Other2".into());
    answer(&mut s, &req, Ok(Reply::TenantSaved(Box::new(saved))));
    assert_eq!(
        toasts(&s),
        ["\"Open Arms\": usage is reported for cus_Other2"]
    );
    // Blank stops the reports.
    update(&mut s, key('$'));
    fill(&mut s, &["open-arms", ""]);
    let req = one_request(&update(&mut s, code(KeyCode::Enter)));
    assert_eq!(
        req.call,
        Call::PatchTenant {
            tenant: tenant_id(1),
            change: TenantChange::StripeCustomer(None),
        }
    );
    update(&mut s, key('u'));
    assert_eq!(form_values(&s), ["open-arms"]);
}

#[test]
fn only_the_platform_opens_plans() {
    let admin = logged_in_as(team()[0].clone());
    assert_eq!(
        admin.session.user.as_ref().map(|u| u.role),
        Some(Role::Admin)
    );
    assert!(!access::can_open(&admin, Screen::Plans));
    assert!(!access::command_allowed(&admin, "plans"));
    let owner = logged_in_as(platform_users()[0].clone());
    assert!(access::can_open(&owner, Screen::Plans));
}
