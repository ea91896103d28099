//! Benchmark: the leads workflow queries on a generated database of 1 M leads over 100
//! tenants (two years of history, realistic stage spread, some overdue), in-process:
//! a filtered page of 50, the all-tenant breach list, the dashboard, one tenant's 90-day
//! analytics, every tenant's 30-day analytics (the global endpoint: from the kept day counts
//! and from the leads, in turn), a stage reorder (which counts a tenant again), an all-leads page
//! over every tenant (or three), the usage report — each beside a no-op read round trip measured in the same run.
//!
//! cargo run --release -p echo5-data --example bench_workflow [leads] [tenants] [iterations]
//! (the database is kept in $ECHO5_BENCH_DB if set, so later runs skip generation)

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{Rng, bench_tenant, time};
use echo5_core::authorization::Reach;
use echo5_core::clock::ManualClock;
use echo5_core::crypto::MasterKey;
use echo5_core::leads::{Lead, LeadPatch, LeadQueryParams, LeadSource, NewLead, new_lead_id};
use echo5_core::stages::StageKind;
use echo5_data::ingest::IngestRequest;
use echo5_data::keys::KeyIdentity;
use echo5_data::{Store, StoreOptions, TenantKey};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// One generated lead's step, small enough that two million of them fit in memory; the
/// lead itself is built when its step runs.
#[derive(Clone, Copy)]
struct Step {
    at: DateTime<Utc>,
    tenant: u16,
    lead: u32,
    phone: u32,
    attribution: [u8; 3],
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Entered by hand (or imported) at its own `created_at`.
    Enter,
    /// Submitted to ingest and judged spam.
    Spam,
    /// Moved out of intake into the tenant's stage of this index.
    Move(usize),
}

/// Steps in flight at once: well inside the write queue (`StoreOptions::write_queue`).
const GROUP_MAX: usize = 1024;

const MESSAGE: &str = "Looking for in-home care for my mother, three days a week.";

/// Runs one step through the store; an entry returns its lead's id.
async fn run(
    s: Store,
    step: Step,
    tenant: (Uuid, KeyIdentity, Uuid),
    id: Option<Uuid>,
) -> Option<Uuid> {
    let (t, i) = (step.tenant, step.lead);
    let name = format!("Lead {t}-{i}");
    let email = format!("lead{t}x{i}@example.com");
    let phone = format!("+1555{:07}", step.phone);
    let source = [LeadSource::Website, LeadSource::Meta, LeadSource::Google]
        [usize::from(step.attribution[0])];
    let utm_source = ["google", "facebook", "bing"][usize::from(step.attribution[1])];
    let utm_campaign = ["care-search", "awareness", "retarget"][usize::from(step.attribution[2])];
    let (tid, who, to) = tenant;
    match step.kind {
        Kind::Enter => {
            let new = NewLead {
                name: Some(name),
                email: Some(email),
                phone: Some(phone),
                message: Some(MESSAGE.into()),
                source: Some(source),
                created_at: Some(step.at),
                utm_source: Some(utm_source.into()),
                utm_campaign: Some(utm_campaign.into()),
                ..NewLead::default()
            };
            let d = s.create_lead("bench".into(), tid.into(), new).await;
            Some(d.expect("enter").value.lead.id)
        }
        Kind::Spam => {
            let mut l = Lead::blank(new_lead_id(step.at), tid, Uuid::nil(), step.at);
            let raw = serde_json::to_vec(&name).expect("json");
            (l.name, l.email, l.phone) = (Some(name), Some(email), Some(phone));
            l.message = Some(MESSAGE.into());
            l.source = LeadSource::Website;
            l.utm_source = Some(utm_source.into());
            l.utm_campaign = Some(utm_campaign.into());
            s.ingest(IngestRequest {
                key: who,
                lead: l,
                raw,
                content_type: "application/json".into(),
                idempotency_key: None,
                spam_reason: Some("keyword:casino".into()),
            })
            .await
            .expect("ingest");
            None
        }
        Kind::Move(_) => {
            let patch = LeadPatch {
                stage_id: Some(to),
                ..LeadPatch::default()
            };
            s.patch_lead("bench".into(), id.expect("entered"), patch, Reach::All)
                .await
                .expect("move");
            None
        }
    }
}

/// Fills the store with `n_leads` over `n_tenants` across the two years before `now`:
/// a realistic stage spread, 3 % spam, 2 % of older leads forgotten in intake (overdue).
/// Steps run an hour of the clock at a time, concurrently within the hour, so the
/// writer's group commit batches them as it batches live traffic.
async fn generate(
    store: &Store,
    clock: &ManualClock,
    now: DateTime<Utc>,
    n_leads: usize,
    n_tenants: usize,
) {
    let mut rng = Rng(42);
    let mut tenants_made = Vec::with_capacity(n_tenants);
    let mut steps: Vec<Step> = Vec::with_capacity(n_leads * 2);
    for t in 0..n_tenants {
        let (tid, stages) = bench_tenant(store, t).await;
        let secret = store
            .create_key("bench".into(), tid.into(), None)
            .await
            .expect("key")
            .value
            .secret;
        let who = store.authenticate_key(&secret).expect("key");
        for i in 0..n_leads / n_tenants {
            let age = TimeDelta::minutes(rng.below(730 * 24 * 60) as i64);
            let mut step = Step {
                at: now - age,
                tenant: t as u16,
                lead: i as u32,
                phone: rng.below(10_000_000) as u32,
                attribution: [0; 3].map(|_| rng.below(3) as u8),
                kind: Kind::Enter,
            };
            if rng.below(100) < 3 {
                step.kind = Kind::Spam;
            } else if age > TimeDelta::hours(12) && rng.below(100) >= 2 {
                // Most older leads were handled; 2% were forgotten in intake (overdue).
                let to = 1 + rng.below(stages.len() as u64 - 1) as usize;
                let contacted = step.at + TimeDelta::minutes(rng.below(600) as i64 + 1);
                steps.push(Step {
                    at: contacted,
                    kind: Kind::Move(to),
                    ..step
                });
            }
            steps.push(step);
        }
        tenants_made.push((tid, who, stages));
    }
    // Within an hour, entries go before the moves that may follow them.
    let hour = |at: DateTime<Utc>| at.timestamp().div_euclid(3600);
    let moving = |s: &Step| matches!(s.kind, Kind::Move(_));
    steps.sort_by_key(|s| (hour(s.at), moving(s)));
    let mut ids: HashMap<(u16, u32), Uuid> = HashMap::with_capacity(n_leads);
    let mut at = 0;
    while at < steps.len() {
        let (h, m) = (hour(steps[at].at), moving(&steps[at]));
        let len = steps[at..]
            .iter()
            .take_while(|s| hour(s.at) == h && moving(s) == m)
            .take(GROUP_MAX)
            .count();
        let end = DateTime::from_timestamp((h + 1) * 3600, 0).expect("time");
        clock.set(end.min(now));
        let mut running = tokio::task::JoinSet::new();
        for &step in &steps[at..at + len] {
            let (tid, who, stages) = &tenants_made[usize::from(step.tenant)];
            let to = match step.kind {
                Kind::Move(k) => stages[k],
                _ => stages[0],
            };
            let id = ids.get(&(step.tenant, step.lead)).copied();
            let key = (step.tenant, step.lead);
            let job = run(store.clone(), step, (*tid, *who, to), id);
            running.spawn(async move { job.await.map(|id| (key, id)) });
        }
        while let Some(done) = running.join_next().await {
            if let Some((key, id)) = done.expect("step") {
                ids.insert(key, id);
            }
        }
        at += len;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n_leads: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let n_tenants: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let iters: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let keep = std::env::var("ECHO5_BENCH_DB").ok();
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = keep
        .clone()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("bench.db"));
    let existed = path.exists();
    let key = MasterKey::from_bytes([7; 32], 1);
    let now = Utc::now();
    // Generation replays two years on the clock the store reads, so every lead goes in
    // through the paths the daemon uses (manual entry, ingest, a stage move).
    let clock = Arc::new(ManualClock::new(if existed {
        now
    } else {
        now - TimeDelta::days(731)
    }));
    let opening = Instant::now();
    let store = Store::open(&path, key, clock.clone(), StoreOptions::default()).expect("open");
    // Opening an older database runs its migrations (on 1 M leads, 0018's backfill).
    println!("opened in {:.2} s", opening.elapsed().as_secs_f64());
    if !existed {
        let started = Instant::now();
        generate(&store, &clock, now, n_leads, n_tenants).await;
        clock.set(now);
        println!(
            "generated {n_leads} leads over {n_tenants} tenants in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("using the existing database {}", path.display());
    }
    let page = store.list_tenants(200, None).await.expect("tenants");
    let tenants: Vec<_> = page.data.iter().map(|t| t.id).collect();
    let stage_of: Vec<uuid::Uuid> = {
        let mut v = Vec::new();
        for t in &tenants {
            let st = store.list_stages((*t).into()).await.expect("stages");
            v.push(
                st.iter()
                    .find(|s| s.kind == StageKind::Open && s.name == "Qualified")
                    .map(|s| s.id)
                    .unwrap_or(st[1].id),
            );
        }
        v
    };
    let breached = store
        .breaches(None, Reach::All, 50, None)
        .await
        .expect("breaches");
    println!(
        "breach list first page: {} rows (more: {})",
        breached.data.len(),
        breached.next_cursor.is_some()
    );

    time("no-op read round trip (baseline)", iters, |_| {
        let s = store.clone();
        async move {
            s.read(|_| Ok(())).await.expect("read");
        }
    })
    .await;
    time("page of 50, filtered by stage", iters, |i| {
        let (s, t, st) = (
            store.clone(),
            tenants[i % tenants.len()],
            stage_of[i % tenants.len()],
        );
        async move {
            let q = LeadQueryParams {
                stage: Some(st.to_string()),
                limit: Some(50),
                ..Default::default()
            }
            .validate()
            .expect("query");
            let p = s
                .list_leads(TenantKey::Id(t), q, Reach::All)
                .await
                .expect("page");
            assert_eq!(p.data.len(), 50);
        }
    })
    .await;
    time("page of 50, default listing, 2nd page", iters, |i| {
        let (s, t) = (store.clone(), tenants[i % tenants.len()]);
        async move {
            let q = LeadQueryParams {
                limit: Some(50),
                ..Default::default()
            }
            .validate()
            .expect("q");
            let p1 = s
                .list_leads(TenantKey::Id(t), q.clone(), Reach::All)
                .await
                .expect("page");
            let mut q2 = q;
            q2.cursor = p1
                .next_cursor
                .as_deref()
                .map(|c| echo5_core::page::Cursor::decode(c).expect("cursor"));
            s.list_leads(TenantKey::Id(t), q2, Reach::All)
                .await
                .expect("page");
        }
    })
    .await;
    time("all-tenant breach list, page of 50", iters, |_| {
        let s = store.clone();
        async move {
            s.breaches(None, Reach::All, 50, None)
                .await
                .expect("breaches");
        }
    })
    .await;
    time("dashboard (100 tenants)", iters.min(100), |_| {
        let s = store.clone();
        async move {
            s.dashboard().await.expect("dashboard");
        }
    })
    .await;
    time("one tenant's 90-day analytics", iters, |i| {
        let (s, t) = (store.clone(), tenants[i % tenants.len()]);
        async move {
            s.analytics(TenantKey::Id(t), Reach::All, now - TimeDelta::days(90), now)
                .await
                .expect("analytics");
        }
    })
    .await;
    // `GET /api/v1/analytics`: every tenant's analytics over 30 whole days in one read job
    // (the sum itself is arithmetic over their answers), from the counts kept per day
    // (what the endpoint reads) and from the leads (the per-tenant computation), in turn.
    let (from30, to30) = echo5_core::analytics::global_window(now, 30);
    let kept = store
        .analytics_of(Vec::new(), from30, to30)
        .await
        .expect("analytics")
        .expect("tenants");
    let scanned = store
        .analytics_of_scanned(Vec::new(), from30, to30)
        .await
        .expect("analytics")
        .expect("tenants");
    let (k, sc) = (
        echo5_core::analytics::sum(&kept),
        echo5_core::analytics::sum(&scanned),
    );
    println!(
        "30 days, all tenants: {} leads kept, {} scanned; totals equal: {}",
        k.total,
        sc.total,
        k == sc
    );
    for round in 0..2 {
        time(
            &format!("all tenants, 30 days, scanned ({})", round + 1),
            iters.min(20),
            |_| {
                let s = store.clone();
                async move {
                    let parts = s
                        .analytics_of_scanned(Vec::new(), from30, to30)
                        .await
                        .expect("analytics")
                        .expect("tenants");
                    assert!(!parts.is_empty());
                }
            },
        )
        .await;
        time(
            &format!("all tenants, 30 days, kept counts ({})", round + 1),
            iters,
            |_| {
                let s = store.clone();
                async move {
                    let parts = s
                        .analytics_of(Vec::new(), from30, to30)
                        .await
                        .expect("analytics")
                        .expect("tenants");
                    assert!(!parts.is_empty());
                }
            },
        )
        .await;
    }
    let (from365, to365) = echo5_core::analytics::global_window(now, 365);
    time("all tenants, 365 days, scanned", iters.min(5), |_| {
        let s = store.clone();
        async move {
            s.analytics_of_scanned(Vec::new(), from365, to365)
                .await
                .expect("analytics")
                .expect("tenants");
        }
    })
    .await;
    time("all tenants, 365 days, kept counts", iters.min(50), |_| {
        let s = store.clone();
        async move {
            s.analytics_of(Vec::new(), from365, to365)
                .await
                .expect("analytics")
                .expect("tenants");
        }
    })
    .await;
    // A reorder that changes the funnel counts the tenant again (its ~10 k leads and their
    // stage history) in the edit's transaction; alternating two orders leaves it as it was.
    let t0 = tenants[0];
    let original: Vec<uuid::Uuid> = store
        .list_stages(t0.into())
        .await
        .expect("stages")
        .iter()
        .map(|s| s.id)
        .collect();
    let mut swapped = original.clone();
    swapped.swap(1, 2);
    time(
        "stage reorder of one tenant (recount)",
        iters.min(20),
        |i| {
            let s = store.clone();
            let order = if i % 2 == 0 {
                swapped.clone()
            } else {
                original.clone()
            };
            async move {
                s.reorder_stages("bench".into(), t0.into(), order)
                    .await
                    .expect("reorder");
            }
        },
    )
    .await;
    store
        .reorder_stages("bench".into(), t0.into(), original.clone())
        .await
        .expect("reorder");
    // Platform administration: the all-leads view and the usage report.
    time("all-leads page of 50 (all tenants)", iters, |_| {
        let s = store.clone();
        async move {
            let q = LeadQueryParams::default().validate().expect("q");
            let p = s
                .all_leads(Vec::new(), q)
                .await
                .expect("all")
                .expect("page");
            assert_eq!(p.data.len(), 50);
        }
    })
    .await;
    time("all-leads page of 50, 2nd page", iters, |_| {
        let s = store.clone();
        async move {
            let q = LeadQueryParams::default().validate().expect("q");
            let p1 = s
                .all_leads(Vec::new(), q.clone())
                .await
                .expect("all")
                .expect("page");
            let mut q2 = q;
            q2.cursor = p1
                .next_cursor
                .as_deref()
                .map(|c| echo5_core::page::Cursor::decode(c).expect("cursor"));
            s.all_leads(Vec::new(), q2)
                .await
                .expect("all")
                .expect("page");
        }
    })
    .await;
    time("all-leads page of 50, tenant=3 tenants", iters, |i| {
        let s = store.clone();
        let names: Vec<String> = (0..3)
            .map(|k| tenants[(i + k * 31) % tenants.len()].to_string())
            .collect();
        async move {
            let q = LeadQueryParams::default().validate().expect("q");
            let p = s.all_leads(names, q).await.expect("all").expect("page");
            assert_eq!(p.data.len(), 50);
        }
    })
    .await;
    time("all-leads page of 50, spam=all + source", iters, |_| {
        let s = store.clone();
        async move {
            let q = LeadQueryParams {
                spam: Some("all".into()),
                source: Some("meta".into()),
                ..Default::default()
            }
            .validate()
            .expect("q");
            s.all_leads(Vec::new(), q)
                .await
                .expect("all")
                .expect("page");
        }
    })
    .await;
    let month = echo5_core::usage::Month::of(now);
    time(
        "usage report, this month (100 tenants)",
        iters.min(100),
        |_| {
            let (s, n) = (store.clone(), tenants.len());
            async move {
                let u = s.usage_report(month, None).await.expect("usage");
                assert_eq!(u.len(), n);
            }
        },
    )
    .await;
    time("usage report, one tenant", iters, |i| {
        let (s, t) = (store.clone(), tenants[i % tenants.len()]);
        async move {
            s.usage_report(month, Some(TenantKey::Id(t)))
                .await
                .expect("usage");
        }
    })
    .await;
    store.shutdown().await;
    drop(tmp);
}
