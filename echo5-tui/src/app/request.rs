//! Issuing requests: ids, tags, in-flight markers and the latest-wins floor.

use chrono::TimeDelta;

use super::effect::{Call, Effect, Request, Scope};
use super::state::{Conn, Resource, Screen, State};

fn next_id(state: &mut State) -> u64 {
    state.seq += 1;
    state.seq
}

/// A fetch of `res`. Skipped when one is already in flight unless `force`: a poll must not
/// stack requests behind a slow daemon, but an explicit refresh or a tenant switch must go.
pub(crate) fn fetch(state: &mut State, res: Resource, force: bool) -> Option<Effect> {
    let (call, scope) = match res {
        Resource::Tenants => (Call::ListTenants, Scope::Global),
        Resource::Stages | Resource::Settings | Resource::Keys => {
            let tenant = state.tenant.as_ref()?.id;
            let call = match res {
                Resource::Stages => Call::ListStages { tenant },
                Resource::Keys => Call::ListKeys { tenant },
                _ => Call::GetSettings { tenant },
            };
            (
                call,
                Scope::Tenant {
                    generation: state.tenant_gen,
                },
            )
        }
    };
    let loading = match res {
        Resource::Tenants => state.tenants.loading(),
        Resource::Stages => state.stages.loading(),
        Resource::Settings => state.settings.loading(),
        Resource::Keys => state.keys.loading(),
    };
    if loading && !force {
        return None;
    }
    let id = next_id(state);
    match res {
        Resource::Tenants => state.tenants.inflight = Some(id),
        Resource::Stages => state.stages.inflight = Some(id),
        Resource::Settings => state.settings.inflight = Some(id),
        Resource::Keys => state.keys.inflight = Some(id),
    }
    Some(Effect::Api(Request { id, scope, call }))
}

/// A change on the daemon for the selected tenant. Answers to fetches of `touches` issued
/// before it are stale from now on: they would undo what the operator sees.
pub(crate) fn mutate(state: &mut State, call: Call, touches: Resource) -> Effect {
    let id = next_id(state);
    state.floor.insert(touches, id);
    state.saving += 1;
    Effect::Api(Request {
        id,
        scope: Scope::Tenant {
            generation: state.tenant_gen,
        },
        call,
    })
}

/// What the current screen shows, fetched again.
pub(crate) fn refresh_screen(state: &mut State, force: bool) -> Vec<Effect> {
    let res = match state.screen {
        Screen::Dashboard | Screen::Tenants => Resource::Tenants,
        _ if state.tenant.is_none() => Resource::Tenants,
        Screen::Pipeline => Resource::Stages,
        Screen::Settings => Resource::Settings,
        Screen::Keys => Resource::Keys,
    };
    let mut out: Vec<Effect> = fetch(state, res, force).into_iter().collect();
    // Names in the palette's completion come from the tenant list; load it once.
    if res != Resource::Tenants && state.tenants.data.is_none() {
        out.extend(fetch(state, Resource::Tenants, false));
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
