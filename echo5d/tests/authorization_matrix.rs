//! Who may call what, route by route: every operation of the OpenAPI document, called by
//! each kind of principal, against tenant A's resources and tenant B's. The expected
//! answers are the table [`EXPECTED`] below, written from the contract's role table; an
//! operation of the document missing from the table (or a row naming no operation) fails
//! the test, so a new route is decided the day it is added.
//!
//! Principals, in the table's column order:
//! - `adm`  the admin token;
//! - `own`  an `owner` user's session;
//! - `tad`  tenant A's `admin` (session);
//! - `mgr`  tenant A's `manager` (session); A's target lead is assigned to them;
//! - `agt`  tenant A's `agent` (session);
//! - `pat`  a read-scoped personal token of A's admin;
//! - `off`  the session of a user of A deactivated since it logged in;
//! - `exp`  the session of a user of A, idle past the timeout (manual clock);
//! - `key`  tenant A's ingest API key.
//!
//! Cells: `ok` = the request passed authorization (any answer but 401, 403 and 404, and
//! never 5xx: bodies are `{}`, so an allowed write may well be a 400 or 422); `401`; `403`
//! with code `forbidden`; `404` with code `not_found`. Each row has the cells for tenant A's
//! resources, then `|`, then those for tenant B's; routes that name no tenant give the same
//! cells on both sides.
//!
//! A delete is aimed at a fresh resource made for that one call (a stage, key, lead, user
//! of the target tenant; for a platform principal deleting a tenant, a fresh tenant), so
//! the matrix never eats the resources later calls need. Logout ends the caller's session,
//! so it runs last.

mod common;

use chrono::TimeDelta;
use common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const PASSWORD: &str = "violet-Harbor-93-quietly-Lantern";

const PRINCIPALS: [&str; 9] = [
    "adm", "own", "tad", "mgr", "agt", "pat", "off", "exp", "key",
];

/// `METHOD path` → cells for tenant A | cells for tenant B.
#[rustfmt::skip]
const EXPECTED: &[(&str, &str)] = &[
    //                                                   adm own tad mgr agt pat off exp key | adm own tad mgr agt pat off exp key
    // Open routes: no credential needed (bodies are `{}`, so the answer is a 4xx naming the body).
    ("GET /healthz",                                     "ok  ok  ok  ok  ok  ok  ok  ok  ok  | ok  ok  ok  ok  ok  ok  ok  ok  ok"),
    ("GET /readyz",                                      "ok  ok  ok  ok  ok  ok  ok  ok  ok  | ok  ok  ok  ok  ok  ok  ok  ok  ok"),
    ("POST /api/v1/auth/login",                          "ok  ok  ok  ok  ok  ok  ok  ok  ok  | ok  ok  ok  ok  ok  ok  ok  ok  ok"),
    ("POST /api/v1/auth/accept-invite",                  "ok  ok  ok  ok  ok  ok  ok  ok  ok  | ok  ok  ok  ok  ok  ok  ok  ok  ok"),
    ("POST /api/v1/auth/password-reset",                 "ok  ok  ok  ok  ok  ok  ok  ok  ok  | ok  ok  ok  ok  ok  ok  ok  ok  ok"),
    ("POST /api/v1/auth/password-reset/confirm",         "ok  ok  ok  ok  ok  ok  ok  ok  ok  | ok  ok  ok  ok  ok  ok  ok  ok  ok"),
    // Ingest: the key in the path is the credential (the target tenant's), whoever sends it.
    ("GET /api/v1/ingest/{key}",                         "ok  ok  ok  ok  ok  ok  ok  ok  ok  | ok  ok  ok  ok  ok  ok  ok  ok  ok"),
    ("POST /api/v1/ingest/{key}",                        "ok  ok  ok  ok  ok  ok  ok  ok  ok  | ok  ok  ok  ok  ok  ok  ok  ok  ok"),
    // Ad-platform hooks: the platform's own proof is the credential (Google's key in the
    // body, Meta's signature, the verify token), never a principal; `{}` carries none.
    ("POST /api/v1/hooks/google/{tenant}",               "401 401 401 401 401 401 401 401 401 | 401 401 401 401 401 401 401 401 401"),
    ("GET /api/v1/hooks/meta",                           "403 403 403 403 403 403 403 403 403 | 403 403 403 403 403 403 403 403 403"),
    ("POST /api/v1/hooks/meta",                          "401 401 401 401 401 401 401 401 401 | 401 401 401 401 401 401 401 401 401"),
    // The bearer must be an API key.
    ("GET /api/v1/key",                                  "401 401 401 401 401 401 401 401 ok  | 401 401 401 401 401 401 401 401 ok"),
    ("POST /api/v1/leads",                               "401 401 401 401 401 401 401 401 ok  | 401 401 401 401 401 401 401 401 ok"),
    // The platform's: the admin token and owners only.
    ("GET /api/v1/tenants",                              "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("POST /api/v1/tenants",                             "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("GET /api/v1/leads",                                "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("GET /api/v1/sla/breaches",                         "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("GET /api/v1/dashboard",                            "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("GET /api/v1/analytics",                            "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("GET /api/v1/audit",                                "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("GET /api/v1/usage",                                "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("GET /api/v1/platform/settings",                    "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("PUT /api/v1/platform/settings",                    "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("PATCH /api/v1/platform/settings",                  "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("GET /api/v1/platform/users",                       "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("POST /api/v1/platform/users",                      "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("PATCH /api/v1/platform/users/{user_id}",           "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("DELETE /api/v1/platform/users/{user_id}",          "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("GET /api/v1/platform/plans",                       "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("POST /api/v1/platform/plans",                      "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("PATCH /api/v1/platform/plans/{plan_id}",           "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("DELETE /api/v1/platform/plans/{plan_id}",          "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("POST /api/v1/platform/billing/sync",               "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("GET /api/v1/system/logs",                          "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    ("GET /api/v1/system/logs/stream",                   "ok  ok  403 403 403 403 401 401 401 | ok  ok  403 403 403 403 401 401 401"),
    // The tenant record: any user of the tenant reads it; only the platform changes it.
    ("GET /api/v1/tenants/{tenant}",                     "ok  ok  ok  ok  ok  ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("PUT /api/v1/tenants/{tenant}",                     "ok  ok  403 403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("PATCH /api/v1/tenants/{tenant}",                   "ok  ok  403 403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("DELETE /api/v1/tenants/{tenant}",                  "ok  ok  403 403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    // manage_settings: admins (a read-scoped token reads).
    ("GET /api/v1/tenants/{tenant}/settings",            "ok  ok  ok  403 403 ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("PUT /api/v1/tenants/{tenant}/settings",            "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("PATCH /api/v1/tenants/{tenant}/settings",          "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("GET /api/v1/tenants/{tenant}/integrations",        "ok  ok  ok  403 403 ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/integrations/meta/sync", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    // manage_settings: the tenant's outgoing webhooks (a read-scoped token reads).
    ("GET /api/v1/tenants/{tenant}/webhooks",            "ok  ok  ok  403 403 ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/webhooks",           "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("GET /api/v1/tenants/{tenant}/webhooks/{webhook_id}", "ok  ok  ok  403 403 ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("PATCH /api/v1/tenants/{tenant}/webhooks/{webhook_id}", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("DELETE /api/v1/tenants/{tenant}/webhooks/{webhook_id}", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/webhooks/{webhook_id}/rotate-secret", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/webhooks/{webhook_id}/test", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("GET /api/v1/tenants/{tenant}/webhooks/{webhook_id}/deliveries", "ok  ok  ok  403 403 ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/webhooks/{webhook_id}/deliveries/{message_id}/retry", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/webhooks/{webhook_id}/recover", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    // manage_settings: the tenant's notifications (a read-scoped token reads).
    ("GET /api/v1/tenants/{tenant}/notifications",       "ok  ok  ok  403 403 ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("PUT /api/v1/tenants/{tenant}/notifications",       "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("PATCH /api/v1/tenants/{tenant}/notifications",     "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/notifications/test", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/notifications/preview", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("GET /api/v1/tenants/{tenant}/keys",                "ok  ok  ok  403 403 ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/keys",               "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("DELETE /api/v1/tenants/{tenant}/keys/{key_id}",    "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/keys/{key_id}/reveal", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/keys/{key_id}/rotate", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("GET /api/v1/tenants/{tenant}/usage",               "ok  ok  ok  403 403 ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    // Stages: everyone who sees leads reads the pipeline; admins change it.
    ("GET /api/v1/tenants/{tenant}/stages",              "ok  ok  ok  ok  ok  ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("PUT /api/v1/tenants/{tenant}/stages",              "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/stages",             "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("PATCH /api/v1/tenants/{tenant}/stages/{stage_id}", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("DELETE /api/v1/tenants/{tenant}/stages/{stage_id}", "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    // Leads: view_leads reads (a manager their own), edit_leads writes.
    ("GET /api/v1/tenants/{tenant}/leads",               "ok  ok  ok  ok  ok  ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/leads",              "ok  ok  ok  ok  403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("GET /api/v1/tenants/{tenant}/leads.csv",           "ok  ok  ok  ok  ok  ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("GET /api/v1/tenants/{tenant}/sla/breaches",        "ok  ok  ok  ok  ok  ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("GET /api/v1/tenants/{tenant}/analytics",           "ok  ok  ok  ok  ok  ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("GET /api/v1/leads/{lead_id}",                      "ok  ok  ok  ok  ok  ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("PATCH /api/v1/leads/{lead_id}",                    "ok  ok  ok  ok  403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/leads/{lead_id}/notes",               "ok  ok  ok  ok  403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    // delete_leads: admins. The lead to delete is a fresh one, assigned to nobody, so a
    // manager does not even see it.
    ("DELETE /api/v1/leads/{lead_id}",                   "ok  ok  ok  404 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    // A tenant's users: its admins.
    ("GET /api/v1/tenants/{tenant}/users",               "ok  ok  ok  403 403 ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("POST /api/v1/tenants/{tenant}/users",              "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("GET /api/v1/tenants/{tenant}/users/{user_id}",     "ok  ok  ok  403 403 ok  401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("PATCH /api/v1/tenants/{tenant}/users/{user_id}",   "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    ("DELETE /api/v1/tenants/{tenant}/users/{user_id}",  "ok  ok  ok  403 403 403 401 401 401 | ok  ok  404 404 404 404 401 401 401"),
    // The live stream: every user, of their own tenant; an ingest key only ingests.
    ("GET /api/v1/events",                               "ok  ok  ok  ok  ok  ok  401 401 401 | ok  ok  ok  ok  ok  ok  401 401 401"),
    // One's own account. The admin token is nobody's account: it reads, never changes it;
    // a personal token never mints tokens or changes the password. The token to delete is
    // nobody's, so whoever may delete hears 404.
    ("GET /api/v1/me",                                   "ok  ok  ok  ok  ok  ok  401 401 401 | ok  ok  ok  ok  ok  ok  401 401 401"),
    ("PATCH /api/v1/me",                                 "403 ok  ok  ok  ok  403 401 401 401 | 403 ok  ok  ok  ok  403 401 401 401"),
    ("GET /api/v1/me/tokens",                            "403 ok  ok  ok  ok  ok  401 401 401 | 403 ok  ok  ok  ok  ok  401 401 401"),
    ("POST /api/v1/me/tokens",                           "403 ok  ok  ok  ok  403 401 401 401 | 403 ok  ok  ok  ok  403 401 401 401"),
    ("DELETE /api/v1/me/tokens/{token_id}",              "403 404 404 404 404 403 401 401 401 | 403 404 404 404 404 403 401 401 401"),
    ("POST /api/v1/auth/logout",                         "403 ok  ok  ok  ok  403 401 401 401 | 403 ok  ok  ok  ok  403 401 401 401"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Ok,
    Unauthenticated,
    Forbidden,
    NotFound,
}

fn cells(s: &str) -> Vec<Cell> {
    s.split_whitespace()
        .map(|c| match c {
            "ok" => Cell::Ok,
            "401" => Cell::Unauthenticated,
            "403" => Cell::Forbidden,
            "404" => Cell::NotFound,
            other => panic!("unknown cell {other:?}"),
        })
        .collect()
}

/// The table, parsed: operation → (cells for A, cells for B).
fn expected() -> BTreeMap<String, (Vec<Cell>, Vec<Cell>)> {
    let mut out = BTreeMap::new();
    for (op, row) in EXPECTED {
        let (a, b) = row.split_once('|').expect("a row has A | B");
        let (a, b) = (cells(a), cells(b));
        assert_eq!(a.len(), PRINCIPALS.len(), "{op}: cells for A");
        assert_eq!(b.len(), PRINCIPALS.len(), "{op}: cells for B");
        if !names_a_tenant(op) {
            assert_eq!(a, b, "{op} names no tenant: both sides must read alike");
        }
        assert!(out.insert(op.to_string(), (a, b)).is_none(), "{op} twice");
    }
    out
}

/// Whether an operation's path names a tenant's resource (so B's side differs from A's).
fn names_a_tenant(op: &str) -> bool {
    ["{tenant}", "{lead_id}", "{key}"]
        .iter()
        .any(|p| op.contains(p))
}

/// One tenant's resources, the targets of its column group.
struct Side {
    id: String,
    /// Its API key (the ingest principal of A, and `{key}` in ingest paths).
    key_secret: String,
    key_id: String,
    stage_id: String,
    /// A's is assigned to A's manager.
    lead_id: String,
    /// A user of the tenant, the target of `{user_id}`.
    user_id: String,
    /// A webhook endpoint (on a loopback port nothing listens on) and the `webhook-id` of
    /// its test message.
    webhook_id: String,
    message_id: String,
}

fn link_token(url: &str) -> String {
    url.split("#token=")
        .nth(1)
        .expect("token in link")
        .to_string()
}

async fn send(
    s: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, String) {
    let mut req = s.client.request(method, s.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    // Streams (events, the log tail) answer 200 and never end: their status is enough.
    let streaming = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/event-stream"));
    let text = if streaming {
        String::new()
    } else {
        resp.text().await.unwrap()
    };
    (status, text)
}

async fn created(s: &TestServer, path: &str, body: Value) -> Value {
    let (st, v) = s.post(path, &body.to_string()).await;
    assert!(st.is_success(), "{path}: {st} {v}");
    v
}

/// A user through their invitation: created by the admin token, password set with the link.
async fn user(s: &TestServer, path: &str, email: &str, role: &str) -> String {
    let u = created(
        s,
        path,
        json!({"email": email, "name": "Matrix Tester", "role": role}),
    )
    .await;
    let token = link_token(u["invite_url"].as_str().unwrap());
    let body = json!({"token": token, "password": PASSWORD}).to_string();
    let (st, text) = send(
        s,
        Method::POST,
        "/api/v1/auth/accept-invite",
        None,
        Some(&body),
    )
    .await;
    assert!(st.is_success(), "accept-invite: {st} {text}");
    u["id"].as_str().expect("user id").to_string()
}

async fn login(s: &TestServer, email: &str) -> String {
    let body = json!({"email": email, "password": PASSWORD}).to_string();
    let (st, text) = send(s, Method::POST, "/api/v1/auth/login", None, Some(&body)).await;
    assert_eq!(st, StatusCode::OK, "login {email}: {text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    v["token"].as_str().unwrap().to_string()
}

async fn side(s: &TestServer, word: &str) -> Side {
    let slug = format!("{word}-matrix");
    let t = s
        .tenant(&json!({"name": format!("{word} Matrix Care"), "slug": slug}).to_string())
        .await;
    let id = t["id"].as_str().unwrap().to_string();
    let k = created(
        s,
        &format!("/api/v1/tenants/{id}/keys"),
        json!({"label": "main"}),
    )
    .await;
    let key_secret = k["secret"].as_str().unwrap().to_string();
    let k2 = created(
        s,
        &format!("/api/v1/tenants/{id}/keys"),
        json!({"label": "spare"}),
    )
    .await;
    let st = created(
        s,
        &format!("/api/v1/tenants/{id}/stages"),
        json!({"name": "Waitlist"}),
    )
    .await;
    let lead_id = fresh_lead(s, &key_secret).await;
    let user_id = user(
        s,
        &format!("/api/v1/tenants/{id}/users"),
        &format!("spare.{word}@matrix.example"),
        "agent",
    )
    .await;
    let (webhook_id, message_id) = webhook(s, &id).await;
    Side {
        webhook_id,
        message_id,
        id,
        key_secret,
        key_id: k2["id"].as_str().unwrap().to_string(),
        stage_id: st["id"].as_str().unwrap().to_string(),
        lead_id,
        user_id,
    }
}

/// An endpoint taking only test messages, and its test message's id.
async fn webhook(s: &TestServer, tenant: &str) -> (String, String) {
    let w = created(
        s,
        &format!("/api/v1/tenants/{tenant}/webhooks"),
        json!({"url": "http://127.0.0.1:9/matrix", "events": ["webhook.test"]}),
    )
    .await;
    let id = w["id"].as_str().unwrap().to_string();
    let d = created(
        s,
        &format!("/api/v1/tenants/{tenant}/webhooks/{id}/test"),
        json!({}),
    )
    .await;
    (id, d["message_id"].as_str().unwrap().to_string())
}

async fn fresh_lead(s: &TestServer, key: &str) -> String {
    let n = uuid::Uuid::new_v4().simple().to_string();
    let body = json!({"name": "Matrix Lead", "email": format!("lead.{}@matrix.example", &n[..12])});
    let (st, r) = s
        .submit(key, Some("application/json"), body.to_string().as_bytes())
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    s.lead(&r).await.id.to_string()
}

/// The path with its parameters filled for `side`; deletes get a resource of their own.
async fn fill(
    s: &TestServer,
    method: &Method,
    template: &str,
    side: &Side,
    platform_principal: bool,
) -> String {
    let deleting = *method == Method::DELETE;
    let mut path = template.to_string();
    if path.contains("{tenant}") {
        let tenant = if deleting && template == "/api/v1/tenants/{tenant}" && platform_principal {
            let n = uuid::Uuid::new_v4().simple().to_string();
            let t = s
                .tenant(
                    &json!({"name": "Doomed", "slug": format!("doomed-{}", &n[..10])}).to_string(),
                )
                .await;
            t["id"].as_str().unwrap().to_string()
        } else {
            side.id.clone()
        };
        path = path.replace("{tenant}", &tenant);
    }
    if path.contains("{stage_id}") {
        let id = if deleting {
            let st = created(
                s,
                &format!("/api/v1/tenants/{}/stages", side.id),
                json!({"name": format!("Doomed {}", uuid::Uuid::new_v4().simple())}),
            )
            .await;
            st["id"].as_str().unwrap().to_string()
        } else {
            side.stage_id.clone()
        };
        path = path.replace("{stage_id}", &id);
    }
    if path.contains("{key_id}") {
        let id = if deleting {
            let k = created(
                s,
                &format!("/api/v1/tenants/{}/keys", side.id),
                json!({"label": "doomed"}),
            )
            .await;
            k["id"].as_str().unwrap().to_string()
        } else {
            side.key_id.clone()
        };
        path = path.replace("{key_id}", &id);
    }
    if path.contains("{lead_id}") {
        let id = if deleting {
            fresh_lead(s, &side.key_secret).await
        } else {
            side.lead_id.clone()
        };
        path = path.replace("{lead_id}", &id);
    }
    if path.contains("{user_id}") {
        let n = uuid::Uuid::new_v4().simple().to_string();
        let id = if template.starts_with("/api/v1/platform/users") {
            // An owner who is not the caller.
            let u = created(
                s,
                "/api/v1/platform/users",
                json!({"email": format!("owner.{}@matrix.example", &n[..10]), "name": "Other Owner", "role": "owner"}),
            )
            .await;
            u["id"].as_str().unwrap().to_string()
        } else if deleting {
            let u = created(
                s,
                &format!("/api/v1/tenants/{}/users", side.id),
                json!({"email": format!("doomed.{}@matrix.example", &n[..10]), "name": "Doomed", "role": "agent"}),
            )
            .await;
            u["id"].as_str().unwrap().to_string()
        } else {
            side.user_id.clone()
        };
        path = path.replace("{user_id}", &id);
    }
    if path.contains("{webhook_id}") {
        let id = if deleting {
            webhook(s, &side.id).await.0
        } else {
            side.webhook_id.clone()
        };
        path = path.replace("{webhook_id}", &id);
    }
    if path.contains("{plan_id}") {
        // A plan of its own for each call (deletes eat theirs).
        let p = created(s, "/api/v1/platform/plans", json!({"name": "Matrix plan"})).await;
        path = path.replace("{plan_id}", p["id"].as_str().unwrap());
    }
    path = path.replace("{message_id}", &side.message_id);
    // Nobody's token: whoever may delete hears 404, whoever may not 401/403.
    path = path.replace("{token_id}", &uuid::Uuid::new_v4().to_string());
    path = path.replace("{key}", &side.key_secret);
    assert!(
        !path.contains('{'),
        "a parameter this test cannot fill: {template}"
    );
    path
}

fn cell_of(status: StatusCode, body: &str) -> Result<Cell, String> {
    let code = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
        .unwrap_or_default();
    match status.as_u16() {
        // Neither a decision nor an answer past it: a throttle or a crash.
        429 | 500..=599 => Err(format!("{status}: {body}")),
        401 => Ok(Cell::Unauthenticated),
        403 if code == "forbidden" => Ok(Cell::Forbidden),
        404 if code == "not_found" => Ok(Cell::NotFound),
        403 | 404 => Err(format!("{status} with code {code:?}: {body}")),
        _ => Ok(Cell::Ok),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_each_principal_as_the_table_says() {
    // Dead credentials are refused hundreds of times from one address: without this the
    // refused-credential throttle (tests/auth_flood.rs) would answer the later ones 429.
    let s = TestServer::start_with(|a| {
        a.http.auth_failure_limit = 0;
        // The side's webhook endpoints live on loopback.
        a.outbound.outbound_allow_cidr = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let table = expected();

    // Every operation of the document is in the table, and the table names only those.
    let (st, doc) = s.get("/api/v1/openapi.json").await;
    assert_eq!(st, StatusCode::OK);
    let mut ops: Vec<(Method, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in ["get", "put", "post", "patch", "delete"] {
            if item.get(m).is_some() {
                ops.push((m.to_uppercase().parse().unwrap(), path.clone()));
            }
        }
    }
    let in_doc: BTreeSet<String> = ops.iter().map(|(m, p)| format!("{m} {p}")).collect();
    let in_table: BTreeSet<String> = table.keys().cloned().collect();
    let missing: Vec<_> = in_doc.difference(&in_table).collect();
    let stale: Vec<_> = in_table.difference(&in_doc).collect();
    assert!(
        missing.is_empty(),
        "operations with no row in EXPECTED: {missing:?}"
    );
    assert!(stale.is_empty(), "rows naming no operation: {stale:?}");
    // Logout ends the caller's session: last.
    ops.sort_by_key(|(m, p)| (p == "/api/v1/auth/logout", p.clone(), m.to_string()));

    let a = side(&s, "alpha").await;
    let b = side(&s, "bravo").await;
    let users_a = format!("/api/v1/tenants/{}/users", a.id);
    // The session that will be idle too long logs in first; the others 20 minutes later.
    user(&s, &users_a, "expired@matrix.example", "agent").await;
    let exp = login(&s, "expired@matrix.example").await;
    s.clock.advance(TimeDelta::minutes(20));
    user(
        &s,
        "/api/v1/platform/users",
        "owner@matrix.example",
        "owner",
    )
    .await;
    let tad_id = user(&s, &users_a, "admin@matrix.example", "admin").await;
    let mgr_id = user(&s, &users_a, "manager@matrix.example", "manager").await;
    user(&s, &users_a, "agent@matrix.example", "agent").await;
    let off_id = user(&s, &users_a, "gone@matrix.example", "agent").await;
    let own = login(&s, "owner@matrix.example").await;
    let tad = login(&s, "admin@matrix.example").await;
    let mgr = login(&s, "manager@matrix.example").await;
    let agt = login(&s, "agent@matrix.example").await;
    let off = login(&s, "gone@matrix.example").await;
    let pat = {
        let body = json!({"label": "matrix", "scope": "read", "expires_in_days": 30}).to_string();
        let (st, text) = send(
            &s,
            Method::POST,
            "/api/v1/me/tokens",
            Some(&tad),
            Some(&body),
        )
        .await;
        assert!(st.is_success(), "{st} {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        v["secret"].as_str().unwrap().to_string()
    };
    let (st, v) = s
        .patch(
            &format!("/api/v1/tenants/{}/users/{off_id}", a.id),
            &json!({"active": false}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = s
        .patch(
            &format!("/api/v1/leads/{}", a.lead_id),
            &json!({"assigned_to": mgr_id}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // 35 minutes idle for `exp`, 15 for the others.
    s.clock.advance(TimeDelta::minutes(15));
    let _ = tad_id;

    let tokens: [&str; 9] = [
        &s.token,
        &own,
        &tad,
        &mgr,
        &agt,
        &pat,
        &off,
        &exp,
        &a.key_secret,
    ];
    let mut wrong = Vec::new();
    let mut calls = 0;
    for (method, template) in &ops {
        let op = format!("{method} {template}");
        let (want_a, want_b) = &table[&op];
        let sides: &[(&Side, &Vec<Cell>)] = if names_a_tenant(&op) {
            &[(&a, want_a), (&b, want_b)]
        } else {
            &[(&a, want_a)]
        };
        for &(target, want) in sides {
            for (i, who) in PRINCIPALS.iter().enumerate() {
                let platform = i < 2;
                let path = fill(&s, method, template, target, platform).await;
                let body = (*method != Method::GET && *method != Method::DELETE).then_some("{}");
                let (st, text) = send(&s, method.clone(), &path, Some(tokens[i]), body).await;
                calls += 1;
                let side = if std::ptr::eq(target, &a) { "A" } else { "B" };
                match cell_of(st, &text) {
                    Ok(got) if got == want[i] => {}
                    Ok(got) => wrong.push(format!(
                        "{op} as {who} on {side}: expected {:?}, got {got:?} ({st} {})",
                        want[i],
                        text.chars().take(160).collect::<String>()
                    )),
                    Err(e) => wrong.push(format!("{op} as {who} on {side}: {e}")),
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {calls} calls answered otherwise than the table:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // Nothing the matrix did deleted a side it needed.
    for t in [&a, &b] {
        let (st, _) = s.get(&format!("/api/v1/tenants/{}", t.id)).await;
        assert_eq!(st, StatusCode::OK);
    }
}

/// A manager reaches only the leads assigned to them: every lead operation on a lead of
/// their own tenant assigned to nobody answers 404, as another tenant's lead does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_never_reaches_a_lead_not_assigned_to_them() {
    let s = TestServer::start_with(|a| {
        a.outbound.outbound_allow_cidr = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let a = side(&s, "alpha").await;
    let users_a = format!("/api/v1/tenants/{}/users", a.id);
    user(&s, &users_a, "manager@matrix.example", "manager").await;
    let mgr = login(&s, "manager@matrix.example").await;
    let (st, doc) = s.get("/api/v1/openapi.json").await;
    assert_eq!(st, StatusCode::OK);
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.contains("{lead_id}") {
            continue;
        }
        for m in ["get", "put", "post", "patch", "delete"] {
            if item.get(m).is_none() {
                continue;
            }
            let method: Method = m.to_uppercase().parse().unwrap();
            let target = path.replace("{lead_id}", &a.lead_id);
            let body = (method != Method::GET && method != Method::DELETE).then_some("{}");
            let (st, text) = send(&s, method.clone(), &target, Some(&mgr), body).await;
            assert_eq!(
                cell_of(st, &text),
                Ok(Cell::NotFound),
                "{method} {path} as a manager on an unassigned lead: {st} {text}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "lead operations found: {checked}");
    // The lead is still there, untouched.
    let (st, v) = s.get(&format!("/api/v1/leads/{}", a.lead_id)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}
