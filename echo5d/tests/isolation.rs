//! Tenant isolation, route by route, read from the OpenAPI document so a new route is covered
//! the day it is added.
//!
//! Two tenants, A and B, each with a custom stage, two API keys and a few leads. For every
//! operation that takes a tenant, stage, key or lead identifier (in its path, query or JSON
//! body), and in both directions (A→B and B→A), the caller holds the first tenant's
//! credentials or ids and aims at the second's resources:
//!
//! - admin routes, *foreign id*: the first tenant in the path, the second's sub-resource id
//!   (`/tenants/{A}/stages/{B's stage}`), by id and by slug: 401/403/404;
//! - admin routes, *API key as admin*: the first tenant's API key as the bearer token on the
//!   second tenant's resources: 401/403;
//! - admin routes, *references*: the first tenant's own resource, with the second's ids in the
//!   query or body (`{"order": [B's stages]}`, `?move_to=`, `?q=<B's lead e-mail>`): a
//!   mutation is refused (400/403/404/409/422), a read may answer but shows nothing of B;
//! - key-holder routes: the first tenant's API key, the second's ids wherever they fit;
//! - ingest routes: the first tenant's API key, a body naming the second tenant; the lead
//!   lands in the first tenant;
//! - ad-platform hooks: the first tenant's Google Ads webhook key sent to the second
//!   tenant's Google hook (401, nothing stored) and to its own (the lead lands in the first
//!   tenant); a signed Meta notification for the first tenant's page (routed to it alone).
//!
//! Every answer is checked for bytes of the target tenant's data (id, slug, name, stage ids
//! and names, key ids and prefixes, lead ids, e-mails and names) that the request did not
//! itself carry, and the target tenant is snapshotted before and compared after each
//! direction. A path parameter this test cannot fill fails the test.

mod common;

use common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use uuid::Uuid;

/// One tenant's resources, and what of it must never reach the other tenant.
struct Side {
    label: &'static str,
    id: String,
    slug: String,
    name: String,
    /// Every stage id, the intake stage (which holds the leads) first.
    stages: Vec<String>,
    custom_stage_name: String,
    /// The key leads are sent with.
    key_secret: String,
    /// A second key, the target of key-id routes.
    spare_key_id: String,
    key_ids: Vec<String>,
    key_prefixes: Vec<String>,
    key_labels: Vec<String>,
    leads: Vec<(Uuid, String, String)>,
    /// A user of the tenant (a manager who accepted the invitation) and a personal token
    /// of theirs.
    user_id: String,
    user_email: String,
    user_name: String,
    token_id: String,
    /// Its Google Ads webhook key and Facebook page.
    google_key: String,
    page_id: String,
    /// A recipient of its notifications.
    notify_email: String,
    /// A webhook endpoint (loopback, nothing listening) and its test message's id.
    webhook_id: String,
    webhook_url: String,
    message_id: String,
}

/// The platform's Meta app secret in this test.
const APP_SECRET: &str = "isolation-app-secret-qz7-0123456789";

impl Side {
    async fn seed(s: &TestServer, label: &'static str, word: &str) -> Side {
        let name = format!("{word} Isolation Care Qz7");
        let slug = format!("{}-iso-qz7", word.to_lowercase());
        let t = s
            .tenant(&json!({"name": name, "slug": slug}).to_string())
            .await;
        let id = t["id"].as_str().unwrap().to_string();
        let custom_stage_name = format!("{word} Waitlist Qz7");
        let (st, _) = s
            .post(
                &format!("/api/v1/tenants/{slug}/stages"),
                &json!({"name": custom_stage_name}).to_string(),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, stages) = s.get(&format!("/api/v1/tenants/{slug}/stages")).await;
        assert_eq!(st, StatusCode::OK);
        let stages: Vec<String> = stages["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|st| st["id"].as_str().unwrap().to_string())
            .collect();
        let mut key_ids = Vec::new();
        let mut key_prefixes = Vec::new();
        let mut key_labels = Vec::new();
        let mut secrets = Vec::new();
        for which in ["main", "spare"] {
            let key_label = format!("{}-{which}-label-qz7", word.to_lowercase());
            let (st, k) = s
                .post(
                    &format!("/api/v1/tenants/{slug}/keys"),
                    &json!({"label": key_label}).to_string(),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{k}");
            key_ids.push(k["id"].as_str().unwrap().to_string());
            key_prefixes.push(k["prefix"].as_str().unwrap().to_string());
            secrets.push(k["secret"].as_str().unwrap().to_string());
            key_labels.push(key_label);
        }
        let mut leads = Vec::new();
        for i in 1..=3 {
            let email = format!("{}.lead{i}.qz7@example.com", word.to_lowercase());
            let person = format!("{word} Person{i} Qz7");
            let body = json!({"name": person, "email": email, "phone": format!("+1555010{i:04}")});
            let (st, r) = s
                .submit(
                    &secrets[0],
                    Some("application/json"),
                    body.to_string().as_bytes(),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{r}");
            let lead = s.lead(&r).await;
            assert_eq!(lead.tenant_id.to_string(), id);
            assert_eq!(lead.stage_id.to_string(), stages[0], "leads land in intake");
            leads.push((lead.id, email, person));
        }
        let user_email = format!("{}.staff.qz7@example.com", word.to_lowercase());
        let user_name = format!("{word} Staff Qz7");
        let (st, u) = s
            .post(
                &format!("/api/v1/tenants/{slug}/users"),
                &json!({"email": user_email, "name": user_name, "role": "manager"}).to_string(),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{u}");
        let invite = u["invite_url"]
            .as_str()
            .unwrap()
            .split("#token=")
            .nth(1)
            .unwrap();
        let password = "isolation-Quartz-71-harbour-Lamp";
        let anon = |path: &str, body: Value| {
            s.client
                .post(s.url(path))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
        };
        let r = anon(
            "/api/v1/auth/accept-invite",
            json!({"token": invite, "password": password}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r: Value = anon(
            "/api/v1/auth/login",
            json!({"email": user_email, "password": password}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let session = r["token"].as_str().unwrap();
        let t: Value = s
            .client
            .post(s.url("/api/v1/me/tokens"))
            .bearer_auth(session)
            .header("content-type", "application/json")
            .body(json!({"label": format!("{word} script qz7"), "scope": "read"}).to_string())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let google_key = format!("{}-google-key-qz7", word.to_lowercase());
        let page_id = if word == "Alpha" {
            "1000000001"
        } else {
            "2000000002"
        }
        .to_string();
        let (st, v) = s
            .patch(
                &format!("/api/v1/tenants/{slug}/settings"),
                &json!({"meta_page_ids": [page_id], "meta_access_token": format!("EAAG-{word}-token-qz7"),
                        "google_ads": {"customer_id": "123-456-7890", "conversion_action": "lead",
                                       "webhook_key": google_key}})
                .to_string(),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let webhook_url = format!("http://127.0.0.1:9/{}-hook-qz7", word.to_lowercase());
        let (st, w) = s
            .post(
                &format!("/api/v1/tenants/{slug}/webhooks"),
                &json!({"url": webhook_url, "events": ["webhook.test"]}).to_string(),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{w}");
        let webhook_id = w["id"].as_str().unwrap().to_string();
        let (st, d) = s
            .post(
                &format!("/api/v1/tenants/{slug}/webhooks/{webhook_id}/test"),
                "",
            )
            .await;
        assert_eq!(st, StatusCode::ACCEPTED, "{d}");
        let notify_email = format!("{}-alerts-qz7@example.com", word.to_lowercase());
        let (st, nd) = s
            .put(
                &format!("/api/v1/tenants/{slug}/notifications"),
                &json!({"channels": {"email": {"to": [notify_email]}},
                        "rules": {"sla.breached": ["email"]},
                        "escalation": [{"after_hours": 2, "to": [u["id"]], "channels": ["email"]}]})
                .to_string(),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{nd}");
        Side {
            notify_email,
            google_key,
            page_id,
            webhook_id,
            webhook_url,
            message_id: d["message_id"].as_str().unwrap().to_string(),
            label,
            id,
            slug,
            name,
            custom_stage_name,
            stages,
            key_secret: secrets[0].clone(),
            spare_key_id: key_ids[1].clone(),
            key_ids,
            key_prefixes,
            key_labels,
            leads,
            user_id: u["id"].as_str().unwrap().to_string(),
            user_email,
            user_name,
            token_id: t["id"].as_str().unwrap().to_string(),
        }
    }

    /// Strings that identify this tenant's data; none may reach the other tenant.
    fn fingerprints(&self) -> Vec<String> {
        let mut out = vec![
            self.id.clone(),
            self.slug.clone(),
            self.name.clone(),
            self.custom_stage_name.clone(),
            self.key_secret.clone(),
            self.user_id.clone(),
            self.user_email.clone(),
            self.user_name.clone(),
            self.token_id.clone(),
            self.google_key.clone(),
            self.webhook_id.clone(),
            self.webhook_url.clone(),
            self.message_id.clone(),
            self.notify_email.clone(),
        ];
        out.extend(self.stages.iter().cloned());
        out.extend(self.key_ids.iter().cloned());
        out.extend(self.key_prefixes.iter().cloned());
        out.extend(self.key_labels.iter().cloned());
        for (id, email, person) in &self.leads {
            out.extend([id.to_string(), email.clone(), person.clone()]);
        }
        out
    }

    /// What a path, query or body slot of `role` holds when it names this tenant's resource.
    fn value(&self, role: Role, by_slug: bool) -> Value {
        match role {
            Role::Tenant if by_slug => json!(self.slug),
            Role::Tenant => json!(self.id),
            Role::Slug => json!(self.slug),
            Role::Stage => json!(self.stages[0]),
            Role::StageList => json!(self.stages),
            Role::Key => json!(self.spare_key_id),
            Role::ApiKey => json!(self.key_secret),
            Role::Lead => json!(self.leads[0].0.to_string()),
            Role::Search => json!(self.leads[0].1),
            Role::User => json!(self.user_id),
            Role::Token => json!(self.token_id),
            Role::Webhook => json!(self.webhook_id),
            Role::Message => json!(self.message_id),
            Role::Plan => json!(uuid::Uuid::nil()),
        }
    }

    /// Everything observable about the tenant, to compare before and after a direction.
    async fn snapshot(&self, s: &TestServer) -> Value {
        let mut snap = Map::new();
        for part in [
            "",
            "/stages",
            "/keys",
            "/settings",
            "/users",
            "/integrations",
            "/webhooks",
            "/notifications",
        ] {
            let (st, mut v) = s.get(&format!("/api/v1/tenants/{}{part}", self.id)).await;
            assert_eq!(st, StatusCode::OK, "{part}: {v}");
            // Using a key is not changing it.
            if let Some(keys) = v["data"].as_array_mut() {
                for k in keys {
                    if let Some(o) = k.as_object_mut() {
                        o.remove("last_used_at");
                        // A Google delivery with a wrong key is recorded as the target's
                        // last error by design (it is how an operator learns a form sends
                        // the wrong key); its leads and Meta's state must not change.
                        if part == "/integrations" && o["source"] == "google" {
                            o.remove("last_error");
                            o.remove("last_error_at");
                            o.remove("state");
                        }
                    }
                }
            }
            snap.insert(part.to_string(), v);
        }
        let tenant: Uuid = self.id.parse().unwrap();
        snap.insert(
            "lead_count".into(),
            json!(s.state.store.count_leads(tenant).await.unwrap()),
        );
        for (id, _, _) in &self.leads {
            let lead = s.state.store.get_lead(*id).await.unwrap();
            snap.insert(id.to_string(), serde_json::to_value(lead).unwrap());
        }
        Value::Object(snap)
    }
}

/// What an identifier slot refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Tenant,
    Slug,
    Stage,
    StageList,
    Key,
    ApiKey,
    Lead,
    /// A free-text search: the other tenant's lead e-mail.
    Search,
    /// A user of the tenant.
    User,
    /// A personal token of the tenant's user.
    Token,
    /// A webhook endpoint of the tenant.
    Webhook,
    /// A message sent to that endpoint (its `webhook-id`).
    Message,
    /// A plan: the platform's, no tenant's; every tenant principal is refused before it
    /// is looked up, so any id does.
    Plan,
}

/// A path parameter's role, from its name or, for a bare `{id}`, the segment before it.
fn path_role(path: &str, name: &str) -> Option<Role> {
    let by_name = match name {
        "tenant" | "tenant_id" => Some(Role::Tenant),
        "stage" | "stage_id" => Some(Role::Stage),
        "key_id" => Some(Role::Key),
        "key" | "api_key" => Some(Role::ApiKey),
        "lead" | "lead_id" => Some(Role::Lead),
        "user_id" => Some(Role::User),
        "token_id" => Some(Role::Token),
        "webhook_id" => Some(Role::Webhook),
        "message_id" => Some(Role::Message),
        "plan_id" => Some(Role::Plan),
        _ => None,
    };
    if by_name.is_some() || name != "id" {
        return by_name;
    }
    let before = path.split(&format!("/{{{name}}}")).next()?;
    match before.rsplit('/').next()? {
        "tenants" => Some(Role::Tenant),
        "stages" => Some(Role::Stage),
        "keys" => Some(Role::Key),
        "leads" => Some(Role::Lead),
        _ => None,
    }
}

/// A query parameter or body field that names a tenant's resource.
fn field_role(name: &str) -> Option<Role> {
    match name {
        "tenant" | "tenant_id" => Some(Role::Tenant),
        "slug" => Some(Role::Slug),
        "stage" | "stage_id" | "move_to" | "from_stage" | "to_stage" => Some(Role::Stage),
        "order" | "stage_ids" => Some(Role::StageList),
        "key_id" => Some(Role::Key),
        "api_key" => Some(Role::ApiKey),
        "lead" | "lead_id" | "duplicate_of" => Some(Role::Lead),
        "q" | "search" => Some(Role::Search),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Admin,
    KeyHolder,
    Ingest,
    /// An ad platform's webhook (tag `hooks`): its own proof, no principal.
    Hook,
}

struct Op {
    method: Method,
    path: String,
    kind: Kind,
    path_params: Vec<(String, Role)>,
    query: Vec<(String, Option<Role>, bool, Value)>,
    body_schema: Option<Value>,
}

impl Op {
    fn safe(&self) -> bool {
        self.method == Method::GET || self.method == Method::HEAD
    }
    fn has_path_tenant(&self) -> bool {
        self.path_params.iter().any(|(_, r)| *r == Role::Tenant)
    }
    fn has_sub_resource(&self) -> bool {
        self.path_params.iter().any(|(_, r)| *r != Role::Tenant)
    }
}

fn deref<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let name = r.rsplit('/').next().unwrap();
        schema = &doc["components"]["schemas"][name];
    }
    schema
}

/// The first non-null alternative of a `oneOf`/`anyOf`, else the schema itself.
fn concrete<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let schema = deref(doc, schema);
    for alt in ["oneOf", "anyOf"] {
        if let Some(list) = schema.get(alt).and_then(Value::as_array)
            && let Some(s) = list.iter().find(|s| deref(doc, s)["type"] != "null")
        {
            return concrete(doc, s);
        }
    }
    schema
}

fn type_of(schema: &Value) -> &str {
    match &schema["type"] {
        Value::String(t) => t,
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "any",
    }
}

/// A placeholder of the schema's type for a required slot that names nothing.
fn filler(doc: &Value, schema: &Value, depth: usize) -> Value {
    let schema = concrete(doc, schema);
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    match type_of(schema) {
        "string" if schema["format"] == "uuid" => json!(Uuid::nil().to_string()),
        "string" if schema["format"] == "date-time" => json!("2026-01-01T00:00:00Z"),
        "string" => json!("isolation probe"),
        "integer" | "number" => schema.get("minimum").cloned().unwrap_or(json!(1)),
        "boolean" => json!(false),
        "array" => json!([]),
        "object" if depth < 4 => {
            let mut o = Map::new();
            for req in schema["required"].as_array().into_iter().flatten() {
                let name = req.as_str().unwrap();
                o.insert(
                    name.into(),
                    filler(doc, &schema["properties"][name], depth + 1),
                );
            }
            Value::Object(o)
        }
        _ => json!("isolation probe"),
    }
}

/// A body for `schema`: required fields filled, every identifier field naming `target`'s
/// resources. Returns the body and whether it names anything.
fn body_for(doc: &Value, schema: &Value, target: &Side, depth: usize) -> (Value, bool) {
    let schema = concrete(doc, schema);
    let mut o = Map::new();
    let mut names = false;
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
        let prop_c = concrete(doc, prop);
        if let Some(role) = field_role(name) {
            o.insert(name.clone(), target.value(role, true));
            names = true;
        } else if type_of(prop_c) == "object" && depth < 3 {
            let (inner, inner_names) = body_for(doc, prop_c, target, depth + 1);
            if inner_names || required.contains(name.as_str()) {
                o.insert(name.clone(), inner);
                names |= inner_names;
            }
        } else if required.contains(name.as_str()) {
            o.insert(name.clone(), filler(doc, prop, depth + 1));
        }
    }
    (Value::Object(o), names)
}

fn operations(doc: &Value) -> (Vec<Op>, Vec<String>) {
    let mut ops = Vec::new();
    let mut unknown = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            let Ok(method) = m.to_uppercase().parse::<Method>() else {
                continue;
            };
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                continue;
            }
            let tags: Vec<&str> = op["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let security: Vec<&String> = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .flat_map(|o| o.keys())
                .collect();
            let kind = if tags.contains(&"ingest") {
                Kind::Ingest
            } else if tags.contains(&"hooks") {
                Kind::Hook
            } else if security.iter().any(|s| *s == "api_key")
                && !security.iter().any(|s| *s == "admin_token")
            {
                Kind::KeyHolder
            } else {
                Kind::Admin
            };
            // Path parameters from the template itself, so one left out of `parameters`
            // still has to be filled.
            let mut path_params = Vec::new();
            for seg in path.split('/') {
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    match path_role(path, name) {
                        Some(role) => path_params.push((name.to_string(), role)),
                        None => unknown.push(format!("{{{name}}} in {m} {path}")),
                    }
                }
            }
            let mut query = Vec::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let p = deref(doc, p);
                if p["in"] != "query" {
                    continue;
                }
                let name = p["name"].as_str().unwrap().to_string();
                let required = p["required"].as_bool().unwrap_or(false);
                query.push((
                    name.clone(),
                    field_role(&name),
                    required,
                    p["schema"].clone(),
                ));
            }
            let body_schema = op["requestBody"]["content"]["application/json"]["schema"]
                .as_object()
                .map(|o| Value::Object(o.clone()));
            ops.push(Op {
                method,
                path: path.clone(),
                kind,
                path_params,
                query,
                body_schema,
            });
        }
    }
    (ops, unknown)
}

/// One request of the matrix.
struct Probe {
    case: &'static str,
    method: Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
}

/// Fills `op`'s path, taking each slot's role from `pick`.
fn fill_path(op: &Op, pick: impl Fn(Role) -> String) -> String {
    let mut p = op.path.clone();
    for (name, role) in &op.path_params {
        p = p.replace(&format!("{{{name}}}"), &pick(*role));
    }
    p
}

fn as_param(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(as_param).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn query_string(pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    format!("?{}", serde_urlencoded::to_string(pairs).unwrap())
}

/// The query for `op`: identifier parameters from `refs` (or, for a tenant filter on a route
/// without a tenant in its path, from `scope`), required others filled. Also says whether any
/// parameter names `refs`.
fn query_for(doc: &Value, op: &Op, scope: &Side, refs: &Side) -> (Vec<(String, String)>, bool) {
    let mut pairs = Vec::new();
    let mut names = false;
    for (name, role, required, schema) in &op.query {
        match role {
            Some(Role::Tenant) if !op.has_path_tenant() => {
                pairs.push((name.clone(), scope.slug.clone()));
            }
            Some(role) => {
                pairs.push((name.clone(), as_param(&refs.value(*role, true))));
                names = true;
            }
            None if *required => pairs.push((name.clone(), as_param(&filler(doc, schema, 0)))),
            None => {}
        }
    }
    (pairs, names)
}

fn json_headers(body: &Option<String>) -> Vec<(&'static str, String)> {
    match body {
        Some(_) => vec![("content-type", "application/json".into())],
        None => vec![],
    }
}

/// The admin-route probes of one direction: `me`'s ids or credentials against `them`.
fn admin_probes(doc: &Value, op: &Op, me: &Side, them: &Side, admin: &str) -> Vec<Probe> {
    let bearer = |t: &str| vec![("authorization", format!("Bearer {t}"))];
    let mut out = Vec::new();
    let body = |target: &Side| {
        op.body_schema
            .as_ref()
            .map(|s| body_for(doc, s, target, 0).0.to_string())
    };
    // Foreign id: my tenant in the path, their sub-resource.
    if op.has_path_tenant() && op.has_sub_resource() {
        for by_slug in [false, true] {
            let path = fill_path(op, |r| {
                if r == Role::Tenant {
                    as_param(&me.value(r, by_slug))
                } else {
                    as_param(&them.value(r, by_slug))
                }
            });
            let (q, _) = query_for(doc, op, me, them);
            let b = body(them);
            let mut headers = bearer(admin);
            headers.extend(json_headers(&b));
            out.push(Probe {
                case: if by_slug {
                    "foreign-id (tenant by slug)"
                } else {
                    "foreign-id (tenant by id)"
                },
                method: op.method.clone(),
                url: format!("{path}{}", query_string(&q)),
                headers,
                body: b,
            });
        }
    }
    // My API key as the admin token, on their resources.
    {
        let path = fill_path(op, |r| as_param(&them.value(r, true)));
        let (q, _) = query_for(doc, op, them, them);
        let b = body(them);
        let mut headers = bearer(&me.key_secret);
        headers.extend(json_headers(&b));
        out.push(Probe {
            case: "api-key-as-admin",
            method: op.method.clone(),
            url: format!("{path}{}", query_string(&q)),
            headers,
            body: b,
        });
    }
    // My own resource, their ids in the query or body.
    let (q, q_names) = query_for(doc, op, me, them);
    let (b, b_names) = match &op.body_schema {
        Some(s) => {
            let (v, n) = body_for(doc, s, them, 0);
            (Some(v.to_string()), n)
        }
        None => (None, false),
    };
    if q_names || b_names {
        let path = fill_path(op, |r| as_param(&me.value(r, false)));
        let mut headers = bearer(admin);
        headers.extend(json_headers(&b));
        out.push(Probe {
            case: "references",
            method: op.method.clone(),
            url: format!("{path}{}", query_string(&q)),
            headers,
            body: b,
        });
    } else if op.path_params.is_empty() && op.query.iter().any(|(_, r, _, _)| r.is_some()) {
        // A route without a tenant in its path, filtered to my tenant.
        let mut headers = bearer(admin);
        headers.extend(json_headers(&b));
        out.push(Probe {
            case: "scoped-filter",
            method: op.method.clone(),
            url: format!("{}{}", op.path, query_string(&q)),
            headers,
            body: b,
        });
    }
    out
}

/// A key-holder route: my API key, their ids wherever the route takes one.
fn key_holder_probes(doc: &Value, op: &Op, me: &Side, them: &Side) -> Vec<Probe> {
    let path = fill_path(op, |r| {
        if r == Role::ApiKey {
            me.key_secret.clone()
        } else {
            as_param(&them.value(r, true))
        }
    });
    let (q, _) = query_for(doc, op, them, them);
    let q: Vec<_> = q.into_iter().filter(|(k, _)| k != "api_key").collect();
    let b = op
        .body_schema
        .as_ref()
        .map(|s| body_for(doc, s, them, 0).0.to_string());
    let mut headers = vec![("x-api-key", me.key_secret.clone())];
    headers.extend(json_headers(&b));
    vec![Probe {
        case: "key-holder",
        method: op.method.clone(),
        url: format!("{path}{}", query_string(&q)),
        headers,
        body: b,
    }]
}

/// An ad-platform hook. Google's: my webhook key on their tenant's hook (refused), and on my
/// own with a lead naming their ids (stored in mine). Meta's: a signed notification for my
/// page (routed to me; their integration and data unchanged); its handshake without the
/// verify token (refused).
fn hook_probes(op: &Op, me: &Side, them: &Side, n: usize) -> Vec<(Probe, Option<String>)> {
    let json_ct = vec![("content-type", "application/json".to_string())];
    if op.path.contains("/hooks/google/") {
        let email = format!("hook{n}.{}.qz7@example.net", me.label.to_lowercase());
        let lead = |key: &str, lead_id: String| {
            json!({"lead_id": lead_id, "google_key": key, "campaign_id": 1,
                   "user_column_data": [
                       {"column_id": "FULL_NAME", "string_value": format!("Hook Probe {n}")},
                       {"column_id": "EMAIL", "string_value": email},
                       {"column_name": "tenant", "column_id": "q1", "string_value": them.slug},
                       {"column_name": "tenant_id", "column_id": "q2", "string_value": them.id}]})
            .to_string()
        };
        return vec![
            (
                Probe {
                    case: "hook-foreign-tenant",
                    method: op.method.clone(),
                    url: fill_path(op, |r| as_param(&them.value(r, false))),
                    headers: json_ct.clone(),
                    body: Some(lead(&me.google_key, format!("iso-foreign-{n}"))),
                },
                None,
            ),
            (
                Probe {
                    case: "ingest",
                    method: op.method.clone(),
                    url: fill_path(op, |r| as_param(&me.value(r, true))),
                    headers: json_ct,
                    body: Some(lead(&me.google_key, format!("iso-own-{n}"))),
                },
                Some(email.clone()),
            ),
        ];
    }
    if op.method == Method::GET {
        return vec![(
            Probe {
                case: "hook-handshake",
                method: Method::GET,
                url: format!(
                    "{}?hub.mode=subscribe&hub.challenge=1&hub.verify_token={}",
                    op.path, them.google_key
                ),
                headers: Vec::new(),
                body: None,
            },
            None,
        )];
    }
    let body = json!({"object": "page", "entry": [{"id": me.page_id, "changes": [
        {"field": "leadgen", "value": {"leadgen_id": format!("77000{n}"), "page_id": me.page_id,
                                       "form_id": them.id}}]}]})
    .to_string();
    let mut headers = json_ct;
    headers.push((
        "x-hub-signature-256",
        echo5_core::integrations::meta::signature(APP_SECRET.as_bytes(), body.as_bytes()),
    ));
    vec![(
        Probe {
            case: "hook-meta",
            method: op.method.clone(),
            url: op.path.clone(),
            headers,
            body: Some(body),
        },
        None,
    )]
}

/// An ingest route: my API key, a submission that names their tenant every way it can.
fn ingest_probe(op: &Op, me: &Side, them: &Side, n: usize) -> (Probe, String) {
    let email = format!("probe{n}.{}.qz7@example.net", me.label.to_lowercase());
    let fields = [
        ("name", format!("Isolation Probe {n}")),
        ("email", email.clone()),
        ("tenant", them.slug.clone()),
        ("tenant_id", them.id.clone()),
        ("stage_id", them.stages[0].clone()),
    ];
    let path = fill_path(op, |r| {
        if r == Role::ApiKey {
            me.key_secret.clone()
        } else {
            panic!("ingest path {} takes a {r:?}; teach this test", op.path)
        }
    });
    let has_key_in_path = op.path_params.iter().any(|(_, r)| *r == Role::ApiKey);
    let mut headers = Vec::new();
    if !has_key_in_path {
        headers.push(("x-api-key", me.key_secret.clone()));
    }
    let probe = if op.method == Method::GET {
        let pairs: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        Probe {
            case: "ingest",
            method: Method::GET,
            url: format!("{path}{}", query_string(&pairs)),
            headers,
            body: None,
        }
    } else {
        let body: Map<String, Value> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        headers.push(("content-type", "application/json".into()));
        Probe {
            case: "ingest",
            method: op.method.clone(),
            url: path,
            headers,
            body: Some(Value::Object(body).to_string()),
        }
    };
    (probe, email)
}

struct Answer {
    status: StatusCode,
    text: String,
}

async fn send(s: &TestServer, p: &Probe) -> Answer {
    let mut req = s.client.request(p.method.clone(), s.url(&p.url));
    for (k, v) in &p.headers {
        req = req.header(*k, v);
    }
    if let Some(b) = &p.body {
        req = req.body(b.clone());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    Answer { status, text }
}

/// Fingerprints of `them` in the answer that the request did not carry itself.
fn leaks(p: &Probe, a: &Answer, them: &Side) -> Vec<String> {
    let sent = format!(
        "{} {} {}",
        p.url,
        p.body.as_deref().unwrap_or(""),
        p.headers
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    // Percent-decoded too, so a value sent in a query string counts as sent.
    let sent_decoded = format!(
        "{sent} {}",
        serde_urlencoded::from_str::<Vec<(String, String)>>(p.url.split('?').nth(1).unwrap_or(""))
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    them.fingerprints()
        .into_iter()
        .filter(|f| a.text.contains(f.as_str()) && !sent_decoded.contains(f.as_str()))
        .collect()
}

#[tokio::test]
async fn no_tenant_reaches_another_tenants_data() {
    let doc = serde_json::to_value(echo5d::openapi()).unwrap();
    let (ops, unknown) = operations(&doc);
    assert!(
        unknown.is_empty(),
        "the isolation matrix cannot fill these path parameters; teach path_role() in \
         echo5d/tests/isolation.rs what they name: {unknown:?}"
    );

    // Every route is tried with the wrong credentials from one address on purpose; the
    // refused-credential throttle (tests/auth_flood.rs) would answer the later ones 429.
    let s = TestServer::start_with(|a| {
        a.http.auth_failure_limit = 0;
        // The sides' webhook endpoints live on loopback.
        a.outbound.outbound_allow_cidr = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let (st, v) = s
        .patch(
            "/api/v1/platform/settings",
            &json!({"meta_app_secret": APP_SECRET}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let a = Side::seed(&s, "A", "Alpha").await;
    let b = Side::seed(&s, "B", "Bravo").await;

    // Routes that take a tenant, stage, key or lead identifier anywhere.
    let mut in_matrix = Vec::new();
    let mut outside = Vec::new();
    for op in &ops {
        let body_names = op
            .body_schema
            .as_ref()
            .is_some_and(|sch| body_for(&doc, sch, &b, 0).1);
        let takes_id = !op.path_params.is_empty()
            || op.query.iter().any(|(_, r, _, _)| r.is_some())
            || body_names
            || op.kind != Kind::Admin;
        if takes_id {
            in_matrix.push(op);
        } else {
            outside.push(format!("{} {}", op.method, op.path));
        }
    }
    // Ingest (and the hooks, which store leads too) last in each direction: their leads
    // carry the other tenant's ids in `custom`.
    in_matrix.sort_by_key(|op| matches!(op.kind, Kind::Ingest | Kind::Hook));

    let mut failures = Vec::new();
    let mut requests = 0;
    let mut report = Vec::new();
    let mut probe_no = 0;
    for (me, them) in [(&a, &b), (&b, &a)] {
        let before = them.snapshot(&s).await;
        for op in &in_matrix {
            let probes: Vec<(Probe, Option<String>)> = match op.kind {
                Kind::Admin => admin_probes(&doc, op, me, them, &s.token)
                    .into_iter()
                    .map(|p| (p, None))
                    .collect(),
                Kind::KeyHolder => key_holder_probes(&doc, op, me, them)
                    .into_iter()
                    .map(|p| (p, None))
                    .collect(),
                Kind::Ingest => {
                    probe_no += 1;
                    let (p, email) = ingest_probe(op, me, them, probe_no);
                    vec![(p, Some(email))]
                }
                Kind::Hook => {
                    probe_no += 1;
                    hook_probes(op, me, them, probe_no)
                }
            };
            assert!(!probes.is_empty(), "{} {} got no probe", op.method, op.path);
            for (p, ingest_email) in probes {
                requests += 1;
                let ans = send(&s, &p).await;
                let what = format!(
                    "{}→{} {} {} {} [{}]",
                    me.label, them.label, p.case, p.method, p.url, ans.status
                );
                report.push(what.clone());
                let leaked = leaks(&p, &ans, them);
                if !leaked.is_empty() {
                    failures.push(format!("{what}: leaks {leaked:?}: {}", ans.text));
                }
                if ans.status.is_server_error() {
                    failures.push(format!("{what}: server error: {}", ans.text));
                    continue;
                }
                let code = ans.status.as_u16();
                let ok = match p.case {
                    "foreign-id (tenant by id)" | "foreign-id (tenant by slug)" => {
                        [401, 403, 404].contains(&code)
                    }
                    "api-key-as-admin" => [401, 403].contains(&code),
                    "references" | "scoped-filter" if op.safe() => true,
                    "references" | "scoped-filter" => [400, 403, 404, 409, 422].contains(&code),
                    "key-holder" => {
                        // My key reads my own tenant, whatever of theirs the request names:
                        // 200, and the answer names my tenant.
                        let v: Value = serde_json::from_str(&ans.text).unwrap_or(Value::Null);
                        ans.status == StatusCode::OK
                            && v["tenant"]["id"] == json!(me.id)
                            && v["tenant"]["slug"] == json!(me.slug)
                    }
                    "ingest" => {
                        if ans.status != StatusCode::OK {
                            false
                        } else {
                            let v: Value = serde_json::from_str(&ans.text).unwrap();
                            let lead = s.lead(&v).await;
                            lead.tenant_id.to_string() == me.id
                                && lead.email.as_deref() == ingest_email.as_deref()
                                && lead.stage_id.to_string() == me.stages[0]
                        }
                    }
                    "hook-foreign-tenant" => code == 401,
                    "hook-handshake" => code == 403,
                    "hook-meta" => {
                        let v: Value = serde_json::from_str(&ans.text).unwrap_or(Value::Null);
                        ans.status == StatusCode::OK && v["routed"] == 1 && v["unknown_pages"] == 0
                    }
                    other => panic!("unknown case {other}"),
                };
                if !ok {
                    failures.push(format!("{what}: unexpected answer: {}", ans.text));
                }
                if ans.status.is_client_error() {
                    // Errors keep their JSON shape across the matrix too.
                    let v: Value = serde_json::from_str(&ans.text).unwrap_or(Value::Null);
                    if !v["error"]["code"].is_string() || !v["error"]["message"].is_string() {
                        failures.push(format!("{what}: error is not our JSON: {}", ans.text));
                    }
                }
            }
        }
        let after = them.snapshot(&s).await;
        if before != after {
            failures.push(format!(
                "{}→{}: tenant {} changed:\nbefore {before}\nafter  {after}",
                me.label, them.label, them.label
            ));
        }
    }

    let routes = in_matrix.len();
    let mut err = std::io::stderr();
    writeln!(
        err,
        "isolation matrix: {routes} routes × 2 directions = {} cells, {requests} requests \
         ({} routes without identifiers: {outside:?})",
        routes * 2,
        outside.len()
    )
    .unwrap();
    for line in &report {
        writeln!(err, "  {line}").unwrap();
    }
    assert!(
        failures.is_empty(),
        "{} isolation failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The matrix must have covered what exists today; a route cannot drop out unnoticed.
    for must in [
        "/api/v1/tenants/{tenant}/stages/{stage_id}",
        "/api/v1/tenants/{tenant}/keys/{key_id}/reveal",
        "/api/v1/tenants/{tenant}/webhooks/{webhook_id}/deliveries/{message_id}/retry",
        "/api/v1/ingest/{key}",
        "/api/v1/hooks/google/{tenant}",
        "/api/v1/hooks/meta",
        "/api/v1/leads",
        "/api/v1/key",
    ] {
        assert!(
            in_matrix.iter().any(|op| op.path == must),
            "{must} not in matrix"
        );
    }
    assert!(
        requests >= routes * 2,
        "{requests} requests for {routes} routes"
    );
    s.stop().await;
}
