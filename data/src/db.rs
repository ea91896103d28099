//! Opening connections: pragmas and migrations.

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};
use std::path::Path;
use std::time::Duration;

use crate::error::StoreError;

/// Numbered SQL files, applied in order at start; `PRAGMA user_version` records the last.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_ingest.sql"),
    include_str!("../migrations/0003_sla.sql"),
    include_str!("../migrations/0004_lead_counts.sql"),
    include_str!("../migrations/0005_platform.sql"),
    include_str!("../migrations/0006_dedup_in_memory.sql"),
    include_str!("../migrations/0007_stage_order_index.sql"),
    include_str!("../migrations/0008_count_inserts_in_code.sql"),
    include_str!("../migrations/0009_created_index_ascending.sql"),
];

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the serving writer waits for a write lock another process holds before it
/// refuses the batch (503 `storage_busy`). Short on purpose: requests that arrive meanwhile
/// queue behind the waiting batch and wait once more, so a caller waits about twice this,
/// well inside the 5 s a WordPress site gives a request (see docs/decisions.md). Nothing in
/// the daemon itself competes for the lock: it has one writer connection.
pub(crate) const WRITE_BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// The one read-write connection, owned by the writer thread. Creates the file, switches
/// it to WAL and brings the schema up to date.
pub(crate) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer. FULL: every commit is fsynced before the writer
    // answers, so an acknowledged lead survives a crash or power cut; group commit shares
    // the fsync across the batch.
    // 8 KiB pages for a new database (an existing one keeps its size: WAL mode cannot
    // change it). A stored lead is ~2 KiB with its index entries; at 4 KiB the writer wrote
    // twice the WAL frames (two syscalls each) per lead, and at c64 ingest 8 KiB measured
    // ~8 % less writer CPU per lead. 16 KiB measured no better than 8.
    conn.pragma_update(None, "page_size", 8192)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "trusted_schema", "OFF")?;
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    // 64 MiB of page cache: ingest touches random leaves of the e-mail, phone and
    // idempotency indexes; re-reading them from the file cost more than the memory.
    conn.pragma_update(None, "cache_size", -65_536)?;
    // Checkpoints run mostly on their own thread (see `spawn_checkpointer`), off the commit
    // path. The writer's own checkpoint is what lets the WAL restart from its beginning (the
    // checkpoint thread, racing the writer, rarely catches up with the whole log). Measured
    // at c64 ingest: 10,000 4-KiB pages made each of those checkpoints big enough to push
    // the p99 to ~16 ms; at 1,000 (4 MiB) they stay small (p99 6-10 ms) at the same
    // throughput. With 8-KiB pages the same 4 MiB is 500 pages (a database created with
    // 4-KiB pages checkpoints every 2 MiB).
    conn.pragma_update(None, "wal_autocheckpoint", 500)?;
    conn.set_prepared_statement_cache_capacity(128);
    migrations()
        .to_latest(&mut conn)
        .map_err(|e| StoreError::Migration(e.to_string()))?;
    // Opening and migrating may wait the full BUSY_TIMEOUT; serving may not.
    conn.busy_timeout(WRITE_BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Copies committed WAL frames into the database file every `every`, on its own thread and
/// connection, so the writer never pays for checkpoints inside a commit. PASSIVE: it never
/// waits for, or blocks, the writer or readers. Stops when `stop` is dropped.
pub(crate) fn spawn_checkpointer(
    path: &Path,
    every: Duration,
    stop: crossbeam_channel::Receiver<()>,
) -> Result<(), StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // SQLite syncs the database file only when a checkpoint catches up with the whole WAL,
    // which a PASSIVE one racing a busy writer rarely does; the copied pages then pile up
    // unsynced until the writer's own checkpoint (the one that lets the WAL restart) pays
    // for all of them in a single fsync inside a commit — measured at 14 ms, the ingest
    // p99. Syncing here after every pass that copied something keeps that debt small.
    let db_file = std::fs::File::open(path)
        .map_err(|e| StoreError::Internal(format!("cannot open the database file: {e}")))?;
    std::thread::Builder::new()
        .name("echo5-checkpoint".into())
        .spawn(move || {
            let mut backfilled = 0i64;
            while let Err(crossbeam_channel::RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
                match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(2)) {
                    Ok(n) => {
                        if n > 0
                            && n != backfilled
                            && let Err(e) = db_file.sync_data()
                        {
                            tracing::debug!(error = %e, "database sync after a checkpoint failed");
                        }
                        backfilled = n;
                    }
                    Err(e) => tracing::debug!(error = %e, "background checkpoint skipped"),
                }
            }
        })
        .map_err(|e| StoreError::Internal(format!("cannot spawn the checkpointer: {e}")))?;
    Ok(())
}

/// A read-only connection for a reader thread.
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", "ON")?;
    conn.pragma_update(None, "cache_size", -16_384)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "trusted_schema", "OFF")?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }

    #[test]
    fn writer_pragmas_hold() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_writer(&dir.path().join("t.db")).unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let page: i64 = conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .unwrap();
        assert_eq!(page, 8192, "a new database gets 8 KiB pages");
        let fk: i64 = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
        let reader = open_reader(&dir.path().join("t.db")).unwrap();
        let err = reader
            .execute("INSERT INTO meta(key, value) VALUES ('x', 'y')", [])
            .unwrap_err();
        assert!(err.to_string().contains("readonly") || err.to_string().contains("read"));
    }
}
