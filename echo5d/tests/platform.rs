//! Platform administration: platform settings and what they change, the all-leads
//! view, usage per month. Real SQLite file, real HTTP server on a loopback port.

mod common;

use chrono::TimeDelta;
use common::{TestServer, assert_error, t0};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const JSON_CT: Option<&str> = Some("application/json");

fn stage_names(stages: &Value) -> Vec<(String, String)> {
    stages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn platform_settings_apply_to_new_tenants_and_are_validated_and_audited() {
    let s = TestServer::start().await;
    // Never set: today's built-in behaviour.
    let (st, d) = s.get("/api/v1/platform/settings").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        d,
        json!({
            "default_stages": [
                {"name":"New","kind":"open"},{"name":"Contacted","kind":"open"},
                {"name":"Qualified","kind":"open"},{"name":"Tour Scheduled","kind":"open"},
                {"name":"Won","kind":"won"},{"name":"Lost","kind":"lost"}],
            "default_sla_hours": 24, "default_spam_keywords": [], "honeypot_fields": [],
            "default_grace_hours": 24, "operator_name": null, "operator_email": null,
            "meta_verify_token": null, "meta_app_secret": {"set": false, "last4": null},
            "stripe_meter_event_name": null, "stripe_secret_key": {"set": false, "last4": null}
        })
    );
    let (old, old_key) = s.tenant_with_key(r#"{"name":"Open Arms"}"#).await;
    let trap = br#"{"name":"Bot Person","email":"bot@spam.example","company_fax":"555"}"#;
    let (_, r) = s.submit(&old_key, JSON_CT, trap).await;
    assert!(!s.lead(&r).await.is_spam, "company_fax is no honeypot yet");

    // Without the token: 401.
    let resp = s
        .client
        .get(s.url("/api/v1/platform/settings"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // PUT replaces all: every field required, unknown fields named.
    let mut full = json!({
        "default_stages": [{"name":"Inquiry","kind":"open"},{"name":"Visit","kind":"open"},
                           {"name":"Signed","kind":"won"},{"name":"Lost","kind":"lost"}],
        "default_sla_hours": 8, "default_spam_keywords": ["Casino", "crypto loan"],
        "honeypot_fields": ["company_fax"], "default_grace_hours": 2,
        "operator_name": "Echo5 Agency", "operator_email": "Ops@Echo5.Example"
    });
    let mut missing = full.clone();
    missing.as_object_mut().unwrap().remove("operator_email");
    let p = "/api/v1/platform/settings";
    assert_error(
        &s.put(p, &missing.to_string()).await,
        StatusCode::BAD_REQUEST,
        "missing_field",
        Some("operator_email"),
    );
    let mut unknown = full.clone();
    unknown["default_sla"] = json!(3);
    assert_error(
        &s.put(p, &unknown.to_string()).await,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("default_sla"),
    );
    assert_error(
        &s.patch(
            p,
            r#"{"default_stages":[{"name":"New","kind":"open","id":"x"}]}"#,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("default_stages[0].id"),
    );
    for (body, field) in [
        (r#"{"default_sla_hours":0}"#, "default_sla_hours"),
        (r#"{"default_sla_hours":721}"#, "default_sla_hours"),
        (r#"{"default_grace_hours":721}"#, "default_grace_hours"),
        (r#"{"default_stages":[]}"#, "default_stages"),
        (
            r#"{"default_stages":[{"name":"Won","kind":"won"},{"name":"New","kind":"open"}]}"#,
            "default_stages[0].kind",
        ),
        (
            r#"{"default_stages":[{"name":"New","kind":"open"},{"name":"NEW","kind":"lost"}]}"#,
            "default_stages[1].name",
        ),
        (
            r#"{"default_spam_keywords":["a\u0001b"]}"#,
            "default_spam_keywords[0]",
        ),
        (r#"{"operator_email":"not-an-address"}"#, "operator_email"),
        (r#"{"operator_name":"two\nlines"}"#, "operator_name"),
    ] {
        let got = s.patch(p, body).await;
        assert_eq!(got.0, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", got.1);
        assert_eq!(got.1["error"]["field"], field, "{body}: {}", got.1);
    }
    let long = json!({"honeypot_fields": ["x".repeat(101)]}).to_string();
    assert_eq!(
        s.patch(p, &long).await.1["error"]["field"],
        "honeypot_fields[0]"
    );
    let many = json!({"honeypot_fields": (0..501).map(|i| format!("f{i}")).collect::<Vec<_>>()});
    assert_eq!(
        s.patch(p, &many.to_string()).await.1["error"]["field"],
        "honeypot_fields"
    );
    // Nothing of that was applied.
    assert_eq!(s.get(p).await.1, d);

    let (st, after) = s.put(p, &full.to_string()).await;
    assert_eq!(st, StatusCode::OK, "{after}");
    full["default_spam_keywords"] = json!(["casino", "crypto loan"]);
    full["operator_email"] = json!("ops@echo5.example");
    // Left out of the PUT: no verify token; the app secret is kept (never set here).
    full["meta_verify_token"] = Value::Null;
    full["meta_app_secret"] = json!({"set": false, "last4": null});
    full["stripe_meter_event_name"] = Value::Null;
    full["stripe_secret_key"] = json!({"set": false, "last4": null});
    assert_eq!(after, full, "normalised like tenant settings");
    assert_eq!(s.get(p).await.1, full);
    let (st, patched) = s.patch(p, r#"{"operator_name":null}"#).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(patched["operator_name"], Value::Null);
    assert_eq!(patched["default_sla_hours"], 8, "PATCH keeps the rest");

    // Audited, without values.
    let (_, audit) = s
        .get("/api/v1/audit?action=platform.settings.replaced")
        .await;
    let row = &audit["data"][0];
    assert_eq!(row["tenant"], Value::Null);
    assert!(row["actor"].as_str().unwrap().starts_with("admin:"));
    let changed: Vec<&str> = row["details"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        changed,
        [
            "default_stages",
            "default_sla_hours",
            "default_spam_keywords",
            "honeypot_fields",
            "default_grace_hours",
            "operator_name",
            "operator_email"
        ]
    );
    assert!(!audit.to_string().contains("echo5.example"));
    let (_, audit) = s
        .get("/api/v1/audit?action=platform.settings.updated")
        .await;
    assert_eq!(
        audit["data"][0]["details"]["changed"],
        json!(["operator_name"])
    );

    // A new tenant starts from the defaults; one that names its own settings keeps them.
    let (new, new_key) = s.tenant_with_key(r#"{"name":"Caring Hearts"}"#).await;
    assert_eq!(new["settings"]["sla_hours"], 8);
    assert_eq!(
        new["settings"]["spam_keywords"],
        json!(["casino", "crypto loan"])
    );
    let (_, stages) = s.get("/api/v1/tenants/caring-hearts/stages").await;
    assert_eq!(
        stage_names(&stages),
        [
            ("Inquiry".into(), "open".into()),
            ("Visit".into(), "open".into()),
            ("Signed".into(), "won".into()),
            ("Lost".into(), "lost".into())
        ]
    );
    let own = s
        .tenant(r#"{"name":"Family First","settings":{"sla_hours":2,"spam_keywords":[]}}"#)
        .await;
    assert_eq!(own["settings"]["sla_hours"], 2);
    assert_eq!(own["settings"]["spam_keywords"], json!([]));
    let partial = s
        .tenant(r#"{"name":"Home Helpers","settings":{"manager_email":"m@hh.example"}}"#)
        .await;
    assert_eq!(partial["settings"]["sla_hours"], 8, "left out: the default");

    // The existing tenant is untouched.
    let (_, old_now) = s.get("/api/v1/tenants/open-arms").await;
    assert_eq!(old_now, old);
    let (_, old_stages) = s.get("/api/v1/tenants/open-arms/stages").await;
    assert_eq!(old_stages["data"].as_array().unwrap().len(), 6);
    assert_eq!(old_stages["data"][0]["name"], "New");

    // Ingest: the new tenant's default keyword, and the platform honeypot for everyone.
    let (_, r) = s
        .submit(
            &new_key,
            JSON_CT,
            br#"{"name":"Jo","message":"best casino here"}"#,
        )
        .await;
    let lead = s.lead(&r).await;
    assert!(lead.is_spam);
    assert_eq!(lead.spam_reason.as_deref(), Some("keyword:casino"));
    let (_, r) = s.submit(&new_key, JSON_CT, trap).await;
    let lead = s.lead(&r).await;
    assert_eq!(lead.spam_reason.as_deref(), Some("honeypot:company_fax"));
    let trap2 = br#"{"name":"Bot Two","email":"bot2@spam.example","company_fax":"556"}"#;
    let (_, r) = s.submit(&old_key, JSON_CT, trap2).await;
    assert!(s.lead(&r).await.is_spam, "honeypots are platform-wide");
    let (_, r) = s
        .submit(
            &old_key,
            JSON_CT,
            br#"{"name":"Jo","message":"best casino here"}"#,
        )
        .await;
    assert!(
        !s.lead(&r).await.is_spam,
        "default keywords are for new tenants only"
    );

    // A rotation without grace_hours takes the platform default (2 h).
    let (_, keys) = s.get("/api/v1/tenants/caring-hearts/keys").await;
    let kid = keys["data"][0]["id"].as_str().unwrap().to_string();
    let (st, rotated) = s
        .post(
            &format!("/api/v1/tenants/caring-hearts/keys/{kid}/rotate"),
            "",
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{rotated}");
    let expires: chrono::DateTime<chrono::Utc> = rotated["old_key"]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(expires, t0() + TimeDelta::hours(2));
    let (_, rotated) = s
        .post(
            &format!(
                "/api/v1/tenants/caring-hearts/keys/{}/rotate",
                rotated["new_key"]["id"].as_str().unwrap()
            ),
            r#"{"grace_hours":5}"#,
        )
        .await;
    let expires: chrono::DateTime<chrono::Utc> = rotated["old_key"]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(expires, t0() + TimeDelta::hours(5), "given grace wins");
    s.stop().await;
}

/// Submits a lead through ingest and returns its id.
async fn ingest(s: &TestServer, key: &str, body: Value) -> String {
    let (st, r) = s.submit(key, JSON_CT, body.to_string().as_bytes()).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    r["id"].as_str().unwrap().to_string()
}

async fn all_pages(s: &TestServer, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if query.is_empty() { "" } else { "&" };
        let url = match &cursor {
            Some(c) => format!("/api/v1/leads?{query}{sep}cursor={c}"),
            None => format!("/api/v1/leads?{query}"),
        };
        let (st, page) = s.get(&url).await;
        assert_eq!(st, StatusCode::OK, "{url}: {page}");
        out.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn all_leads_page_stably_across_tenants_and_honour_every_filter() {
    let s = TestServer::start().await;
    let names = ["Open Arms", "Caring Hearts", "Family First"];
    let mut keys = Vec::new();
    let mut tenants = Vec::new();
    for n in names {
        let (t, k) = s
            .tenant_with_key(
                &json!({"name": n, "settings": {"spam_keywords": ["casino"]}}).to_string(),
            )
            .await;
        tenants.push(t);
        keys.push(k);
    }
    // 30 leads spread over the three tenants, one millisecond apart, a few at the same
    // millisecond (ties are broken by id).
    let mut expected: Vec<(String, usize)> = Vec::new();
    for i in 0..30usize {
        let t = (i * 7) % 3;
        if i % 5 != 0 {
            s.clock.advance(TimeDelta::milliseconds(1));
        }
        let id = ingest(
            &s,
            &keys[t],
            json!({"name": format!("Person {i}"), "email": format!("p{i}@example.com")}),
        )
        .await;
        expected.push((id, t));
    }
    let spam_id = ingest(
        &s,
        &keys[1],
        json!({"name":"casino bot","email":"bot@x.example"}),
    )
    .await;
    // Newest first: by (created_at, id) descending over all tenants.
    let mut newest_first: Vec<(chrono::DateTime<chrono::Utc>, String)> = Vec::new();
    for (id, _) in &expected {
        let lead = s.state.store.get_lead(id.parse().unwrap()).await.unwrap();
        newest_first.push((lead.created_at, id.clone()));
    }
    newest_first.sort();
    newest_first.reverse();
    let want: Vec<String> = newest_first.iter().map(|(_, id)| id.clone()).collect();

    // Page by 7 while leads keep arriving between pages: no duplicate, no miss, and the
    // new arrivals are not in this walk (they are newer than its first page).
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut arrivals = Vec::new();
    let mut n = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/leads?limit=7&cursor={c}"),
            None => "/api/v1/leads?limit=7".to_string(),
        };
        let (st, page) = s.get(&url).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        for row in page["data"].as_array().unwrap() {
            // Each row carries its tenant.
            let t = &tenants[expected
                .iter()
                .find(|(id, _)| id == row["id"].as_str().unwrap())
                .unwrap()
                .1];
            assert_eq!(
                row["tenant"],
                json!({"id": t["id"], "slug": t["slug"], "name": t["name"]})
            );
            assert_eq!(row["tenant_id"], t["id"]);
            seen.push(row["id"].as_str().unwrap().to_string());
        }
        s.clock.advance(TimeDelta::milliseconds(1));
        n += 1;
        arrivals.push(
            ingest(
                &s,
                &keys[n % 3],
                json!({"name": format!("Late {n}"), "email": format!("late{n}@example.com")}),
            )
            .await,
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, want, "every lead once, newest first, spam hidden");
    assert!(!seen.contains(&spam_id));
    let fresh = all_pages(&s, "limit=200").await;
    assert_eq!(fresh.len(), 30 + arrivals.len());
    assert_eq!(
        ids(&fresh[..arrivals.len()]),
        arrivals.iter().rev().cloned().collect::<Vec<_>>()
    );

    // tenant=a,b (slug and id mixed): only theirs, still in order.
    let q = format!(
        "tenant=open-arms,{}&limit=4",
        tenants[2]["id"].as_str().unwrap()
    );
    let rows = all_pages(&s, &q).await;
    let want_ab: Vec<String> = ids(&fresh)
        .into_iter()
        .filter(|id| {
            let t = expected.iter().find(|(e, _)| e == id).map(|(_, t)| *t);
            let late = arrivals.iter().position(|a| a == id).map(|p| (p + 1) % 3);
            matches!(t.or(late), Some(0) | Some(2))
        })
        .collect();
    assert_eq!(ids(&rows), want_ab);
    assert!(rows.iter().all(|r| r["tenant"]["slug"] != "caring-hearts"));
    // spam
    let rows = all_pages(&s, "spam=true").await;
    assert_eq!(ids(&rows), vec![spam_id.clone()]);
    assert_eq!(rows[0]["tenant"]["slug"], "caring-hearts");
    let rows = all_pages(&s, "spam=all&limit=3").await;
    assert_eq!(rows.len(), fresh.len() + 1);
    // q, source, from/to, stage, breached
    let rows = all_pages(&s, "q=p17%40example").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["email"], "p17@example.com");
    let rows = all_pages(&s, "source=manual").await;
    assert!(rows.is_empty());
    let (st, manual) = s
        .post(
            "/api/v1/tenants/family-first/leads",
            r#"{"name":"Walk In","created_at":"2026-05-01T00:00:00Z"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{manual}");
    let rows = all_pages(&s, "source=manual").await;
    assert_eq!(ids(&rows), vec![manual["id"].as_str().unwrap().to_string()]);
    let rows = all_pages(&s, "to=2026-05-02").await;
    assert_eq!(ids(&rows), vec![manual["id"].as_str().unwrap().to_string()]);
    let rows = all_pages(&s, "from=2026-05-02").await;
    assert_eq!(rows.len(), fresh.len());
    let (_, st_list) = s.get("/api/v1/tenants/open-arms/stages").await;
    let contacted = st_list["data"][1]["id"].as_str().unwrap().to_string();
    let moved = ids(&fresh)
        .into_iter()
        .find(|id| expected.iter().any(|(e, t)| e == id && *t == 0))
        .unwrap();
    let (st, _) = s
        .patch(
            &format!("/api/v1/leads/{moved}"),
            &json!({"stage_id": contacted}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let rows = all_pages(&s, &format!("stage={contacted}")).await;
    assert_eq!(ids(&rows), vec![moved.clone()]);
    // Breaches: the manual lead from May is long overdue (family-first's 24 h SLA); the
    // others are minutes old.
    let rows = all_pages(&s, "breached=true").await;
    assert_eq!(ids(&rows), vec![manual["id"].as_str().unwrap().to_string()]);
    s.clock.advance(TimeDelta::hours(25));
    let rows = all_pages(&s, "breached=true&limit=200").await;
    assert_eq!(rows.len(), fresh.len() + 1 - 1, "all but the moved one");
    assert!(!ids(&rows).contains(&moved));
    let rows = all_pages(&s, "breached=false").await;
    assert_eq!(ids(&rows), vec![moved]);

    // Errors.
    assert_error(
        &s.get("/api/v1/leads?tenant=open-arms,no-such-tenant").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    let (_, e) = s.get("/api/v1/leads?tenant=no-such-tenant").await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-tenant")
    );
    assert_error(
        &s.get("/api/v1/leads?limit=201").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("limit"),
    );
    assert_error(
        &s.get("/api/v1/leads?cursor=garbage").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_cursor",
        Some("cursor"),
    );
    assert_error(
        &s.get("/api/v1/leads?tenat=x").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        None,
    );
    // Admin only, and no CORS on the admin GET; ingest keeps its preflight.
    let resp = s
        .client
        .get(s.url("/api/v1/leads"))
        .header("authorization", format!("Bearer {}", keys[0]))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let resp = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/api/v1/leads"))
        .header("origin", "https://www.openarms.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    // The index plan: each run reads its tenant's range of an index, never the whole table.
    let q = echo5_core::leads::LeadQueryParams::default()
        .validate()
        .unwrap();
    let plan = s.state.store.explain_all_leads(q).await.unwrap();
    assert!(
        plan.contains("USING COVERING INDEX leads_tenant_created"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    s.stop().await;
}

#[tokio::test]
async fn usage_matches_a_hand_built_dataset_after_a_restart() {
    let s = TestServer::start().await;
    let (a, ka1) = s
        .tenant_with_key(r#"{"name":"Open Arms","settings":{"spam_keywords":["casino"]}}"#)
        .await;
    let (st, k2) = s
        .post(
            "/api/v1/tenants/open-arms/keys",
            r#"{"label":"landing page"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let ka2 = k2["secret"].as_str().unwrap().to_string();
    let (b, kb) = s.tenant_with_key(r#"{"name":"Caring Hearts"}"#).await;
    let idle = s.tenant(r#"{"name":"Family First"}"#).await;
    let small = json!({"name":"A","email":"a@example.com"});
    // Open Arms, key 1: 3 accepted (1 duplicate, 1 spam), 2 rejected (no contact, bad
    // JSON) = 5 calls.
    ingest(&s, &ka1, small.clone()).await;
    ingest(&s, &ka1, json!({"name":"A again","email":"a@example.com"})).await;
    ingest(&s, &ka1, json!({"name":"casino bot"})).await;
    assert_eq!(
        s.submit(&ka1, JSON_CT, br#"{"company":"x"}"#).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.submit(&ka1, JSON_CT, b"{not json").await.0,
        StatusCode::BAD_REQUEST
    );
    // Key 2: 1 accepted, with a big body.
    let big = "I need care. ".repeat(300);
    ingest(
        &s,
        &ka2,
        json!({"name":"Big","email":"big@example.com","message": big}),
    )
    .await;
    // Caring Hearts: 1 accepted, 1 rejected.
    ingest(&s, &kb, json!({"name":"B","email":"b@example.com"})).await;
    assert_eq!(
        s.submit(&kb, JSON_CT, br#"{"x":"y"}"#).await.0,
        StatusCode::BAD_REQUEST
    );
    // A request with an unknown key counts nowhere.
    let (st, _) = s
        .submit("e5_unknownunknownunknownunknownun", JSON_CT, b"{}")
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    let storage_a_small = {
        let (_, u) = s.get("/api/v1/tenants/open-arms/usage").await;
        u["storage_bytes"].as_u64().unwrap()
    };
    let clock = s.clock.clone();
    let dir = s.stop().await;
    // A restart: everything comes back from the database (api_calls and rejected were
    // buffered in memory, and written at shutdown).
    clock.advance(TimeDelta::hours(1));
    let s = TestServer::start_in(dir, clock.clone(), |_| {}).await;
    let (st, u) = s.get("/api/v1/usage?month=2026-05").await;
    assert_eq!(st, StatusCode::OK, "{u}");
    assert_eq!(u["month"], "2026-05");
    assert_eq!(u["active_tenants"], 2);
    let by_slug: BTreeMap<String, Value> = u["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tenant"]["slug"].as_str().unwrap().to_string(), t.clone()))
        .collect();
    assert_eq!(
        by_slug.keys().cloned().collect::<Vec<_>>(),
        ["caring-hearts", "family-first", "open-arms"]
    );
    let oa = &by_slug["open-arms"];
    assert_eq!(
        oa["tenant"],
        json!({"id": a["id"], "slug": "open-arms", "name": "Open Arms"})
    );
    let counts = |v: &Value| {
        ["accepted", "spam", "duplicates", "rejected", "api_calls"].map(|k| v[k].as_u64().unwrap())
    };
    assert_eq!(counts(oa), [4, 1, 1, 2, 6]);
    assert_eq!(oa["active"], true);
    assert!(oa["last_lead_at"].is_string());
    let keys = oa["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let k1 = keys
        .iter()
        .find(|k| k["prefix"].as_str() == Some(&ka1[..8]))
        .unwrap();
    let k2 = keys
        .iter()
        .find(|k| k["prefix"].as_str() == Some(&ka2[..8]))
        .unwrap();
    assert_eq!(counts(k1), [3, 1, 1, 2, 5]);
    assert_eq!(counts(k2), [1, 0, 0, 0, 1]);
    assert_eq!(k2["name"], "landing page");
    assert!(k1["key_id"].as_str().unwrap().len() == 36);
    let ch = &by_slug["caring-hearts"];
    assert_eq!(ch["tenant"]["id"], b["id"]);
    assert_eq!(counts(ch), [1, 0, 0, 1, 2]);
    let ff = &by_slug["family-first"];
    assert_eq!(ff["tenant"]["id"], idle["id"]);
    assert_eq!(counts(ff), [0, 0, 0, 0, 0]);
    assert_eq!(ff["active"], false);
    assert_eq!(ff["last_lead_at"], Value::Null);
    assert_eq!(ff["storage_bytes"], 0);
    assert!(ff["keys"].as_array().unwrap().is_empty());
    // Storage: positive, and the big body weighs in.
    let sa = oa["storage_bytes"].as_u64().unwrap();
    let sb = ch["storage_bytes"].as_u64().unwrap();
    assert!(sb > 0);
    assert!(sa > sb + big.len() as u64, "{sa} vs {sb}");
    assert_eq!(sa, storage_a_small, "the same after the restart");
    assert_eq!(
        counts(&u["totals"]),
        [5, 1, 1, 3, 8],
        "totals: {}",
        u["totals"]
    );
    assert_eq!(u["totals"]["storage_bytes"].as_u64().unwrap(), sa + sb);
    // Storage grows with a bigger body.
    ingest(
        &s,
        &kb,
        json!({"name":"C","email":"c@example.com","message": "x".repeat(5000)}),
    )
    .await;
    let (_, one) = s
        .get("/api/v1/tenants/caring-hearts/usage?month=2026-05")
        .await;
    assert!(one["storage_bytes"].as_u64().unwrap() >= sb + 5000);
    // Read right after the requests: the buffered API calls are in already.
    assert_eq!(counts(&one), [2, 0, 0, 1, 3]);
    assert_eq!(one["month"], "2026-05");
    assert_eq!(one["tenant"]["slug"], "caring-hearts");
    // The default month is the current one (the test clock's May 2026); another is empty.
    let (_, cur) = s.get("/api/v1/usage").await;
    assert_eq!(cur["month"], "2026-05");
    let (_, june) = s.get("/api/v1/usage?month=2026-06").await;
    assert_eq!(counts(&june["totals"]), [0, 0, 0, 0, 0]);
    // Activity is judged at the month's end: nothing in the 30 days before April ended.
    let (_, april) = s.get("/api/v1/usage?month=2026-04").await;
    assert_eq!(april["active_tenants"], 0);
    // 31 days later nobody is active any more; May, judged at its end, still was.
    clock.advance(TimeDelta::days(31));
    let (_, now) = s.get("/api/v1/usage").await;
    assert_eq!(now["month"], "2026-06");
    assert_eq!(now["active_tenants"], 0);
    let (_, may) = s.get("/api/v1/usage?month=2026-05").await;
    assert_eq!(may["active_tenants"], 2);
    assert_eq!(
        may["totals"]["accepted"], 6,
        "the counts stay with their month"
    );
    // Errors.
    for bad in ["2026-13", "May", "2026-5", ""] {
        assert_error(
            &s.get(&format!("/api/v1/usage?month={bad}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_month",
            Some("month"),
        );
    }
    assert_error(
        &s.get("/api/v1/tenants/nobody/usage").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &s.get("/api/v1/usage?mnth=2026-05").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        None,
    );
    s.stop().await;
}
