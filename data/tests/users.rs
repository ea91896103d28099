//! Users, sessions, personal tokens, links and login failures against a real database file.

mod common;

use chrono::TimeDelta;
use common::{Fixture, domain, master_key, new_tenant};
use echo5_core::DomainError;
use echo5_core::audit::AuditAction;
use echo5_core::invites::LinkPurpose;
use echo5_core::passwords::PasswordHash;
use echo5_core::personal_tokens::{PersonalTokenFields, TokenScope};
use echo5_core::sessions::ThrottlePolicy;
use echo5_core::tokens::{self, TokenKind};
use echo5_core::users::{self, NewUser, Realm, Role, User, UserPatch};
use echo5_data::audit::AuditQuery;
use echo5_data::sessions::{NewSession, ThrottleKey};
use echo5_data::tenants::DeleteMode;
use echo5_data::users::UserScope;
use echo5_data::{Store, StoreOptions, TenantKey};

fn open() -> Fixture {
    common::open_with(master_key(7), StoreOptions::default())
}

/// A PHC string of the right shape (hashing for real costs seconds in a debug build); the
/// output is 32 bytes of `fill`.
fn phc(fill: char) -> PasswordHash {
    let out = match fill {
        'a' => "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE",
        'b' => "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI",
        'c' => "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2M",
        'n' => "bm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm4",
        'z' => "enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6eno",
        _ => unreachable!("no fixture hash for {fill}"),
    };
    PasswordHash::from_phc(format!(
        "$argon2id$v=19$m=19456,t=2,p=1$YWFhYWFhYWFhYWFhYWFhYQ${out}"
    ))
    .unwrap()
}

async fn user(s: &Store, scope: UserScope, email: &str, role: Role) -> Result<User, DomainError> {
    let realm = match scope {
        UserScope::Platform => Realm::Platform,
        _ => Realm::Tenant,
    };
    let fields = users::validate_new(
        &NewUser {
            email: email.into(),
            name: "Ana Pereira".into(),
            role: Some(role),
            permissions: None,
        },
        realm,
    )?;
    s.create_user("admin:test".into(), scope, fields)
        .await
        .map_err(domain)
}

fn token(kind: TokenKind) -> (String, [u8; 32]) {
    let t = tokens::generate(kind).unwrap().expose().clone();
    let h = tokens::hash(&t);
    (t, h)
}

async fn login(s: &Store, u: &User) -> [u8; 32] {
    let (_, h) = token(TokenKind::Session);
    s.create_session(
        format!("user:{}", u.id),
        NewSession {
            user_id: u.id,
            token_hash: h,
            ip: Some("127.0.0.1".into()),
            user_agent: None,
        },
    )
    .await
    .unwrap();
    h
}

async fn personal_token(s: &Store, u: &User) -> [u8; 32] {
    let (t, h) = token(TokenKind::Personal);
    s.create_personal_token(
        "user:x".into(),
        u.id,
        PersonalTokenFields {
            label: "script".into(),
            scope: TokenScope::Read,
            expires_at: s.now() + TimeDelta::days(30),
        },
        h,
        tokens::display_prefix(&t),
    )
    .await
    .unwrap();
    h
}

#[tokio::test]
async fn email_is_unique_whatever_its_case_across_tenants_and_platform() {
    let f = open();
    let a = new_tenant(&f.store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    let b = new_tenant(&f.store, r#"{"name":"Blue Door"}"#)
        .await
        .unwrap();
    let ana = user(
        &f.store,
        UserScope::Tenant(a.id.into()),
        "Ana@Example.com",
        Role::Manager,
    )
    .await
    .unwrap();
    assert_eq!(ana.email, "ana@example.com");
    assert_eq!(ana.tenant, Some(a.id));
    for (scope, role) in [
        (UserScope::Tenant(a.id.into()), Role::Agent),
        (UserScope::Tenant(b.id.into()), Role::Admin),
        (UserScope::Platform, Role::Owner),
    ] {
        let err = user(&f.store, scope, "ANA@example.COM", role)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                DomainError::Conflict {
                    code: "email_taken",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    let found = f
        .store
        .find_user_by_email("  aNa@EXAMPLE.com ".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user.id, ana.id);
    assert!(
        found.password_hash.is_none(),
        "no password before the invitation"
    );
    // Scopes: the user is not reachable as another tenant's or as a platform user.
    let other = f
        .store
        .get_user(UserScope::Tenant(b.id.into()), ana.id)
        .await
        .unwrap_err();
    assert_eq!(domain(other), DomainError::NotFound { what: "user" });
    assert!(f.store.get_user(UserScope::Platform, ana.id).await.is_err());
    assert_eq!(
        f.store
            .list_users(UserScope::Tenant(a.id.into()))
            .await
            .unwrap(),
        vec![ana.clone()]
    );
    assert!(
        f.store
            .list_users(UserScope::Platform)
            .await
            .unwrap()
            .is_empty()
    );
    // A tenant role on the platform is refused, and nothing is stored.
    let err = f
        .store
        .create_user(
            "admin:test".into(),
            UserScope::Platform,
            users::validate_new(
                &NewUser {
                    email: "x@example.com".into(),
                    name: "X".into(),
                    role: Some(Role::Agent),
                    permissions: None,
                },
                Realm::Tenant,
            )
            .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        domain(err),
        DomainError::Invalid {
            code: "invalid_role",
            ..
        }
    ));
}

#[tokio::test]
async fn deactivation_ends_sessions_and_tokens_at_once() {
    let f = open();
    let a = new_tenant(&f.store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    let scope = UserScope::Tenant(a.id.into());
    let ana = user(&f.store, scope.clone(), "ana@example.com", Role::Manager)
        .await
        .unwrap();
    let bo = user(&f.store, scope.clone(), "bo@example.com", Role::Agent)
        .await
        .unwrap();
    let s1 = login(&f.store, &ana).await;
    let s2 = login(&f.store, &ana).await;
    let p = personal_token(&f.store, &ana).await;
    let bos = login(&f.store, &bo).await;
    let live = f.store.session(s1).await.unwrap().unwrap();
    assert_eq!(live.user.id, ana.id);
    assert_eq!(live.user.last_login_at, Some(f.store.now()));
    assert_eq!(live.created_at, f.store.now());
    assert!(f.store.personal_token(p).await.unwrap().is_some());

    // Nobody deactivates themselves.
    let own = f
        .store
        .patch_user(
            "user:ana".into(),
            scope.clone(),
            ana.id,
            UserPatch {
                active: Some(false),
                ..Default::default()
            },
            Some(ana.id),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        domain(own),
        DomainError::Conflict {
            code: "cannot_change_self",
            ..
        }
    ));
    assert!(f.store.session(s1).await.unwrap().is_some());

    let off = f
        .store
        .patch_user(
            "admin:test".into(),
            scope.clone(),
            ana.id,
            UserPatch {
                active: Some(false),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(!off.active);
    for s in [s1, s2] {
        assert!(f.store.session(s).await.unwrap().is_none());
    }
    assert!(f.store.personal_token(p).await.unwrap().is_none());
    assert!(
        f.store
            .list_personal_tokens(ana.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        f.store.session(bos).await.unwrap().is_some(),
        "others keep theirs"
    );
    // An inactive user cannot start a session.
    let (_, h) = token(TokenKind::Session);
    let refused = f
        .store
        .create_session(
            "user:ana".into(),
            NewSession {
                user_id: ana.id,
                token_hash: h,
                ip: None,
                user_agent: None,
            },
        )
        .await;
    assert!(refused.is_err());

    let audit = f
        .store
        .list_audit(AuditQuery {
            action: Some(AuditAction::UserUpdated.as_str().into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.data.len(), 1);
    assert_eq!(audit.data[0].actor, "admin:test");
    assert_eq!(
        audit.data[0].target.as_deref(),
        Some(ana.id.to_string().as_str())
    );
    assert_eq!(
        audit.data[0].details,
        serde_json::json!({"changed": ["active"], "credentials_ended": 3})
    );
}

#[tokio::test]
async fn a_link_is_used_once_and_an_expired_one_is_refused() {
    let f = open();
    let owner = user(
        &f.store,
        UserScope::Platform,
        "owner@example.com",
        Role::Owner,
    )
    .await
    .unwrap();
    let (_, first) = token(TokenKind::Invite);
    let (_, invite) = token(TokenKind::Invite);
    f.store
        .create_link("admin:test".into(), owner.id, LinkPurpose::Invite, first)
        .await
        .unwrap();
    let expires = f
        .store
        .create_link("admin:test".into(), owner.id, LinkPurpose::Invite, invite)
        .await
        .unwrap();
    assert_eq!(expires, f.store.now() + TimeDelta::hours(72));
    let refused = |e| {
        matches!(
            domain(e),
            DomainError::Invalid {
                code: "invalid_link",
                ..
            }
        )
    };
    // A resent invitation replaces the first link.
    let e = f
        .store
        .consume_link("anon".into(), LinkPurpose::Invite, first, phc('a'))
        .await
        .unwrap_err();
    assert!(refused(e));
    // A link of one purpose is no link of another.
    let e = f
        .store
        .consume_link("anon".into(), LinkPurpose::Reset, invite, phc('a'))
        .await
        .unwrap_err();
    assert!(refused(e));
    assert_eq!(
        f.store
            .link_user(LinkPurpose::Invite, invite)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(owner.id)
    );
    let u = f
        .store
        .consume_link("anon".into(), LinkPurpose::Invite, invite, phc('a'))
        .await
        .unwrap();
    assert_eq!(u.id, owner.id);
    let creds = f.store.user_credentials(owner.id).await.unwrap();
    assert_eq!(creds.password_hash, Some(phc('a')));
    let again = f
        .store
        .consume_link("anon".into(), LinkPurpose::Invite, invite, phc('b'))
        .await
        .unwrap_err();
    assert!(refused(again));
    assert_eq!(
        f.store
            .user_credentials(owner.id)
            .await
            .unwrap()
            .password_hash,
        Some(phc('a')),
        "a refused link changes nothing"
    );

    // A reset link: 1 h, the instant of expiry is out. Using one ends the user's sessions.
    let s = login(&f.store, &owner).await;
    let (_, reset) = token(TokenKind::Reset);
    f.store
        .create_link("anon".into(), owner.id, LinkPurpose::Reset, reset)
        .await
        .unwrap();
    f.clock.advance(TimeDelta::hours(1));
    assert!(
        f.store
            .link_user(LinkPurpose::Reset, reset)
            .await
            .unwrap()
            .is_none()
    );
    let late = f
        .store
        .consume_link("anon".into(), LinkPurpose::Reset, reset, phc('c'))
        .await
        .unwrap_err();
    assert!(refused(late));
    let (_, reset2) = token(TokenKind::Reset);
    f.store
        .create_link("anon".into(), owner.id, LinkPurpose::Reset, reset2)
        .await
        .unwrap();
    f.clock.advance(TimeDelta::minutes(59));
    f.store
        .consume_link("anon".into(), LinkPurpose::Reset, reset2, phc('c'))
        .await
        .unwrap();
    assert!(
        f.store.session(s).await.unwrap().is_none(),
        "a reset ends sessions"
    );

    // Two requests with one link at the same time: exactly one succeeds.
    let (_, race) = token(TokenKind::Reset);
    f.store
        .create_link("anon".into(), owner.id, LinkPurpose::Reset, race)
        .await
        .unwrap();
    let (x, y) = tokio::join!(
        f.store
            .consume_link("anon".into(), LinkPurpose::Reset, race, phc('n')),
        f.store
            .consume_link("anon".into(), LinkPurpose::Reset, race, phc('z')),
    );
    assert_eq!(
        [x.is_ok(), y.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{x:?} {y:?}"
    );
}

#[tokio::test]
async fn deleting_a_tenant_removes_its_users_and_their_credentials() {
    let f = open();
    let a = new_tenant(&f.store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    let b = new_tenant(&f.store, r#"{"name":"Blue Door"}"#)
        .await
        .unwrap();
    let ana = user(
        &f.store,
        UserScope::Tenant(a.id.into()),
        "ana@example.com",
        Role::Admin,
    )
    .await
    .unwrap();
    let bo = user(
        &f.store,
        UserScope::Tenant(b.id.into()),
        "bo@example.com",
        Role::Admin,
    )
    .await
    .unwrap();
    let s = login(&f.store, &ana).await;
    let p = personal_token(&f.store, &ana).await;
    let bs = login(&f.store, &bo).await;
    f.store
        .delete_tenant("admin:test".into(), TenantKey::Id(a.id), DeleteMode::Purge)
        .await
        .unwrap();
    assert!(f.store.session(s).await.unwrap().is_none());
    assert!(f.store.personal_token(p).await.unwrap().is_none());
    assert!(
        f.store
            .find_user_by_email("ana@example.com".into())
            .await
            .unwrap()
            .is_none()
    );
    assert!(f.store.get_user(UserScope::Any, ana.id).await.is_err());
    assert!(f.store.session(bs).await.unwrap().is_some());
    // The address is free again.
    user(
        &f.store,
        UserScope::Tenant(b.id.into()),
        "ana@example.com",
        Role::Agent,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn deleting_a_user_ends_everything_and_a_password_change_keeps_one_session() {
    let f = open();
    let a = new_tenant(&f.store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    let scope = UserScope::Tenant(a.id.into());
    let ana = user(&f.store, scope.clone(), "ana@example.com", Role::Manager)
        .await
        .unwrap();
    let here = login(&f.store, &ana).await;
    let there = login(&f.store, &ana).await;
    let ended = f
        .store
        .set_password("user:ana".into(), ana.id, phc('n'), Some(here))
        .await
        .unwrap();
    assert_eq!(ended, 1);
    assert!(f.store.session(here).await.unwrap().is_some());
    assert!(f.store.session(there).await.unwrap().is_none());

    // Touching: at most once a minute.
    f.clock.advance(TimeDelta::seconds(30));
    assert!(!f.store.touch_session(here).await.unwrap());
    f.clock.advance(TimeDelta::seconds(30));
    assert!(f.store.touch_session(here).await.unwrap());
    let rec = f.store.session(here).await.unwrap().unwrap();
    assert_eq!(rec.last_seen_at, f.store.now());
    assert_eq!(rec.created_at, f.store.now() - TimeDelta::minutes(1));

    assert!(f.store.end_session("user:ana".into(), here).await.unwrap());
    assert!(!f.store.end_session("user:ana".into(), here).await.unwrap());

    let s = login(&f.store, &ana).await;
    let p = personal_token(&f.store, &ana).await;
    f.store
        .delete_user("admin:test".into(), scope.clone(), ana.id, None)
        .await
        .unwrap();
    assert!(f.store.session(s).await.unwrap().is_none());
    assert!(f.store.personal_token(p).await.unwrap().is_none());
    assert!(f.store.get_user(scope, ana.id).await.is_err());
}

#[tokio::test]
async fn personal_tokens_list_delete_and_touch() {
    let f = open();
    let owner = user(
        &f.store,
        UserScope::Platform,
        "owner@example.com",
        Role::Owner,
    )
    .await
    .unwrap();
    let other = user(
        &f.store,
        UserScope::Platform,
        "other@example.com",
        Role::Owner,
    )
    .await
    .unwrap();
    let h = personal_token(&f.store, &owner).await;
    let rec = f.store.personal_token(h).await.unwrap().unwrap();
    assert_eq!(rec.user.id, owner.id);
    assert_eq!(rec.token.scope, TokenScope::Read);
    assert!(rec.token.prefix.starts_with("e5p_") && rec.token.prefix.len() == 9);
    assert_eq!(
        f.store.list_personal_tokens(owner.id).await.unwrap(),
        vec![rec.token.clone()]
    );
    assert!(f.store.touch_personal_token(rec.token.id).await.unwrap());
    assert!(!f.store.touch_personal_token(rec.token.id).await.unwrap());
    let seen = f.store.personal_token(h).await.unwrap().unwrap();
    assert_eq!(seen.token.last_used_at, Some(f.store.now()));
    // Another user's token is not found; one's own is deleted.
    let e = f
        .store
        .delete_personal_token("user:other".into(), other.id, rec.token.id)
        .await
        .unwrap_err();
    assert_eq!(
        domain(e),
        DomainError::NotFound {
            what: "personal token"
        }
    );
    f.store
        .delete_personal_token("user:owner".into(), owner.id, rec.token.id)
        .await
        .unwrap();
    assert!(f.store.personal_token(h).await.unwrap().is_none());
}

#[tokio::test]
async fn login_failures_are_counted_within_the_window_and_cleared_by_a_login() {
    let f = open();
    let a = new_tenant(&f.store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    let ana = user(
        &f.store,
        UserScope::Tenant(a.id.into()),
        "ana@example.com",
        Role::Agent,
    )
    .await
    .unwrap();
    let policy = ThrottlePolicy::default();
    let key = ThrottleKey::Email("ANA@example.com".into());
    let ip = ThrottleKey::Ip("192.0.2.1".parse().unwrap());
    let mut last = Vec::new();
    for _ in 0..12 {
        last = f
            .store
            .record_login_failure(key.clone(), policy)
            .await
            .unwrap();
        f.store
            .record_login_failure(ip.clone(), policy)
            .await
            .unwrap();
        f.clock.advance(TimeDelta::seconds(10));
    }
    assert_eq!(
        last.len(),
        policy.failures_kept(),
        "only the last few are kept"
    );
    let since = f.store.now() - policy.window;
    assert_eq!(
        f.store
            .login_failures(ThrottleKey::Email("ana@example.com".into()), since)
            .await
            .unwrap(),
        last
    );
    // Past the window, old failures no longer count.
    f.clock.advance(policy.window);
    let now_list = f
        .store
        .record_login_failure(key.clone(), policy)
        .await
        .unwrap();
    assert_eq!(now_list, vec![f.store.now()]);
    // A login clears the e-mail's failures; the IP's stay.
    login(&f.store, &ana).await;
    let since = f.store.now() - policy.window;
    assert!(f.store.login_failures(key, since).await.unwrap().is_empty());
    assert_eq!(
        f.store
            .login_failures(ip.clone(), since - policy.window)
            .await
            .unwrap()
            .len(),
        0
    );
    f.store
        .record_login_failure(ip.clone(), policy)
        .await
        .unwrap();
    f.store.clear_login_failures(ip.clone()).await.unwrap();
    assert!(f.store.login_failures(ip, since).await.unwrap().is_empty());
}

#[tokio::test]
async fn no_hash_in_debug_output_or_audit_details() {
    let f = open();
    let owner = user(
        &f.store,
        UserScope::Platform,
        "owner@example.com",
        Role::Owner,
    )
    .await
    .unwrap();
    let hash = phc('z');
    f.store
        .set_password("admin:test".into(), owner.id, hash.clone(), None)
        .await
        .unwrap();
    let (raw, h) = token(TokenKind::Session);
    let new = NewSession {
        user_id: owner.id,
        token_hash: h,
        ip: None,
        user_agent: None,
    };
    let shown = format!("{new:?}");
    f.store.create_session("user:o".into(), new).await.unwrap();
    let p = personal_token(&f.store, &owner).await;
    let (_, link) = token(TokenKind::Reset);
    f.store
        .create_link("anon".into(), owner.id, LinkPurpose::Reset, link)
        .await
        .unwrap();
    let creds = f
        .store
        .find_user_by_email("owner@example.com".into())
        .await
        .unwrap()
        .unwrap();
    let session = f.store.session(h).await.unwrap().unwrap();
    let token = f.store.personal_token(p).await.unwrap().unwrap();
    let audit = f
        .store
        .list_audit(AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let all = format!(
        "{shown} {creds:?} {session:?} {token:?} {}",
        serde_json::to_string(&audit.data).unwrap()
    );
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    for secret in [
        hash.as_phc().to_string(),
        raw,
        hex(&h),
        hex(&p),
        hex(&link),
        format!("{:?}", h),
        format!("{:?}", &h[..4]).trim_end_matches(']').to_string(),
    ] {
        assert!(!all.contains(&secret), "{secret} leaked: {all}");
    }
    assert!(all.contains("[redacted]"));
    assert!(audit.data.len() >= 5);
}
