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
