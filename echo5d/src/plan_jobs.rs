//! The plans' background jobs: sending the 80 %/100 % lead notices, and the nightly
//! retention erasure of leads past their plan's window.

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use std::time::Duration;

use crate::state::AppState;

/// How often queued plan notices are looked for.
const NOTICE_PASS: Duration = Duration::from_secs(2);

/// The hour (UTC) the retention job runs at.
const RETENTION_HOUR: u32 = 3;

/// Sends every queued plan notice once: each of its mails, then records it sent, or the
/// error to retry at the next pass. Without an SMTP server the notice is a log line.
pub async fn deliver_notices(state: &AppState) {
    let due = match state.store.due_plan_notices(20).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the plan notices; will retry");
            return;
        }
    };
    for n in due {
        let mut error = None;
        for m in &n.mails {
            match state.mailer.send_text(&m.to, &m.subject, m.text.clone()).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(tenant = %n.tenant_id, month = %n.month, threshold = n.threshold.percent(),
                        "plan notice (no SMTP configured; logged only)");
                    break;
                }
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = &error {
            tracing::warn!(tenant = %n.tenant_id, attempts = n.attempts + 1, error = %e,
                "plan notice not sent; will retry");
        }
        if let Err(e) = state
            .store
            .finish_plan_notice(n.tenant_id, n.month.clone(), n.threshold, error)
            .await
        {
            tracing::warn!(error = %e, "cannot record a plan notice attempt");
        }
    }
}

/// One retention pass: erases the leads past each tenant's plan window and logs the count.
pub async fn retention_pass(state: &AppState) -> u64 {
    let started = std::time::Instant::now();
    match state.store.erase_past_retention("system:retention").await {
        Ok(erased) => {
            let total: u64 = erased.iter().map(|e| e.leads).sum();
            for e in erased.iter().filter(|e| e.leads > 0) {
                tracing::info!(tenant = %e.tenant, erased = e.leads, "leads past the plan's retention erased");
            }
            tracing::info!(erased = total, ms = started.elapsed().as_millis() as u64, "retention pass done");
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
    let next = if today > now { today } else { today + TimeDelta::days(1) };
    (next - now).to_std().unwrap_or(Duration::from_secs(3600))
}

/// The notice sender (every [`NOTICE_PASS`]) and the nightly retention job, until aborted.
pub async fn run(state: AppState) {
    let retention = {
        let state = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(until_next_run(Utc::now())).await;
                retention_pass(&state).await;
            }
        })
    };
    let _stop_with_me = AbortOnDrop(retention);
    let mut tick = tokio::time::interval(NOTICE_PASS);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        deliver_notices(&state).await;
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_next_run_is_at_three_utc() {
        let at = |h, m| Utc.with_ymd_and_hms(2026, 12, 6, h, m, 0).unwrap();
        assert_eq!(until_next_run(at(2, 0)), Duration::from_secs(3600));
        assert_eq!(until_next_run(at(3, 0)), Duration::from_secs(24 * 3600));
        assert_eq!(until_next_run(at(23, 30)), Duration::from_secs(3 * 3600 + 1800));
    }
}
