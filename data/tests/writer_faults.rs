//! The group-commit writer under storage faults, on a real database file: a batch that
//! fails fails every job in it, nothing of it is written, nothing committed before is lost,
//! and the writer takes the next batch on the same connection. Also: what ingest jobs
//! remember within a batch (the intake stage) does not outlive a job that changes it.
//!
//! The daemon-level versions (a real full tmpfs, a lock held by another process) are in
//! `echo5d/tests/faults.rs`; these need no privileges.

mod common;

use echo5_core::clock::SystemClock;
use echo5_data::{Store, StoreError, StoreOptions};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

fn open(dir: &tempfile::TempDir) -> Store {
    common::open_store(
        dir.path(),
        common::master_key(7),
        Arc::new(SystemClock),
        StoreOptions::default(),
    )
    .unwrap()
}

/// A store with an empty `scratch(x BLOB)` table for the jobs below to fill.
async fn open_with_scratch(dir: &tempfile::TempDir) -> Store {
    let store = open(dir);
    store
        .write(|c| Ok(c.execute_batch("CREATE TABLE scratch(x BLOB)")?))
        .await
        .unwrap();
    store
}

type WriteFuture = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

/// Runs `jobs` as one group commit: a first job holds the writer thread until all of them
/// are queued behind it, so the writer drains them into the same batch. The first job then
/// runs past the writer's join window (2 ms), so they do not join its own batch instead.
async fn one_batch(store: &Store, jobs: Vec<WriteFuture>) -> Vec<Result<(), StoreError>> {
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let s = store.clone();
    let blocker = tokio::spawn(async move {
        s.write(move |_| {
            let _ = started_tx.send(());
            let _ = release_rx.recv_timeout(Duration::from_secs(30));
            std::thread::sleep(Duration::from_millis(10));
            Ok(())
        })
        .await
    });
    tokio::task::spawn_blocking(move || started_rx.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("the blocker runs");
    // The first poll queues the job (the writer's channel takes it at once).
    let mut jobs = jobs;
    let mut cx = Context::from_waker(Waker::noop());
    for j in &mut jobs {
        assert!(matches!(j.as_mut().poll(&mut cx), Poll::Pending));
    }
    release_tx.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    let mut out = Vec::new();
    for j in jobs {
        out.push(j.await);
    }
    out
}

async fn rows(store: &Store) -> i64 {
    store
        .read(|c| Ok(c.query_row("SELECT count(*) FROM scratch", [], |r| r.get(0))?))
        .await
        .unwrap()
}

fn insert(store: &Store, bytes: usize) -> WriteFuture {
    let s = store.clone();
    Box::pin(async move {
        s.write(move |c| {
            c.execute("INSERT INTO scratch(x) VALUES (?1)", [vec![1u8; bytes]])?;
            Ok(())
        })
        .await
    })
}

/// SQLITE_FULL inside a statement without a statement journal makes SQLite roll the whole
/// transaction back. Before the fix the writer went on running the batch's later jobs
/// outside any transaction: each committed on its own and was still answered 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_sqlite_rolled_back_fails_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_scratch(&dir).await;
    store
        .write(|c| {
            c.execute("INSERT INTO scratch(x) VALUES (x'01')", [])?;
            Ok(())
        })
        .await
        .unwrap();
    // A database that may grow by a few pages only: the second job's 256 KiB cannot fit.
    store
        .write(|c| {
            let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            c.pragma_update(None, "max_page_count", pages + 4)?;
            Ok(())
        })
        .await
        .unwrap();
    let results = one_batch(
        &store,
        vec![
            insert(&store, 10),
            insert(&store, 256 * 1024),
            insert(&store, 10),
        ],
    )
    .await;
    for (i, r) in results.iter().enumerate() {
        assert!(
            matches!(r, Err(StoreError::Full(_))),
            "job {i}: {r:?} (every job of the failed batch is refused as storage full)"
        );
    }
    assert_eq!(
        rows(&store).await,
        1,
        "nothing of the failed batch is stored"
    );

    // Space returns: the same connection takes the next batch.
    store
        .write(|c| {
            c.pragma_update(None, "max_page_count", 1_073_741_823)?;
            Ok(())
        })
        .await
        .unwrap();
    let results = one_batch(&store, vec![insert(&store, 10), insert(&store, 256 * 1024)]).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(rows(&store).await, 3);
    assert!(store.probe_write().await.is_ok());
}

/// A COMMIT that fails leaves the transaction open (here a deferred foreign key, the one
/// failure that is easy to cause on purpose); the writer must roll it back, refuse every
/// job of the batch, and commit the next batch on the same connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_fails_every_job_and_the_writer_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store
        .write(|c| {
            Ok(c.execute_batch(
                "CREATE TABLE scratch(x BLOB);
                 CREATE TABLE parent(id INTEGER PRIMARY KEY);
                 CREATE TABLE child(p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);",
            )?)
        })
        .await
        .unwrap();
    let s = store.clone();
    let orphan: WriteFuture = Box::pin(async move {
        s.write(|c| {
            c.execute("INSERT INTO child(p) VALUES (42)", [])?;
            Ok(())
        })
        .await
    });
    let results = one_batch(&store, vec![insert(&store, 10), orphan, insert(&store, 10)]).await;
    for (i, r) in results.iter().enumerate() {
        assert!(
            matches!(r, Err(StoreError::Unavailable(_))),
            "job {i}: {r:?}"
        );
    }
    assert_eq!(rows(&store).await, 0);
    let results = one_batch(&store, vec![insert(&store, 10), insert(&store, 10)]).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(rows(&store).await, 2);
}

/// Another connection holding the write lock: the writer refuses with `Busy` after its
/// short busy timeout (not the 5 s readers wait), and works again once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_elsewhere_is_busy_within_the_short_timeout_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_scratch(&dir).await;
    let other = rusqlite::Connection::open(dir.path().join(common::DB_FILE)).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let t = Instant::now();
    let r = insert(&store, 10).await;
    let waited = t.elapsed();
    assert!(matches!(r, Err(StoreError::Busy(_))), "{r:?}");
    // The time bound is the behaviour: the writer waits for the lock (not refusing at once)
    // but gives up before the readers' 5 s busy timeout would have let it go (which a
    // writer on that timeout could not beat); the writer's own is 1 s.
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(5),
        "refused after {waited:?}"
    );
    assert!(matches!(
        store.probe_write().await,
        Err(StoreError::Busy(_))
    ));
    other.execute_batch("ROLLBACK").unwrap();
    insert(&store, 10).await.unwrap();
    assert_eq!(rows(&store).await, 1);
}

/// Ingest runs without a savepoint per job. One that fails before writing leaves its
/// batch alone; one that fails after writing cannot be undone alone, so its whole batch is
/// rolled back and answered with the error: nothing half-done is ever committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unguarded_job_that_fails_part_way_rolls_its_batch_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_scratch(&dir).await;
    let unguarded = |write_first: bool| -> WriteFuture {
        let s = store.clone();
        Box::pin(async move {
            s.write_unguarded(move |c| {
                if write_first {
                    c.execute("INSERT INTO scratch(x) VALUES (x'00')", [])?;
                }
                Err(StoreError::Internal("refused after checking".into()))
            })
            .await
        })
    };

    // Fails before writing: the jobs around it commit.
    let results = one_batch(
        &store,
        vec![insert(&store, 10), unguarded(false), insert(&store, 10)],
    )
    .await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(matches!(&results[1], Err(StoreError::Internal(_))));
    assert_eq!(rows(&store).await, 2);

    // Fails after writing: the whole batch is rolled back, every caller told.
    let results = one_batch(
        &store,
        vec![insert(&store, 10), unguarded(true), insert(&store, 10)],
    )
    .await;
    assert!(
        matches!(&results[0], Err(StoreError::Unavailable(_))),
        "{results:?}"
    );
    assert!(
        matches!(&results[1], Err(StoreError::Internal(_))),
        "{results:?}"
    );
    assert!(
        matches!(&results[2], Err(StoreError::Unavailable(_))),
        "{results:?}"
    );
    assert_eq!(
        rows(&store).await,
        2,
        "nothing of the tainted batch is stored"
    );

    // The writer goes on with the next batch.
    let results = one_batch(&store, vec![insert(&store, 10), insert(&store, 10)]).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(rows(&store).await, 4);
}

/// Ingest jobs of one batch look the tenant's intake stage up once; a stage reorder in the
/// middle of the batch (a guarded job) makes the next ingest job look again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intake_stage_remembered_in_a_batch_follows_a_reorder_in_it() {
    use echo5_core::leads::{Lead, new_lead_id};
    use echo5_data::ingest::IngestRequest;

    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let t = common::new_tenant(&store, r#"{"name":"Open Arms"}"#)
        .await
        .unwrap();
    let stages: Vec<uuid::Uuid> = store
        .list_stages(t.id.into())
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    let who = common::key_for(&store, t.id).await;
    let ingest = |n: u32| -> WriteFuture {
        let s = store.clone();
        Box::pin(async move {
            let now = s.now();
            let mut lead = Lead::blank(new_lead_id(now), t.id, uuid::Uuid::nil(), now);
            lead.name = Some(format!("Visitor {n}"));
            lead.email = Some(format!("visitor{n}@example.com"));
            s.ingest(IngestRequest {
                key: who,
                lead,
                raw: format!(r#"{{"n":{n}}}"#).into_bytes(),
                content_type: "application/json".into(),
                idempotency_key: None,
                spam_reason: None,
            })
            .await
            .map(|_| ())
        })
    };
    // The first two stages swap places (both are open stages, as an intake stage must be).
    let mut swapped = stages.clone();
    swapped.swap(0, 1);
    let reorder: WriteFuture = {
        let s = store.clone();
        let order = swapped.clone();
        Box::pin(async move {
            s.reorder_stages("admin:test".into(), t.id.into(), order)
                .await
                .map(|_| ())
        })
    };
    let results = one_batch(&store, vec![ingest(1), ingest(2), reorder, ingest(3)]).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let stage_of = |n: u32| {
        let s = store.clone();
        async move {
            s.read(move |c| {
                Ok(c.query_row(
                    "SELECT stage_id FROM leads WHERE name = ?1",
                    [format!("Visitor {n}")],
                    |r| r.get::<_, String>(0),
                )?)
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(stage_of(1).await, stages[0].to_string());
    assert_eq!(stage_of(2).await, stages[0].to_string());
    assert_eq!(
        stage_of(3).await,
        swapped[0].to_string(),
        "the lead after the reorder lands in the new first stage"
    );
}
