//! The Team screen (a tenant's users) and the Users screen (platform owners): invite with
//! the link shown once, role, a permission override, deactivate / reactivate, delete
//! behind a confirmation, and the daemon's refusals in its own words.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_core::authorization::Permission;
use echo5_core::secret::Secret;
use echo5_core::users::Role;
use echo5_tui::app::effect::{Invite, UserChange, UserRealm};
use echo5_tui::app::overlay::Overlay;
use echo5_tui::app::{Call, Effect, Reply, Request, Screen, State, update};

const LINK: &str = "http://127.0.0.1:8787/invite/e5i_FAKEinviteLINKsnapshotONLY0123";
const OA: UserRealm = UserRealm::Tenant(common::OPEN_ARMS);

/// The admin token's console on Open Arms' Team screen, its users loaded.
fn on_team() -> State {
    let mut s = on_command("tenant open-arms");
    update(&mut s, key(':'));
    typ(&mut s, "team");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Team);
    assert!(calls(&fx).contains(&Call::ListUsers { realm: OA }));
    settle(&mut s, fx);
    s.toasts.clear();
    s
}

fn on_users() -> State {
    let mut s = on_command("users");
    assert_eq!(s.screen, Screen::Users);
    s.toasts.clear();
    s
}

/// Moves the cursor to the `n`th row (0-based).
fn select(s: &mut State, n: usize) {
    update(s, key('g'));
    for _ in 0..n {
        update(s, key('j'));
    }
}

fn one_request(fx: &[Effect]) -> Request {
    let r = requests(fx);
    assert_eq!(r.len(), 1, "{fx:?}");
    r[0].clone()
}

#[test]
fn invite_sends_the_form_and_shows_the_link_once() {
    let mut s = on_team();
    update(&mut s, key('a'));
    typ(&mut s, "Nina@OpenArms.example");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "Nina Nurse");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "manager");
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = one_request(&fx);
    assert_eq!(
        req.call,
        Call::CreateUser {
            realm: OA,
            invite: Invite {
                email: "nina@openarms.example".into(),
                name: "Nina Nurse".into(),
                role: Some(Role::Manager),
            },
        }
    );
    let mut nina = user(
        7,
        "nina@openarms.example",
        "Nina Nurse",
        Role::Manager,
        Some(OPEN_ARMS),
    );
    nina.last_login_at = None;
    let fx = answer(
        &mut s,
        &req,
        Ok(Reply::UserCreated {
            user: Box::new(nina),
            invite_url: Some(Secret::new(LINK.to_string())),
        }),
    );
    assert!(
        calls(&fx).contains(&Call::ListUsers { realm: OA }),
        "the list is read again"
    );
    assert!(matches!(&s.overlay, Some(Overlay::ShowInvite(i)) if i.url.expose() == LINK));
    assert!(
        !format!("{s:?}").contains("e5i_FAKE"),
        "the link in State's Debug"
    );
    // A stray key keeps it; Enter lets it go for good.
    update(&mut s, key('j'));
    assert!(matches!(&s.overlay, Some(Overlay::ShowInvite(_))));
    update(&mut s, code(KeyCode::Enter));
    assert!(s.overlay.is_none());
}

#[test]
fn an_invite_the_rules_refuse_keeps_the_form_open() {
    let mut s = on_team();
    update(&mut s, key('a'));
    typ(&mut s, "not-an-email");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "Someone");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(requests(&fx).is_empty());
    assert!(matches!(&s.overlay, Some(Overlay::Form(f)) if f.error.is_some()));
    // A role that is not a tenant role.
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('a'));
    typ(&mut s, "x@openarms.example");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "X");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "owner");
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(
        matches!(&s.overlay, Some(Overlay::Form(f)) if f.error.as_deref().is_some_and(|e| e.contains("owner")))
    );
}

#[test]
fn role_changes_from_the_chooser() {
    let mut s = on_team();
    select(&mut s, 1); // Maria, manager
    update(&mut s, key('r'));
    assert!(matches!(&s.overlay, Some(Overlay::PickUser(p)) if p.selected == 1));
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one_request(&fx).call,
        Call::PatchUser {
            realm: OA,
            user: user_id(2),
            change: UserChange::Role(Role::Agent),
        }
    );
}

#[test]
fn a_permission_is_toggled_against_what_the_user_has() {
    let mut s = on_team();
    select(&mut s, 1); // Maria: view, edit; not delete
    update(&mut s, key('p'));
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one_request(&fx).call,
        Call::PatchUser {
            realm: OA,
            user: user_id(2),
            change: UserChange::Permission(Permission::DeleteLeads, true),
        }
    );
    // Tom has edit_leads as an override: p, j, Enter takes it away.
    select(&mut s, 2);
    update(&mut s, key('p'));
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one_request(&fx).call,
        Call::PatchUser {
            realm: OA,
            user: user_id(3),
            change: UserChange::Permission(Permission::EditLeads, false),
        }
    );
    // An admin's permissions are fixed: said, nothing sent.
    select(&mut s, 0);
    let fx = update(&mut s, key('p'));
    assert!(fx.is_empty() && s.overlay.is_none());
    assert!(s.toasts.iter().any(|t| t.text.contains("fixed")));
}

#[test]
fn deactivation_is_confirmed_and_reactivation_is_not() {
    let mut s = on_team();
    select(&mut s, 1);
    assert!(update(&mut s, key('x')).is_empty());
    assert!(matches!(&s.overlay, Some(Overlay::Confirm(_))));
    let fx = update(&mut s, key('y'));
    assert_eq!(
        one_request(&fx).call,
        Call::PatchUser {
            realm: OA,
            user: user_id(2),
            change: UserChange::Active(false),
        }
    );
    select(&mut s, 3); // Old Agent, inactive
    let fx = update(&mut s, key('x'));
    assert_eq!(
        one_request(&fx).call,
        Call::PatchUser {
            realm: OA,
            user: user_id(4),
            change: UserChange::Active(true),
        }
    );
}

#[test]
fn delete_is_confirmed_and_refusals_are_shown_as_the_daemon_words_them() {
    let mut s = on_team();
    select(&mut s, 0);
    assert!(update(&mut s, key('D')).is_empty());
    assert!(matches!(&s.overlay, Some(Overlay::Confirm(_))));
    // n leaves everything as it was.
    assert!(update(&mut s, key('n')).is_empty());
    update(&mut s, key('D'));
    let fx = update(&mut s, key('y'));
    let req = one_request(&fx);
    assert_eq!(
        req.call,
        Call::DeleteUser {
            realm: OA,
            user: user_id(1),
        }
    );
    let fx = answer(
        &mut s,
        &req,
        Err(http_error(
            409,
            "cannot_change_self",
            "you cannot delete yourself",
        )),
    );
    assert!(
        s.toasts
            .iter()
            .any(|t| t.text.contains("you cannot delete yourself"))
    );
    // The list is read again: what is shown is the daemon's truth.
    assert!(calls(&fx).contains(&Call::ListUsers { realm: OA }));
    // And a delete that goes through.
    let fx = answer(&mut s, &req, Ok(Reply::UserDeleted));
    assert!(calls(&fx).contains(&Call::ListUsers { realm: OA }));
}

#[test]
fn platform_users_invite_deactivate_and_delete_owners() {
    let mut s = on_users();
    assert_eq!(s.platform_users.remote.data.as_ref().map(Vec::len), Some(2));
    update(&mut s, key('a'));
    assert!(matches!(&s.overlay, Some(Overlay::Form(f)) if f.fields.len() == 2));
    typ(&mut s, "third@echo5.example");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "Third Owner");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one_request(&fx).call,
        Call::CreateUser {
            realm: UserRealm::Platform,
            invite: Invite {
                email: "third@echo5.example".into(),
                name: "Third Owner".into(),
                role: None,
            },
        }
    );
    // No role or permission keys for owners.
    select(&mut s, 1);
    assert!(update(&mut s, key('r')).is_empty() && s.overlay.is_none());
    update(&mut s, key('x'));
    let fx = update(&mut s, key('y'));
    assert_eq!(
        one_request(&fx).call,
        Call::PatchUser {
            realm: UserRealm::Platform,
            user: user_id(11),
            change: UserChange::Active(false),
        }
    );
    update(&mut s, key('D'));
    let fx = update(&mut s, key('y'));
    assert_eq!(
        one_request(&fx).call,
        Call::DeleteUser {
            realm: UserRealm::Platform,
            user: user_id(11),
        }
    );
}

#[test]
fn a_tenant_admin_reaches_the_team_of_their_tenant_only() {
    let mut s = logged_in_as(team()[0].clone());
    update(&mut s, key(':'));
    typ(&mut s, "team");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(calls(&fx), vec![Call::ListUsers { realm: OA }]);
    update(&mut s, key(':'));
    typ(&mut s, "users");
    s.toasts.clear();
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(fx.is_empty());
    assert_eq!(s.screen, Screen::Team);
}

#[test]
fn team_of_a_client_is_one_command_from_the_dashboard() {
    let mut s = started();
    assert_eq!(s.screen, Screen::Dashboard);
    update(&mut s, key(':'));
    typ(&mut s, "team caring");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Team);
    assert_eq!(s.tenant.as_ref().map(|t| t.id), Some(tenant_id(2)));
    assert!(calls(&fx).contains(&Call::ListUsers {
        realm: UserRealm::Tenant(tenant_id(2))
    }));
}
