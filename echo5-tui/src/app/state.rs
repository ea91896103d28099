//! Everything the console knows. Only [`crate::app::update`] changes it; the UI only reads it.

use chrono::{DateTime, TimeDelta, Utc};
use echo5_core::apikey::ApiKey;
use echo5_core::stage::StageSummary;
use echo5_core::tenant::{Tenant, TenantRef, TenantSettings};
use std::collections::HashMap;
use uuid::Uuid;

use super::overlay::Overlay;

/// The screens, in the order Tab and the number keys use. Leads, SLA breaches and Analytics
/// join this list as their endpoints land.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Dashboard,
    Tenants,
    Pipeline,
    Settings,
    Keys,
}

impl Screen {
    pub const ALL: [Screen; 5] = [
        Screen::Dashboard,
        Screen::Tenants,
        Screen::Pipeline,
        Screen::Settings,
        Screen::Keys,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Dashboard => "Dashboard",
            Screen::Tenants => "Tenants",
            Screen::Pipeline => "Pipeline",
            Screen::Settings => "Settings",
            Screen::Keys => "Keys",
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
        }
    }

    /// Per-tenant screens cannot show anything until a tenant is chosen.
    pub fn needs_tenant(self) -> bool {
        matches!(self, Screen::Pipeline | Screen::Settings | Screen::Keys)
    }

    pub fn index(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn by_number(n: u32) -> Option<Screen> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        Screen::ALL.get(i).copied()
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
}
