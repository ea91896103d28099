//! Per-field caps and spam evasion, on the real `echo5d` binary: an oversized name is stored
//! cut to its cap (and the cut recorded) while the raw body keeps every byte and counts in
//! the tenant's storage; look-alike, invisible and full-width spellings of a keyword, and
//! defanged links, are caught; a 500-keyword list against a ~60 KB message still works.

mod common;

use common::daemon::{Launch, RealDaemon};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Daemon {
    real: RealDaemon,
    token: String,
    client: reqwest::Client,
}

impl Daemon {
    async fn start(dir: &std::path::Path) -> Daemon {
        let real = RealDaemon::start(dir, Launch::new().args(&["--key-rate-limit", "0"])).await;
        let token = real.token();
        Daemon {
            real,
            token,
            client: reqwest::Client::new(),
        }
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut r = self
            .client
            .request(method, self.real.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// A tenant with these spam keywords and a key for it.
    async fn tenant(&self, name: &str, keywords: &[String]) -> String {
        let t = self
            .admin(
                reqwest::Method::POST,
                "/api/v1/tenants",
                Some(json!({"name": name, "settings": {"spam_keywords": keywords}})),
            )
            .await;
        let path = format!("/api/v1/tenants/{}/keys", t["slug"].as_str().unwrap());
        let k = self
            .admin(reqwest::Method::POST, &path, Some(json!({})))
            .await;
        k["secret"].as_str().unwrap().to_string()
    }

    /// Posts a body and returns the stored lead.
    async fn ingest(&self, key: &str, ct: &str, body: Vec<u8>) -> Value {
        let r = self
            .client
            .post(self.real.url("/api/v1/leads"))
            .header("x-api-key", key)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let receipt: Value = r.json().await.unwrap();
        let id = receipt["id"].as_str().unwrap();
        self.admin(reqwest::Method::GET, &format!("/api/v1/leads/{id}"), None)
            .await
    }

    async fn ingest_json(&self, key: &str, v: Value) -> Value {
        self.ingest(key, "application/json", serde_json::to_vec(&v).unwrap())
            .await
    }
}

#[tokio::test]
async fn an_oversized_name_is_stored_cut_and_the_raw_body_kept() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path()).await;
    let key = d.tenant("Open Arms", &[]).await;
    // 65,000 characters, a two-byte one the last kept, in a body just under 64 KiB.
    let name = format!("{}é{}", "a".repeat(199), "b".repeat(64_800));
    assert_eq!(name.chars().count(), 65_000);
    let body = serde_json::to_vec(&json!({
        "name": name,
        "email": format!("{}@example.org", "e".repeat(250)),
    }))
    .unwrap();
    let lead = d.ingest(&key, "application/json", body.clone()).await;
    let stored = lead["name"].as_str().unwrap();
    assert!(
        stored == format!("{}é", "a".repeat(199)),
        "name stored with {} characters",
        stored.chars().count()
    );
    assert_eq!(lead["email"].as_str().unwrap().chars().count(), 254);
    assert_eq!(
        lead["custom"]["truncated"],
        json!({"name": 65_000, "email": 262})
    );
    assert_eq!(lead["is_spam"], false);

    // The tenant's storage counts the body as received.
    let usage = d
        .admin(
            reqwest::Method::GET,
            "/api/v1/tenants/open-arms/usage",
            None,
        )
        .await;
    let bytes = usage["storage_bytes"].as_u64().unwrap();
    assert!(bytes >= body.len() as u64, "{bytes} < {}", body.len());

    // The raw body is the evidence: every byte as sent.
    let db = rusqlite::Connection::open_with_flags(
        dir.path().join("echo5.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let raw: Vec<u8> = db
        .query_row(
            "SELECT raw FROM leads WHERE id = ?1",
            [lead["id"].as_str().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(raw, body);
}

#[tokio::test]
async fn look_alike_keywords_and_defanged_links_are_spam() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path()).await;
    let key = d
        .tenant("Open Arms", &["viagra".into(), "free money".into()])
        .await;
    let spam: &[(&str, &str)] = &[
        ("cheap v\u{456}agra today", "keyword:viagra"),
        ("ｖｉａｇｒａ", "keyword:viagra"),
        ("vi\u{AD}ag\u{200B}ra!", "keyword:viagra"),
        ("\u{202E}VIAGRA\u{202C}", "keyword:viagra"),
        ("ＦＲＥＥ\u{3000}m\u{43E}n\u{435}y", "keyword:free money"),
        (
            "hxxp://a.test hxxps://b.test c[.]test www[.]d.test",
            "links:4",
        ),
    ];
    for (i, (message, reason)) in spam.iter().enumerate() {
        let lead = d
            .ingest_json(
                &key,
                json!({"name": format!("J{i}"), "email": format!("j{i}@x.test"), "message": message}),
            )
            .await;
        assert_eq!(lead["is_spam"], true, "{message:?}: {lead}");
        assert_eq!(lead["spam_reason"], *reason, "{message:?}");
    }
    // Whole words still, in any script; ordinary text stays clean.
    for (i, message) in [
        "viagras are not a thing",
        "Здравствуйте, нужна помощь",
        "see a.test",
    ]
    .iter()
    .enumerate()
    {
        let lead = d
            .ingest_json(
                &key,
                json!({"name": format!("K{i}"), "email": format!("k{i}@x.test"), "message": message}),
            )
            .await;
        assert_eq!(lead["is_spam"], false, "{message:?}: {lead}");
    }
}

#[tokio::test]
async fn the_longest_keyword_list_against_the_largest_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path()).await;
    let keywords: Vec<String> = (0..500).map(|i| format!("spamword{i}")).collect();
    let key = d.tenant("Open Arms", &keywords).await;
    let filler = "We need help with care for my mother, weekday mornings. ";
    let mut message = filler.repeat(60_000 / filler.len());
    let clean = d
        .ingest_json(
            &key,
            json!({"name": "A", "email": "a@x.test", "message": message}),
        )
        .await;
    assert_eq!(clean["is_spam"], false);
    // The last keyword of the list, once, at the very end: found, and named.
    message.push_str("spamword499");
    let lead = d
        .ingest_json(
            &key,
            json!({"name": "B", "email": "b@x.test", "message": message}),
        )
        .await;
    assert_eq!(lead["spam_reason"], "keyword:spamword499");
}

#[tokio::test]
async fn a_changed_keyword_list_applies_to_the_next_lead() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path()).await;
    let key = d.tenant("Open Arms", &["casino".into()]).await;
    let post = |i: usize| {
        d.ingest_json(
            &key,
            json!({"name": format!("L{i}"), "email": format!("l{i}@x.test"),
                   "message": "cheap v\u{456}agra and a casino"}),
        )
    };
    assert_eq!(post(0).await["spam_reason"], "keyword:casino");
    d.admin(
        reqwest::Method::PATCH,
        "/api/v1/tenants/open-arms/settings",
        Some(json!({"spam_keywords": ["viagra", "casino"]})),
    )
    .await;
    assert_eq!(post(1).await["spam_reason"], "keyword:viagra");
    d.admin(
        reqwest::Method::PATCH,
        "/api/v1/tenants/open-arms/settings",
        Some(json!({"spam_keywords": []})),
    )
    .await;
    assert_eq!(post(2).await["is_spam"], false);
}
