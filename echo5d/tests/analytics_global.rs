//! `GET /api/v1/analytics`: the chosen tenants' analytics summed, beside each tenant's
//! own, against the per-tenant endpoint's answers for the same range.

mod common;

use chrono::TimeDelta;
use common::{TestServer, assert_error, t0};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

async fn manual(s: &TestServer, tenant: &str, body: Value) -> Value {
    let (status, l) = s
        .post(
            &format!("/api/v1/tenants/{tenant}/leads"),
            &body.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{l}");
    l
}

async fn stage_ids(s: &TestServer, tenant: &str) -> Vec<String> {
    let (_, st) = s.get(&format!("/api/v1/tenants/{tenant}/stages")).await;
    st["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

/// Three tenants with leads of several days, sources and stages; one lead outside 7 days.
async fn seeded() -> TestServer {
    let s = TestServer::start().await;
    for name in ["Open Arms", "Caring Hearts", "Family First"] {
        s.tenant(&json!({ "name": name }).to_string()).await;
    }
    let at = |h: i64| (t0() - TimeDelta::hours(h)).to_rfc3339();
    let plan: &[(&str, i64, Option<&str>, Option<usize>)] = &[
        ("open-arms", 1, Some("google"), None),
        ("open-arms", 30, Some("google"), Some(1)),
        ("open-arms", 50, Some("facebook"), Some(4)),
        ("open-arms", 24 * 20, None, Some(5)),
        ("caring-hearts", 2, Some("google"), Some(1)),
        ("caring-hearts", 26, None, Some(4)),
        ("caring-hearts", 60, Some("bing"), None),
        ("family-first", 5, Some("bing"), Some(5)),
    ];
    for (tenant, hours, utm, move_to) in plan {
        let mut body = json!({"name": format!("{tenant} {hours}"), "created_at": at(*hours)});
        if let Some(u) = utm {
            body["utm_source"] = json!(u);
        }
        let lead = manual(&s, tenant, body).await;
        if let Some(i) = move_to {
            let st = stage_ids(&s, tenant).await;
            let (status, b) = s
                .patch(
                    &format!("/api/v1/leads/{}", lead["id"].as_str().unwrap()),
                    &json!({"stage_id": st[*i]}).to_string(),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{b}");
        }
    }
    s
}

/// The per-tenant endpoint's answer over the global answer's own range.
async fn per_tenant(s: &TestServer, slug: &str, g: &Value) -> Value {
    let q = |v: &Value| v.as_str().unwrap().replace('+', "%2B").replace(':', "%3A");
    let (status, a) = s
        .get(&format!(
            "/api/v1/tenants/{slug}/analytics?from={}&to={}",
            q(&g["from"]),
            q(&g["to"])
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    a
}

fn counts(list: &Value) -> BTreeMap<String, u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["key"].as_str().or(c["day"].as_str()).unwrap().to_string(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn add(into: &mut BTreeMap<String, u64>, from: BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k).or_default() += v;
    }
}

/// The global answer's totals equal the per-tenant answers added up, and its breakdown
/// is exactly those answers.
async fn assert_is_the_sum(s: &TestServer, g: &Value, slugs: &[&str]) {
    let by_tenant = g["by_tenant"].as_array().unwrap();
    let mut got: Vec<&str> = by_tenant
        .iter()
        .map(|t| t["tenant"]["slug"].as_str().unwrap())
        .collect();
    got.sort();
    let mut want = slugs.to_vec();
    want.sort();
    assert_eq!(got, want);
    let (mut total, mut won, mut contacted) = (0u64, 0u64, 0u64);
    let (mut src, mut utm, mut days) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for slug in slugs {
        let a = per_tenant(s, slug, g).await;
        let part = by_tenant
            .iter()
            .find(|t| t["tenant"]["slug"] == *slug)
            .unwrap();
        // Its own answer, but for the median and p90 minutes to first contact, which the
        // kept counts do not hold (null here, in the per-tenant answer).
        let mut own = a.clone();
        own["first_contact"]["median_minutes"] = Value::Null;
        own["first_contact"]["p90_minutes"] = Value::Null;
        assert_eq!(
            part["analytics"], own,
            "{slug}: the breakdown is its own answer"
        );
        total += a["total"].as_u64().unwrap();
        won += a["by_stage"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|st| st["kind"] == "won")
            .map(|st| st["count"].as_u64().unwrap())
            .sum::<u64>();
        contacted += a["first_contact"]["contacted"].as_u64().unwrap();
        add(&mut src, counts(&a["by_source"]));
        add(&mut utm, counts(&a["by_utm_source"]));
        add(&mut days, counts(&a["per_day"]));
    }
    let t = &g["totals"];
    assert!(total > 0, "the test set has leads");
    assert_eq!(t["total"], total);
    assert_eq!(t["by_kind"][1], json!({"kind": "won", "count": won}));
    assert_eq!(t["won_rate"], json!(won as f64 / total as f64));
    assert_eq!(t["first_contact"]["contacted"], contacted);
    assert_eq!(t["first_contact"]["median_minutes"], Value::Null);
    assert_eq!(counts(&t["by_source"]), src);
    assert_eq!(counts(&t["by_utm_source"]), utm);
    assert_eq!(counts(&t["per_day"]), days);
    let stage_total: u64 = t["by_stage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["count"].as_u64().unwrap())
        .sum();
    assert_eq!(stage_total, total, "every lead sits in one stage");
}

#[tokio::test]
async fn all_tenants_sum_to_the_per_tenant_answers() {
    let s = seeded().await;
    let (status, g) = s.get("/api/v1/analytics").await;
    assert_eq!(status, StatusCode::OK, "{g}");
    assert_eq!(g["days"], 30);
    assert_eq!(g["totals"]["total"], 8);
    assert_is_the_sum(&s, &g, &["open-arms", "caring-hearts", "family-first"]).await;
    // By name: Caring Hearts, Family First, Open Arms.
    assert_eq!(g["by_tenant"][0]["tenant"]["name"], "Caring Hearts");
    s.stop().await;
}

#[tokio::test]
async fn a_chosen_set_and_a_shorter_range_sum_to_their_answers() {
    let s = seeded().await;
    let (_, oa) = s.get("/api/v1/tenants/open-arms").await;
    // One by id, one by slug, one repeated.
    let (status, g) = s
        .get(&format!(
            "/api/v1/analytics?tenant={},caring-hearts,open-arms&days=7",
            oa["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{g}");
    assert_eq!(g["days"], 7);
    assert_eq!(
        g["totals"]["total"], 6,
        "Open Arms' 20-day-old lead is out of 7 days; Family First not chosen"
    );
    // Whole UTC days: today and the six before it, midnight to midnight.
    assert_eq!(g["totals"]["per_day"].as_array().unwrap().len(), 7);
    let day = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .to_utc()
    };
    let (from, to) = (day(&g["from"]), day(&g["to"]));
    assert_eq!(to - from, TimeDelta::days(7));
    assert_eq!(from.time(), chrono::NaiveTime::MIN, "{}", g["from"]);
    assert!(to > t0() && to - t0() <= TimeDelta::days(1), "{}", g["to"]);
    assert_is_the_sum(&s, &g, &["open-arms", "caring-hearts"]).await;
    s.stop().await;
}

#[tokio::test]
async fn unknown_tenants_and_bad_days_are_refused_by_name() {
    let s = seeded().await;
    let r = s
        .get("/api/v1/analytics?tenant=open-arms,nobody-here")
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found", None);
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nobody-here"),
        "{}",
        r.1
    );
    for bad in ["0", "-3", "abc", "3651"] {
        assert_error(
            &s.get(&format!("/api/v1/analytics?days={bad}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_range",
            Some("days"),
        );
    }
    let (status, body) = s.get("/api/v1/analytics?from=2026-01-01").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_query");
    s.stop().await;
}

#[tokio::test]
async fn it_needs_the_admin_token() {
    let s = TestServer::start().await;
    let r = s
        .client
        .get(s.url("/api/v1/analytics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}
