//! The plans' background jobs: the nightly retention erasure of leads past their plan's
//! window, the hourly usage report to Stripe, and the outbox task that sends one report.
//! (The 80 %/100 % notices are outbox mail tasks, queued by ingest.)

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use std::time::Duration;

use echo5_core::outbox_tasks::TaskResult;
use echo5_core::plans::MeterEvent;
use echo5_data::outbox_tasks::Task;

use crate::state::AppState;

/// The hour (UTC) the retention job runs at.
const RETENTION_HOUR: u32 = 3;

/// One retention pass: erases the leads past each tenant's plan window and logs the count.
pub async fn retention_pass(state: &AppState) -> u64 {
    let started = std::time::Instant::now();
    match state.store.erase_past_retention("system:retention").await {
        Ok(erased) => {
            let total: u64 = erased.iter().map(|e| e.leads).sum();
            for e in erased.iter().filter(|e| e.leads > 0) {
                tracing::info!(tenant = %e.tenant, erased = e.leads, "leads past the plan's retention erased");
            }
            tracing::info!(
                erased = total,
                ms = started.elapsed().as_millis() as u64,
                "retention pass done"
            );
            total
        }
        Err(e) => {
            tracing::warn!(error = %e, "retention pass failed; will retry tomorrow");
            0
        }
    }
}

/// The wait until the next run at `RETENTION_HOUR`:00 UTC after `now`.
fn until_next_run(now: DateTime<Utc>) -> Duration {
    let today = now
        .with_hour(RETENTION_HOUR)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    let next = if today > now {
        today
    } else {
        today + TimeDelta::days(1)
    };
    (next - now).to_std().unwrap_or(Duration::from_secs(3600))
}

/// How long after the start the first billing sync runs.
const FIRST_BILLING_SYNC: Duration = Duration::from_secs(300);

/// How often usage is reported to Stripe.
const BILLING_SYNC: Duration = Duration::from_secs(3600);

/// Queues a usage report per tenant with leads accepted since its previous one.
pub async fn billing_sync(state: &AppState) {
    match state.store.billing_sync().await {
        Ok(r) if !r.is_empty() => {
            tracing::info!(
                reports = r.len(),
                leads = r.iter().map(|r| r.value).sum::<u64>(),
                "usage reports queued"
            )
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "usage reports not queued; will retry at the next sync")
        }
    }
}

/// The nightly retention job and the hourly billing sync, until aborted.
pub async fn run(state: AppState) {
    let billing = {
        let state = state.clone();
        tokio::spawn(async move {
            // The first sync waits a few minutes: a start writes nothing it need not, yet a
            // daemon restarted more often than hourly (deploys, a crash loop) still reports.
            let first = tokio::time::Instant::now() + FIRST_BILLING_SYNC;
            let mut tick = tokio::time::interval_at(first, BILLING_SYNC);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                billing_sync(&state).await;
            }
        })
    };
    let _billing = AbortOnDrop(billing);
    loop {
        tokio::time::sleep(until_next_run(Utc::now())).await;
        retention_pass(&state).await;
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends one usage report: `POST {stripe}/v1/billing/meter_events` with the secret key as
/// bearer and the task's id as both the `identifier` and the `Idempotency-Key`. Stripe
/// replays its first answer to a retry carrying the same key (for 24 hours), and
/// refuses a second event with the same identifier, so a retry of a report that did
/// arrive counts once either way. A refused key (401/403) parks every report until the key
/// changes; 429 and 5xx are retried on the schedule.
pub async fn stripe_meter_event(state: &AppState, task: &Task) -> TaskResult {
    let event: MeterEvent = match serde_json::from_value(task.payload.clone()) {
        Ok(e) => e,
        Err(e) => {
            return TaskResult::Fail {
                error: format!("unreadable meter event task: {e}"),
            };
        }
    };
    let key = match state.store.stripe_secret_key().await {
        Ok(Some(k)) => k,
        Ok(None) => {
            return TaskResult::Park {
                error: "no stripe_secret_key is set".into(),
            };
        }
        Err(e) => {
            return TaskResult::Retry {
                error: format!("cannot read the Stripe key: {e}"),
                not_before: None,
            };
        }
    };
    let url = format!("{}/v1/billing/meter_events", state.outbound.stripe_api_url);
    let identifier = task.id.to_string();
    let sent = state
        .outbound
        .client
        .post(&url)
        .bearer_auth(key.expose())
        .header("Idempotency-Key", &identifier)
        .form(&event.form(&identifier, state.store.now()))
        .timeout(state.outbound.timeout)
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            return TaskResult::Retry {
                error: without_secret(&format!("Stripe unreachable: {e}"), key.expose()),
                not_before: None,
            };
        }
    };
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    // The answer's text goes into the task's `last_error` and the log: an answer that
    // repeats the key (a proxy's or a stand-in's error page) must not carry it there.
    let detail: String = without_secret(&body, key.expose())
        .chars()
        .take(300)
        .collect();
    match status.as_u16() {
        200..=299 => TaskResult::Done,
        // The same identifier already reached Stripe (an earlier attempt whose answer
        // was lost, retried after Stripe forgot its idempotency key): the report is in.
        400 | 409 if body.contains("identifier") && body.contains("already") => TaskResult::Done,
        401 | 403 => TaskResult::Park {
            error: format!("Stripe refused the key ({status}): {detail}"),
        },
        429 | 500..=599 => TaskResult::Retry {
            error: format!("Stripe answered {status}: {detail}"),
            not_before: None,
        },
        _ => TaskResult::Fail {
            error: format!("Stripe refused the report ({status}): {detail}"),
        },
    }
}

/// `text` with every occurrence of `secret` masked (a blank secret masks nothing).
fn without_secret(text: &str, secret: &str) -> String {
    let secret = secret.trim();
    if secret.is_empty() {
        return text.to_string();
    }
    text.replace(secret, "[redacted]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_answer_repeating_the_key_is_kept_without_it() {
        let key = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
        assert_eq!(
            without_secret(&format!("Invalid API Key provided: Bearer {key}."), key),
            "Invalid API Key provided: Bearer [redacted]."
        );
        assert_eq!(without_secret("nothing here", key), "nothing here");
        assert_eq!(without_secret("x", " "), "x");
    }

    #[test]
    fn the_next_run_is_at_three_utc() {
        let at = |h, m| Utc.with_ymd_and_hms(2026, 12, 6, h, m, 0).unwrap();
        assert_eq!(until_next_run(at(2, 0)), Duration::from_secs(3600));
        assert_eq!(until_next_run(at(3, 0)), Duration::from_secs(24 * 3600));
        assert_eq!(
            until_next_run(at(23, 30)),
            Duration::from_secs(3 * 3600 + 1800)
        );
    }
}
