//! Benchmark: the retention job on the 1 M-lead benchmark database (made by
//! `bench_workflow` and kept in $ECHO5_BENCH_DB), erasing 10 % of the leads (the oldest),
//! with 16 concurrent ingest callers beside it; and the same 16 callers for the same time
//! without it. In-process, through the store the daemon uses (no HTTP): the ingest
//! latencies are the store's, from the call to the durable answer.
//!
//! ECHO5_BENCH_DB=/path/bench.db cargo run --release -p echo5-data --example bench_retention [percent]
//! (the database is copied first, so the run can be repeated on the same file)

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::pct;
use echo5_core::clock::ManualClock;
use echo5_core::crypto::MasterKey;
use echo5_core::leads::{Lead, LeadSource, new_lead_id};
use echo5_core::plans::{NewPlan, PlanLimits};
use echo5_core::tenants::{BillingPatch, TenantPatch};
use echo5_data::ingest::IngestRequest;
use echo5_data::keys::KeyIdentity;
use echo5_data::{Store, StoreOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

const CALLERS: usize = 16;

/// 16 callers ingesting one lead after another until `stop`; every call's latency.
async fn ingest_until(
    store: &Store,
    keys: &[KeyIdentity],
    stop: Arc<AtomicBool>,
    seq: Arc<AtomicU64>,
) -> Vec<Duration> {
    let mut tasks = Vec::new();
    for c in 0..CALLERS {
        let store = store.clone();
        let key = keys[c % keys.len()];
        let stop = stop.clone();
        let seq = seq.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let now = store.now();
                let mut l = Lead::blank(new_lead_id(now), key.tenant_id, Uuid::nil(), now);
                l.name = Some(format!("Bench {n}"));
                l.email = Some(format!("bench{n}@example.com"));
                l.phone = Some(format!("+1666{:07}", n % 10_000_000));
                l.message =
                    Some("Looking for in-home care for my mother, three days a week.".into());
                l.source = LeadSource::Website;
                let raw = serde_json::to_vec(&l.name).unwrap_or_default();
                let t = Instant::now();
                store
                    .ingest(IngestRequest {
                        key,
                        lead: l,
                        raw,
                        content_type: "application/json".into(),
                        idempotency_key: None,
                        spam_reason: None,
                    })
                    .await
                    .expect("ingest");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("caller"));
    }
    all
}

fn report(label: &str, mut lat: Vec<Duration>, secs: f64) {
    let n = lat.len();
    println!(
        "{label:<40} {n:>7} leads  {:>8.0} leads/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
        n as f64 / secs,
        pct(&mut lat, 50.0),
        pct(&mut lat, 99.0)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let share: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10.0);
    let src = std::env::var("ECHO5_BENCH_DB")
        .expect("ECHO5_BENCH_DB: the database bench_workflow generated");
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("bench.db");
    std::fs::copy(&src, &path).expect("copy the benchmark database");
    let key = MasterKey::from_bytes([7; 32], 1);
    // Where the retention window must start for `share` % of the leads to be past it.
    let (total, edge): (i64, i64) = {
        let c = rusqlite::Connection::open(&path).expect("open");
        let total: i64 = c
            .query_row("SELECT count(*) FROM leads", [], |r| r.get(0))
            .expect("count");
        let edge: i64 = c
            .query_row(
                "SELECT created_at FROM leads ORDER BY created_at LIMIT 1 OFFSET ?1",
                [(total as f64 * share / 100.0) as i64],
                |r| r.get(0),
            )
            .expect("edge");
        (total, edge)
    };
    let edge = DateTime::<Utc>::from_timestamp_millis(edge).expect("time");
    let days = ((Utc::now() - edge).num_days() + 1).max(1);
    // The clock stands where `days` days back is the edge: the oldest `share` % are past it.
    let clock = Arc::new(ManualClock::new(edge + TimeDelta::days(days)));
    let store = Store::open(&path, key, clock.clone(), StoreOptions::default()).expect("open");
    println!(
        "{total} leads; erasing those created before {edge} ({share} %, retention_days {days})"
    );

    let plan = store
        .create_plan(
            "bench".into(),
            echo5_core::plans::validate_new(&NewPlan {
                name: "Bench".into(),
                limits: PlanLimits {
                    retention_days: Some(days as u32),
                    ..PlanLimits::default()
                },
                ..NewPlan::default()
            })
            .expect("plan"),
        )
        .await
        .expect("plan");
    let tenants = store.list_tenants(200, None).await.expect("tenants").data;
    let mut keys = Vec::new();
    for t in &tenants {
        store
            .update_tenant_billing(
                "bench".into(),
                t.id.into(),
                echo5_core::audit::AuditAction::TenantUpdated,
                |cur| echo5_core::tenants::apply_patch(cur, &TenantPatch::default()),
                BillingPatch {
                    plan_id: Some(Some(plan.id)),
                    stripe_customer_id: None,
                },
            )
            .await
            .expect("plan");
        let secret = store
            .create_key("bench".into(), t.id.into(), None)
            .await
            .expect("key")
            .value
            .secret;
        keys.push(store.authenticate_key(&secret).expect("key"));
    }
    let seq = Arc::new(AtomicU64::new(0));

    // Ingest beside the retention job, for as long as it runs.
    let stop = Arc::new(AtomicBool::new(false));
    let callers = {
        let (store, keys, stop, seq) = (store.clone(), keys.clone(), stop.clone(), seq.clone());
        tokio::spawn(async move { ingest_until(&store, &keys, stop, seq).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let erased = store
        .erase_past_retention("bench")
        .await
        .expect("retention");
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let beside = callers.await.expect("callers");
    let n: u64 = erased.iter().map(|e| e.leads).sum();
    println!(
        "retention job: erased {n} leads in {:.2} s ({:.0} leads/s), in jobs of {}",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        echo5_data::plans::RETENTION_BATCH
    );
    report(
        "ingest c16 beside the retention job",
        beside,
        took.as_secs_f64() + 0.5,
    );

    // The same callers for the same time, without it.
    let stop = Arc::new(AtomicBool::new(false));
    let callers = {
        let (store, keys, stop, seq) = (store.clone(), keys.clone(), stop.clone(), seq.clone());
        tokio::spawn(async move { ingest_until(&store, &keys, stop, seq).await })
    };
    let window = took + Duration::from_millis(500);
    tokio::time::sleep(window).await;
    stop.store(true, Ordering::Relaxed);
    let alone = callers.await.expect("callers");
    report(
        "ingest c16 alone (same duration)",
        alone,
        window.as_secs_f64(),
    );
    store.shutdown().await;
}
