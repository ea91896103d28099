//! A stand-in for Meta's Graph API on a loopback port, started by the test: it answers
//! `GET /v21.0/{leadgen_id}` and `GET /v21.0/{form_id}/leads` in the documented shapes,
//! checks the path's version and the `access_token`, filters a form's leads by
//! `filtering=[{"field":"time_created","operator":"GREATER_THAN","value":…}]`, pages them
//! with `paging.cursors.after` / `paging.next`, and fails on demand (a status such as 503,
//! or error 190 for the token).

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the stand-in answers everything, until told otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Up,
    /// Every request answered with this status (and a Graph error body for 5xx).
    Status(u16),
}

/// One request as received (the token replaced by whether it was the expected one).
#[derive(Debug, Clone)]
pub struct Asked {
    pub path: String,
    pub query: HashMap<String, String>,
    pub token_ok: bool,
}

#[derive(Default)]
struct Inner {
    token: String,
    mode: Option<Mode>,
    /// Lead id → the lead as `GET /{id}` answers it.
    leads: HashMap<String, Value>,
    /// Form id → its lead ids, newest first (as Meta lists them).
    forms: HashMap<String, Vec<String>>,
    page_size: usize,
    asked: Vec<Asked>,
}

#[derive(Clone)]
pub struct Graph {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

/// A lead as the Graph API returns it; `created` in unix seconds.
pub fn graph_lead(id: &str, form: &str, created: i64, email: &str) -> Value {
    let t = chrono::DateTime::from_timestamp(created, 0).unwrap();
    json!({
        "id": id,
        "created_time": t.format("%Y-%m-%dT%H:%M:%S+0000").to_string(),
        "form_id": form,
        "ad_id": "23850000000000001",
        "ad_name": "Spring respite",
        "adset_id": "23850000000000002",
        "adset_name": "Caregivers 45+",
        "campaign_id": "23850000000000003",
        "campaign_name": "Home care",
        "is_organic": false,
        "platform": "fb",
        "field_data": [
            {"name": "full_name", "values": ["Jane Doe"]},
            {"name": "email", "values": [email]},
            {"name": "phone_number", "values": ["+15125550123"]},
            {"name": "city", "values": ["Austin"]},
            {"name": "zip_code", "values": ["78701"]},
            {"name": "which_services?", "values": ["bathing", "meals"]}
        ]
    })
}

impl Graph {
    /// Takes requests with `token` only.
    pub async fn start(token: &str) -> Graph {
        let inner = Arc::new(Mutex::new(Inner {
            token: token.into(),
            page_size: 100,
            ..Default::default()
        }));
        let shared = inner.clone();
        let app = Router::new().fallback(move |uri: Uri| {
            let shared = shared.clone();
            async move { answer(&shared, &uri) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Graph {
            base: format!("http://127.0.0.1:{port}"),
            inner,
        }
    }

    /// Adds a lead (to its form's list too, newest first by `created_time`).
    pub fn add_lead(&self, lead: Value) {
        let mut g = self.inner.lock().unwrap();
        let id = lead["id"].as_str().unwrap().to_string();
        let form = lead["form_id"].as_str().unwrap().to_string();
        g.leads.insert(id.clone(), lead);
        let mut ids = g.forms.remove(&form).unwrap_or_default();
        ids.push(id);
        let created =
            |g: &Inner, id: &String| g.leads[id]["created_time"].as_str().unwrap().to_string();
        ids.sort_by_key(|id| std::cmp::Reverse(created(&g, id)));
        g.forms.insert(form, ids);
    }

    pub fn set_mode(&self, mode: Mode) {
        self.inner.lock().unwrap().mode = Some(mode);
    }

    /// The token it takes from now on (any other is answered with error 190).
    pub fn set_token(&self, token: &str) {
        self.inner.lock().unwrap().token = token.into();
    }

    pub fn set_page_size(&self, n: usize) {
        self.inner.lock().unwrap().page_size = n;
    }

    pub fn asked(&self) -> Vec<Asked> {
        self.inner.lock().unwrap().asked.clone()
    }

    pub fn asked_for(&self, path: &str) -> Vec<Asked> {
        self.asked()
            .into_iter()
            .filter(|a| a.path == path)
            .collect()
    }

    /// Waits (up to `within`) until `path` was asked `n` times.
    pub async fn wait_asked(&self, path: &str, n: usize, within: Duration) -> Vec<Asked> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.asked_for(path);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: asked {} of {n} times within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn error(status: u16, code: i64, kind: &str, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "code": code,
        "fbtrace_id": "AxTestTrace"}});
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn ok(body: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn answer(inner: &Mutex<Inner>, uri: &Uri) -> Response {
    let query: HashMap<String, String> = reqwest::Url::parse(&format!("http://graph.test{uri}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let mut g = inner.lock().unwrap();
    let token_ok = query.get("access_token") == Some(&g.token);
    let mut logged = query.clone();
    logged.remove("access_token");
    g.asked.push(Asked {
        path: uri.path().to_string(),
        query: logged,
        token_ok,
    });
    match g.mode.clone() {
        Some(Mode::Status(s)) => {
            return error(
                s,
                2,
                "OAuthException",
                "An unexpected error has occurred. Please retry your request later.",
            );
        }
        Some(Mode::Up) | None => {}
    }
    if !token_ok {
        return error(
            400,
            190,
            "OAuthException",
            "Error validating access token: Session has expired on Friday, 20-Nov-26 10:00:00 PST.",
        );
    }
    let parts: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["v21.0", id] => match g.leads.get(*id) {
            Some(lead) => {
                let mut lead = lead.clone();
                // Only the fields asked for come back, as the Graph API does.
                if let Some(fields) = query.get("fields") {
                    let wanted: Vec<&str> = fields.split(',').collect();
                    lead.as_object_mut()
                        .unwrap()
                        .retain(|k, _| wanted.contains(&k.as_str()));
                }
                ok(lead)
            }
            None => error(
                400,
                100,
                "GraphMethodException",
                &format!("Unsupported get request. Object with ID '{id}' does not exist"),
            ),
        },
        ["v21.0", form, "leads"] => {
            let Some(ids) = g.forms.get(*form).cloned() else {
                return error(400, 100, "GraphMethodException", "no such form");
            };
            let since = query
                .get("filtering")
                .and_then(|f| serde_json::from_str::<Value>(f).ok())
                .and_then(|f| f[0]["value"].as_i64())
                .unwrap_or(0);
            let matching: Vec<Value> = ids
                .iter()
                .map(|id| g.leads[id].clone())
                .filter(|l| {
                    let t = chrono::DateTime::parse_from_str(
                        l["created_time"].as_str().unwrap(),
                        "%Y-%m-%dT%H:%M:%S%z",
                    )
                    .unwrap();
                    t.timestamp() > since
                })
                .collect();
            let start: usize = query
                .get("after")
                .and_then(|a| a.strip_prefix("cur-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let size = g.page_size.min(
                query
                    .get("limit")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(25),
            );
            let page: Vec<Value> = matching.iter().skip(start).take(size).cloned().collect();
            let end = start + page.len();
            let mut paging = json!({"cursors": {"before": format!("cur-{start}"), "after": format!("cur-{end}")}});
            if end < matching.len() {
                paging["next"] = json!(format!(
                    "https://graph.facebook.com/v21.0/{form}/leads?access_token={}&after=cur-{end}",
                    g.token
                ));
            }
            ok(json!({"data": page, "paging": paging}))
        }
        _ => error(400, 2500, "OAuthException", "Unknown path components"),
    }
}
