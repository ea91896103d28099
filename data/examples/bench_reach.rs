//! Benchmark: what a manager's reach costs. One tenant with round-robin assignment over
//! three managers takes `leads` leads through ingest (timed: leads per second, the round
//! robin and the assignee index included), then a page of 50, its second page, the breach
//! list and 90-day analytics are timed for the whole tenant (`Reach::All`) and for one
//! manager (a third of the leads), in the same run.
//!
//! cargo run --release -p echo5-data --example bench_reach [leads] [iterations]
//! (`ECHO5_BENCH_AUTO_ASSIGN=none`: ingest only, without assignment, for an A/B)

mod common;

use chrono::TimeDelta;
use common::time;
use echo5_core::assignment::AutoAssign;
use echo5_core::audit::AuditAction;
use echo5_core::authorization::Reach;
use echo5_core::clock::ManualClock;
use echo5_core::crypto::MasterKey;
use echo5_core::leads::{Lead, LeadQueryParams, new_lead_id};
use echo5_core::tenants::{self, NewTenant, TenantFields};
use echo5_core::users::{self, NewUser, Realm, Role};
use echo5_data::ingest::IngestRequest;
use echo5_data::users::UserScope;
use echo5_data::{Store, StoreOptions, TenantKey};
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(100_000);
    let iters = args.get(1).copied().unwrap_or(200);
    let dir = tempfile::tempdir().expect("tempdir");
    let start = chrono::DateTime::from_timestamp(1_780_000_000, 0).expect("time");
    let clock = Arc::new(ManualClock::new(start));
    let store = Store::open(
        &dir.path().join("echo5.db"),
        MasterKey::from_bytes([7; 32], 1),
        clock.clone(),
        StoreOptions::default(),
    )
    .expect("open");
    let new: NewTenant = serde_json::from_str(r#"{"name":"Open Arms"}"#).expect("json");
    let (fields, secrets) = tenants::validate_new(&new).expect("tenant");
    let t = store
        .create_tenant("bench".into(), fields, secrets)
        .await
        .expect("tenant")
        .value;
    // `ECHO5_BENCH_AUTO_ASSIGN=none`: the same ingest without assignment, for an A/B of its
    // cost (the manager's reads then find nothing).
    let mode = match std::env::var("ECHO5_BENCH_AUTO_ASSIGN").as_deref() {
        Ok("none") => AutoAssign::None,
        _ => AutoAssign::RoundRobin,
    };
    store
        .update_tenant(
            "bench".into(),
            t.id.into(),
            AuditAction::SettingsUpdated,
            move |cur: &TenantFields| {
                let mut f = cur.clone();
                f.settings.auto_assign = mode;
                Ok((f, Default::default()))
            },
        )
        .await
        .expect("round robin");
    let mut managers = Vec::new();
    for i in 0..3 {
        let fields = users::validate_new(
            &NewUser {
                email: format!("m{i}@openarms.example"),
                name: format!("Manager {i}"),
                role: Some(Role::Manager),
                permissions: None,
            },
            Realm::Tenant,
        )
        .expect("user");
        let u = store
            .create_user("bench".into(), UserScope::Tenant(t.id.into()), fields)
            .await
            .expect("user");
        managers.push(u.id);
    }
    let key = store
        .create_key("bench".into(), t.id.into(), None)
        .await
        .expect("key")
        .value;
    let who = store.authenticate_key(&key.secret).expect("key");

    // Ingest, 64 at a time (as concurrent requests would), a minute of clock per 64.
    let began = Instant::now();
    let mut done = 0;
    while done < n {
        let batch = (done..(done + 64).min(n)).map(|i| {
            let s = store.clone();
            let now = s.now();
            let mut lead = Lead::blank(new_lead_id(now), t.id, Uuid::nil(), now);
            lead.name = Some(format!("Visitor {i}"));
            lead.email = Some(format!("visitor{i}@example.com"));
            let raw = format!(r#"{{"your-name":"Visitor {i}"}}"#).into_bytes();
            tokio::spawn(async move {
                s.ingest(IngestRequest {
                    key: who,
                    lead,
                    raw,
                    content_type: "application/json".into(),
                    idempotency_key: None,
                    spam_reason: None,
                })
                .await
                .expect("ingest")
            })
        });
        for h in batch.collect::<Vec<_>>() {
            h.await.expect("join");
        }
        done = (done + 64).min(n);
        clock.advance(TimeDelta::minutes(1));
    }
    let took = began.elapsed();
    println!(
        "ingest of {n} leads, auto_assign {}: {:.0} leads/s",
        mode.as_str(),
        n as f64 / took.as_secs_f64()
    );
    if mode == AutoAssign::None {
        store.shutdown().await;
        return;
    }
    let now = store.now();
    let me = Reach::AssignedTo(managers[1]);
    for (who, reach) in [("tenant", Reach::All), ("manager", me)] {
        time(&format!("{who}: page of 50"), iters, |_| {
            let s = store.clone();
            async move {
                let q = LeadQueryParams::default().validate().expect("q");
                let p = s
                    .list_leads(TenantKey::Id(t.id), q, reach)
                    .await
                    .expect("page");
                assert_eq!(p.data.len(), 50);
            }
        })
        .await;
        time(&format!("{who}: 2nd page of 50"), iters, |_| {
            let s = store.clone();
            async move {
                let q = LeadQueryParams::default().validate().expect("q");
                let p = s
                    .list_leads(TenantKey::Id(t.id), q.clone(), reach)
                    .await
                    .expect("page");
                let mut q2 = q;
                q2.cursor = p
                    .next_cursor
                    .as_deref()
                    .and_then(|c| echo5_core::page::Cursor::decode(c).ok());
                s.list_leads(TenantKey::Id(t.id), q2, reach)
                    .await
                    .expect("page");
            }
        })
        .await;
        time(&format!("{who}: breaches, page of 50"), iters, |_| {
            let s = store.clone();
            async move {
                s.breaches(Some(TenantKey::Id(t.id)), reach, 50, None)
                    .await
                    .expect("breaches");
            }
        })
        .await;
        time(&format!("{who}: 90-day analytics"), iters.min(20), |_| {
            let s = store.clone();
            async move {
                s.analytics(TenantKey::Id(t.id), reach, now - TimeDelta::days(90), now)
                    .await
                    .expect("analytics");
            }
        })
        .await;
    }
    store.shutdown().await;
}
