//! Ingest: turning what a WordPress form plugin sends into a lead. Pure functions, no I/O.
//!
//! The pipeline is `body` (bytes + content type → [`Payload`]), `normalize` (payload →
//! [`Normalized`] lead fields + `custom`), `spam` (payload + normalized → a reason or none).
//! `docs/contract.md` (Ingest) lists what each plugin sends and how its fields map.

mod aliases;
pub mod body;
pub mod clean;
mod form;
pub mod normalize;
pub mod payload;
mod shape;
pub mod spam;
#[cfg(test)]
mod tests;

pub(crate) use aliases::Target;
pub use body::{parse_body, parse_query, payload_from_pairs, try_payload_from_pairs};
pub use normalize::{Normalized, normalize};
pub use payload::{BodyError, Payload};
pub use spam::{SpamRules, check_spam};
