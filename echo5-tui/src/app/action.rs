//! Everything that can happen to the console: input, time passing, and API answers.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use echo5_core::ErrorDetail;
use echo5_core::analytics::{Analytics, GlobalAnalytics};
use echo5_core::audit::AuditEntry;
use echo5_core::dashboard::Dashboard;
use echo5_core::keys::ApiKey;
use echo5_core::leads::{Lead, LeadDetail, Note};
use echo5_core::page::Page;
use echo5_core::secret::Secret;
use echo5_core::sla::Breach;
use echo5_core::stages::{Stage, StageSummary};
use std::path::PathBuf;
use uuid::Uuid;
use {echo5_core::settings::TenantSettings, echo5_core::tenants::Tenant};

use super::effect::{Call, Scope};
use echo5_core::leads::LeadWithTenant;
use echo5_core::logs::LogLine;
use echo5_core::platform_settings::PlatformSettings;
use echo5_core::usage::UsageReport;
use echo5_core::users::User;
use echo5_core::webhooks::{Delivery, Recovered, Webhook};

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
    /// News from the live event stream, tagged with the connection it came from.
    Stream {
        conn_id: u64,
        msg: StreamMsg,
    },
    /// News from the live log tail, tagged with the connection it came from.
    LogStream {
        conn_id: u64,
        msg: LogMsg,
    },
    /// What reading the admin token file again found.
    TokenLoaded(TokenLoad),
}

/// What reading the token file found, reported back as [`Action::TokenLoaded`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLoad {
    /// A token was read; `changed` when it differs from the one in use (now replaced).
    Read {
        changed: bool,
    },
    Missing {
        path: String,
    },
    Unusable {
        why: String,
    },
}

/// What the live log tail reports.
#[derive(Debug, Clone, PartialEq)]
pub enum LogMsg {
    Opened,
    /// Lines in arrival order; one read of the stream may carry several.
    Lines(Vec<LogLine>),
    /// The daemon skipped lines this tail was too slow for; they are fetched instead.
    Lagged,
    Closed {
        error: String,
    },
}

/// What the live event stream reports.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamMsg {
    /// The daemon accepted the stream.
    Opened,
    /// One event (`kind` is the SSE `event:` field; `lagged` means events were missed).
    Event {
        id: Option<u64>,
        kind: String,
        tenant: Option<Uuid>,
    },
    /// The stream ended or could not be opened.
    Closed { error: String },
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
    Dashboard(Dashboard),
    Leads(Page<Lead>),
    Lead(Box<LeadDetail>),
    LeadSaved(Box<LeadDetail>),
    /// A lead entered by hand.
    LeadAdded(Box<LeadDetail>),
    LeadErased {
        lead: Uuid,
    },
    NoteAdded {
        lead: Uuid,
        note: Note,
    },
    /// The export is in the file: `bytes` written.
    CsvExported {
        path: PathBuf,
        bytes: u64,
    },
    /// Nothing written: the file exists and the call did not say to overwrite it.
    CsvExists {
        path: PathBuf,
    },
    Audit(Page<AuditEntry>),
    Breaches(Page<Breach>),
    Analytics(Box<Analytics>),
    Platform(Box<PlatformSettings>),
    PlatformSaved(Box<PlatformSettings>),
    AllLeads(Page<LeadWithTenant>),
    Usage(Box<UsageReport>),
    Logs(Vec<LogLine>),
    TenantCreated(Box<Tenant>),
    TenantSaved(Box<Tenant>),
    TenantDeleted,
    StageKindSet(Stage),
    GlobalAnalytics(Box<GlobalAnalytics>),
    /// A login the daemon took; the token stayed with the API worker.
    LoggedIn {
        expires_at: DateTime<Utc>,
        user: Box<User>,
    },
    /// A login the daemon refused: wrong credentials (401), throttled (429, with its
    /// `Retry-After` in seconds), or another refusal, worded by the daemon.
    LoginRefused {
        status: u16,
        message: String,
        retry_after: Option<u64>,
    },
    LoggedOut,
    Me(Box<User>),
    Users(Vec<User>),
    /// A user invited; the invitation link is handed over this once.
    UserCreated {
        user: Box<User>,
        invite_url: Option<Secret<String>>,
    },
    UserSaved(Box<User>),
    UserDeleted,
    Webhooks(Vec<Webhook>),
    /// An endpoint with its signing secret: created, or the new secret of a rotation. The
    /// secret is unwrapped from the wire type at once so no `Debug` of an action shows it.
    WebhookSecret {
        webhook: Box<Webhook>,
        secret: Secret<String>,
        rotated: bool,
    },
    WebhookSaved(Box<Webhook>),
    WebhookDeleted,
    /// A test message is queued for the endpoint.
    WebhookTested,
    Notifications(Box<echo5_core::notifications::Notifications>),
    /// How many test messages were queued.
    NotificationTested(usize),
    NotificationPreview(Box<echo5_core::notifications::Rendered>),
    Deliveries(Page<Delivery>),
    /// The message is queued to be sent again.
    DeliveryRetried,
    Recovered(Recovered),
    Integrations(Vec<echo5_core::integrations::Integration>),
    /// A Meta backfill is queued for this many forms.
    MetaSyncQueued(echo5_core::integrations::meta_graph::MetaSyncQueued),
    Plans(Vec<echo5_core::plans::Plan>),
    /// A plan created or changed, as the daemon stored it.
    PlanSaved(Box<echo5_core::plans::Plan>),
    PlanDeleted,
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
    /// A local file could not be written (the CSV export's path).
    #[error("{0}")]
    File(String),
}

impl ApiError {
    /// Failures that say the daemon is unwell rather than that the request was wrong.
    pub fn is_connectivity(&self) -> bool {
        match self {
            ApiError::Unreachable(_) => true,
            ApiError::Http { status, .. } => *status == 503,
            ApiError::Decode(_) | ApiError::File(_) => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}
