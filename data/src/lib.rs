//! Echo5 storage: SQLite schema and migrations, the group-commit writer, read-only readers,
//! and the queries behind the API.
//!
//! Nothing here runs on the async runtime: writes go to one writer thread over a bounded
//! channel, reads to a small pool of read-only connections on their own threads; callers
//! await a oneshot reply.

pub mod admin_tokens;
pub mod audit;
pub mod backup;
pub mod dashboard;
mod db;
pub mod demo;
mod error;
pub mod ingest;
pub mod keys;
pub mod leads;
pub mod master_key;
pub mod platform_settings;
mod reader;
mod recent;
mod settings;
pub mod sla;
pub mod stages;
mod store;
mod tally;
pub mod tenants;
pub mod usage;
mod writer;

pub use error::StoreError;
pub use store::{IngestProfile, Store, StoreOptions, WriterStats};
pub use tenants::TenantKey;
