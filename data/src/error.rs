use echo5_core::DomainError;
use echo5_core::crypto::CryptoError;
use rusqlite::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A domain rule refused the change; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The bounded write queue is full: the caller should retry shortly (HTTP 503).
    #[error("the write queue is full")]
    QueueFull,
    /// The filesystem holding the database is full (SQLITE_FULL). Transient: the writer
    /// takes work again as soon as there is room (HTTP 503 `storage_full`).
    #[error("storage full: {0}")]
    Full(String),
    /// Another process holds the database's write lock past the writer's busy timeout
    /// (SQLITE_BUSY / SQLITE_LOCKED). Transient (HTTP 503 `storage_busy`).
    #[error("storage busy: {0}")]
    Busy(String),
    /// Storage cannot take work right now (I/O error, read-only, shutting down).
    /// Transient: the daemon keeps running and recovers by itself.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The master key given does not open this database's secrets.
    #[error(
        "the master key does not match this database (fingerprint {found}, database expects {expected}); \
         set ECHO5_MASTER_KEY / ECHO5_MASTER_KEY_FILE or restore master.key"
    )]
    WrongMasterKey { found: String, expected: String },
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    #[error("migration failed: {0}")]
    Migration(String),
    /// A bug or corrupt data; logged in full, shown to clients as a bare 500.
    #[error("storage error: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            match f.code {
                ErrorCode::DiskFull => return StoreError::Full(e.to_string()),
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    return StoreError::Busy(e.to_string());
                }
                ErrorCode::SystemIoFailure
                | ErrorCode::ReadOnly
                | ErrorCode::CannotOpen
                | ErrorCode::OutOfMemory => return StoreError::Unavailable(e.to_string()),
                _ => {}
            }
        }
        StoreError::Internal(e.to_string())
    }
}

impl StoreError {
    /// Another copy of a storage fault (full, busy, unavailable, queue full), for each job
    /// of a batch that failed as a whole; `None` for any other error.
    pub(crate) fn fault_copy(&self) -> Option<StoreError> {
        match self {
            StoreError::Full(m) => Some(StoreError::Full(m.clone())),
            StoreError::Busy(m) => Some(StoreError::Busy(m.clone())),
            StoreError::Unavailable(m) => Some(StoreError::Unavailable(m.clone())),
            StoreError::QueueFull => Some(StoreError::QueueFull),
            _ => None,
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Internal(format!("stored JSON: {e}"))
    }
}

impl From<uuid::Error> for StoreError {
    fn from(e: uuid::Error) -> Self {
        StoreError::Internal(format!("stored id: {e}"))
    }
}
