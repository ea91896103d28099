//! Business hours on the SLA clock: around the boundaries (a weekend, a deadline used up at
//! closing, a millisecond either side), core's rule, the monitor's recorded alerts, the
//! breach list (paged through deadlines many leads share), a lead's `in_breach`, the
//! `breached` filter and the dashboard all name the same leads; the setting is validated,
//! audited and cleared with `null`.

mod common;

use chrono::{DateTime, Utc};
use common::TestServer;
use echo5_core::business_hours::BusinessHours;
use echo5_core::settings::Settings;
use echo5_core::sla::{SlaFacts, SlaRule};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const HOURS: &str = r#"{"timezone":"America/New_York","week":{"mon":["08:00","18:00"],"tue":["08:00","18:00"],"wed":["08:00","18:00"],"thu":["08:00","18:00"],"fri":["08:00","18:00"]},"holidays":["2026-06-09"]}"#;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

async fn sla_passes(s: &TestServer) -> u64 {
    let (status, ready) = s.get("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    ready["sla_passes"].as_u64().expect("sla_passes")
}

/// Waits for two monitor passes that began after this call.
async fn passes_go_by(s: &TestServer) {
    let from = sla_passes(s).await + 1;
    let deadline = Instant::now() + Duration::from_secs(30);
    while sla_passes(s).await < from + 2 {
        assert!(Instant::now() < deadline, "the monitor stopped passing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every lead of the tenant's breach list, paged `limit` at a time: (id, deadline) in
/// list order.
async fn breach_list(s: &TestServer, limit: u32) -> Vec<(String, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/tenants/open-arms/sla/breaches?limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = s.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for b in page["data"].as_array().unwrap() {
            out.push((
                b["lead_id"].as_str().unwrap().to_string(),
                at(b["deadline"].as_str().unwrap()),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

struct Case {
    id: String,
    created: DateTime<Utc>,
}

/// Checks one instant: every view of "in breach" names the leads core's rule names.
async fn all_agree(s: &TestServer, rule: &SlaRule, leads: &[Case], now: DateTime<Utc>) {
    s.clock.set(now);
    passes_go_by(s).await;
    let facts = |c: &Case| SlaFacts {
        created_at: c.created,
        in_intake: true,
        is_spam: false,
        is_duplicate: false,
    };
    let core: BTreeSet<String> = leads
        .iter()
        .filter(|c| rule.is_breached(now, facts(c)))
        .map(|c| c.id.clone())
        .collect();
    // The monitor's alert set.
    let mut alerted = BTreeSet::new();
    for c in leads {
        if s.state
            .store
            .alert_state(c.id.parse().unwrap())
            .await
            .unwrap()
            .is_some()
        {
            alerted.insert(c.id.clone());
        }
    }
    assert_eq!(alerted, core, "the monitor's alerts at {now}");
    // The breach list, two a page: each lead once, by (deadline, id), deadlines from core.
    let list = breach_list(s, 2).await;
    let listed: BTreeSet<String> = list.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(listed, core, "the breach list at {now}");
    assert_eq!(list.len(), listed.len(), "no lead twice: {list:?}");
    let mut sorted = list.clone();
    sorted.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    assert_eq!(list, sorted, "most overdue first, then by id");
    for (id, deadline) in &list {
        let c = leads.iter().find(|c| &c.id == id).unwrap();
        assert_eq!(*deadline, rule.deadline(c.created), "deadline of {id}");
    }
    // A lead's own SLA state.
    for c in leads {
        let (_, l) = s.get(&format!("/api/v1/leads/{}", c.id)).await;
        assert_eq!(
            l["in_breach"],
            json!(core.contains(&c.id)),
            "{} at {now}",
            c.id
        );
    }
    // The `breached` filter, both ways.
    let (_, page) = s
        .get("/api/v1/tenants/open-arms/leads?breached=true&limit=100")
        .await;
    let filtered: BTreeSet<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(filtered, core, "breached=true at {now}");
    let (_, page) = s
        .get("/api/v1/tenants/open-arms/leads?breached=false&limit=100")
        .await;
    assert_eq!(
        page["data"].as_array().unwrap().len(),
        leads.len() - core.len(),
        "breached=false at {now}"
    );
    // The dashboard's count.
    let (_, dash) = s.get("/api/v1/dashboard").await;
    let row = dash["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"]["slug"] == "open-arms")
        .unwrap()
        .clone();
    assert_eq!(row["in_breach"], json!(core.len()), "dashboard at {now}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_the_monitor_and_the_breach_list_agree_around_the_boundaries() {
    let s = TestServer::start_with(|a| a.sla_interval = 1).await;
    // Saturday 6 June 2026, 10:00 in New York (EDT, -4).
    s.clock.set(at("2026-06-06T10:00:00-04:00"));
    s.tenant(&format!(
        r#"{{"name":"Open Arms","settings":{{"sla_hours":4,"business_hours":{HOURS}}}}}"#
    ))
    .await;
    let bh: BusinessHours = serde_json::from_str(HOURS).unwrap();
    let rule = SlaRule::of(&Settings {
        sla_hours: 4,
        business_hours: Some(bh),
        ..Settings::default()
    });
    let arrivals = [
        "2026-06-04T17:30:00-04:00",     // Thursday evening: Friday 11:30
        "2026-06-05T07:00:00-04:00",     // before Friday's opening: Friday 12:00
        "2026-06-05T13:59:00-04:00",     // Friday 17:59
        "2026-06-05T14:00:00-04:00",     // used up at Friday's closing
        "2026-06-05T14:00:00.001-04:00", // a millisecond later: Monday 08:00:00.001
        "2026-06-05T17:30:00-04:00",     // the contract's example: Monday 11:30
        "2026-06-05T19:00:00-04:00",     // Friday night: Monday 12:00
        "2026-06-06T08:00:00-04:00",     // Saturday: Monday 12:00
        "2026-06-06T09:00:00-04:00",     // Saturday: Monday 12:00
        "2026-06-06T09:30:00-04:00",     // Saturday: Monday 12:00
    ];
    let mut leads = Vec::new();
    for (i, a) in arrivals.iter().enumerate() {
        let (status, l) = s
            .post(
                "/api/v1/tenants/open-arms/leads",
                &json!({"name": format!("Lead {i}"), "created_at": a}).to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{l}");
        leads.push(Case {
            id: l["id"].as_str().unwrap().to_string(),
            created: at(a),
        });
    }
    // Core's own answers at the boundaries the table names.
    assert_eq!(
        rule.deadline(at("2026-06-05T17:30:00-04:00")),
        at("2026-06-08T11:30:00-04:00")
    );
    assert_eq!(
        rule.deadline(at("2026-06-05T14:00:00-04:00")),
        at("2026-06-05T18:00:00-04:00")
    );
    for now in [
        "2026-06-06T10:00:00-04:00",     // Saturday: Friday's four are in breach
        "2026-06-08T08:00:00-04:00",     // Monday's opening, exactly
        "2026-06-08T08:00:00.002-04:00", // the millisecond lead has run out
        "2026-06-08T11:30:00-04:00",     // the example's deadline itself: not yet
        "2026-06-08T11:30:00.001-04:00", // just after it
        "2026-06-08T12:00:30-04:00",     // every weekend arrival, one shared deadline
    ] {
        all_agree(&s, &rule, &leads, at(now)).await;
    }
    // Tuesday 9 June is a holiday: a Monday 17:00 lead breaches Wednesday 11:00.
    assert_eq!(
        rule.deadline(at("2026-06-08T17:00:00-04:00")),
        at("2026-06-10T11:00:00-04:00")
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn business_hours_are_validated_audited_and_cleared_with_null() {
    let s = TestServer::start().await;
    s.tenant(r#"{"name":"Open Arms","settings":{"sla_hours":4}}"#)
        .await;
    let path = "/api/v1/tenants/open-arms/settings";
    let (status, got) = s.get(path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["business_hours"], Value::Null);
    for (body, field, code) in [
        (
            r#"{"business_hours":{"timezone":"Mars/Olympus","week":{"mon":["08:00","18:00"]}}}"#,
            "business_hours.timezone",
            "unknown_time_zone",
        ),
        (
            r#"{"business_hours":{"timezone":"UTC","week":{"mon":["08:00","25:00"]}}}"#,
            "business_hours.week.mon[1]",
            "invalid_time",
        ),
        (
            r#"{"business_hours":{"timezone":"UTC","week":{"fri":["18:00","08:00"]}}}"#,
            "business_hours.week.fri",
            "end_before_start",
        ),
        (
            r#"{"business_hours":{"timezone":"UTC","week":{}}}"#,
            "business_hours.week",
            "no_open_hours",
        ),
        (
            r#"{"business_hours":{"timezone":"UTC","week":{"mon":["08:00","18:00"]},"holidays":["2026-13-01"]}}"#,
            "business_hours.holidays[0]",
            "invalid_date",
        ),
    ] {
        let (status, err) = s.patch(path, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert_eq!(err["error"]["field"], field, "{err}");
        assert_eq!(err["error"]["code"], code, "{err}");
    }
    let (status, got) = s
        .patch(path, &format!(r#"{{"business_hours":{HOURS}}}"#))
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["business_hours"]["timezone"], "America/New_York");
    assert_eq!(
        got["business_hours"]["week"]["mon"],
        json!(["08:00", "18:00"])
    );
    assert_eq!(got["business_hours"]["holidays"], json!(["2026-06-09"]));
    // Kept by a change of another setting; shown on the tenant too.
    let (_, got) = s.patch(path, r#"{"sla_hours":8}"#).await;
    assert_eq!(got["business_hours"]["timezone"], "America/New_York");
    let (_, t) = s.get("/api/v1/tenants/open-arms").await;
    assert_eq!(
        t["settings"]["business_hours"]["week"]["fri"],
        json!(["08:00", "18:00"])
    );
    // The audit names the field, not its value.
    let (_, audit) = s.get("/api/v1/audit?limit=10").await;
    let named = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r.to_string().contains("settings.business_hours"));
    assert!(named, "{audit}");
    let (status, got) = s.patch(path, r#"{"business_hours":null}"#).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["business_hours"], Value::Null);
    assert_eq!(got["sla_hours"], 8);
    s.stop().await;
}
