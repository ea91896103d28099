//! The outbox's tasks: everything Echo5 sends out that is not a webhook message (a mail
//! notice, an ad platform fetch, a provider's API call). A task is written in the
//! transaction of the change that causes it and run by the outbox worker with the same
//! retry schedule as webhooks, so it survives a crash, a restart and an outage of the
//! other side.
//!
//! - `kind` names the handler; `payload` is the handler's own JSON.
//! - `dedup_key` makes a task unique per kind for ever (one fetch per Meta leadgen id,
//!   however often Meta repeats the notification).
//! - `group` ties tasks that stand or fall together (one tenant's Meta token): a handler that
//!   answers [`TaskResult::Park`] parks every pending task of its group, tasks queued into a
//!   parked group wait parked too, and releasing the group resumes them all.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a task does; its name is stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A plain-text mail (payload [`MailTask`]).
    Mail,
    /// One usage report to Stripe (payload `crate::plans::MeterEvent`); the task's id is
    /// the report's `identifier`, the same on every retry.
    StripeMeterEvent,
    /// One Meta lead from the Graph API by its leadgen id (payload
    /// [`crate::integrations::meta_graph::LeadFetch`]), group `meta:<tenant>`.
    MetaLeadFetch,
    /// One page of a Meta form's leads, a backfill (payload
    /// [`crate::integrations::meta_graph::FormSync`]), group `meta:<tenant>`.
    MetaFormSync,
    /// A tenant's notification (e-mail, Slack or SMS) to one recipient; payload
    /// `echo5_core::notifications::Notice`.
    Notification,
}

impl TaskKind {
    pub const ALL: &'static [TaskKind] = &[
        TaskKind::Mail,
        TaskKind::StripeMeterEvent,
        TaskKind::MetaLeadFetch,
        TaskKind::MetaFormSync,
        TaskKind::Notification,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Mail => "mail",
            TaskKind::StripeMeterEvent => "stripe_meter_event",
            TaskKind::MetaLeadFetch => "meta_lead_fetch",
            TaskKind::MetaFormSync => "meta_form_sync",
            TaskKind::Notification => "notification",
        }
    }

    pub fn parse(s: &str) -> Option<TaskKind> {
        TaskKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for its time (`next_attempt_at`).
    Pending,
    /// Held with its group until the group is released.
    Parked,
    Succeeded,
    /// Refused for good, or the schedule is spent.
    Failed,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Parked => "parked",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<TaskStatus> {
        [
            TaskStatus::Pending,
            TaskStatus::Parked,
            TaskStatus::Succeeded,
            TaskStatus::Failed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A task to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub kind: TaskKind,
    pub tenant_id: Option<Uuid>,
    /// The lead the task is about, if any: erasing the lead scrubs the task's payload and
    /// ends it unsent (its text may hold the lead's name or e-mail).
    pub lead_id: Option<Uuid>,
    pub group: Option<String>,
    pub dedup_key: Option<String>,
    pub payload: serde_json::Value,
    /// When the first attempt is due.
    pub due_at: DateTime<Utc>,
}

impl NewTask {
    /// A task due at `due_at` with no group and no dedup key.
    pub fn new(kind: TaskKind, payload: serde_json::Value, due_at: DateTime<Utc>) -> NewTask {
        NewTask {
            kind,
            tenant_id: None,
            lead_id: None,
            group: None,
            dedup_key: None,
            payload,
            due_at,
        }
    }

    pub fn tenant(mut self, tenant: Uuid) -> NewTask {
        self.tenant_id = Some(tenant);
        self
    }

    pub fn lead(mut self, lead: Uuid) -> NewTask {
        self.lead_id = Some(lead);
        self
    }

    pub fn group(mut self, group: impl Into<String>) -> NewTask {
        self.group = Some(group.into());
        self
    }

    pub fn dedup(mut self, key: impl Into<String>) -> NewTask {
        self.dedup_key = Some(key.into());
        self
    }

    /// A plain-text mail to one address.
    pub fn mail(mail: &MailTask, due_at: DateTime<Utc>) -> NewTask {
        NewTask::new(
            TaskKind::Mail,
            serde_json::to_value(mail).unwrap_or_default(),
            due_at,
        )
    }
}

/// The payload of a [`TaskKind::Mail`] task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailTask {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// How one run of a task ended, as its handler judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskResult {
    Done,
    /// Failed for now: tried again on the schedule, not before `not_before` (a provider's
    /// `Retry-After`).
    Retry {
        error: String,
        not_before: Option<DateTime<Utc>>,
    },
    /// Cannot succeed until someone acts (a revoked token): the task and its group wait,
    /// parked, until the group is released. A task without a group fails instead.
    Park {
        error: String,
    },
    /// Refused for good (a 4xx that no retry changes).
    Fail {
        error: String,
    },
}

/// What becomes of a task after a run, given the schedule's next time for a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    Succeeded,
    Retry { at: DateTime<Utc>, error: String },
    Parked { error: String },
    Failed { error: String },
}

/// Joins a handler's verdict with the schedule: `next` is the schedule's time for the next
/// attempt (`None` when it is spent). Pure, so the rule is tested without a worker.
pub fn outcome(result: TaskResult, next: Option<DateTime<Utc>>, grouped: bool) -> TaskOutcome {
    match result {
        TaskResult::Done => TaskOutcome::Succeeded,
        TaskResult::Retry { error, not_before } => match next {
            Some(at) => TaskOutcome::Retry {
                at: not_before.map_or(at, |nb| at.max(nb)),
                error,
            },
            None => TaskOutcome::Failed {
                error: format!("{error} (gave up: the retry schedule is spent)"),
            },
        },
        TaskResult::Park { error } if grouped => TaskOutcome::Parked { error },
        TaskResult::Park { error } | TaskResult::Fail { error } => TaskOutcome::Failed { error },
    }
}

/// The error an erased lead's unsent tasks end with.
pub const ERASED: &str = "not sent: the lead it is about was erased";

/// Longest error text kept with a task.
pub const ERROR_KEPT_CHARS: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn kinds_and_statuses_round_trip_through_their_names() {
        for k in TaskKind::ALL {
            assert_eq!(TaskKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(TaskKind::parse("nope"), None);
        for s in ["pending", "parked", "succeeded", "failed"] {
            assert_eq!(TaskStatus::parse(s).map(TaskStatus::as_str), Some(s));
        }
    }

    #[test]
    fn a_retry_takes_the_later_of_the_schedule_and_the_providers_wait() {
        let r = |nb| TaskResult::Retry {
            error: "503".into(),
            not_before: nb,
        };
        assert_eq!(
            outcome(r(None), Some(t(5)), false),
            TaskOutcome::Retry {
                at: t(5),
                error: "503".into()
            }
        );
        assert_eq!(
            outcome(r(Some(t(60))), Some(t(5)), false),
            TaskOutcome::Retry {
                at: t(60),
                error: "503".into()
            }
        );
        assert_eq!(
            outcome(r(Some(t(1))), Some(t(5)), false),
            TaskOutcome::Retry {
                at: t(5),
                error: "503".into()
            }
        );
        assert!(matches!(
            outcome(r(None), None, false),
            TaskOutcome::Failed { error } if error.contains("gave up")
        ));
    }

    #[test]
    fn only_a_grouped_task_parks() {
        let park = || TaskResult::Park {
            error: "token".into(),
        };
        assert_eq!(
            outcome(park(), Some(t(5)), true),
            TaskOutcome::Parked {
                error: "token".into()
            }
        );
        assert_eq!(
            outcome(park(), Some(t(5)), false),
            TaskOutcome::Failed {
                error: "token".into()
            }
        );
        assert_eq!(
            outcome(TaskResult::Done, None, true),
            TaskOutcome::Succeeded
        );
    }
}
