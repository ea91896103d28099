//! Echo5 operator console: a k9s-style terminal client of the `echo5d` admin API.
//!
//! The crate is split so that everything an operator can trigger is testable without a
//! terminal or a network: [`app`] holds the state and the pure `update` function, with
//! `app::components` the screens (each owning its data, requests, keys and drawing); [`api`]
//! turns effects into HTTP calls; [`ui`] draws the frame around the current screen; and
//! [`run`] wires them to a real terminal. Below the model sit [`keymap`] (keys and the
//! global bindings), [`widgets`] and [`theme`] (drawing primitives).
//!
//! Each layer imports only those below it: `run` → `ui` and `api` → `app` → `keymap`,
//! `widgets`, `theme`. The model never imports `api`: the client speaks the model's
//! message types.

pub mod api;
pub mod app;
pub mod cli;
pub mod keymap;
pub mod run;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod widgets;
