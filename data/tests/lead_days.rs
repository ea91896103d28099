//! The global analytics read counts kept per tenant and day; these tests run random
//! sequences of every write that changes a lead's counted facts against a real database
//! file and, after each, check the kept answer against the leads themselves.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{Fixture, key_for, master_key, new_tenant, open_with};
use echo5_core::analytics::{self, AnalyticsTotals, TenantAnalytics};
use echo5_core::authorization::Reach;
use echo5_core::clock::Clock;
use echo5_core::leads::{Lead, LeadPatch, LeadSource, NewLead, new_lead_id};
use echo5_core::stages::{NewStage, StageKind, StagePatch};
use echo5_data::keys::KeyIdentity;
use echo5_data::tenants::DeleteMode;
use echo5_data::{Store, StoreOptions};
use uuid::Uuid;

/// A small xorshift generator: the sequences are random but repeatable by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        (!v.is_empty()).then(|| &v[self.below(v.len())])
    }
}

struct Client {
    id: Uuid,
    key: KeyIdentity,
    leads: Vec<Uuid>,
}

const UTM: [Option<&str>; 4] = [None, Some("google"), Some("facebook"), Some("")];
const CAMPAIGNS: [Option<&str>; 3] = [None, Some("spring"), Some("retarget")];

/// The kept answer and the scanned one over the same whole days, summed, and each
/// tenant's: equal but for the medians, which only the scan has.
async fn assert_kept_equals_scan(s: &Store, now: DateTime<Utc>, step: &str) {
    for days in [1, 7, 45] {
        let (from, to) = analytics::global_window(now, days);
        let kept = s.analytics_of(Vec::new(), from, to).await.unwrap().unwrap();
        let scan: Vec<TenantAnalytics> = s
            .analytics_of_scanned(Vec::new(), from, to)
            .await
            .unwrap()
            .unwrap()
            .into_iter()
            .map(|mut t| {
                t.analytics.first_contact.median_minutes = None;
                t.analytics.first_contact.p90_minutes = None;
                t
            })
            .collect();
        let (kt, st): (AnalyticsTotals, AnalyticsTotals) =
            (analytics::sum(&kept), analytics::sum(&scan));
        assert_eq!(kt, st, "totals, {days} days, after {step}");
        assert_eq!(kept, scan, "by tenant, {days} days, after {step}");
    }
}

async fn client(s: &Store, n: usize) -> Client {
    let t = new_tenant(s, &format!(r#"{{"name":"Client {n}"}}"#))
        .await
        .unwrap();
    Client {
        id: t.id,
        key: key_for(s, t.id).await,
        leads: Vec::new(),
    }
}

/// Runs `ops` random writes, checking after each; returns what ran, by kind.
async fn run(f: &Fixture, seed: u64, ops: usize) -> Vec<(&'static str, usize)> {
    let s = &f.store;
    let mut rng = Rng(seed);
    let mut made = 0;
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(client(s, made).await);
        made += 1;
    }
    let mut ran: Vec<(&'static str, usize)> = Vec::new();
    for _ in 0..ops {
        let now = f.clock.now();
        let c = rng.below(clients.len());
        let stages = s.list_stages(clients[c].id.into()).await.unwrap();
        let op: &'static str = match rng.below(100) {
            // Ingest: several posts at once, so they share group commits; some spam, some
            // duplicates (a few e-mail addresses only).
            0..=24 => {
                let mut posts = Vec::new();
                for _ in 0..1 + rng.below(6) {
                    let mut lead = Lead::blank(new_lead_id(now), clients[c].id, Uuid::nil(), now);
                    lead.email = Some(format!("v{}@example.com", rng.below(4)));
                    lead.source = LeadSource::Website;
                    lead.utm_source = UTM[rng.below(UTM.len())].map(str::to_string);
                    lead.utm_campaign = CAMPAIGNS[rng.below(CAMPAIGNS.len())].map(str::to_string);
                    let spam = (rng.below(5) == 0).then(|| "keyword:casino".to_string());
                    let raw = format!("{{\"n\":{}}}", rng.next()).into_bytes();
                    let (s, key) = (s.clone(), clients[c].key);
                    posts.push(tokio::spawn(async move {
                        s.ingest(echo5_data::ingest::IngestRequest {
                            key,
                            lead,
                            raw,
                            content_type: "application/json".into(),
                            idempotency_key: None,
                            spam_reason: spam,
                        })
                        .await
                    }));
                }
                for p in posts {
                    let out = p.await.unwrap().unwrap();
                    clients[c].leads.push(out.id);
                }
                "ingest"
            }
            // Manual entry, backdated up to 40 days, into any stage (past intake it counts
            // as contacted at once).
            25..=39 => {
                let stage = rng.pick(&stages).map(|s| s.id);
                let new = NewLead {
                    name: Some("Entered".into()),
                    source: Some(
                        [LeadSource::Manual, LeadSource::Meta, LeadSource::Google][rng.below(3)],
                    ),
                    created_at: Some(now - TimeDelta::hours(rng.below(40 * 24) as i64)),
                    stage_id: stage,
                    utm_source: UTM[rng.below(UTM.len())].map(str::to_string),
                    utm_campaign: CAMPAIGNS[rng.below(CAMPAIGNS.len())].map(str::to_string),
                    ..NewLead::default()
                };
                let d = s
                    .create_lead("admin:test".into(), clients[c].id.into(), new)
                    .await
                    .unwrap();
                clients[c].leads.push(d.value.lead.id);
                "enter"
            }
            // A stage move (the first out of intake sets the first contact).
            40..=59 => {
                let (Some(&lead), Some(to)) = (rng.pick(&clients[c].leads), rng.pick(&stages))
                else {
                    continue;
                };
                let patch = LeadPatch {
                    stage_id: Some(to.id),
                    ..LeadPatch::default()
                };
                s.patch_lead("admin:test".into(), lead, patch, Reach::All)
                    .await
                    .unwrap();
                "move"
            }
            // Spam flag or unflag.
            60..=69 => {
                let Some(&lead) = rng.pick(&clients[c].leads) else {
                    continue;
                };
                let spam = s.get_lead(lead).await.unwrap().is_spam;
                let patch = LeadPatch {
                    is_spam: Some(!spam),
                    ..LeadPatch::default()
                };
                s.patch_lead("admin:test".into(), lead, patch, Reach::All)
                    .await
                    .unwrap();
                if spam { "unflag" } else { "flag" }
            }
            // Pipeline edits: a reorder, a kind change, a new stage, a deletion with its
            // leads moved. The rules refuse some (a lost intake stage, say): a refusal
            // changes nothing, and is checked like the rest.
            70..=76 => {
                let mut order: Vec<Uuid> = stages.iter().map(|s| s.id).collect();
                for i in (1..order.len()).rev() {
                    order.swap(i, rng.below(i + 1));
                }
                let ok = s
                    .reorder_stages("admin:test".into(), clients[c].id.into(), order)
                    .await
                    .is_ok();
                if ok { "reorder" } else { "reorder refused" }
            }
            77..=83 => {
                let Some(st) = rng.pick(&stages) else {
                    continue;
                };
                let kind = [StageKind::Open, StageKind::Won, StageKind::Lost][rng.below(3)];
                let patch = StagePatch {
                    kind: Some(kind),
                    ..StagePatch::default()
                };
                let ok = s
                    .patch_stage("admin:test".into(), clients[c].id.into(), st.id, patch)
                    .await
                    .is_ok();
                if ok {
                    "stage kind"
                } else {
                    "stage kind refused"
                }
            }
            84..=86 => {
                let new = NewStage {
                    name: format!("Extra {}", rng.next() % 10_000),
                    kind: [StageKind::Open, StageKind::Lost][rng.below(2)],
                };
                let ok = s
                    .add_stage("admin:test".into(), clients[c].id.into(), new)
                    .await
                    .is_ok();
                if ok {
                    "stage added"
                } else {
                    "stage add refused"
                }
            }
            87..=90 => {
                let (Some(gone), Some(to)) = (rng.pick(&stages), rng.pick(&stages)) else {
                    continue;
                };
                let ok = s
                    .delete_stage(
                        "admin:test".into(),
                        clients[c].id.into(),
                        gone.id,
                        Some(to.id),
                    )
                    .await
                    .is_ok();
                if ok {
                    "stage deleted"
                } else {
                    "stage delete refused"
                }
            }
            // A tenant purged with its leads, and a new one in its place.
            91..=92 => {
                s.delete_tenant("admin:test".into(), clients[c].id.into(), DeleteMode::Purge)
                    .await
                    .unwrap();
                clients[c] = client(s, made).await;
                made += 1;
                "purge"
            }
            // Time passes: the windows move over the days counted.
            _ => {
                f.clock
                    .advance(TimeDelta::minutes(rng.below(36 * 60) as i64));
                "clock"
            }
        };
        match ran.iter_mut().find(|(k, _)| *k == op) {
            Some((_, n)) => *n += 1,
            None => ran.push((op, 1)),
        }
        assert_kept_equals_scan(s, f.clock.now(), op).await;
    }
    ran
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_counts_equal_the_scan_after_every_write() {
    let mut ran: Vec<(&'static str, usize)> = Vec::new();
    for seed in [0x9e37_79b9_7f4a_7c15, 7, 2026] {
        let f = open_with(master_key(1), StoreOptions::default());
        for (kind, n) in run(&f, seed, 160).await {
            match ran.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, m)) => *m += n,
                None => ran.push((kind, n)),
            }
        }
        f.store.shutdown().await;
    }
    // Each kind of write ran, or the sequences prove less than they claim.
    for kind in [
        "ingest",
        "enter",
        "move",
        "flag",
        "unflag",
        "reorder",
        "stage kind",
        "stage added",
        "stage deleted",
        "purge",
        "clock",
    ] {
        assert!(
            ran.iter().any(|(k, n)| *k == kind && *n > 0),
            "no {kind} in {ran:?}"
        );
    }
    println!("{ran:?}");
}

/// A database with leads, stage moves, spam and a reordered pipeline from before the
/// counts were kept gets them from migration 0018, and its backfill must equal the scan. (The same store's table is rebuilt by the
/// migration's SQL after it is dropped.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_backfills_what_the_writers_keep() {
    let f = open_with(master_key(1), StoreOptions::default());
    run(&f, 99, 60).await;
    let now = f.clock.now();
    f.store.shutdown().await;
    drop(f.store);
    {
        let conn = rusqlite::Connection::open(f.dir.path().join(common::DB_FILE)).unwrap();
        let kept: i64 = conn
            .query_row("SELECT count(*) FROM lead_days", [], |r| r.get(0))
            .unwrap();
        assert!(kept > 0);
        // The table lost, then migration 0018 run again on what the store wrote: its
        // backfill rebuilds the table from the leads and their stage history. (Running its
        // SQL alone keeps this test apart from the migrations that came after it.)
        conn.execute_batch("DROP TABLE lead_days;").unwrap();
        conn.execute_batch(include_str!("../migrations/0018_lead_days.sql"))
            .unwrap();
    }
    let clock = std::sync::Arc::new(echo5_core::clock::ManualClock::new(now));
    let store =
        common::open_store(f.dir.path(), master_key(1), clock, StoreOptions::default()).unwrap();
    assert_kept_equals_scan(&store, now, "migration").await;
    store.shutdown().await;
}
