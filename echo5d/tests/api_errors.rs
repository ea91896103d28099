//! Malformed requests get a JSON error naming the problem; axum's plain-text rejections
//! never leak through. Also drives the router in-process, without a socket.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::{TestServer, assert_error};
use http_body_util::BodyExt;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

async fn raw(
    s: &TestServer,
    method: Method,
    path: &str,
    ct: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req = s
        .client
        .request(method, s.url(path))
        .bearer_auth(&s.token)
        .body(body);
    if let Some(ct) = ct {
        req = req.header("content-type", ct);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let text = resp.text().await.unwrap();
    assert_eq!(
        ctype.as_deref(),
        Some("application/json"),
        "{status} {text}"
    );
    (status, serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn unreadable_bodies_are_400_naming_the_problem() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let p = "/api/v1/tenants/open-arms";
    let json = Some("application/json");
    let cases: Vec<(&[u8], &str, Option<&str>)> = vec![
        (b"{\"name\": ", "invalid_json", None),
        (b"{\"name\": \"x\"} trailing", "invalid_json", None),
        (b"", "empty_body", None),
        (b"   ", "empty_body", None),
        (b"\xff\xfe{}", "invalid_json", None),
        (b"{\"nmae\": \"x\"}", "unknown_field", Some("nmae")),
        (
            b"{\"settings\": {\"sla_hour\": 3}}",
            "unknown_field",
            Some("settings.sla_hour"),
        ),
        (
            b"{\"settings\": {\"sla_hours\": \"four\"}}",
            "invalid_type",
            Some("settings.sla_hours"),
        ),
        (
            b"{\"settings\": {\"sla_hours\": -1}}",
            "invalid_type",
            Some("settings.sla_hours"),
        ),
        (
            b"{\"settings\": {\"sla_hours\": 99999999999}}",
            "invalid_type",
            Some("settings.sla_hours"),
        ),
        (b"{\"active\": \"yes\"}", "invalid_type", Some("active")),
        (b"[1, 2]", "invalid_type", None),
        (b"\"just a string\"", "invalid_type", None),
    ];
    for (body, code, field) in cases {
        let got = raw(&s, Method::PATCH, p, json, body.to_vec()).await;
        assert_error(&got, StatusCode::BAD_REQUEST, code, field);
    }
    let got = raw(&s, Method::POST, "/api/v1/tenants", json, b"{}".to_vec()).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "missing_field", Some("name"));
    let got = raw(&s, Method::PUT, p, json, br#"{"name":"x"}"#.to_vec()).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "missing_field", Some("slug"));
    let (_, t) = s.get(p).await;
    assert_eq!(t["name"], "Open Arms", "nothing was applied");
    s.stop().await;
}

#[tokio::test]
async fn content_type_and_size_limits() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let p = "/api/v1/tenants/open-arms";
    let got = raw(
        &s,
        Method::PATCH,
        p,
        Some("text/xml"),
        b"<name>x</name>".to_vec(),
    )
    .await;
    assert_error(
        &got,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );
    let got = raw(
        &s,
        Method::PATCH,
        p,
        Some("application/x-www-form-urlencoded"),
        b"name=x".to_vec(),
    )
    .await;
    assert_error(
        &got,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );
    // `curl -d '{...}'` labels JSON as a form; a body that is JSON is read as JSON.
    let got = raw(
        &s,
        Method::PATCH,
        p,
        Some("application/x-www-form-urlencoded"),
        br#"{"name":"Curl Co"}"#.to_vec(),
    )
    .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    assert_eq!(got.1["name"], "Curl Co");
    let got = raw(
        &s,
        Method::PATCH,
        p,
        None,
        br#"{"name":"No Type Co"}"#.to_vec(),
    )
    .await;
    assert_eq!(got.0, StatusCode::OK);
    let huge = format!(r#"{{"name":"{}"}}"#, "x".repeat(1024 * 1024 + 10));
    let got = raw(
        &s,
        Method::PATCH,
        p,
        Some("application/json"),
        huge.into_bytes(),
    )
    .await;
    assert_error(
        &got,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    );
    let (_, t) = s.get(p).await;
    assert_eq!(t["name"], "No Type Co");
    s.stop().await;
}

#[tokio::test]
async fn bad_queries_routes_and_methods() {
    let s = TestServer::start().await;
    assert_error(
        &s.get("/api/v1/tenants?limit=0").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("limit"),
    );
    assert_error(
        &s.get("/api/v1/tenants?limit=201").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("limit"),
    );
    assert_error(
        &s.get("/api/v1/tenants?limit=99999999999999").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        None,
    );
    assert_error(
        &s.get("/api/v1/tenants?limit=abc").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        None,
    );
    assert_error(
        &s.get("/api/v1/tenants?limt=5").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        None,
    );
    for cursor in ["garbage", "%00%00", "MTIzOg", &"A".repeat(500)] {
        assert_error(
            &s.get(&format!("/api/v1/tenants?cursor={cursor}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_cursor",
            Some("cursor"),
        );
    }
    assert_error(
        &s.get("/api/v1/audit?cursor=garbage").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_cursor",
        Some("cursor"),
    );
    assert_error(
        &s.get("/api/v1/nothing-here").await,
        StatusCode::NOT_FOUND,
        "route_not_found",
        None,
    );
    assert_error(
        &s.get("/").await,
        StatusCode::NOT_FOUND,
        "route_not_found",
        None,
    );
    let resp = s
        .client
        .delete(s.url("/api/v1/tenants"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(resp.headers()["allow"].to_str().unwrap().contains("POST"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    // Tenant names that are not slugs are simply unknown tenants.
    assert_error(
        &s.get("/api/v1/tenants/%27%20OR%201%3D1--").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    // After all of that the daemon is healthy.
    assert_eq!(
        s.client
            .get(s.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    s.stop().await;
}

#[tokio::test]
async fn router_in_process_without_a_socket() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms"}"#).await;
    let app = echo5d::build_router(s.state.clone());
    let resp = app
        .clone()
        .oneshot(
            Request::get("/api/v1/tenants/open-arms")
                .header("authorization", format!("Bearer {}", s.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let t: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(t["slug"], "open-arms");
    let resp = app
        .oneshot(Request::get("/api/v1/tenants").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn openapi_covers_every_route() {
    let doc = serde_json::to_value(echo5d::openapi()).unwrap();
    let expected: &[(&str, &[&str])] = &[
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
        ("/api/v1/tenants", &["get", "post"]),
        (
            "/api/v1/tenants/{tenant}",
            &["get", "put", "patch", "delete"],
        ),
        (
            "/api/v1/tenants/{tenant}/settings",
            &["get", "put", "patch"],
        ),
        ("/api/v1/tenants/{tenant}/stages", &["get", "post", "put"]),
        (
            "/api/v1/tenants/{tenant}/stages/{stage_id}",
            &["patch", "delete"],
        ),
        ("/api/v1/tenants/{tenant}/keys", &["get", "post"]),
        ("/api/v1/tenants/{tenant}/keys/{key_id}", &["delete"]),
        ("/api/v1/tenants/{tenant}/keys/{key_id}/rotate", &["post"]),
        ("/api/v1/tenants/{tenant}/keys/{key_id}/reveal", &["post"]),
        ("/api/v1/key", &["get"]),
        ("/api/v1/leads", &["get", "post"]),
        ("/api/v1/ingest/{key}", &["get", "post"]),
        ("/api/v1/audit", &["get"]),
        ("/api/v1/tenants/{tenant}/leads", &["get", "post"]),
        ("/api/v1/tenants/{tenant}/leads.csv", &["get"]),
        ("/api/v1/leads/{lead_id}", &["get", "patch"]),
        ("/api/v1/leads/{lead_id}/notes", &["post"]),
        ("/api/v1/sla/breaches", &["get"]),
        ("/api/v1/tenants/{tenant}/sla/breaches", &["get"]),
        ("/api/v1/dashboard", &["get"]),
        ("/api/v1/tenants/{tenant}/analytics", &["get"]),
        ("/api/v1/analytics", &["get"]),
        ("/api/v1/events", &["get"]),
        ("/api/v1/platform/settings", &["get", "put", "patch"]),
        ("/api/v1/usage", &["get"]),
        ("/api/v1/tenants/{tenant}/usage", &["get"]),
        ("/api/v1/system/logs", &["get"]),
        ("/api/v1/system/logs/stream", &["get"]),
        ("/api/v1/auth/login", &["post"]),
        ("/api/v1/auth/logout", &["post"]),
        ("/api/v1/auth/accept-invite", &["post"]),
        ("/api/v1/auth/password-reset", &["post"]),
        ("/api/v1/auth/password-reset/confirm", &["post"]),
        ("/api/v1/me", &["get", "patch"]),
        ("/api/v1/me/tokens", &["get", "post"]),
        ("/api/v1/me/tokens/{token_id}", &["delete"]),
        ("/api/v1/platform/users", &["get", "post"]),
        ("/api/v1/platform/users/{user_id}", &["patch", "delete"]),
        ("/api/v1/platform/plans", &["get", "post"]),
        ("/api/v1/platform/plans/{plan_id}", &["patch", "delete"]),
        ("/api/v1/platform/billing/sync", &["post"]),
        ("/api/v1/tenants/{tenant}/users", &["get", "post"]),
        (
            "/api/v1/tenants/{tenant}/users/{user_id}",
            &["get", "patch", "delete"],
        ),
        ("/api/v1/tenants/{tenant}/integrations", &["get"]),
        ("/api/v1/tenants/{tenant}/integrations/meta/sync", &["post"]),
        (
            "/api/v1/tenants/{tenant}/notifications",
            &["get", "put", "patch"],
        ),
        ("/api/v1/tenants/{tenant}/notifications/test", &["post"]),
        ("/api/v1/tenants/{tenant}/notifications/preview", &["post"]),
        ("/api/v1/hooks/google/{tenant}", &["post"]),
        ("/api/v1/hooks/meta", &["get", "post"]),
        ("/api/v1/tenants/{tenant}/webhooks", &["get", "post"]),
        (
            "/api/v1/tenants/{tenant}/webhooks/{webhook_id}",
            &["get", "patch", "delete"],
        ),
        (
            "/api/v1/tenants/{tenant}/webhooks/{webhook_id}/rotate-secret",
            &["post"],
        ),
        (
            "/api/v1/tenants/{tenant}/webhooks/{webhook_id}/test",
            &["post"],
        ),
        (
            "/api/v1/tenants/{tenant}/webhooks/{webhook_id}/deliveries",
            &["get"],
        ),
        (
            "/api/v1/tenants/{tenant}/webhooks/{webhook_id}/deliveries/{message_id}/retry",
            &["post"],
        ),
        (
            "/api/v1/tenants/{tenant}/webhooks/{webhook_id}/recover",
            &["post"],
        ),
    ];
    // Routes that take no credential (besides health): nothing to refuse with a 401.
    let no_credential = [
        "/api/v1/auth/accept-invite",
        "/api/v1/auth/password-reset",
        "/api/v1/auth/password-reset/confirm",
        // Meta's verification handshake: a wrong token is 403 (the POST documents its 401).
        "/api/v1/hooks/meta",
    ];
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in expected {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} missing from OpenAPI"));
        for m in *methods {
            let op = item.get(*m).unwrap_or_else(|| panic!("{m} {path} missing"));
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{m} {path} documents no success"
            );
            if !path.ends_with("z") && !no_credential.contains(path) {
                assert!(responses.contains_key("401"), "{m} {path} documents no 401");
            }
        }
    }
    assert_eq!(
        paths.len(),
        expected.len(),
        "a route is documented that this test does not know: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["admin_token"]["scheme"],
        "bearer"
    );
    // Every path answers something other than route_not_found: documented routes exist.
    let s = TestServer::start().await;
    for (path, _) in expected {
        let concrete = path
            .replace("{tenant}", "nobody")
            .replace("{stage_id}", "x")
            .replace("{key_id}", "x")
            .replace("{key}", "x")
            .replace("{lead_id}", "x")
            .replace("{user_id}", "x")
            .replace("{token_id}", "x");
        if concrete == "/api/v1/events" || concrete == "/api/v1/system/logs/stream" {
            // A stream: the status and content type are the answer.
            let resp = s
                .client
                .get(s.url(&concrete))
                .bearer_auth(&s.token)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            assert!(
                resp.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/event-stream")
            );
            continue;
        }
        let (_, body) = s.get(&concrete).await;
        assert_ne!(body["error"]["code"], "route_not_found", "{path}");
    }
    s.stop().await;
}
