//! Background SLA monitor: records new breaches once, announces them, queues the tenants'
//! notifications (escalations, new leads, daily digests), and delivers the
//! queued alert e-mails with retries. The queue lives in the database, so an alert that
//! could not be sent before a restart is sent after it.

use echo5_data::sla::{AlertOutcome, alert_backoff};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::mailer::Mailer;
use crate::state::AppState;

/// Up to this many breaches (or log-only alerts) of one pass get an INFO line each; more
/// get one line for all.
const ONE_BY_ONE: usize = 3;

/// One monitor pass: record and announce new breaches.
pub async fn record_breaches(state: &AppState) {
    let links = state.clone();
    match state
        .store
        .record_new_breaches(move |lead| links.lead_link(lead))
        .await
    {
        Ok(new) => {
            // A few breaches are news one by one; a backlog (the first pass over demo data
            // or after downtime) is one line, with each lead at debug level.
            let many = new.value.len() > ONE_BY_ONE;
            for b in &new.value {
                if many {
                    tracing::debug!(lead = %b.breach.lead_id, tenant = %b.breach.tenant.slug, "SLA breach recorded");
                } else {
                    tracing::info!(lead = %b.breach.lead_id, tenant = %b.breach.tenant.slug, "SLA breach recorded");
                }
            }
            if many {
                tracing::info!(
                    "{} SLA breaches recorded (each lead at debug level)",
                    new.value.len()
                );
            }
            state.events.publish_all(new);
        }
        Err(e) => tracing::warn!(error = %e, "SLA monitor pass failed; will retry"),
    }
}

/// Queues the notices due now: escalation steps and daily digests on each pass.
pub async fn notify_pass(state: &AppState) {
    let links = state.clone();
    match state
        .store
        .escalate(move |lead| links.lead_link(lead))
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(notices = n, "SLA escalation notices queued"),
        Err(e) => tracing::warn!(error = %e, "escalation pass failed; will retry"),
    }
    match state.store.send_digests(state.public_url.to_string()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(notices = n, "daily digests queued"),
        Err(e) => tracing::warn!(error = %e, "digest pass failed; will retry"),
    }
}

/// Queues `lead.created` notices for tenants whose rules ask for them.
pub async fn announce_leads(state: &AppState) {
    let links = state.clone();
    if let Err(e) = state
        .store
        .announce_new_leads(move |lead| links.lead_link(lead))
        .await
    {
        tracing::warn!(error = %e, "new-lead notices not queued; will retry");
    }
}

/// Delivers every due alert once.
pub async fn deliver_alerts(state: &AppState, mailer: &Mailer) {
    let due = match state.store.due_alerts(50).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the alert queue; will retry");
            return;
        }
    };
    let mut logged = Vec::new();
    for a in due {
        let mut outcome = mailer.deliver(&a).await;
        if matches!(outcome, AlertOutcome::Logged) {
            logged.push((a.id, a.lead_id));
        }
        if let AlertOutcome::Failed { error, .. } = &outcome {
            tracing::warn!(alert = a.id, attempts = a.attempts + 1, error = %error, "SLA alert not sent; will retry");
            // Retry time on the store's clock, so tests with a manual clock control it.
            outcome = AlertOutcome::Failed {
                error: error.clone(),
                retry_at: state.store.now() + alert_backoff(a.attempts),
            };
        }
        if let Err(e) = state.store.finish_alert(a.id, outcome).await {
            tracing::warn!(error = %e, alert = a.id, "cannot record an alert attempt");
        }
    }
    // Without SMTP the alert is this log line (ids only: the subject names the lead).
    if logged.len() > ONE_BY_ONE {
        for (alert, lead) in &logged {
            tracing::debug!(alert, lead = %lead, "SLA alert (no SMTP configured; logged only)");
        }
        tracing::info!(
            "{} SLA alerts (no SMTP configured; logged only, each at debug level)",
            logged.len()
        );
    } else {
        for (alert, lead) in &logged {
            tracing::info!(alert, lead = %lead, "SLA alert (no SMTP configured; logged only)");
        }
    }
}

/// The monitor loop: a breach pass every `interval`, alert delivery every second.
pub async fn run(state: AppState, mailer: std::sync::Arc<Mailer>, interval: Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_pass: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        let pass = last_pass.is_none_or(|t| t.elapsed() >= interval);
        if pass {
            record_breaches(&state).await;
            notify_pass(&state).await;
            last_pass = Some(tokio::time::Instant::now());
        }
        announce_leads(&state).await;
        deliver_alerts(&state, &mailer).await;
        if pass {
            state.sla_passes.fetch_add(1, Ordering::Relaxed);
        }
    }
}
