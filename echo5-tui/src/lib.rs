//! Echo5 operator console: a k9s-style terminal client of the `echo5d` admin API.
//!
//! The crate is split so that everything an operator can trigger is testable without a
//! terminal or a network: [`app`] holds the state and the pure `update` function, [`api`]
//! turns effects into HTTP calls, [`components`] are the screens (each owning its data, requests, keys and drawing), [`ui`] draws a frame from the state, and [`run`] wires them
//! to a real terminal.

pub mod api;
pub mod app;
pub mod cli;
pub mod components;
pub mod keymap;
pub mod run;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod widgets;
