//! Everything that can happen to the console: input, time passing, and API answers.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use echo5_core::apikey::ApiKey;
use echo5_core::secret::Secret;
use echo5_core::stage::{Stage, StageSummary};
use echo5_core::tenant::{Tenant, TenantSettings};

use super::effect::{Call, Scope};
use crate::api::ApiError;

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Paste(String),
    /// Mouse wheel, only with `--mouse`: positive is down.
    Scroll(i8),
    Resize,
    Tick(DateTime<Utc>),
    // Boxed: answers carry whole lists, keys are tiny, and actions are moved often.
    Api(Box<ApiReply>),
}

/// The answer to a [`crate::app::Request`], carrying its tags back.
#[derive(Debug, Clone)]
pub struct ApiReply {
    pub id: u64,
    pub scope: Scope,
    pub call: Call,
    pub result: Result<Reply, ApiError>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Tenants(Vec<Tenant>),
    Stages(Vec<StageSummary>),
    Settings(TenantSettings),
    StageAdded(Stage),
    StageRenamed(Stage),
    Reordered(Vec<Stage>),
    StageDeleted {
        moved_leads: u64,
    },
    SettingsSaved(TenantSettings),
    Keys(Vec<ApiKey>),
    /// A key with its full value: created, revealed, or the new half of a rotation. The
    /// value is unwrapped from the wire type at once so no `Debug` of an action shows it.
    KeySecret {
        key: ApiKey,
        secret: Secret<String>,
        origin: SecretOrigin,
    },
    KeyRevoked(ApiKey),
}

/// Why a key's full value came back, which decides what the modal says about it.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretOrigin {
    Created,
    /// `old_key` is the replaced key with its new expiry.
    Rotated {
        old_key: ApiKey,
    },
    Revealed,
}
