//! Everything the console knows. Only [`crate::app::update`] changes it; the UI only reads it.
//! What a screen shows lives in its component's own type (`crate::components`); this holds
//! what the app around them needs: the connection, navigation, tenant, overlays, toasts,
//! and the request bookkeeping.

use chrono::{DateTime, TimeDelta, Utc};
use echo5_core::tenants::TenantRef;
use std::collections::HashMap;

use super::overlay::Overlay;
pub use crate::components::{Resource, Screen};
use crate::components::{
    analytics, dashboard, keys, leads, logs, platform_settings, settings, sla, stages, tenants,
    usage,
};

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

/// The request bookkeeping every [`Remote`] has, whatever it holds: what a fetch routed
/// through the registry needs without knowing the data's type.
pub trait RemoteStatus {
    fn inflight_mut(&mut self) -> &mut Option<u64>;
    fn error_mut(&mut self) -> &mut Option<String>;
}

impl<T> RemoteStatus for Remote<T> {
    fn inflight_mut(&mut self) -> &mut Option<u64> {
        &mut self.inflight
    }

    fn error_mut(&mut self) -> &mut Option<String> {
        &mut self.error
    }
}

impl<T> Remote<T> {
    /// A fresh answer: shown from now on, and whatever error came before is gone.
    pub fn store(&mut self, data: T, now: DateTime<Utc>) {
        self.data = Some(data);
        self.updated_at = Some(now);
        self.error = None;
    }
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
    pub live: Live,

    // What each component owns, under the component's name.
    pub tenants: tenants::Tenants,
    pub dashboard: dashboard::Dashboard,
    pub stages: stages::Stages,
    pub settings: settings::Settings,
    pub keys: keys::Keys,
    pub leads: leads::Leads,
    pub all_leads: leads::all::AllLeads,
    pub sla: sla::Sla,
    pub analytics: analytics::Analytics,
    pub platform_settings: platform_settings::Platform,
    pub usage: usage::Usage,
    pub logs: logs::Logs,

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
            live: Live::default(),
            tenants: Default::default(),
            dashboard: Default::default(),
            stages: Default::default(),
            settings: Default::default(),
            keys: Default::default(),
            leads: Default::default(),
            all_leads: Default::default(),
            sla: Default::default(),
            analytics: Default::default(),
            platform_settings: Default::default(),
            usage: usage::Usage::new(now),
            logs: Default::default(),
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
}
