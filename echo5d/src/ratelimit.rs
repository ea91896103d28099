//! Per-API-key rate limit for ingest: a token bucket per key (governor's GCRA), so one
//! misbehaving site cannot starve the others.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;
use uuid::Uuid;

pub struct KeyRateLimit {
    limiter: DefaultKeyedRateLimiter<Uuid>,
    clock: DefaultClock,
}

impl KeyRateLimit {
    /// `per_minute` requests a minute per key, bursts up to the same number; `None` for 0.
    pub fn new(per_minute: u32) -> Option<KeyRateLimit> {
        let n = NonZeroU32::new(per_minute)?;
        Some(KeyRateLimit {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        })
    }

    /// `Err(wait)` when the key is over its limit.
    pub fn check(&self, key: Uuid) -> Result<(), Duration> {
        self.limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets keys that are back to a full bucket, so memory follows active keys only.
    pub fn shrink(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}
