//! The write path: one thread owns the read-write connection and commits in groups.
//!
//! Jobs arrive over a bounded channel. The thread takes one, drains whatever else is
//! waiting, runs them all in one `BEGIN IMMEDIATE … COMMIT` — taking in jobs that arrive
//! meanwhile, up to `max_batch` — each under its own savepoint so one failing job rolls back
//! alone (ingest jobs go without, see [`Writer::call_unguarded`]), and only after the commit
//! (the fsync) answers every caller. One fsync is shared by the whole batch: that is what
//! makes durable ingest fast. A job still queued when its batch fails was never part of it
//! and runs in the next one. A full queue is refused at once (`QueueFull`), never dropped.

use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

use crate::error::StoreError;

/// Counters for benchmarks and `/readyz`: batch sizes come from `jobs / commits`.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub commits: AtomicU64,
    pub jobs: AtomicU64,
    pub failed_commits: AtomicU64,
}

trait WriteJob: Send {
    /// Runs inside the open transaction, under a savepoint.
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Completion>;
    /// The transaction could not even start.
    fn fail(self: Box<Self>, err: StoreError);
}

trait Completion: Send {
    /// Whether the job itself succeeded (its savepoint was released, not rolled back).
    fn ok(&self) -> bool;
    /// A copy of the job's error if it is a storage fault (disk full, locked, I/O).
    fn fault(&self) -> Option<StoreError>;
    /// An unguarded job failed after it had written: only rolling back the whole
    /// transaction undoes its writes.
    fn tainted(&self) -> bool;
    /// Called once the batch's commit has succeeded or failed.
    fn finish(self: Box<Self>, commit: &Result<(), StoreError>);
}

/// Told, on the writer thread, how each job and each group commit ended: state kept in
/// memory beside the database (the recent-leads windows, the batch's usage counts) follows
/// the transaction with it.
pub(crate) trait WriteObserver: Send + Sync {
    fn job_done(&self, ok: bool);
    /// Last writes of the batch, in its transaction, after its jobs ran and only if all is
    /// well so far. An error fails the whole batch.
    fn before_commit(&self, conn: &Connection) -> Result<(), StoreError>;
    fn batch_done(&self, ok: bool);
}

/// Several observers, told in order.
pub(crate) struct Observers(pub(crate) Vec<Arc<dyn WriteObserver>>);

impl WriteObserver for Observers {
    fn job_done(&self, ok: bool) {
        self.0.iter().for_each(|o| o.job_done(ok));
    }

    fn before_commit(&self, conn: &Connection) -> Result<(), StoreError> {
        self.0.iter().try_for_each(|o| o.before_commit(conn))
    }

    fn batch_done(&self, ok: bool) {
        self.0.iter().for_each(|o| o.batch_done(ok));
    }
}

struct Job<F, T> {
    f: F,
    reply: oneshot::Sender<Result<T, StoreError>>,
    /// Under its own savepoint (undone alone if it fails), or not (see [`Writer::call_unguarded`]).
    guarded: bool,
}

struct Done<T> {
    result: Result<T, StoreError>,
    reply: oneshot::Sender<Result<T, StoreError>>,
    tainted: bool,
}

fn run_caught<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    catch_unwind(AssertUnwindSafe(|| f(conn)))
        .unwrap_or_else(|_| Err(StoreError::Internal("a write job panicked".into())))
}

impl<F, T> WriteJob for Job<F, T>
where
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Completion> {
        let Job { f, reply, guarded } = *self;
        if !guarded {
            // No savepoint (its statements cost ~5 % of the writer at full ingest): a job
            // that fails before writing anything leaves nothing to undo; one that fails
            // after writing taints the batch, which is then rolled back as a whole.
            let before = conn.total_changes();
            let result = run_caught(conn, f);
            let tainted = result.is_err() && conn.total_changes() != before;
            return Box::new(Done {
                result,
                reply,
                tainted,
            });
        }
        next_generation();
        let result = match exec_cached(conn, "SAVEPOINT job") {
            Err(e) => Err(StoreError::from(e)),
            Ok(()) => {
                let r = run_caught(conn, f);
                let end = if r.is_ok() {
                    exec_cached(conn, "RELEASE job")
                } else {
                    exec_cached(conn, "ROLLBACK TO job")
                        .and_then(|_| exec_cached(conn, "RELEASE job"))
                };
                match (end, r) {
                    (Ok(()), r) => r,
                    (Err(e), Ok(_)) => Err(StoreError::from(e)),
                    (Err(_), Err(e)) => Err(e),
                }
            }
        };
        Box::new(Done {
            result,
            reply,
            tainted: false,
        })
    }

    fn fail(self: Box<Self>, err: StoreError) {
        let _ = self.reply.send(Err(err));
    }
}

impl<T: Send + 'static> Completion for Done<T> {
    fn ok(&self) -> bool {
        self.result.is_ok()
    }

    fn fault(&self) -> Option<StoreError> {
        self.result.as_ref().err().and_then(StoreError::fault_copy)
    }

    fn tainted(&self) -> bool {
        self.tainted
    }

    fn finish(self: Box<Self>, commit: &Result<(), StoreError>) {
        let out = match (self.result, commit) {
            (Err(e), _) => Err(e),
            (Ok(v), Ok(())) => Ok(v),
            // Every job of a failed batch gets the batch's fault (full, busy...), so the
            // caller answers 503 with the reason; nothing of the batch was written.
            (Ok(_), Err(e)) => Err(e
                .fault_copy()
                .unwrap_or_else(|| StoreError::Unavailable(e.to_string()))),
        };
        // The caller may have gone away (client disconnected); the write still stands.
        let _ = self.reply.send(out);
    }
}

/// Runs a statement through the prepared-statement cache: savepoints run once per job, and
/// parsing them each time showed in profiles.
fn exec_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// How long after a batch starts running later arrivals may still join it. At full ingest
/// a batch runs in well under this (about 30 jobs of ~15 µs); it bounds what the first job
/// of a very large batch waits before its commit.
const JOIN_WINDOW: Duration = Duration::from_millis(2);

/// A batch that takes longer than this (jobs and commit) is logged at debug level.
const SLOW_BATCH: Duration = Duration::from_millis(5);

/// WAL size, in pages, past which the writer checkpoints after a commit: what lets the WAL
/// restart from its beginning (the checkpoint thread, racing the writer, rarely catches up
/// with the whole log). 4 MiB of 8-KiB pages: at 1,000 4-KiB pages the checkpoints stayed
/// small; at 10,000 they pushed the c64 p99 to ~16 ms.
const CHECKPOINT_PAGES: i32 = 500;

thread_local! {
    /// Changes whenever a job other than an unguarded (ingest) one starts, and at the end of
    /// every batch, committed or not: what an ingest job remembers from an earlier one (the
    /// intake stages, see `ingest`) holds while it stays the same. Ingest jobs write no
    /// stages, and every other write is a guarded job.
    static GENERATION: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };

    /// Pages in the WAL after the writer's last commit, as SQLite's WAL hook reports them.
    /// Per thread because the hook is a plain function; each store has its own writer thread.
    static WAL_PAGES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// The writer thread's [`GENERATION`]; only meaningful on that thread, inside a job.
pub(crate) fn generation() -> u64 {
    GENERATION.with(std::cell::Cell::get)
}

fn next_generation() {
    GENERATION.with(|g| g.set(g.get().wrapping_add(1)));
}

fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.with(|p| p.set(pages));
    Ok(())
}

/// The writer's own checkpoint, run once the batch that grew the WAL past
/// [`CHECKPOINT_PAGES`] has been answered. SQLite's automatic checkpoint would run it inside
/// that COMMIT, so the batch's callers waited for the copy and the database file's fsync:
/// the slowest commits of a c64 run (up to 18 ms) were those.
///
/// A failure is logged at most once a minute (`last_warning`): a failing disk fails the
/// commits too, which are logged on their own, and the next commit tries again. `busy` (the
/// checkpoint thread held the checkpoint lock) needs nothing: the next commit tries again.
fn checkpoint_if_due(conn: &Connection, last_warning: &mut Option<Instant>) {
    if WAL_PAGES.with(|p| p.replace(0)) < CHECKPOINT_PAGES {
        return;
    }
    let started = Instant::now();
    let done = conn
        .prepare_cached("PRAGMA wal_checkpoint(PASSIVE)")
        .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0)));
    if let Err(e) = done
        && last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(60))
    {
        tracing::warn!(error = %e, "checkpoint after a commit failed (logged once a minute)");
        *last_warning = Some(Instant::now());
    }
    if started.elapsed() > SLOW_BATCH {
        tracing::debug!(us = started.elapsed().as_micros() as u64, "slow checkpoint");
    }
}

enum Msg {
    Job(Box<dyn WriteJob>),
    Shutdown(std::sync::mpsc::Sender<()>),
}

#[derive(Clone)]
pub(crate) struct Writer {
    tx: mpsc::Sender<Msg>,
    pub(crate) stats: Arc<WriterStats>,
}

impl Writer {
    pub(crate) fn spawn(
        conn: Connection,
        queue: usize,
        max_batch: usize,
        observer: Arc<dyn WriteObserver>,
    ) -> Writer {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let stats = Arc::new(WriterStats::default());
        let thread_stats = stats.clone();
        std::thread::Builder::new()
            .name("echo5-writer".into())
            .spawn(move || run(conn, rx, max_batch.max(1), &thread_stats, &*observer))
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!(error = %e, "cannot spawn the writer thread"));
        Writer { tx, stats }
    }

    /// Queues `f` for the next group commit and waits for that commit.
    pub(crate) async fn call<F, T>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.submit(f, true).await
    }

    /// Like [`call`](Self::call), without the job's own savepoint. For hot, simple jobs
    /// (ingest) whose failures after their first write are storage faults that fail the
    /// whole transaction anyway: if such a job does fail part-way, its entire batch is rolled
    /// back and answered with the error (each caller may retry), never committed half-done.
    pub(crate) async fn call_unguarded<F, T>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.submit(f, false).await
    }

    async fn submit<F, T>(&self, f: F, guarded: bool) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        self.tx
            .try_send(Msg::Job(Box::new(Job { f, reply, guarded })))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => StoreError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => {
                    StoreError::Unavailable("the store is shut down".into())
                }
            })?;
        rx.await
            .map_err(|_| StoreError::Unavailable("the writer stopped".into()))?
    }

    /// Commits everything queued so far, then stops the thread. Waits for it.
    pub(crate) async fn shutdown(&self) {
        let (ack, done) = std::sync::mpsc::channel();
        if self.tx.send(Msg::Shutdown(ack)).await.is_ok() {
            let _ = tokio::task::spawn_blocking(move || done.recv()).await;
        }
    }
}

fn run(
    conn: Connection,
    mut rx: mpsc::Receiver<Msg>,
    max_batch: usize,
    stats: &WriterStats,
    observer: &dyn WriteObserver,
) {
    // Replaces SQLite's automatic checkpoint (`wal_autocheckpoint`) on this connection.
    conn.wal_hook(Some(note_wal_pages));
    let mut checkpoint_warned = None;
    let mut batch: Vec<Box<dyn WriteJob>> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        let mut shutdown = None;
        match first {
            Msg::Job(j) => batch.push(j),
            Msg::Shutdown(ack) => shutdown = Some(ack),
        }
        while shutdown.is_none() && batch.len() < max_batch {
            match rx.try_recv() {
                Ok(Msg::Job(j)) => batch.push(j),
                Ok(Msg::Shutdown(ack)) => shutdown = Some(ack),
                Err(_) => break,
            }
        }
        // Jobs that arrive while the batch runs join it (up to `max_batch`) instead of
        // waiting behind its commit for a batch of their own — for a while only, so the
        // first job's answer is not held back behind a stream of later ones.
        let started = Instant::now();
        let mut more = || -> Option<Box<dyn WriteJob>> {
            if shutdown.is_some() || started.elapsed() > JOIN_WINDOW {
                return None;
            }
            match rx.try_recv() {
                Ok(Msg::Job(j)) => Some(j),
                Ok(Msg::Shutdown(ack)) => {
                    shutdown = Some(ack);
                    None
                }
                Err(_) => None,
            }
        };
        commit_batch(&conn, &mut batch, &mut more, max_batch, stats, observer);
        checkpoint_if_due(&conn, &mut checkpoint_warned);
        if let Some(ack) = shutdown {
            // Refuse new work, then commit whatever was already queued behind us.
            rx.close();
            while let Ok(msg) = rx.try_recv() {
                if let Msg::Job(j) = msg {
                    batch.push(j);
                }
            }
            commit_batch(&conn, &mut batch, &mut || None, usize::MAX, stats, observer);
            if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
                tracing::warn!(error = %e, "checkpoint at shutdown failed");
            }
            let _ = ack.send(());
            return;
        }
    }
}

fn commit_batch(
    conn: &Connection,
    batch: &mut Vec<Box<dyn WriteJob>>,
    more: &mut dyn FnMut() -> Option<Box<dyn WriteJob>>,
    max_batch: usize,
    stats: &WriterStats,
    observer: &dyn WriteObserver,
) {
    if batch.is_empty() {
        return;
    }
    let started = Instant::now();
    // A transaction left open by a failed COMMIT whose ROLLBACK failed too would make every
    // later BEGIN fail ("cannot start a transaction within a transaction") for good.
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    if let Err(e) = exec_cached(conn, "BEGIN IMMEDIATE") {
        // Locked by another process past the busy timeout (see `db::WRITE_BUSY_TIMEOUT`),
        // or no room for the journal: every job is refused now, the next batch tries again.
        let err = StoreError::from(e);
        tracing::warn!(error = %err, jobs = batch.len(), "cannot begin a write transaction");
        for job in batch.drain(..) {
            job.fail(
                err.fault_copy()
                    .unwrap_or_else(|| StoreError::Unavailable(err.to_string())),
            );
        }
        return;
    }
    let mut n = batch.len() as u64;
    // SQLite rolls the whole transaction back by itself after some errors inside a statement
    // (an I/O error; SQLITE_FULL where there is no statement journal). The jobs after that
    // must not run: outside a transaction `SAVEPOINT` starts one of its own and `RELEASE`
    // commits it, so such a job would be stored and yet answered 503 with its batch.
    let mut lost: Option<StoreError> = None;
    let mut done: Vec<Box<dyn Completion>> = Vec::with_capacity(batch.len());
    let mut queued = batch.drain(..);
    loop {
        let j = match queued.next() {
            Some(j) => j,
            None if lost.is_none() && (n as usize) < max_batch => match more() {
                Some(j) => {
                    n += 1;
                    j
                }
                None => break,
            },
            None => break,
        };
        if let Some(cause) = &lost {
            j.fail(
                cause
                    .fault_copy()
                    .unwrap_or_else(|| StoreError::Unavailable(cause.to_string())),
            );
            continue;
        }
        let d = j.run(conn);
        observer.job_done(d.ok());
        if d.tainted() {
            let _ = conn.execute_batch("ROLLBACK");
            lost = Some(d.fault().unwrap_or_else(|| {
                StoreError::Unavailable("a write failed part-way; its batch was rolled back".into())
            }));
        } else if conn.is_autocommit() {
            lost = Some(d.fault().unwrap_or_else(|| {
                StoreError::Unavailable("the transaction was rolled back by SQLite".into())
            }));
        }
        done.push(d);
    }
    if lost.is_none()
        && let Err(e) = observer.before_commit(conn)
    {
        let _ = conn.execute_batch("ROLLBACK");
        lost = Some(e);
    }
    let ran = started.elapsed();
    let commit = match lost {
        Some(cause) => Err(cause),
        None => exec_cached(conn, "COMMIT").map_err(StoreError::from),
    };
    let took = started.elapsed();
    if took > SLOW_BATCH {
        // What sets the ingest p99: where the time went.
        tracing::debug!(
            jobs = n,
            run_us = ran.as_micros() as u64,
            commit_us = (took - ran).as_micros() as u64,
            "slow group commit"
        );
    }
    if let Err(e) = &commit {
        tracing::warn!(error = %e, jobs = n, "group commit failed; batch rolled back");
        // A failed COMMIT may leave the transaction open (SQLITE_BUSY does): end it so the
        // connection takes the next batch. After SQLITE_FULL or an I/O error SQLite has
        // rolled back already.
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        stats.failed_commits.fetch_add(1, Ordering::Relaxed);
    }
    observer.batch_done(commit.is_ok());
    next_generation();
    if commit.is_ok() {
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats.jobs.fetch_add(n, Ordering::Relaxed);
    }
    for d in done {
        d.finish(&commit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With no checkpoint thread and SQLite's automatic checkpoint replaced, only the
    /// writer's own checkpoint after a commit lets the WAL restart from its beginning.
    #[tokio::test]
    async fn the_wal_restarts_under_steady_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = crate::db::open_writer(&path).unwrap();
        let w = Writer::spawn(conn, 16, 64, Arc::new(Observers(Vec::new())));
        w.call(|c| Ok(c.execute_batch("CREATE TABLE scratch(x BLOB)")?))
            .await
            .unwrap();
        // 40 commits of ~17 pages each (a 128 KiB blob): ~680 pages in all.
        for _ in 0..40 {
            w.call(|c| Ok(c.execute("INSERT INTO scratch VALUES (zeroblob(131072))", [])?))
                .await
                .unwrap();
        }
        let other = Connection::open(&path).unwrap();
        let rows: i64 = other
            .query_row("SELECT count(*) FROM scratch", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 40);
        // Frames in the WAL now: past a restart, only the commits since.
        let log: i64 = other
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap();
        assert!(
            log < i64::from(CHECKPOINT_PAGES),
            "the WAL holds {log} frames: it never restarted"
        );
        w.shutdown().await;
    }
}
