//! Sends one notification task: e-mail through SendGrid v3 (when the tenant set it up) or
//! the daemon's SMTP server, Slack through the tenant's incoming webhook (the address rule
//! checked again at this send, by the outbound client's resolver), SMS through Twilio.
//! Secrets are opened here, at the send, never carried in the task.

use std::time::Duration;

use echo5_core::notifications::{Channel, ChannelSecrets, Notice, Notifications};
use echo5_core::outbox_tasks::TaskResult;
use echo5_data::TenantKey;
use echo5_data::outbox_tasks::Task;
use reqwest::StatusCode;
use serde_json::json;

use crate::mailer::MailSent;
use crate::outbound::refusal_in;
use crate::state::AppState;

/// Longest SMS body sent (Twilio's limit for one message).
const SMS_MAX_CHARS: usize = 1600;
/// How much of a provider's error answer is kept with the task.
const ANSWER_KEPT: usize = 300;

/// Runs one notification task.
pub async fn run(state: &AppState, task: &Task) -> TaskResult {
    let notice: Notice = match serde_json::from_value(task.payload.clone()) {
        Ok(n) => n,
        Err(e) => {
            return TaskResult::Fail {
                error: format!("unreadable notification task: {e}"),
            };
        }
    };
    let doc = match state
        .store
        .notifications(TenantKey::Id(notice.tenant_id))
        .await
    {
        Ok(d) => d,
        Err(echo5_data::StoreError::Domain(_)) => {
            return TaskResult::Fail {
                error: "the tenant no longer exists".into(),
            };
        }
        Err(e) => return retry(format!("cannot read the tenant's settings: {e}")),
    };
    let secrets = match state.store.notification_secrets(notice.tenant_id).await {
        Ok(s) => s,
        Err(e) => return retry(format!("cannot open the tenant's channel secrets: {e}")),
    };
    let secrets = secrets.expose();
    let id = task.id.to_string();
    match notice.channel {
        Channel::Email => match (&doc.channels.sendgrid, &secrets.sendgrid_api_key) {
            (Some(sg), Some(key)) => sendgrid(state, &notice, &sg.from, key, &id).await,
            _ => smtp(state, &notice, &id).await,
        },
        Channel::Slack => slack(state, &notice, secrets).await,
        Channel::Sms => sms(state, &notice, &doc, secrets).await,
    }
}

fn retry(error: String) -> TaskResult {
    TaskResult::Retry {
        error,
        not_before: None,
    }
}

async fn smtp(state: &AppState, n: &Notice, id: &str) -> TaskResult {
    match state.mailer.send_notice(n, id).await {
        MailSent::Sent => TaskResult::Done,
        MailSent::NotConfigured => TaskResult::Fail {
            error:
                "no SMTP server is configured (--smtp-url) and the tenant has no SendGrid channel"
                    .into(),
        },
        MailSent::Refused(error) => TaskResult::Fail { error },
        MailSent::Failed(error) => retry(error),
    }
}

/// A provider's answer as a task result: 2xx done; 408, 429 and 5xx retried (after
/// `Retry-After` when given); any other answer is the same on every retry, so it fails.
/// Errors never carry the URL (a Slack URL is a secret).
async fn judge(
    state: &AppState,
    what: &str,
    sent: Result<reqwest::Response, reqwest::Error>,
) -> TaskResult {
    match sent {
        Ok(resp) if resp.status().is_success() => TaskResult::Done,
        Ok(resp) => {
            let status = resp.status();
            let not_before = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| state.store.now() + chrono::TimeDelta::seconds(s.min(86_400) as i64));
            let body = resp.text().await.unwrap_or_default();
            let body: String = body.chars().take(ANSWER_KEPT).collect();
            let error = format!("{what} answered {status}: {body}");
            if status == StatusCode::REQUEST_TIMEOUT
                || status == StatusCode::TOO_MANY_REQUESTS
                || status.is_server_error()
            {
                TaskResult::Retry { error, not_before }
            } else {
                TaskResult::Fail { error }
            }
        }
        Err(e) => {
            if let Some(refused) = refusal_in(&e) {
                return TaskResult::Fail {
                    error: format!("{what} not called: {refused}"),
                };
            }
            retry(format!("{what} not reached: {}", e.without_url()))
        }
    }
}

fn timeout(state: &AppState) -> Duration {
    state.outbound.timeout
}

/// SendGrid v3 `POST /v3/mail/send`: JSON, the API key as bearer.
async fn sendgrid(state: &AppState, n: &Notice, from: &str, key: &str, id: &str) -> TaskResult {
    let mut from_obj = json!({ "email": from });
    if let Some(name) = &n.from_name {
        from_obj["name"] = json!(name);
    }
    let mut body = json!({
        "personalizations": [{ "to": [{ "email": n.to }] }],
        "from": from_obj,
        "subject": n.subject,
        "content": [
            { "type": "text/plain", "value": n.text },
            { "type": "text/html", "value": n.html },
        ],
        // The task id, the same on every attempt, so a resend is recognisable.
        "custom_args": { "echo5_notice": id },
    });
    if let Some(r) = &n.reply_to {
        body["reply_to"] = json!({ "email": r });
    }
    let url = format!("{}/v3/mail/send", state.outbound.sendgrid_api_url);
    let sent = state
        .outbound
        .client
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .timeout(timeout(state))
        .send()
        .await;
    judge(state, "SendGrid", sent).await
}

/// A Slack incoming webhook: JSON `{text}`.
async fn slack(state: &AppState, n: &Notice, secrets: &ChannelSecrets) -> TaskResult {
    let Some(url) = &secrets.slack_webhook_url else {
        return TaskResult::Fail {
            error: "the tenant's Slack channel was removed".into(),
        };
    };
    let sent = state
        .outbound
        .client
        .post(url)
        .json(&json!({ "text": n.text }))
        .timeout(timeout(state))
        .send()
        .await;
    judge(state, "Slack", sent).await
}

/// Twilio `POST /2010-04-01/Accounts/{sid}/Messages.json`: form fields To, From, Body,
/// basic auth with the account SID and token.
async fn sms(
    state: &AppState,
    n: &Notice,
    doc: &Notifications,
    secrets: &ChannelSecrets,
) -> TaskResult {
    let (Some(sms), Some(token)) = (&doc.channels.sms, &secrets.sms_auth_token) else {
        return TaskResult::Fail {
            error: "the tenant's SMS channel was removed".into(),
        };
    };
    let body: String = n.text.trim().chars().take(SMS_MAX_CHARS).collect();
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        state.outbound.twilio_api_url, sms.account_sid
    );
    let sent = state
        .outbound
        .client
        .post(url)
        .basic_auth(&sms.account_sid, Some(token))
        .form(&[
            ("To", n.to.as_str()),
            ("From", sms.from.as_str()),
            ("Body", body.as_str()),
        ])
        .timeout(timeout(state))
        .send()
        .await;
    judge(state, "Twilio", sent).await
}
