//! The plans' background jobs: the nightly retention erasure of leads past their plan's
//! window. (The 80 %/100 % notices are outbox mail tasks, queued by ingest.)

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use std::time::Duration;

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

/// The nightly retention job, until aborted.
pub async fn run(state: AppState) {
    loop {
        tokio::time::sleep(until_next_run(Utc::now())).await;
        retention_pass(&state).await;
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
