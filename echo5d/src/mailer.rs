//! Alert mail: SMTP when a server is configured, a log line (ids only) when not.

use echo5_core::notifications::Notice;
use echo5_core::outbox_tasks::MailTask;
use echo5_core::secret::Secret;
use echo5_data::sla::{AlertOutcome, DueAlert, alert_backoff};
use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Longest one delivery attempt may take, from connecting to the server's last answer.
pub const SEND_DEADLINE: Duration = Duration::from_secs(20);

/// How sending an outbox mail task ended.
#[derive(Debug)]
pub(crate) enum MailSent {
    Sent,
    /// No SMTP server is configured: nothing was sent.
    NotConfigured,
    /// Refused for good (a bad address, a 5xx answer).
    Refused(String),
    /// Failed for now (connection, timeout, a 4xx answer).
    Failed(String),
}

/// Hands one message to the SMTP server, the whole exchange bounded by [`SEND_DEADLINE`].
async fn submit(transport: &AsyncSmtpTransport<Tokio1Executor>, msg: Message) -> MailSent {
    match tokio::time::timeout(SEND_DEADLINE, transport.send(msg)).await {
        Ok(Ok(_)) => MailSent::Sent,
        // A 5xx answer (unknown mailbox, refused sender) is the same on every retry.
        Ok(Err(e)) if e.is_permanent() => MailSent::Refused(e.to_string()),
        Ok(Err(e)) => MailSent::Failed(e.to_string()),
        Err(_) => MailSent::Failed(format!(
            "no answer from the SMTP server within {} s",
            SEND_DEADLINE.as_secs()
        )),
    }
}

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

    /// Whether an SMTP server is configured (without one, mail is only logged).
    pub fn sends(&self) -> bool {
        self.transport.is_some()
    }

    /// Sends one plain-text message (an invitation, a password-reset link). `Ok(false)`:
    /// no SMTP server is configured, nothing was sent. The error names the failure, never
    /// the message (it may hold a link).
    pub(crate) async fn send_text(
        &self,
        to: &str,
        subject: &str,
        body: String,
    ) -> Result<bool, String> {
        let Some(transport) = &self.transport else {
            return Ok(false);
        };
        let to: Mailbox = to.parse().map_err(|e| format!("bad recipient: {e}"))?;
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| e.to_string())?;
        match submit(transport, msg).await {
            MailSent::Sent => Ok(true),
            MailSent::NotConfigured => Ok(false),
            MailSent::Refused(e) | MailSent::Failed(e) => Err(e),
        }
    }

    /// Sends one outbox mail task; `message_id` (the task's id) is the same on every
    /// attempt, so a resend after a crash is recognisable as the same mail.
    pub(crate) async fn send_task(&self, mail: &MailTask, message_id: &str) -> MailSent {
        let Some(transport) = &self.transport else {
            return MailSent::NotConfigured;
        };
        let to: Mailbox = match mail.to.parse() {
            Ok(t) => t,
            Err(e) => return MailSent::Refused(format!("bad recipient: {e}")),
        };
        let msg = match Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<task-{message_id}@echo5>")))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
        {
            Ok(m) => m,
            Err(e) => return MailSent::Refused(e.to_string()),
        };
        submit(transport, msg).await
    }

    /// Sends a tenant's notification: text and HTML parts, the tenant's sender name and
    /// reply-to, and a Message-ID that is the same on every attempt.
    pub(crate) async fn send_notice(&self, n: &Notice, message_id: &str) -> MailSent {
        let Some(transport) = &self.transport else {
            return MailSent::NotConfigured;
        };
        let to: Mailbox = match n.to.parse() {
            Ok(t) => t,
            Err(e) => return MailSent::Refused(format!("bad recipient: {e}")),
        };
        let from = match &n.from_name {
            Some(name) => Mailbox::new(Some(name.clone()), self.from.email.clone()),
            None => self.from.clone(),
        };
        let mut b = Message::builder()
            .from(from)
            .to(to)
            .subject(n.subject.clone())
            .message_id(Some(format!("<notice-{message_id}@echo5>")));
        if let Some(r) = n
            .reply_to
            .as_deref()
            .and_then(|r| r.parse::<Mailbox>().ok())
        {
            b = b.reply_to(r);
        }
        let msg = match b.multipart(MultiPart::alternative_plain_html(
            n.text.clone(),
            n.html.clone(),
        )) {
            Ok(m) => m,
            Err(e) => return MailSent::Refused(e.to_string()),
        };
        submit(transport, msg).await
    }

    pub(crate) async fn deliver(&self, a: &DueAlert) -> AlertOutcome {
        let Some(to) = &a.recipient else {
            return AlertOutcome::Skipped;
        };
        let Some(transport) = &self.transport else {
            // Logged by the caller, which sees the whole batch (`monitor::deliver_alerts`).
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
            // One attempt is bounded as a whole: lettre's timeout covers each read and write,
            // but a session that stalls between them (seen after a relay refuses the
            // password) would otherwise hold every later alert behind it.
            Ok(m) => match tokio::time::timeout(SEND_DEADLINE, transport.send(m)).await {
                Ok(sent) => sent.map(|_| ()).map_err(|e| e.to_string()),
                Err(_) => Err(format!(
                    "no answer from the SMTP server within {} s",
                    SEND_DEADLINE.as_secs()
                )),
            },
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
