//! Plans in tests: making one, putting a tenant on it, the 402 a hard limit answers, and
//! the kept counters checked against the leads themselves.

use reqwest::StatusCode;
use serde_json::{Value, json};

use std::time::Duration;

use super::smtp::{Mail, SmtpSink};
use super::{TestServer, assert_error};

/// Creates a plan from `body`; its id.
pub async fn plan(s: &TestServer, body: Value) -> String {
    let (st, p) = s.post("/api/v1/platform/plans", &body.to_string()).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    p["id"].as_str().unwrap().to_string()
}

/// Puts `tenant` (a slug) on `plan`, or takes it off its plan with `None`.
pub async fn on_plan(s: &TestServer, tenant: &str, plan: Option<&str>) {
    let (st, t) = s
        .patch(
            &format!("/api/v1/tenants/{tenant}"),
            &json!({ "plan_id": plan }).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(t["plan_id"], json!(plan), "{t}");
}

/// The `n`th test lead's JSON body.
pub fn lead(n: usize) -> String {
    json!({"name": format!("Lead {n}"), "email": format!("lead{n}@example.com"),
           "message": format!("hello {n}")})
    .to_string()
}

/// A 402 `plan_limit_reached` naming the limit, its value and the use.
#[track_caller]
pub fn assert_limit(got: &(StatusCode, Value), limit: &str, value: u64, used: u64) {
    assert_error(
        got,
        StatusCode::PAYMENT_REQUIRED,
        "plan_limit_reached",
        Some(&format!("limits.{limit}")),
    );
    assert_eq!(got.1["error"]["limit"], limit, "{}", got.1);
    assert_eq!(got.1["error"]["value"], value, "{}", got.1);
    assert_eq!(got.1["error"]["used"], used, "{}", got.1);
}

/// `lead_counts` against a GROUP BY over the leads themselves, read from the database file.
pub fn counts_match_rows(db: &std::path::Path) {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let q = |sql: &str| -> Vec<(String, String, i64, i64, i64, i64)> {
        c.prepare(sql)
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let counters = q(
        "SELECT tenant_id, stage_id, is_spam, leads, duplicates, bytes FROM lead_counts
                      WHERE leads != 0 OR bytes != 0 ORDER BY 1, 2, 3",
    );
    // A lead's bytes as the delete trigger of `lead_counts` takes them out.
    let bytes = "coalesce(octet_length(raw), 0) + octet_length(custom) + coalesce(octet_length(name), 0) + coalesce(octet_length(first_name), 0) + coalesce(octet_length(last_name), 0) + coalesce(octet_length(email), 0) + coalesce(octet_length(phone), 0) + coalesce(octet_length(message), 0) + coalesce(octet_length(company), 0) + coalesce(octet_length(form_name), 0) + coalesce(octet_length(page_url), 0) + coalesce(octet_length(referrer), 0) + coalesce(octet_length(utm_source), 0) + coalesce(octet_length(utm_medium), 0) + coalesce(octet_length(utm_campaign), 0) + coalesce(octet_length(utm_term), 0) + coalesce(octet_length(utm_content), 0) + coalesce(octet_length(gclid), 0) + coalesce(octet_length(fbclid), 0) + coalesce(octet_length(ip), 0) + coalesce(octet_length(user_agent), 0) + coalesce(octet_length(raw_content_type), 0) + coalesce(octet_length(spam_reason), 0) + coalesce(octet_length(notes), 0) + coalesce(octet_length(assigned_to), 0)";
    let rows = q(&format!(
        "SELECT tenant_id, stage_id, is_spam, count(*), count(duplicate_of), sum({bytes})
         FROM leads GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    ));
    assert_eq!(counters, rows);
}

/// A daemon that mails through `smtp`, with an operator address to tell.
pub async fn notice_server(smtp: &SmtpSink) -> TestServer {
    let url = smtp.url();
    let s = TestServer::start_with(|a| {
        a.smtp_url = Some(echo5_core::secret::Secret::new(url));
    })
    .await;
    let (st, _) = s
        .patch(
            "/api/v1/platform/settings",
            r#"{"operator_email":"ops@agency.example"}"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    s
}

/// The plan notices among the mails.
pub fn notices(smtp: &SmtpSink) -> Vec<Mail> {
    smtp.mails()
        .into_iter()
        .filter(|m| m.decoded().contains("its plan includes"))
        .collect()
}

/// The notices once there are `n` (or after 10 s).
pub async fn wait_for_notices(smtp: &SmtpSink, n: usize) -> Vec<Mail> {
    for _ in 0..100 {
        if notices(smtp).len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    notices(smtp)
}

/// The notices once there are `n`, and 2 s more for any extra one to show.
pub async fn settled_notices(smtp: &SmtpSink, n: usize) -> Vec<Mail> {
    wait_for_notices(smtp, n).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    notices(smtp)
}
