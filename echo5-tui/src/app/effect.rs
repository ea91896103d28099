//! Side effects as data: `update` says what to call, the API worker calls it. Tests assert on
//! these values instead of on HTTP traffic.

use chrono::{DateTime, NaiveDate, Utc};
use echo5_core::audit::AuditAction;
use echo5_core::leads::{LeadSource, NewLead, SpamFilter};
use echo5_core::secret::Secret;
use echo5_core::settings::GoogleAdsConfig;
use echo5_core::stages::StageKind;
use std::path::PathBuf;
use uuid::Uuid;

use echo5_core::authorization::Permission;
use echo5_core::logs::LogLevel;
use echo5_core::plans::{NewPlan, PlanPatch};
use echo5_core::platform_settings::{PlatformSettingsPatch, StageTemplate};
use echo5_core::usage::Month;
use echo5_core::users::Role;
use echo5_core::webhooks::{DeliveryStatus, NewWebhook, WebhookPatch};

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Api(Request),
    /// Open the live event stream (closing any previous one), resuming after
    /// `last_event_id`. Messages about it come back tagged with `conn_id`.
    Stream {
        conn_id: u64,
        last_event_id: Option<u64>,
    },
    /// Open the daemon's live log tail (closing any previous one), resuming after the
    /// line `last_seq`. Messages come back as [`crate::app::Action::LogStream`].
    LogStream {
        conn_id: u64,
        last_seq: Option<u64>,
    },
    /// Close the live log tail: the Logs screen is no longer shown.
    StopLogStream,
    /// Read the admin token file again and use what it holds from now on; the result
    /// comes back as [`crate::app::Action::TokenLoaded`].
    ReloadToken,
}

/// One HTTP call, tagged so its answer can be matched to what the operator still looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: u64,
    pub scope: Scope,
    pub call: Call,
}

/// Whose data an answer belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Platform-wide (tenant list, health): always current.
    Global,
    /// About the tenant selected at that generation; dropped after a tenant switch.
    Tenant { generation: u64 },
}

/// The admin API calls the console makes. Tenants are addressed by id, never by slug, so a
/// slug renamed elsewhere cannot redirect a write to the wrong tenant.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    ListTenants,
    ListStages {
        tenant: Uuid,
    },
    GetSettings {
        tenant: Uuid,
    },
    AddStage {
        tenant: Uuid,
        name: String,
        kind: StageKind,
    },
    RenameStage {
        tenant: Uuid,
        stage: Uuid,
        name: String,
    },
    /// The full new order, as the API requires.
    ReorderStages {
        tenant: Uuid,
        order: Vec<Uuid>,
    },
    DeleteStage {
        tenant: Uuid,
        stage: Uuid,
        move_to: Option<Uuid>,
    },
    PatchSettings {
        tenant: Uuid,
        change: SettingsChange,
    },
    ListKeys {
        tenant: Uuid,
    },
    /// `None` lets the daemon name it `default`.
    CreateKey {
        tenant: Uuid,
        label: Option<String>,
    },
    RotateKey {
        tenant: Uuid,
        key: Uuid,
        grace_hours: u32,
    },
    /// Audited on the daemon, so only ever sent on an explicit key press.
    RevealKey {
        tenant: Uuid,
        key: Uuid,
    },
    RevokeKey {
        tenant: Uuid,
        key: Uuid,
    },
    Dashboard,
    /// One page of a tenant's leads for the search `q` (empty: all) and the filters,
    /// newest first.
    ListLeads {
        tenant: Uuid,
        q: String,
        filters: LeadFilters,
        cursor: Option<String>,
    },
    /// Manual entry (boxed: a dozen optional fields, where most calls carry an id).
    CreateLead {
        tenant: Uuid,
        lead: Box<NewLead>,
    },
    /// Appends a note to the lead's timeline.
    AddNote {
        lead: Uuid,
        text: String,
    },
    /// The leads matching `q` and `filters` as CSV, written to `path` by the worker (never
    /// on the UI thread). Without `overwrite` an existing file is left alone and answered
    /// [`crate::app::Reply::CsvExists`].
    ExportCsv {
        tenant: Uuid,
        q: String,
        filters: LeadFilters,
        path: PathBuf,
        overwrite: bool,
    },
    /// One page of the audit log, newest first: one tenant's rows or all, one action or all.
    ListAudit {
        tenant: Option<Uuid>,
        action: Option<AuditAction>,
        cursor: Option<String>,
    },
    GetLead {
        lead: Uuid,
    },
    PatchLead {
        lead: Uuid,
        change: LeadChange,
    },
    /// Erases a lead for good (`DELETE /api/v1/leads/{id}`).
    DeleteLead {
        lead: Uuid,
    },
    /// The first page of breaches, most overdue first; `tenant: None` for all tenants.
    ListBreaches {
        tenant: Option<Uuid>,
    },
    /// The lead of a breach opened on the SLA screen (the same answer as [`Call::GetLead`],
    /// stored by the SLA screen, not the Leads screen).
    GetBreachLead {
        lead: Uuid,
    },
    /// The stages of an opened breach's client, which need not be the selected one.
    ListBreachStages {
        tenant: Uuid,
    },
    /// The last `days` days, ending now.
    GetAnalytics {
        tenant: Uuid,
        days: u32,
        from: DateTime<Utc>,
    },
    GetPlatform,
    /// One field of the platform settings; only it is sent.
    PatchPlatform {
        change: PlatformChange,
    },
    /// One page of every tenant's leads (or of `tenants`, by slug), newest first.
    ListAllLeads {
        tenants: Vec<String>,
        q: String,
        cursor: Option<String>,
    },
    GetUsage {
        month: Month,
    },
    /// The newest log lines, at `level` or more severe (`None`: all).
    GetLogs {
        level: Option<LogLevel>,
    },
    /// A new client from the platform defaults; `slug: None` lets the daemon derive it.
    CreateTenant {
        name: String,
        slug: Option<String>,
    },
    PatchTenant {
        tenant: Uuid,
        change: TenantChange,
    },
    /// `purge` deletes the client's leads too; without it a client holding leads is
    /// refused (409).
    DeleteTenant {
        tenant: Uuid,
        purge: bool,
    },
    SetStageKind {
        tenant: Uuid,
        stage: Uuid,
        kind: StageKind,
    },
    /// The newest few leads of a tenant, for its overview.
    RecentLeads {
        tenant: Uuid,
    },
    /// Every tenant's analytics (or `tenants`', by slug) over the last `days`, summed.
    GetGlobalAnalytics {
        tenants: Vec<String>,
        days: u32,
    },
    /// One tenant, for a tenant user: their tenant list is their own tenant.
    GetTenant {
        tenant: Uuid,
    },
    /// `--login`: the password travels as a [`Secret`], wiped when the call is dropped.
    /// On success the API worker keeps the session token itself; it never reaches the state.
    Login {
        email: String,
        password: Secret<String>,
    },
    /// Ends the session on the daemon; the worker forgets the token whatever the answer.
    Logout,
    /// Who the session is: the user, with role and permissions.
    Me,
    /// The users of a tenant (Team) or of the platform (Users).
    ListUsers {
        realm: UserRealm,
    },
    /// The users of a lead's tenant, for the assignee chooser (the same endpoint as
    /// `ListUsers`; its answer fills the chooser, not the Team screen).
    ListAssignees {
        tenant: Uuid,
    },
    /// An invitation: the answer carries the invitation link once.
    CreateUser {
        realm: UserRealm,
        invite: Invite,
    },
    PatchUser {
        realm: UserRealm,
        user: Uuid,
        change: UserChange,
    },
    DeleteUser {
        realm: UserRealm,
        user: Uuid,
    },
    /// A tenant's webhook endpoints (never their secrets).
    ListWebhooks {
        tenant: Uuid,
    },
    /// The answer carries the signing secret, this once.
    CreateWebhook {
        tenant: Uuid,
        new: NewWebhook,
    },
    /// Only the fields set are sent.
    PatchWebhook {
        tenant: Uuid,
        webhook: Uuid,
        patch: WebhookPatch,
    },
    DeleteWebhook {
        tenant: Uuid,
        webhook: Uuid,
    },
    /// The answer carries the new secret, this once; the old one signs too for 24 h.
    RotateWebhookSecret {
        tenant: Uuid,
        webhook: Uuid,
    },
    /// Sends a `webhook.test` message to the endpoint.
    TestWebhook {
        tenant: Uuid,
        webhook: Uuid,
    },
    /// One page of an endpoint's deliveries, newest first; `status: None` for all.
    ListDeliveries {
        tenant: Uuid,
        webhook: Uuid,
        status: Option<DeliveryStatus>,
        cursor: Option<String>,
    },
    /// Sends one message to the endpoint again.
    RetryDelivery {
        tenant: Uuid,
        webhook: Uuid,
        message_id: String,
    },
    /// Sends again every message to the endpoint that failed since `since`.
    RecoverWebhook {
        tenant: Uuid,
        webhook: Uuid,
        since: DateTime<Utc>,
    },
    /// A tenant's ad sources and where each stands.
    ListIntegrations {
        tenant: Uuid,
    },
    /// Reads the tenant's Meta leads created since `since` again (a backfill).
    SyncMeta {
        tenant: Uuid,
        since: DateTime<Utc>,
    },
    /// A tenant's notification settings (secrets masked).
    GetNotifications {
        tenant: Uuid,
    },
    /// Queues a test message over one channel.
    TestNotification {
        tenant: Uuid,
        channel: echo5_core::notifications::Channel,
    },
    /// Renders an event's template with a sample lead (changes nothing).
    PreviewNotification {
        tenant: Uuid,
        event: echo5_core::notifications::NotifyEvent,
    },
    /// Every plan, with how many tenants are on each.
    ListPlans,
    CreatePlan {
        new: NewPlan,
    },
    /// Only the fields that changed are sent.
    PatchPlan {
        plan: Uuid,
        patch: PlanPatch,
    },
    /// Refused (409 `plan_in_use`) while a tenant is on it.
    DeletePlan {
        plan: Uuid,
    },
}

/// A user to invite, as the Team and Users screens' form gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub email: String,
    pub name: String,
    /// `None`: the daemon's default for the realm.
    pub role: Option<Role>,
}

/// One change to a user from the Team or Users screen; only that field is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange {
    Role(Role),
    /// The permission set to this value, overriding the role's default.
    Permission(Permission, bool),
    Active(bool),
}

/// Where users live: a tenant's (the Team screen) or the platform's (the Users screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRealm {
    Tenant(Uuid),
    Platform,
}

/// One change to a client's own fields from the console.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantChange {
    Name(String),
    Active(bool),
    /// The client's plan; `None` takes it off its plan (no limits).
    Plan(Option<Uuid>),
    /// The Stripe customer its usage is reported for (`cus_…`); `None` stops the reports.
    StripeCustomer(Option<String>),
}

/// One platform setting changed from the Platform screen.
#[derive(Debug, Clone, PartialEq)]
pub enum PlatformChange {
    /// The whole default pipeline, in order (the API takes the list).
    Stages(Vec<StageTemplate>),
    SlaHours(u32),
    GraceHours(u32),
    SpamKeywords(Vec<String>),
    HoneypotFields(Vec<String>),
    /// `None` clears it.
    OperatorName(Option<String>),
    /// `None` clears it.
    OperatorEmail(Option<String>),
}

impl PlatformChange {
    /// The PATCH body: only this field.
    pub fn body(&self) -> PlatformSettingsPatch {
        let mut p = PlatformSettingsPatch::default();
        match self {
            PlatformChange::Stages(s) => p.default_stages = Some(s.clone()),
            PlatformChange::SlaHours(h) => p.default_sla_hours = Some(*h),
            PlatformChange::GraceHours(h) => p.default_grace_hours = Some(*h),
            PlatformChange::SpamKeywords(k) => p.default_spam_keywords = Some(k.clone()),
            PlatformChange::HoneypotFields(f) => p.honeypot_fields = Some(f.clone()),
            PlatformChange::OperatorName(n) => p.operator_name = Some(n.clone()),
            PlatformChange::OperatorEmail(e) => p.operator_email = Some(e.clone()),
        }
        p
    }
}

/// A platform setting the Platform screen edits, in the order it lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlatformField {
    SlaHours,
    GraceHours,
    SpamKeywords,
    HoneypotFields,
    OperatorName,
    OperatorEmail,
}

impl PlatformField {
    pub const ALL: [PlatformField; 6] = [
        PlatformField::SlaHours,
        PlatformField::GraceHours,
        PlatformField::SpamKeywords,
        PlatformField::HoneypotFields,
        PlatformField::OperatorName,
        PlatformField::OperatorEmail,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PlatformField::SlaHours => "Default SLA hours",
            PlatformField::GraceHours => "Default grace hours",
            PlatformField::SpamKeywords => "Default spam keywords",
            PlatformField::HoneypotFields => "Honeypot fields",
            PlatformField::OperatorName => "Operator name",
            PlatformField::OperatorEmail => "Operator email",
        }
    }

    /// The JSON field, as the daemon names it in errors.
    pub fn json(self) -> &'static str {
        match self {
            PlatformField::SlaHours => "default_sla_hours",
            PlatformField::GraceHours => "default_grace_hours",
            PlatformField::SpamKeywords => "default_spam_keywords",
            PlatformField::HoneypotFields => "honeypot_fields",
            PlatformField::OperatorName => "operator_name",
            PlatformField::OperatorEmail => "operator_email",
        }
    }
}

/// One change to a lead from the Leads screen (notes are appended: [`Call::AddNote`]).
#[derive(Debug, Clone, PartialEq)]
pub enum LeadChange {
    Stage(Uuid),
    /// A user id of the lead's tenant; `None` clears it.
    Assignee(Option<Uuid>),
    /// `false`: a false positive, back in the listings.
    Spam(bool),
}

/// The Leads screen's filters, as the API has them (the search `q` travels beside them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadFilters {
    pub stage: Option<Uuid>,
    pub source: Option<LeadSource>,
    /// Only leads in breach (`true`) or not (`false`).
    pub breached: Option<bool>,
    pub spam: SpamFilter,
    /// Created on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Created on or before this day (UTC): the API's `to` is the next midnight.
    pub to: Option<NaiveDate>,
}

impl LeadFilters {
    pub fn is_empty(&self) -> bool {
        *self == LeadFilters::default()
    }

    /// The query parameters these filters add to a listing or an export.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(s) = self.stage {
            q.push(("stage", s.to_string()));
        }
        if let Some(s) = self.source {
            q.push(("source", s.as_str().to_string()));
        }
        if let Some(b) = self.breached {
            q.push(("breached", b.to_string()));
        }
        match self.spam {
            SpamFilter::Hide => {}
            SpamFilter::Include => q.push(("spam", "all".into())),
            SpamFilter::Only => q.push(("spam", "true".into())),
        }
        if let Some(d) = self.from {
            q.push(("from", d.format("%Y-%m-%d").to_string()));
        }
        if let Some(d) = self.to.and_then(|d| d.succ_opt()) {
            q.push(("to", d.format("%Y-%m-%d").to_string()));
        }
        q
    }
}

impl Call {
    /// Whether it changes data on the daemon (shown as "saving", never retried blindly).
    pub fn is_mutation(&self) -> bool {
        !matches!(
            self,
            Call::ListTenants
                | Call::ListStages { .. }
                | Call::GetSettings { .. }
                | Call::ListKeys { .. }
                | Call::Dashboard
                | Call::ListLeads { .. }
                | Call::GetLead { .. }
                | Call::ListBreaches { .. }
                | Call::GetBreachLead { .. }
                | Call::ListBreachStages { .. }
                | Call::GetAnalytics { .. }
                | Call::GetPlatform
                | Call::ListAllLeads { .. }
                | Call::GetUsage { .. }
                | Call::GetLogs { .. }
                | Call::RecentLeads { .. }
                | Call::GetGlobalAnalytics { .. }
                | Call::ListAudit { .. }
                | Call::GetTenant { .. }
                | Call::ListUsers { .. }
                | Call::ListAssignees { .. }
                | Call::ListWebhooks { .. }
                | Call::ListDeliveries { .. }
                | Call::ListIntegrations { .. }
                | Call::GetNotifications { .. }
                | Call::PreviewNotification { .. }
                | Call::ListPlans
                // Session calls are not data changes the "saving" marker waits for.
                | Call::Login { .. }
                | Call::Logout
                | Call::Me
        )
    }
}

/// One settings field changed from the Settings screen. Secrets travel wrapped in
/// [`Secret`] so a `Debug` dump of an effect never shows them.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingsChange {
    SlaHours(u32),
    /// `None` clears it (the SLA counts every hour). Boxed: calls stay small.
    BusinessHours(Option<Box<echo5_core::business_hours::BusinessHours>>),
    SpamKeywords(Vec<String>),
    /// `None` clears it.
    ManagerEmail(Option<String>),
    /// ISO 3166 alpha-2, checked with core's rule.
    DefaultCountry(String),
    AutoAssign(echo5_core::assignment::AutoAssign),
    /// `None` clears it.
    MetaAccessToken(Option<Secret<String>>),
    /// `None` clears it.
    GoogleAds(Option<Secret<GoogleAdsConfig>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretField {
    MetaAccessToken,
    GoogleAds,
}

impl SecretField {
    pub fn label(self) -> &'static str {
        match self {
            SecretField::MetaAccessToken => "Meta access token",
            SecretField::GoogleAds => "Google Ads",
        }
    }
}
