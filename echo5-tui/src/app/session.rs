//! `--login EMAIL`: the console as a user rather than with the admin token. The password
//! is asked in a dialog, the session token stays with the API worker (in memory, never on
//! disk), and `GET /api/v1/me` says who the user is, from which `access` decides what the
//! console shows. A 401 later (the session expired, was ended, or the user deactivated)
//! opens the dialog again; after the new login the screen is fetched again and the event
//! stream reopened. Pure, like the rest of the model.

use chrono::{DateTime, TimeDelta, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use echo5_core::tenants::TenantRef;
use echo5_core::users::User;

use super::action::{ApiError, Reply};
use super::components::tenants::switch_tenant;
use super::effect::{Call, Effect, Request, Scope};
use super::overlay::{Login, Overlay};
use super::request::{next_id, refresh_screen};
use super::state::{LiveStatus, ToastLevel};
use super::{Screen, State, access, live};

/// What the dialog says when a session ends under the user.
pub const SESSION_ENDED: &str = "session ended — log in again";
pub const LOGGED_OUT: &str = "logged out";

/// The login session as `update` sees it. Without `--login` it is unused and the console
/// works with the admin token as it always has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Session {
    /// `--login EMAIL`; `None` with the admin token.
    pub email: Option<String>,
    /// The user as `/me` last said.
    pub user: Option<User>,
    /// When the session ends if left idle, from the login answer.
    pub expires_at: Option<DateTime<Utc>>,
    /// Logged in, `/me` read, and no 401 since.
    pub ready: bool,
    /// A session has been open before: a new login resumes the screen rather than
    /// starting over.
    pub resumed: bool,
    /// Throttled by the daemon (429) until then.
    pub retry_at: Option<DateTime<Utc>>,
}

impl Session {
    /// Whether the console waits for a login: nothing is fetched meanwhile.
    pub fn waiting(&self) -> bool {
        self.email.is_some() && !self.ready
    }
}

/// The start of a `--login` console: the password dialog, nothing fetched.
pub fn start(state: &mut State, email: impl Into<String>) {
    let email = email.into();
    state.overlay = Some(Overlay::Login(Login::new(email.clone(), None)));
    state.session = Session {
        email: Some(email),
        ..Session::default()
    };
    state.dirty = true;
}

fn send(state: &mut State, call: Call) -> Effect {
    let id = next_id(state);
    Effect::Api(Request {
        id,
        scope: Scope::Global,
        call,
    })
}

/// Keys in the login dialog: typing goes to the password, Enter logs in. Ctrl-C (handled
/// before) quits.
pub(crate) fn on_key(state: &mut State, mut login: Login, key: KeyEvent) -> Vec<Effect> {
    let mut out = Vec::new();
    match key.code {
        KeyCode::Enter if login.busy => {}
        KeyCode::Enter => {
            let wait = state
                .session
                .retry_at
                .map(|t| (t - state.now).num_seconds());
            if let Some(secs) = wait.filter(|s| *s > 0) {
                login.error = Some(throttled(secs));
            } else if login.password_chars() == 0 {
                login.error = Some("type the password".into());
            } else {
                let password = login.take_password();
                login.busy = true;
                login.error = None;
                let email = login.email.clone();
                out.push(send(state, Call::Login { email, password }));
            }
        }
        KeyCode::Backspace => login.backspace(),
        // Ctrl-U clears the field, as in a shell.
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            drop(login.take_password());
        }
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            login.type_chars(c.encode_utf8(&mut [0; 4]));
        }
        _ => {}
    }
    state.overlay = Some(Overlay::Login(login));
    out
}

fn throttled(secs: i64) -> String {
    format!("too many failed logins: try again in {secs}s")
}

/// Whether an answer is the session's own (login, logout, `/me`).
pub(crate) fn is_session_call(call: &Call) -> bool {
    matches!(call, Call::Login { .. } | Call::Logout | Call::Me)
}

fn login_dialog(state: &mut State) -> Option<&mut Login> {
    match state.overlay.as_mut() {
        Some(Overlay::Login(l)) => Some(l),
        _ => None,
    }
}

/// The answer to a login, logout or `/me`.
pub(crate) fn on_reply(
    state: &mut State,
    call: &Call,
    result: Result<Reply, ApiError>,
) -> Vec<Effect> {
    state.dirty = true;
    match (call, result) {
        (Call::Login { .. }, Ok(Reply::LoggedIn { expires_at, user })) => {
            state.session.expires_at = Some(expires_at);
            state.session.user = Some(*user);
            state.session.retry_at = None;
            // Who the session is, as the daemon has it now: `/me` decides what is shown.
            vec![send(state, Call::Me)]
        }
        (
            Call::Login { .. },
            Ok(Reply::LoginRefused {
                status,
                message,
                retry_after,
            }),
        ) => {
            let text = if status == 429 {
                let secs = retry_after.unwrap_or(60).max(1);
                state.session.retry_at = Some(state.now + TimeDelta::seconds(secs as i64));
                throttled(secs as i64)
            } else {
                message
            };
            fail(state, text);
            Vec::new()
        }
        (Call::Me, Ok(Reply::Me(user))) => {
            state.session.user = Some(*user);
            state.session.ready = true;
            if matches!(state.overlay, Some(Overlay::Login(_))) {
                state.overlay = None;
            }
            if state.session.resumed {
                resume(state)
            } else {
                state.session.resumed = true;
                open_start(state)
            }
        }
        (Call::Me, Err(e)) if e.status() == Some(401) => {
            fail(state, SESSION_ENDED.into());
            Vec::new()
        }
        (Call::Logout, result) => {
            if let Err(e) = result {
                state.toast(ToastLevel::Error, format!("logout: {e}"));
            }
            end(state, LOGGED_OUT);
            // The token is gone now: a new login cannot race the logout.
            if let Some(l) = login_dialog(state) {
                l.busy = false;
            }
            Vec::new()
        }
        (_, Err(e)) => {
            fail(state, e.to_string());
            Vec::new()
        }
        (_, Ok(_)) => Vec::new(),
    }
}

/// The dialog shows why the login did not go through, ready for another try.
fn fail(state: &mut State, text: String) {
    state.session.ready = false;
    let email = state.session.email.clone().unwrap_or_default();
    match login_dialog(state) {
        Some(l) => {
            l.busy = false;
            l.error = Some(text);
        }
        None => {
            let mut l = Login::new(email, None);
            l.error = Some(text);
            state.overlay = Some(Overlay::Login(l));
        }
    }
}

/// The session is over (ended by the daemon, or logged out): the dialog opens, nothing
/// is fetched, and the screen's data is not drawn until the next login.
fn end(state: &mut State, why: &str) {
    state.session.ready = false;
    state.session.expires_at = None;
    state.dirty = true;
    let email = state.session.email.clone().unwrap_or_default();
    if let Some(l) = login_dialog(state) {
        l.reason = Some(why.to_string());
        return;
    }
    state.overlay = Some(Overlay::Login(Login::new(email, Some(why.to_string()))));
}

/// A 401 for any other request while logged in: the session is over.
pub(crate) fn on_unauthorized(state: &mut State) {
    if state.session.waiting() {
        return;
    }
    end(state, SESSION_ENDED);
}

/// `:logout`.
pub(crate) fn logout(state: &mut State) -> Vec<Effect> {
    if state.session.email.is_none() {
        state.toast(ToastLevel::Info, "not logged in (admin token)");
        return Vec::new();
    }
    // The dialog at once, busy until the daemon has ended the session.
    end(state, LOGGED_OUT);
    if let Some(l) = login_dialog(state) {
        l.busy = true;
    }
    vec![send(state, Call::Logout)]
}

/// The first screen after the first login: the dashboard for a platform user, their
/// tenant's overview for a tenant user.
fn open_start(state: &mut State) -> Vec<Effect> {
    state.back.clear();
    state.after_pick = None;
    match access::own_tenant(state) {
        Some(t) => {
            // The tenant's name arrives with the tenant list (only their own).
            let mut out = switch_tenant(state, &TenantRef::new(t, "", ""));
            state.toasts.clear();
            state.screen = Screen::Overview;
            out.extend(refresh_screen(state, false));
            out
        }
        None => {
            state.screen = Screen::Dashboard;
            refresh_screen(state, false)
        }
    }
}

/// A new login after the session ended: the same screen if the user may still see it, its
/// data fetched again, the event stream reopened with the new session.
fn resume(state: &mut State) -> Vec<Effect> {
    let mut out = if access::can_open(state, state.screen) {
        refresh_screen(state, true)
    } else {
        open_start(state)
    };
    // The old stream may still look open; it belongs to the ended session.
    state.live.status = LiveStatus::Off;
    out.extend(live::reconnect_now(state));
    out
}
