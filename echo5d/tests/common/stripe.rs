//! Reading what a Stripe stand-in (`receiver::Receiver`) was sent: the meter events by
//! identifier, checked the way Stripe documents the call, and waiting for the reports.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::TimeDelta;

use super::TestServer;
use super::receiver::Receiver;

pub const METER_EVENTS: &str = "/v1/billing/meter_events";

/// A daemon whose Stripe is the stand-in, reachable on loopback, retrying every second.
pub fn stripe_args(a: &mut echo5d::config::ServeArgs, stripe_url: String) {
    a.outbound.outbound_allow_cidr = vec!["127.0.0.0/8".parse().unwrap()];
    a.outbound.outbound_retry_schedule =
        echo5_core::outbox::RetrySchedule::parse("0,1,1,1,1,1,1,1,1,1").unwrap();
    a.outbound.stripe_api_url = stripe_url;
}

/// The meter events received, by identifier: (customer, value). Every attempt is a form
/// post with an integer `timestamp` and value, and the identifier as its
/// `Idempotency-Key`; a retry carries the same report.
pub fn meter_events(r: &Receiver) -> BTreeMap<String, (String, u64)> {
    let mut out = BTreeMap::new();
    for req in r.received(METER_EVENTS) {
        assert!(
            req.header("content-type")
                .starts_with("application/x-www-form-urlencoded"),
            "a form post"
        );
        let form: HashMap<String, String> =
            serde_urlencoded::from_bytes(&req.body).expect("a form body");
        assert!(form["timestamp"].parse::<i64>().is_ok(), "{form:?}");
        let id = form["identifier"].clone();
        assert_eq!(
            req.header("idempotency-key"),
            id,
            "Stripe's idempotency key is the report's identifier"
        );
        let entry = (
            form["payload[stripe_customer_id]"].clone(),
            form["payload[value]"]
                .parse::<u64>()
                .expect("an integer value"),
        );
        if let Some(seen) = out.get(&id) {
            assert_eq!(seen, &entry, "a retry carries the same report");
        }
        out.insert(id, entry);
    }
    out
}

/// Moves the manual clock along the retry schedule until the stand-in's distinct reports
/// add up to `sum` and no report task is left unsent.
pub async fn until_reported(s: &TestServer, r: &Receiver, sum: u64) {
    for _ in 0..200 {
        let got: u64 = meter_events(r).values().map(|(_, v)| v).sum();
        let pending = s
            .state
            .store
            .tasks(Default::default(), 1000)
            .await
            .unwrap()
            .iter()
            .any(|t| {
                t.kind == "stripe_meter_event"
                    && t.status != echo5_core::outbox_tasks::TaskStatus::Succeeded
            });
        if got == sum && !pending {
            return;
        }
        s.clock.advance(TimeDelta::seconds(2));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("reports: {:?}", meter_events(r));
}
