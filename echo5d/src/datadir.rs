//! The data directory: `echo5.db`, `master.key` and `admin.token`, created on first start
//! with owner-only permissions; the directory is locked by the daemon serving from it.

use echo5_core::crypto::MasterKey;
use echo5_core::secret::Secret;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const DB_FILE: &str = "echo5.db";
pub const MASTER_KEY_FILE: &str = "master.key";
pub const ADMIN_TOKEN_FILE: &str = "admin.token";
/// A rotated master key waiting to replace `master.key` (see `rotate-master-key`).
pub const NEW_MASTER_KEY_FILE: &str = "master.key.new";
/// The pid of the process holding the data directory's lock (see [`DataDirLock`]), for the
/// message the others show; the lock itself is on the directory.
pub const PID_FILE: &str = "echo5d.pid";

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("data directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("set only one of ECHO5_MASTER_KEY and ECHO5_MASTER_KEY_FILE")]
    BothMasterKeys,
    #[error("set only one of ECHO5_SMTP_URL and ECHO5_SMTP_URL_FILE")]
    BothSmtpUrls,
    #[error("{refused}: echo5d{holder} is serving from {dir}; stop it first")]
    InUse {
        refused: &'static str,
        dir: PathBuf,
        /// ` (pid N)` when the holder wrote its pid.
        holder: String,
    },
    #[error("master key from {from}: {source}")]
    BadMasterKey {
        from: String,
        source: echo5_core::crypto::CryptoError,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SetupError + '_ {
    move |source| SetupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub fn ensure_dir(dir: &Path) -> Result<(), SetupError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir).map_err(io(dir))?.permissions().mode();
        // Only tighten a directory we own the contents of; never loosen one.
        if mode & 0o077 != 0 {
            let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
        }
    }
    Ok(())
}

/// Writes a file readable only by its owner (0600), replacing any previous one atomically.
pub fn write_private(path: &Path, contents: &str) -> Result<(), SetupError> {
    let tmp = path.with_extension("tmp");
    {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(io(&tmp))?;
        f.write_all(contents.as_bytes()).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))?;
    Ok(())
}

/// An exclusive hold on a data directory: taken by the daemon serving from it for as long
/// as it runs, and by `restore` and `rotate-master-key` while they change the database.
/// It is a flock on the directory itself, so no file can be removed to get around it, and
/// it is released when dropped or when the process ends, however it ends (the kernel drops
/// a flock with the last descriptor), so a crash never leaves it stale.
pub struct DataDirLock {
    _dir: fs::File,
    pid_file: PathBuf,
}

impl Drop for DataDirLock {
    /// Removes the pid file on the way out, unless it names another process by now.
    fn drop(&mut self) {
        let ours = fs::read_to_string(&self.pid_file)
            .is_ok_and(|t| t.trim() == std::process::id().to_string());
        if ours {
            let _ = fs::remove_file(&self.pid_file);
        }
    }
}

impl DataDirLock {
    /// Takes the lock without waiting. When another process holds it, fails with
    /// [`SetupError::InUse`], whose message starts with `refused`.
    pub fn acquire(dir: &Path, refused: &'static str) -> Result<DataDirLock, SetupError> {
        let handle = fs::File::open(dir).map_err(io(dir))?;
        let pid_file = dir.join(PID_FILE);
        match handle.try_lock() {
            Ok(()) => {
                // The pid only makes the others' message better; the lock is what counts,
                // so a full disk does not stop a start here.
                let _ = write_private(&pid_file, &format!("{}\n", std::process::id()));
                Ok(DataDirLock {
                    _dir: handle,
                    pid_file,
                })
            }
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&pid_file)
                    .ok()
                    .and_then(|t| t.trim().parse::<u32>().ok())
                    .map(|pid| format!(" (pid {pid})"))
                    .unwrap_or_default();
                Err(SetupError::InUse {
                    refused,
                    dir: dir.to_path_buf(),
                    holder,
                })
            }
            Err(fs::TryLockError::Error(e)) => Err(io(dir)(e)),
        }
    }
}

/// The master key: from `ECHO5_MASTER_KEY`, `ECHO5_MASTER_KEY_FILE`, or `master.key` in the
/// data directory, which is generated (0600) on first start.
pub fn master_key(
    dir: &Path,
    inline: Option<&Secret<String>>,
    file: Option<&Path>,
) -> Result<MasterKey, SetupError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(SetupError::BothMasterKeys),
        (Some(text), None) => {
            MasterKey::parse(text.expose(), 1).map_err(|source| SetupError::BadMasterKey {
                from: "ECHO5_MASTER_KEY".into(),
                source,
            })
        }
        (None, Some(path)) => {
            let text = Zeroizing::new(fs::read_to_string(path).map_err(io(path))?);
            MasterKey::parse(&text, 1).map_err(|source| SetupError::BadMasterKey {
                from: path.display().to_string(),
                source,
            })
        }
        (None, None) => {
            let path = dir.join(MASTER_KEY_FILE);
            if path.exists() {
                let text = Zeroizing::new(fs::read_to_string(&path).map_err(io(&path))?);
                MasterKey::parse(&text, 1).map_err(|source| SetupError::BadMasterKey {
                    from: path.display().to_string(),
                    source,
                })
            } else {
                let key = MasterKey::generate().map_err(|source| SetupError::BadMasterKey {
                    from: "the OS random generator".into(),
                    source,
                })?;
                write_private(
                    &path,
                    &Zeroizing::new(format!("{}\n", key.to_hex().expose())),
                )?;
                tracing::debug!(path = %path.display(), "generated a new master key");
                Ok(key)
            }
        }
    }
}

/// Where the master key came from decides who must be told about a new one.
pub fn key_from_data_dir(inline: Option<&Secret<String>>, file: Option<&Path>) -> bool {
    inline.is_none() && file.is_none()
}

/// A pending `master.key.new`, if a rotation wrote one.
pub fn pending_master_key(dir: &Path) -> Option<MasterKey> {
    let text = Zeroizing::new(fs::read_to_string(dir.join(NEW_MASTER_KEY_FILE)).ok()?);
    MasterKey::parse(&text, 1).ok()
}

/// Makes a pending `master.key.new` the data directory's `master.key`.
pub fn promote_pending_master_key(dir: &Path) -> Result<(), SetupError> {
    let from = dir.join(NEW_MASTER_KEY_FILE);
    let to = dir.join(MASTER_KEY_FILE);
    fs::rename(&from, &to).map_err(io(&to))
}

/// Reads a secret from a file (`--smtp-url-file` and the like): its contents with
/// surrounding whitespace trimmed, so a file ending in a newline works.
pub fn read_secret_file(path: &Path) -> Result<Secret<String>, SetupError> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io(path))?);
    Ok(Secret::new(text.trim().to_string()))
}
