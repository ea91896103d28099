//! Meta's Graph API as the lead fetches see it: the paths and query of a lead and of a
//! form's leads, what an answer means for the fetch (the lead, a page of leads, an error
//! to retry, a dead token, a permanent refusal), and the notice a tenant's manager gets when
//! the token dies. Pure: the daemon sends the requests.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::meta::GraphLead;

/// The Graph API version the fetches name in their paths.
pub const GRAPH_VERSION: &str = "v21.0";

/// The default Graph API origin (`--meta-graph-url`).
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";

/// The payload of a lead fetch task: what the notification said about the lead (the Graph
/// answer may leave the ad ids out when the token cannot see the ad account).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct LeadFetch {
    pub leadgen_id: String,
    pub page_id: String,
    #[serde(default)]
    pub form_id: Option<String>,
    #[serde(default)]
    pub ad_id: Option<String>,
    #[serde(default)]
    pub adgroup_id: Option<String>,
}

impl LeadFetch {
    pub fn of(lg: &super::meta::Leadgen) -> LeadFetch {
        LeadFetch {
            leadgen_id: lg.leadgen_id.clone(),
            page_id: lg.page_id.clone(),
            form_id: lg.form_id.clone(),
            ad_id: lg.ad_id.clone(),
            adgroup_id: lg.adgroup_id.clone(),
        }
    }

    /// The ids the Graph answer left out, from the notification.
    pub fn fill(&self, g: &mut GraphLead) {
        if g.form_id.is_none() {
            g.form_id = self.form_id.clone();
        }
        if g.ad_id.is_none() {
            g.ad_id = self.ad_id.clone();
        }
        if g.adset_id.is_none() {
            g.adset_id = self.adgroup_id.clone();
        }
    }

    /// One fetch per lead and tenant, however often Meta repeats the notification.
    pub fn dedup_key(&self, tenant: uuid::Uuid) -> String {
        format!("{tenant}:{}", self.leadgen_id)
    }
}

/// The payload of a backfill task: one page of a form's leads created after `since`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct FormSync {
    pub form_id: String,
    /// Unix seconds.
    pub since: i64,
    /// The cursor of the page to read; `None` for the first.
    #[serde(default)]
    pub after: Option<String>,
    /// The sync request this page belongs to (a new request reads the pages again).
    pub request: String,
}

impl FormSync {
    pub fn dedup_key(&self, tenant: uuid::Uuid) -> String {
        format!(
            "{tenant}:{}:{}:{}",
            self.request,
            self.form_id,
            self.after.as_deref().unwrap_or("")
        )
    }

    /// The task for the page after this one.
    pub fn next(&self, after: &str) -> FormSync {
        FormSync {
            after: Some(after.to_string()),
            ..self.clone()
        }
    }
}

/// `POST /api/v1/tenants/{t}/integrations/meta/sync`: read again every lead of the forms
/// seen that Meta created after `since`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MetaSync {
    pub since: DateTime<Utc>,
}

/// The answer to a sync: how many forms are read (one task per form, then one per page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetaSyncQueued {
    pub forms: usize,
}

/// The rules of a sync's `since`: not in the future (as of `now`).
pub fn check_since(since: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), crate::DomainError> {
    if since > now {
        return Err(crate::DomainError::invalid(
            "since",
            "invalid_since",
            "since is in the future; name the moment from which leads are read again",
        ));
    }
    Ok(())
}

/// The lead fields asked for: everything [`super::meta::map_lead`] reads.
pub const LEAD_FIELDS: &str = "id,created_time,field_data,form_id,ad_id,ad_name,adset_id,\
adset_name,campaign_id,campaign_name,is_organic,platform";

/// Leads asked for per page of a backfill.
pub const PAGE_LIMIT: u32 = 100;

/// The task group a tenant's Meta fetches share: a dead token parks the whole group, and a
/// new token releases it.
pub fn task_group(tenant: uuid::Uuid) -> String {
    format!("meta:{tenant}")
}

/// `/v21.0/{leadgen_id}`: one lead.
pub fn lead_path(leadgen_id: &str) -> String {
    format!("/{GRAPH_VERSION}/{leadgen_id}")
}

/// `/v21.0/{form_id}/leads`: a form's leads, newest first.
pub fn form_leads_path(form_id: &str) -> String {
    format!("/{GRAPH_VERSION}/{form_id}/leads")
}

/// The `filtering` parameter of a backfill: leads created after `since` (unix seconds).
pub fn since_filter(since: DateTime<Utc>) -> String {
    serde_json::json!([{
        "field": "time_created",
        "operator": "GREATER_THAN",
        "value": since.timestamp(),
    }])
    .to_string()
}

/// A page of `GET /{form_id}/leads`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LeadsPage {
    #[serde(default)]
    pub data: Vec<GraphLead>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Paging {
    #[serde(default)]
    pub cursors: Option<Cursors>,
    /// The next page's URL; absent on the last page.
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Cursors {
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
}

impl LeadsPage {
    /// The cursor of the page after this one: only when Meta says there is a next page
    /// (`paging.next`). The next request is rebuilt from it, never from `next` itself, whose
    /// URL carries the access token.
    pub fn after(&self) -> Option<&str> {
        let p = self.paging.as_ref()?;
        p.next.as_ref()?;
        p.cursors
            .as_ref()?
            .after
            .as_deref()
            .filter(|a| !a.is_empty() && a.len() <= 1024)
    }
}

/// `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GraphError {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub error_subcode: Option<i64>,
    /// Meta's own hint that asking again may work.
    #[serde(default)]
    pub is_transient: Option<bool>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: GraphError,
}

/// The token is invalid or expired (`OAuthException`, code 190).
pub const CODE_TOKEN_INVALID: i64 = 190;
/// Worth asking again: an unknown (1) or temporary (2) API error, and throttling —
/// application (4), user (17), page (32), custom rate limits (613), and the business use
/// case limit (80001).
pub const RETRY_CODES: [i64; 7] = [1, 2, 4, 17, 32, 613, 80001];

/// What an answer of the Graph API means for the fetch that asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A success; the body is the answer.
    Ok,
    /// The tenant's token is dead: park the tenant's fetches until it is replaced.
    TokenInvalid(String),
    /// Worth asking again on the schedule (5xx, throttling, an unreadable answer).
    Retry(String),
    /// Asking again will not help (a lead that does not exist, a missing permission).
    Permanent(String),
}

/// Judges an answer by its status and body. The text is for the operator: it names the
/// Graph error's code, type and message (Meta's words, capped), never the token.
pub fn verdict(status: u16, body: &[u8]) -> Verdict {
    if (200..300).contains(&status) {
        return Verdict::Ok;
    }
    let err = serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .map(|e| e.error);
    let text = describe(status, err.as_ref());
    match err.as_ref().and_then(|e| e.code) {
        Some(CODE_TOKEN_INVALID) => Verdict::TokenInvalid(text),
        Some(c) if RETRY_CODES.contains(&c) => Verdict::Retry(text),
        _ if err.as_ref().and_then(|e| e.is_transient) == Some(true) => Verdict::Retry(text),
        _ if status >= 500 || status == 429 || status == 408 => Verdict::Retry(text),
        // An OAuthException without a code is still the token's: Meta sends 190 for it,
        // but older answers carried only the type.
        _ if err.as_ref().and_then(|e| e.kind.as_deref()) == Some("OAuthException")
            && err.as_ref().and_then(|e| e.code).is_none() =>
        {
            Verdict::TokenInvalid(text)
        }
        _ => Verdict::Permanent(text),
    }
}

/// Longest piece of Meta's error message kept in an error text.
pub const MESSAGE_KEPT: usize = 200;

fn describe(status: u16, err: Option<&GraphError>) -> String {
    let Some(e) = err else {
        return format!("Graph API answered HTTP {status}");
    };
    let mut out = String::from("Graph API error");
    if let Some(c) = e.code {
        out.push_str(&format!(" {c}"));
        if let Some(s) = e.error_subcode {
            out.push_str(&format!("/{s}"));
        }
    }
    if let Some(k) = e.kind.as_deref() {
        out.push_str(&format!(" ({})", printable(k, 40)));
    }
    out.push_str(&format!(", HTTP {status}"));
    if let Some(m) = e.message.as_deref() {
        out.push_str(": ");
        out.push_str(&printable(m, MESSAGE_KEPT));
    }
    out
}

/// Visible text only, at most `max` characters: Meta's words go into logs and the console.
fn printable(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect()
}

/// The body of a successful lead fetch, as a Graph lead; `Err` when it is not one.
pub fn parse_lead(body: &[u8]) -> Result<GraphLead, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the Graph answer is not JSON: {e}"))?;
    serde_json::from_value(v).map_err(|e| format!("the Graph answer is not a lead: {e}"))
}

/// The notice to a tenant's manager that Meta refused the tenant's token.
pub fn broken_notice(tenant_name: &str, error: &str, public_url: &str) -> (String, String) {
    let subject = format!("Echo5: Meta leads for {tenant_name} are on hold");
    let text = format!(
        "Meta leads for {tenant_name} cannot be fetched with the tenant's access token: \
         {error}\n\n\
         Leads from Facebook and Instagram lead forms are not being fetched. They are kept \
         and fetched as soon as a new token is saved in the tenant's settings \
         (settings.meta_access_token).\n\n{public_url}\n"
    );
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }

    #[test]
    fn answers_are_judged() {
        let expired = body(json!({"error": {
            "message": "Error validating access token: Session has expired on Friday, 20-Nov-26.",
            "type": "OAuthException", "code": 190, "error_subcode": 463,
            "fbtrace_id": "AbCdEf"}}));
        match verdict(400, &expired) {
            Verdict::TokenInvalid(t) => {
                assert!(
                    t.starts_with(
                        "Graph API error 190/463 (OAuthException), HTTP 400: Error validating"
                    ),
                    "{t}"
                )
            }
            other => panic!("{other:?}"),
        }
        let invalid = body(json!({"error": {"message": "Invalid OAuth access token.",
            "type": "OAuthException", "code": 190}}));
        assert!(matches!(verdict(401, &invalid), Verdict::TokenInvalid(_)));
        for code in RETRY_CODES {
            let b = body(
                json!({"error": {"message": "limit", "type": "OAuthException", "code": code}}),
            );
            assert!(matches!(verdict(400, &b), Verdict::Retry(_)), "{code}");
        }
        assert!(
            matches!(verdict(500, b"oops"), Verdict::Retry(t) if t == "Graph API answered HTTP 500")
        );
        assert!(matches!(verdict(503, b""), Verdict::Retry(_)));
        assert!(matches!(verdict(429, b""), Verdict::Retry(_)));
        let missing = body(
            json!({"error": {"message": "Unsupported get request. Object with ID '1' does not exist",
            "type": "GraphMethodException", "code": 100, "error_subcode": 33}}),
        );
        assert!(matches!(verdict(400, &missing), Verdict::Permanent(_)));
        assert!(matches!(verdict(404, b"<html>"), Verdict::Permanent(_)));
        let transient = body(json!({"error": {"message": "x", "code": 368, "is_transient": true}}));
        assert!(matches!(verdict(400, &transient), Verdict::Retry(_)));
        assert_eq!(verdict(200, b"{}"), Verdict::Ok);
        // Control characters in Meta's message do not reach a log line.
        let nasty = body(json!({"error": {"message": "a\nb\u{1b}[31m", "code": 10}}));
        let Verdict::Permanent(t) = verdict(400, &nasty) else {
            panic!()
        };
        assert!(!t.chars().any(char::is_control), "{t:?}");
    }

    #[test]
    fn pages_follow_the_after_cursor_only_when_there_is_a_next_page() {
        let p: LeadsPage = serde_json::from_value(json!({
            "data": [{"id": "1", "field_data": [{"name": "email", "values": ["a@b.c"]}]}],
            "paging": {"cursors": {"before": "QVFIUb", "after": "QVFIUa"},
                       "next": "https://graph.facebook.com/v21.0/9/leads?access_token=SECRET&after=QVFIUa"}}))
        .unwrap();
        assert_eq!(p.data.len(), 1);
        assert_eq!(p.after(), Some("QVFIUa"));
        let last: LeadsPage = serde_json::from_value(json!({
            "data": [], "paging": {"cursors": {"before": "x", "after": "y"}}}))
        .unwrap();
        assert_eq!(last.after(), None);
        assert_eq!(LeadsPage::default().after(), None);
    }

    #[test]
    fn paths_and_filters() {
        assert_eq!(lead_path("123"), "/v21.0/123");
        assert_eq!(form_leads_path("9"), "/v21.0/9/leads");
        let since = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        assert_eq!(
            since_filter(since),
            r#"[{"field":"time_created","operator":"GREATER_THAN","value":1780000000}]"#
        );
        let t = uuid::Uuid::nil();
        assert_eq!(task_group(t), format!("meta:{t}"));
        let (subject, text) = broken_notice("Open Arms", "Graph API error 190", "http://x");
        assert!(subject.contains("Open Arms") && text.contains("error 190"));
    }
}
