//! Starting the daemon: data directory, master key, database, admin token, demo data.

use echo5_core::clock::{Clock, SystemClock};
use echo5_core::secret::Secret;
use echo5_data::{Store, StoreError, StoreOptions};
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::ServeArgs;
use crate::datadir::{self, DataDirLock, SetupError};
use crate::logs::{LOG_RING, LogRing};
use crate::mailer::Mailer;
use crate::state::{AppState, StateOptions};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Backup(#[from] echo5_data::backup::BackupError),
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// A daemon ready to serve.
pub struct Prepared {
    pub state: AppState,
    pub data_dir: PathBuf,
    /// Set when this start created the admin token; the caller prints it once.
    pub new_admin_token: Option<Secret<String>>,
    /// Leads seeded by `--demo` on this start (`None`: not asked, or seeded before).
    pub demo_leads: Option<usize>,
    /// The data directory's lock, held while this is kept (for the life of `serve`), so
    /// `restore` and `rotate-master-key` refuse to run under the serving daemon.
    pub lock: Option<DataDirLock>,
}

/// Creates the data directory and its files on first start, locks it, opens the store and
/// makes sure an admin token exists. Log lines are kept in a ring of its own that nothing
/// feeds; see [`prepare_with_logs`].
pub async fn prepare(args: &ServeArgs, clock: Arc<dyn Clock>) -> Result<Prepared, StartError> {
    prepare_with_logs(args, clock, LogRing::new(LOG_RING)).await
}

/// [`prepare`], with the ring the process's `tracing` layer feeds (see `main`), so
/// `GET /api/v1/system/logs` shows this daemon's lines.
pub async fn prepare_with_logs(
    args: &ServeArgs,
    clock: Arc<dyn Clock>,
    logs: Arc<LogRing>,
) -> Result<Prepared, StartError> {
    survive_file_size_limit();
    let dir = args.data_dir();
    datadir::ensure_dir(&dir)?;
    let lock = DataDirLock::acquire(&dir, "cannot serve")?;
    let mut prepared = open(args, clock, logs).await?;
    prepared.state.watch_admin_tokens();
    prepared.lock = Some(lock);
    Ok(prepared)
}

/// Opens the data directory (created on first start) and the store, without the lock.
async fn open(
    args: &ServeArgs,
    clock: Arc<dyn Clock>,
    logs: Arc<LogRing>,
) -> Result<Prepared, StartError> {
    let smtp_url = args.smtp_url()?;
    let mailer = Mailer::new(smtp_url.as_ref(), &args.smtp_from).map_err(StartError::Config)?;
    let dir = args.data_dir();
    datadir::ensure_dir(&dir)?;
    let key = datadir::master_key(
        &dir,
        args.master_key.as_ref(),
        args.master_key_file.as_deref(),
    )?;
    let db = dir.join(datadir::DB_FILE);
    let opts = StoreOptions {
        readers: args.db_readers.max(1),
        write_queue: args.write_queue.max(1),
        ..StoreOptions::default()
    };
    let store = match open_store(&db, key, clock.clone(), opts.clone()).await {
        // A rotation committed to the database but stopped before replacing master.key:
        // finish it rather than refuse to start.
        Err(StoreError::WrongMasterKey { .. })
            if datadir::key_from_data_dir(
                args.master_key.as_ref(),
                args.master_key_file.as_deref(),
            ) && datadir::pending_master_key(&dir).is_some() =>
        {
            let pending = datadir::pending_master_key(&dir)
                .ok_or_else(|| StoreError::Internal("master.key.new vanished".into()))?;
            let store = open_store(&db, pending, clock, opts).await?;
            datadir::promote_pending_master_key(&dir)?;
            tracing::warn!(
                "finished an interrupted master-key rotation: master.key.new is now master.key"
            );
            store
        }
        other => other?,
    };

    let mut tokens = store.active_admin_tokens().await?;
    let token_file = dir.join(datadir::ADMIN_TOKEN_FILE);
    let mut new_admin_token = None;
    if tokens.is_empty() {
        let (hash, token) = store.create_admin_token("initial".into(), false).await?;
        datadir::write_private(
            &token_file,
            &zeroize::Zeroizing::new(format!("{}\n", token.expose())),
        )?;
        tokens.push(hash);
        new_admin_token = Some(token);
    } else if !token_file.exists() {
        tracing::warn!(
            path = %token_file.display(),
            "admin.token is missing; run `echo5d new-admin-token` to issue a new one"
        );
    }

    let demo_leads = if args.demo {
        let n = store.seed_demo(0x0ec4_05ee_d5ee_d5ee).await?;
        match n {
            // Told in the start's one INFO line (`main`).
            Some(n) => tracing::debug!(leads = n, "seeded demo tenants"),
            None => tracing::debug!("demo data already present; not seeding again"),
        }
        n
    } else {
        None
    };

    Ok(Prepared {
        state: AppState::new(
            store,
            tokens,
            StateOptions {
                key_rate_limit: args.key_rate_limit,
                public_url: args
                    .public_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", args.listen)),
                mailer,
                sla_interval: std::time::Duration::from_secs(args.sla_interval.max(1)),
                logs,
                sessions: args.sessions.timeouts(),
                outbound: crate::outbound::Outbound::new(&args.outbound)
                    .map_err(StartError::Config)?,
            },
        ),
        data_dir: dir,
        new_admin_token,
        demo_leads,
        lock: None,
    })
}

async fn open_store(
    db: &std::path::Path,
    key: echo5_core::crypto::MasterKey,
    clock: Arc<dyn Clock>,
    opts: StoreOptions,
) -> Result<Store, StoreError> {
    let db = db.to_path_buf();
    tokio::task::spawn_blocking(move || Store::open(&db, key, clock, opts))
        .await
        .map_err(|e| StoreError::Internal(format!("open task: {e}")))?
}

/// What `rotate-master-key` did.
pub struct MasterKeyRotated {
    pub rotation: echo5_data::master_key::Rotation,
    /// The new key, when it did not come from the data directory (the operator must put
    /// it where the old one came from).
    pub new_key_for_operator: Option<Secret<String>>,
    pub key_file: PathBuf,
}

/// `echo5d rotate-master-key`: the new key is written to `master.key.new` before the
/// database changes, so no crash can leave sealed values without the key that opens them.
/// Refused while a daemon serves from the data directory: it would keep sealing and
/// opening with the old key.
pub async fn rotate_master_key(args: &ServeArgs) -> Result<MasterKeyRotated, StartError> {
    let dir = args.data_dir();
    datadir::ensure_dir(&dir)?;
    let _lock = DataDirLock::acquire(&dir, "rotate-master-key refused")?;
    let prepared = open(args, Arc::new(SystemClock), LogRing::new(LOG_RING)).await?;
    let dir = prepared.data_dir.clone();
    let store = prepared.state.store.clone();
    let new = echo5_core::crypto::MasterKey::generate().map_err(StoreError::Crypto)?;
    let pending = dir.join(datadir::NEW_MASTER_KEY_FILE);
    datadir::write_private(
        &pending,
        &zeroize::Zeroizing::new(format!("{}\n", new.to_hex().expose())),
    )?;
    let rotation = store.rotate_master_key(new.clone()).await;
    store.shutdown().await;
    let rotation = match rotation {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&pending);
            return Err(e.into());
        }
    };
    let from_dir =
        datadir::key_from_data_dir(args.master_key.as_ref(), args.master_key_file.as_deref());
    if from_dir {
        datadir::promote_pending_master_key(&dir)?;
        Ok(MasterKeyRotated {
            rotation,
            new_key_for_operator: None,
            key_file: dir.join(datadir::MASTER_KEY_FILE),
        })
    } else {
        Ok(MasterKeyRotated {
            rotation,
            new_key_for_operator: Some(new.to_hex()),
            key_file: pending,
        })
    }
}

/// `echo5d new-admin-token`: a new token in admin.token, every older one revoked. Works
/// beside a serving daemon, which re-reads the active tokens within
/// [`ADMIN_TOKEN_RELOAD`](crate::state::ADMIN_TOKEN_RELOAD).
pub async fn new_admin_token(args: &ServeArgs) -> Result<(PathBuf, Secret<String>), StartError> {
    let prepared = open(args, Arc::new(SystemClock), LogRing::new(LOG_RING)).await?;
    let store = prepared.state.store.clone();
    let (_, token) = store.create_admin_token("reset".into(), true).await?;
    let path = prepared.data_dir.join(datadir::ADMIN_TOKEN_FILE);
    datadir::write_private(
        &path,
        &zeroize::Zeroizing::new(format!("{}\n", token.expose())),
    )?;
    store.shutdown().await;
    Ok((path, token))
}

/// A file-size limit (`ulimit -f`, systemd `LimitFSIZE=`) reached by a write sends SIGXFSZ,
/// whose default action kills the process: every request in flight would be cut off and
/// the daemon would stay down. Caught, the write fails with EFBIG instead, SQLite reports
/// an I/O error, the batch is answered 503 and the daemon serves on and recovers once the
/// limit is lifted (PostgreSQL ignores SIGXFSZ for the same reason).
/// `echo5d/tests/faults.rs` (`write_errors_from_a_file_size_limit`) holds it to that.
pub fn survive_file_size_limit() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // tokio keeps its handler installed for the life of the process once registered,
        // so the stream itself need not be kept.
        if let Err(e) = signal(SignalKind::from_raw(libc::SIGXFSZ)) {
            tracing::warn!(error = %e, "cannot catch SIGXFSZ; a file-size limit would stop the daemon");
        }
    }
}

/// Resolves on SIGTERM or ctrl-c.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: draining requests and committing pending writes");
}

/// `echo5d backup --to FILE`: a consistent snapshot, authenticated under the master key,
/// taken on a read-only connection of its own while the daemon may keep serving. Refuses a
/// data directory without a database rather than creating one.
pub async fn backup(args: &ServeArgs, to: &std::path::Path) -> Result<u64, StartError> {
    let dir = args.data_dir();
    let db = dir.join(datadir::DB_FILE);
    if !db.is_file() {
        return Err(echo5_data::backup::BackupError::NoDatabase(db).into());
    }
    let key = existing_master_key(args, &dir, "backup")?;
    let to = to.to_path_buf();
    tokio::task::spawn_blocking(move || echo5_data::backup::write_backup(&db, &key, &to))
        .await
        .map_err(|e| StartError::Config(format!("backup task: {e}")))?
        .map_err(Into::into)
}

/// The master key for a command that must not invent one: generating a key would neither
/// open an existing database nor any backup.
fn existing_master_key(
    args: &ServeArgs,
    dir: &std::path::Path,
    command: &str,
) -> Result<echo5_core::crypto::MasterKey, StartError> {
    if datadir::key_from_data_dir(args.master_key.as_ref(), args.master_key_file.as_deref())
        && !dir.join(datadir::MASTER_KEY_FILE).exists()
    {
        return Err(StartError::Config(format!(
            "no master key in {}: {command} needs the master key the data was sealed with \
             (copy its master.key there, or set ECHO5_MASTER_KEY / ECHO5_MASTER_KEY_FILE)",
            dir.display()
        )));
    }
    Ok(datadir::master_key(
        dir,
        args.master_key.as_ref(),
        args.master_key_file.as_deref(),
    )?)
}

/// `echo5d restore --from FILE`: checks the backup (its MAC under the master key before
/// anything else, then SQLite's integrity check), then swaps it in atomically. Refused
/// while a daemon serves from the data directory: it would go on with the database it has
/// open and lose what it acknowledged after the swap.
pub async fn restore(args: &ServeArgs, from: &std::path::Path) -> Result<u64, StartError> {
    let dir = args.data_dir();
    datadir::ensure_dir(&dir)?;
    let _lock = DataDirLock::acquire(&dir, "restore refused")?;
    let key = existing_master_key(args, &dir, "restore")?;
    let db = dir.join(datadir::DB_FILE);
    let staged = dir.join("echo5.db.restoring");
    let leads = {
        let (from, staged) = (from.to_path_buf(), staged.clone());
        tokio::task::spawn_blocking(move || echo5_data::backup::unpack_backup(&from, &key, &staged))
            .await
            .map_err(|e| StartError::Config(format!("restore task: {e}")))??
    };
    let io = |e: std::io::Error| {
        StartError::Setup(SetupError::Io {
            path: db.clone(),
            source: e,
        })
    };
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{}{suffix}", datadir::DB_FILE)));
    }
    std::fs::rename(&staged, &db).map_err(io)?;
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(leads)
}
