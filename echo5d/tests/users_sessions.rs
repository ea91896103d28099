//! Users, sessions, personal tokens and links against a real daemon on loopback: logins
//! that answer alike, throttling, idle and absolute expiry on the manual clock, credentials
//! (and a live event stream) ending when a user is deactivated or changes their password,
//! single-use links through a real SMTP server, scopes and roles, and no secret in any
//! answer, log line or `Debug` output.

mod common;

use chrono::TimeDelta;
use common::TestServer;
use common::smtp::SmtpSink;
use common::sse::SseStream;
use echo5_core::clock::Clock;
use echo5_core::secret::Secret;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PASSWORD: &str = "violet-Harbor-93-quietly-Lantern";
const NEW_PASSWORD: &str = "amber Kestrel 71 over the Fjord";

/// A request with `token` (if any) as the bearer; status, headers and the raw body.
async fn raw(
    s: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
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
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

async fn call(
    s: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (st, _, text) = raw(s, method, path, Some(token), body).await;
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} {st}: {e}: {text}"))
    };
    (st, v)
}

fn link_token(url: &str) -> String {
    url.split("#token=")
        .nth(1)
        .expect("token in link")
        .to_string()
}

/// A tenant user with a password set through their invitation; returns the user.
async fn user(s: &TestServer, tenant: &str, email: &str, role: &str) -> Value {
    let (st, created) = s
        .post(
            &format!("/api/v1/tenants/{tenant}/users"),
            &json!({"email": email, "name": "Jo Tester", "role": role}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let token = link_token(created["invite_url"].as_str().unwrap());
    let (st, _, body) = raw(
        s,
        Method::POST,
        "/api/v1/auth/accept-invite",
        None,
        Some(json!({"token": token, "password": PASSWORD})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    created
}

async fn login_raw(
    s: &TestServer,
    email: &str,
    password: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    raw(
        s,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

async fn login(s: &TestServer, email: &str, password: &str) -> String {
    let (st, _, body) = login_raw(s, email, password).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["token"].as_str().unwrap().to_string()
}

async fn two_tenants(s: &TestServer) {
    s.tenant(r#"{"name": "Open Arms", "slug": "open-arms"}"#)
        .await;
    s.tenant(r#"{"name": "Caring Hearts", "slug": "caring-hearts"}"#)
        .await;
}

#[tokio::test]
async fn login_answers_a_wrong_password_and_an_unknown_address_alike() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    user(&s, "open-arms", "jo@openarms.test", "admin").await;

    let (st, _, body) = login_raw(&s, "Jo@OpenArms.test", PASSWORD).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["token"].as_str().unwrap().starts_with("e5s_"));
    assert_eq!(v["user"]["email"], "jo@openarms.test");
    assert_eq!(v["user"]["role"], "admin");
    let expires: chrono::DateTime<chrono::Utc> = v["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires, s.clock.now() + TimeDelta::minutes(30));

    let wrong = login_raw(&s, "jo@openarms.test", "not-the-password-at-all").await;
    let unknown = login_raw(&s, "nobody@openarms.test", "not-the-password-at-all").await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.0, unknown.0);
    assert_eq!(wrong.2, unknown.2, "bodies differ");
    assert!(wrong.2.contains("invalid_credentials"), "{}", wrong.2);
    let header_names = |h: &reqwest::header::HeaderMap| {
        let mut n: Vec<String> = h
            .keys()
            .filter(|k| *k != "date")
            .map(|k| format!("{k}: {:?}", h[k]))
            .collect();
        n.sort();
        n
    };
    assert_eq!(header_names(&wrong.1), header_names(&unknown.1));
}

#[tokio::test]
async fn logins_slow_down_from_the_fifth_failure_and_lock_at_the_tenth() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    user(&s, "open-arms", "lee@openarms.test", "agent").await;

    for _ in 0..4 {
        let (st, _, _) = login_raw(&s, "lee@openarms.test", "wrong-wrong-wrong").await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    // The 5th failure is answered after a second.
    let started = Instant::now();
    let (st, _, _) = login_raw(&s, "lee@openarms.test", "wrong-wrong-wrong").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // Four more failures as the store records them (each would be answered 2–8 s late).
    let policy = s.state.login_throttle;
    for _ in 0..4 {
        s.state
            .store
            .record_login_failure(
                echo5_data::sessions::ThrottleKey::Email("lee@openarms.test".into()),
                policy,
            )
            .await
            .unwrap();
    }
    // The 10th failure locks the address: 429 with Retry-After until the oldest leaves the
    // 15-minute window (the manual clock has not moved).
    let (st, h, body) = login_raw(&s, "lee@openarms.test", "wrong-wrong-wrong").await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.contains("too_many_login_attempts"), "{body}");
    assert_eq!(h["retry-after"], "900");
    // Locked means the right password too.
    let (st, _, _) = login_raw(&s, "lee@openarms.test", PASSWORD).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);

    s.clock.advance(TimeDelta::minutes(15));
    login(&s, "lee@openarms.test", PASSWORD).await;
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_the_absolute_limit() {
    let s = TestServer::start_with(|a| a.sessions.session_max = Duration::from_secs(3600)).await;
    two_tenants(&s).await;
    user(&s, "open-arms", "ida@openarms.test", "agent").await;

    // Idle: used every 29 minutes it lives; 30 minutes unused ends it.
    let idle = login(&s, "ida@openarms.test", PASSWORD).await;
    let me = |t: String| {
        let s = &s;
        async move { call(s, Method::GET, "/api/v1/me", &t, None).await }
    };
    s.clock.advance(TimeDelta::minutes(29));
    assert_eq!(me(idle.clone()).await.0, StatusCode::OK);
    s.clock.advance(TimeDelta::minutes(29));
    assert_eq!(me(idle.clone()).await.0, StatusCode::OK);
    s.clock.advance(TimeDelta::minutes(30));
    let (st, body) = me(idle.clone()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "session_expired");

    // Absolute (one hour here): busy or not, it ends at its limit.
    let busy = login(&s, "ida@openarms.test", PASSWORD).await;
    for _ in 0..2 {
        s.clock.advance(TimeDelta::minutes(20));
        assert_eq!(me(busy.clone()).await.0, StatusCode::OK);
    }
    s.clock.advance(TimeDelta::minutes(19));
    assert_eq!(me(busy.clone()).await.0, StatusCode::OK);
    s.clock.advance(TimeDelta::minutes(1));
    let (st, body) = me(busy).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "session_expired");
}

#[tokio::test]
async fn deactivation_ends_sessions_tokens_and_a_live_event_stream() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    let u = user(&s, "open-arms", "dee@openarms.test", "admin").await;
    let session = login(&s, "dee@openarms.test", PASSWORD).await;
    let (st, tok) = call(
        &s,
        Method::POST,
        "/api/v1/me/tokens",
        &session,
        Some(json!({"label": "script", "scope": "write"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{tok}");
    let personal = tok["secret"].as_str().unwrap().to_string();
    assert!(personal.starts_with("e5p_"));
    assert_eq!(
        call(
            &s,
            Method::GET,
            "/api/v1/tenants/open-arms",
            &personal,
            None
        )
        .await
        .0,
        StatusCode::OK
    );

    let mut stream = SseStream::open(
        s.client.get(s.url("/api/v1/events")).bearer_auth(&session),
        None,
    )
    .await;
    // The stream is live and carries the user's own tenant's changes, never another's.
    for tenant in ["caring-hearts", "open-arms"] {
        let (st, _) = s
            .patch(
                &format!("/api/v1/tenants/{tenant}/settings"),
                r#"{"sla_hours": 4}"#,
            )
            .await;
        assert_eq!(st, StatusCode::OK);
    }
    let (_, event) = stream.next("tenant.updated").await.unwrap();
    assert_eq!(event["tenant"]["slug"], "open-arms", "{event}");

    let id = u["id"].as_str().unwrap();
    let (st, body) = s
        .patch(
            &format!("/api/v1/tenants/open-arms/users/{id}"),
            r#"{"active": false}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["active"], false);

    // The stream ends by itself (`next` fails after 10 s if it does not).
    assert!(stream.next("no-such-kind").await.is_none());
    for t in [&session, &personal] {
        let (st, body) = call(&s, Method::GET, "/api/v1/tenants/open-arms", t, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
    }
    let (st, _, _) = login_raw(&s, "dee@openarms.test", PASSWORD).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_ends_the_users_other_sessions() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    user(&s, "open-arms", "pat@openarms.test", "manager").await;
    let here = login(&s, "pat@openarms.test", PASSWORD).await;
    let there = login(&s, "pat@openarms.test", PASSWORD).await;

    let (st, body) = call(
        &s,
        Method::PATCH,
        "/api/v1/me",
        &here,
        Some(json!({"password": NEW_PASSWORD, "current_password": "a wrong guess here"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "wrong_password");
    assert_eq!(
        call(&s, Method::GET, "/api/v1/me", &there, None).await.0,
        StatusCode::OK
    );

    let (st, body) = call(
        &s,
        Method::PATCH,
        "/api/v1/me",
        &here,
        Some(json!({"password": NEW_PASSWORD, "current_password": PASSWORD, "name": "Pat Q"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Pat Q");
    assert_eq!(
        call(&s, Method::GET, "/api/v1/me", &here, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&s, Method::GET, "/api/v1/me", &there, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    login(&s, "pat@openarms.test", NEW_PASSWORD).await;
    let (st, _, _) = login_raw(&s, "pat@openarms.test", PASSWORD).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

/// The mails the sink holds for `to`, after waiting (bounded) for `n` of them.
async fn mails_to(sink: &SmtpSink, to: &str, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got: Vec<String> = sink
            .mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.contains(to)))
            .map(|m| m.decoded())
            .collect();
        if got.len() >= n {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no mail #{n} to {to}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn token_in_mail(mail: &str, prefix: &str) -> String {
    let at = mail
        .find(&format!("#token={prefix}"))
        .expect("link in mail")
        + 7;
    mail[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

#[tokio::test]
async fn invitation_and_reset_links_work_once_and_expire() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let s = TestServer::start_with(|a| a.smtp_url = Some(Secret::new(url))).await;
    two_tenants(&s).await;
    let post = |path: &'static str, body: Value| {
        let s = &s;
        async move { raw(s, Method::POST, path, None, Some(body)).await }
    };

    // The invitation arrives by mail with the same link the create answer carried.
    let (st, created) = s
        .post(
            "/api/v1/tenants/open-arms/users",
            r#"{"email": "ivy@openarms.test", "name": "Ivy"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    assert_eq!(created["role"], "agent");
    let answer_token = link_token(created["invite_url"].as_str().unwrap());
    let mail = mails_to(&sink, "ivy@openarms.test", 1).await.remove(0);
    assert_eq!(token_in_mail(&mail, "e5i_"), answer_token);
    let (st, _, body) = post(
        "/api/v1/auth/accept-invite",
        json!({"token": answer_token, "password": PASSWORD}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, _, again) = post(
        "/api/v1/auth/accept-invite",
        json!({"token": answer_token, "password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.contains("invalid_link"), "{again}");
    login(&s, "ivy@openarms.test", PASSWORD).await;

    // An invitation is good for 72 hours, not a moment longer.
    let (_, late) = s
        .post(
            "/api/v1/tenants/open-arms/users",
            r#"{"email": "late@openarms.test", "name": "Late"}"#,
        )
        .await;
    s.clock.advance(TimeDelta::hours(72));
    let (st, _, expired) = post(
        "/api/v1/auth/accept-invite",
        json!({"token": link_token(late["invite_url"].as_str().unwrap()), "password": PASSWORD}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(expired, again, "an expired link answers as a used one");

    // Reset: 202 whether or not the address has an account; one mail, to the account.
    let (st, _, _) = post(
        "/api/v1/auth/password-reset",
        json!({"email": "IVY@openarms.test"}),
    )
    .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let (st, _, _) = post(
        "/api/v1/auth/password-reset",
        json!({"email": "ghost@openarms.test"}),
    )
    .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let mails = mails_to(&sink, "ivy@openarms.test", 2).await;
    let reset = token_in_mail(&mails[1], "e5r_");
    let session = login(&s, "ivy@openarms.test", PASSWORD).await;
    let (st, _, body) = post(
        "/api/v1/auth/password-reset/confirm",
        json!({"token": reset, "password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    // The reset ended the sessions; the link works once.
    assert_eq!(
        call(&s, Method::GET, "/api/v1/me", &session, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (st, _, _) = post(
        "/api/v1/auth/password-reset/confirm",
        json!({"token": reset, "password": PASSWORD}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    login(&s, "ivy@openarms.test", NEW_PASSWORD).await;

    // A reset link is good for an hour.
    post(
        "/api/v1/auth/password-reset",
        json!({"email": "ivy@openarms.test"}),
    )
    .await;
    let mails = mails_to(&sink, "ivy@openarms.test", 3).await;
    let reset = token_in_mail(&mails[2], "e5r_");
    s.clock.advance(TimeDelta::hours(1));
    let (st, _, _) = post(
        "/api/v1/auth/password-reset/confirm",
        json!({"token": reset, "password": PASSWORD}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        sink.mails()
            .iter()
            .all(|m| !m.to.iter().any(|t| t.contains("ghost")))
    );
}

/// Reset mails to `to` (not the invitation) once at least `n` have arrived.
async fn reset_mails_to(sink: &SmtpSink, to: &str, n: usize) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = sink
            .mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.contains(to)) && m.decoded().contains("#token=e5r_"))
            .count();
        if got >= n {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reset mail #{n} to {to}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn reset_requests_are_capped_per_address_and_per_client() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let s = TestServer::start_with(|a| a.smtp_url = Some(Secret::new(url))).await;
    two_tenants(&s).await;
    user(&s, "open-arms", "rae@openarms.test", "agent").await;
    let ask = |email: &'static str| {
        let s = &s;
        async move {
            raw(
                s,
                Method::POST,
                "/api/v1/auth/password-reset",
                None,
                Some(json!({ "email": email })),
            )
            .await
        }
    };

    // Five requests for one address: all answered 202, three links mailed. The cap is
    // decided before each answer, so nothing from the 4th and 5th can arrive later.
    for _ in 0..5 {
        assert_eq!(ask("Rae@openarms.test").await.0, StatusCode::ACCEPTED);
    }
    assert_eq!(reset_mails_to(&sink, "rae@openarms.test", 3).await, 3);
    // 15 minutes on, the address gets a link again: the 4th mail is the one asked for now.
    s.clock.advance(TimeDelta::minutes(15));
    assert_eq!(ask("rae@openarms.test").await.0, StatusCode::ACCEPTED);
    assert_eq!(reset_mails_to(&sink, "rae@openarms.test", 4).await, 4);

    // The client's first five requests have left the window, the 6th is in it; 9 more are
    // answered, the 11th is 429 with a body naming the problem and a Retry-After, whatever
    // the address.
    for _ in 0..9 {
        assert_eq!(ask("nobody@openarms.test").await.0, StatusCode::ACCEPTED);
    }
    let (st, headers, body) = ask("someone-else@openarms.test").await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.contains("too_many_reset_requests"), "{body}");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    s.clock.advance(TimeDelta::minutes(15));
    assert_eq!(ask("rae@openarms.test").await.0, StatusCode::ACCEPTED);
    assert_eq!(reset_mails_to(&sink, "rae@openarms.test", 5).await, 5);
    assert_eq!(reset_mails_to(&sink, "rae@openarms.test", 5).await, 5);
}

#[tokio::test]
async fn a_login_redoes_a_hash_made_with_older_parameters_and_keeps_sessions() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};
    use echo5_core::passwords::{self, PasswordHash};
    let s = TestServer::start().await;
    two_tenants(&s).await;
    let created = user(&s, "open-arms", "old@openarms.test", "agent").await;
    let id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let weak = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(8 * 1024, 1, 1, None).unwrap(),
    );
    let salt = SaltString::encode_b64(&[9u8; 16]).unwrap();
    let old = PasswordHash::from_phc(
        weak.hash_password(PASSWORD.as_bytes(), &salt)
            .unwrap()
            .to_string(),
    )
    .unwrap();
    s.state
        .store
        .set_password("system".into(), id, old.clone(), None)
        .await
        .unwrap();
    let stored = || async {
        s.state
            .store
            .find_user_by_email("old@openarms.test".into())
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .unwrap()
    };
    assert!(passwords::needs_rehash(&stored().await));

    let first = login(&s, "old@openarms.test", PASSWORD).await;
    let fresh = stored().await;
    assert!(fresh != old, "the old hash is still stored");
    assert!(!passwords::needs_rehash(&fresh));
    // The same password, and the session the login made still works.
    let second = login(&s, "old@openarms.test", PASSWORD).await;
    assert_eq!(
        stored().await.as_phc(),
        fresh.as_phc(),
        "redone once, not at every login"
    );
    for token in [&first, &second] {
        assert_eq!(
            call(&s, Method::GET, "/api/v1/me", token, None).await.0,
            StatusCode::OK
        );
    }
    // A wrong password never rewrites the hash.
    s.state
        .store
        .set_password("system".into(), id, old.clone(), None)
        .await
        .unwrap();
    let (st, _, _) = login_raw(&s, "old@openarms.test", NEW_PASSWORD).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(stored().await.as_phc(), old.as_phc());
}

#[tokio::test]
async fn a_read_scoped_token_reads_and_never_writes() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    user(&s, "open-arms", "rae@openarms.test", "admin").await;
    let session = login(&s, "rae@openarms.test", PASSWORD).await;
    let (st, tok) = call(
        &s,
        Method::POST,
        "/api/v1/me/tokens",
        &session,
        Some(json!({"label": "report", "scope": "read", "expires_in_days": 1})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{tok}");
    let read = tok["secret"].as_str().unwrap().to_string();

    let settings = "/api/v1/tenants/open-arms/settings";
    assert_eq!(
        call(&s, Method::GET, settings, &read, None).await.0,
        StatusCode::OK
    );
    let (st, body) = call(
        &s,
        Method::PATCH,
        settings,
        &read,
        Some(json!({"sla_hours": 3})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    // No token mints tokens or changes its account.
    let (st, _) = call(
        &s,
        Method::POST,
        "/api/v1/me/tokens",
        &read,
        Some(json!({"label": "more", "scope": "write"})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Listed without the token itself; deleted, it stops at once.
    let (st, list) = call(&s, Method::GET, "/api/v1/me/tokens", &session, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list["data"][0]["prefix"], read[..9]);
    assert!(!list.to_string().contains(&read));
    let id = list["data"][0]["id"].as_str().unwrap();
    let (st, _) = call(
        &s,
        Method::DELETE,
        &format!("/api/v1/me/tokens/{id}"),
        &session,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&s, Method::GET, settings, &read, None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Expired after its day.
    let (_, tok) = call(
        &s,
        Method::POST,
        "/api/v1/me/tokens",
        &session,
        Some(json!({"label": "day", "scope": "read", "expires_in_days": 1})),
    )
    .await;
    let day = tok["secret"].as_str().unwrap().to_string();
    s.clock.advance(TimeDelta::days(1));
    let (st, body) = call(&s, Method::GET, settings, &day, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "token_expired");
}

#[tokio::test]
async fn managers_and_agents_are_refused_settings_and_never_see_another_tenant() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    user(&s, "open-arms", "max@openarms.test", "manager").await;
    user(&s, "open-arms", "ada@openarms.test", "agent").await;
    let admin = user(&s, "open-arms", "ann@openarms.test", "admin").await;
    for email in ["max@openarms.test", "ada@openarms.test"] {
        let t = login(&s, email, PASSWORD).await;
        let (st, body) = call(
            &s,
            Method::GET,
            "/api/v1/tenants/open-arms/settings",
            &t,
            None,
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{email}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
        // Another tenant answers as a tenant that does not exist.
        let other = call(
            &s,
            Method::GET,
            "/api/v1/tenants/caring-hearts/settings",
            &t,
            None,
        )
        .await;
        let none = call(
            &s,
            Method::GET,
            "/api/v1/tenants/no-such-tenant/settings",
            &t,
            None,
        )
        .await;
        assert_eq!(other.0, StatusCode::NOT_FOUND, "{email}: {}", other.1);
        assert_eq!(other, none);
        // Platform routes are not theirs.
        let (st, _) = call(&s, Method::GET, "/api/v1/tenants", &t, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // Their own tenant they may read.
        let (st, _) = call(&s, Method::GET, "/api/v1/tenants/open-arms", &t, None).await;
        assert_eq!(st, StatusCode::OK);
    }
    // A tenant admin manages their tenant's users but does not lock themselves out.
    let t = login(&s, "ann@openarms.test", PASSWORD).await;
    let (st, list) = call(&s, Method::GET, "/api/v1/tenants/open-arms/users", &t, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    let me = admin["id"].as_str().unwrap();
    let (st, body) = call(
        &s,
        Method::PATCH,
        &format!("/api/v1/tenants/open-arms/users/{me}"),
        &t,
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "cannot_change_self");
    let (st, _) = call(
        &s,
        Method::GET,
        "/api/v1/tenants/caring-hearts/users",
        &t,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn audit_rows_name_the_acting_user() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    let u = user(&s, "open-arms", "aud@openarms.test", "admin").await;
    let t = login(&s, "aud@openarms.test", PASSWORD).await;
    let (st, _) = call(
        &s,
        Method::PATCH,
        "/api/v1/tenants/open-arms/settings",
        &t,
        Some(json!({"sla_hours": 5})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, audit) = s.get("/api/v1/audit?action=settings.updated").await;
    assert_eq!(st, StatusCode::OK);
    let row = &audit["data"][0];
    assert_eq!(row["by"]["kind"], "user");
    assert_eq!(row["by"]["id"], u["id"]);
    assert_eq!(row["by"]["email"], "aud@openarms.test");
}

#[tokio::test]
async fn no_answer_log_line_or_debug_output_holds_a_password_hash_or_token() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let s = TestServer::start_with(|a| a.smtp_url = Some(Secret::new(url))).await;
    two_tenants(&s).await;
    let created = user(&s, "open-arms", "sec@openarms.test", "admin").await;
    let invite = link_token(created["invite_url"].as_str().unwrap());
    let session = login(&s, "sec@openarms.test", PASSWORD).await;
    let (_, tok) = call(
        &s,
        Method::POST,
        "/api/v1/me/tokens",
        &session,
        Some(json!({"label": "x", "scope": "write"})),
    )
    .await;
    let personal = tok["secret"].as_str().unwrap().to_string();
    let (_, wrong_body) = call(
        &s,
        Method::PATCH,
        "/api/v1/me",
        &session,
        Some(json!({"password": NEW_PASSWORD, "current_password": "guess guess guess"})),
    )
    .await;
    let mut answers = vec![wrong_body.to_string()];
    for path in [
        "/api/v1/me",
        "/api/v1/me/tokens",
        "/api/v1/tenants/open-arms/users",
    ] {
        answers.push(
            call(&s, Method::GET, path, &session, None)
                .await
                .1
                .to_string(),
        );
    }
    answers.push(s.get("/api/v1/audit").await.1.to_string());
    let stored = s
        .state
        .store
        .find_user_by_email("sec@openarms.test".into())
        .await
        .unwrap()
        .unwrap();
    let phc = stored.password_hash.clone().unwrap().as_phc().to_string();
    let debug = format!("{stored:?}");
    let login: echo5_core::sessions::Login =
        serde_json::from_value(json!({"email": "sec@openarms.test", "password": PASSWORD}))
            .unwrap();
    let debug = format!("{debug} {login:?}");

    let secrets = [PASSWORD, NEW_PASSWORD, &phc, &session, &personal, &invite];
    let logs = common::captured_logs();
    for secret in secrets {
        for a in &answers {
            assert!(!a.contains(secret), "an answer holds a secret: {a}");
        }
        assert!(!logs.contains(secret), "a log line holds a secret");
        assert!(
            !debug.contains(secret),
            "Debug output holds a secret: {debug}"
        );
    }
    assert!(!logs.contains("$argon2id$"));
    assert!(answers.iter().all(|a| !a.contains("$argon2id$")));
}

#[test]
fn every_operation_states_its_permission() {
    let doc = serde_json::to_value(echo5d::openapi()).unwrap();
    let mut missing = Vec::new();
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            seen += 1;
            let described = op["description"]
                .as_str()
                .is_some_and(|d| d.contains("Permission: "));
            if op.get("x-permission").is_none() || !described {
                missing.push(format!("{method} {path}"));
            }
        }
    }
    assert!(seen > 50, "{seen} operations");
    assert!(missing.is_empty(), "no permission stated: {missing:?}");
    let settings = &doc["paths"]["/api/v1/tenants/{tenant}/settings"]["patch"]["x-permission"];
    assert_eq!(settings["subject"], "settings");
    assert_eq!(settings["action"], "write");
    assert_eq!(settings["tenant_users"], "manage_settings");
    let lead = &doc["paths"]["/api/v1/leads/{lead_id}"]["patch"]["x-permission"];
    assert_eq!(lead["tenant_users"], "view_leads + edit_leads");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A burst of logins (argon2id each) while `/healthz` is polled: password work runs on the
/// blocking pool behind its permits, never on the runtime's threads, so health is answered
/// while logins are still hashing. Prints the numbers (`--nocapture`); asserts behaviour,
/// not time: `bench/auth.sh` measures the latencies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_burst_does_not_stall_other_requests() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    user(&s, "open-arms", "burst@openarms.test", "agent").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let health = {
        let (client, url, stop) = (s.client.clone(), s.url("/healthz"), stop.clone());
        tokio::spawn(async move {
            let mut took = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                let st = client.get(&url).send().await.unwrap().status();
                assert_eq!(st, StatusCode::OK);
                took.push((t.elapsed(), Instant::now()));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            took
        })
    };
    let logins: Vec<_> = (0..24)
        .map(|_| {
            let (client, url) = (s.client.clone(), s.url("/api/v1/auth/login"));
            tokio::spawn(async move {
                let t = Instant::now();
                let st = client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(json!({"email": "burst@openarms.test", "password": PASSWORD}).to_string())
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert_eq!(st, StatusCode::OK);
                (t.elapsed(), Instant::now())
            })
        })
        .collect();
    let mut logins_done = Vec::new();
    for l in logins {
        logins_done.push(l.await.unwrap());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let health_done = health.await.unwrap();
    let last_login = logins_done.iter().map(|(_, at)| *at).max().unwrap();
    let answered_during = health_done
        .iter()
        .filter(|(_, at)| *at < last_login)
        .count();
    let mut login_times: Vec<Duration> = logins_done.iter().map(|(d, _)| *d).collect();
    let mut health_times: Vec<Duration> = health_done.iter().map(|(d, _)| *d).collect();
    login_times.sort();
    health_times.sort();
    let (h50, h99) = (
        percentile(&health_times, 0.5),
        percentile(&health_times, 0.99),
    );
    println!(
        "24 concurrent logins: p50 {:?}, p99 {:?}; /healthz during the burst ({} requests): p50 {h50:?}, p99 {h99:?}",
        percentile(&login_times, 0.5),
        percentile(&login_times, 0.99),
        health_times.len(),
    );
    // Hashing on the runtime's two threads would hold /healthz until the burst is over.
    assert!(
        answered_during >= 3,
        "/healthz was answered {answered_during} times while logins were hashing"
    );
}

#[tokio::test]
async fn lead_routes_decide_per_lead_a_managers_reach_and_an_agents_reading() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    let manager = user(&s, "open-arms", "mia@openarms.test", "manager").await;
    user(&s, "open-arms", "abe@openarms.test", "agent").await;
    let mut leads = Vec::new();
    for name in ["Assigned Lead", "Other Lead"] {
        let (st, l) = s
            .post(
                "/api/v1/tenants/open-arms/leads",
                &json!({"name": name}).to_string(),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{l}");
        leads.push(l["id"].as_str().unwrap().to_string());
    }
    let (st, body) = s
        .patch(
            &format!("/api/v1/leads/{}", leads[0]),
            &json!({"assigned_to": manager["id"]}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");

    let m = login(&s, "mia@openarms.test", PASSWORD).await;
    let lead = |i: usize| format!("/api/v1/leads/{}", leads[i]);
    assert_eq!(
        call(&s, Method::GET, &lead(0), &m, None).await.0,
        StatusCode::OK
    );
    // A lead out of a manager's reach does not exist for them.
    let (st, body) = call(&s, Method::GET, &lead(1), &m, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    let (st, body) = call(
        &s,
        Method::POST,
        &format!("{}/notes", lead(0)),
        &m,
        Some(json!({"text": "called back"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["author"], "mia@openarms.test");

    // An agent reads every lead of the tenant and changes none.
    let a = login(&s, "abe@openarms.test", PASSWORD).await;
    assert_eq!(
        call(&s, Method::GET, &lead(1), &a, None).await.0,
        StatusCode::OK
    );
    let (st, body) = call(
        &s,
        Method::POST,
        &format!("{}/notes", lead(1)),
        &a,
        Some(json!({"text": "not mine to add"})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    // Neither reaches a lead of another tenant, nor the listing across tenants.
    let (st, other) = s
        .post(
            "/api/v1/tenants/caring-hearts/leads",
            r#"{"name": "Elsewhere"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let elsewhere = format!("/api/v1/leads/{}", other["id"].as_str().unwrap());
    for t in [&m, &a] {
        assert_eq!(
            call(&s, Method::GET, &elsewhere, t, None).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            call(&s, Method::GET, "/api/v1/leads", t, None).await.0,
            StatusCode::FORBIDDEN
        );
    }
}

/// Who a session is, and what a path's tenant is, are remembered between requests; a
/// change of role, permissions or slug applies to the very next request all the same.
#[tokio::test]
async fn a_role_permission_or_slug_change_applies_to_the_next_request() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    let ann = user(&s, "open-arms", "ann@openarms.test", "admin").await;
    let t = login(&s, "ann@openarms.test", PASSWORD).await;
    let settings = "/api/v1/tenants/open-arms/settings";
    let (st, _) = call(&s, Method::GET, settings, &t, None).await;
    assert_eq!(st, StatusCode::OK, "an admin reads settings");
    let ann_path = format!(
        "/api/v1/tenants/open-arms/users/{}",
        ann["id"].as_str().unwrap()
    );
    let (st, v) = s
        .patch(&ann_path, &json!({"role": "manager"}).to_string())
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, body) = call(&s, Method::GET, settings, &t, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "demoted at once: {body}");
    let (st, v) = s
        .patch(
            &ann_path,
            &json!({"permissions": {"manage_settings": true}}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, body) = call(&s, Method::GET, settings, &t, None).await;
    assert_eq!(st, StatusCode::OK, "the override applies at once: {body}");
    // The old slug names nothing once the tenant is renamed; the new one names it.
    let (st, v) = s
        .patch(
            "/api/v1/tenants/open-arms",
            &json!({"slug": "open-arms-2"}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, _) = call(&s, Method::GET, settings, &t, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = call(
        &s,
        Method::GET,
        "/api/v1/tenants/open-arms-2/settings",
        &t,
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
}

/// Over HTTP, as the console reads it: a manager's event stream carries the changes of the
/// leads assigned to them and nothing of the tenant's other leads — not their ids, not
/// their e-mail addresses.
#[tokio::test]
async fn a_managers_event_stream_never_carries_another_users_lead() {
    let s = TestServer::start().await;
    two_tenants(&s).await;
    let mia = user(&s, "open-arms", "mia@openarms.test", "manager").await;
    let session = login(&s, "mia@openarms.test", PASSWORD).await;
    let mut stream = SseStream::open(
        s.client.get(s.url("/api/v1/events")).bearer_auth(&session),
        None,
    )
    .await;
    let lead = |name: &'static str| {
        let s = &s;
        async move {
            let (st, l) = s
                .post(
                    "/api/v1/tenants/open-arms/leads",
                    &json!({"name": name, "email": format!("{}@leads.test", name.to_lowercase())})
                        .to_string(),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{l}");
            l["id"].as_str().unwrap().to_string()
        }
    };
    let theirs = lead("Theirs").await;
    let mine = lead("Mine").await;
    let last = lead("Last").await;
    for (id, to) in [
        (&theirs, json!(null)),
        (&mine, mia["id"].clone()),
        (&last, mia["id"].clone()),
    ] {
        let (st, v) = s
            .patch(
                &format!("/api/v1/leads/{id}"),
                &json!({"assigned_to": to}).to_string(),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    // A note on the other lead, then one on the last: once the last one's arrives, every
    // earlier event has been sent or withheld.
    for id in [&theirs, &last] {
        let (st, v) = s
            .post(
                &format!("/api/v1/leads/{id}/notes"),
                r#"{"text": "called back"}"#,
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let mut seen_last = 0;
    while seen_last < 2 {
        let (_, e) = stream
            .next("lead.updated")
            .await
            .expect("the stream is open");
        if e.to_string().contains(&last) {
            seen_last += 1;
        }
    }
    assert!(
        stream.all.contains(&mine),
        "the manager's own lead is on the stream"
    );
    for leaked in [theirs.as_str(), "theirs@leads.test", "Theirs"] {
        assert!(
            !stream.all.contains(leaked),
            "another user's lead reached a manager's stream: {leaked}"
        );
    }
}
