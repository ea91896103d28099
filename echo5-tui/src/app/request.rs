//! Issuing requests: ids, tags, in-flight markers and the latest-wins floor.

use chrono::TimeDelta;

use super::effect::{Call, Effect, Request, Scope};
use super::state::Conn;
use super::{Resource, State};

pub(crate) fn next_id(state: &mut State) -> u64 {
    state.seq += 1;
    state.seq
}

/// A fetch of `res`, built by the component that owns it. Skipped when one is already in
/// flight unless `force`: a poll must not stack requests behind a slow daemon, but an
/// explicit refresh or a tenant switch must go. Paged lists are fetched from the first
/// page; their components page on with [`issue`].
pub(crate) fn fetch(state: &mut State, res: Resource, force: bool) -> Option<Effect> {
    // Nothing is fetched without a session, nor what the principal may not read.
    if state.session.waiting() || !super::access::may_fetch(state, res) {
        return None;
    }
    let owner = res.owner()?;
    let (call, scope) = owner.call(state, res)?;
    if in_flight(state, res) && !force {
        return None;
    }
    Some(issue(state, res, call, scope))
}

/// Sends a fetch of `res` and marks it in flight: answers to older ones are then ignored.
pub(crate) fn issue(state: &mut State, res: Resource, call: Call, scope: Scope) -> Effect {
    let id = next_id(state);
    if let Some(owner) = res.owner()
        && let Some(remote) = owner.remote_mut(state, res)
    {
        *remote.inflight_mut() = Some(id);
    }
    Effect::Api(Request { id, scope, call })
}

/// Whether a fetch of `res` is under way.
pub(crate) fn in_flight(state: &mut State, res: Resource) -> bool {
    res.owner()
        .and_then(|c| c.remote_mut(state, res))
        .is_some_and(|r| r.inflight_mut().is_some())
}

/// The in-flight marker of `res`, to clear when its answer lands.
pub(crate) fn inflight_of(state: &mut State, res: Resource) -> Option<&mut Option<u64>> {
    res.owner()
        .and_then(|c| c.remote_mut(state, res))
        .map(|r| r.inflight_mut())
}

/// A change on the daemon for the selected tenant. Answers to fetches of `touches` issued
/// before it are stale from now on: they would undo what the operator sees.
pub(crate) fn mutate(state: &mut State, call: Call, touches: Resource) -> Effect {
    let scope = state.tenant_scope();
    mutate_in(state, call, touches, scope)
}

/// A platform-wide change: its answer applies whichever tenant is selected by then.
pub(crate) fn mutate_global(state: &mut State, call: Call, touches: Resource) -> Effect {
    mutate_in(state, call, touches, Scope::Global)
}

fn mutate_in(state: &mut State, call: Call, touches: Resource, scope: Scope) -> Effect {
    let id = next_id(state);
    state.floor.insert(touches, id);
    state.saving += 1;
    Effect::Api(Request { id, scope, call })
}

/// Latest wins: an answer older than the newest one applied (or than a later change the
/// operator made) is dropped.
pub(crate) fn admit(state: &mut State, res: Resource, id: u64) -> bool {
    let floor = state.floor.entry(res).or_insert(0);
    if id < *floor {
        return false;
    }
    *floor = id;
    true
}

/// What the current screen shows, fetched again.
pub(crate) fn refresh_screen(state: &mut State, force: bool) -> Vec<Effect> {
    let desc = state.screen.desc();
    let mut res = if desc.needs_tenant && state.tenant.is_none() {
        vec![Resource::Tenants]
    } else {
        desc.component.wanted(state, force)
    };
    // Names in the palette's completion come from the tenant list; load it once.
    if !res.contains(&Resource::Tenants) && state.tenants.remote.data.is_none() {
        res.push(Resource::Tenants);
    }
    for r in state.background(None) {
        if !res.contains(&r) {
            res.push(r);
        }
    }
    let mut out = Vec::new();
    for (i, r) in res.into_iter().enumerate() {
        // Only the screen's main data is forced; the rest is loaded if not under way.
        out.extend(fetch(state, r, force && i == 0));
    }
    out
}

/// Delay before the next attempt after `failures` consecutive failures: 1, 2, 4 … 30 s.
pub fn backoff(failures: u32) -> TimeDelta {
    let secs = 1i64 << failures.saturating_sub(1).min(5);
    TimeDelta::seconds(secs.min(30))
}

/// Schedules the next automatic refresh from the connection state.
pub(crate) fn schedule_poll(state: &mut State) {
    let delay = match state.conn {
        Conn::Degraded { failures, .. } | Conn::Down { failures, .. } => backoff(failures),
        Conn::Connecting | Conn::Connected => state.refresh_every,
    };
    state.next_poll = state.now + delay;
}
