//! Leads assigned to users, round-robin assignment, reach-filtered reads and erasure,
//! against a real database file.

mod common;

use common::{Fixture, domain, enter, key_for, master_key, new_tenant, open_store, t0};
use echo5_core::DomainError;
use echo5_core::audit::AuditAction;
use echo5_core::authorization::Reach;
use echo5_core::leads::{Lead, LeadPatch, NewLead, new_lead_id};
use echo5_core::settings::SettingsPatch;
use echo5_core::tenants::TenantFields;
use echo5_core::users::{self, NewUser, Realm, Role, User, UserPatch};
use echo5_data::keys::KeyIdentity;
use echo5_data::users::UserScope;
use echo5_data::{Store, StoreOptions};
use std::sync::Arc;
use uuid::Uuid;

fn open() -> Fixture {
    common::open_with(master_key(7), StoreOptions::default())
}

async fn user(s: &Store, tenant: Option<Uuid>, email: &str, role: Role) -> User {
    let (scope, realm) = match tenant {
        Some(t) => (UserScope::Tenant(t.into()), Realm::Tenant),
        None => (UserScope::Platform, Realm::Platform),
    };
    let fields = users::validate_new(
        &NewUser {
            email: email.into(),
            name: format!("User {email}"),
            role: Some(role),
            permissions: None,
        },
        realm,
    )
    .unwrap();
    s.create_user("admin:test".into(), scope, fields)
        .await
        .unwrap()
}

async fn deactivate(s: &Store, tenant: Uuid, u: Uuid) {
    let patch = UserPatch {
        active: Some(false),
        ..Default::default()
    };
    s.patch_user(
        "admin:test".into(),
        UserScope::Tenant(tenant.into()),
        u,
        patch,
        None,
    )
    .await
    .unwrap();
}

async fn assign(s: &Store, lead: Uuid, to: Option<Uuid>) -> Result<Option<Uuid>, DomainError> {
    let patch = LeadPatch {
        assigned_to: Some(to),
        ..Default::default()
    };
    s.patch_lead("admin:test".into(), lead, patch, Reach::All)
        .await
        .map(|d| d.value.lead.assigned_to)
        .map_err(domain)
}

fn code_on(e: DomainError) -> (String, &'static str) {
    match e {
        DomainError::Invalid { field, code, .. } => (field, code),
        other => panic!("expected a 422, got {other:?}"),
    }
}

async fn round_robin(s: &Store, tenant: Uuid) {
    let patch: SettingsPatch = serde_json::from_str(r#"{"auto_assign":"round_robin"}"#).unwrap();
    s.update_tenant(
        "admin:test".into(),
        tenant.into(),
        AuditAction::SettingsUpdated,
        move |cur: &TenantFields| {
            let (settings, secrets) =
                echo5_core::settings::apply_settings_patch(&cur.settings, &patch)?;
            let mut f = cur.clone();
            f.settings = settings;
            Ok((f, secrets))
        },
    )
    .await
    .unwrap();
}

async fn ingest_one(s: &Store, who: KeyIdentity, n: usize) -> Lead {
    let mut lead = Lead::blank(new_lead_id(s.now()), who.tenant_id, Uuid::nil(), s.now());
    lead.name = Some(format!("Visitor {n}"));
    lead.email = Some(format!("visitor{n}@example.com"));
    common::ingest(s, who, lead, None).await
}

#[tokio::test]
async fn an_assignee_is_an_active_user_of_the_leads_tenant() {
    let f = open();
    let s = &f.store;
    let a = new_tenant(s, r#"{"name":"Open Arms"}"#).await.unwrap();
    let b = new_tenant(s, r#"{"name":"Bright Path"}"#).await.unwrap();
    let dana = user(s, Some(a.id), "dana@openarms.example", Role::Manager).await;
    let agent = user(s, Some(a.id), "ali@openarms.example", Role::Agent).await;
    let gone = user(s, Some(a.id), "gone@openarms.example", Role::Manager).await;
    let other = user(s, Some(b.id), "bo@brightpath.example", Role::Manager).await;
    let owner = user(s, None, "owner@echo5.example", Role::Owner).await;
    deactivate(s, a.id, gone.id).await;
    let lead = enter(
        s,
        a.id,
        NewLead {
            name: Some("Jane Doe".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(lead.assigned_to, None, "auto_assign is none by default");

    for (who, code) in [
        (other.id, "unknown_user"),
        (owner.id, "unknown_user"),
        (Uuid::now_v7(), "unknown_user"),
        (gone.id, "inactive_user"),
    ] {
        let e = assign(s, lead.id, Some(who)).await.unwrap_err();
        assert_eq!(code_on(e), ("assigned_to".to_string(), code), "{who}");
    }
    assert_eq!(s.get_lead(lead.id).await.unwrap().assigned_to, None);
    assert_eq!(
        assign(s, lead.id, Some(agent.id)).await.unwrap(),
        Some(agent.id)
    );
    assert_eq!(
        assign(s, lead.id, Some(dana.id)).await.unwrap(),
        Some(dana.id)
    );
    let d = s.lead_detail(lead.id, Reach::All).await.unwrap();
    let named = d.assignee.expect("the detail names the assignee");
    assert_eq!(
        (named.id, named.email.as_str(), named.active),
        (dana.id, "dana@openarms.example", true)
    );

    // A lead keeps a user deactivated since; another change of it still works.
    deactivate(s, a.id, dana.id).await;
    let moved = LeadPatch {
        assigned_to: Some(Some(dana.id)),
        is_spam: Some(false),
        ..Default::default()
    };
    let d = s
        .patch_lead("admin:test".into(), lead.id, moved, Reach::All)
        .await
        .unwrap()
        .value;
    assert_eq!(d.lead.assigned_to, Some(dana.id));
    assert!(!d.assignee.unwrap().active);
    assert_eq!(assign(s, lead.id, None).await.unwrap(), None);

    // Manual entry checks the same rule.
    let bad = NewLead {
        name: Some("Walk In".into()),
        assigned_to: Some(other.id),
        ..Default::default()
    };
    let e = s
        .create_lead("admin:test".into(), a.id.into(), bad)
        .await
        .map_err(domain)
        .unwrap_err();
    assert_eq!(code_on(e).1, "unknown_user");

    // Deleting a user unassigns their leads.
    assert_eq!(
        assign(s, lead.id, Some(agent.id)).await.unwrap(),
        Some(agent.id)
    );
    s.delete_user(
        "admin:test".into(),
        UserScope::Tenant(a.id.into()),
        agent.id,
        None,
    )
    .await
    .unwrap();
    assert_eq!(s.get_lead(lead.id).await.unwrap().assigned_to, None);
}

#[tokio::test]
async fn round_robin_takes_active_managers_in_turn_across_a_reopen() {
    let f = open();
    let s = f.store.clone();
    let t = new_tenant(&s, r#"{"name":"Open Arms"}"#).await.unwrap();
    let who = key_for(&s, t.id).await;
    // Without managers (and before the setting) leads stay unassigned.
    assert_eq!(ingest_one(&s, who, 0).await.assigned_to, None);
    round_robin(&s, t.id).await;
    assert_eq!(ingest_one(&s, who, 1).await.assigned_to, None, "no manager");
    // Admins and agents are not in the rotation.
    user(&s, Some(t.id), "admin@openarms.example", Role::Admin).await;
    user(&s, Some(t.id), "agent@openarms.example", Role::Agent).await;
    let mut m = Vec::new();
    for i in 0..3 {
        m.push(
            user(
                &s,
                Some(t.id),
                &format!("m{i}@openarms.example"),
                Role::Manager,
            )
            .await
            .id,
        );
    }
    m.sort();
    let mut got = Vec::new();
    for n in 0..6 {
        got.push(ingest_one(&s, who, 10 + n).await.assigned_to.unwrap());
    }
    assert_eq!(got, [m[0], m[1], m[2], m[0], m[1], m[2]]);
    // Spam takes nobody's turn.
    let mut spam = Lead::blank(new_lead_id(s.now()), t.id, Uuid::nil(), s.now());
    spam.name = Some("Casino".into());
    let spam = common::ingest(&s, who, spam, Some("keyword:casino")).await;
    assert_eq!(spam.assigned_to, None);
    // A deactivated manager is skipped.
    deactivate(&s, t.id, m[1]).await;
    let next = ingest_one(&s, who, 20).await.assigned_to;
    assert_eq!(next, Some(m[0]));
    let next = ingest_one(&s, who, 21).await.assigned_to;
    assert_eq!(next, Some(m[2]));

    // The turn is in the database: a reopened store goes on after m[2].
    s.shutdown().await;
    drop(s);
    drop(f.store);
    let clock: Arc<dyn echo5_core::clock::Clock> = f.clock.clone();
    let s = open_store(f.dir.path(), master_key(7), clock, StoreOptions::default()).unwrap();
    let who = key_for(&s, t.id).await;
    assert_eq!(ingest_one(&s, who, 30).await.assigned_to, Some(m[0]));
    assert_eq!(ingest_one(&s, who, 31).await.assigned_to, Some(m[2]));

    // Manual entry without an assignee follows the setting too.
    let walk_in = enter(
        &s,
        t.id,
        NewLead {
            name: Some("Walk In".into()),
            created_at: Some(t0()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(walk_in.assigned_to, Some(m[0]));
}

/// Leads of one tenant spread over two managers and nobody, some in breach, some spam.
struct Spread {
    f: Fixture,
    tenant: Uuid,
    a: Uuid,
    b: Uuid,
}

async fn spread() -> Spread {
    let f = open();
    let s = f.store.clone();
    let t = new_tenant(&s, r#"{"name":"Open Arms","settings":{"sla_hours":1}}"#)
        .await
        .unwrap();
    let a = user(&s, Some(t.id), "a@openarms.example", Role::Manager)
        .await
        .id;
    let b = user(&s, Some(t.id), "b@openarms.example", Role::Manager)
        .await
        .id;
    let stages = s.list_stages(t.id.into()).await.unwrap();
    for i in 0..30u32 {
        let owner = match i % 3 {
            0 => Some(a),
            1 => Some(b),
            _ => None,
        };
        let new = NewLead {
            name: Some(format!("Lead {i}")),
            email: Some(format!("lead{i}@example.com")),
            created_at: Some(t0() - chrono::TimeDelta::hours(i64::from(i))),
            // Every fourth has been contacted; the rest wait in intake (past 1 h: breached).
            stage_id: Some(stages[if i % 4 == 0 { 1 } else { 0 }].id),
            assigned_to: owner,
            ..Default::default()
        };
        let lead = enter(&s, t.id, new).await;
        if i % 5 == 0 {
            let spam = LeadPatch {
                is_spam: Some(true),
                ..Default::default()
            };
            s.patch_lead("admin:test".into(), lead.id, spam, Reach::All)
                .await
                .unwrap();
        }
    }
    Spread {
        f,
        tenant: t.id,
        a,
        b,
    }
}

#[tokio::test]
async fn a_reach_sees_only_its_leads_in_every_read() {
    let Spread { f, tenant, a, b } = spread().await;
    let s = &f.store;
    let all_of = |spam: &str| echo5_core::leads::LeadQueryParams {
        spam: Some(spam.into()),
        limit: Some(200),
        ..Default::default()
    };
    for spam in ["false", "true", "all"] {
        let every = s
            .list_leads(tenant.into(), all_of(spam).validate().unwrap(), Reach::All)
            .await
            .unwrap()
            .data;
        for me in [a, b] {
            let mine = s
                .list_leads(
                    tenant.into(),
                    all_of(spam).validate().unwrap(),
                    Reach::AssignedTo(me),
                )
                .await
                .unwrap()
                .data;
            let by_hand: Vec<Uuid> = every
                .iter()
                .filter(|l| l.assigned_to == Some(me))
                .map(|l| l.id)
                .collect();
            assert!(!by_hand.is_empty(), "spam={spam}");
            assert_eq!(
                mine.iter().map(|l| l.id).collect::<Vec<_>>(),
                by_hand,
                "spam={spam}"
            );
        }
    }
    // Paging a manager's listing walks only their leads, in order, without repeats.
    let mut q = echo5_core::leads::LeadQueryParams {
        limit: Some(3),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let mut paged = Vec::new();
    loop {
        let p = s
            .list_leads(tenant.into(), q.clone(), Reach::AssignedTo(a))
            .await
            .unwrap();
        paged.extend(p.data.iter().map(|l| (l.assigned_to, l.id)));
        let Some(next) = p.next_cursor else { break };
        q.cursor = echo5_core::page::Cursor::decode(&next).ok();
    }
    assert!(paged.iter().all(|(to, _)| *to == Some(a)));
    assert_eq!(paged.len(), 8, "10 of a's 30 leads, 2 of them spam");

    // The listing reads the assignee index.
    let plan = s
        .explain_listing(
            tenant.into(),
            echo5_core::leads::LeadQueryParams::default()
                .validate()
                .unwrap(),
            Reach::AssignedTo(a),
        )
        .await
        .unwrap();
    assert!(plan.contains("leads_tenant_assignee"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");

    // Breaches: the unfiltered list filtered by hand.
    let every = s.breaches(None, Reach::All, 200, None).await.unwrap().data;
    assert!(every.iter().any(|b| b.assigned_to.is_none()));
    for me in [a, b] {
        let mine = s
            .breaches(Some(tenant.into()), Reach::AssignedTo(me), 200, None)
            .await
            .unwrap()
            .data;
        let by_hand: Vec<Uuid> = every
            .iter()
            .filter(|x| x.assigned_to == Some(me))
            .map(|x| x.lead_id)
            .collect();
        assert!(!by_hand.is_empty());
        assert_eq!(mine.iter().map(|x| x.lead_id).collect::<Vec<_>>(), by_hand);
        // Paged two at a time, the same list.
        let mut cursor = None;
        let mut paged = Vec::new();
        loop {
            let p = s
                .breaches(Some(tenant.into()), Reach::AssignedTo(me), 2, cursor)
                .await
                .unwrap();
            paged.extend(p.data.iter().map(|x| x.lead_id));
            let Some(next) = p.next_cursor else { break };
            cursor = echo5_core::page::Cursor::decode(&next).ok();
        }
        assert_eq!(paged, by_hand);
    }

    // Analytics count the manager's leads only.
    let (from, to) = (
        t0() - chrono::TimeDelta::days(3),
        t0() + chrono::TimeDelta::hours(1),
    );
    let total = s
        .analytics(tenant.into(), Reach::All, from, to)
        .await
        .unwrap();
    let of_a = s
        .analytics(tenant.into(), Reach::AssignedTo(a), from, to)
        .await
        .unwrap();
    let every = s
        .list_leads(
            tenant.into(),
            all_of("false").validate().unwrap(),
            Reach::All,
        )
        .await
        .unwrap()
        .data;
    assert_eq!(total.total as usize, every.len());
    assert_eq!(
        of_a.total as usize,
        every.iter().filter(|l| l.assigned_to == Some(a)).count()
    );
    assert_eq!(
        of_a.per_day.iter().map(|d| d.count).sum::<u64>(),
        of_a.total
    );

    // Another's lead is not found for every use, as one that does not exist.
    let theirs = every.iter().find(|l| l.assigned_to == Some(b)).unwrap().id;
    let nobodys = every.iter().find(|l| l.assigned_to.is_none()).unwrap().id;
    for id in [theirs, nobodys] {
        let mine = Reach::AssignedTo(a);
        let nf = |r: Result<(), echo5_data::StoreError>| {
            assert!(
                matches!(
                    domain(r.unwrap_err()),
                    DomainError::NotFound { what: "lead" }
                ),
                "{id}"
            )
        };
        nf(s.lead_detail(id, mine).await.map(|_| ()));
        let patch = LeadPatch {
            is_spam: Some(true),
            ..Default::default()
        };
        nf(s.patch_lead("admin:test".into(), id, patch, mine)
            .await
            .map(|_| ()));
        let note = echo5_core::leads::NewNote { text: "x".into() };
        nf(s.add_note("admin:test".into(), id, note, mine)
            .await
            .map(|_| ()));
        nf(s.erase_lead("admin:test".into(), id, mine)
            .await
            .map(|_| ()));
        assert!(s.lead_detail(id, Reach::All).await.is_ok(), "untouched");
    }
}

#[tokio::test]
async fn erasing_a_lead_leaves_nothing_of_it_and_the_counts_right() {
    let f = open();
    let s = f.store.clone();
    let t = new_tenant(&s, r#"{"name":"Open Arms","settings":{"sla_hours":1}}"#)
        .await
        .unwrap();
    let who = key_for(&s, t.id).await;
    let stages = s.list_stages(t.id.into()).await.unwrap();
    let keep = ingest_one(&s, who, 1).await;
    let gone = ingest_one(&s, who, 2).await;
    // A stage move there and back, notes, a breach and its alert.
    for to in [stages[1].id, stages[0].id] {
        let mv = LeadPatch {
            stage_id: Some(to),
            ..Default::default()
        };
        s.patch_lead("admin:test".into(), gone.id, mv, Reach::All)
            .await
            .unwrap();
    }
    let note = echo5_core::leads::NewNote {
        text: "Jane asked to be called after 5".into(),
    };
    s.add_note("admin:test".into(), gone.id, note, Reach::All)
        .await
        .unwrap();
    f.clock.advance(chrono::TimeDelta::hours(2));
    let recorded = s
        .record_new_breaches(|id| format!("/l/{id}"))
        .await
        .unwrap();
    assert_eq!(recorded.value.len(), 2);
    let db = rusqlite::Connection::open(f.db()).unwrap();
    let rows = |table: &str| -> i64 {
        db.query_row(
            &format!("SELECT count(*) FROM {table} WHERE lead_id = ?1"),
            [gone.id.to_string()],
            |r| r.get(0),
        )
        .unwrap()
    };
    for table in ["stage_history", "lead_notes", "sla_breaches", "alerts"] {
        assert!(rows(table) > 0, "{table} before");
    }
    let bytes_before = storage_bytes(&s, t.id).await;

    let erased = s
        .erase_lead("admin:test".into(), gone.id, Reach::All)
        .await
        .unwrap();
    assert!(matches!(
        erased.changes.as_slice(),
        [echo5_core::events::Change::LeadDeleted { lead_id, .. }] if *lead_id == gone.id
    ));
    let raw: i64 = db
        .query_row(
            "SELECT count(*) FROM leads WHERE id = ?1",
            [gone.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(raw, 0, "the row, and with it the raw body");
    for table in ["stage_history", "lead_notes", "sla_breaches", "alerts"] {
        assert_eq!(rows(table), 0, "{table} after");
    }
    assert_eq!(common::counts_match_leads(&f.db()), 1);
    assert!(storage_bytes(&s, t.id).await < bytes_before);
    assert!(s.lead_detail(keep.id, Reach::All).await.is_ok());
    let again = s.erase_lead("admin:test".into(), gone.id, Reach::All).await;
    assert!(matches!(
        domain(again.unwrap_err()),
        DomainError::NotFound { what: "lead" }
    ));

    // The audit row names the lead by id, with nothing of what it held.
    let audit = s
        .list_audit(echo5_data::audit::AuditQuery {
            tenant_id: None,
            action: Some("lead.deleted".into()),
            limit: 10,
            cursor: None,
        })
        .await
        .unwrap()
        .data;
    assert_eq!(audit.len(), 1);
    let row = serde_json::to_string(&audit[0]).unwrap();
    assert!(row.contains(&gone.id.to_string()), "{row}");
    for personal in ["visitor2", "Visitor 2", "called after 5"] {
        assert!(!row.contains(personal), "{row}");
    }

    // The same person again is a new original, not a duplicate of the erased lead.
    let back = ingest_one(&s, who, 2).await;
    assert_eq!(back.duplicate_of, None);
    assert_ne!(back.id, gone.id);
    assert_eq!(common::counts_match_leads(&f.db()), 1);
}

async fn storage_bytes(s: &Store, tenant: Uuid) -> u64 {
    let month = echo5_core::usage::Month::of(s.now());
    s.usage_report(month, Some(tenant.into()))
        .await
        .unwrap()
        .iter()
        .map(|t| t.storage_bytes)
        .sum()
}
