//! A first-in, first-out queue kept in fixed-size chunks, so that growing it never copies
//! what it already holds.
//!
//! Why: the recent-leads windows ([`crate::dedup`]) keep their entries in arrival order for
//! expiry, on the one writer thread. A `VecDeque` doubles when full: at half a million
//! entries that is a 25 MB copy into 50 MB of freshly faulted memory, and a c64 ingest run
//! measured 8–16 ms group commits exactly at the doublings (the whole batch waiting). Here a
//! push allocates at most one chunk of [`CHUNK`] entries, and a pop frees at most one (never
//! the last).

use std::collections::VecDeque;

/// Entries per chunk: large enough that the chunk list stays short (a million entries are
/// 256 chunks), small enough that allocating one is cheap.
pub const CHUNK: usize = 4096;

#[derive(Debug)]
pub struct ChunkedQueue<T> {
    /// Each inner queue is allocated with room for [`CHUNK`] entries and never holds more,
    /// so it never grows; only this short list of chunks does.
    chunks: VecDeque<VecDeque<T>>,
    len: usize,
}

impl<T> Default for ChunkedQueue<T> {
    fn default() -> Self {
        ChunkedQueue {
            chunks: VecDeque::new(),
            len: 0,
        }
    }
}

impl<T> ChunkedQueue<T> {
    pub fn push_back(&mut self, v: T) {
        let full = self.chunks.back().is_none_or(|c| c.len() == CHUNK);
        if full {
            self.chunks.push_back(VecDeque::with_capacity(CHUNK));
        }
        if let Some(last) = self.chunks.back_mut() {
            last.push_back(v);
            self.len += 1;
        }
    }

    pub fn front(&self) -> Option<&T> {
        self.chunks.front().and_then(VecDeque::front)
    }

    pub fn pop_front(&mut self) -> Option<T> {
        let first = self.chunks.front_mut()?;
        let v = first.pop_front();
        // The last chunk stays when it empties: under light traffic the queue swings
        // between empty and a few entries, and each swing would allocate a chunk anew.
        if first.is_empty() && self.chunks.len() > 1 {
            self.chunks.pop_front();
        }
        if v.is_some() {
            self.len -= 1;
        }
        v
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_across_chunks_and_frees_emptied_ones() {
        let mut q = ChunkedQueue::default();
        assert_eq!(q.pop_front(), None);
        let n = 2 * CHUNK + 7;
        for i in 0..n {
            q.push_back(i);
        }
        assert_eq!((q.len(), q.chunks.len()), (n, 3));
        for i in 0..CHUNK + 1 {
            assert_eq!(q.front(), Some(&i));
            assert_eq!(q.pop_front(), Some(i));
        }
        assert_eq!(q.chunks.len(), 2, "the emptied first chunk is gone");
        // Pushing after pops fills the last chunk before starting another.
        for i in n..n + CHUNK - 7 {
            q.push_back(i);
        }
        assert_eq!(q.chunks.len(), 2);
        q.push_back(usize::MAX);
        assert_eq!(q.chunks.len(), 3);
        let rest: Vec<usize> = std::iter::from_fn(|| q.pop_front()).collect();
        let mut want: Vec<usize> = (CHUNK + 1..n + CHUNK - 7).collect();
        want.push(usize::MAX);
        assert_eq!(rest, want);
        assert!(q.is_empty() && q.front().is_none());
        assert_eq!(
            q.chunks.len(),
            1,
            "the last chunk is kept for the next push"
        );
        q.push_back(1);
        assert_eq!((q.len(), q.chunks.len(), q.pop_front()), (1, 1, Some(1)));
    }

    #[test]
    fn a_chunk_never_outgrows_its_first_allocation() {
        let mut q = ChunkedQueue::default();
        for i in 0..3 * CHUNK {
            q.push_back(i as u64);
        }
        assert!(
            q.chunks
                .iter()
                .all(|c| c.len() == CHUNK && c.capacity() == CHUNK)
        );
    }
}
