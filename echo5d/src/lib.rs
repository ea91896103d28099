//! echo5d: the Echo5 daemon as a library, so tests run the real router in-process and on a
//! loopback port. `main.rs` is only argument parsing and signal handling.

pub mod access;
pub mod app;
pub mod config;
pub mod credential_cache;
pub mod datadir;
pub mod error;
pub mod events;
pub mod extract;
pub mod logs;
pub mod mailer;
pub mod meta_graph;
pub mod monitor;
pub mod notifications;
pub mod outbound;
pub mod outbox_tasks;
pub mod outbox_worker;
pub mod password_work;
pub mod plan_jobs;
pub mod ratelimit;
pub mod routes;
pub mod run;
pub mod server;
pub mod state;
pub mod throttle;

pub use app::{HttpOptions, Listeners, build_router, launch, launch_with, openapi};
pub use state::AppState;
