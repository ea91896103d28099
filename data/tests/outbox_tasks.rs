//! The outbox's task queue against a real database file: one task per dedup key, the
//! schedule's times, a parked group and its release, and a run recorded once.

mod common;

use chrono::TimeDelta;
use common::{Fixture, master_key, t0};
use echo5_core::outbox_tasks::{MailTask, NewTask, TaskKind, TaskOutcome, TaskStatus};
use echo5_data::StoreOptions;
use echo5_data::outbox_tasks::TaskFilter;
use serde_json::json;

fn open() -> Fixture {
    common::open_with(master_key(7), StoreOptions::default())
}

fn mail(n: u32) -> NewTask {
    NewTask::mail(
        &MailTask {
            to: format!("m{n}@example.com"),
            subject: "s".into(),
            text: "t".into(),
        },
        t0(),
    )
}

async fn status_of(f: &Fixture, id: uuid::Uuid) -> TaskStatus {
    f.store
        .tasks(TaskFilter::default(), 100)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.id == id)
        .map(|t| t.status)
        .expect("the task is stored")
}

#[tokio::test]
async fn a_dedup_key_queues_one_task_ever() {
    let f = open();
    let first = f.store.enqueue_task(mail(1).dedup("lead-7")).await.unwrap();
    assert!(first.is_some());
    assert_eq!(
        f.store.enqueue_task(mail(2).dedup("lead-7")).await.unwrap(),
        None
    );
    // Even after it ran.
    f.store
        .finish_task(first.unwrap(), TaskOutcome::Succeeded)
        .await
        .unwrap();
    assert_eq!(
        f.store.enqueue_task(mail(3).dedup("lead-7")).await.unwrap(),
        None
    );
    // Other keys, and tasks without one, are each their own.
    assert!(
        f.store
            .enqueue_task(mail(4).dedup("lead-8"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(f.store.enqueue_task(mail(5)).await.unwrap().is_some());
    assert!(f.store.enqueue_task(mail(5)).await.unwrap().is_some());
    let all = f.store.tasks(TaskFilter::default(), 100).await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].payload["to"], "m1@example.com");
}

#[tokio::test]
async fn due_tasks_follow_their_times_and_leave_out_the_running_ones() {
    let f = open();
    let later = f
        .store
        .enqueue_task(NewTask::new(
            TaskKind::Mail,
            json!({}),
            t0() + TimeDelta::seconds(30),
        ))
        .await
        .unwrap()
        .unwrap();
    let now = f.store.enqueue_task(mail(1)).await.unwrap().unwrap();
    let due = f.store.due_tasks(10, vec![]).await.unwrap();
    assert_eq!(due.iter().map(|t| t.id).collect::<Vec<_>>(), vec![now]);
    assert!(f.store.due_tasks(10, vec![now]).await.unwrap().is_empty());
    f.store
        .finish_task(
            now,
            TaskOutcome::Retry {
                at: t0() + TimeDelta::seconds(5),
                error: "451 try later".into(),
            },
        )
        .await
        .unwrap();
    assert!(f.store.due_tasks(10, vec![]).await.unwrap().is_empty());
    f.clock.advance(TimeDelta::seconds(5));
    let due = f.store.due_tasks(10, vec![]).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].attempts, 1);
    assert_eq!(due[0].last_error.as_deref(), Some("451 try later"));
    f.clock.advance(TimeDelta::seconds(25));
    let due: Vec<_> = f.store.due_tasks(10, vec![]).await.unwrap();
    assert_eq!(due.len(), 2);
    assert_eq!(due[0].id, now, "the one due first comes first");
    assert_eq!(due[1].id, later);
    assert_eq!(f.store.due_tasks(1, vec![]).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_parked_task_holds_its_group_until_the_group_is_released() {
    let f = open();
    let a = f
        .store
        .enqueue_task(mail(1).group("meta:t1"))
        .await
        .unwrap()
        .unwrap();
    let b = f
        .store
        .enqueue_task(mail(2).group("meta:t1"))
        .await
        .unwrap()
        .unwrap();
    let other = f
        .store
        .enqueue_task(mail(3).group("meta:t2"))
        .await
        .unwrap()
        .unwrap();
    f.store
        .finish_task(
            a,
            TaskOutcome::Parked {
                error: "token expired".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(status_of(&f, a).await, TaskStatus::Parked);
    assert_eq!(
        status_of(&f, b).await,
        TaskStatus::Parked,
        "its group waits with it"
    );
    assert_eq!(
        status_of(&f, other).await,
        TaskStatus::Pending,
        "another group goes on"
    );
    let c = f
        .store
        .enqueue_task(mail(4).group("meta:t1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        status_of(&f, c).await,
        TaskStatus::Parked,
        "queued into a parked group"
    );
    let due: Vec<_> = f.store.due_tasks(10, vec![]).await.unwrap();
    assert_eq!(due.iter().map(|t| t.id).collect::<Vec<_>>(), vec![other]);

    f.clock.advance(TimeDelta::minutes(3));
    assert_eq!(f.store.release_group("meta:t1".into()).await.unwrap(), 3);
    let due: Vec<_> = f.store.due_tasks(10, vec![]).await.unwrap();
    assert_eq!(due.len(), 4);
    let released = f
        .store
        .tasks(
            TaskFilter {
                group: Some("meta:t1".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert!(
        released
            .iter()
            .all(|t| t.next_attempt_at == Some(t0() + TimeDelta::minutes(3)))
    );
    // A released group takes new tasks as pending again.
    let d = f
        .store
        .enqueue_task(mail(5).group("meta:t1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status_of(&f, d).await, TaskStatus::Pending);
    assert_eq!(f.store.release_group("meta:t1".into()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_run_is_recorded_once_and_a_finished_task_stays_finished() {
    let f = open();
    let id = f.store.enqueue_task(mail(1)).await.unwrap().unwrap();
    f.store
        .finish_task(
            id,
            TaskOutcome::Failed {
                error: "550 no such mailbox".into(),
            },
        )
        .await
        .unwrap();
    // A late second record of a run (a worker that lost track) changes nothing.
    f.store
        .finish_task(id, TaskOutcome::Succeeded)
        .await
        .unwrap();
    let t = f
        .store
        .tasks(TaskFilter::default(), 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(t.status, TaskStatus::Failed);
    assert_eq!(t.attempts, 1);
    assert_eq!(t.last_error.as_deref(), Some("550 no such mailbox"));
    assert_eq!(t.next_attempt_at, None);
    assert!(f.store.due_tasks(10, vec![]).await.unwrap().is_empty());
}
