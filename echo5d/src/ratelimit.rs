//! Per-API-key rate limit for ingest: a token bucket per key (governor's GCRA), so one
//! misbehaving site cannot starve the others. Buckets of keys that went quiet (revoked,
//! expired, or a site taken down) are forgotten by [`KeyRateLimit::forget_idle`], which the
//! daemon runs every [`FORGET_IDLE_EVERY`]: memory follows the keys in use.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How often buckets back to full are dropped.
pub const FORGET_IDLE_EVERY: Duration = Duration::from_secs(60);

pub struct KeyRateLimit<C: Clock = DefaultClock> {
    limiter: RateLimiter<Uuid, DefaultKeyedStateStore<Uuid>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
}

impl KeyRateLimit {
    /// `per_minute` requests a minute per key, bursts up to the same number; `None` for 0.
    pub fn new(per_minute: u32) -> Option<KeyRateLimit> {
        KeyRateLimit::with_clock(per_minute, DefaultClock::default())
    }
}

impl<C: Clock + Clone> KeyRateLimit<C> {
    /// [`KeyRateLimit::new`] on `clock`.
    pub fn with_clock(per_minute: u32, clock: C) -> Option<KeyRateLimit<C>> {
        let n = NonZeroU32::new(per_minute)?;
        Some(KeyRateLimit {
            limiter: RateLimiter::new(
                Quota::per_minute(n),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            clock,
        })
    }

    /// `Err(wait)` when the key is over its limit.
    pub fn check(&self, key: Uuid) -> Result<(), Duration> {
        self.limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Drops the buckets that are full again (a key idle for a full refill and one more
    /// request's interval) and returns how many buckets are left. A dropped key that comes back starts
    /// with a full bucket, which is what it had.
    pub fn forget_idle(&self) -> usize {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        self.limiter.len()
    }

    /// How many keys have a bucket in memory.
    pub fn tracked_keys(&self) -> usize {
        self.limiter.len()
    }
}

impl KeyRateLimit {
    /// Runs [`forget_idle`](Self::forget_idle) every `every`, for as long as the daemon
    /// serves.
    pub async fn forget_idle_loop(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let left = self.forget_idle();
            tracing::debug!(keys = left, "per-key rate limit buckets kept");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn buckets_follow_the_keys_in_use() {
        let clock = FakeRelativeClock::default();
        let limit = KeyRateLimit::with_clock(60, clock.clone()).unwrap();
        let keys: Vec<Uuid> = (0..100).map(|_| Uuid::now_v7()).collect();
        for k in &keys {
            limit.check(*k).unwrap();
        }
        assert_eq!(limit.tracked_keys(), 100);
        // Still refilling: nothing is forgotten.
        assert_eq!(limit.forget_idle(), 100);

        // A minute on, only the keys still in use keep a bucket.
        clock.advance(Duration::from_secs(59));
        for k in &keys[..3] {
            limit.check(*k).unwrap();
        }
        clock.advance(Duration::from_secs(1));
        assert_eq!(limit.forget_idle(), 3);

        // Those three go quiet too: none left.
        clock.advance(Duration::from_secs(61));
        assert_eq!(limit.forget_idle(), 0);
    }

    #[test]
    fn a_forgotten_key_comes_back_with_a_full_bucket() {
        let clock = FakeRelativeClock::default();
        let limit = KeyRateLimit::with_clock(2, clock.clone()).unwrap();
        let k = Uuid::now_v7();
        limit.check(k).unwrap();
        limit.check(k).unwrap();
        assert!(limit.check(k).is_err(), "burst of two spent");
        clock.advance(Duration::from_secs(91));
        assert_eq!(limit.forget_idle(), 0);
        limit.check(k).unwrap();
        limit.check(k).unwrap();
        assert!(limit.check(k).is_err());
    }
}
