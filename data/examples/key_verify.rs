//! Benchmark: API-key verification per second in-process (SHA-256 + index lookup +
//! constant-time compare + lifecycle check + usage mark), beside a no-op loop and a bare
//! SHA-256 in the same run.
//!
//! cargo run --release -p echo5-data --example key_verify [keys] [iterations]

use echo5_core::clock::SystemClock;
use echo5_core::crypto::MasterKey;
use echo5_core::tenants::{self, NewTenant};
use echo5_data::{Store, StoreOptions};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n_keys: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let iters: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(
        &dir.path().join("bench.db"),
        MasterKey::generate().expect("rng"),
        Arc::new(SystemClock),
        StoreOptions::default(),
    )
    .expect("open");
    let mut secrets = Vec::with_capacity(n_keys);
    for t in 0..(n_keys / 10).max(1) {
        let input: NewTenant =
            serde_json::from_str(&format!(r#"{{"name":"Tenant {t}"}}"#)).expect("json");
        let (f, s) = tenants::validate_new(&input).expect("valid");
        let tid = store
            .create_tenant("bench".into(), f, s)
            .await
            .expect("tenant")
            .value
            .id;
        for _ in 0..10 {
            let k = store
                .create_key("bench".into(), tid.into(), None)
                .await
                .expect("key");
            secrets.push(k.value.secret);
        }
    }
    let unknown = "e5_0000000000000000000000000000000000"[..35].to_string();

    let time = |label: &str, f: &mut dyn FnMut(usize)| {
        let start = Instant::now();
        for i in 0..iters {
            f(i);
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{label:<34} {:>12.0} /s   {:>8.1} ns/op",
            iters as f64 / secs,
            secs * 1e9 / iters as f64
        );
    };
    println!(
        "{} keys in the index, {iters} iterations each",
        secrets.len()
    );
    time("no-op (loop + black_box)", &mut |i| {
        black_box(&secrets[i % secrets.len()]);
    });
    time("sha256 of the key only", &mut |i| {
        black_box(echo5_core::crypto::sha256(
            secrets[i % secrets.len()].as_bytes(),
        ));
    });
    time("authenticate_key (valid key)", &mut |i| {
        black_box(store.authenticate_key(&secrets[i % secrets.len()]).is_ok());
    });
    time("authenticate_key (unknown key)", &mut |_| {
        black_box(store.authenticate_key(&unknown).is_err());
    });
    store.shutdown().await;
}
