//! The outbox worker: fans new messages out to their endpoints and sends due deliveries,
//! at most [`MAX_IN_FLIGHT`] at once and [`PER_ENDPOINT`] per endpoint, so a slow receiver
//! holds only its own deliveries. Every attempt is recorded; the schedule, `Retry-After`,
//! 410 and the five-day rule decide what follows. It runs the outbox's tasks (mail notices,
//! provider calls) from the same permits, on the same schedule.
//!
//! Database work runs on the store's threads; the sends are tokio tasks. Times come from
//! the store's clock (tests drive the schedule with a manual clock); the worker looks for
//! due work when woken (a message or retry was queued, a send ended) and every [`TICK`].

use echo5_core::outbox::parse_retry_after;
use echo5_core::outbox_tasks::{TaskOutcome, outcome};
use echo5_core::webhooks::{RESPONSE_KEPT_BYTES, signature_header};
use echo5_data::deliveries::{AttemptOutcome, AttemptRecord, DueDelivery, FAN_OUT_BATCH};
use echo5_data::outbox_tasks::Task;
use reqwest::StatusCode;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::outbound::{Outbound, UrlRefused, host_of, refusal_in, resolve_checked};
use crate::outbox_tasks::run_task;
use crate::state::AppState;

/// Sends in flight at once, over every endpoint.
pub const MAX_IN_FLIGHT: usize = 64;
/// Sends in flight at once to one endpoint.
pub const PER_ENDPOINT: usize = 8;
/// How often the worker looks for due retries without being woken.
pub const TICK: Duration = Duration::from_millis(200);
/// Write jobs committed per second past which the writer counts as busy (an ingest burst):
/// the worker then makes a pass (one fan-out batch, the deliveries due) at most every
/// [`BUSY_PASS_EVERY`], so its fan-out and attempt records take few of the writer's turns;
/// deliveries catch up when the burst ends.
pub const BUSY_JOBS_PER_SEC: u64 = 1000;
pub const BUSY_PASS_EVERY: Duration = Duration::from_secs(1);

/// How often, on the store's clock, the delivery log and finished tasks are pruned.
pub const PRUNE_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Write jobs the worker itself has queued (attempt records): not the burst it yields to.
static OWN_JOBS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The writer's commit rate, less the worker's own jobs, sampled at most every 100 ms.
struct WriterLoad {
    at: Instant,
    jobs: u64,
    busy: bool,
}

fn others_jobs(state: &AppState) -> u64 {
    let all = state
        .store
        .writer_stats()
        .jobs
        .load(std::sync::atomic::Ordering::Relaxed);
    all.saturating_sub(OWN_JOBS.load(std::sync::atomic::Ordering::Relaxed))
}

impl WriterLoad {
    fn busy(&mut self, state: &AppState) -> bool {
        let elapsed = self.at.elapsed();
        if elapsed >= Duration::from_millis(100) {
            let jobs = others_jobs(state);
            let rate = (jobs.saturating_sub(self.jobs)) as f64 / elapsed.as_secs_f64();
            self.busy = rate > BUSY_JOBS_PER_SEC as f64;
            self.at = Instant::now();
            self.jobs = jobs;
        }
        self.busy
    }
}

type InFlight = Arc<Mutex<HashMap<Uuid, Vec<i64>>>>;

/// Niceness of the worker's thread: sending is background work, and under an ingest burst
/// the scheduler gives the request threads the cores first (deliveries catch up after).
pub const NICENESS: i32 = 10;

/// The running worker; [`Worker::stop`] ends it.
pub struct Worker(Option<tokio::sync::oneshot::Sender<()>>);

impl Worker {
    pub fn stop(mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the worker on a thread of its own with a single-threaded runtime, at
/// [`NICENESS`]: its sends, signing and HTTP client never take a request thread's turn.
/// Its database work still runs on the store's threads.
pub fn spawn(state: AppState) -> Worker {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let started = std::thread::Builder::new()
        .name("echo5-outbox".into())
        .spawn(move || {
            lower_priority();
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the outbox worker's runtime; nothing will be sent");
                    return;
                }
            };
            rt.block_on(async move {
                tokio::select! {
                    _ = run(state) => {}
                    _ = rx => {}
                }
            });
        });
    if let Err(e) = started {
        tracing::error!(error = %e, "cannot spawn the outbox worker thread; nothing will be sent");
    }
    Worker(Some(tx))
}

/// Lowers this thread's scheduling priority (Linux: niceness is per thread).
fn lower_priority() {
    let me = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(me), NICENESS) {
        tracing::debug!(error = %e, "cannot lower the outbox worker's priority");
    }
}

/// Runs until dropped (at shutdown).
pub async fn run(state: AppState) {
    let wake = state.store.outbox_wakeups();
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let in_flight: InFlight = Arc::default();
    let tasks_running: Arc<Mutex<HashSet<Uuid>>> = Arc::default();
    let mut warned = false;
    let mut last_pass = Instant::now()
        .checked_sub(BUSY_PASS_EVERY)
        .unwrap_or_else(Instant::now);
    let mut load = WriterLoad {
        at: Instant::now(),
        jobs: others_jobs(&state),
        busy: false,
    };
    let pruning = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The first pruning an hour after the start: a start is busy enough (and restarts in a
    // row would each prune again).
    let mut last_prune = state.store.now();
    loop {
        let busy = load.busy(&state);
        let now = state.store.now();
        if !busy && now - last_prune >= PRUNE_EVERY {
            last_prune = now;
            prune(&state, &pruning, now - state.outbound.keep);
        }
        if busy {
            let next = last_pass + BUSY_PASS_EVERY;
            if Instant::now() < next {
                tokio::time::sleep_until(next.min(Instant::now() + TICK).into()).await;
                continue;
            }
        }
        last_pass = Instant::now();
        let mut failed = false;
        loop {
            OWN_JOBS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match state.store.outbox_fan_out().await {
                // A busy writer gets one batch per pass.
                Ok(n) if n as i64 == FAN_OUT_BATCH && !busy => continue,
                Ok(_) => break,
                Err(e) => {
                    failed = true;
                    if !warned {
                        tracing::warn!(error = %e, "outbox fan-out failed; will retry");
                    }
                    break;
                }
            }
        }
        let free = permits.available_permits();
        if free > 0 {
            let busy = in_flight.lock().unwrap_or_else(|p| p.into_inner()).clone();
            match state.store.due_deliveries(PER_ENDPOINT, busy, free).await {
                Ok(due) => {
                    for d in due {
                        let Ok(permit) = permits.clone().try_acquire_owned() else {
                            break;
                        };
                        in_flight
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .entry(d.endpoint_id)
                            .or_default()
                            .push(d.message_seq);
                        let state = state.clone();
                        let in_flight = in_flight.clone();
                        tokio::spawn(async move {
                            let (ep, seq) = (d.endpoint_id, d.message_seq);
                            deliver(&state, d).await;
                            let mut map = in_flight.lock().unwrap_or_else(|p| p.into_inner());
                            if let Some(v) = map.get_mut(&ep) {
                                v.retain(|s| *s != seq);
                                if v.is_empty() {
                                    map.remove(&ep);
                                }
                            }
                            drop(map);
                            drop(permit);
                            state.store.wake_outbox();
                        });
                    }
                }
                Err(e) => {
                    failed = true;
                    if !warned {
                        tracing::warn!(error = %e, "cannot read the outbox queue; will retry");
                    }
                }
            }
        }
        let free = permits.available_permits();
        if free > 0 {
            let running: Vec<Uuid> = tasks_running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .copied()
                .collect();
            match state.store.due_tasks(free, running).await {
                Ok(due) => {
                    for task in due {
                        let Ok(permit) = permits.clone().try_acquire_owned() else {
                            break;
                        };
                        tasks_running
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(task.id);
                        let state = state.clone();
                        let tasks_running = tasks_running.clone();
                        tokio::spawn(async move {
                            let id = task.id;
                            run_one(&state, task).await;
                            tasks_running
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .remove(&id);
                            drop(permit);
                            state.store.wake_outbox();
                        });
                    }
                }
                Err(e) => {
                    failed = true;
                    if !warned {
                        tracing::warn!(error = %e, "cannot read the outbox's tasks; will retry");
                    }
                }
            }
        }
        warned = failed;
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(TICK) => {}
        }
    }
}

/// What came back from one send.
struct Answer {
    status: Option<StatusCode>,
    retry_after: Option<String>,
    body: String,
    error: Option<String>,
}

async fn send(out: &Outbound, d: &DueDelivery, timestamp: i64) -> Answer {
    let failed = |error: String| Answer {
        status: None,
        retry_after: None,
        body: String::new(),
        error: Some(error),
    };
    // A literal address never reaches the resolver: judge it here. Names are judged by the
    // client's resolver as it connects.
    let host = match host_of(&d.url) {
        Ok(h) => h,
        Err(e) => return failed(e.to_string()),
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok()
        && let Err(e) = resolve_checked(&out.policy, bare).await
    {
        return failed(e.to_string());
    }
    let keys: Vec<&[u8]> = d.keys.iter().map(|k| k.as_slice()).collect();
    let signature = signature_header(&keys, &d.message_id, timestamp, d.body.as_bytes());
    let sent = out
        .client
        .post(&d.url)
        .timeout(out.timeout)
        .header("content-type", "application/json")
        .header("webhook-id", &d.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(d.body.clone())
        .send()
        .await;
    let mut resp = match sent {
        Ok(r) => r,
        Err(e) => {
            if let Some(r) = refusal_in(&e) {
                return failed(match r {
                    UrlRefused::Forbidden { .. } => r.to_string(),
                    other => other.to_string(),
                });
            }
            // The endpoint id names it in logs; its URL may carry a capability (Zapier's,
            // Make's hook URLs do), so it stays out of the error text.
            let e = e.without_url();
            let what = if e.is_timeout() {
                format!("timeout: no answer within {} s", out.timeout.as_secs_f64())
            } else if e.is_connect() {
                format!("connection failed: {}", chain(&e))
            } else {
                chain(&e)
            };
            return failed(what);
        }
    };
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut kept: Vec<u8> = Vec::new();
    let mut error = None;
    while kept.len() < RESPONSE_KEPT_BYTES {
        match resp.chunk().await {
            Ok(Some(c)) => {
                kept.extend_from_slice(&c[..c.len().min(RESPONSE_KEPT_BYTES - kept.len())])
            }
            Ok(None) => break,
            Err(e) => {
                if e.is_timeout() {
                    error = Some(format!(
                        "timeout: the answer did not finish within {} s",
                        out.timeout.as_secs_f64()
                    ));
                }
                break;
            }
        }
    }
    Answer {
        status: Some(status),
        retry_after,
        body: String::from_utf8_lossy(&kept).into_owned(),
        error,
    }
}

/// An error with its causes, on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = c.source();
    }
    out
}

/// One attempt: send, judge, record, and tell the manager if it disabled the endpoint.
pub async fn deliver(state: &AppState, d: DueDelivery) {
    let out = &state.outbound;
    let at = state.store.now();
    let started = Instant::now();
    let answer = send(out, &d, at.timestamp()).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    let made = d.attempts as usize + 1;
    let outcome = match answer.status {
        Some(s) if s.is_success() => AttemptOutcome::Succeeded,
        Some(StatusCode::GONE) => AttemptOutcome::Gone,
        status => {
            let floor = match status {
                Some(StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE) => answer
                    .retry_after
                    .as_deref()
                    .and_then(|v| parse_retry_after(v, at)),
                _ => None,
            };
            // Measured from when the attempt ended on the store's clock.
            match out.schedule.next_attempt(made, state.store.now(), floor) {
                Some(t) => AttemptOutcome::Retry(t),
                None => AttemptOutcome::GaveUp,
            }
        }
    };
    tracing::debug!(
        endpoint = %d.endpoint_id,
        message = %d.message_id,
        status = answer.status.map(|s| s.as_u16()),
        attempt = made,
        "webhook attempt"
    );
    if !matches!(outcome, AttemptOutcome::Succeeded) {
        tracing::info!(
            endpoint = %d.endpoint_id,
            message = %d.message_id,
            status = answer.status.map(|s| s.as_u16()),
            attempt = made,
            error = answer.error.as_deref().unwrap_or(""),
            "webhook attempt failed"
        );
    }
    let record = AttemptRecord {
        endpoint_id: d.endpoint_id,
        message_seq: d.message_seq,
        at,
        status_code: answer.status.map(|s| s.as_u16()),
        duration_ms,
        response: answer.body,
        error: answer.error,
        outcome,
    };
    OWN_JOBS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match state.store.finish_attempt(record).await {
        Ok(Some(d)) => {
            tracing::warn!(endpoint = %d.endpoint_id, tenant = %d.tenant_id, reason = d.reason, "webhook endpoint disabled");
        }
        Ok(None) => {}
        Err(e) => {
            // Not recorded: the delivery stays due and is sent again (at least once).
            tracing::warn!(error = %e, endpoint = %d.endpoint_id, "cannot record a webhook attempt");
        }
    }
}

/// One run of a task: its handler, then the schedule decides what follows, and the store
/// records it. A run that cannot be recorded is run again (at least once).
pub async fn run_one(state: &AppState, task: Task) {
    let result = run_task(state, &task).await;
    let made = task.attempts as usize + 1;
    let next = state
        .outbound
        .schedule
        .next_attempt(made, state.store.now(), None);
    let outcome = outcome(result, next, task.group.is_some());
    if !matches!(outcome, TaskOutcome::Succeeded) {
        tracing::info!(
            task = %task.id,
            kind = %task.kind,
            attempt = made,
            outcome = ?outcome,
            "outbox task did not succeed"
        );
    }
    OWN_JOBS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Err(e) = state.store.finish_task(task.id, outcome).await {
        tracing::warn!(error = %e, task = %task.id, "cannot record an outbox task's run");
    }
}

/// Prunes what is older than `cutoff` on a task of its own (one pass at a time), so a long
/// first pruning never holds deliveries up.
fn prune(
    state: &AppState,
    running: &Arc<std::sync::atomic::AtomicBool>,
    cutoff: chrono::DateTime<chrono::Utc>,
) {
    use std::sync::atomic::Ordering;
    if running.swap(true, Ordering::AcqRel) {
        return;
    }
    let (state, running) = (state.clone(), running.clone());
    tokio::spawn(async move {
        match state.store.prune_outbox(cutoff).await {
            Ok(p) if p.messages + p.tasks > 0 => {
                tracing::info!(messages = p.messages, tasks = p.tasks, "outbox pruned");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot prune the outbox; will try again"),
        }
        running.store(false, Ordering::Release);
    });
}
