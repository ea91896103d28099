//! Runs one outbox task: dispatches on its kind to the handler that knows its payload.
//! Each handler says how the run ended ([`TaskResult`]); the worker joins that with the
//! retry schedule and records it.

use echo5_core::outbox_tasks::{MailTask, TaskKind, TaskResult};
use echo5_data::outbox_tasks::Task;

use crate::mailer::MailSent;
use crate::state::AppState;

/// Runs `task` once.
pub async fn run_task(state: &AppState, task: &Task) -> TaskResult {
    let Some(kind) = TaskKind::parse(&task.kind) else {
        return TaskResult::Fail {
            error: format!("unknown task kind {:?}", task.kind),
        };
    };
    match kind {
        TaskKind::Mail => mail(state, task).await,
        TaskKind::StripeMeterEvent => crate::plan_jobs::stripe_meter_event(state, task).await,
        TaskKind::MetaLeadFetch => crate::meta_graph::fetch_lead(state, task).await,
        TaskKind::MetaFormSync => crate::meta_graph::sync_page(state, task).await,
        TaskKind::Notification => crate::notifications::run(state, task).await,
    }
}

async fn mail(state: &AppState, task: &Task) -> TaskResult {
    let mail: MailTask = match serde_json::from_value(task.payload.clone()) {
        Ok(m) => m,
        Err(e) => {
            return TaskResult::Fail {
                error: format!("unreadable mail task: {e}"),
            };
        }
    };
    match state.mailer.send_task(&mail, &task.id.to_string()).await {
        MailSent::Sent => TaskResult::Done,
        MailSent::NotConfigured => {
            tracing::info!(task = %task.id, "mail task not sent: no SMTP server is configured");
            TaskResult::Fail {
                error: "no SMTP server is configured (--smtp-url)".into(),
            }
        }
        MailSent::Refused(error) => TaskResult::Fail { error },
        MailSent::Failed(error) => TaskResult::Retry {
            error,
            not_before: None,
        },
    }
}
