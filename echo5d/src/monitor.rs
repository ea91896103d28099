//! Background SLA monitor: records new breaches once, announces them, and delivers the
//! queued alert e-mails with retries. The queue lives in the database, so an alert that
//! could not be sent before a restart is sent after it.

use echo5_core::secret::Secret;
use echo5_data::sla::{AlertOutcome, DueAlert, alert_backoff};
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

use crate::state::AppState;

/// Sends alert mail, or logs it when no SMTP server is configured.
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Mailer(smtp: {}, from: {})",
            self.transport.is_some(),
            self.from
        )
    }
}

impl Mailer {
    pub fn new(url: Option<&Secret<String>>, from: &str) -> Result<Mailer, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("--smtp-from {from:?} is not an e-mail address: {e}"))?;
        let transport = match url {
            None => None,
            Some(u) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(u.expose())
                    // The URL may hold a password: say what is wrong, not what it was.
                    .map_err(|e| format!("--smtp-url is not a usable SMTP URL: {e}"))?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            ),
        };
        Ok(Mailer { transport, from })
    }

    async fn deliver(&self, a: &DueAlert) -> AlertOutcome {
        let Some(to) = &a.recipient else {
            return AlertOutcome::Skipped;
        };
        let Some(transport) = &self.transport else {
            // Ids only: the subject names the lead, which is personal data and the sender's text.
            tracing::info!(alert = a.id, lead = %a.lead_id, "SLA alert (no SMTP configured; logged only)");
            return AlertOutcome::Logged;
        };
        let msg = to
            .parse::<Mailbox>()
            .map_err(|e| e.to_string())
            .and_then(|to| {
                Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(a.subject.clone())
                    // One id per lead: a resend after a crash is recognisable as the same mail.
                    .message_id(Some(format!("<sla-{}@echo5>", a.lead_id)))
                    .header(ContentType::TEXT_PLAIN)
                    .body(a.body.clone())
                    .map_err(|e| e.to_string())
            });
        let result = match msg {
            Ok(m) => transport
                .send(m)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => AlertOutcome::Sent,
            Err(error) => AlertOutcome::Failed {
                error,
                retry_at: chrono::Utc::now() + alert_backoff(a.attempts),
            },
        }
    }
}

/// One monitor pass: record and announce new breaches.
pub async fn record_breaches(state: &AppState) {
    let links = state.clone();
    match state
        .store
        .record_new_breaches(move |lead| links.lead_link(lead))
        .await
    {
        Ok(new) => {
            for b in &new.value {
                tracing::info!(lead = %b.breach.lead_id, tenant = %b.breach.tenant.slug, "SLA breach recorded");
            }
            state.events.publish_all(new);
        }
        Err(e) => tracing::warn!(error = %e, "SLA monitor pass failed; will retry"),
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
    for a in due {
        let mut outcome = mailer.deliver(&a).await;
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
}

/// The monitor loop: a breach pass every `interval`, alert delivery every second.
pub async fn run(state: AppState, mailer: std::sync::Arc<Mailer>, interval: Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_pass: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        if last_pass.is_none_or(|t| t.elapsed() >= interval) {
            record_breaches(&state).await;
            last_pass = Some(tokio::time::Instant::now());
        }
        deliver_alerts(&state, &mailer).await;
    }
}
