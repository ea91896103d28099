//! The console's model: one [`State`], changed only by [`update`], which returns the side
//! effects (HTTP calls) to perform as plain data.

pub mod action;
pub mod effect;
pub mod input;
mod live;
pub mod overlay;
mod overlay_keys;
mod reply;
mod request;
mod screens;
pub mod state;
pub mod update;

pub use action::{Action, ApiReply, LogMsg, Reply, SecretOrigin, StreamMsg};
pub use effect::{
    Call, Effect, LeadChange, PlatformChange, Request, Scope, SecretField, SettingsChange,
};
pub use screens::leads::display_name as screens_display_name;
pub use screens::logs::bottom_index as screens_logs_bottom;
pub(crate) use screens::settings::Row as SettingsRow;
pub use state::{Conn, Remote, Screen, State};
pub use update::update;
