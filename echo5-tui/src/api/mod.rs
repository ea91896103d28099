//! The HTTP side: a reqwest client of the admin API and the worker that runs effects on it.
//! Nothing here knows about the terminal.

mod client;
pub mod sse;
mod worker;

pub use client::Client;
pub use worker::Worker;

use echo5_core::ErrorDetail;

/// Why a call failed, split the way the console reacts to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No HTTP answer at all: refused, timed out, reset. Drives the connection state.
    #[error("cannot reach daemon: {0}")]
    Unreachable(String),
    /// The daemon answered with an error body.
    #[error("{} ({status})", detail.message)]
    Http { status: u16, detail: ErrorDetail },
    /// The daemon answered something this console cannot read (version skew).
    #[error("unexpected answer from daemon: {0}")]
    Decode(String),
}

impl ApiError {
    /// Failures that say the daemon is unwell rather than that the request was wrong.
    pub fn is_connectivity(&self) -> bool {
        match self {
            ApiError::Unreachable(_) => true,
            ApiError::Http { status, .. } => *status == 503,
            ApiError::Decode(_) => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}
