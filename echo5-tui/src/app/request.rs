//! Issuing requests: ids, tags, in-flight markers and the latest-wins floor.

use chrono::TimeDelta;

use super::effect::{Call, Effect, Request, Scope};
use super::state::{Conn, LiveStatus, Resource, Screen, State};

fn next_id(state: &mut State) -> u64 {
    state.seq += 1;
    state.seq
}

/// A fetch of `res`. Skipped when one is already in flight unless `force`: a poll must not
/// stack requests behind a slow daemon, but an explicit refresh or a tenant switch must go.
/// Leads are fetched from the first page; [`fetch_more_leads`] pages on.
pub(crate) fn fetch(state: &mut State, res: Resource, force: bool) -> Option<Effect> {
    let tenant_scope = Scope::Tenant {
        generation: state.tenant_gen,
    };
    let tenant = state.tenant.as_ref().map(|t| t.id);
    let (call, scope) = match res {
        Resource::Tenants => (Call::ListTenants, Scope::Global),
        Resource::Dashboard => (Call::Dashboard, Scope::Global),
        Resource::Breaches if state.breaches_all => {
            (Call::ListBreaches { tenant: None }, Scope::Global)
        }
        Resource::Breaches => (
            Call::ListBreaches {
                tenant: Some(tenant?),
            },
            tenant_scope,
        ),
        Resource::Stages => (Call::ListStages { tenant: tenant? }, tenant_scope),
        Resource::Keys => (Call::ListKeys { tenant: tenant? }, tenant_scope),
        Resource::Settings => (Call::GetSettings { tenant: tenant? }, tenant_scope),
        Resource::Leads => (
            Call::ListLeads {
                tenant: tenant?,
                q: state.leads_view.query.clone(),
                cursor: None,
            },
            tenant_scope,
        ),
        Resource::LeadDetail => {
            tenant?;
            let lead = state.selected_lead()?.id;
            (Call::GetLead { lead }, tenant_scope)
        }
        Resource::Platform => (Call::GetPlatform, Scope::Global),
        Resource::AllLeads => (
            Call::ListAllLeads {
                tenants: state.all_leads_view.tenants.clone(),
                q: state.all_leads_view.query.clone(),
                cursor: None,
            },
            Scope::Global,
        ),
        Resource::Usage => (
            Call::GetUsage {
                month: state.usage_month,
            },
            Scope::Global,
        ),
        Resource::Logs => (
            Call::GetLogs {
                level: state.logs.level,
            },
            Scope::Global,
        ),
        Resource::Analytics => {
            let days = state.analytics_days;
            (
                Call::GetAnalytics {
                    tenant: tenant?,
                    days,
                    from: state.now - TimeDelta::days(i64::from(days)),
                },
                tenant_scope,
            )
        }
    };
    if inflight_of(state, res).is_some() && !force {
        return None;
    }
    let id = next_id(state);
    *inflight_of(state, res) = Some(id);
    Some(Effect::Api(Request { id, scope, call }))
}

/// The next page of leads, when there is one and no leads fetch is under way.
pub(crate) fn fetch_more_leads(state: &mut State) -> Option<Effect> {
    let tenant = state.tenant.as_ref()?.id;
    let cursor = state.leads_view.next_cursor.clone()?;
    if state.leads.loading() {
        return None;
    }
    let id = next_id(state);
    state.leads.inflight = Some(id);
    Some(Effect::Api(Request {
        id,
        scope: Scope::Tenant {
            generation: state.tenant_gen,
        },
        call: Call::ListLeads {
            tenant,
            q: state.leads_view.query.clone(),
            cursor: Some(cursor),
        },
    }))
}

/// The next page of every tenant's leads, when there is one and no fetch is under way.
pub(crate) fn fetch_more_all_leads(state: &mut State) -> Option<Effect> {
    let cursor = state.all_leads_view.next_cursor.clone()?;
    if state.all_leads.loading() {
        return None;
    }
    let id = next_id(state);
    state.all_leads.inflight = Some(id);
    Some(Effect::Api(Request {
        id,
        scope: Scope::Global,
        call: Call::ListAllLeads {
            tenants: state.all_leads_view.tenants.clone(),
            q: state.all_leads_view.query.clone(),
            cursor: Some(cursor),
        },
    }))
}

pub(crate) fn inflight_of(state: &mut State, res: Resource) -> &mut Option<u64> {
    match res {
        Resource::Tenants => &mut state.tenants.inflight,
        Resource::Stages => &mut state.stages.inflight,
        Resource::Settings => &mut state.settings.inflight,
        Resource::Keys => &mut state.keys.inflight,
        Resource::Dashboard => &mut state.dash.inflight,
        Resource::Leads => &mut state.leads.inflight,
        Resource::LeadDetail => &mut state.lead_detail.inflight,
        Resource::Breaches => &mut state.breaches.inflight,
        Resource::Analytics => &mut state.analytics.inflight,
        Resource::Platform => &mut state.platform.inflight,
        Resource::AllLeads => &mut state.all_leads.inflight,
        Resource::Usage => &mut state.usage.inflight,
        Resource::Logs => &mut state.log_fetch.inflight,
    }
}

/// A change on the daemon for the selected tenant. Answers to fetches of `touches` issued
/// before it are stale from now on: they would undo what the operator sees.
pub(crate) fn mutate(state: &mut State, call: Call, touches: Resource) -> Effect {
    let scope = Scope::Tenant {
        generation: state.tenant_gen,
    };
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

/// What the current screen shows, fetched again.
pub(crate) fn refresh_screen(state: &mut State, force: bool) -> Vec<Effect> {
    let mut res = match state.screen {
        Screen::Dashboard => vec![Resource::Dashboard],
        Screen::Tenants => vec![Resource::Tenants],
        Screen::Breaches if state.breaches_all => vec![Resource::Breaches],
        // A poll while a change is on its way could show the settings from before it.
        Screen::Platform if state.platform_view.pending > 0 && !force => Vec::new(),
        Screen::Platform => vec![Resource::Platform],
        // As for a tenant's leads: a poll must not fold paged-in rows back to one page.
        Screen::AllLeads if force || state.all_leads_view.pages <= 1 => vec![Resource::AllLeads],
        Screen::AllLeads => Vec::new(),
        Screen::Usage => vec![Resource::Usage],
        // The live tail keeps the lines current; the history is read once (or on Ctrl-R).
        Screen::Logs
            if force
                || state.log_fetch.data.is_none()
                || state.logs.stream.status == LiveStatus::Off =>
        {
            vec![Resource::Logs]
        }
        Screen::Logs => Vec::new(),
        _ if state.tenant.is_none() => vec![Resource::Tenants],
        Screen::Breaches => vec![Resource::Breaches],
        Screen::Pipeline => vec![Resource::Stages],
        Screen::Settings => vec![Resource::Settings],
        Screen::Keys => vec![Resource::Keys],
        Screen::Analytics => vec![Resource::Analytics],
        Screen::Leads => {
            let mut r = Vec::new();
            // A poll would fold the pages scrolled in back to the first one; only an
            // explicit refresh (or a new search) starts over.
            if force || state.leads_view.pages <= 1 {
                r.push(Resource::Leads);
            }
            // Stage names for the table and the move-stage picker.
            if force || state.stages.data.is_none() {
                r.push(Resource::Stages);
            }
            if state.leads_view.detail_open {
                r.push(Resource::LeadDetail);
            }
            r
        }
    };
    // Names in the palette's completion come from the tenant list; load it once.
    if !res.contains(&Resource::Tenants) && state.tenants.data.is_none() {
        res.push(Resource::Tenants);
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
