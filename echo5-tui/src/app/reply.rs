//! Applying API answers: connection bookkeeping and dropping stale answers; the component
//! whose call it was stores the data.

use super::action::{ApiError, ApiReply, Reply};
use super::components::{self, keys, owner_of, webhooks};
use super::effect::{Effect, Scope};
use super::request::{fetch, inflight_of, refresh_screen, schedule_poll};
use super::state::{Conn, DOWN_AFTER, ToastLevel};
use super::{State, auth, live, session};

pub(crate) fn on_reply(state: &mut State, r: ApiReply) -> Vec<Effect> {
    let mut out = Vec::new();
    if r.call.is_mutation() {
        state.saving = state.saving.saturating_sub(1);
    }
    match &r.result {
        Err(e) if e.is_connectivity() => connection_failed(state, e),
        _ => out.extend(connection_ok(state)),
    }
    if session::is_session_call(&r.call) {
        out.extend(session::on_reply(state, &r.call, r.result));
        return out;
    }
    let login = state.session.email.is_some();
    let old_token = matches!(&r.result, Err(e) if e.status() == Some(401))
        && (auth::is_for_old_token(state, r.id) || login);
    match &r.result {
        // Logged in, a 401 means the session is over: the login dialog says so.
        Err(e) if login && e.status() == Some(401) => session::on_unauthorized(state),
        Err(_) if old_token => {}
        Err(e) if e.status() == Some(401) => out.extend(auth::on_unauthorized(state)),
        Err(e) if e.is_connectivity() => {}
        // Any other answer passed the token check.
        _ => auth::on_accepted(state),
    }

    let current = match r.scope {
        Scope::Global => true,
        Scope::Tenant { generation } => generation == state.tenant_gen,
    };
    if !current {
        // The operator has moved to another tenant: its data no longer belongs on screen,
        // but a failed change is still news, and a new key must still be seen: it exists
        // on the daemon now, and this answer is the only time it is handed over.
        match r.result {
            Ok(Reply::KeySecret {
                key,
                secret,
                origin,
            }) => keys::show_secret(state, key, secret, origin),
            Ok(Reply::WebhookSecret {
                webhook,
                secret,
                rotated,
            }) => webhooks::show_secret(state, &webhook, secret, rotated),
            Err(e) if r.call.is_mutation() => {
                let text = describe(state, &e);
                state.toast(ToastLevel::Error, format!("not saved: {text}"));
            }
            _ => {}
        }
        return out;
    }
    let owner = owner_of(&r.call);
    if let Some(c) = owner {
        c.answered(state, &r.call, r.result.as_ref().err());
    }

    let res = owner.and_then(|c| c.resource_of(&r.call));
    if let Some(res) = res
        && let Some(remote_inflight) = inflight_of(state, res)
        && *remote_inflight == Some(r.id)
    {
        *remote_inflight = None;
        // Changed again while this fetch was under way (live event): once more.
        if let Some(pos) = state.live.pending.iter().position(|p| *p == res) {
            state.live.pending.remove(pos);
            out.extend(fetch(state, res, false));
        }
    }

    if r.result.is_ok() && owner.is_some_and(|c| !c.still_wanted(state, &r.call)) {
        return out;
    }
    match r.result {
        Ok(reply) => out.extend(components::apply(state, r.id, &r.call, reply)),
        Err(e) => {
            let text = describe(state, &e);
            if r.call.is_mutation() {
                state.toast(ToastLevel::Error, format!("not saved: {text}"));
                // Whatever was shown optimistically is wrong now; show the daemon's truth.
                if let Some(res) = owner.and_then(|c| c.touched_by(&r.call)) {
                    out.extend(fetch(state, res, true));
                }
            } else {
                if let Some(res) = res
                    && let Some(remote) = res.owner().and_then(|c| c.remote_mut(state, res))
                {
                    *remote.error_mut() = Some(text.clone());
                }
                // Connectivity failures are in the header already; a toast each retry
                // would only be noise. A refusal of the token replaced since is old news.
                if !e.is_connectivity() && !old_token {
                    state.toast(ToastLevel::Error, text);
                }
            }
        }
    }
    out
}

fn connection_ok(state: &mut State) -> Vec<Effect> {
    let was_failing = state.conn.is_failing();
    state.conn = Conn::Connected;
    state.last_ok = Some(state.now);
    if was_failing {
        state.toast(ToastLevel::Info, "daemon is back");
        schedule_poll(state);
        let mut out = refresh_screen(state, false);
        // The stream's own backoff may have grown to 30 s while the daemon was away.
        out.extend(live::reconnect_now(state));
        return out;
    }
    Vec::new()
}

fn connection_failed(state: &mut State, e: &ApiError) {
    let failures = state.conn.failures() + 1;
    let since = match state.conn {
        Conn::Degraded { since, .. } | Conn::Down { since, .. } => since,
        _ => state.now,
    };
    if !state.conn.is_failing() {
        state.toast(ToastLevel::Error, format!("{e} — retrying"));
    }
    state.conn = if failures >= DOWN_AFTER {
        Conn::Down { failures, since }
    } else {
        Conn::Degraded { failures, since }
    };
    schedule_poll(state);
}

/// A one-line message for the operator. A refused token gets advice, since that is the
/// one error they can fix from here.
pub(crate) fn describe(state: &State, e: &ApiError) -> String {
    match e {
        ApiError::Http { status: 401, .. } if state.session.email.is_some() => {
            session::SESSION_ENDED.to_string()
        }
        ApiError::Http { status: 401, .. } => auth::unauthorized_text(state),
        other => other.to_string(),
    }
}
