//! Backups: a consistent copy of the database, authenticated under the master key.
//!
//! File format (version 1), all integers big-endian:
//!
//! ```text
//! offset  size  field
//! 0       8     magic "ECHO5BAK"
//! 8       1     format version (1)
//! 9       16    fingerprint of the master key it was made under (hex, as stored in `meta`)
//! 25      8     length N of the SQLite database that follows
//! 33      N     the SQLite database (`VACUUM INTO` of one snapshot)
//! 33+N    32    HMAC-SHA256 of bytes 0..33+N, under a key derived from the master key
//! ```
//!
//! The MAC is a trailer so a backup is written in one pass, and the whole file up to it is
//! covered (header included), so neither the database nor the header can be edited
//! without the master key. Restore checks the MAC before SQLite reads a single byte of the
//! database. The fingerprint sits in clear so a backup made under another master key is
//! told apart from a tampered one.

use echo5_core::crypto::{FILE_MAC_LEN, MasterKey};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"ECHO5BAK";
const FORMAT_VERSION: u8 = 1;
const FINGERPRINT_LEN: usize = 16;
const HEADER_LEN: usize = MAGIC.len() + 1 + FINGERPRINT_LEN + 8;
const CHUNK: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no Echo5 database at {0}: nothing to back up (is --data-dir / ECHO5_DATA_DIR right?)")]
    NoDatabase(PathBuf),
    #[error("{0} already exists or is a symbolic link; a backup is only written to a new file")]
    TargetExists(PathBuf),
    #[error(
        "{0} is not an authenticated Echo5 backup (no backup header); only files written by \
         `echo5d backup` are restored"
    )]
    NotABackup(PathBuf),
    #[error(
        "{path} is a backup of format version {found}; this echo5d reads version {FORMAT_VERSION}"
    )]
    UnsupportedVersion { path: PathBuf, found: u8 },
    #[error(
        "the master key does not match this {what} (fingerprint {found}, expected {expected}); \
         set ECHO5_MASTER_KEY / ECHO5_MASTER_KEY_FILE to the key it was made with"
    )]
    WrongMasterKey {
        what: &'static str,
        found: String,
        expected: String,
    },
    #[error(
        "{0} failed authentication: it was changed after `echo5d backup` wrote it, or is \
         damaged; refusing to restore it"
    )]
    Tampered(PathBuf),
    #[error("backup {path} failed its integrity check: {detail}")]
    Integrity { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sql_err(path: &Path) -> impl FnOnce(rusqlite::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `path` for writing, owner-only (0600). Refuses an existing file and a symbolic
/// link (O_EXCL, and O_NOFOLLOW besides), so a backup never overwrites or writes through
/// anything already there.
fn create_new_private(path: &Path) -> Result<File, BackupError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => BackupError::TargetExists(path.to_path_buf()),
            _ if e.raw_os_error() == Some(libc::ELOOP) => {
                BackupError::TargetExists(path.to_path_buf())
            }
            _ => BackupError::Io {
                path: path.to_path_buf(),
                source: e,
            },
        })
}

/// Removes a file when dropped, unless kept: temporary files and half-written outputs.
struct RemoveOnDrop {
    path: PathBuf,
    keep: bool,
}

impl RemoveOnDrop {
    fn new(path: PathBuf) -> Self {
        RemoveOnDrop { path, keep: false }
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The master-key fingerprint an Echo5 database at `db` records, reading it without ever
/// creating the file. `None` when there is no such database.
fn recorded_fingerprint(db: &Path) -> Result<Option<String>, BackupError> {
    if !fs::metadata(db).is_ok_and(|m| m.is_file() && m.len() > 0) {
        return Ok(None);
    }
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql_err(db))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sql_err(db))?;
    match conn.query_row(
        "SELECT value FROM meta WHERE key = 'master_key_fingerprint'",
        [],
        |r| r.get::<_, String>(0),
    ) {
        Ok(fp) => Ok(Some(fp)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(rusqlite::Error::SqliteFailure(_, Some(m))) if m.starts_with("no such table") => {
            Ok(None)
        }
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Ok(None)
        }
        Err(e) => Err(sql_err(db)(e)),
    }
}

/// Writes an authenticated backup of the database `db` to the new file `to` (see the module
/// docs for the format) and returns its size. Safe while the daemon serves: the copy is
/// one snapshot, taken on a read-only connection of its own. Blocking.
pub fn write_backup(db: &Path, key: &MasterKey, to: &Path) -> Result<u64, BackupError> {
    let expected = recorded_fingerprint(db)?.ok_or_else(|| BackupError::NoDatabase(db.into()))?;
    if expected != key.fingerprint() {
        // A backup under a key that does not open the database could never be restored.
        return Err(BackupError::WrongMasterKey {
            what: "database",
            found: key.fingerprint(),
            expected,
        });
    }
    let mut out = create_new_private(to)?;
    let mut out_guard = RemoveOnDrop::new(to.to_path_buf());

    // VACUUM INTO opens its target itself and follows symbolic links, so it writes to a
    // fresh name in the private data directory; the result is copied into `out`.
    let dir = db.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".backup-{}.tmp", uuid::Uuid::new_v4().simple()));
    let tmp_guard = RemoveOnDrop::new(tmp.clone());
    {
        let c =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(sql_err(db))?;
        c.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql_err(db))?;
        let target = tmp.to_string_lossy().into_owned();
        c.execute("VACUUM INTO ?1", [&target])
            .map_err(sql_err(db))?;
    }

    let mut src = File::open(&tmp).map_err(io_err(&tmp))?;
    let len = src.metadata().map_err(io_err(&tmp))?.len();
    let mut mac = key.backup_mac();
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.push(FORMAT_VERSION);
    header.extend_from_slice(fingerprint_bytes(&expected).as_slice());
    header.extend_from_slice(&len.to_be_bytes());
    mac.update(&header);
    out.write_all(&header).map_err(io_err(to))?;
    let mut buf = vec![0u8; CHUNK];
    let mut copied = 0u64;
    loop {
        let n = src.read(&mut buf).map_err(io_err(&tmp))?;
        if n == 0 {
            break;
        }
        mac.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(io_err(to))?;
        copied += n as u64;
    }
    if copied != len {
        return Err(BackupError::Io {
            path: tmp.clone(),
            source: io::Error::other("the snapshot changed size while it was copied"),
        });
    }
    out.write_all(&mac.finalize()).map_err(io_err(to))?;
    out.sync_all().map_err(io_err(to))?;
    drop(tmp_guard);
    out_guard.keep = true;
    Ok(HEADER_LEN as u64 + len + FILE_MAC_LEN as u64)
}

/// The fingerprint as the header stores it: exactly 16 bytes.
fn fingerprint_bytes(fp: &str) -> [u8; FINGERPRINT_LEN] {
    let mut out = [b'0'; FINGERPRINT_LEN];
    for (o, b) in out.iter_mut().zip(fp.bytes()) {
        *o = b;
    }
    out
}

/// Checks the backup `from` (format, master key, MAC, then SQLite's integrity check) and
/// writes the database inside it to the new file `staged`; returns how many leads it holds.
/// Nothing is left at `staged` when a check fails. Blocking.
pub fn unpack_backup(from: &Path, key: &MasterKey, staged: &Path) -> Result<u64, BackupError> {
    let mut src = File::open(from).map_err(io_err(from))?;
    let size = src.metadata().map_err(io_err(from))?.len();
    let mut header = [0u8; HEADER_LEN];
    if size < (HEADER_LEN + FILE_MAC_LEN) as u64 || src.read_exact(&mut header).is_err() {
        return Err(BackupError::NotABackup(from.into()));
    }
    if &header[..MAGIC.len()] != MAGIC {
        return Err(BackupError::NotABackup(from.into()));
    }
    let version = header[MAGIC.len()];
    if version != FORMAT_VERSION {
        return Err(BackupError::UnsupportedVersion {
            path: from.into(),
            found: version,
        });
    }
    let fp_at = MAGIC.len() + 1;
    let found = &header[fp_at..fp_at + FINGERPRINT_LEN];
    if found != fingerprint_bytes(&key.fingerprint()).as_slice() {
        return Err(BackupError::WrongMasterKey {
            what: "backup",
            found: key.fingerprint(),
            expected: String::from_utf8_lossy(found).into_owned(),
        });
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&header[fp_at + FINGERPRINT_LEN..]);
    let len = u64::from_be_bytes(len_bytes);
    if Some(size) != len.checked_add((HEADER_LEN + FILE_MAC_LEN) as u64) {
        return Err(BackupError::Tampered(from.into()));
    }

    let _ = fs::remove_file(staged);
    let mut out = create_new_private(staged)?;
    let mut guard = RemoveOnDrop::new(staged.to_path_buf());
    let mut mac = key.backup_mac();
    mac.update(&header);
    let mut buf = vec![0u8; CHUNK];
    let mut left = len;
    while left > 0 {
        let want = left.min(CHUNK as u64) as usize;
        src.read_exact(&mut buf[..want]).map_err(io_err(from))?;
        mac.update(&buf[..want]);
        out.write_all(&buf[..want]).map_err(io_err(staged))?;
        left -= want as u64;
    }
    let mut tag = [0u8; FILE_MAC_LEN];
    src.read_exact(&mut tag).map_err(io_err(from))?;
    mac.verify(&tag)
        .map_err(|_| BackupError::Tampered(from.into()))?;
    out.sync_all().map_err(io_err(staged))?;
    drop(out);

    // Authentic; SQLite's own checks still catch a database that was already damaged when
    // the backup was made.
    let leads = check_database(staged, key)?;
    guard.keep = true;
    Ok(leads)
}

fn check_database(db: &Path, key: &MasterKey) -> Result<u64, BackupError> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql_err(db))?;
    // A page damaged where SQLite reads before checking (the schema, the first b-tree
    // pages) fails the check itself rather than returning a report: it is the same finding.
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| BackupError::Integrity {
            path: db.into(),
            detail: e.to_string(),
        })?;
    if ok != "ok" {
        return Err(BackupError::Integrity {
            path: db.into(),
            detail: ok,
        });
    }
    let fp: String = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'master_key_fingerprint'",
            [],
            |r| r.get(0),
        )
        .map_err(sql_err(db))?;
    if fp != key.fingerprint() {
        return Err(BackupError::WrongMasterKey {
            what: "backup",
            found: key.fingerprint(),
            expected: fp,
        });
    }
    let leads: i64 = conn
        .query_row("SELECT count(*) FROM leads", [], |r| r.get(0))
        .map_err(sql_err(db))?;
    Ok(leads.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> MasterKey {
        MasterKey::from_bytes([b; 32], 1)
    }

    /// A small Echo5-like database recording `k`'s fingerprint.
    fn database(dir: &Path, k: &MasterKey) -> PathBuf {
        let db = dir.join("echo5.db");
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
             CREATE TABLE leads(id TEXT PRIMARY KEY);
             INSERT INTO leads VALUES ('a'), ('b');",
        )
        .unwrap();
        c.execute(
            "INSERT INTO meta VALUES ('master_key_fingerprint', ?1)",
            [k.fingerprint()],
        )
        .unwrap();
        db
    }

    #[test]
    fn round_trip_and_every_flipped_byte_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path(), &key(1));
        let file = dir.path().join("b.e5");
        let size = write_backup(&db, &key(1), &file).unwrap();
        let bytes = fs::read(&file).unwrap();
        assert_eq!(bytes.len() as u64, size);
        let staged = dir.path().join("staged.db");
        assert_eq!(unpack_backup(&file, &key(1), &staged).unwrap(), 2);
        // One byte flipped anywhere (header, database, MAC) is refused and stages nothing.
        let step = (bytes.len() / 97).max(1);
        for at in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x40;
            let f = dir.path().join("bad.e5");
            fs::write(&f, &bad).unwrap();
            fs::remove_file(&staged).ok();
            assert!(
                unpack_backup(&f, &key(1), &staged).is_err(),
                "flipped byte {at} accepted"
            );
            assert!(!staged.exists(), "byte {at}: a refused backup left a file");
        }
        // Truncated, or grown by a byte.
        for bad in [
            &bytes[..bytes.len() - 1],
            &[bytes.as_slice(), b"x"].concat()[..],
        ] {
            let f = dir.path().join("bad.e5");
            fs::write(&f, bad).unwrap();
            assert!(unpack_backup(&f, &key(1), &staged).is_err());
        }
        // Another master key: named as such, not as tampering.
        let err = unpack_backup(&file, &key(2), &staged).unwrap_err();
        assert!(matches!(err, BackupError::WrongMasterKey { .. }), "{err}");
        // A bare SQLite file is not a backup.
        let err = unpack_backup(&db, &key(1), &staged).unwrap_err();
        assert!(matches!(err, BackupError::NotABackup(_)), "{err}");
    }

    #[test]
    fn no_database_no_backup_and_nothing_created() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope").join("echo5.db");
        let to = dir.path().join("b.e5");
        let err = write_backup(&missing, &key(1), &to).unwrap_err();
        assert!(matches!(err, BackupError::NoDatabase(_)), "{err}");
        assert!(!missing.exists() && !missing.parent().unwrap().exists());
        assert!(!to.exists());
        let empty = dir.path().join("echo5.db");
        fs::write(&empty, b"").unwrap();
        assert!(matches!(
            write_backup(&empty, &key(1), &to).unwrap_err(),
            BackupError::NoDatabase(_)
        ));
        assert!(!to.exists());
    }
}
