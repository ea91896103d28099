//! The live event stream as state: when to (re)connect, from which event id, and which
//! fetches an event calls for. The connection itself is the main loop's; this is pure.

use echo5_core::events::EventKind;

use super::action::StreamMsg;
use super::effect::Effect;
use super::request::{backoff, fetch, in_flight};
use super::state::LiveStatus;
use super::{Resource, State};

/// The kind the daemon gives a gap in the stream: events were missed.
pub const LAGGED: &str = "lagged";

/// Connects at start-up, and again once the backoff after a failure has passed.
pub(crate) fn on_tick(state: &mut State) -> Vec<Effect> {
    let due = match state.live.status {
        LiveStatus::Off => true,
        LiveStatus::Disconnected => state.live.retry_at.is_none_or(|t| t <= state.now),
        LiveStatus::Connecting | LiveStatus::Connected => false,
    };
    if !due {
        return Vec::new();
    }
    open(state)
}

/// Opens the stream now unless it is open: the daemon answered again after failing, the
/// token changed, or the operator pressed `^R`. Waiting out the backoff then would leave the
/// stream off (up to 30 s) while everything else works; an attempt still connecting is
/// replaced, since it may hang on a daemon that went away.
pub(crate) fn reconnect_now(state: &mut State) -> Vec<Effect> {
    if state.live.status == LiveStatus::Connected {
        return Vec::new();
    }
    state.dirty = true;
    open(state)
}

fn open(state: &mut State) -> Vec<Effect> {
    state.live.conn_id += 1;
    state.live.status = LiveStatus::Connecting;
    state.live.retry_at = None;
    vec![Effect::Stream {
        conn_id: state.live.conn_id,
        last_event_id: state.live.last_event_id,
    }]
}

pub(crate) fn on_stream(state: &mut State, conn_id: u64, msg: StreamMsg) -> Vec<Effect> {
    if conn_id != state.live.conn_id {
        // From a connection already replaced.
        return Vec::new();
    }
    match msg {
        StreamMsg::Opened => {
            state.live.status = LiveStatus::Connected;
            state.live.failures = 0;
            state.dirty = true;
            // Whatever changed while the stream was away may not be replayed (the daemon
            // keeps a bounded backlog): fetch the screen's live data once.
            let resume = state.live.last_event_id.is_some();
            if resume {
                let mut res = live_resources(state, None);
                res.extend(state.background(Some(LiveEvent::ANY)));
                return refetch(state, &res);
            }
            Vec::new()
        }
        StreamMsg::Closed { .. } => {
            state.live.failures += 1;
            state.live.status = LiveStatus::Disconnected;
            state.live.retry_at = Some(state.now + backoff(state.live.failures));
            state.dirty = true;
            Vec::new()
        }
        StreamMsg::Event { id, kind, tenant } => {
            if let Some(id) = id {
                state.live.last_event_id = Some(id);
            }
            let event = if kind == LAGGED {
                None
            } else {
                Some((kind.as_str(), tenant))
            };
            let mut res = live_resources(state, event);
            // What is kept loaded off screen (the breach count) hears of it too.
            res.extend(state.background(Some(live_event(state, event))));
            // The tenant list feeds `:tenant` and its completion on every screen: a client
            // created or renamed elsewhere is there at once, whatever is on screen.
            if (kind == LAGGED || Topic::of(&kind).tenant_updated)
                && state.tenants.remote.data.is_some()
                && !res.contains(&Resource::Tenants)
            {
                res.push(Resource::Tenants);
            }
            refetch(state, &res)
        }
    }
}

/// What the current screen shows that an event of `kind` about `tenant` changes; with
/// `None`, everything live on the screen.
fn live_resources(state: &State, event: Option<(&str, Option<uuid::Uuid>)>) -> Vec<Resource> {
    state
        .screen
        .component()
        .live(state, live_event(state, event))
}

/// An event as components see it; `None` (resumed or lagged) is every kind.
fn live_event(state: &State, event: Option<(&str, Option<uuid::Uuid>)>) -> LiveEvent {
    let selected = state.tenant.as_ref().map(|t| t.id);
    match event {
        // An event names its tenant; one about another tenant does not concern a
        // per-tenant view (an event without a tenant might concern any).
        Some((kind, tenant)) => LiveEvent {
            topic: Topic::of(kind),
            ours: tenant.is_none() || tenant == selected,
        },
        None => LiveEvent::ANY,
    }
}

/// Fetches each resource now, or, when a fetch of it is already under way, once more after
/// that answer: a burst of events costs at most two fetches.
fn refetch(state: &mut State, res: &[Resource]) -> Vec<Effect> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for r in res {
        // The screen and the background may both ask for it: once is enough.
        if seen.contains(r) {
            continue;
        }
        seen.push(*r);
        if in_flight(state, *r) {
            if !state.live.pending.contains(r) {
                state.live.pending.push(*r);
            }
        } else {
            out.extend(fetch(state, *r, false));
        }
    }
    out
}

/// What a live event is about, read from its kind: the one place the console interprets
/// daemon event kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topic {
    /// Every kind (`None` event: the stream resumed or lagged).
    pub any: bool,
    /// A lead or an SLA breach.
    pub lead_or_sla: bool,
    /// Who is in breach may have changed: a breach, a lead moved, a client's SLA hours.
    pub breaches: bool,
    pub tenant_updated: bool,
    pub key: bool,
}

impl Topic {
    pub const ANY: Topic = Topic {
        any: true,
        lead_or_sla: true,
        breaches: true,
        tenant_updated: true,
        key: true,
    };

    /// A kind this console does not know (a newer daemon) counts as every kind: one refetch
    /// of what is on screen costs less than missing a change.
    pub fn of(kind: &str) -> Topic {
        let Some(kind) = EventKind::parse(kind) else {
            return Topic::ANY;
        };
        let none = Topic {
            any: false,
            lead_or_sla: false,
            breaches: false,
            tenant_updated: false,
            key: false,
        };
        match kind {
            EventKind::LeadCreated => Topic {
                lead_or_sla: true,
                ..none
            },
            EventKind::LeadUpdated | EventKind::LeadDeleted | EventKind::SlaBreached => Topic {
                lead_or_sla: true,
                breaches: true,
                ..none
            },
            EventKind::TenantUpdated => Topic {
                tenant_updated: true,
                breaches: true,
                ..none
            },
            EventKind::KeyCreated | EventKind::KeyRotated | EventKind::KeyRevoked => {
                Topic { key: true, ..none }
            }
            EventKind::PlatformUpdated => none,
        }
    }
}

/// A live event as a component sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveEvent {
    pub topic: Topic,
    /// Whether it may concern the selected tenant: it names it, names none, or is `ANY`.
    pub ours: bool,
}

impl LiveEvent {
    /// Anything may have changed: the stream resumed or lagged.
    pub const ANY: LiveEvent = LiveEvent {
        topic: Topic::ANY,
        ours: true,
    };
}
