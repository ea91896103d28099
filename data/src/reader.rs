//! Read-only connections on their own threads, shared through one MPMC queue, so reads run
//! in parallel with each other and with the writer (WAL) and never on the async runtime.

use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use tokio::sync::oneshot;

use crate::db;
use crate::error::StoreError;

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

#[derive(Clone)]
pub(crate) struct Readers {
    tx: crossbeam_channel::Sender<ReadJob>,
}

impl Readers {
    pub(crate) fn spawn(path: &Path, threads: usize, queue: usize) -> Result<Readers, StoreError> {
        let (tx, rx) = crossbeam_channel::bounded::<ReadJob>(queue.max(1));
        for i in 0..threads.max(1) {
            let conn = db::open_reader(path)?;
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("echo5-reader-{i}"))
                .spawn(move || {
                    for job in rx.iter() {
                        job(&conn);
                    }
                })
                .map_err(|e| StoreError::Internal(format!("cannot spawn a reader: {e}")))?;
        }
        Ok(Readers { tx })
    }

    pub(crate) async fn call<F, T>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let r = catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|_| Err(StoreError::Internal("a read job panicked".into())));
            let _ = reply.send(r);
        });
        self.tx.try_send(job).map_err(|e| match e {
            crossbeam_channel::TrySendError::Full(_) => StoreError::QueueFull,
            crossbeam_channel::TrySendError::Disconnected(_) => {
                StoreError::Unavailable("the readers stopped".into())
            }
        })?;
        rx.await
            .map_err(|_| StoreError::Unavailable("a reader stopped".into()))?
    }
}
