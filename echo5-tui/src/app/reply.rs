//! Applying API answers: connection bookkeeping, dropping stale answers, storing data.

use std::collections::HashMap;

use echo5_core::stage::StageSummary;
use echo5_core::tenant::TenantRef;

use super::action::{ApiReply, Reply};
use super::effect::{Call, Effect, Scope};
use super::request::{fetch, refresh_screen, schedule_poll};
use super::state::{Conn, DOWN_AFTER, Remote, Resource, State, ToastLevel};
use crate::api::ApiError;

pub(crate) fn on_reply(state: &mut State, r: ApiReply) -> Vec<Effect> {
    let mut out = Vec::new();
    if r.call.is_mutation() {
        state.saving = state.saving.saturating_sub(1);
    }
    match &r.result {
        Err(e) if e.is_connectivity() => connection_failed(state, e),
        _ => out.extend(connection_ok(state)),
    }

    let current = match r.scope {
        Scope::Global => true,
        Scope::Tenant { generation } => generation == state.tenant_gen,
    };
    if !current {
        // The operator has moved to another tenant: its data no longer belongs on screen,
        // but a failed change is still news.
        if let (Err(e), true) = (&r.result, r.call.is_mutation()) {
            state.toast(ToastLevel::Error, format!("not saved: {}", describe(e)));
        }
        return out;
    }

    let res = resource_of(&r.call);
    if let Some(res) = res {
        let remote_inflight = inflight_mut(state, res);
        if *remote_inflight == Some(r.id) {
            *remote_inflight = None;
        }
    }

    match r.result {
        Ok(reply) => out.extend(apply(state, r.id, reply)),
        Err(e) => {
            let text = describe(&e);
            if r.call.is_mutation() {
                state.toast(ToastLevel::Error, format!("not saved: {text}"));
                // Whatever was shown optimistically is wrong now; show the daemon's truth.
                if let Some(res) = touched_by(&r.call) {
                    out.extend(fetch(state, res, true));
                }
            } else {
                if let Some(res) = res {
                    set_error(state, res, text.clone());
                }
                // Connectivity failures are in the header already; a toast each retry
                // would only be noise.
                if !e.is_connectivity() {
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
        return refresh_screen(state, false);
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

/// A one-line message for the operator. An unknown token gets advice, since that is the
/// one error they can fix from here.
pub(crate) fn describe(e: &ApiError) -> String {
    match e {
        ApiError::Http { status: 401, .. } => {
            "admin token rejected (401): pass --token or ECHO5_TOKEN, or --data-dir of the daemon"
                .into()
        }
        other => other.to_string(),
    }
}

fn resource_of(call: &Call) -> Option<Resource> {
    match call {
        Call::ListTenants => Some(Resource::Tenants),
        Call::ListStages { .. } => Some(Resource::Stages),
        Call::GetSettings { .. } => Some(Resource::Settings),
        _ => None,
    }
}

fn touched_by(call: &Call) -> Option<Resource> {
    match call {
        Call::AddStage { .. }
        | Call::RenameStage { .. }
        | Call::ReorderStages { .. }
        | Call::DeleteStage { .. } => Some(Resource::Stages),
        Call::PatchSettings { .. } => Some(Resource::Settings),
        _ => None,
    }
}

fn inflight_mut(state: &mut State, res: Resource) -> &mut Option<u64> {
    match res {
        Resource::Tenants => &mut state.tenants.inflight,
        Resource::Stages => &mut state.stages.inflight,
        Resource::Settings => &mut state.settings.inflight,
    }
}

fn set_error(state: &mut State, res: Resource, text: String) {
    match res {
        Resource::Tenants => state.tenants.error = Some(text),
        Resource::Stages => state.stages.error = Some(text),
        Resource::Settings => state.settings.error = Some(text),
    }
}

/// Latest wins: an answer older than the newest one applied (or than a later change the
/// operator made) is dropped.
fn admit(state: &mut State, res: Resource, id: u64) -> bool {
    let floor = state.floor.entry(res).or_insert(0);
    if id < *floor {
        return false;
    }
    *floor = id;
    true
}

fn store<T>(remote: &mut Remote<T>, data: T, now: chrono::DateTime<chrono::Utc>) {
    remote.data = Some(data);
    remote.updated_at = Some(now);
    remote.error = None;
}

fn apply(state: &mut State, id: u64, reply: Reply) -> Vec<Effect> {
    let now = state.now;
    match reply {
        Reply::Tenants(list) => {
            if admit(state, Resource::Tenants, id) {
                // Keep the header's name current if the tenant was renamed elsewhere.
                if let Some(sel) = &state.tenant
                    && let Some(t) = list.iter().find(|t| t.id == sel.id)
                {
                    state.tenant = Some(TenantRef {
                        id: t.id,
                        slug: t.slug.clone(),
                        name: t.name.clone(),
                    });
                }
                store(&mut state.tenants, list, now);
                let n = state.filtered_tenants(&state.dashboard).len();
                state.dashboard.clamp(n);
                let n = state.filtered_tenants(&state.picker).len();
                state.picker.clamp(n);
            }
            Vec::new()
        }
        Reply::Stages(list) => {
            if admit(state, Resource::Stages, id) {
                store(&mut state.stages, list, now);
                focus_pending_stage(state);
                let n = state.filtered_stages().len();
                state.pipeline.clamp(n);
            }
            Vec::new()
        }
        Reply::Reordered(stages) => {
            if admit(state, Resource::Stages, id) {
                // The reorder answer has no lead counts; they did not change.
                let counts: HashMap<_, _> = state
                    .stages
                    .data
                    .iter()
                    .flatten()
                    .map(|s| (s.id, s.lead_count))
                    .collect();
                let list = stages
                    .into_iter()
                    .map(|s| StageSummary {
                        lead_count: counts.get(&s.id).copied().unwrap_or(0),
                        id: s.id,
                        name: s.name,
                        kind: s.kind,
                    })
                    .collect();
                store(&mut state.stages, list, now);
            }
            Vec::new()
        }
        Reply::Settings(s) => {
            store_settings(state, id, s);
            Vec::new()
        }
        Reply::SettingsSaved(s) => {
            store_settings(state, id, s);
            state.toast(ToastLevel::Info, "settings saved");
            Vec::new()
        }
        Reply::StageAdded(stage) => {
            state.toast(ToastLevel::Info, format!("added stage \"{}\"", stage.name));
            state.focus_stage = Some(stage.id);
            fetch(state, Resource::Stages, true).into_iter().collect()
        }
        Reply::StageRenamed(stage) => {
            state.toast(ToastLevel::Info, format!("renamed to \"{}\"", stage.name));
            fetch(state, Resource::Stages, true).into_iter().collect()
        }
        Reply::StageDeleted { moved_leads } => {
            let text = if moved_leads > 0 {
                format!("stage deleted; {moved_leads} lead(s) moved")
            } else {
                "stage deleted".to_string()
            };
            state.toast(ToastLevel::Info, text);
            fetch(state, Resource::Stages, true).into_iter().collect()
        }
    }
}

fn store_settings(state: &mut State, id: u64, s: echo5_core::tenant::TenantSettings) {
    if !admit(state, Resource::Settings, id) {
        return;
    }
    // The dashboard shows SLA hours from the tenant list; keep it in step.
    if let (Some(sel), Some(all)) = (&state.tenant, state.tenants.data.as_mut())
        && let Some(t) = all.iter_mut().find(|t| t.id == sel.id)
    {
        t.settings = s.clone();
    }
    let now = state.now;
    store(&mut state.settings, s, now);
}

/// After adding a stage, put the cursor on it once the list that holds it arrives.
fn focus_pending_stage(state: &mut State) {
    let Some(id) = state.focus_stage else {
        return;
    };
    if let Some(pos) = state.filtered_stages().iter().position(|(_, s)| s.id == id) {
        state.pipeline.selected = pos;
        state.focus_stage = None;
    }
}
