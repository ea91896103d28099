//! The leads for the admin API: one tenant's list, every tenant's list, one lead,
//! move/assignee/spam flag, notes appended, manual entry, CSV export.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use echo5_core::ErrorBody;
use echo5_core::export::spreadsheet_cell;
use echo5_core::leads::{
    AllLeadsParams, Lead, LeadDetail, LeadPatch, LeadQuery, LeadQueryParams, LeadWithTenant,
    NewLead, NewNote, Note,
};
use echo5_core::page::{Cursor, Page};
use echo5_data::TenantKey;
use echo5_data::leads::all_tenants::UnknownTenant;
use std::borrow::Cow;

use crate::access::Authorized;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, path_id};
use crate::state::AppState;

/// Documents the query string of lead listings for OpenAPI.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct LeadListParams {
    /// Only leads in this stage (id).
    stage: Option<String>,
    /// website, meta, google, manual or api.
    source: Option<String>,
    /// Case-insensitive text in name, e-mail, phone or message.
    q: Option<String>,
    /// Created at or after (RFC 3339 or YYYY-MM-DD).
    from: Option<String>,
    /// Created before (RFC 3339 or YYYY-MM-DD).
    to: Option<String>,
    /// `false` (default: spam hidden), `true` (only spam) or `all`.
    spam: Option<String>,
    /// Only leads in breach (`true`) or not (`false`).
    breached: Option<bool>,
    /// 1..=200, default 50.
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A tenant's leads, newest first; spam hidden unless asked for.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/leads", tag = "leads",
    params(("tenant" = String, Path, description = "Tenant id or slug"), LeadListParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of leads", body = Page<Lead>),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "A bad filter value, limit or cursor", body = ErrorBody)))]
pub async fn list_leads(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiQuery(params): ApiQuery<LeadQueryParams>,
) -> ApiResult<Json<Page<Lead>>> {
    let q = params.validate()?;
    let reach = auth.reach;
    Ok(Json(
        state
            .store
            .list_leads(TenantKey::parse(&tenant), q, reach)
            .await?,
    ))
}

/// Adds a lead by hand or from an import; `created_at` may be in the past.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/leads", tag = "leads", request_body = NewLead,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Created", body = LeadDetail),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "A value breaks a rule", body = ErrorBody)))]
pub async fn create_lead(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(new): ApiJson<NewLead>,
) -> ApiResult<(StatusCode, Json<LeadDetail>)> {
    let change = state
        .store
        .create_lead(auth.actor(), TenantKey::parse(&tenant), new)
        .await?;
    Ok((StatusCode::CREATED, Json(state.events.publish_all(change))))
}

/// One lead with its tenant, SLA state and stage history.
#[utoipa::path(get, path = "/api/v1/leads/{lead_id}", tag = "leads",
    params(("lead_id" = String, Path, description = "Lead id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The lead", body = LeadDetail),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such lead", body = ErrorBody)))]
pub async fn get_lead(
    State(state): State<AppState>,
    auth: Authorized,
    Path(id): Path<String>,
) -> ApiResult<Json<LeadDetail>> {
    let reach = auth.reach;
    Ok(Json(
        state
            .store
            .lead_detail(path_id(&id, "lead")?, reach)
            .await?,
    ))
}

/// Moves a lead to another stage, sets its assignee (a user id of the lead's tenant, or
/// `null`), or clears (or sets) its spam flag.
/// `notes` is refused (422 `notes_append_only`): notes are appended with
/// `POST /api/v1/leads/{lead_id}/notes`.
#[utoipa::path(patch, path = "/api/v1/leads/{lead_id}", tag = "leads", request_body = LeadPatch,
    params(("lead_id" = String, Path, description = "Lead id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The lead after the change", body = LeadDetail),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such lead", body = ErrorBody),
        (status = 422, description = "Unknown stage, an assignee who is not an active user of the lead's tenant (`unknown_user`, `inactive_user`), a bad value, or notes (append them instead)", body = ErrorBody)))]
pub async fn patch_lead(
    State(state): State<AppState>,
    auth: Authorized,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<LeadPatch>,
) -> ApiResult<Json<LeadDetail>> {
    let change = state
        .store
        .patch_lead(auth.actor(), path_id(&id, "lead")?, patch, auth.reach)
        .await?;
    Ok(Json(state.events.publish_all(change)))
}

/// Erases a lead: its fields and raw body, stage history, notes, breach record and alert.
/// The audit row (`lead.deleted`) keeps the lead's id and tenant, nothing of its content.
/// Needs `delete_leads` (a tenant admin by default). Unknown (or out of reach): 404.
#[utoipa::path(delete, path = "/api/v1/leads/{lead_id}", tag = "leads",
    params(("lead_id" = String, Path, description = "Lead id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Erased"),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such lead", body = ErrorBody)))]
pub async fn delete_lead(
    State(state): State<AppState>,
    auth: Authorized,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let change = state
        .store
        .erase_lead(auth.actor(), path_id(&id, "lead")?, auth.reach)
        .await?;
    state.events.publish_all(change);
    Ok(StatusCode::NO_CONTENT)
}

/// Appends a note to the lead's timeline, written by the caller; notes are never edited.
#[utoipa::path(post, path = "/api/v1/leads/{lead_id}/notes", tag = "leads", request_body = NewNote,
    params(("lead_id" = String, Path, description = "Lead id")),
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "The note as stored", body = Note),
        (status = 400, description = "Unreadable body or unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such lead", body = ErrorBody),
        (status = 422, description = "Empty, too long, or a control character", body = ErrorBody)))]
pub async fn add_note(
    State(state): State<AppState>,
    auth: Authorized,
    Path(id): Path<String>,
    ApiJson(new): ApiJson<NewNote>,
) -> ApiResult<(StatusCode, Json<Note>)> {
    let change = state
        .store
        .add_note(auth.actor(), path_id(&id, "lead")?, new, auth.reach)
        .await?;
    Ok((StatusCode::CREATED, Json(state.events.publish_all(change))))
}

const CSV_PAGE: u32 = 200;
const CSV_HEADER: [&str; 20] = [
    "id",
    "created_at",
    "stage_id",
    "first_contacted_at",
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "message",
    "source",
    "form_name",
    "page_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "is_spam",
    "duplicate_of",
    "notes",
];

/// [`spreadsheet_cell`] as the CSV writer takes it; no copy unless a quote is added.
fn cell_bytes(cell: &str) -> Cow<'_, [u8]> {
    match spreadsheet_cell(cell) {
        Cow::Borrowed(b) => Cow::Borrowed(b.as_bytes()),
        Cow::Owned(o) => Cow::Owned(o.into_bytes()),
    }
}

/// A lead's notes in one cell, oldest first: each note's text, then a line
/// `— <author>, <time>`, a blank line between notes. Escaped like every cell: the cell
/// starts with the first note's text.
fn notes_cell(notes: &[echo5_core::leads::Note]) -> String {
    notes
        .iter()
        .map(|n| {
            format!(
                "{}\n— {}, {}",
                n.text,
                n.author,
                n.at.format("%Y-%m-%d %H:%M UTC")
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// One page of the export. Every cell goes through [`spreadsheet_cell`] and is written in
/// double quotes (quotes inside doubled), as OWASP advises against formula injection: lead
/// fields are whatever a web form's visitor typed.
fn csv_rows(leads: &[Lead], header: bool) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    if header {
        let _ = w.write_record(CSV_HEADER.map(cell_bytes));
    }
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    for l in leads {
        let cells: [String; CSV_HEADER.len()] = [
            l.id.to_string(),
            l.created_at.to_rfc3339(),
            l.stage_id.to_string(),
            l.first_contacted_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            s(&l.name),
            s(&l.first_name),
            s(&l.last_name),
            s(&l.email),
            s(&l.phone),
            s(&l.company),
            s(&l.message),
            l.source.as_str().to_string(),
            s(&l.form_name),
            s(&l.page_url),
            s(&l.utm_source),
            s(&l.utm_medium),
            s(&l.utm_campaign),
            l.is_spam.to_string(),
            l.duplicate_of.map(|d| d.to_string()).unwrap_or_default(),
            notes_cell(&l.notes),
        ];
        let _ = w.write_record(cells.iter().map(|c| cell_bytes(c)));
    }
    w.into_inner().unwrap_or_default()
}

/// Every lead matching the filters as CSV, streamed page by page (no size limit, constant
/// memory). Takes the same filters as the listing; `limit` and `cursor` are ignored.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/leads.csv", tag = "leads",
    params(("tenant" = String, Path, description = "Tenant id or slug"), LeadListParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "CSV, one lead per row, newest first", content_type = "text/csv", body = String),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "A bad filter value", body = ErrorBody)))]
pub async fn export_csv(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiQuery(params): ApiQuery<LeadQueryParams>,
) -> ApiResult<Response> {
    let mut q: LeadQuery = params.validate()?;
    q.limit = CSV_PAGE;
    q.cursor = None;
    let key = TenantKey::parse(&tenant);
    let reach = auth.reach;
    let t = state.store.get_tenant(key.clone()).await?;
    // The first page is read before answering, so a failure is still a proper error.
    let first = state
        .store
        .list_leads(key.clone(), q.clone(), reach)
        .await?;
    let store = state.store.clone();
    let stream = async_stream::stream! {
        let mut page = first;
        let mut header = true;
        loop {
            yield Ok::<Vec<u8>, std::io::Error>(csv_rows(&page.data, header));
            header = false;
            let Some(next) = page.next_cursor.clone() else { break };
            let mut nq = q.clone();
            nq.cursor = Cursor::decode(&next).ok();
            match store.list_leads(key.clone(), nq, reach).await {
                Ok(p) => page = p,
                Err(e) => {
                    tracing::warn!(error = %e, "CSV export stopped early");
                    yield Err(std::io::Error::other("export interrupted"));
                    break;
                }
            }
        }
    };
    let mut resp = Body::from_stream(stream).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}-leads.csv\"", t.slug))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Documents the query string of the all-leads view for OpenAPI.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AllLeadsListParams {
    /// Only these tenants: comma-separated ids or slugs (at most 200). An unknown one is 404.
    tenant: Option<String>,
    /// Only leads in this stage (id).
    stage: Option<String>,
    /// website, meta, google, manual or api.
    source: Option<String>,
    /// Case-insensitive text in name, e-mail, phone or message.
    q: Option<String>,
    /// Created at or after (RFC 3339 or YYYY-MM-DD).
    from: Option<String>,
    /// Created before (RFC 3339 or YYYY-MM-DD).
    to: Option<String>,
    /// `false` (default: spam hidden), `true` (only spam) or `all`.
    spam: Option<String>,
    /// Only leads in breach (`true`) or not (`false`), each by its tenant's SLA.
    breached: Option<bool>,
    /// 1..=200, default 50.
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Every tenant's leads (or those of `?tenant=a,b`), newest first over all tenants, each
/// row with its tenant's id, slug and name. Same filters and cursor paging as a tenant's
/// listing; paging stays stable while leads arrive.
#[utoipa::path(get, path = "/api/v1/leads", tag = "leads", params(AllLeadsListParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of leads with their tenants", body = Page<LeadWithTenant>),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody),
        (status = 404, description = "A tenant in `tenant` does not exist", body = ErrorBody),
        (status = 422, description = "A bad filter value, limit or cursor", body = ErrorBody)))]
pub async fn list_all_leads(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiQuery(params): ApiQuery<AllLeadsParams>,
) -> ApiResult<Json<Page<LeadWithTenant>>> {
    let (tenants, q) = params.validate()?;
    match state.store.all_leads(tenants, q).await? {
        Ok(page) => Ok(Json(page)),
        Err(UnknownTenant(name)) => Err(ApiError::NotFound {
            code: "not_found",
            message: format!("tenant \"{name}\" (in the tenant filter) not found"),
        }),
    }
}
