//! The HTTP side: a reqwest client of the admin API and the worker that runs effects on it.
//! Nothing here knows about the terminal.

mod client;
pub mod export;
pub mod sse;
mod worker;

pub use client::Client;
pub use worker::Worker;
