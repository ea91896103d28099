//! Applying API answers: connection bookkeeping, dropping stale answers, storing data.

use std::collections::HashMap;

use echo5_core::keys::ApiKey;
use echo5_core::leads::Lead;
use echo5_core::page::Page;
use echo5_core::secret::Secret;
use echo5_core::stages::StageSummary;
use echo5_core::tenants::TenantRef;

use super::action::{ApiReply, Reply, SecretOrigin};
use super::effect::{Call, Effect, LeadChange, PlatformChange, Scope};
use super::overlay::{Overlay, ShownKey};
use super::request::{fetch, inflight_of, refresh_screen, schedule_poll};
use super::state::{Conn, DOWN_AFTER, ErrorAt, PlatformField, Remote, Resource, State, ToastLevel};
use crate::api::ApiError;
use crate::platform::LeadWithTenant;

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
        // but a failed change is still news, and a new key must still be seen: it exists
        // on the daemon now, and this answer is the only time it is handed over.
        match r.result {
            Ok(Reply::KeySecret {
                key,
                secret,
                origin,
            }) => show_secret(state, key, secret, origin),
            Err(e) if r.call.is_mutation() => {
                state.toast(ToastLevel::Error, format!("not saved: {}", describe(&e)));
            }
            _ => {}
        }
        return out;
    }
    if let Call::PatchPlatform { change } = &r.call {
        state.platform_view.pending = state.platform_view.pending.saturating_sub(1);
        platform_outcome(state, change, r.result.as_ref().err());
    }

    let res = resource_of(&r.call);
    if let Some(res) = res {
        let remote_inflight = inflight_of(state, res);
        if *remote_inflight == Some(r.id) {
            *remote_inflight = None;
            // Changed again while this fetch was under way (live event): once more.
            if let Some(pos) = state.live.pending.iter().position(|p| *p == res) {
                state.live.pending.remove(pos);
                out.extend(fetch(state, res, false));
            }
        }
    }

    if r.result.is_ok() && !still_wanted(state, &r.call) {
        return out;
    }
    match r.result {
        Ok(reply) => out.extend(apply(state, r.id, &r.call, reply)),
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
        Call::ListKeys { .. } => Some(Resource::Keys),
        Call::Dashboard => Some(Resource::Dashboard),
        Call::ListLeads { .. } => Some(Resource::Leads),
        Call::GetLead { .. } => Some(Resource::LeadDetail),
        Call::ListBreaches { .. } => Some(Resource::Breaches),
        Call::GetAnalytics { .. } => Some(Resource::Analytics),
        Call::GetPlatform => Some(Resource::Platform),
        Call::ListAllLeads { .. } => Some(Resource::AllLeads),
        Call::GetUsage { .. } => Some(Resource::Usage),
        Call::GetLogs { .. } => Some(Resource::Logs),
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
        Call::CreateKey { .. }
        | Call::RotateKey { .. }
        | Call::RevealKey { .. }
        | Call::RevokeKey { .. } => Some(Resource::Keys),
        Call::PatchLead { .. } => Some(Resource::Leads),
        Call::PatchPlatform { .. } => Some(Resource::Platform),
        _ => None,
    }
}

fn set_error(state: &mut State, res: Resource, text: String) {
    let slot = match res {
        Resource::Tenants => &mut state.tenants.error,
        Resource::Stages => &mut state.stages.error,
        Resource::Settings => &mut state.settings.error,
        Resource::Keys => &mut state.keys.error,
        Resource::Dashboard => &mut state.dash.error,
        Resource::Leads => &mut state.leads.error,
        Resource::LeadDetail => &mut state.lead_detail.error,
        Resource::Breaches => &mut state.breaches.error,
        Resource::Analytics => &mut state.analytics.error,
        Resource::Platform => &mut state.platform.error,
        Resource::AllLeads => &mut state.all_leads.error,
        Resource::Usage => &mut state.usage.error,
        Resource::Logs => &mut state.log_fetch.error,
    };
    *slot = Some(text);
}

/// Whether an answer still matches what the operator asked for last: the same search,
/// the same breach scope, the same analytics range, the same lead.
fn still_wanted(state: &State, call: &Call) -> bool {
    match call {
        Call::ListLeads { q, .. } => *q == state.leads_view.query,
        Call::ListBreaches { tenant } => {
            let want = if state.breaches_all {
                None
            } else {
                state.tenant.as_ref().map(|t| t.id)
            };
            *tenant == want
        }
        Call::GetAnalytics { days, .. } => *days == state.analytics_days,
        Call::GetLead { lead } => state.selected_lead().is_some_and(|l| l.id == *lead),
        Call::ListAllLeads { tenants, q, .. } => {
            *tenants == state.all_leads_view.tenants && *q == state.all_leads_view.query
        }
        Call::GetUsage { month } => *month == state.usage_month,
        _ => true,
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

fn apply(state: &mut State, id: u64, call: &Call, reply: Reply) -> Vec<Effect> {
    let now = state.now;
    match reply {
        Reply::Dashboard(d) => {
            if admit(state, Resource::Dashboard, id) {
                store(&mut state.dash, d, now);
                let n = state.filtered_dash().len();
                state.dashboard.clamp(n);
            }
            Vec::new()
        }
        Reply::Leads(page) => {
            let more = matches!(
                call,
                Call::ListLeads {
                    cursor: Some(_),
                    ..
                }
            );
            if admit(state, Resource::Leads, id) && store_leads(state, page, more) {
                // A lead opened from All leads: its pane shows its history too.
                if state.leads_view.detail_open {
                    return fetch(state, Resource::LeadDetail, true)
                        .into_iter()
                        .collect();
                }
            }
            Vec::new()
        }
        Reply::Lead(detail) => {
            if admit(state, Resource::LeadDetail, id) {
                store(&mut state.lead_detail, *detail, now);
            }
            Vec::new()
        }
        Reply::LeadSaved(detail) => {
            let what = match call {
                Call::PatchLead {
                    change: LeadChange::Stage(to),
                    ..
                } => format!(
                    "moved to {}",
                    state.stage_name(*to).unwrap_or("the new stage")
                ),
                Call::PatchLead {
                    change: LeadChange::Notes(_),
                    ..
                } => "notes saved".to_string(),
                _ => "assignee saved".to_string(),
            };
            state.toast(ToastLevel::Info, what);
            if let Some(row) = state
                .leads
                .data
                .iter_mut()
                .flatten()
                .find(|l| l.id == detail.lead.id)
            {
                *row = detail.lead.clone();
            }
            if state
                .selected_lead()
                .is_some_and(|l| l.id == detail.lead.id)
            {
                store(&mut state.lead_detail, *detail, now);
            }
            // Lead counts per stage changed; the breach list may have too.
            fetch(state, Resource::Stages, true).into_iter().collect()
        }
        Reply::Breaches(page) => {
            if admit(state, Resource::Breaches, id) {
                state.breaches_more = page.next_cursor.is_some();
                store(&mut state.breaches, page.data, now);
                let n = state.filtered_breaches().len();
                state.breaches_view.clamp(n);
            }
            Vec::new()
        }
        Reply::Analytics(a) => {
            if admit(state, Resource::Analytics, id) {
                store(&mut state.analytics, *a, now);
            }
            Vec::new()
        }
        Reply::Platform(p) => {
            if admit(state, Resource::Platform, id) {
                store(&mut state.platform, *p, now);
                let n = state.platform_rows().len();
                state.platform_view.selected =
                    state.platform_view.selected.min(n.saturating_sub(1));
            }
            Vec::new()
        }
        Reply::PlatformSaved(p) => {
            if admit(state, Resource::Platform, id) {
                store(&mut state.platform, *p, now);
                let n = state.platform_rows().len();
                state.platform_view.selected =
                    state.platform_view.selected.min(n.saturating_sub(1));
            }
            state.toast(ToastLevel::Info, "platform settings saved");
            Vec::new()
        }
        Reply::AllLeads(page) => {
            let more = matches!(
                call,
                Call::ListAllLeads {
                    cursor: Some(_),
                    ..
                }
            );
            if admit(state, Resource::AllLeads, id) {
                store_all_leads(state, page, more);
            }
            Vec::new()
        }
        Reply::Usage(u) => {
            if admit(state, Resource::Usage, id) {
                store(&mut state.usage, *u, now);
                let n = state.filtered_usage().len();
                state.usage_view.clamp(n);
            }
            Vec::new()
        }
        Reply::Logs(lines) => {
            if admit(state, Resource::Logs, id) {
                store(&mut state.log_fetch, (), now);
                super::screens::logs::merge_history(state, lines);
            }
            Vec::new()
        }
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
        Reply::Keys(list) => {
            if admit(state, Resource::Keys, id) {
                store(&mut state.keys, list, now);
                focus_pending_key(state);
                let n = state.filtered_keys().len();
                state.keys_view.clamp(n);
            }
            Vec::new()
        }
        Reply::KeySecret {
            key,
            secret,
            origin,
        } => {
            let changed_list = match &origin {
                SecretOrigin::Created => {
                    state.toast(ToastLevel::Info, format!("created key {}", key.prefix));
                    true
                }
                SecretOrigin::Rotated { old_key } => {
                    let until = old_key
                        .expires_at
                        .map(|t| format!("until {}", t.format("%Y-%m-%d %H:%M UTC")))
                        .unwrap_or_else(|| "no longer".into());
                    state.toast(
                        ToastLevel::Info,
                        format!("rotated: {} works {until}", old_key.prefix),
                    );
                    true
                }
                SecretOrigin::Revealed => false,
            };
            if changed_list {
                state.focus_key = Some(key.id);
            }
            show_secret(state, key, secret, origin);
            if changed_list {
                fetch(state, Resource::Keys, true).into_iter().collect()
            } else {
                Vec::new()
            }
        }
        Reply::KeyRevoked(key) => {
            state.toast(ToastLevel::Info, format!("revoked {}", key.prefix));
            // Shown at once; the refetch confirms it.
            if let Some(row) = state
                .keys
                .data
                .iter_mut()
                .flatten()
                .find(|k| k.id == key.id)
            {
                *row = key;
            }
            fetch(state, Resource::Keys, true).into_iter().collect()
        }
    }
}

/// A page of leads: the first replaces the list (keeping the cursor on the same lead when
/// it is still there), later ones append. True when the cursor went to the lead waiting
/// in `leads_view.focus`.
fn store_leads(state: &mut State, page: Page<Lead>, more: bool) -> bool {
    let now = state.now;
    let keep = state.selected_lead().map(|l| l.id);
    let view = &mut state.leads_view;
    view.next_cursor = page.next_cursor;
    if more {
        view.pages += 1;
        let list = state.leads.data.get_or_insert_with(Vec::new);
        // A lead that arrived between two pages shifts the rest by one; never show it twice.
        for l in page.data {
            if !list.iter().any(|x| x.id == l.id) {
                list.push(l);
            }
        }
        state.leads.updated_at = Some(now);
        state.leads.error = None;
    } else {
        view.pages = 1;
        store(&mut state.leads, page.data, now);
        if let Some(pos) = keep.and_then(|id| state.lead_rows().iter().position(|l| l.id == id)) {
            state.leads_view.list.selected = pos;
        }
    }
    let n = state.lead_rows().len();
    state.leads_view.list.clamp(n);
    let focused = state
        .leads_view
        .focus
        .and_then(|id| state.lead_rows().iter().position(|l| l.id == id));
    if let Some(pos) = focused {
        state.leads_view.list.selected = pos;
        state.leads_view.focus = None;
    }
    focused.is_some()
}

/// A page of every tenant's leads: the first replaces the list, later ones append.
fn store_all_leads(state: &mut State, page: Page<LeadWithTenant>, more: bool) {
    let now = state.now;
    let keep = state.selected_all_lead().map(|l| l.lead.id);
    state.all_leads_view.next_cursor = page.next_cursor;
    if more {
        state.all_leads_view.pages += 1;
        let list = state.all_leads.data.get_or_insert_with(Vec::new);
        for l in page.data {
            if !list.iter().any(|x| x.lead.id == l.lead.id) {
                list.push(l);
            }
        }
        state.all_leads.updated_at = Some(now);
        state.all_leads.error = None;
    } else {
        state.all_leads_view.pages = 1;
        store(&mut state.all_leads, page.data, now);
        if let Some(pos) =
            keep.and_then(|id| state.all_lead_rows().iter().position(|l| l.lead.id == id))
        {
            state.all_leads_view.list.selected = pos;
        }
    }
    let n = state.all_lead_rows().len();
    state.all_leads_view.list.clamp(n);
}

/// After a platform PATCH is answered: a refusal is shown beside the field it is about
/// (the daemon's `field` when it names one, else the field that was sent, since a PATCH
/// carries only one); a success clears that field's old refusal.
fn platform_outcome(state: &mut State, change: &PlatformChange, err: Option<&ApiError>) {
    let sent = change.error_at();
    let view = &mut state.platform_view;
    match err {
        None => view.errors.retain(|(at, _)| {
            *at != sent && !(sent == ErrorAt::Stages && matches!(at, ErrorAt::Stage(_)))
        }),
        Some(ApiError::Http { detail, .. }) => {
            let at = detail
                .field
                .as_deref()
                .and_then(error_at_field)
                .unwrap_or(sent);
            view.errors.retain(|(a, _)| *a != at);
            view.errors.push((at, detail.message.clone()));
        }
        // Not the daemon's verdict on the value: the toast and the header say it.
        Some(_) => {}
    }
}

/// `default_stages[2].name` → the third stage; `operator_email` → that field.
fn error_at_field(path: &str) -> Option<ErrorAt> {
    if let Some(rest) = path.strip_prefix("default_stages") {
        let index = rest
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .and_then(|(n, _)| n.parse::<usize>().ok());
        return Some(index.map_or(ErrorAt::Stages, ErrorAt::Stage));
    }
    PlatformField::ALL
        .into_iter()
        .find(|f| path == f.json() || path.starts_with(&format!("{}[", f.json())))
        .map(ErrorAt::Field)
}

/// Opens (or queues behind one already open) the modal that shows a full key once. It
/// replaces any other dialog: losing a half-typed form costs less than missing a key.
fn show_secret(state: &mut State, key: ApiKey, secret: Secret<String>, origin: SecretOrigin) {
    let tenant_name = state
        .tenants
        .data
        .iter()
        .flatten()
        .find(|t| t.id == key.tenant_id)
        .map(|t| t.name.clone())
        .unwrap_or_else(|| key.tenant_id.to_string());
    let shown = ShownKey {
        tenant_name,
        key,
        secret,
        origin,
    };
    state.overlay = Some(match state.overlay.take() {
        Some(Overlay::ShowKey(mut queue)) => {
            queue.push(shown);
            Overlay::ShowKey(queue)
        }
        _ => Overlay::ShowKey(vec![shown]),
    });
    state.dirty = true;
}

/// After creating or rotating a key, put the cursor on the new one once the list has it.
fn focus_pending_key(state: &mut State) {
    let Some(id) = state.focus_key else {
        return;
    };
    if let Some(pos) = state.filtered_keys().iter().position(|k| k.id == id) {
        state.keys_view.selected = pos;
        state.focus_key = None;
    }
}

fn store_settings(state: &mut State, id: u64, s: echo5_core::tenants::TenantSettings) {
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
