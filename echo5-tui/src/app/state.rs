//! Everything the console knows. Only [`crate::app::update`] changes it; the UI only reads it.

use chrono::{DateTime, TimeDelta, Utc};
use echo5_core::analytics::Analytics;
use echo5_core::dashboard::{Dashboard, TenantDashboard};
use echo5_core::keys::ApiKey;
use echo5_core::leads::{Lead, LeadDetail};
use echo5_core::sla::Breach;
use echo5_core::stages::StageSummary;
use echo5_core::tenants::{Tenant, TenantRef, TenantSettings};
use std::collections::{HashMap, VecDeque};
use uuid::Uuid;

use super::overlay::Overlay;
use crate::platform::{
    LeadWithTenant, LogLevel, LogLine, Month, PlatformSettings, UsageReport, line_level,
};

/// The screens, in the order Tab and the number keys use. The later ones came later, so
/// the first five keep their numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Dashboard,
    Tenants,
    Pipeline,
    Settings,
    Keys,
    Leads,
    Breaches,
    Analytics,
    // Platform-wide screens: no tenant needed, reached with `:` and Tab, not digits.
    Platform,
    AllLeads,
    Usage,
    Logs,
}

impl Screen {
    pub const ALL: [Screen; 12] = [
        Screen::Dashboard,
        Screen::Tenants,
        Screen::Pipeline,
        Screen::Settings,
        Screen::Keys,
        Screen::Leads,
        Screen::Breaches,
        Screen::Analytics,
        Screen::Platform,
        Screen::AllLeads,
        Screen::Usage,
        Screen::Logs,
    ];

    /// The screens on the header's tab line, with their digit keys.
    pub const NUMBERED: [Screen; 8] = [
        Screen::Dashboard,
        Screen::Tenants,
        Screen::Pipeline,
        Screen::Settings,
        Screen::Keys,
        Screen::Leads,
        Screen::Breaches,
        Screen::Analytics,
    ];

    /// Platform administration, shown beside the daemon's address in the header.
    pub const PLATFORM: [Screen; 4] = [
        Screen::Platform,
        Screen::AllLeads,
        Screen::Usage,
        Screen::Logs,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Dashboard => "Dashboard",
            Screen::Tenants => "Tenants",
            Screen::Pipeline => "Pipeline",
            Screen::Settings => "Settings",
            Screen::Keys => "Keys",
            Screen::Leads => "Leads",
            Screen::Breaches => "SLA",
            Screen::Analytics => "Analytics",
            Screen::Platform => "Platform",
            Screen::AllLeads => "All leads",
            Screen::Usage => "Usage",
            Screen::Logs => "Logs",
        }
    }

    /// For narrow headers.
    pub fn short(self) -> &'static str {
        match self {
            Screen::Dashboard => "Dash",
            Screen::Tenants => "Ten",
            Screen::Pipeline => "Pipe",
            Screen::Settings => "Set",
            Screen::Keys => "Keys",
            Screen::Leads => "Leads",
            Screen::Breaches => "SLA",
            Screen::Analytics => "Ana",
            Screen::Platform => "Plat",
            Screen::AllLeads => "All",
            Screen::Usage => "Use",
            Screen::Logs => "Logs",
        }
    }

    /// The palette command that opens it.
    pub fn command(self) -> &'static str {
        match self {
            Screen::Dashboard => "dashboard",
            Screen::Tenants => "tenants",
            Screen::Pipeline => "pipeline",
            Screen::Settings => "settings",
            Screen::Keys => "keys",
            Screen::Leads => "leads",
            Screen::Breaches => "sla",
            Screen::Analytics => "analytics",
            Screen::Platform => "platform",
            Screen::AllLeads => "all",
            Screen::Usage => "usage",
            Screen::Logs => "logs",
        }
    }

    /// Per-tenant screens cannot show anything until a tenant is chosen.
    pub fn needs_tenant(self) -> bool {
        matches!(
            self,
            Screen::Pipeline | Screen::Settings | Screen::Keys | Screen::Leads | Screen::Analytics
        )
    }

    pub fn index(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn by_number(n: u32) -> Option<Screen> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        Screen::NUMBERED.get(i).copied()
    }

    pub fn next(self) -> Screen {
        Screen::ALL[(self.index() + 1) % Screen::ALL.len()]
    }

    pub fn prev(self) -> Screen {
        Screen::ALL[(self.index() + Screen::ALL.len() - 1) % Screen::ALL.len()]
    }
}

/// How the daemon is answering. Failures are counted so the retry delay can back off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conn {
    /// No answer yet since start.
    Connecting,
    Connected,
    /// Recent requests failed; still retrying quickly.
    Degraded {
        failures: u32,
        since: DateTime<Utc>,
    },
    /// Enough consecutive failures that the daemon is presumed gone.
    Down {
        failures: u32,
        since: DateTime<Utc>,
    },
}

/// Consecutive failures after which the header says Down rather than Degraded.
pub const DOWN_AFTER: u32 = 3;

impl Conn {
    pub fn failures(self) -> u32 {
        match self {
            Conn::Degraded { failures, .. } | Conn::Down { failures, .. } => failures,
            _ => 0,
        }
    }

    pub fn is_failing(self) -> bool {
        matches!(self, Conn::Degraded { .. } | Conn::Down { .. })
    }
}

/// Data fetched from the daemon. The last good value is kept through failures so the
/// operator keeps seeing it (marked stale) while the daemon is away.
#[derive(Debug, Clone, PartialEq)]
pub struct Remote<T> {
    pub data: Option<T>,
    /// Request id of the fetch in flight, if any; answers to older fetches are ignored.
    pub inflight: Option<u64>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Why the last fetch failed, when it did.
    pub error: Option<String>,
}

impl<T> Default for Remote<T> {
    fn default() -> Self {
        Remote {
            data: None,
            inflight: None,
            updated_at: None,
            error: None,
        }
    }
}

impl<T> Remote<T> {
    pub fn loading(&self) -> bool {
        self.inflight.is_some()
    }
}

/// A selectable, filterable list's view state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListView {
    pub selected: usize,
    pub filter: String,
}

impl ListView {
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }

    pub fn move_by(&mut self, delta: isize, len: usize) {
        if len == 0 {
            self.selected = 0;
            return;
        }
        let max = len as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, max) as usize;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub level: ToastLevel,
    pub until: DateTime<Utc>,
}

/// Only the newest few toasts are kept: a flapping daemon must not bury the screen.
pub const MAX_TOASTS: usize = 3;

/// What a request's answer may overwrite; used for latest-wins ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Tenants,
    Stages,
    Settings,
    Keys,
    Dashboard,
    Leads,
    LeadDetail,
    Breaches,
    Analytics,
    Platform,
    AllLeads,
    Usage,
    /// The log history fetch (the live tail is a stream, not a fetch).
    Logs,
}

/// The live event stream (`GET /api/v1/events`) as `update` sees it. The connection itself
/// lives in the main loop; `update` decides when to (re)connect and from which event id.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    /// Id of the connection attempt in progress; messages from older ones are ignored.
    pub conn_id: u64,
    pub status: LiveStatus,
    /// Consecutive failed attempts, for the reconnect backoff.
    pub failures: u32,
    /// When to try again while disconnected.
    pub retry_at: Option<DateTime<Utc>>,
    /// The last event id seen, sent as `Last-Event-ID` on reconnect.
    pub last_event_id: Option<u64>,
    /// Resources that changed while a fetch of them was in flight: fetched once more when
    /// that answer lands, so a burst of events costs at most two fetches.
    pub pending: Vec<Resource>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    /// Not started yet.
    Off,
    Connecting,
    Connected,
    /// Waiting for `retry_at`.
    Disconnected,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            conn_id: 0,
            status: LiveStatus::Off,
            failures: 0,
            retry_at: None,
            last_event_id: None,
            pending: Vec::new(),
        }
    }
}

/// The analytics ranges the console offers, in the order the range key cycles them.
pub const ANALYTICS_RANGES: [u32; 3] = [7, 30, 90];

/// The Leads screen: a page-by-page list for the committed search, and the detail pane.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadsView {
    pub list: ListView,
    /// The search the shown rows answer (`q`); `list.filter` is what the filter line holds.
    pub query: String,
    /// Where the next page starts; `None` once the last page is in.
    pub next_cursor: Option<String>,
    /// The detail pane is open (and has the focus for Esc).
    pub detail_open: bool,
    /// Pages loaded for the current search.
    pub pages: u32,
    /// A lead to put the cursor on when a page holding it arrives (opened from All leads).
    pub focus: Option<Uuid>,
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

/// A row of the Platform screen: the fields first, then the default stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlatformRow {
    Field(PlatformField),
    /// Index into `default_stages`.
    Stage(usize),
}

/// Where a refused change's reason is shown on the Platform screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorAt {
    Field(PlatformField),
    /// The stage list as a whole (its heading).
    Stages,
    Stage(usize),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlatformView {
    /// Cursor over [`State::platform_rows`].
    pub selected: usize,
    /// The daemon's reasons for refusing the last change of a field, shown beside it until
    /// that field is saved.
    pub errors: Vec<(ErrorAt, String)>,
    /// PATCHes sent and not answered: polls wait, so an answer read before a change landed
    /// cannot undo it on screen.
    pub pending: u32,
}

impl PlatformView {
    pub fn error(&self, at: ErrorAt) -> Option<&str> {
        self.errors
            .iter()
            .find(|(a, _)| *a == at)
            .map(|(_, e)| e.as_str())
    }
}

/// The All leads screen: every tenant's leads (or the chosen tenants'), newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllLeadsView {
    pub list: ListView,
    /// The search the shown rows answer (`q`).
    pub query: String,
    /// Tenant slugs the list is limited to; empty: every tenant.
    pub tenants: Vec<String>,
    pub next_cursor: Option<String>,
    pub pages: u32,
}

/// Log lines kept on the client; older ones are dropped first.
pub const LOG_BUFFER: usize = 5000;

/// The Logs screen: a bounded, seq-ordered buffer fed by the history fetch and the live
/// tail, and how it is viewed.
#[derive(Debug, Clone, PartialEq)]
pub struct LogsView {
    pub lines: VecDeque<LogLine>,
    /// `filter` is the search (a case-insensitive substring); `selected` is unused.
    pub view: ListView,
    /// Least severe level shown; `None` shows every line.
    pub level: Option<LogLevel>,
    /// Keep the newest line at the bottom as lines arrive.
    pub follow: bool,
    /// While not following: the seq of the line at the bottom of the view.
    pub anchor: Option<u64>,
    /// Matching lines that arrived while not following.
    pub unseen: usize,
    /// The live tail (`GET /api/v1/system/logs/stream`), open only while the screen is.
    pub stream: Live,
}

impl Default for LogsView {
    fn default() -> Self {
        LogsView {
            lines: VecDeque::new(),
            view: ListView::default(),
            level: None,
            follow: true,
            anchor: None,
            unseen: 0,
            stream: Live::default(),
        }
    }
}

impl LogsView {
    /// Whether a line passes the level filter and the search.
    pub fn shows(&self, l: &LogLine, needle: &str) -> bool {
        self.level.is_none_or(|min| line_level(l) >= min)
            && (needle.is_empty()
                || contains_ci(&l.message, needle)
                || contains_ci(&l.target, needle))
    }

    /// The search, lower-cased once per use.
    pub fn needle(&self) -> String {
        self.view.filter.to_lowercase()
    }
}

/// Case-insensitive substring test without allocating for ASCII text.
pub fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    if needle_lower.is_empty() {
        return true;
    }
    if hay.is_ascii() && needle_lower.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle_lower.as_bytes());
        return h.len() >= n.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(needle_lower)
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub base_url: String,
    /// The clock as of the last tick; injected so rendering and timing are deterministic.
    pub now: DateTime<Utc>,
    pub conn: Conn,
    /// Last time any request got an HTTP answer; "stale Ns" counts from here.
    pub last_ok: Option<DateTime<Utc>>,
    /// When the next automatic refresh (or reconnect attempt) is due.
    pub next_poll: DateTime<Utc>,
    pub refresh_every: TimeDelta,

    pub screen: Screen,
    pub back: Vec<Screen>,
    /// Where to go once the tenant picker returns, when a per-tenant screen sent us there.
    pub after_pick: Option<Screen>,

    pub tenant: Option<TenantRef>,
    /// Bumped on every tenant switch; answers tagged with an older generation are dropped.
    pub tenant_gen: u64,

    pub tenants: Remote<Vec<Tenant>>,
    pub stages: Remote<Vec<StageSummary>>,
    pub settings: Remote<TenantSettings>,
    /// The selected tenant's API keys, newest first; never the keys themselves.
    pub keys: Remote<Vec<ApiKey>>,
    /// `GET /api/v1/dashboard`: counts per tenant.
    pub dash: Remote<Dashboard>,
    /// The selected tenant's leads, newest first, as many pages as loaded.
    pub leads: Remote<Vec<Lead>>,
    pub leads_view: LeadsView,
    /// The lead open in the detail pane.
    pub lead_detail: Remote<LeadDetail>,
    /// SLA breaches, most overdue first: all tenants, or the selected one.
    pub breaches: Remote<Vec<Breach>>,
    pub breaches_view: ListView,
    /// Breaches of every tenant (true) or only the selected one.
    pub breaches_all: bool,
    /// More breaches exist than the one page shown.
    pub breaches_more: bool,
    pub analytics: Remote<Analytics>,
    /// Days the analytics cover, one of [`ANALYTICS_RANGES`].
    pub analytics_days: u32,
    pub live: Live,

    /// `GET /api/v1/platform/settings`.
    pub platform: Remote<PlatformSettings>,
    pub platform_view: PlatformView,
    /// `GET /api/v1/leads`: every tenant's leads, as many pages as loaded.
    pub all_leads: Remote<Vec<LeadWithTenant>>,
    pub all_leads_view: AllLeadsView,
    /// `GET /api/v1/usage` for [`State::usage_month`].
    pub usage: Remote<UsageReport>,
    pub usage_month: Month,
    pub usage_view: ListView,
    /// Bookkeeping of the log history fetch; the lines live in `logs`.
    pub log_fetch: Remote<()>,
    pub logs: LogsView,

    pub dashboard: ListView,
    pub picker: ListView,
    pub pipeline: ListView,
    pub settings_view: ListView,
    pub keys_view: ListView,
    /// A stage to put the cursor on when it shows up (just added).
    pub focus_stage: Option<Uuid>,
    /// Likewise for a key just created or rotated.
    pub focus_key: Option<Uuid>,

    pub overlay: Option<Overlay>,
    pub toasts: Vec<Toast>,
    /// Mutations sent and not yet answered, shown as a busy marker.
    pub saving: u32,

    /// Source of request ids; ids only grow, which is what latest-wins compares.
    pub seq: u64,
    /// Per resource, the lowest request id whose answer may still be applied.
    pub floor: HashMap<Resource, u64>,

    /// Set by `update` when the screen must be redrawn.
    pub dirty: bool,
    pub quit: bool,
}

impl State {
    pub fn new(base_url: impl Into<String>, now: DateTime<Utc>) -> Self {
        State {
            base_url: base_url.into(),
            now,
            conn: Conn::Connecting,
            last_ok: None,
            next_poll: now,
            refresh_every: TimeDelta::seconds(5),
            screen: Screen::Dashboard,
            back: Vec::new(),
            after_pick: None,
            tenant: None,
            tenant_gen: 0,
            tenants: Remote::default(),
            stages: Remote::default(),
            settings: Remote::default(),
            keys: Remote::default(),
            dash: Remote::default(),
            leads: Remote::default(),
            leads_view: LeadsView::default(),
            lead_detail: Remote::default(),
            breaches: Remote::default(),
            breaches_view: ListView::default(),
            breaches_all: true,
            breaches_more: false,
            analytics: Remote::default(),
            analytics_days: 30,
            live: Live::default(),
            platform: Remote::default(),
            platform_view: PlatformView::default(),
            all_leads: Remote::default(),
            all_leads_view: AllLeadsView::default(),
            usage: Remote::default(),
            usage_month: Month::of(now),
            usage_view: ListView::default(),
            log_fetch: Remote::default(),
            logs: LogsView::default(),
            dashboard: ListView::default(),
            picker: ListView::default(),
            pipeline: ListView::default(),
            settings_view: ListView::default(),
            keys_view: ListView::default(),
            focus_stage: None,
            focus_key: None,
            overlay: None,
            toasts: Vec::new(),
            saving: 0,
            seq: 0,
            floor: HashMap::new(),
            dirty: true,
            quit: false,
        }
    }

    /// Data on screen may be out of date: the daemon is not answering.
    pub fn is_stale(&self) -> bool {
        self.conn.is_failing()
    }

    /// Seconds since the daemon last answered, for the "stale Ns" badge.
    pub fn stale_for(&self) -> Option<i64> {
        if !self.is_stale() {
            return None;
        }
        let since = match (self.last_ok, self.conn) {
            (Some(t), _) => t,
            (None, Conn::Degraded { since, .. } | Conn::Down { since, .. }) => since,
            (None, _) => self.now,
        };
        Some((self.now - since).num_seconds().max(0))
    }

    pub fn toast(&mut self, level: ToastLevel, text: impl Into<String>) {
        // Errors stay longer than confirmations: they are what the operator must read.
        let secs = match level {
            ToastLevel::Info => 4,
            ToastLevel::Error => 8,
        };
        let text = text.into();
        self.toasts.retain(|t| t.text != text);
        self.toasts.push(Toast {
            text,
            level,
            until: self.now + TimeDelta::seconds(secs),
        });
        if self.toasts.len() > MAX_TOASTS {
            let extra = self.toasts.len() - MAX_TOASTS;
            self.toasts.drain(..extra);
        }
        self.dirty = true;
    }

    /// Tenants shown by the dashboard and the picker, with a list view's filter applied.
    pub fn filtered_tenants(&self, view: &ListView) -> Vec<&Tenant> {
        let all = self.tenants.data.as_deref().unwrap_or_default();
        let f = view.filter.to_lowercase();
        all.iter()
            .filter(|t| {
                f.is_empty()
                    || t.name.to_lowercase().contains(&f)
                    || t.slug.to_lowercase().contains(&f)
            })
            .collect()
    }

    /// Stages in pipeline order, with the pipeline view's filter applied, and their indices
    /// in the full list (reordering works on the full list).
    pub fn filtered_stages(&self) -> Vec<(usize, &StageSummary)> {
        let all = self.stages.data.as_deref().unwrap_or_default();
        let f = self.pipeline.filter.to_lowercase();
        all.iter()
            .enumerate()
            .filter(|(_, s)| f.is_empty() || s.name.to_lowercase().contains(&f))
            .collect()
    }

    pub fn selected_stage(&self) -> Option<(usize, &StageSummary)> {
        self.filtered_stages().get(self.pipeline.selected).copied()
    }

    /// Keys with the keys view's filter (label or prefix) applied, newest first.
    pub fn filtered_keys(&self) -> Vec<&ApiKey> {
        let all = self.keys.data.as_deref().unwrap_or_default();
        let f = self.keys_view.filter.to_lowercase();
        all.iter()
            .filter(|k| {
                f.is_empty()
                    || k.label.to_lowercase().contains(&f)
                    || k.prefix.to_lowercase().contains(&f)
            })
            .collect()
    }

    pub fn selected_key(&self) -> Option<&ApiKey> {
        self.filtered_keys().get(self.keys_view.selected).copied()
    }

    /// Dashboard rows with the dashboard's filter (tenant name or slug) applied.
    pub fn filtered_dash(&self) -> Vec<&TenantDashboard> {
        let f = self.dashboard.filter.to_lowercase();
        self.dash
            .data
            .iter()
            .flat_map(|d| d.tenants.iter())
            .filter(|t| {
                f.is_empty()
                    || t.tenant.name.to_lowercase().contains(&f)
                    || t.tenant.slug.to_lowercase().contains(&f)
            })
            .collect()
    }

    pub fn lead_rows(&self) -> &[Lead] {
        self.leads.data.as_deref().unwrap_or_default()
    }

    pub fn selected_lead(&self) -> Option<&Lead> {
        self.lead_rows().get(self.leads_view.list.selected)
    }

    /// A stage's name from the loaded pipeline.
    pub fn stage_name(&self, id: Uuid) -> Option<&str> {
        self.stages
            .data
            .iter()
            .flatten()
            .find(|s| s.id == id)
            .map(|s| s.name.as_str())
    }

    /// Breaches with the breaches view's filter (tenant, name, e-mail, phone) applied.
    pub fn filtered_breaches(&self) -> Vec<&Breach> {
        let f = self.breaches_view.filter.to_lowercase();
        self.breaches
            .data
            .iter()
            .flatten()
            .filter(|b| {
                f.is_empty()
                    || [
                        Some(&b.tenant.name),
                        Some(&b.tenant.slug),
                        b.name.as_ref(),
                        b.email.as_ref(),
                        b.phone.as_ref(),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|v| v.to_lowercase().contains(&f))
            })
            .collect()
    }

    /// The Platform screen's rows in cursor order.
    pub fn platform_rows(&self) -> Vec<PlatformRow> {
        let stages = self
            .platform
            .data
            .as_ref()
            .map_or(0, |p| p.default_stages.len());
        PlatformField::ALL
            .iter()
            .map(|f| PlatformRow::Field(*f))
            .chain((0..stages).map(PlatformRow::Stage))
            .collect()
    }

    pub fn platform_row(&self) -> Option<PlatformRow> {
        self.platform_rows()
            .get(self.platform_view.selected)
            .copied()
    }

    pub fn all_lead_rows(&self) -> &[LeadWithTenant] {
        self.all_leads.data.as_deref().unwrap_or_default()
    }

    pub fn selected_all_lead(&self) -> Option<&LeadWithTenant> {
        self.all_lead_rows().get(self.all_leads_view.list.selected)
    }

    /// Usage rows with the usage view's filter (tenant name or slug) applied.
    pub fn filtered_usage(&self) -> Vec<&crate::platform::TenantUsage> {
        let f = self.usage_view.filter.to_lowercase();
        self.usage
            .data
            .iter()
            .flat_map(|u| u.tenants.iter())
            .filter(|t| {
                f.is_empty()
                    || t.tenant.name.to_lowercase().contains(&f)
                    || t.tenant.slug.to_lowercase().contains(&f)
            })
            .collect()
    }
}
