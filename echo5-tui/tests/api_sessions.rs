//! The session and users calls over real HTTP, against a scripted loopback server (the
//! daemon's routes for them are another branch's): the paths and bodies the console sends,
//! a 429's `Retry-After`, the session token sent as the bearer after a login and never
//! after a logout, and the invitation link kept out of `Debug`.

use echo5_core::secret::Secret;
use echo5_tui::api::Client;
use echo5_tui::app::effect::{Invite, UserChange, UserRealm};
use echo5_tui::app::{ApiError, Call, Reply};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use uuid::Uuid;

const TOKEN: &str = "e5s_FAKEsessionTOKENsnapshotONLY0123";
const PASSWORD: &str = "Correct-Horse-7-Battery";

/// One request as the server read it: the request line, the headers (lower-cased names)
/// and the body.
#[derive(Debug)]
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Answers each connection's one request with the next scripted response (status line,
/// extra headers, body), and reports what it read.
fn server(script: Vec<(&'static str, &'static str, String)>) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (status, extra, body) in script {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            reader.read_line(&mut line).expect("request line");
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).expect("header");
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((n, v)) = h.split_once(':') {
                    headers.push((n.trim().to_lowercase(), v.trim().to_string()));
                }
            }
            let len = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
            let mut buf = vec![0; len];
            reader.read_exact(&mut buf).expect("body");
            let _ = tx.send(Seen {
                line: line.trim_end().to_string(),
                headers,
                body: String::from_utf8_lossy(&buf).into_owned(),
            });
            let mut stream = stream;
            let resp = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(resp.as_bytes());
        }
    });
    (base, rx)
}

fn user_json(role: &str, tenant: Option<Uuid>) -> serde_json::Value {
    serde_json::json!({
        "id": Uuid::from_u128(0x5002), "tenant": tenant, "email": "maria@openarms.example",
        "name": "Maria Manager", "role": role, "active": true,
        "created_at": "2026-02-10T09:30:00Z", "last_login_at": null,
        "permissions": {"view_leads": true, "edit_leads": true, "delete_leads": false,
                        "manage_settings": false}
    })
}

fn login() -> Call {
    Call::Login {
        email: "maria@openarms.example".into(),
        password: Secret::new(PASSWORD.to_string()),
    }
}

#[tokio::test]
async fn login_refusals_throttling_the_session_bearer_and_logout() {
    let tenant = Uuid::from_u128(0x1001);
    let err = |code: &str, msg: &str| {
        serde_json::json!({"error": {"code": code, "message": msg}}).to_string()
    };
    let answer = serde_json::json!({
        "token": TOKEN, "expires_at": "2026-03-02T10:00:00Z",
        "user": user_json("manager", Some(tenant)),
    });
    let (base, seen) = server(vec![
        (
            "401 Unauthorized",
            "",
            err("invalid_credentials", "invalid e-mail or password"),
        ),
        (
            "429 Too Many Requests",
            "retry-after: 37\r\n",
            err("too_many_attempts", "too many failed logins"),
        ),
        ("200 OK", "", answer.to_string()),
        (
            "200 OK",
            "",
            serde_json::json!({"credential": "user", "user": user_json("manager", Some(tenant)), "scope": null})
                .to_string(),
        ),
        ("204 No Content", "", String::new()),
        (
            "401 Unauthorized",
            "",
            err("invalid_token", "missing or invalid credentials"),
        ),
    ]);
    let client = Client::new(&base, None).expect("client");

    let r = client.call(&login()).await;
    assert_eq!(
        r,
        Ok(Reply::LoginRefused {
            status: 401,
            message: "invalid e-mail or password".into(),
            retry_after: None,
        })
    );
    let first = seen.recv().expect("request");
    assert_eq!(first.line, "POST /api/v1/auth/login HTTP/1.1");
    assert_eq!(first.header("authorization"), None);
    let body: serde_json::Value = serde_json::from_str(&first.body).expect("json body");
    assert_eq!(body["email"], "maria@openarms.example");
    assert_eq!(body["password"], PASSWORD);

    let r = client.call(&login()).await;
    assert!(
        matches!(
            r,
            Ok(Reply::LoginRefused {
                status: 429,
                retry_after: Some(37),
                ..
            })
        ),
        "{r:?}"
    );
    seen.recv().expect("request");

    let r = client.call(&login()).await;
    let Ok(Reply::LoggedIn { user, .. }) = &r else {
        panic!("{r:?}");
    };
    assert_eq!(user.tenant, Some(tenant));
    assert!(
        !format!("{r:?}").contains(TOKEN),
        "the token reached the model"
    );
    seen.recv().expect("request");

    // From now on the session is the bearer.
    let r = client.call(&Call::Me).await;
    assert!(matches!(r, Ok(Reply::Me(_))), "{r:?}");
    let me = seen.recv().expect("request");
    assert_eq!(me.line, "GET /api/v1/me HTTP/1.1");
    assert_eq!(
        me.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );

    assert_eq!(client.call(&Call::Logout).await, Ok(Reply::LoggedOut));
    let out = seen.recv().expect("request");
    assert_eq!(out.line, "POST /api/v1/auth/logout HTTP/1.1");
    assert_eq!(
        out.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );

    // And after the logout, no token at all.
    let r = client.call(&Call::Me).await;
    assert!(
        matches!(r, Err(ApiError::Http { status: 401, .. })),
        "{r:?}"
    );
    assert_eq!(seen.recv().expect("request").header("authorization"), None);
}

#[tokio::test]
async fn users_calls_use_the_contracts_paths_and_bodies() {
    let t = Uuid::from_u128(0x1001);
    let u = Uuid::from_u128(0x5002);
    let mut created = user_json("agent", Some(t));
    created["invite_url"] = "http://x/invite/e5i_FAKEinviteLINKsnapshotONLY0123".into();
    let (base, seen) = server(vec![
        ("200 OK", "", serde_json::json!({"data": [user_json("manager", Some(t))]}).to_string()),
        ("201 Created", "", created.to_string()),
        ("200 OK", "", user_json("agent", Some(t)).to_string()),
        ("409 Conflict", "", serde_json::json!({"error": {"code": "cannot_change_self", "message": "you cannot change yourself"}}).to_string()),
        ("204 No Content", "", String::new()),
    ]);
    let client = Client::new(&base, Some(Secret::new("e5a_admin".into()))).expect("client");
    let realm = UserRealm::Tenant(t);

    let r = client.call(&Call::ListUsers { realm }).await;
    assert!(matches!(&r, Ok(Reply::Users(v)) if v.len() == 1), "{r:?}");
    assert_eq!(
        seen.recv().expect("req").line,
        format!("GET /api/v1/tenants/{t}/users HTTP/1.1")
    );

    let invite = Invite {
        email: "ann@openarms.example".into(),
        name: "Ann".into(),
        role: Some(echo5_core::users::Role::Agent),
    };
    let r = client.call(&Call::CreateUser { realm, invite }).await;
    let Ok(Reply::UserCreated {
        invite_url: Some(url),
        ..
    }) = &r
    else {
        panic!("{r:?}");
    };
    assert!(url.expose().contains("e5i_FAKE"));
    assert!(!format!("{r:?}").contains("e5i_FAKE"), "the link in Debug");
    let req = seen.recv().expect("req");
    assert_eq!(req.line, format!("POST /api/v1/tenants/{t}/users HTTP/1.1"));
    let body: serde_json::Value = serde_json::from_str(&req.body).expect("json");
    assert_eq!(
        body,
        serde_json::json!({"email": "ann@openarms.example", "name": "Ann", "role": "agent"})
    );

    let change = UserChange::Role(echo5_core::users::Role::Agent);
    let r = client
        .call(&Call::PatchUser {
            realm,
            user: u,
            change,
        })
        .await;
    assert!(matches!(r, Ok(Reply::UserSaved(_))), "{r:?}");
    let req = seen.recv().expect("req");
    assert_eq!(
        req.line,
        format!("PATCH /api/v1/tenants/{t}/users/{u} HTTP/1.1")
    );
    assert_eq!(req.body, r#"{"role":"agent"}"#);

    let change = UserChange::Active(false);
    let r = client
        .call(&Call::PatchUser {
            realm: UserRealm::Platform,
            user: u,
            change,
        })
        .await;
    let Err(ApiError::Http {
        status: 409,
        detail,
    }) = &r
    else {
        panic!("{r:?}");
    };
    assert_eq!(detail.code, "cannot_change_self");
    assert_eq!(
        seen.recv().expect("req").line,
        format!("PATCH /api/v1/platform/users/{u} HTTP/1.1")
    );

    let r = client.call(&Call::DeleteUser { realm, user: u }).await;
    assert_eq!(r, Ok(Reply::UserDeleted));
    assert_eq!(
        seen.recv().expect("req").line,
        format!("DELETE /api/v1/tenants/{t}/users/{u} HTTP/1.1")
    );
}
