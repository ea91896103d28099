//! The console's model: one [`State`], changed only by [`update`], which returns the side
//! effects (HTTP calls) to perform as plain data.

pub mod action;
pub mod bindings;
pub mod effect;
pub mod input;
mod live;
pub(crate) mod navigation;
pub mod overlay;
mod overlay_keys;
pub(crate) mod reply;
pub(crate) mod request;
pub mod state;
pub mod update;

pub use crate::components::leads::display_name as screens_display_name;
pub use crate::components::logs::bottom_index as screens_logs_bottom;
pub use action::{Action, ApiError, ApiReply, LogMsg, Reply, SecretOrigin, StreamMsg};
pub use effect::{
    Call, Effect, LeadChange, PlatformChange, Request, Scope, SecretField, SettingsChange,
};
pub use state::{Conn, Remote, Screen, State};
pub use update::update;
