//! Echo5 domain: plain types and rules, no I/O.
//!
//! Wire types shared by the daemon and the console live here so the two cannot drift apart.
//! Everything is a plain function over plain data so it can be tested without a database,
//! a network or a clock (see [`clock`]).

pub mod analytics;
pub mod assignment;
pub mod audit;
pub mod authorization;
pub mod business_hours;
pub mod chunked;
pub mod clock;
pub mod crypto;
pub mod dashboard;
pub mod dedup;
pub mod demo;
pub mod error;
pub mod events;
pub mod export;
pub mod ingest;
pub mod integrations;
pub mod invites;
pub mod keys;
pub mod leads;
pub mod logs;
pub mod notifications;
pub mod outbound_guard;
pub mod outbox;
pub mod outbox_tasks;
pub mod page;
pub mod passwords;
pub mod patch;
pub mod personal_tokens;
pub mod phone;
pub mod plans;
pub mod platform_settings;
pub mod secret;
pub mod sessions;
pub mod settings;
pub mod sharded;
pub mod sla;
pub mod stages;
pub mod tenants;
pub mod tokens;
pub mod usage;
pub mod users;
pub mod validate;
pub mod webhooks;

pub use error::{DomainError, ErrorBody, ErrorDetail};
