//! Benchmark: the leads workflow queries on a generated database of 1 M leads over 100
//! tenants (two years of history, realistic stage spread, some overdue), in-process:
//! a filtered page of 50, the all-tenant breach list, the dashboard, one tenant's 90-day
//! analytics, an all-leads page over every tenant (or three), the usage report — each
//! beside a no-op read round trip measured in the same run.
//!
//! cargo run --release -p echo5-data --example bench_workflow [leads] [tenants] [iterations]
//! (the database is kept in $ECHO5_BENCH_DB if set, so later runs skip generation)

use chrono::{TimeDelta, Utc};
use echo5_core::clock::SystemClock;
use echo5_core::crypto::MasterKey;
use echo5_core::leads::{Lead, LeadQueryParams, LeadSource, new_lead_id};
use echo5_core::stages::StageKind;
use echo5_core::tenants::{self, NewTenant};
use echo5_data::{Store, StoreOptions, TenantKey};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn pct(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    let i = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[i.clamp(1, v.len()) - 1].as_secs_f64() * 1000.0
}

async fn time<F, Fut>(label: &str, iters: usize, mut f: F)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(iters);
    for i in 0..iters {
        let t = Instant::now();
        f(i).await;
        samples.push(t.elapsed());
    }
    println!(
        "{label:<44} p50 {:>8.3} ms   p99 {:>8.3} ms   ({iters} runs)",
        pct(samples.clone(), 50.0),
        pct(samples, 99.0)
    );
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
    let store =
        Store::open(&path, key, Arc::new(SystemClock), StoreOptions::default()).expect("open");
    let now = Utc::now();
    if !existed {
        let started = Instant::now();
        let mut rng = Rng(42);
        for t in 0..n_tenants {
            let input: NewTenant = serde_json::from_str(&format!(
                r#"{{"name":"Agency Client {t:03}","settings":{{"sla_hours":{}}}}}"#,
                [4, 8, 24, 48][t % 4]
            ))
            .expect("json");
            let (f, s) = tenants::validate_new(&input).expect("valid");
            let tid = store
                .create_tenant("bench".into(), f, s)
                .await
                .expect("tenant")
                .value
                .id;
            let stages = store.list_stages(tid.into()).await.expect("stages");
            let per = n_leads / n_tenants;
            let mut batch = Vec::with_capacity(5000);
            let mut moves = Vec::with_capacity(5000);
            for i in 0..per {
                let age = TimeDelta::minutes(rng.below(730 * 24 * 60) as i64);
                let created = now - age;
                let mut l = Lead::blank(new_lead_id(created), tid, stages[0].id, created);
                l.name = Some(format!("Lead {t}-{i}"));
                l.email = Some(format!("lead{t}x{i}@example.com"));
                l.phone = Some(format!("+1555{:07}", rng.below(10_000_000)));
                l.message =
                    Some("Looking for in-home care for my mother, three days a week.".into());
                l.source = [LeadSource::Website, LeadSource::Meta, LeadSource::Google]
                    [rng.below(3) as usize];
                l.utm_source = Some(["google", "facebook", "bing"][rng.below(3) as usize].into());
                l.utm_campaign =
                    Some(["care-search", "awareness", "retarget"][rng.below(3) as usize].into());
                l.is_spam = rng.below(100) < 3;
                // Most older leads were handled; 2% were forgotten in intake (overdue).
                if !l.is_spam && age > TimeDelta::hours(12) && rng.below(100) >= 2 {
                    let s = &stages[1 + rng.below(stages.len() as u64 - 1) as usize];
                    let contacted = created + TimeDelta::minutes(rng.below(600) as i64 + 1);
                    l.stage_id = s.id;
                    l.stage_changed_at = contacted;
                    l.first_contacted_at = Some(contacted);
                    moves.push(echo5_data::leads::ImportedMove {
                        lead: l.id,
                        tenant: tid,
                        from: Some(stages[0].id),
                        to: s.id,
                        at: contacted,
                    });
                }
                batch.push(l);
                if batch.len() == 5000 {
                    store
                        .insert_leads(std::mem::take(&mut batch))
                        .await
                        .expect("insert");
                    store
                        .insert_history(std::mem::take(&mut moves))
                        .await
                        .expect("history");
                }
            }
            store.insert_leads(batch).await.expect("insert");
            store.insert_history(moves).await.expect("history");
        }
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
    let breached = store.breaches(None, 50, None).await.expect("breaches");
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
            let p = s.list_leads(TenantKey::Id(t), q).await.expect("page");
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
                .list_leads(TenantKey::Id(t), q.clone())
                .await
                .expect("page");
            let mut q2 = q;
            q2.cursor = p1
                .next_cursor
                .as_deref()
                .map(|c| echo5_core::page::Cursor::decode(c).expect("cursor"));
            s.list_leads(TenantKey::Id(t), q2).await.expect("page");
        }
    })
    .await;
    time("all-tenant breach list, page of 50", iters, |_| {
        let s = store.clone();
        async move {
            s.breaches(None, 50, None).await.expect("breaches");
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
            s.analytics(TenantKey::Id(t), now - TimeDelta::days(90), now)
                .await
                .expect("analytics");
        }
    })
    .await;
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
