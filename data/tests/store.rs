//! The storage layer against a real database file in a temporary directory.

mod common;

use chrono::TimeDelta;
use common::{
    Fixture, add_lead, domain, enter, history, ingest, key_for, master_key, new_tenant, t0,
};
use echo5_core::DomainError;
use echo5_core::audit::AuditAction;
use echo5_core::clock::Clock;
use echo5_core::crypto::MasterKey;
use echo5_core::leads::{Lead, NewLead, new_lead_id};
use echo5_core::secret::{Secret, SecretUpdate};
use echo5_core::settings::SecretChanges;
use echo5_core::stages::{NewStage, StageKind, StagePatch};
use echo5_core::tenants::{self, TenantPatch};
use echo5_data::tenants::DeleteMode;
use echo5_data::{Store, StoreError, StoreOptions, TenantKey};
use std::sync::Arc;

fn key() -> MasterKey {
    master_key(42)
}

fn open_with(opts: StoreOptions) -> Fixture {
    common::open_with(key(), opts)
}

fn open() -> Fixture {
    open_with(StoreOptions::default())
}

#[tokio::test]
async fn tenant_create_get_by_id_and_slug_with_default_pipeline() {
    let f = open();
    let t = new_tenant(&f.store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    assert_eq!(t.slug, "open-arms");
    assert_eq!(t.settings.sla_hours, 24);
    assert_eq!(t.created_at, t0());
    let by_slug = f
        .store
        .get_tenant(TenantKey::parse("open-arms"))
        .await
        .unwrap();
    let by_id = f
        .store
        .get_tenant(TenantKey::parse(&t.id.to_string()))
        .await
        .unwrap();
    assert_eq!(by_slug, t);
    assert_eq!(by_id, t);
    let stages = f.store.list_stages(t.id.into()).await.unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "New",
            "Contacted",
            "Qualified",
            "Tour Scheduled",
            "Won",
            "Lost"
        ]
    );
    let dup = new_tenant(&f.store, r#"{"name":"Other","slug":"open-arms"}"#)
        .await
        .unwrap_err();
    assert!(matches!(
        domain(dup),
        DomainError::Conflict {
            code: "slug_taken",
            ..
        }
    ));
    let missing = f
        .store
        .get_tenant(TenantKey::parse("nobody"))
        .await
        .unwrap_err();
    assert_eq!(domain(missing), DomainError::NotFound { what: "tenant" });
}

#[tokio::test]
async fn tenants_page_newest_first_and_stably() {
    let f = open();
    for i in 0..7 {
        f.clock.advance(TimeDelta::seconds(1));
        new_tenant(&f.store, &format!(r#"{{"name":"Tenant {i}"}}"#))
            .await
            .unwrap();
    }
    let p1 = f.store.list_tenants(3, None).await.unwrap();
    assert_eq!(
        p1.data.iter().map(|t| t.slug.as_str()).collect::<Vec<_>>(),
        ["tenant-6", "tenant-5", "tenant-4"]
    );
    // A tenant created between pages does not shift the next page.
    f.clock.advance(TimeDelta::seconds(1));
    new_tenant(&f.store, r#"{"name":"Late"}"#).await.unwrap();
    let cur = echo5_core::page::Cursor::decode(p1.next_cursor.as_deref().unwrap()).unwrap();
    let p2 = f.store.list_tenants(3, Some(cur)).await.unwrap();
    assert_eq!(
        p2.data.iter().map(|t| t.slug.as_str()).collect::<Vec<_>>(),
        ["tenant-3", "tenant-2", "tenant-1"]
    );
    let cur = echo5_core::page::Cursor::decode(p2.next_cursor.as_deref().unwrap()).unwrap();
    let p3 = f.store.list_tenants(3, Some(cur)).await.unwrap();
    assert_eq!(p3.data.len(), 1);
    assert_eq!(p3.next_cursor, None);
}

#[tokio::test]
async fn secrets_are_sealed_at_rest_and_masked_in_views() {
    let f = open();
    let token = "EAAGsecretTOKENvalue9876";
    let t = new_tenant(
        &f.store,
        &format!(r#"{{"name":"Caring Hearts","settings":{{"meta_access_token":"{token}"}}}}"#),
    )
    .await
    .unwrap();
    assert!(t.settings.meta_access_token.set);
    assert_eq!(t.settings.meta_access_token.last4.as_deref(), Some("9876"));
    assert!(!t.settings.google_ads.set);
    // Nothing in the database file holds the token in clear.
    f.store.shutdown().await;
    let bytes = std::fs::read(f.db()).unwrap();
    assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    let conn = rusqlite::Connection::open(f.db()).unwrap();
    let sealed: Vec<u8> = conn
        .query_row("SELECT meta_token_enc FROM tenants", [], |r| r.get(0))
        .unwrap();
    let aad = format!("tenant:{}:meta_access_token", t.id);
    assert_eq!(
        key().open_string(aad.as_bytes(), &sealed).unwrap().expose(),
        token
    );
    // Sealed to this tenant: opening it as another tenant's fails.
    assert!(
        key()
            .open(b"tenant:other:meta_access_token", &sealed)
            .is_err()
    );
}

#[tokio::test]
async fn update_keeps_clears_and_audits_without_secret_values() {
    let f = open();
    let t = new_tenant(
        &f.store,
        r#"{"name":"Family First","settings":{"meta_access_token":"EAAGabcdefgh1234"}}"#,
    )
    .await
    .unwrap();
    let patch: TenantPatch =
        serde_json::from_str(r#"{"settings":{"sla_hours":4,"spam_keywords":["Casino"]}}"#).unwrap();
    let after = f
        .store
        .update_tenant(
            "admin:test".into(),
            t.id.into(),
            AuditAction::TenantUpdated,
            move |cur| tenants::apply_patch(cur, &patch),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(after.settings.sla_hours, 4);
    assert_eq!(after.settings.spam_keywords, vec!["casino"]);
    assert!(after.settings.meta_access_token.set, "kept");
    let cleared = f
        .store
        .update_tenant(
            "admin:test".into(),
            t.id.into(),
            AuditAction::SettingsUpdated,
            |cur| {
                Ok((
                    cur.clone(),
                    SecretChanges {
                        meta_access_token: SecretUpdate::Clear,
                        ..Default::default()
                    },
                ))
            },
        )
        .await
        .unwrap()
        .value;
    assert!(!cleared.settings.meta_access_token.set);
    let invalid = f
        .store
        .update_tenant(
            "admin:test".into(),
            t.id.into(),
            AuditAction::TenantUpdated,
            |cur| {
                let p: TenantPatch =
                    serde_json::from_str(r#"{"settings":{"sla_hours":0}}"#).unwrap();
                tenants::apply_patch(cur, &p)
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(domain(invalid), DomainError::Invalid { .. }));
    let audit = f
        .store
        .list_audit(echo5_data::audit::AuditQuery {
            tenant_id: Some(t.id),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = audit.data.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        ["settings.updated", "tenant.updated", "tenant.created"]
    );
    assert_eq!(
        audit.data[1].details["changed"],
        serde_json::json!(["settings.sla_hours", "settings.spam_keywords"])
    );
    assert_eq!(
        audit.data[0].details["changed"],
        serde_json::json!(["settings.meta_access_token"])
    );
    assert_eq!(audit.data[0].tenant.as_ref().unwrap().slug, "family-first");
    let dump = serde_json::to_string(&audit.data).unwrap();
    assert!(!dump.contains("EAAGabcdefgh1234"));
}

#[tokio::test]
async fn stage_rename_keeps_leads_reorder_and_delete_with_move() {
    let f = open();
    let t = new_tenant(&f.store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    let stages = f.store.list_stages(t.id.into()).await.unwrap();
    let (new, contacted, qualified) = (stages[0].id, stages[1].id, stages[2].id);
    let lead = add_lead(&f.store, t.id, qualified, t0()).await;
    add_lead(&f.store, t.id, qualified, t0()).await;

    let renamed = f
        .store
        .patch_stage(
            "a".into(),
            t.id.into(),
            qualified,
            StagePatch {
                name: Some("Assessed".into()),
                kind: None,
            },
        )
        .await
        .unwrap()
        .value;
    assert_eq!(renamed.name, "Assessed");
    assert_eq!(f.store.get_lead(lead.id).await.unwrap().stage_id, qualified);
    let listed = f.store.list_stages(t.id.into()).await.unwrap();
    assert_eq!(listed[2].name, "Assessed");
    assert_eq!(listed[2].lead_count, 2);

    let added = f
        .store
        .add_stage(
            "a".into(),
            t.id.into(),
            NewStage {
                name: "Nurture".into(),
                kind: StageKind::Open,
            },
        )
        .await
        .unwrap()
        .value;
    let mut order: Vec<uuid::Uuid> = f
        .store
        .list_stages(t.id.into())
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(*order.last().unwrap(), added.id);
    order.swap(1, 6);
    let re = f
        .store
        .reorder_stages("a".into(), t.id.into(), order.clone())
        .await
        .unwrap()
        .value;
    assert_eq!(re[1].name, "Nurture");
    let listed: Vec<uuid::Uuid> = f
        .store
        .list_stages(t.id.into())
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, order);

    let refused = f
        .store
        .delete_stage("a".into(), t.id.into(), qualified, None)
        .await
        .unwrap_err();
    assert!(matches!(
        domain(refused),
        DomainError::Conflict {
            code: "stage_not_empty",
            ..
        }
    ));
    assert_eq!(
        f.store.list_stages(t.id.into()).await.unwrap().len(),
        7,
        "nothing deleted"
    );
    f.clock.advance(TimeDelta::minutes(5));
    let done = f
        .store
        .delete_stage("admin:x".into(), t.id.into(), qualified, Some(contacted))
        .await
        .unwrap()
        .value;
    assert_eq!(done.moved_leads, 2);
    let moved = f.store.get_lead(lead.id).await.unwrap();
    assert_eq!(moved.stage_id, contacted);
    assert_eq!(moved.stage_changed_at, f.clock.now());
    let history = history(&f.store, lead.id).await;
    assert_eq!(
        history.last().unwrap(),
        &(Some(qualified), contacted, "admin:x".to_string())
    );
    assert_eq!(f.store.list_stages(t.id.into()).await.unwrap().len(), 6);
    // Empty stages delete without move_to.
    f.store
        .delete_stage("a".into(), t.id.into(), added.id, None)
        .await
        .unwrap();
    let left = f.store.list_stages(t.id.into()).await.unwrap();
    assert_eq!(left[0].id, new);
    assert_eq!(left.len(), 5);
}

#[tokio::test]
async fn tenant_delete_protects_leads_unless_purged() {
    let f = open();
    let t = new_tenant(&f.store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    let stages = f.store.list_stages(t.id.into()).await.unwrap();
    add_lead(&f.store, t.id, stages[0].id, t0()).await;
    let refused = f
        .store
        .delete_tenant("a".into(), t.id.into(), DeleteMode::KeepLeads)
        .await
        .unwrap_err();
    assert!(matches!(
        domain(refused),
        DomainError::Conflict {
            code: "tenant_not_empty",
            ..
        }
    ));
    assert_eq!(f.store.count_leads(t.id).await.unwrap(), 1);
    f.store
        .delete_tenant("a".into(), t.id.into(), DeleteMode::Purge)
        .await
        .unwrap();
    assert_eq!(f.store.count_leads(t.id).await.unwrap(), 0);
    assert!(f.store.get_tenant(t.id.into()).await.is_err());
    // The audit row outlives the tenant and still names it.
    let audit = f
        .store
        .list_audit(echo5_data::audit::AuditQuery {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.data[0].action, "tenant.deleted");
    assert_eq!(audit.data[0].tenant.as_ref().unwrap().slug, "open-arms");
}

#[tokio::test]
async fn group_commit_batches_and_isolates_a_failing_job() {
    let f = open();
    let s = f.store.clone();
    s.write(|c| {
        c.execute_batch("CREATE TABLE t(n INTEGER PRIMARY KEY)")?;
        Ok(())
    })
    .await
    .unwrap();
    let mut handles = Vec::new();
    for n in 0..400i64 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            s.write(move |c| {
                c.execute("INSERT INTO t(n) VALUES (?1)", [n])?;
                if n == 77 {
                    return Err(StoreError::Domain(DomainError::conflict(
                        "boom",
                        "job 77 fails",
                    )));
                }
                Ok(n)
            })
            .await
        }));
    }
    let mut ok = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Domain(_)) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(ok, 399);
    let rows: i64 = s
        .read(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(rows, 399, "the failing job rolled back alone");
    let has77: i64 = s
        .read(|c| Ok(c.query_row("SELECT count(*) FROM t WHERE n = 77", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(has77, 0);
    let stats = s.writer_stats();
    let commits = stats.commits.load(std::sync::atomic::Ordering::Relaxed);
    let jobs = stats.jobs.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        commits < jobs,
        "{jobs} jobs in {commits} commits: no grouping happened"
    );
}

#[tokio::test]
async fn a_panicking_job_does_not_kill_the_writer() {
    let f = open();
    let r = f
        .store
        .write(|_| -> Result<(), StoreError> { panic!("bug") })
        .await;
    assert!(matches!(r, Err(StoreError::Internal(_))));
    f.store.probe_write().await.unwrap();
}

#[tokio::test]
async fn a_full_queue_refuses_instead_of_dropping() {
    let f = open_with(StoreOptions {
        readers: 1,
        write_queue: 2,
        max_batch: 1,
    });
    // Hold the writer busy so the queue fills: wait until its thread runs the blocker.
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let s = f.store.clone();
    let blocker = tokio::spawn(async move {
        s.write(move |_| {
            let _ = started_tx.send(());
            let _ = release_rx.recv();
            Ok(())
        })
        .await
    });
    tokio::task::spawn_blocking(move || {
        started_rx.recv_timeout(std::time::Duration::from_secs(30))
    })
    .await
    .unwrap()
    .expect("the writer runs the blocker");
    // The first poll of a write queues it or refuses it (the channel answers at once).
    let mut queued = Vec::new();
    let mut refused = 0;
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..10 {
        let mut job = Box::pin(f.store.probe_write());
        match job.as_mut().poll(&mut cx) {
            std::task::Poll::Pending => queued.push(job),
            std::task::Poll::Ready(Err(StoreError::QueueFull)) => refused += 1,
            std::task::Poll::Ready(r) => panic!("{r:?}"),
        }
    }
    release_tx.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    let mut accepted = 0;
    for h in queued {
        match h.await {
            Ok(()) => accepted += 1,
            Err(StoreError::QueueFull) => refused += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(accepted, 2, "exactly the queue's capacity was accepted");
    assert_eq!(refused, 8);
}

#[tokio::test]
async fn shutdown_commits_queued_work_and_reopen_sees_it() {
    let f = open();
    let t = new_tenant(&f.store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    let stages = f.store.list_stages(t.id.into()).await.unwrap();
    let mut pending = Vec::new();
    for i in 0..50 {
        let s = f.store.clone();
        let stage = stages[0].id;
        pending.push(tokio::spawn(async move {
            let new = NewLead {
                name: Some(format!("Lead {i}")),
                created_at: Some(t0() - TimeDelta::seconds(i)),
                stage_id: Some(stage),
                ..NewLead::default()
            };
            s.create_lead("a".into(), t.id.into(), new).await
        }));
    }
    tokio::task::yield_now().await;
    f.store.shutdown().await;
    let mut acked = 0;
    for p in pending {
        if p.await.unwrap().is_ok() {
            acked += 1;
        }
    }
    let after = f.store.probe_write().await;
    assert!(
        matches!(after, Err(StoreError::Unavailable(_))),
        "closed after shutdown"
    );
    let clock: Arc<dyn Clock> = f.clock.clone();
    let again = Store::open(&f.db(), key(), clock, StoreOptions::default()).unwrap();
    assert_eq!(again.count_leads(t.id).await.unwrap(), acked);
    assert!(acked > 0);
}

#[tokio::test]
async fn a_wrong_master_key_is_refused_at_open() {
    let f = open();
    f.store.shutdown().await;
    let clock: Arc<dyn Clock> = f.clock.clone();
    let wrong = MasterKey::from_bytes([1; 32], 1);
    let err = Store::open(&f.db(), wrong, clock, StoreOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::WrongMasterKey { .. }));
    assert!(err.to_string().contains("ECHO5_MASTER_KEY"));
}

#[tokio::test]
async fn demo_seeds_once() {
    let f = open();
    let n = f.store.seed_demo(1).await.unwrap().unwrap();
    assert!(n >= 300, "a few hundred leads, got {n}");
    assert_eq!(f.store.seed_demo(1).await.unwrap(), None);
    let page = f.store.list_tenants(50, None).await.unwrap();
    let mut slugs: Vec<&str> = page.data.iter().map(|t| t.slug.as_str()).collect();
    slugs.sort();
    assert_eq!(slugs, ["caring-hearts", "family-first", "open-arms"]);
    let total: u64 = {
        let mut sum = 0;
        for t in &page.data {
            sum += f.store.count_leads(t.id).await.unwrap();
        }
        sum
    };
    assert_eq!(total as usize, n);
}

#[tokio::test]
async fn admin_tokens_store_only_hashes() {
    let f = open();
    let (h, token) = f
        .store
        .create_admin_token("first".into(), false)
        .await
        .unwrap();
    assert_eq!(
        h.hash,
        echo5_core::crypto::sha256(token.expose().as_bytes())
    );
    let (_, second) = f
        .store
        .create_admin_token("reset".into(), true)
        .await
        .unwrap();
    let active = f.store.active_admin_tokens().await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(
        active[0].hash,
        echo5_core::crypto::sha256(second.expose().as_bytes())
    );
    assert!(!format!("{active:?}").contains(second.expose().as_str()));
    let _unused: Secret<String> = token;
}

#[tokio::test]
async fn lead_counts_follow_every_write_path() {
    let f = open();
    let db = f.db();
    let a = new_tenant(&f.store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    let b = new_tenant(&f.store, r#"{"name":"Bright Path"}"#)
        .await
        .unwrap();
    let sa = f.store.list_stages(a.id.into()).await.unwrap();
    let sb = f.store.list_stages(b.id.into()).await.unwrap();

    // Leads of every kind: clean, spam with a reason, a duplicate, a raw body.
    let first = add_lead(&f.store, a.id, sa[0].id, t0()).await;
    let who = key_for(&f.store, a.id).await;
    let mut spam = Lead::blank(new_lead_id(t0()), a.id, sa[0].id, t0());
    spam.name = Some("Casino".into());
    let spam = ingest(&f.store, who, spam, Some("keyword:casino")).await;
    assert!(spam.is_spam);
    let mut dup = Lead::blank(new_lead_id(t0()), a.id, sa[0].id, t0());
    dup.email = Some("jane@example.com".into());
    dup.message = Some("again, with feeling".into());
    let dup = ingest(&f.store, who, dup, None).await;
    assert_eq!(dup.duplicate_of, Some(first.id));
    for i in 0..20 {
        let new = NewLead {
            name: Some(format!("Lead {i}")),
            stage_id: Some(sb[i % 3].id),
            ..NewLead::default()
        };
        enter(&f.store, b.id, new).await;
    }
    assert_eq!(common::counts_match_leads(&db), 2 + 3);

    // Ingest counts its leads per group commit rather than per row: clean, spam and a
    // duplicate, each with its raw body, concurrently so they share batches.
    let posts = (0..12).map(|i| {
        let s = f.store.clone();
        let mut lead = Lead::blank(new_lead_id(t0()), a.id, sa[0].id, t0());
        lead.email = Some(format!("visitor{}@example.com", i % 4));
        lead.name = Some(format!("Visitor {i}"));
        let raw = format!(
            r#"{{"your-name":"Visitor {i}","your-email":"visitor{}@example.com"}}"#,
            i % 4
        );
        tokio::spawn(async move {
            s.ingest(echo5_data::ingest::IngestRequest {
                key: who,
                lead,
                raw: raw.into_bytes(),
                content_type: "application/json".into(),
                idempotency_key: None,
                spam_reason: (i % 5 == 0).then(|| "keyword:casino".to_owned()),
            })
            .await
        })
    });
    let mut statuses = Vec::new();
    for p in posts.collect::<Vec<_>>() {
        statuses.push(p.await.unwrap().unwrap().status);
    }
    use echo5_data::ingest::IngestStatus;
    assert!(statuses.contains(&IngestStatus::Spam), "{statuses:?}");
    assert!(statuses.contains(&IngestStatus::Duplicate), "{statuses:?}");
    assert!(statuses.contains(&IngestStatus::Created), "{statuses:?}");
    assert_eq!(common::counts_match_leads(&db), 2 + 3);
    let listed = f.store.list_stages(b.id.into()).await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.lead_count).collect::<Vec<_>>(),
        vec![7, 7, 6, 0, 0, 0]
    );

    // Manual entry (with a first note), a move, then notes alone: notes live in their own
    // table and leave the counts as they are.
    let manual: echo5_core::leads::NewLead =
        serde_json::from_str(r#"{"name":"Walk In","phone":"+15551234567","notes":"walked in"}"#)
            .unwrap();
    f.store
        .create_lead("a".into(), a.id.into(), manual)
        .await
        .unwrap();
    let moved = echo5_core::leads::LeadPatch {
        stage_id: Some(sa[1].id),
        ..Default::default()
    };
    f.store
        .patch_lead(
            "a".into(),
            first.id,
            moved,
            echo5_core::authorization::Reach::All,
        )
        .await
        .unwrap();
    common::counts_match_leads(&db);
    let note = echo5_core::leads::NewNote {
        text: "called back, booked a tour for Friday".into(),
    };
    f.store
        .add_note(
            "a".into(),
            first.id,
            note,
            echo5_core::authorization::Reach::All,
        )
        .await
        .unwrap();
    common::counts_match_leads(&db);

    // Deleting a stage moves its leads; purging a tenant removes its rows.
    f.store
        .delete_stage("a".into(), b.id.into(), sb[1].id, Some(sb[2].id))
        .await
        .unwrap();
    assert_eq!(common::counts_match_leads(&db), 3 + 2);
    let listed = f.store.list_stages(b.id.into()).await.unwrap();
    assert_eq!(listed[1].lead_count, 13);
    f.store
        .delete_tenant("a".into(), a.id.into(), DeleteMode::Purge)
        .await
        .unwrap();
    assert_eq!(common::counts_match_leads(&db), 2);
}

/// One submission through the ingest path, with an `Idempotency-Key`.
async fn ingest_with_key(
    s: &Store,
    who: echo5_data::keys::KeyIdentity,
    idem: &str,
    email: &str,
) -> Result<echo5_data::ingest::IngestOutcome, StoreError> {
    let mut lead = Lead::blank(
        new_lead_id(s.now()),
        who.tenant_id,
        uuid::Uuid::nil(),
        s.now(),
    );
    lead.email = Some(email.into());
    s.ingest(echo5_data::ingest::IngestRequest {
        key: who,
        lead,
        raw: format!(r#"{{"email":"{email}"}}"#).into_bytes(),
        content_type: "application/json".into(),
        idempotency_key: Some(idem.into()),
        spam_reason: None,
    })
    .await
}

#[tokio::test]
async fn idempotency_key_reused_with_another_body_is_refused_alone() {
    let f = open();
    let t = new_tenant(&f.store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    let who = key_for(&f.store, t.id).await;
    let first = ingest_with_key(&f.store, who, "k1", "ada@example.com")
        .await
        .unwrap();
    let e = domain(
        ingest_with_key(&f.store, who, "k1", "eve@example.com")
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(&e, DomainError::Invalid { field, code, .. } if field == "Idempotency-Key" && *code == "idempotency_key_reused"),
        "{e:?}"
    );
    assert_eq!(f.store.count_leads(t.id).await.unwrap(), 1);

    // A refusal in the middle of a group commit takes nothing else down with it.
    let posts: Vec<_> = (0..16)
        .map(|i| {
            let s = f.store.clone();
            tokio::spawn(async move {
                if i % 4 == 0 {
                    ingest_with_key(&s, who, "k1", &format!("late{i}@example.com")).await
                } else {
                    ingest_with_key(&s, who, &format!("c{i}"), &format!("c{i}@example.com")).await
                }
            })
        })
        .collect();
    let mut refused = 0;
    for p in posts {
        match p.await.unwrap() {
            Ok(o) => assert_ne!(o.id, first.id),
            Err(e) => {
                assert!(matches!(domain(e), DomainError::Invalid { .. }));
                refused += 1;
            }
        }
    }
    assert_eq!(refused, 4);
    assert_eq!(f.store.count_leads(t.id).await.unwrap(), 1 + 12);

    // A record written before body digests were kept (NULL) answers every retry with its
    // first answer, as it did when it was written.
    let db = rusqlite::Connection::open(f.db()).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let n = db
        .execute(
            "UPDATE idempotency SET body_hash = NULL WHERE idem_key = 'hdr:k1'",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    let legacy = ingest_with_key(&f.store, who, "k1", "other@example.com")
        .await
        .unwrap();
    assert_eq!(legacy.id, first.id);
    assert_eq!(f.store.count_leads(t.id).await.unwrap(), 1 + 12);
}
