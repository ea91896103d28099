//! Opening connections: pragmas and migrations.

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{HookError, HookResult, M, Migrations};
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
    include_str!("../migrations/0010_cheaper_lead_inserts.sql"),
    include_str!("../migrations/0011_one_stage_index.sql"),
    include_str!("../migrations/0012_idempotency_body_hash.sql"),
    include_str!("../migrations/0013_default_country.sql"),
    include_str!("../migrations/0014_lead_notes.sql"),
    include_str!("../migrations/0015_users.sql"),
    include_str!("../migrations/0017_assignees.sql"),
    include_str!("../migrations/0018_lead_days.sql"),
    include_str!("../migrations/0019_outbox.sql"),
    include_str!("../migrations/0020_ad_sources.sql"),
    include_str!("../migrations/0021_outbox_tasks.sql"),
    include_str!("../migrations/0022_business_hours.sql"),
    include_str!("../migrations/0023_plans.sql"),
    include_str!("../migrations/0024_meta_graph.sql"),
    include_str!("../migrations/0025_notifications.sql"),
];

/// The migration whose hook rewrites the source CHECK (see
/// [`source_check_without_temp_table`]), by its number.
const CHEAPER_LEAD_INSERTS: usize = 10;
/// The migration whose hook rewrites stored phones in E.164 (see [`phones_to_e164`]).
const DEFAULT_COUNTRY: usize = 13;

fn migrations() -> Migrations<'static> {
    Migrations::new(
        MIGRATIONS
            .iter()
            .enumerate()
            .map(|(i, sql)| {
                if i + 1 == CHEAPER_LEAD_INSERTS {
                    M::up_with_hook(sql, source_check_without_temp_table)
                } else if i + 1 == DEFAULT_COUNTRY {
                    M::up_with_hook(sql, phones_to_e164)
                } else {
                    M::up(sql)
                }
            })
            .collect(),
    )
}

const SOURCE_CHECK_IN: &str = "CHECK (source IN ('website', 'meta', 'google', 'manual', 'api'))";
const SOURCE_CHECK_EQ: &str = "CHECK (source = 'website' OR source = 'meta' OR source = 'google' \
     OR source = 'manual' OR source = 'api')";

/// Migration 0010's second half: `leads.source`'s CHECK said `IN (five constants)`, which
/// SQLite evaluates by filling a temporary B-tree for every inserted row. The same check as
/// a chain of `=` compares in place. SQLite cannot alter a CHECK, so this follows its
/// documented procedure for changing one without rebuilding the table (sqlite.org/lang_altertable.html,
/// "Making Other Kinds Of Table Schema Changes"): edit the table's SQL in `sqlite_schema`
/// and bump `schema_version`, in the migration's transaction. Every stored row already
/// satisfies the new check, since it is the old one.
fn source_check_without_temp_table(tx: &rusqlite::Transaction) -> HookResult {
    let sql: String = tx.query_row(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'leads'",
        [],
        |r| r.get(0),
    )?;
    if sql.matches(SOURCE_CHECK_IN).count() != 1 {
        return Err(HookError::Hook(
            "leads.source's CHECK is not the one migration 0001 created".into(),
        ));
    }
    let version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.pragma_update(None, "writable_schema", true)?;
    let edited = tx
        .execute(
            "UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = 'leads'",
            [sql.replace(SOURCE_CHECK_IN, SOURCE_CHECK_EQ)],
        )
        .and_then(|_| tx.pragma_update(None, "schema_version", version + 1));
    // Off on every path, then a statement on `leads`: SQLite re-reads the edited schema
    // here, inside the transaction, so an edit it cannot parse rolls the migration back
    // instead of leaving a database that no longer opens.
    tx.pragma_update(None, "writable_schema", false)?;
    edited?;
    tx.query_row("SELECT count(*) FROM leads WHERE 0", [], |r| {
        r.get::<_, i64>(0)
    })?;
    Ok(())
}

/// Migration 0013's second half: phones stored before tenants had a `default_country` are
/// rewritten in E.164 with their tenant's country (`US` for every tenant at this point), by
/// the same rule ingest applies from now on (`echo5_core::phone::to_e164`). A phone the
/// rule cannot read stays as it is, as it would if it arrived today. Only rows whose phone
/// changes are written (each write also moves the tenant's byte count by its trigger).
fn phones_to_e164(tx: &rusqlite::Transaction) -> HookResult {
    let mut read = tx.prepare(
        "SELECT leads.id, leads.phone, tenants.default_country FROM leads
         JOIN tenants ON tenants.id = leads.tenant_id
         WHERE leads.phone IS NOT NULL AND leads.phone NOT LIKE '+%'",
    )?;
    let mut write = tx.prepare("UPDATE leads SET phone = ?2 WHERE id = ?1")?;
    let rows = read.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (id, phone, country) = row?;
        let home = echo5_core::phone::country(&country)
            .or_else(|| echo5_core::phone::country(echo5_core::phone::DEFAULT_COUNTRY));
        let Some(home) = home else { continue };
        let e164 = echo5_core::phone::to_e164(&phone, home);
        if e164 != phone {
            write.execute([&id, &e164])?;
        }
    }
    Ok(())
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
    // path. The writer thread replaces this automatic one with its own, run after it has
    // answered a batch (`writer::checkpoint_if_due`); this one covers migrations and the
    // writes of start-up, before that thread takes the connection.
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
    // for all of them in a single fsync — measured at 14 ms, the ingest p99, when that
    // checkpoint still ran inside a commit. Syncing here after every pass that copied
    // something keeps that debt small.
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

/// The query plan SQLite picks for `sql` on a new, migrated database (the `detail` column of
/// `EXPLAIN QUERY PLAN`, one line per step): for tests that guard the indexes.
#[cfg(test)]
pub(crate) fn fresh_query_plan(sql: &str, params: impl rusqlite::Params) -> String {
    let dir = tempfile::tempdir().unwrap();
    let conn = open_writer(&dir.path().join("t.db")).unwrap();
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap()
        .query_map(params, |r| r.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    plan.join("\n")
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

    /// 0010 drops `row_bytes` and rewrites the source CHECK in place: a database with leads
    /// upgrades with its counts intact, the triggers count bytes as the column did, and the
    /// CHECK still refuses an unknown source.
    #[test]
    fn migration_0010_keeps_counts_and_the_source_check() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        migrations().to_version(&mut conn, 9).unwrap();
        conn.execute_batch(
            "INSERT INTO tenants(id, slug, name, created_at) VALUES ('t', 'open-arms', 'Open Arms', 1);
             INSERT INTO stages(id, tenant_id, name, kind, position, created_at) VALUES ('s', 't', 'New', 'open', 0, 1);
             INSERT INTO leads(id, tenant_id, created_at, stage_id, stage_changed_at, name, source, custom, raw, raw_content_type)
                 VALUES ('l', 't', 1, 's', 1, 'Jane Doe', 'website', '{\"a\":1}', x'7b7d', 'application/json');",
        )
        .unwrap();
        let old_bytes: i64 = conn
            .query_row("SELECT row_bytes FROM leads WHERE id = 'l'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(old_bytes, 8 + 7 + 2 + 16, "name, custom, raw, content type");
        conn.execute(
            "INSERT INTO lead_counts(tenant_id, stage_id, is_spam, leads, bytes) VALUES ('t', 's', 0, 1, ?1)",
            [old_bytes],
        )
        .unwrap();

        migrations().to_latest(&mut conn).unwrap();
        let bytes = |c: &Connection| -> (i64, i64) {
            c.query_row(
                "SELECT leads, bytes FROM lead_counts WHERE tenant_id = 't' AND stage_id = 's' AND is_spam = 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        let schema: String = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'leads'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!schema.contains("row_bytes") && !schema.contains(SOURCE_CHECK_IN));
        assert!(schema.contains(SOURCE_CHECK_EQ));
        let ok: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        assert_eq!(bytes(&conn), (1, old_bytes));

        conn.execute("UPDATE leads SET notes = 'called back' WHERE id = 'l'", [])
            .unwrap();
        assert_eq!(
            bytes(&conn),
            (1, old_bytes + 11),
            "the update trigger counts notes"
        );

        let insert = |source: &str| {
            conn.execute(
                "INSERT INTO leads(id, tenant_id, created_at, stage_id, stage_changed_at, source)
                 VALUES (?1, 't', 2, 's', 2, ?1)",
                [source],
            )
        };
        let err = insert("fax").unwrap_err();
        assert!(err.to_string().contains("CHECK constraint failed"), "{err}");
        for source in ["website", "meta", "google", "manual", "api"] {
            insert(source).unwrap();
        }

        conn.execute("DELETE FROM leads WHERE id = 'l'", [])
            .unwrap();
        assert_eq!(
            bytes(&conn),
            (0, 0),
            "the delete trigger takes out what was counted"
        );
    }

    /// 0013 gives every tenant `US` and rewrites the phones stored before it in E.164, so a
    /// number stored as digits and the same number stored since meet in dedup and search;
    /// what the rule cannot read, and phones already in E.164, stay as they were.
    #[test]
    fn migration_0013_stores_old_phones_in_e164() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        migrations().to_version(&mut conn, 12).unwrap();
        conn.execute_batch(
            "INSERT INTO tenants(id, slug, name, created_at) VALUES ('t', 'open-arms', 'Open Arms', 1);
             INSERT INTO stages(id, tenant_id, name, kind, position, created_at) VALUES ('s', 't', 'New', 'open', 0, 1);",
        )
        .unwrap();
        let phones = [
            ("a", Some("5550102000"), Some("+15550102000")),
            ("b", Some("15550102001"), Some("+15550102001")),
            ("c", Some("+4402079460958"), Some("+4402079460958")),
            ("d", Some("5550102"), Some("5550102")),
            ("e", None, None),
            ("f", Some("+15550102002"), Some("+15550102002")),
        ];
        for (id, phone, _) in &phones {
            conn.execute(
                "INSERT INTO leads(id, tenant_id, created_at, stage_id, stage_changed_at, name, phone, source, custom, raw, raw_content_type)
                 VALUES (?1, 't', 1, 's', 1, 'J', ?2, 'website', '{}', x'7b7d', 'application/json')",
                rusqlite::params![id, phone],
            )
            .unwrap();
        }
        // Inserts are counted in code, not by a trigger: the count a store would have kept.
        conn.execute(
            "INSERT INTO lead_counts(tenant_id, stage_id, is_spam, leads, bytes) VALUES ('t', 's', 0, 6, 1000)",
            [],
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        for (id, _, want) in &phones {
            let got: Option<String> = conn
                .query_row("SELECT phone FROM leads WHERE id = ?1", [id], |r| r.get(0))
                .unwrap();
            assert_eq!(got.as_deref(), *want, "lead {id}");
        }
        let country: String = conn
            .query_row(
                "SELECT default_country FROM tenants WHERE id = 't'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(country, "US");
        let (leads, bytes): (i64, i64) = conn
            .query_row(
                "SELECT leads, bytes FROM lead_counts WHERE tenant_id = 't' AND stage_id = 's' AND is_spam = 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (leads, bytes),
            (6, 1000 + 2 + 1),
            "the trigger counts the longer phones"
        );
    }

    /// 0014 turns each non-empty notes text into one note by `migrated`, dated by the last
    /// audited notes write (else the lead's creation), and empties the old column.
    #[test]
    fn migration_0014_keeps_old_notes_as_one_note_each() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        migrations().to_version(&mut conn, 13).unwrap();
        conn.execute_batch(
            "INSERT INTO tenants(id, slug, name, created_at) VALUES ('t', 'open-arms', 'Open Arms', 1);
             INSERT INTO stages(id, tenant_id, name, kind, position, created_at) VALUES ('s', 't', 'New', 'open', 0, 1);
             INSERT INTO leads(id, tenant_id, created_at, stage_id, stage_changed_at, name, source, notes)
                 VALUES ('a', 't', 1000, 's', 1000, 'A', 'manual', 'called back'),
                        ('b', 't', 2000, 's', 2000, 'B', 'manual', 'given at entry'),
                        ('c', 't', 3000, 's', 3000, 'C', 'manual', ' '||char(10, 9)||' '),
                        ('d', 't', 4000, 's', 4000, 'D', 'manual', NULL);
             INSERT INTO audit_log(at, actor, action, target, details) VALUES
                 (5000, 'admin:x', 'lead.updated', 'a', '{\"changed\":[\"notes\"]}'),
                 (6000, 'admin:x', 'lead.updated', 'a', '{\"changed\":[\"stage_id\"]}'),
                 (7000, 'admin:x', 'lead.updated', 'b', '{\"changed\":[\"assigned_to\"]}');",
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let notes: Vec<(String, i64, String, String, String, String)> = conn
            .prepare("SELECT lead_id, at, actor, author, text, id FROM lead_notes ORDER BY lead_id")
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let shown: Vec<_> = notes
            .iter()
            .map(|(l, at, actor, author, text, _)| {
                (
                    l.as_str(),
                    *at,
                    actor.as_str(),
                    author.as_str(),
                    text.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                ("a", 5000, "system", "migrated", "called back"),
                ("b", 2000, "system", "migrated", "given at entry"),
            ]
        );
        for (.., id) in &notes {
            let u = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(u.get_version_num(), 4, "{id}");
        }
        let left: i64 = conn
            .query_row(
                "SELECT count(*) FROM leads WHERE notes IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
        conn.execute("DELETE FROM leads WHERE id = 'a'", [])
            .unwrap();
        let kept: i64 = conn
            .query_row("SELECT count(*) FROM lead_notes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1, "a lead's notes go with it");
    }

    /// 0017 keeps every free-text assignee as a note, then keeps as a user reference only
    /// the values that name exactly one user of the lead's tenant.
    #[test]
    fn migration_0017_turns_assignees_into_users_and_keeps_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        migrations().to_version(&mut conn, 15).unwrap();
        let dana = "0190c0de-0000-7000-8000-00000000d001";
        let lee = "0190c0de-0000-7000-8000-00000000d002";
        let lee2 = "0190c0de-0000-7000-8000-00000000d003";
        let old = "0190c0de-0000-7000-8000-00000000d004";
        let bo = "0190c0de-0000-7000-8000-00000000d005";
        conn.execute_batch(&format!(
            "INSERT INTO tenants(id, slug, name, created_at) VALUES ('t', 'open-arms', 'Open Arms', 1),
                 ('u', 'bright-path', 'Bright Path', 1);
             INSERT INTO stages(id, tenant_id, name, kind, position, created_at) VALUES ('s', 't', 'New', 'open', 0, 1),
                 ('s2', 'u', 'New', 'open', 0, 1);
             INSERT INTO users(id, tenant_id, email, name, role, active, created_at) VALUES
                 ('{dana}', 't', 'dana@openarms.example', 'Dana Reyes', 'manager', 1, 1),
                 ('{lee}', 't', 'lee@openarms.example', 'Lee', 'manager', 1, 1),
                 ('{lee2}', 't', 'lee2@openarms.example', 'Lee', 'agent', 1, 1),
                 ('{old}', 't', 'old@openarms.example', 'Old Timer', 'manager', 0, 1),
                 ('{bo}', 'u', 'bo@brightpath.example', 'Bo', 'manager', 1, 1);
             INSERT INTO leads(id, tenant_id, created_at, stage_id, stage_changed_at, name, source, assigned_to)
                 VALUES ('a', 't', 1000, 's', 1000, 'A', 'manual', 'Maria'),
                        ('b', 't', 2000, 's', 2000, 'B', 'manual', 'DANA@openarms.example'),
                        ('c', 't', 3000, 's', 3000, 'C', 'manual', 'dana reyes'),
                        ('d', 't', 4000, 's', 4000, 'D', 'manual', 'Lee'),
                        ('e', 't', 5000, 's', 5000, 'E', 'manual', '{old}'),
                        ('f', 't', 6000, 's', 6000, 'F', 'manual', 'Old Timer'),
                        ('g', 't', 7000, 's', 7000, 'G', 'manual', 'bo@brightpath.example'),
                        ('h', 't', 8000, 's', 8000, 'H', 'manual', '  '),
                        ('i', 't', 9000, 's', 9000, 'I', 'manual', NULL);
             INSERT INTO lead_counts(tenant_id, stage_id, is_spam, leads, duplicates, bytes)
                 SELECT tenant_id, stage_id, is_spam, count(*), 0, sum(octet_length(custom)
                     + coalesce(octet_length(name), 0) + coalesce(octet_length(assigned_to), 0))
                 FROM leads GROUP BY 1, 2, 3;
             INSERT INTO audit_log(at, actor, action, target, details) VALUES
                 (1500, 'admin:x', 'lead.updated', 'a', '{{\"changed\":[\"assigned_to\"]}}'),
                 (1600, 'admin:x', 'lead.updated', 'a', '{{\"changed\":[\"stage_id\"]}}');"
        ))
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let assigned: Vec<(String, Option<String>)> = conn
            .prepare("SELECT id, assigned_to FROM leads ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let want = |id: &str, u: Option<&str>| (id.to_string(), u.map(str::to_string));
        assert_eq!(
            assigned,
            vec![
                want("a", None),       // nobody of that name: the note keeps it
                want("b", Some(dana)), // e-mail, any case
                want("c", Some(dana)), // name, any case
                want("d", None),       // two active users named Lee
                want("e", Some(old)),  // already an id (of a deactivated user): kept
                want("f", None),       // the name of a deactivated user
                want("g", None),       // another tenant's user
                want("h", None),
                want("i", None),
            ]
        );
        let notes: Vec<(String, i64, String, String, String)> = conn
            .prepare("SELECT lead_id, at, actor, author, text FROM lead_notes ORDER BY lead_id")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let note = |l: &str, at: i64, who: &str| {
            (
                l.to_string(),
                at,
                "system".to_string(),
                "migrated".to_string(),
                format!("Assigned to: {who} (written before assignees were users)"),
            )
        };
        assert_eq!(
            notes,
            vec![
                note("a", 1500, "Maria"),
                note("b", 2000, "DANA@openarms.example"),
                note("c", 3000, "dana reyes"),
                note("d", 4000, "Lee"),
                note("f", 6000, "Old Timer"),
                note("g", 7000, "bo@brightpath.example"),
            ]
        );
        // The counts followed every rewritten row (the update trigger).
        let (kept, truth): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT sum(bytes) FROM lead_counts WHERE tenant_id = 't'),
                        (SELECT sum(octet_length(custom) + coalesce(octet_length(name), 0)
                             + coalesce(octet_length(assigned_to), 0)) FROM leads WHERE tenant_id = 't')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(kept, truth);
        let auto: String = conn
            .query_row("SELECT auto_assign FROM tenants WHERE id = 't'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(auto, "none");
    }

    /// 0015 adds the users' tables to a database with tenants and leads in it, and a
    /// tenant's users (and their sessions) go with the tenant.
    #[test]
    fn migration_0015_adds_users_beside_existing_data() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        migrations().to_version(&mut conn, 14).unwrap();
        conn.execute_batch(
            "INSERT INTO tenants(id, slug, name, created_at) VALUES ('t', 'open-arms', 'Open Arms', 1);
             INSERT INTO stages(id, tenant_id, name, kind, position, created_at) VALUES ('s', 't', 'New', 'open', 0, 1);
             INSERT INTO leads(id, tenant_id, created_at, stage_id, stage_changed_at, name, source)
                 VALUES ('a', 't', 1000, 's', 1000, 'A', 'manual');",
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        // The latest: 0015 and every migration after it ran.
        assert_eq!(version, MIGRATIONS.len() as i64);
        let leads: i64 = conn
            .query_row("SELECT count(*) FROM leads", [], |r| r.get(0))
            .unwrap();
        assert_eq!(leads, 1, "existing data stays");
        conn.execute_batch(
            "INSERT INTO users(id, tenant_id, email, name, role, created_at)
                 VALUES ('u', 't', 'ana@example.com', 'Ana', 'manager', 1),
                        ('o', NULL, 'owner@example.com', 'Owner', 'owner', 1);
             INSERT INTO sessions(token_hash, user_id, created_at, last_seen_at) VALUES (x'01', 'u', 1, 1);",
        )
        .unwrap();
        let dup = conn.execute(
            "INSERT INTO users(id, tenant_id, email, name, role, created_at)
             VALUES ('v', NULL, 'ANA@Example.com', 'Ana 2', 'owner', 1)",
            [],
        );
        assert!(dup.is_err(), "e-mail unique whatever its case");
        let wrong_realm = conn.execute(
            "INSERT INTO users(id, tenant_id, email, name, role, created_at)
             VALUES ('w', NULL, 'w@example.com', 'W', 'agent', 1)",
            [],
        );
        assert!(wrong_realm.is_err(), "a tenant role needs a tenant");
        conn.execute("DELETE FROM leads", []).unwrap();
        conn.execute("DELETE FROM tenants WHERE id = 't'", [])
            .unwrap();
        let left: (i64, i64) = conn
            .query_row(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM sessions)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(left, (1, 0), "the tenant's user and session went with it");
    }
}
