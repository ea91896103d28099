//! Benchmark: one SLA monitor pass (`Store::record_new_breaches`, what the daemon's monitor
//! runs every `--sla-interval`) on the `bench_workflow` database of 1 M leads over 100
//! tenants, with business hours on every tenant beside the same pass without them, in
//! alternating rounds of one run; and core's business-time deadline alone, per call.
//!
//! cargo run --release -p echo5-data --example bench_sla_pass [leads] [tenants] [passes] [rounds]
//! (the database is kept in $ECHO5_BENCH_DB if set, so later runs skip generation; a
//! database `bench_workflow` made is used as it is)
//!
//! Generation writes the leads' rows directly, in large transactions (a minute, where
//! `bench_workflow` replays two years through ingest, entry and stage moves for most of an
//! hour): the same shape — two years of arrivals, 3 % spam, leads older than 12 h moved out
//! of intake but for 2 % forgotten there — which is all a monitor pass reads. The per-stage
//! counts the dashboard keeps are not filled in.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{Rng, bench_tenant, pct};
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

/// `n_leads` over `n_tenants` (SLA 4, 8, 24 or 48 h in turn) across the two years before
/// `now`, written straight into the leads table.
async fn generate(store: &Store, now: DateTime<Utc>, n_leads: usize, n_tenants: usize) {
    let mut rng = Rng(42);
    for t in 0..n_tenants {
        let (tid, stages) = bench_tenant(store, t).await;
        let stages: Vec<String> = stages.iter().map(|s| s.to_string()).collect();
        let per = n_leads / n_tenants;
        let mut rows = Vec::with_capacity(per);
        for i in 0..per {
            let age = TimeDelta::minutes(rng.below(730 * 24 * 60) as i64);
            let at = now - age;
            let spam = rng.below(100) < 3;
            let moved = !spam && age > TimeDelta::hours(12) && rng.below(100) >= 2;
            let stage = if moved {
                stages[1 + rng.below(stages.len() as u64 - 1) as usize].clone()
            } else {
                stages[0].clone()
            };
            let contacted = moved.then(|| at + TimeDelta::minutes(rng.below(600) as i64 + 1));
            rows.push((
                echo5_core::leads::new_lead_id(at).to_string(),
                at.timestamp_millis(),
                stage,
                contacted.unwrap_or(at).timestamp_millis(),
                contacted.map(|c| c.timestamp_millis()),
                format!("Lead {t}-{i}"),
                format!("lead{t}x{i}@example.com"),
                format!("+1555{:07}", rng.below(10_000_000)),
                spam,
            ));
        }
        let tenant = tid.to_string();
        store
            .write(move |c| {
                let mut stmt = c.prepare(
                    "INSERT INTO leads(id, tenant_id, created_at, stage_id, stage_changed_at,
                        first_contacted_at, name, email, phone, message, source, custom, is_spam,
                        spam_reason)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'website', '{}', ?11, ?12)",
                )?;
                for (id, at, stage, changed, contacted, name, email, phone, spam) in rows {
                    stmt.execute(rusqlite::params![
                        id,
                        tenant,
                        at,
                        stage,
                        changed,
                        contacted,
                        name,
                        email,
                        phone,
                        "Looking for in-home care for my mother, three days a week.",
                        spam,
                        spam.then_some("keyword:casino"),
                    ])?;
                }
                Ok(())
            })
            .await
            .expect("leads");
    }
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

/// How many leads one pass reads as in breach: per tenant, its intake leads before the
/// rule's cutoff (the same range the pass reads).
async fn in_breach(store: &Store, tenants: &[uuid::Uuid]) -> i64 {
    let now = store.now();
    let mut total = 0;
    for t in tenants {
        let tenant = store.get_tenant(TenantKey::Id(*t)).await.expect("tenant");
        let rule = echo5_core::sla::SlaRule::of(&echo5_core::settings::Settings {
            sla_hours: tenant.settings.sla_hours,
            business_hours: tenant.settings.business_hours.clone(),
            ..Default::default()
        });
        let cutoff = rule.breach_cutoff(now).timestamp_millis();
        let intake = store.list_stages((*t).into()).await.expect("stages")[0].id;
        let tid = t.to_string();
        total += store
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM leads WHERE tenant_id = ?1 AND stage_id = ?2
                       AND is_spam = 0 AND duplicate_of IS NULL AND created_at < ?3",
                    rusqlite::params![tid, intake.to_string(), cutoff],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .await
            .expect("count");
    }
    total
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
    let clock = Arc::new(ManualClock::new(now));
    let opening = Instant::now();
    let store = Store::open(&path, key, clock.clone(), StoreOptions::default()).expect("open");
    println!("opened in {:.2} s", opening.elapsed().as_secs_f64());
    if !existed {
        let started = Instant::now();
        generate(&store, now, n_leads, n_tenants).await;
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
        println!(
            "core deadline, {sla:>3} h SLA (New York, weekdays)    {ns:>8.0} ns per lead   ({sink:x})"
        );
    }

    // Warm-up: each variant's first pass records the breaches it finds (once per lead);
    // every pass after is the steady state the monitor runs every interval.
    for on in [false, true] {
        set_hours(&store, &tenants, on).await;
        let (d, n) = pass(&store).await;
        println!(
            "first pass, business hours {}: {:.1} ms, {n} new breaches recorded; each pass reads {} leads in breach",
            if on { "on " } else { "off" },
            d.as_secs_f64() * 1000.0,
            in_breach(&store, &tenants).await
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
    for (label, mut v) in [
        ("SLA pass, no business hours", plain),
        ("SLA pass, business hours on every tenant", business),
    ] {
        let runs = v.len();
        println!(
            "{label:<44} p50 {:>8.1} ms   p99 {:>8.1} ms   ({runs} passes)",
            pct(&mut v, 50.0),
            pct(&mut v, 99.0)
        );
    }
}
