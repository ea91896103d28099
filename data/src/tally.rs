//! Counters the writer adds up over a group commit and writes once, just before its COMMIT,
//! in the same transaction: usage per (tenant, key, month) and lead counts per (tenant,
//! stage, spam). Counters and the rows they count can never disagree after a crash, and the
//! writer runs one upsert per counter row and batch instead of one per stored lead (each
//! was a few per cent of the writer at full ingest).
//!
//! A job's counts join the batch only if the job succeeds; a failed commit drops them with
//! the rows they counted.

use rusqlite::Connection;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use crate::error::StoreError;
use crate::writer::WriteObserver;

/// A count that can be added to another of its kind.
pub(crate) trait Tally: Default + Send {
    fn add(&mut self, other: &Self);
}

/// Writes one counter row's total for the batch.
type WriteRow<K, C> = fn(&Connection, &K, &C) -> Result<(), StoreError>;

pub(crate) struct BatchTally<K, C> {
    staged: Mutex<Staged<K, C>>,
    write: WriteRow<K, C>,
}

struct Staged<K, C> {
    job: HashMap<K, C>,
    batch: HashMap<K, C>,
}

impl<K: Hash + Eq + Send, C: Tally> BatchTally<K, C> {
    pub(crate) fn new(write: WriteRow<K, C>) -> Self {
        BatchTally {
            staged: Mutex::new(Staged {
                job: HashMap::new(),
                batch: HashMap::new(),
            }),
            write,
        }
    }

    fn staged(&self) -> std::sync::MutexGuard<'_, Staged<K, C>> {
        self.staged.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sums `f` over what the running batch has staged: its succeeded jobs and the running
    /// one (writer thread only).
    pub(crate) fn staged_sum(&self, f: impl Fn(&K, &C) -> u64) -> u64 {
        let s = self.staged();
        s.batch
            .iter()
            .chain(s.job.iter())
            .map(|(k, c)| f(k, c))
            .sum()
    }

    /// Counts `delta` for the running job (writer thread only).
    pub(crate) fn add(&self, key: K, delta: C) {
        self.staged().job.entry(key).or_default().add(&delta);
    }
}

impl<K: Hash + Eq + Send, C: Tally> WriteObserver for BatchTally<K, C> {
    fn job_done(&self, ok: bool) {
        let mut s = self.staged();
        let job = std::mem::take(&mut s.job);
        if ok {
            for (k, c) in job {
                s.batch.entry(k).or_default().add(&c);
            }
        }
    }

    fn before_commit(&self, conn: &Connection) -> Result<(), StoreError> {
        let batch = {
            let mut s = self.staged();
            s.job.clear();
            std::mem::take(&mut s.batch)
        };
        for (k, c) in &batch {
            (self.write)(conn, k, c)?;
        }
        Ok(())
    }

    fn batch_done(&self, _ok: bool) {
        // Written by `before_commit`, or rolled back with the batch: nothing to keep.
        let mut s = self.staged();
        s.job.clear();
        s.batch.clear();
    }
}
