//! The parts of [`crate::app::State`] that are not a screen's: the connection, fetched data and its
//! request bookkeeping, list views, toasts and the live stream.

use chrono::{DateTime, Utc};

use super::Resource;

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

    /// Puts the cursor on the row `pending` names once `ids` (the rows shown, in order)
    /// has it, and forgets it then: a row just created is selected when the refetched
    /// list brings it.
    pub fn focus(&mut self, pending: &mut Option<uuid::Uuid>, ids: &[uuid::Uuid]) {
        let Some(id) = *pending else {
            return;
        };
        if let Some(pos) = ids.iter().position(|x| *x == id) {
            self.selected = pos;
            *pending = None;
        }
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
    /// Something the operator must not miss (a new SLA breach).
    Alert,
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
