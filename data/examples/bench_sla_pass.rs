//! Benchmark: one SLA monitor pass (`Store::record_new_breaches`, what the daemon's monitor
//! runs every `--sla-interval`) on the `bench_workflow` database of 1 M leads over 100
//! tenants, with business hours on every tenant beside the same pass without them, in
//! alternating rounds of one run; and core's business-time deadline alone, per call.
//!
//! cargo run --release -p echo5-data --example bench_sla_pass [leads] [tenants] [passes] [rounds]
//! (the database is kept in $ECHO5_BENCH_DB if set, so later runs skip generation; a
//! database `bench_workflow` made is used as it is)

#[allow(dead_code)]
#[path = "bench_workflow.rs"]
mod workflow;

use chrono::{DateTime, TimeDelta, Utc};
use echo5_core::audit::AuditAction;
use echo5_core::business_hours::{BusinessHours, Calendar};
use echo5_core::clock::ManualClock;
use echo5_core::crypto::MasterKey;
use echo5_core::settings::SecretChanges;
use echo5_core::tenants::TenantFields;
use echo5_data::{Store, StoreOptions, TenantKey};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Business hours of tenant `i`: weekdays 08:00–18:00 in one of five zones (three with
/// clock changes), a few holidays.
fn hours_of(i: usize) -> BusinessHours {
    let zone = [
        "America/New_York",
        "Europe/London",
        "Australia/Sydney",
        "America/Los_Angeles",
        "Asia/Kolkata",
    ][i % 5];
    serde_json::from_value(serde_json::json!({
        "timezone": zone,
        "week": {"mon": ["08:00","18:00"], "tue": ["08:00","18:00"], "wed": ["08:00","18:00"],
                 "thu": ["08:00","18:00"], "fri": ["08:00","18:00"]},
        "holidays": ["2025-12-25", "2026-01-01", "2026-05-25", "2026-07-03", "2026-12-25", "2027-01-01"]
    }))
    .expect("hours")
}

async fn set_hours(store: &Store, tenants: &[uuid::Uuid], on: bool) {
    for (i, t) in tenants.iter().enumerate() {
        let hours = on.then(|| hours_of(i));
        store
            .update_tenant(
                "bench".into(),
                TenantKey::Id(*t),
                AuditAction::SettingsUpdated,
                move |cur: &TenantFields| {
                    let mut f = cur.clone();
                    f.settings.business_hours = hours;
                    Ok((f, SecretChanges::default()))
                },
            )
            .await
            .expect("settings");
    }
}

fn pct(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    let i = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[i.clamp(1, v.len()) - 1].as_secs_f64() * 1000.0
}

async fn pass(store: &Store) -> (Duration, usize) {
    let t = Instant::now();
    let new = store
        .record_new_breaches(|id| format!("https://console.example/leads/{id}"))
        .await
        .expect("pass");
    (t.elapsed(), new.value.len())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n_leads: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let n_tenants: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let passes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let keep = std::env::var("ECHO5_BENCH_DB").ok();
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = keep
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("bench.db"));
    let existed = path.exists();
    let key = MasterKey::from_bytes([7; 32], 1);
    let now: DateTime<Utc> = Utc::now();
    let clock = Arc::new(ManualClock::new(if existed {
        now
    } else {
        now - TimeDelta::days(731)
    }));
    let opening = Instant::now();
    let store = Store::open(&path, key, clock.clone(), StoreOptions::default()).expect("open");
    println!("opened in {:.2} s", opening.elapsed().as_secs_f64());
    if !existed {
        let started = Instant::now();
        workflow::generate(&store, &clock, now, n_leads, n_tenants).await;
        clock.set(now);
        println!(
            "generated {n_leads} leads over {n_tenants} tenants in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("using the existing database {}", path.display());
    }
    let tenants: Vec<uuid::Uuid> = store
        .list_tenants(200, None)
        .await
        .expect("tenants")
        .data
        .iter()
        .map(|t| t.id)
        .collect();

    // Core alone: the deadline of one lead, per SLA length.
    let cal = Calendar::new(&hours_of(0)).expect("calendar");
    for sla in [4i64, 48, 720] {
        let n = 200_000;
        let start = now - TimeDelta::days(400);
        let t = Instant::now();
        let mut sink = 0i64;
        for i in 0..n {
            let created = start + TimeDelta::minutes(i * 7);
            sink ^= cal
                .deadline(created, TimeDelta::hours(sla))
                .timestamp_millis();
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("core deadline, {sla:>3} h SLA (New York, weekdays)    {ns:>8.0} ns per lead   ({sink:x})");
    }

    // Warm-up: each variant's first pass records the breaches it finds (once per lead);
    // every pass after is the steady state the monitor runs every interval.
    for on in [false, true] {
        set_hours(&store, &tenants, on).await;
        let (d, n) = pass(&store).await;
        let dash = store.dashboard().await.expect("dashboard");
        println!(
            "first pass, business hours {}: {:.1} ms, {n} new breaches recorded; {} leads in breach",
            if on { "on " } else { "off" },
            d.as_secs_f64() * 1000.0,
            dash.totals.in_breach
        );
    }
    let mut plain = Vec::new();
    let mut business = Vec::new();
    for _ in 0..rounds {
        for on in [false, true] {
            set_hours(&store, &tenants, on).await;
            for _ in 0..passes {
                let (d, n) = pass(&store).await;
                assert_eq!(n, 0, "steady state: nothing new to record");
                if on {
                    business.push(d);
                } else {
                    plain.push(d);
                }
            }
        }
    }
    for (label, v) in [
        ("SLA pass, no business hours", plain),
        ("SLA pass, business hours on every tenant", business),
    ] {
        let runs = v.len();
        println!(
            "{label:<44} p50 {:>8.1} ms   p99 {:>8.1} ms   ({runs} passes)",
            pct(v.clone(), 50.0),
            pct(v, 99.0)
        );
    }
}
