//! A tenant's notification settings (channels, rules, escalation, branding, templates,
//! digest), a test message per channel, and template previews. Secrets are masked in every
//! answer; the Slack URL passes the address rule at save (and again at every send).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use echo5_core::ErrorBody;
use echo5_core::notifications::{
    self as n, Channel, Notifications, NotificationsInput, NotifyEvent, Rendered, TemplateError,
    TemplateSet,
};
use echo5_core::secret::SecretUpdate;
use echo5_data::TenantKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::access::Authorized;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::outbound::UrlRefused;
use crate::state::AppState;

/// A broken template: 400 `template_invalid`, naming the part and the line.
fn template_error(e: TemplateError) -> ApiError {
    ApiError::BadRequest {
        code: "template_invalid",
        message: e.to_string(),
        field: Some(e.field),
    }
}

/// The Slack URL through the address rule before it is stored.
async fn check_slack_url(state: &AppState, url: &str) -> Result<(), ApiError> {
    // A malformed URL is the document check's to name.
    if n::check_url("channels.slack.webhook_url", url, false).is_err() {
        return Ok(());
    }
    state
        .outbound
        .check_url(url)
        .await
        .map_err(|e| ApiError::BadRequest {
            code: match e {
                UrlRefused::Forbidden { .. } => "url_forbidden",
                UrlRefused::Unresolvable { .. } => "url_unresolvable",
                UrlRefused::Invalid(_) => "invalid_url",
            },
            message: e.to_string(),
            field: Some("channels.slack.webhook_url".into()),
        })
}

/// The template parts a PATCH body carries, read leniently (the merged document is
/// checked as a whole afterwards).
fn patch_templates(patch: &Value) -> BTreeMap<String, TemplateSet> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(t)) = patch.get("templates") {
        for (event, parts) in t {
            let part = |k: &str| parts.get(k).and_then(Value::as_str).map(str::to_string);
            out.insert(
                event.clone(),
                TemplateSet {
                    subject: part("subject"),
                    text: part("text"),
                    html: part("html"),
                },
            );
        }
    }
    out
}

/// A tenant's notification settings; secrets masked. A tenant that has set none answers
/// the empty document (breach e-mails then go to its `manager_email` as plain alerts).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/notifications", tag = "notifications",
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The settings, secrets masked", body = Notifications),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's notifications", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody)))]
pub async fn get_notifications(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Notifications>> {
    Ok(Json(
        state.store.notifications(TenantKey::parse(&tenant)).await?,
    ))
}

/// Replaces the settings. Secrets left out, or sent back as the masked object a GET
/// answered, are kept; a channel left out is removed with its secrets.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/notifications", tag = "notifications",
    request_body = NotificationsInput,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The settings after the change", body = Notifications),
        (status = 400, description = "Unreadable body, a template that does not compile or names an unknown variable (`template_invalid`, with its line), or a Slack URL whose host is refused (`url_forbidden`)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's notifications", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "A value breaks a rule (the field is named)", body = ErrorBody)))]
pub async fn put_notifications(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<NotificationsInput>,
) -> ApiResult<Json<Notifications>> {
    let tenant = TenantKey::parse(&tenant);
    state.store.tenant_id(tenant.clone()).await?;
    n::check_templates(&input.templates).map_err(template_error)?;
    if let Some(slack) = &input.channels.slack
        && let SecretUpdate::Set(url) = &slack.webhook_url
    {
        check_slack_url(&state, url.expose()).await?;
    }
    let doc = state
        .store
        .put_notifications(auth.actor(), tenant, input)
        .await?;
    tracing::info!("notification settings replaced");
    Ok(Json(doc))
}

/// Changes part of the settings: a JSON merge patch (RFC 7396) of the document — objects
/// merge key by key, `null` removes a key (a channel, a rule, a template), anything else
/// replaces it (`escalation` as a whole).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/notifications", tag = "notifications",
    request_body(content = Object, content_type = "application/json",
        description = "A JSON merge patch (RFC 7396) of the notifications document (its fields as in PUT; `null` removes one)"),
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The settings after the change", body = Notifications),
        (status = 400, description = "Not a JSON object, a broken template (`template_invalid`) or a refused Slack URL (`url_forbidden`)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's notifications", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "The patched document breaks a rule (the field is named)", body = ErrorBody)))]
pub async fn patch_notifications(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<Json<Notifications>> {
    if !patch.is_object() {
        return Err(ApiError::BadRequest {
            code: "invalid_body",
            message: "a merge patch of the notification settings must be a JSON object".into(),
            field: None,
        });
    }
    let tenant = TenantKey::parse(&tenant);
    state.store.tenant_id(tenant.clone()).await?;
    n::check_templates(&patch_templates(&patch)).map_err(template_error)?;
    if let Some(url) = patch
        .pointer("/channels/slack/webhook_url")
        .and_then(Value::as_str)
    {
        check_slack_url(&state, url).await?;
    }
    let doc = state
        .store
        .patch_notifications(auth.actor(), tenant, patch)
        .await?;
    tracing::info!("notification settings updated");
    Ok(Json(doc))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    /// `email`, `slack` or `sms`.
    pub channel: Channel,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TestQueued {
    /// Messages queued: one per recipient of the channel.
    pub queued: usize,
}

/// Sends a test message (the `sla.breached` template with a sample lead, subject marked
/// `[test]`) over one channel to its recipients, through the outbox.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/notifications/test", tag = "notifications",
    request_body = TestRequest,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 202, description = "Queued", body = TestQueued),
        (status = 400, description = "Unreadable body or unknown channel", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's notifications", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 422, description = "The channel is not set up (`channel_not_configured`)", body = ErrorBody)))]
pub async fn test_notification(
    State(state): State<AppState>,
    auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(req): ApiJson<TestRequest>,
) -> ApiResult<(StatusCode, Json<TestQueued>)> {
    let link = state.public_url.to_string();
    let queued = state
        .store
        .notification_test(auth.actor(), TenantKey::parse(&tenant), req.channel, link)
        .await?;
    state.store.wake_outbox();
    tracing::info!(
        channel = req.channel.as_str(),
        queued,
        "notification test queued"
    );
    Ok((StatusCode::ACCEPTED, Json(TestQueued { queued })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// `lead.created`, `sla.breached`, `sla.escalated` or `digest.daily`.
    pub event: NotifyEvent,
    /// A template to try instead of the saved one (parts left out: the saved or default).
    #[serde(default)]
    pub template: Option<TemplateSet>,
}

/// Renders an event's template (the tenant's, or the one given, over the default) with a
/// sample lead and the tenant's branding. A broken template is 400 with its line.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/notifications/preview", tag = "notifications",
    request_body = PreviewRequest,
    params(("tenant" = String, Path, description = "Tenant id or slug")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The rendered subject, text and HTML", body = Rendered),
        (status = 400, description = "Unreadable body, unknown event, or a broken template (`template_invalid`)", body = ErrorBody),
        (status = 401, description = "Missing or invalid credential", body = ErrorBody),
        (status = 403, description = "Not allowed to manage this tenant's notifications", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody)))]
pub async fn preview_notification(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(tenant): Path<String>,
    ApiJson(req): ApiJson<PreviewRequest>,
) -> ApiResult<Json<Rendered>> {
    let (_, name, slug, mut doc) = state
        .store
        .notification_preview_parts(TenantKey::parse(&tenant))
        .await?;
    if let Some(t) = req.template {
        let saved = doc.templates.entry(req.event).or_default();
        for (mine, given) in [
            (&mut saved.subject, t.subject),
            (&mut saved.text, t.text),
            (&mut saved.html, t.html),
        ] {
            if given.is_some() {
                *mine = given;
            }
        }
    }
    let tenant = n::SampleTenant { name, slug };
    let link = format!(
        "{}/api/v1/leads/0190c0de-0000-7000-8000-00000000a11e",
        state.public_url
    );
    let ctx = n::sample_context_branded(req.event, &tenant, &doc.branding, &link);
    let rendered = n::render(&doc, req.event, &ctx).map_err(template_error)?;
    Ok(Json(rendered))
}
