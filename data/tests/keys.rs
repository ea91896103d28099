//! API keys and master-key rotation against a real database file, with an injectable clock.

mod common;

use chrono::TimeDelta;
use common::{Fixture, master_key, new_tenant, t0};
use echo5_core::audit::AuditAction;
use echo5_core::clock::Clock;
use echo5_core::crypto::MasterKey;
use echo5_core::keys::KeyStatus;
use echo5_data::keys::KeyRejection;
use echo5_data::tenants::DeleteMode;
use echo5_data::{Store, StoreError, StoreOptions, TenantKey};
use std::sync::Arc;
use std::sync::atomic::Ordering;

fn mk(b: u8) -> MasterKey {
    master_key(b)
}

fn open() -> Fixture {
    common::open_with(mk(9), StoreOptions::default())
}

async fn tenant(s: &Store, name: &str, settings: &str) -> uuid::Uuid {
    new_tenant(s, &format!(r#"{{"name":"{name}","settings":{settings}}}"#))
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn created_key_authenticates_and_lists_without_its_secret() {
    let f = open();
    let a = tenant(&f.store, "Open Arms", "{}").await;
    let created = f
        .store
        .create_key("admin:t".into(), a.into(), Some("openarms.com".into()))
        .await
        .unwrap()
        .value;
    assert!(created.secret.starts_with("e5_"));
    assert_eq!(created.secret.len(), 35);
    assert_eq!(created.key.prefix, &created.secret[..8]);
    assert_eq!(created.key.status, KeyStatus::Active);
    let who = f.store.authenticate_key(&created.secret).unwrap();
    assert_eq!(who.tenant_id, a);
    assert_eq!(who.key_id, created.key.id);
    let listed = f.store.list_keys(a.into()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].label, "openarms.com");
    let dump = serde_json::to_string(&listed).unwrap();
    assert!(!dump.contains(&created.secret));
    assert!(!dump.contains(&created.secret[8..]));
    assert_eq!(
        f.store
            .authenticate_key("e5_notakeynotakeynotakeynotakey12"),
        Err(KeyRejection::Unknown)
    );
    assert_eq!(f.store.authenticate_key(""), Err(KeyRejection::Unknown));
    // Nothing of the key is in the database file except its prefix.
    f.store.shutdown().await;
    let bytes = std::fs::read(f.db()).unwrap();
    assert!(
        !bytes
            .windows(27)
            .any(|w| w == &created.secret.as_bytes()[8..])
    );
}

#[tokio::test]
async fn reveal_returns_the_same_key_and_is_audited() {
    let f = open();
    let a = tenant(&f.store, "Open Arms", "{}").await;
    let created = f
        .store
        .create_key("admin:t".into(), a.into(), None)
        .await
        .unwrap()
        .value;
    let revealed = f
        .store
        .reveal_key("admin:r".into(), a.into(), created.key.id)
        .await
        .unwrap();
    assert_eq!(revealed.secret, created.secret);
    let audit = f
        .store
        .list_audit(echo5_data::audit::AuditQuery {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.data[0].action, "key.revealed");
    assert_eq!(audit.data[0].actor, "admin:r");
    assert_eq!(
        audit.data[0].target.as_deref(),
        Some(created.key.id.to_string().as_str())
    );
    assert!(
        !serde_json::to_string(&audit.data)
            .unwrap()
            .contains(&created.secret)
    );
}

#[tokio::test]
async fn rotation_with_grace_then_expiry() {
    let f = open();
    let a = tenant(&f.store, "Open Arms", "{}").await;
    let old = f
        .store
        .create_key("admin:t".into(), a.into(), Some("site".into()))
        .await
        .unwrap()
        .value;
    let r = f
        .store
        .rotate_key("admin:t".into(), a.into(), old.key.id, 24, None)
        .await
        .unwrap()
        .value;
    assert_ne!(r.new_key.secret, old.secret);
    assert_eq!(r.new_key.key.label, "site");
    assert_eq!(r.new_key.key.rotated_from, Some(old.key.id));
    assert_eq!(r.old_key.status, KeyStatus::Expiring);
    assert_eq!(r.old_key.expires_at, Some(t0() + TimeDelta::hours(24)));
    assert_eq!(f.store.authenticate_key(&old.secret).unwrap().tenant_id, a);
    assert_eq!(
        f.store
            .authenticate_key(&r.new_key.secret)
            .unwrap()
            .tenant_id,
        a
    );
    f.clock
        .advance(TimeDelta::hours(24) - TimeDelta::seconds(1));
    assert!(
        f.store.authenticate_key(&old.secret).is_ok(),
        "still inside the grace period"
    );
    f.clock.advance(TimeDelta::seconds(1));
    assert_eq!(
        f.store.authenticate_key(&old.secret),
        Err(KeyRejection::Expired)
    );
    assert!(f.store.authenticate_key(&r.new_key.secret).is_ok());
    let listed = f.store.list_keys(a.into()).await.unwrap();
    assert_eq!(
        listed.iter().find(|k| k.id == old.key.id).unwrap().status,
        KeyStatus::Expired
    );
    // An expired key cannot be rotated or revealed again.
    let again = f
        .store
        .rotate_key("admin:t".into(), a.into(), old.key.id, 24, None)
        .await
        .unwrap_err();
    assert!(matches!(
        again,
        StoreError::Domain(echo5_core::DomainError::Conflict {
            code: "key_expired",
            ..
        })
    ));
    // The grace is bounded.
    let bad = f
        .store
        .rotate_key("admin:t".into(), a.into(), r.new_key.key.id, 721, None)
        .await
        .unwrap_err();
    assert!(matches!(
        bad,
        StoreError::Domain(echo5_core::DomainError::Invalid {
            code: "out_of_range",
            ..
        })
    ));
}

#[tokio::test]
async fn grace_zero_and_revoke_stop_a_key_at_once() {
    let f = open();
    let a = tenant(&f.store, "Open Arms", "{}").await;
    let k1 = f
        .store
        .create_key("admin:t".into(), a.into(), None)
        .await
        .unwrap()
        .value;
    let r = f
        .store
        .rotate_key("admin:t".into(), a.into(), k1.key.id, 0, None)
        .await
        .unwrap()
        .value;
    assert_eq!(
        f.store.authenticate_key(&k1.secret),
        Err(KeyRejection::Expired)
    );
    assert!(f.store.authenticate_key(&r.new_key.secret).is_ok());
    let revoked = f
        .store
        .revoke_key("admin:t".into(), a.into(), r.new_key.key.id)
        .await
        .unwrap()
        .value;
    assert_eq!(revoked.status, KeyStatus::Revoked);
    assert_eq!(revoked.revoked_at, Some(t0()));
    assert_eq!(
        f.store.authenticate_key(&r.new_key.secret),
        Err(KeyRejection::Revoked)
    );
    // Revoking twice is harmless and keeps the first time.
    f.clock.advance(TimeDelta::hours(1));
    let twice = f
        .store
        .revoke_key("admin:t".into(), a.into(), r.new_key.key.id)
        .await
        .unwrap()
        .value;
    assert_eq!(twice.revoked_at, Some(t0()));
    // The state survives a restart (the index is rebuilt from the database).
    f.store.shutdown().await;
    let clock: Arc<dyn Clock> = f.clock.clone();
    let again = Store::open(&f.db(), mk(9), clock, StoreOptions::default()).unwrap();
    assert_eq!(
        again.authenticate_key(&r.new_key.secret),
        Err(KeyRejection::Revoked)
    );
    assert_eq!(
        again.authenticate_key(&k1.secret),
        Err(KeyRejection::Expired)
    );
}

#[tokio::test]
async fn a_key_of_tenant_a_never_resolves_to_tenant_b() {
    let f = open();
    let a = tenant(&f.store, "Open Arms", "{}").await;
    let b = tenant(&f.store, "Caring Hearts", "{}").await;
    let ka = f
        .store
        .create_key("admin:t".into(), a.into(), None)
        .await
        .unwrap()
        .value;
    let kb = f
        .store
        .create_key("admin:t".into(), b.into(), None)
        .await
        .unwrap()
        .value;
    assert_eq!(f.store.authenticate_key(&ka.secret).unwrap().tenant_id, a);
    assert_eq!(f.store.authenticate_key(&kb.secret).unwrap().tenant_id, b);
    // B's routes do not know A's key.
    for r in [
        f.store
            .reveal_key("admin:t".into(), b.into(), ka.key.id)
            .await
            .unwrap_err(),
        f.store
            .revoke_key("admin:t".into(), b.into(), ka.key.id)
            .await
            .map(|_| ())
            .unwrap_err(),
        f.store
            .rotate_key("admin:t".into(), b.into(), ka.key.id, 1, None)
            .await
            .map(|_| ())
            .unwrap_err(),
    ] {
        assert!(
            matches!(
                r,
                StoreError::Domain(echo5_core::DomainError::NotFound { what: "key" })
            ),
            "{r:?}"
        );
    }
    assert!(
        f.store.authenticate_key(&ka.secret).is_ok(),
        "A's key untouched"
    );
    assert_eq!(f.store.list_keys(b.into()).await.unwrap().len(), 1);
    // Deleting tenant B stops its keys at once.
    f.store
        .delete_tenant("admin:t".into(), b.into(), DeleteMode::KeepLeads)
        .await
        .unwrap();
    assert_eq!(
        f.store.authenticate_key(&kb.secret),
        Err(KeyRejection::Unknown)
    );
}

#[tokio::test]
async fn last_used_is_coalesced_not_written_per_request() {
    let f = open();
    let a = tenant(&f.store, "Open Arms", "{}").await;
    let k = f
        .store
        .create_key("admin:t".into(), a.into(), None)
        .await
        .unwrap()
        .value;
    let commits = || f.store.writer_stats().commits.load(Ordering::Relaxed);
    let before = commits();
    for i in 0..1000 {
        f.clock.set(t0() + TimeDelta::milliseconds(i));
        f.store.authenticate_key(&k.secret).unwrap();
    }
    assert_eq!(commits(), before, "authentication wrote nothing");
    // Listing already shows the latest use.
    let listed = f.store.list_keys(a.into()).await.unwrap();
    assert_eq!(
        listed[0].last_used_at,
        Some(t0() + TimeDelta::milliseconds(999))
    );
    assert_eq!(
        f.store.flush_coalesced().await.unwrap(),
        2,
        "one key time and one usage row"
    );
    assert_eq!(commits(), before + 1, "one write for a thousand uses");
    assert_eq!(f.store.flush_coalesced().await.unwrap(), 0);
    f.store.shutdown().await;
    let clock: Arc<dyn Clock> = f.clock.clone();
    let again = Store::open(&f.db(), mk(9), clock, StoreOptions::default()).unwrap();
    let listed = again.list_keys(a.into()).await.unwrap();
    assert_eq!(
        listed[0].last_used_at,
        Some(t0() + TimeDelta::milliseconds(999))
    );
}

#[tokio::test]
async fn a_tampered_copy_fails_loudly() {
    let f = open();
    let a = tenant(&f.store, "Open Arms", "{}").await;
    let k = f
        .store
        .create_key("admin:t".into(), a.into(), None)
        .await
        .unwrap()
        .value;
    let id = k.key.id.to_string();
    f.store
        .write(move |c| {
            let mut sealed: Vec<u8> =
                c.query_row("SELECT key_enc FROM api_keys WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })?;
            let last = sealed.len() - 1;
            sealed[last] ^= 0x01;
            c.execute(
                "UPDATE api_keys SET key_enc = ?2 WHERE id = ?1",
                rusqlite::params![id, sealed],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let err = f
        .store
        .reveal_key("admin:t".into(), a.into(), k.key.id)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Crypto(echo5_core::crypto::CryptoError::Authentication)
        ),
        "{err:?}"
    );
    // A copy moved to another key's row does not open there either (associated data).
    let k2 = f
        .store
        .create_key("admin:t".into(), a.into(), None)
        .await
        .unwrap()
        .value;
    let k3 = f
        .store
        .create_key("admin:t".into(), a.into(), None)
        .await
        .unwrap()
        .value;
    let (from, to) = (k2.key.id.to_string(), k3.key.id.to_string());
    f.store
        .write(move |c| {
            c.execute("UPDATE api_keys SET key_enc = (SELECT key_enc FROM api_keys WHERE id = ?1) WHERE id = ?2", [from, to])?;
            Ok(())
        })
        .await
        .unwrap();
    assert!(matches!(
        f.store
            .reveal_key("admin:t".into(), a.into(), k3.key.id)
            .await
            .unwrap_err(),
        StoreError::Crypto(_)
    ));
    // Nothing was audited for the failed reveals.
    let audit = f
        .store
        .list_audit(echo5_data::audit::AuditQuery {
            action: Some("key.revealed".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(audit.data.is_empty());
}

#[tokio::test]
async fn master_key_rotation_keeps_every_key_and_secret_usable() {
    let f = open();
    let a = tenant(
        &f.store,
        "Open Arms",
        r#"{"meta_access_token":"EAAGmetaTOKEN000111"}"#,
    )
    .await;
    let b = tenant(
        &f.store,
        "Caring Hearts",
        r#"{"google_ads":{"customer_id":"1234567890","conversion_action":"Lead","webhook_key":"wk_abcdefghijkl"}}"#,
    )
    .await;
    let ka = f
        .store
        .create_key("admin:t".into(), a.into(), None)
        .await
        .unwrap()
        .value;
    let kb = f
        .store
        .create_key("admin:t".into(), b.into(), None)
        .await
        .unwrap()
        .value;
    let rot = f.store.rotate_master_key(mk(77)).await.unwrap();
    assert_eq!(
        rot,
        echo5_data::master_key::Rotation {
            tenant_secrets: 2,
            api_keys: 2,
            version: 2
        }
    );
    // Still usable in this process...
    assert_eq!(
        f.store
            .reveal_key("admin:t".into(), a.into(), ka.key.id)
            .await
            .unwrap()
            .secret,
        ka.secret
    );
    assert!(f.store.authenticate_key(&kb.secret).is_ok());
    f.store.shutdown().await;
    // ...the old key no longer opens the database...
    let clock: Arc<dyn Clock> = f.clock.clone();
    let path = f.db();
    assert!(matches!(
        Store::open(&path, mk(9), clock.clone(), StoreOptions::default())
            .err()
            .unwrap(),
        StoreError::WrongMasterKey { .. }
    ));
    // ...and the new one opens every value, sealed as generation 2.
    let s = Store::open(&path, mk(77), clock, StoreOptions::default()).unwrap();
    assert_eq!(
        s.reveal_key("admin:t".into(), b.into(), kb.key.id)
            .await
            .unwrap()
            .secret,
        kb.secret
    );
    assert!(s.authenticate_key(&ka.secret).is_ok());
    let (meta, google): (Vec<u8>, Vec<u8>) = s
        .read(move |c| {
            Ok((
                c.query_row(
                    "SELECT meta_token_enc FROM tenants WHERE id = ?1",
                    [a.to_string()],
                    |r| r.get(0),
                )?,
                c.query_row(
                    "SELECT google_ads_enc FROM tenants WHERE id = ?1",
                    [b.to_string()],
                    |r| r.get(0),
                )?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(meta[0], 2, "version byte");
    let k77 = mk(77).with_version(2);
    assert_eq!(
        k77.open_string(format!("tenant:{a}:meta_access_token").as_bytes(), &meta)
            .unwrap()
            .expose(),
        "EAAGmetaTOKEN000111"
    );
    let g = k77
        .open_string(format!("tenant:{b}:google_ads").as_bytes(), &google)
        .unwrap();
    assert!(g.expose().contains("wk_abcdefghijkl"));
    // A key made after the rotation is sealed under the new generation too.
    let kc = s
        .create_key("admin:t".into(), TenantKey::Id(a), None)
        .await
        .unwrap()
        .value;
    assert_eq!(
        s.reveal_key("admin:t".into(), a.into(), kc.key.id)
            .await
            .unwrap()
            .secret,
        kc.secret
    );
}

#[tokio::test]
async fn inactive_tenant_keys_are_refused_in_memory_and_after_reopen() {
    let f = open();
    let a = tenant(&f.store, "Open Arms", "{}").await;
    let key = f
        .store
        .create_key("admin:t".into(), a.into(), None)
        .await
        .unwrap()
        .value
        .secret;
    let set_active = |active: bool| {
        let store = f.store.clone();
        async move {
            store
                .update_tenant(
                    "admin:t".into(),
                    a.into(),
                    AuditAction::TenantUpdated,
                    move |cur| {
                        let mut next = cur.clone();
                        next.active = active;
                        Ok((next, Default::default()))
                    },
                )
                .await
                .unwrap()
                .value
        }
    };
    assert!(f.store.authenticate_key(&key).is_ok());
    set_active(false).await;
    assert_eq!(
        f.store.authenticate_key(&key),
        Err(KeyRejection::TenantInactive)
    );
    // Racing changes: whatever order their callers resume in, memory ends as stored.
    let racing: Vec<_> = (0..40)
        .map(|i| tokio::spawn(set_active(i % 2 == 0)))
        .collect();
    for r in racing {
        r.await.unwrap();
    }
    let stored = f.store.get_tenant(a.into()).await.unwrap().active;
    assert_eq!(f.store.authenticate_key(&key).is_ok(), stored);
    set_active(false).await;
    // Reopened: the flag comes from the database.
    f.store.shutdown().await;
    drop(f.store);
    let store = Store::open(
        &f.dir.path().join(common::DB_FILE),
        mk(9),
        f.clock.clone(),
        StoreOptions::default(),
    )
    .unwrap();
    assert_eq!(
        store.authenticate_key(&key),
        Err(KeyRejection::TenantInactive)
    );
    store
        .update_tenant(
            "admin:t".into(),
            a.into(),
            AuditAction::TenantUpdated,
            |cur| {
                let mut next = cur.clone();
                next.active = true;
                Ok((next, Default::default()))
            },
        )
        .await
        .unwrap();
    assert!(store.authenticate_key(&key).is_ok());
}

#[tokio::test]
async fn the_meta_app_secret_and_google_key_are_sealed_and_survive_a_rotation() {
    use echo5_core::secret::{Secret, SecretUpdate};
    let f = open();
    let b = tenant(
        &f.store,
        "Caring Hearts",
        r#"{"google_ads":{"customer_id":"1234567890","conversion_action":"Lead","webhook_key":"wk_abcdefghijkl"}}"#,
    )
    .await;
    let app_secret = "0123456789abcdef0123456789abcdef";
    let set = SecretUpdate::Set(Secret::new(app_secret.to_string()));
    let after = f
        .store
        .update_platform_settings(
            "admin:t".into(),
            AuditAction::PlatformSettingsUpdated,
            set,
            |cur| Ok(cur.clone()),
        )
        .await
        .unwrap()
        .value;
    assert!(after.meta_app_secret.set);
    assert_eq!(after.meta_app_secret.last4.as_deref(), Some("cdef"));
    // Neither the document nor the column holds it in clear.
    let (doc, sealed): (String, Vec<u8>) = f
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT settings, meta_app_secret_enc FROM platform_settings WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .unwrap();
    assert!(!doc.contains(app_secret) && !doc.contains("meta_app_secret\":{\"set\":true"));
    assert!(!String::from_utf8_lossy(&sealed).contains(app_secret));
    let opened = f.store.meta_app_secret().await.unwrap().unwrap();
    assert_eq!(opened.expose(), app_secret);
    let profile = f.store.ingest_profile(b).await.unwrap();
    assert_eq!(
        profile
            .google_webhook_key
            .as_ref()
            .map(|k| k.expose().as_str()),
        Some("wk_abcdefghijkl")
    );
    let rot = f.store.rotate_master_key(mk(78)).await.unwrap();
    assert_eq!(
        rot.tenant_secrets, 2,
        "the Google config and the app secret"
    );
    f.store.shutdown().await;
    let clock: Arc<dyn Clock> = f.clock.clone();
    let s = Store::open(&f.db(), mk(78), clock, StoreOptions::default()).unwrap();
    assert_eq!(
        s.meta_app_secret().await.unwrap().unwrap().expose(),
        app_secret
    );
    assert_eq!(
        s.ingest_profile(b)
            .await
            .unwrap()
            .google_webhook_key
            .as_ref()
            .map(|k| k.expose().clone()),
        Some("wk_abcdefghijkl".to_string())
    );
    assert!(s.platform_settings().await.unwrap().meta_app_secret.set);
    s.shutdown().await;
}
