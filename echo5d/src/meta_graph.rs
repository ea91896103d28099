//! Meta lead fetches, run by the outbox worker: one lead by its leadgen id (queued by the
//! notification that announced it), or one page of a form's leads (a backfill). The lead is
//! mapped by core and stored through the same writer as every lead, once per leadgen id and
//! tenant.
//!
//! The tenant's access token travels only in the request's query string: it is never
//! logged, never stored in a task, and errors drop the URL (`without_url`) before they are
//! turned into text. A Graph error 190 (the token is dead) parks every fetch of the tenant
//! (task group `meta:<tenant>`), marks the integration broken and queues one alert for the
//! tenant's manager; saving a new token releases the group.

use chrono::DateTime;
use echo5_core::integrations::IntegrationSource;
use echo5_core::integrations::meta::{self, GraphLead};
use echo5_core::integrations::meta_graph::{
    self, FormSync, LEAD_FIELDS, LeadFetch, LeadsPage, PAGE_LIMIT, Verdict,
};
use echo5_core::leads::{Lead, new_lead_id};
use echo5_core::outbox::parse_retry_after;
use echo5_core::outbox_tasks::{NewTask, TaskKind, TaskResult};
use echo5_data::integrations::AdLeadRequest;
use echo5_data::outbox_tasks::Task;
use uuid::Uuid;

use crate::state::AppState;

/// Largest Graph answer read: one lead is a few KiB, a page of [`PAGE_LIMIT`] a few hundred.
pub const ANSWER_LIMIT: usize = 4 * 1024 * 1024;

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Vec<u8>,
}

/// One GET with the token added to the query. Errors never carry the URL.
async fn get(state: &AppState, mut url: reqwest::Url, token: &str) -> Result<Answer, String> {
    let graph = &state.outbound.graph;
    url.query_pairs_mut().append_pair("access_token", token);
    let sent = graph
        .client
        .get(url)
        .timeout(graph.timeout)
        .header("accept", "application/json")
        .send()
        .await;
    let mut resp = match sent {
        Ok(r) => r,
        Err(e) => return Err(failure(e)),
    };
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if body.len() + c.len() > ANSWER_LIMIT {
                    return Err(format!(
                        "the Graph API answer is over {} MiB",
                        ANSWER_LIMIT / (1024 * 1024)
                    ));
                }
                body.extend_from_slice(&c);
            }
            Ok(None) => break,
            Err(e) => return Err(failure(e)),
        }
    }
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// A transport error in words, without the URL (it holds the token).
fn failure(e: reqwest::Error) -> String {
    let e = e.without_url();
    let what = if e.is_timeout() {
        "timeout".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut out = format!("Graph API {what}: {e}");
    let mut cur = std::error::Error::source(&e);
    while let Some(c) = cur {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = c.source();
    }
    out
}

/// The tenant's token, or the outcome when it cannot be had: none set parks the fetches
/// as a refused token does (saving one releases them).
async fn token(
    state: &AppState,
    tenant: Uuid,
) -> Result<echo5_core::secret::Secret<String>, TaskResult> {
    match state.store.meta_access_token(tenant).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(refused(
            state,
            tenant,
            "the tenant has no Meta access token (settings.meta_access_token)".into(),
        )
        .await),
        Err(e) => Err(TaskResult::Retry {
            error: format!("cannot read the tenant's Meta token: {e}"),
            not_before: None,
        }),
    }
}

/// Meta refused the token: the integration is marked broken (and the manager's alert
/// queued, once per breakage) and the tenant's fetches park.
async fn refused(state: &AppState, tenant: Uuid, error: String) -> TaskResult {
    tracing::warn!(tenant = %tenant, error = %error, "meta token refused; the tenant's lead fetches are parked until it is replaced");
    if let Err(e) = state
        .store
        .meta_token_refused(
            tenant,
            error.clone(),
            format!("{}/api/v1/tenants/{tenant}/integrations", state.public_url),
        )
        .await
    {
        // Not recorded: the fetch is tried again on the schedule, and breaks it then.
        return TaskResult::Retry {
            error: format!("{error} (and the broken state could not be recorded: {e})"),
            not_before: None,
        };
    }
    TaskResult::Park { error }
}

/// An answer that is not a success, judged.
async fn judged(state: &AppState, tenant: Uuid, a: &Answer) -> Option<TaskResult> {
    match meta_graph::verdict(a.status, &a.body) {
        Verdict::Ok => None,
        Verdict::TokenInvalid(error) => Some(refused(state, tenant, error).await),
        Verdict::Retry(error) => {
            let not_before = a
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, state.store.now()))
                .map(|d| state.store.now() + d);
            Some(retry(state, tenant, error, not_before).await)
        }
        Verdict::Permanent(error) => {
            note_error(state, tenant, &error).await;
            Some(TaskResult::Fail { error })
        }
    }
}

/// A fetch to try again on the schedule; the integration shows why meanwhile.
async fn retry(
    state: &AppState,
    tenant: Uuid,
    error: String,
    not_before: Option<DateTime<chrono::Utc>>,
) -> TaskResult {
    note_error(state, tenant, &error).await;
    TaskResult::Retry { error, not_before }
}

async fn note_error(state: &AppState, tenant: Uuid, message: &str) {
    if let Err(e) = state
        .store
        .note_integration_error(tenant, IntegrationSource::Meta, message.to_string())
        .await
    {
        tracing::warn!(error = %e, tenant = %tenant, "could not record a meta integration error");
    }
}

/// Fetches one announced lead and stores it.
pub async fn fetch_lead(state: &AppState, task: &Task) -> TaskResult {
    let Some(tenant) = task.tenant_id else {
        return TaskResult::Fail {
            error: "a lead fetch without a tenant".into(),
        };
    };
    let job: LeadFetch = match serde_json::from_value(task.payload.clone()) {
        Ok(j) => j,
        Err(e) => {
            return TaskResult::Fail {
                error: format!("not a lead fetch: {e}"),
            };
        }
    };
    let token = match token(state, tenant).await {
        Ok(t) => t,
        Err(o) => return o,
    };
    let url = match state.outbound.graph.url(
        &meta_graph::lead_path(&job.leadgen_id),
        &[("fields", LEAD_FIELDS)],
    ) {
        Ok(u) => u,
        Err(error) => return TaskResult::Fail { error },
    };
    let answer = match get(state, url, token.expose()).await {
        Ok(a) => a,
        Err(error) => return retry(state, tenant, error, None).await,
    };
    if let Some(o) = judged(state, tenant, &answer).await {
        return o;
    }
    let mut lead = match meta_graph::parse_lead(&answer.body) {
        Ok(l) => l,
        Err(error) => {
            return TaskResult::Retry {
                error,
                not_before: None,
            };
        }
    };
    job.fill(&mut lead);
    // The lead is the one asked for, whatever the answer calls it.
    lead.id = Some(job.leadgen_id.clone());
    match store(state, tenant, &lead, answer.body).await {
        Ok(_) => TaskResult::Done,
        Err(o) => o,
    }
}

/// Reads one page of a form's leads created after `since`, stores each, and queues the
/// next page, if there is one.
pub async fn sync_page(state: &AppState, task: &Task) -> TaskResult {
    let Some(tenant) = task.tenant_id else {
        return TaskResult::Fail {
            error: "a form sync without a tenant".into(),
        };
    };
    let (result, next) = read_page(state, tenant, &task.payload).await;
    if let (TaskResult::Done, Some(next)) = (&result, next) {
        let t = NewTask::new(
            TaskKind::MetaFormSync,
            serde_json::to_value(&next).unwrap_or_default(),
            state.store.now(),
        )
        .tenant(tenant)
        .group(meta_graph::task_group(tenant))
        .dedup(next.dedup_key(tenant));
        if let Err(e) = state.store.enqueue_task(t).await {
            // This page is read again on the schedule, and queues its next one then.
            return TaskResult::Retry {
                error: format!("cannot queue the next page: {e}"),
                not_before: None,
            };
        }
    }
    result
}

async fn read_page(
    state: &AppState,
    tenant: Uuid,
    payload: &serde_json::Value,
) -> (TaskResult, Option<FormSync>) {
    let job: FormSync = match serde_json::from_value(payload.clone()) {
        Ok(j) => j,
        Err(e) => {
            let error = format!("not a form sync: {e}");
            return (TaskResult::Fail { error }, None);
        }
    };
    let token = match token(state, tenant).await {
        Ok(t) => t,
        Err(o) => return (o, None),
    };
    let since = DateTime::from_timestamp(job.since, 0).unwrap_or_default();
    let filter = meta_graph::since_filter(since);
    let limit = PAGE_LIMIT.to_string();
    let mut query = vec![
        ("fields", LEAD_FIELDS),
        ("filtering", filter.as_str()),
        ("limit", limit.as_str()),
    ];
    if let Some(a) = job.after.as_deref() {
        query.push(("after", a));
    }
    let url = match state
        .outbound
        .graph
        .url(&meta_graph::form_leads_path(&job.form_id), &query)
    {
        Ok(u) => u,
        Err(error) => return (TaskResult::Fail { error }, None),
    };
    let answer = match get(state, url, token.expose()).await {
        Ok(a) => a,
        Err(error) => return (retry(state, tenant, error, None).await, None),
    };
    if let Some(o) = judged(state, tenant, &answer).await {
        return (o, None);
    }
    let page: LeadsPage = match serde_json::from_slice(&answer.body) {
        Ok(p) => p,
        Err(e) => {
            let o = TaskResult::Retry {
                error: format!("the Graph answer is not a page of leads: {e}"),
                not_before: None,
            };
            return (o, None);
        }
    };
    for mut lead in page.data.iter().cloned() {
        if lead.form_id.is_none() {
            lead.form_id = Some(job.form_id.clone());
        }
        let raw = serde_json::to_vec(&lead).unwrap_or_default();
        if let Err(o) = store(state, tenant, &lead, raw).await {
            return (o, None);
        }
    }
    (TaskResult::Done, page.after().map(|a| job.next(a)))
}

/// Maps and stores one Graph lead (once per leadgen id and tenant).
async fn store(
    state: &AppState,
    tenant: Uuid,
    g: &GraphLead,
    raw: Vec<u8>,
) -> Result<bool, TaskResult> {
    let ad = match meta::map_lead(g) {
        Ok(a) => a,
        Err(e) => {
            return Err(TaskResult::Fail {
                error: format!("the Graph lead cannot be stored: {e}"),
            });
        }
    };
    let profile = match state.store.ingest_profile(tenant).await {
        Ok(p) => p,
        Err(e) => {
            return Err(TaskResult::Retry {
                error: format!("cannot read the tenant: {e}"),
                not_before: None,
            });
        }
    };
    if !profile.active {
        return Err(TaskResult::Fail {
            error: "the tenant is inactive and takes no leads".into(),
        });
    }
    let now = state.store.now();
    let mut lead = Lead::blank(new_lead_id(now), tenant, Uuid::nil(), now);
    ad.fields.fill(&mut lead);
    lead.phone = lead
        .phone
        .map(|p| echo5_core::phone::to_e164(&p, profile.home_country));
    lead.external_id = Some(ad.external_id);
    lead.is_test = ad.is_test;
    let outcome = state
        .store
        .ingest_ad_lead(AdLeadRequest {
            tenant_id: tenant,
            source: IntegrationSource::Meta,
            lead,
            raw,
            content_type: "application/json".into(),
        })
        .await
        .map_err(|e| TaskResult::Retry {
            error: format!("cannot store the lead: {e}"),
            not_before: None,
        })?;
    tracing::debug!(lead = %outcome.id, tenant = %tenant, created = outcome.created, "meta lead");
    if let Some(change) = outcome.change(&profile.tenant, IntegrationSource::Meta) {
        state.events.publish(change);
    }
    Ok(outcome.created)
}
