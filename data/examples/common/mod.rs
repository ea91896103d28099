//! What the store benchmarks share: a seeded generator, percentiles, a timing loop, and the
//! benchmark's tenants. Each example uses a part of it.
#![allow(dead_code)]

use echo5_core::tenants::{self, NewTenant};
use echo5_data::Store;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// SplitMix64: the same data on every run, without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The `p`th percentile of `v`, in milliseconds (nearest rank).
pub fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[i.clamp(1, v.len()) - 1].as_secs_f64() * 1000.0
}

/// Runs `f` `iters` times (with the run's number) and prints p50 and p99.
pub async fn time<F, Fut>(label: &str, iters: usize, mut f: F)
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
        pct(&mut samples, 50.0),
        pct(&mut samples, 99.0)
    );
}

/// The `t`th benchmark tenant, "Agency Client 007", with an SLA of 4, 8, 24 or 48 hours in
/// turn; its id and its stages' ids, in pipeline order.
pub async fn bench_tenant(store: &Store, t: usize) -> (Uuid, Vec<Uuid>) {
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
    let stages = store
        .list_stages(tid.into())
        .await
        .expect("stages")
        .iter()
        .map(|s| s.id)
        .collect();
    (tid, stages)
}
