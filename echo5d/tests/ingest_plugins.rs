//! One real-shaped body per WordPress plugin and format of `wordpress-payloads.md`, posted
//! over loopback; asserts the stored, normalised lead and the raw body kept byte for byte.

mod common;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
const JSON_CT: Option<&str> = Some("application/json; charset=UTF-8");

async fn accept(
    s: &TestServer,
    key: &str,
    ct: Option<&str>,
    body: &str,
) -> echo5_core::leads::Lead {
    let (status, receipt) = s.submit(key, ct, body.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["status"], "created", "{receipt}");
    let lead = s.lead(&receipt).await;
    let (raw, raw_ct) = s.state.store.lead_raw(lead.id).await.unwrap().unwrap();
    assert_eq!(raw, body.as_bytes(), "raw keeps the exact bytes");
    assert_eq!(raw_ct, ct.unwrap_or(""), "raw keeps the content type");
    lead
}

#[tokio::test]
async fn contact_form_7_to_webhook_json() {
    let s = TestServer::start().await;
    let (t, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let l = accept(
        &s,
        &key,
        JSON_CT,
        r#"{"your-name":"Jane Doe","your-email":"Jane@Example.com","your-tel":"(555) 010-2000","your-message":"Hi","checkbox-1":["A","B"]}"#,
    )
    .await;
    assert_eq!(l.tenant_id.to_string(), t["id"].as_str().unwrap());
    assert_eq!(l.name.as_deref(), Some("Jane Doe"));
    assert_eq!(l.email.as_deref(), Some("jane@example.com"));
    assert_eq!(l.phone.as_deref(), Some("+15550102000"));
    assert_eq!(l.message.as_deref(), Some("Hi"));
    assert_eq!(l.custom["checkbox-1"], json!(["A", "B"]));
    assert!(!l.is_spam);
    assert_eq!(l.duplicate_of, None);
    let stages = s.state.store.list_stages(l.tenant_id.into()).await.unwrap();
    assert_eq!(l.stage_id, stages[0].id, "new leads enter the intake stage");
    s.stop().await;
}

#[tokio::test]
async fn contact_form_to_any_api_params_and_json_without_content_type() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let l = accept(
        &s,
        &key,
        FORM,
        "your-name=Jane+Doe&your-email=jane%40example.com&your-tel=555-010-2000",
    )
    .await;
    assert_eq!(l.name.as_deref(), Some("Jane Doe"));
    assert_eq!(l.email.as_deref(), Some("jane@example.com"));
    assert_eq!(l.phone.as_deref(), Some("+15550102000"));
    // JSON mode with the headers replaced: no content type at all.
    let l = accept(
        &s,
        &key,
        None,
        r#"{"your-name":"Zoë Müller","your-email":"zoe@example.com"}"#,
    )
    .await;
    assert_eq!(l.name.as_deref(), Some("Zoë Müller"));
    // ...or labelled text/plain.
    let l = accept(
        &s,
        &key,
        Some("text/plain"),
        r#"{"name":"Tom","phone":"+1 (555) 010-3000"}"#,
    )
    .await;
    assert_eq!(l.phone.as_deref(), Some("+15550103000"));
    // ...or labelled form-urlencoded by WordPress's cURL transport.
    let l = accept(&s, &key, FORM, r#"{"email":"curl@example.com"}"#).await;
    assert_eq!(l.email.as_deref(), Some("curl@example.com"));
    s.stop().await;
}

#[tokio::test]
async fn wpforms_form_and_json() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let l = accept(
        &s,
        &key,
        FORM,
        "Name=Jane+Doe&Email=jane%40example.com&Phone=%28555%29+010-2000&Services=Bathing%7C%7CMeals&Comment=Please+call",
    )
    .await;
    assert_eq!(l.name.as_deref(), Some("Jane Doe"));
    assert_eq!(l.email.as_deref(), Some("jane@example.com"));
    assert_eq!(l.phone.as_deref(), Some("+15550102000"));
    assert_eq!(l.message.as_deref(), Some("Please call"));
    assert_eq!(l.custom["Services"], "Bathing||Meals");
    let l = accept(
        &s,
        &key,
        Some("application/json"),
        r#"{"name":"Ann Lee","email":"ann@example.com","start_date":{"value":"05/01/2026","unix":1777593600}}"#,
    )
    .await;
    assert_eq!(l.name.as_deref(), Some("Ann Lee"));
    assert_eq!(l.custom["start_date"]["unix"], 1777593600);
    s.stop().await;
}

#[tokio::test]
async fn gravity_forms_numeric_ids_by_value_shape() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let body = r#"{"id":"41","form_id":"2","date_created":"2026-05-01 10:22:03","source_url":"https://example.org/contact/","ip":"203.0.113.9","user_agent":"Mozilla/5.0","1.3":"Jane","1.6":"Doe","2":"jane@example.com","3":"(555) 010-2000","4":"Please call after 5pm"}"#;
    let l = accept(&s, &key, Some("application/json"), body).await;
    assert_eq!(l.first_name.as_deref(), Some("Jane"));
    assert_eq!(l.last_name.as_deref(), Some("Doe"));
    assert_eq!(l.name.as_deref(), Some("Jane Doe"));
    assert_eq!(l.email.as_deref(), Some("jane@example.com"));
    assert_eq!(l.phone.as_deref(), Some("+15550102000"));
    assert_eq!(l.message.as_deref(), Some("Please call after 5pm"));
    assert_eq!(l.page_url.as_deref(), Some("https://example.org/contact/"));
    assert_eq!(l.ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(l.user_agent.as_deref(), Some("Mozilla/5.0"));
    s.stop().await;
}

#[tokio::test]
async fn elementor_simple_and_advanced_with_key_in_path() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let post = |body: &'static str| {
        let url = s.url(&format!("/api/v1/ingest/{key}"));
        let client = s.client.clone();
        async move {
            let resp = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "Elementor needs exactly 200");
            resp.json::<Value>().await.unwrap()
        }
    };
    let r =
        post("Name=Jane+Doe&Email=jane%40example.com&Message=Hi&form_id=4f2a1b7&form_name=Contact")
            .await;
    let l = s.lead(&r).await;
    assert_eq!(l.name.as_deref(), Some("Jane Doe"));
    assert_eq!(l.email.as_deref(), Some("jane@example.com"));
    assert_eq!(l.message.as_deref(), Some("Hi"));
    assert_eq!(l.form_name.as_deref(), Some("Contact"));
    let r = post(
        "form%5Bid%5D=4f2a1b7&form%5Bname%5D=Tour+Request&fields%5Bname%5D%5Btitle%5D=Your+Name&fields%5Bname%5D%5Bvalue%5D=Bob+Stone&fields%5Bname%5D%5Btype%5D=text\
         &fields%5Bemail%5D%5Btitle%5D=Email&fields%5Bemail%5D%5Bvalue%5D=bob%40example.com&fields%5Bemail%5D%5Btype%5D=email\
         &fields%5Bfield_3%5D%5Btitle%5D=Phone&fields%5Bfield_3%5D%5Bvalue%5D=555.010.4000&fields%5Bfield_3%5D%5Btype%5D=tel\
         &meta%5Bpage_url%5D%5Btitle%5D=Page+URL&meta%5Bpage_url%5D%5Bvalue%5D=https%3A%2F%2Fexample.org%2F",
    )
    .await;
    let l = s.lead(&r).await;
    assert_eq!(l.name.as_deref(), Some("Bob Stone"));
    assert_eq!(l.email.as_deref(), Some("bob@example.com"));
    assert_eq!(l.phone.as_deref(), Some("+15550104000"));
    assert_eq!(l.form_name.as_deref(), Some("Tour Request"));
    assert_eq!(l.page_url.as_deref(), Some("https://example.org/"));
    s.stop().await;
}

#[tokio::test]
async fn fluent_forms_json_and_form() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let l = accept(
        &s,
        &key,
        Some("application/json"),
        r#"{"names":{"first_name":"Jane","last_name":"Doe"},"email":"jane@example.com","phone":"5550102000","message":"Hello","__submission":{"id":7,"form_id":3,"serial_number":7,"source_url":"https://example.org/care/","ip":"198.51.100.4","browser":"Chrome","created_at":"2026-05-01 10:00:00"}}"#,
    )
    .await;
    assert_eq!(l.first_name.as_deref(), Some("Jane"));
    assert_eq!(l.last_name.as_deref(), Some("Doe"));
    assert_eq!(l.name.as_deref(), Some("Jane Doe"));
    assert_eq!(l.message.as_deref(), Some("Hello"));
    assert_eq!(l.page_url.as_deref(), Some("https://example.org/care/"));
    assert_eq!(l.ip.as_deref(), Some("198.51.100.4"));
    let l = accept(
        &s,
        &key,
        FORM,
        "names%5Bfirst_name%5D=Ana&names%5Blast_name%5D=Ruiz&email=ana%40example.com&checkbox%5B0%5D=A&checkbox%5B1%5D=B",
    )
    .await;
    assert_eq!(l.name.as_deref(), Some("Ana Ruiz"));
    assert_eq!(l.custom["checkbox"], json!(["A", "B"]));
    s.stop().await;
}

#[tokio::test]
async fn ninja_forms_get_json_field_and_key_in_query() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    // Default: GET with the fields in the query string, key in the path.
    let resp = s
        .client
        .get(s.url(&format!("/api/v1/ingest/{key}?name=Jane+Doe&email=jane%40example.com&utm_source=google&gclid=abc123")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let r: Value = resp.json().await.unwrap();
    let l = s.lead(&r).await;
    assert_eq!(l.name.as_deref(), Some("Jane Doe"));
    assert_eq!(l.utm_source.as_deref(), Some("google"));
    assert_eq!(l.gclid.as_deref(), Some("abc123"));
    // GET with the key as ?api_key=: the key never reaches the stored lead.
    let resp = s
        .client
        .get(s.url(&format!(
            "/api/v1/ingest/{key}?api_key={key}&name=Key+Guest&phone=5550109999"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let r: Value = resp.json().await.unwrap();
    let l = s.lead(&r).await;
    let (raw, _) = s.state.store.lead_raw(l.id).await.unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains(&key));
    assert!(!l.custom.to_string().contains(&key));
    // A JSON string inside a single `json` form field.
    let inner = r#"{"name":"Ned Flat","email":"ned@example.com"}"#;
    let body = format!("json={}", urlencode(inner));
    let l = accept(&s, &key, FORM, &body).await;
    assert_eq!(l.name.as_deref(), Some("Ned Flat"));
    assert_eq!(l.email.as_deref(), Some("ned@example.com"));
    // POST with the key only in the query string.
    let resp = s
        .client
        .post(s.url(&format!("/api/v1/leads?api_key={key}")))
        .header("content-type", "application/json")
        .body(r#"{"name":"Query Key"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn multipart_keeps_fields_and_file_names_only() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let b = "XyZ";
    let body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"your-name\"\r\n\r\nJane Doe\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"your-email\"\r\n\r\njane@example.com\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"resume\"; filename=\"cv.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 binary\r\n\
         --{b}--\r\n"
    );
    let l = accept(
        &s,
        &key,
        Some(&format!("multipart/form-data; boundary={b}")),
        &body,
    )
    .await;
    assert_eq!(l.name.as_deref(), Some("Jane Doe"));
    assert_eq!(l.email.as_deref(), Some("jane@example.com"));
    assert_eq!(l.custom["files"], json!(["cv.pdf"]));
    assert!(!l.custom.to_string().contains("PDF-1.4"));
    s.stop().await;
}

#[tokio::test]
async fn latin1_form_body() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let l = accept(
        &s,
        &key,
        Some("application/x-www-form-urlencoded; charset=ISO-8859-1"),
        "name=Ren%E9e+Caf%E9&email=renee%40example.com",
    )
    .await;
    assert_eq!(l.name.as_deref(), Some("Renée Café"));
    s.stop().await;
}

#[tokio::test]
async fn key_in_bearer_and_bare_authorization() {
    let s = TestServer::start().await;
    let (_, key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    for auth in [format!("Bearer {key}"), key.clone()] {
        let resp = s
            .client
            .post(s.url("/api/v1/leads"))
            .header("authorization", auth)
            .header("content-type", "application/json")
            .body(r#"{"name":"Auth Header","email":"auth@example.com"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    s.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
