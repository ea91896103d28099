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
    /// Storage cannot take work right now (disk full, locked, I/O error, shutting down).
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
                ErrorCode::DiskFull
                | ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::SystemIoFailure
                | ErrorCode::ReadOnly
                | ErrorCode::CannotOpen
                | ErrorCode::OutOfMemory => return StoreError::Unavailable(e.to_string()),
                _ => {}
            }
        }
        StoreError::Internal(e.to_string())
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
