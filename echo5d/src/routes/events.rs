//! `GET /api/v1/events`: Server-Sent Events for the console.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use echo5_core::ErrorBody;
use futures_util::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

use echo5_core::authorization::Reach;

use crate::access::{self, Authorized};
use crate::state::AppState;

/// One frame of the stream as SSE clients parse it (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SseFrame {
    /// The event id, for `Last-Event-ID`.
    id: String,
    /// The event kind, e.g. `lead.created`.
    event: String,
    /// The `Event` as JSON.
    data: String,
}

fn sse(e: &echo5_core::events::Event) -> SseEvent {
    SseEvent::default()
        .id(e.id.to_string())
        .event(e.kind.clone())
        .data(serde_json::to_string(e).unwrap_or_default())
}

/// The live event stream: `lead.created`, `lead.updated`, `lead.deleted`, `sla.breached`,
/// `tenant.updated`, `key.created`, `key.rotated`, `key.revoked`, `platform.updated`.
/// Keep-alive comments every 15 s. Send `Last-Event-ID` to get the recent events missed
/// while disconnected. Each event is filtered to what the caller may see: a lead's events
/// reach a manager only for the leads assigned to them (or just taken from them).
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A stream of Server-Sent Events; each frame's `data` is an `Event` as JSON",
            content_type = "text/event-stream", body = SseFrame),
        (status = 401, description = "Missing or invalid admin token", body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    auth: Authorized,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let reach = auth.reach;
    let last = last_event_id(&headers).map(|id| state.events.resume_after(id));
    let (replay, rx) = state.events.subscribe(last);
    // A tenant's user sees their own tenant's events only; platform principals see all; a
    // manager's stream narrows further to their leads (`auth.reach`).
    let own = auth.principal.tenant();
    live_sse(
        last,
        replay,
        rx,
        stream_end(&state, &auth),
        |e| e.id,
        move |e| (visible_to(own, e) && visible(e, reach)).then(|| sse(e)),
    )
}

/// Whether an event is for a principal bound to `own` (`None`: a platform principal).
fn visible_to(own: Option<uuid::Uuid>, e: &echo5_core::events::Event) -> bool {
    match own {
        None => true,
        Some(t) => e.tenant.as_ref().is_some_and(|r| r.id == t),
    }
}

/// When a stream ends: at shutdown, and for a user's session or personal token as soon
/// as it stops working (logout, deactivation, deletion, a password change elsewhere, a
/// deleted token). Every end of credentials wakes the check (`AppState::credentials_ended`);
/// the check reads this stream's own credential again.
pub(crate) fn stream_end(state: &AppState, auth: &Authorized) -> watch::Receiver<bool> {
    let mut daemon = state.events.closed();
    if auth.principal.account().is_none() {
        return daemon;
    }
    let (tx, rx) = watch::channel(false);
    let mut ended = state.revocations();
    let state = state.clone();
    let credential = auth.credential;
    tokio::spawn(async move {
        loop {
            if *daemon.borrow() {
                break;
            }
            tokio::select! {
                // The stream is gone: nothing left to end.
                _ = tx.closed() => return,
                r = daemon.changed() => if r.is_err() { break },
                r = ended.changed() => {
                    if r.is_err() || !access::still_valid(&state, credential).await {
                        break;
                    }
                }
            }
        }
        let _ = tx.send(true);
    });
    rx
}

/// Whether a stream whose principal reaches `reach` carries this event (the rule is
/// [`echo5_core::events::Change::visible_to`]).
pub(crate) fn visible(e: &crate::events::Announced, reach: Reach) -> bool {
    e.change.visible_to(reach)
}

/// The `Last-Event-ID` header as a number, if it is one.
pub(crate) fn last_event_id(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// An SSE response that sends `replay`, then what arrives on `rx`, until `closed` says the
/// daemon is shutting down (so the server can drain). Items with an id (`id`) at or before
/// the last one sent are skipped (the replay and the channel overlap); `frame` is an item's
/// frame, `None` to leave it out. A receiver that fell behind the buffer gets a `lagged`
/// frame with the number of items skipped. Keep-alive comments every 15 s.
pub(crate) fn live_sse<T: Clone + Send + 'static>(
    last: Option<u64>,
    replay: Vec<T>,
    mut rx: broadcast::Receiver<T>,
    mut closed: watch::Receiver<bool>,
    id: impl Fn(&T) -> u64 + Send + 'static,
    frame: impl Fn(&T) -> Option<SseEvent> + Send + 'static,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let stream = async_stream::stream! {
        let mut seen = last.unwrap_or(0);
        for item in replay {
            seen = id(&item);
            if let Some(f) = frame(&item) {
                yield Ok(f);
            }
        }
        loop {
            if *closed.borrow() {
                break;
            }
            let next = tokio::select! {
                r = rx.recv() => r,
                _ = closed.changed() => break,
            };
            match next {
                Ok(item) if id(&item) > seen => {
                    seen = id(&item);
                    if let Some(f) = frame(&item) {
                        yield Ok(f);
                    }
                }
                Ok(_) => {}
                // A slow client that fell behind the buffer: tell it to resync.
                Err(RecvError::Lagged(n)) => {
                    yield Ok(SseEvent::default().event("lagged").data(n.to_string()));
                }
                Err(RecvError::Closed) => break,
            }
        }
    };
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventBus;
    use echo5_core::clock::SystemClock;
    use echo5_core::events::{Change, TenantPart};
    use echo5_core::leads::LeadSource;
    use echo5_core::tenants::TenantRef;
    use uuid::Uuid;

    /// What a manager's stream sends, replayed and live, out of a mix of everyone's events:
    /// their leads' events and the tenant's other changes, nothing of another's lead.
    #[test]
    fn a_managers_stream_carries_only_their_leads() {
        let (me, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let tenant = TenantRef {
            id: Uuid::nil(),
            slug: "open-arms".into(),
            name: "Open Arms".into(),
        };
        let created = |lead: u128, to: Option<Uuid>| Change::LeadCreated {
            tenant: tenant.clone(),
            lead_id: Uuid::from_u128(lead),
            source: LeadSource::Website,
            spam: Some(false),
            assigned_to: to,
        };
        let bus = EventBus::new(std::sync::Arc::new(SystemClock));
        let publish_mix = |bus: &EventBus| {
            bus.publish(created(10, Some(me)));
            bus.publish(created(11, Some(other)));
            bus.publish(created(12, None));
            bus.publish(Change::LeadUpdated {
                tenant: tenant.clone(),
                lead_id: Uuid::from_u128(13),
                changed: vec!["assigned_to"],
                assigned_to: Some(other),
                was_assigned_to: Some(me),
            });
            bus.publish(Change::LeadDeleted {
                tenant: tenant.clone(),
                lead_id: Uuid::from_u128(14),
                assigned_to: Some(other),
            });
            bus.publish(Change::TenantUpdated {
                tenant: tenant.clone(),
                part: TenantPart::Stages,
            });
        };
        publish_mix(&bus);
        let (replay, mut rx) = bus.subscribe(Some(0));
        publish_mix(&bus);
        let mut live = Vec::new();
        while let Ok(e) = rx.try_recv() {
            live.push(e);
        }
        for events in [replay, live] {
            let sent: Vec<(String, Option<String>)> = events
                .iter()
                .filter(|e| visible(e, Reach::AssignedTo(me)))
                .map(|e| {
                    (
                        e.kind.clone(),
                        e.data["lead_id"].as_str().map(str::to_string),
                    )
                })
                .collect();
            let lead = |n: u128| Some(Uuid::from_u128(n).to_string());
            assert_eq!(
                sent,
                vec![
                    ("lead.created".to_string(), lead(10)),
                    ("lead.updated".to_string(), lead(13)),
                    ("tenant.updated".to_string(), None),
                ]
            );
            assert_eq!(events.iter().filter(|e| visible(e, Reach::All)).count(), 6);
        }
    }
}
