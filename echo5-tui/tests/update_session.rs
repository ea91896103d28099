//! `--login`: the password dialog, a login the daemon takes, refuses (401) or throttles
//! (429 with Retry-After), a session that ends under the user (a 401 later: the dialog
//! again, then the screen fetched again and the stream reopened), and `:logout`. The typed
//! password never shows in the state's `Debug`, a toast or a drawn frame.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_tui::app::overlay::Overlay;
use echo5_tui::app::session::{LOGGED_OUT, SESSION_ENDED};
use echo5_tui::app::{Action, Call, Effect, Reply, Screen, State, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn drawn(state: &State) -> String {
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("backend");
    t.draw(|f| echo5_tui::ui::draw(f, state)).expect("draw");
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The password is nowhere the operator or a log could see it.
fn assert_no_password(state: &State, effects: &[Effect]) {
    assert!(
        !format!("{state:?}").contains(PASSWORD),
        "password in State's Debug"
    );
    assert!(
        !format!("{effects:?}").contains(PASSWORD),
        "password in an effect's Debug"
    );
    for t in &state.toasts {
        assert!(!t.text.contains(PASSWORD), "password in a toast");
    }
    assert!(!drawn(state).contains(PASSWORD), "password drawn");
}

fn login_dialog(state: &State) -> &echo5_tui::app::overlay::Login {
    match &state.overlay {
        Some(Overlay::Login(l)) => l,
        other => panic!("no login dialog: {other:?}"),
    }
}

fn owner() -> echo5_core::users::User {
    platform_users()[0].clone()
}

fn manager() -> echo5_core::users::User {
    team()[1].clone()
}

#[test]
fn nothing_is_fetched_before_the_login_and_the_password_is_masked() {
    let mut s = login_console("owner@echo5.example");
    assert!(update(&mut s, Action::Tick(now())).is_empty());
    let fx = typ(&mut s, PASSWORD);
    assert!(fx.is_empty());
    assert_eq!(login_dialog(&s).password_chars(), PASSWORD.chars().count());
    let frame = drawn(&s);
    assert!(frame.contains(&"•".repeat(PASSWORD.len())), "{frame}");
    assert!(frame.contains("owner@echo5.example"));
    assert_no_password(&s, &fx);
    // Backspace and ^U edit the hidden field.
    update(&mut s, code(KeyCode::Backspace));
    assert_eq!(
        login_dialog(&s).password_chars(),
        PASSWORD.chars().count() - 1
    );
    update(&mut s, ctrl('u'));
    assert_eq!(login_dialog(&s).password_chars(), 0);
    // Enter with nothing typed sends nothing.
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(login_dialog(&s).error.is_some());
}

#[test]
fn a_login_sends_the_password_once_then_reads_me_and_opens_the_dashboard() {
    let mut s = login_console("owner@echo5.example");
    typ(&mut s, PASSWORD);
    let fx = update(&mut s, code(KeyCode::Enter));
    let reqs = requests(&fx);
    assert_eq!(reqs.len(), 1);
    match &reqs[0].call {
        Call::Login { email, password } => {
            assert_eq!(email, "owner@echo5.example");
            assert_eq!(password.expose(), PASSWORD);
        }
        other => panic!("{other:?}"),
    }
    // The dialog no longer holds it, and says it is busy.
    assert_eq!(login_dialog(&s).password_chars(), 0);
    assert!(login_dialog(&s).busy);
    assert_no_password(&s, &fx);

    let fx = answer(
        &mut s,
        &reqs[0],
        Ok(Reply::LoggedIn {
            expires_at: now() + chrono::TimeDelta::minutes(30),
            user: Box::new(owner()),
        }),
    );
    assert_eq!(calls(&fx), vec![Call::Me]);
    let me = &requests(&fx)[0];
    let fx = answer(&mut s, me, Ok(Reply::Me(Box::new(owner()))));
    assert!(s.overlay.is_none());
    assert_eq!(s.screen, Screen::Dashboard);
    assert!(calls(&fx).contains(&Call::Dashboard));
    assert!(calls(&fx).contains(&Call::ListTenants));
    // The stream opens with the next tick, as with the admin token.
    let fx = update(&mut s, Action::Tick(now()));
    assert!(fx.iter().any(|e| matches!(e, Effect::Stream { .. })));
    assert!(drawn(&s).contains("owner@echo5.example (owner)"));
}

#[test]
fn a_tenant_user_starts_on_their_tenant_and_only_reads_it() {
    let mut s = login_console("maria@openarms.example");
    let fx = log_in(&mut s, &manager());
    assert_eq!(s.screen, Screen::Overview);
    assert_eq!(s.tenant.as_ref().map(|t| t.id), Some(tenant_id(1)));
    let c = calls(&fx);
    assert!(c.contains(&Call::GetTenant {
        tenant: tenant_id(1)
    }));
    // Nothing the daemon would refuse a manager: no tenant list, no platform dashboard.
    assert!(!c.contains(&Call::ListTenants), "{c:?}");
    assert!(!c.contains(&Call::Dashboard), "{c:?}");
    settle(&mut s, fx);
    assert_eq!(
        s.tenant.as_ref().map(|t| t.name.as_str()),
        Some("Open Arms")
    );
    // The picker lists only their tenant.
    assert_eq!(s.tenants.remote.data.as_ref().map(Vec::len), Some(1));
}

#[test]
fn a_wrong_password_is_said_in_the_dialog_and_another_try_goes_out() {
    let mut s = login_console("owner@echo5.example");
    typ(&mut s, PASSWORD);
    let fx = update(&mut s, code(KeyCode::Enter));
    let fx = answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::LoginRefused {
            status: 401,
            message: "invalid e-mail or password".into(),
            retry_after: None,
        }),
    );
    assert!(fx.is_empty());
    let l = login_dialog(&s);
    assert_eq!(l.error.as_deref(), Some("invalid e-mail or password"));
    assert!(!l.busy);
    assert!(!s.session.ready);
    assert!(drawn(&s).contains("invalid e-mail or password"));
    assert!(update(&mut s, Action::Tick(now() + chrono::TimeDelta::seconds(10))).is_empty());
    typ(&mut s, "another-one");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(matches!(calls(&fx)[..], [Call::Login { .. }]));
    assert_no_password(&s, &fx);
}

#[test]
fn a_throttled_login_waits_out_retry_after() {
    let mut s = login_console("owner@echo5.example");
    typ(&mut s, PASSWORD);
    let fx = update(&mut s, code(KeyCode::Enter));
    answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::LoginRefused {
            status: 429,
            message: "too many failed logins".into(),
            retry_after: Some(120),
        }),
    );
    let err = login_dialog(&s).error.clone().unwrap_or_default();
    assert!(err.contains("120s"), "{err}");
    // Before the time is up, Enter sends nothing and says how long is left.
    update(
        &mut s,
        Action::Tick(now() + chrono::TimeDelta::seconds(100)),
    );
    typ(&mut s, PASSWORD);
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
    let err = login_dialog(&s).error.clone().unwrap_or_default();
    assert!(err.contains("20s"), "{err}");
    update(
        &mut s,
        Action::Tick(now() + chrono::TimeDelta::seconds(121)),
    );
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(matches!(calls(&fx)[..], [Call::Login { .. }]));
    assert_no_password(&s, &fx);
}

#[test]
fn a_session_that_ends_asks_for_a_new_login_then_refetches_and_reopens_the_stream() {
    let mut s = logged_in_as(manager());
    let fx = update(&mut s, key('6'));
    settle(&mut s, fx);
    assert_eq!(s.screen, Screen::Leads);
    // The next poll's answer is a 401: the session is over.
    let fx = update(&mut s, Action::Tick(now() + chrono::TimeDelta::seconds(6)));
    let reqs = requests(&fx);
    assert!(!reqs.is_empty());
    let after = answer(
        &mut s,
        &reqs[0],
        Err(http_error(401, "invalid_token", "session expired")),
    );
    assert!(after.is_empty());
    assert_eq!(login_dialog(&s).reason.as_deref(), Some(SESSION_ENDED));
    assert!(!s.toasts.iter().any(|t| t.text.contains("401")));
    // The other answers' 401s say nothing more; nothing is fetched while it waits.
    for r in &reqs[1..] {
        answer(
            &mut s,
            r,
            Err(http_error(401, "invalid_token", "session expired")),
        );
    }
    assert!(update(&mut s, Action::Tick(now() + chrono::TimeDelta::seconds(30))).is_empty());
    // Behind the dialog, the last session's leads are not drawn.
    let frame = drawn(&s);
    assert!(frame.contains(SESSION_ENDED), "{frame}");
    assert!(!frame.contains(&leads()[0].name.clone().unwrap_or_default()));

    let conn_before = s.live.conn_id;
    let fx = log_in(&mut s, &manager());
    assert!(s.overlay.is_none());
    assert_eq!(s.screen, Screen::Leads, "the same screen again");
    assert!(
        calls(&fx)
            .iter()
            .any(|c| matches!(c, Call::ListLeads { .. }))
    );
    let reopened = fx
        .iter()
        .any(|e| matches!(e, Effect::Stream { conn_id, .. } if *conn_id > conn_before));
    assert!(reopened, "{fx:?}");
    assert_no_password(&s, &fx);
}

#[test]
fn logout_ends_the_session_and_opens_the_dialog() {
    let mut s = logged_in_as(owner());
    update(&mut s, key(':'));
    // The palette offers it only when logged in.
    typ(&mut s, "logo");
    let frame = drawn(&s);
    assert!(frame.contains("logout"), "{frame}");
    typ(&mut s, "ut");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(calls(&fx), vec![Call::Logout]);
    // The dialog is there at once, and takes no login until the logout is answered.
    assert!(login_dialog(&s).busy);
    typ(&mut s, PASSWORD);
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
    // Nothing is fetched while the logout is under way.
    assert!(update(&mut s, Action::Tick(now() + chrono::TimeDelta::seconds(10))).is_empty());
    let after = answer(&mut s, &requests(&fx)[0], Ok(Reply::LoggedOut));
    assert!(after.is_empty());
    assert_eq!(login_dialog(&s).reason.as_deref(), Some(LOGGED_OUT));
    assert!(!login_dialog(&s).busy);
    assert!(
        !drawn(&s).contains("Open Arms"),
        "no data of the session is drawn"
    );
    update(&mut s, ctrl('u'));
    let fx = log_in(&mut s, &owner());
    assert!(s.overlay.is_none());
    assert!(!calls(&fx).is_empty());
}

#[test]
fn with_the_admin_token_nothing_changes() {
    let mut s = started();
    assert!(s.overlay.is_none());
    assert!(s.session.email.is_none());
    update(&mut s, key(':'));
    typ(&mut s, "logout");
    update(&mut s, code(KeyCode::Enter));
    assert!(s.toasts.iter().any(|t| t.text.contains("admin token")));
    // Every screen is there, Team and Users included.
    for screen in Screen::all() {
        assert!(echo5_tui::app::access::can_open(&s, screen), "{screen:?}");
    }
}
