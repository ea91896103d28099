//! The live event stream: a broadcast channel for connected clients plus a ring of recent
//! events so a client that reconnects with `Last-Event-ID` misses nothing recent.
//!
//! [`EventBus::publish`] is the one way out: every write's typed [`Change`] is numbered and
//! stamped here, kept in the ring as it is, and turned into the wire [`Event`] only for a
//! client that reads it.

use chrono::{DateTime, Utc};
use echo5_core::events::{Change, Changed, Event};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Events kept for `Last-Event-ID` resume.
pub const RING: usize = 1024;

pub struct EventBus {
    tx: broadcast::Sender<Arc<Announced>>,
    /// Flips to true at shutdown so open streams end and the server can drain.
    closed: tokio::sync::watch::Sender<bool>,
    state: Mutex<Ring>,
    clock: std::sync::Arc<dyn echo5_core::clock::Clock>,
}

struct Ring {
    next_id: u64,
    recent: VecDeque<Published>,
}

/// A change as the ring keeps it: typed, so publishing with no one listening builds no JSON.
struct Published {
    id: u64,
    at: DateTime<Utc>,
    change: Change,
}

impl Published {
    fn event(&self) -> Event {
        self.change.event(self.id, self.at)
    }

    fn announced(&self) -> Arc<Announced> {
        Arc::new(Announced {
            event: self.event(),
            change: self.change.clone(),
        })
    }
}

/// What a stream receives: the wire event, and the typed change it came from, which says
/// whom the event concerns ([`Change::visible_to`]) without reading the JSON. Reads as the
/// [`Event`] it carries.
#[derive(Debug)]
pub struct Announced {
    pub event: Event,
    pub change: Change,
}

impl std::ops::Deref for Announced {
    type Target = Event;

    fn deref(&self) -> &Event {
        &self.event
    }
}

impl EventBus {
    pub fn new(clock: std::sync::Arc<dyn echo5_core::clock::Clock>) -> EventBus {
        let (tx, _) = broadcast::channel(RING);
        EventBus {
            tx,
            closed: tokio::sync::watch::channel(false).0,
            state: Mutex::new(Ring {
                next_id: 1,
                recent: VecDeque::with_capacity(RING),
            }),
            clock,
        }
    }

    /// Announces one change: the next id, the time now, kept for resume and sent to every
    /// open stream.
    pub fn publish(&self, change: Change) {
        let mut ring = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let published = Published {
            id: ring.next_id,
            at: self.clock.now(),
            change,
        };
        ring.next_id += 1;
        if ring.recent.len() == RING {
            ring.recent.pop_front();
        }
        // Sent under the lock so ids reach subscribers in order. With no one listening (the
        // usual case at full ingest) no event is built at all.
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(published.announced());
        }
        ring.recent.push_back(published);
    }

    /// Announces every change a write made, in order, and hands back the write's value.
    pub fn publish_all<T>(&self, changed: Changed<T>) -> T {
        for change in changed.changes {
            self.publish(change);
        }
        changed.value
    }

    /// Ends every open stream (at shutdown: graceful shutdown waits for open connections,
    /// and an event stream never finishes by itself).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Resolves once [`EventBus::close`] was called.
    pub fn closed(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Where a stream resumes for a client's `Last-Event-ID`: the id itself when this process
    /// issued it, 0 (everything kept) when it did not. Ids start at 1 with each process, so
    /// an id from before a restart would otherwise hide every new event until the count
    /// passed it.
    pub fn resume_after(&self, last_id: u64) -> u64 {
        let ring = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if last_id < ring.next_id { last_id } else { 0 }
    }

    /// A live receiver, and the recent events after `last_id` it would otherwise miss.
    /// Subscribing under the lock means no event falls between the two.
    pub fn subscribe(
        &self,
        last_id: Option<u64>,
    ) -> (Vec<Arc<Announced>>, broadcast::Receiver<Arc<Announced>>) {
        let ring = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let rx = self.tx.subscribe();
        let replay = match last_id {
            Some(id) => ring
                .recent
                .iter()
                .filter(|p| p.id > id)
                .map(Published::announced)
                .collect(),
            None => Vec::new(),
        };
        (replay, rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use echo5_core::clock::SystemClock;
    use echo5_core::events::TenantPart;
    use echo5_core::tenants::TenantRef;

    fn change(n: usize) -> Change {
        let tenant = TenantRef {
            id: uuid::Uuid::nil(),
            slug: format!("t{n}"),
            name: format!("Tenant {n}"),
        };
        Change::TenantUpdated {
            tenant,
            part: TenantPart::Settings,
        }
    }

    #[test]
    fn resume_replays_what_was_missed_then_goes_live() {
        let bus = EventBus::new(std::sync::Arc::new(SystemClock));
        for i in 0..5 {
            bus.publish(change(i));
        }
        let (replay, mut rx) = bus.subscribe(Some(3));
        assert_eq!(replay.iter().map(|e| e.id).collect::<Vec<_>>(), [4, 5]);
        bus.publish(Change::LeadUpdated {
            tenant: TenantRef {
                id: uuid::Uuid::nil(),
                slug: "t".into(),
                name: "T".into(),
            },
            lead_id: uuid::Uuid::nil(),
            changed: vec!["notes"],
            assigned_to: None,
            was_assigned_to: None,
        });
        let live = rx.try_recv().unwrap();
        assert_eq!((live.id, live.kind.as_str()), (6, "lead.updated"));
        let (none, _) = bus.subscribe(None);
        assert!(none.is_empty(), "no Last-Event-ID: live only");
    }

    #[test]
    fn the_ring_is_bounded() {
        let bus = EventBus::new(std::sync::Arc::new(SystemClock));
        for i in 0..(RING + 10) {
            bus.publish(change(i));
        }
        let (replay, _) = bus.subscribe(Some(0));
        assert_eq!(replay.len(), RING);
        assert_eq!(replay[0].id, 11);
    }
}
