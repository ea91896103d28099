//! Backups while serving: `VACUUM INTO` on a read-only connection writes a consistent,
//! compacted copy of one snapshot without blocking the writer.

use std::path::Path;

use crate::error::StoreError;
use crate::store::Store;

impl Store {
    /// Writes a consistent copy of the database to `to` (which must not exist yet).
    pub async fn backup_to(&self, to: &Path) -> Result<u64, StoreError> {
        if to.exists() {
            return Err(StoreError::Domain(echo5_core::DomainError::conflict(
                "backup_exists",
                format!("{} already exists; choose a new file", to.display()),
            )));
        }
        let target = to.to_string_lossy().into_owned();
        let source = self.path().to_path_buf();
        // Its own read-only connection: the readers run with query_only, which refuses
        // VACUUM INTO even though it only writes the new file.
        tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            let c = rusqlite::Connection::open_with_flags(
                &source,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )?;
            c.busy_timeout(std::time::Duration::from_secs(5))?;
            c.execute("VACUUM INTO ?1", [&target])?;
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Internal(format!("backup task: {e}")))??;
        Ok(std::fs::metadata(to).map(|m| m.len()).unwrap_or(0))
    }
}

/// Checks that `file` is an Echo5 database that `key` opens (restore refuses anything else).
pub fn verify_backup(file: &Path, key_fingerprint: &str) -> Result<u64, StoreError> {
    let conn =
        rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if ok != "ok" {
        return Err(StoreError::Internal(format!(
            "backup failed its integrity check: {ok}"
        )));
    }
    let fp: String = conn.query_row(
        "SELECT value FROM meta WHERE key = 'master_key_fingerprint'",
        [],
        |r| r.get(0),
    )?;
    if fp != key_fingerprint {
        return Err(StoreError::WrongMasterKey {
            found: key_fingerprint.to_string(),
            expected: fp,
        });
    }
    let leads: i64 = conn.query_row("SELECT count(*) FROM leads", [], |r| r.get(0))?;
    Ok(leads as u64)
}
