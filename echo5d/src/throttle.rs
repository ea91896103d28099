//! Refused credentials, per client address: throttling and aggregated logging.
//!
//! A flood of wrong tokens or API keys used to log one WARN line per request, which pushed
//! every other line out of the log ring and grew stderr by megabytes a second. Now:
//!
//! - **Throttle**: after `limit` wrong credentials (an admin token or API key that was
//!   presented and refused) from one address within `window`, further wrong ones from it are
//!   answered 429 `too_many_auth_failures` with `Retry-After` (the rest of the window)
//!   instead of 401, until the window ends. A missing credential is logged but not counted.
//! - **A correct credential from a throttled address is served.** Tokens and keys are long
//!   random strings, so the throttle is not what stops guessing; it bounds the work and the
//!   log volume a flood causes. Refusing correct credentials would instead let an attacker
//!   lock out a well-behaved WordPress site that shares its address (shared hosting, NAT).
//! - **Addresses**: IPv4 per address; IPv6 per /64 (one host usually holds a whole /64).
//!   Behind a reverse proxy every client has the proxy's address.
//! - **Logging**: the first [`LINES_PER_ADDRESS`] refusals of an address in each
//!   [`LOG_INTERVAL`] are logged one by one (at most [`LINES_PER_INTERVAL`] such lines in all
//!   addresses); the rest are counted and logged as one line per address per interval with a
//!   count (at most [`AGGREGATE_LINES`] addresses, then one line for all the others).

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::{Layer, Service};

use crate::error::{ApiError, AuthFailure};
use crate::server::ClientAddr;

/// Refusals of one address logged one by one per interval.
pub const LINES_PER_ADDRESS: u32 = 3;
/// Refusals logged one by one per interval, all addresses together.
pub const LINES_PER_INTERVAL: u32 = 30;
/// How often the counted refusals are logged.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);
/// Addresses with their own count line per interval.
pub const AGGREGATE_LINES: usize = 20;
/// Addresses tracked at once; refusals from further ones are only counted in the log.
const MAX_TRACKED: usize = 100_000;

pub const DEFAULT_LIMIT: u32 = 20;
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

pub struct AuthThrottle {
    /// 0: never throttle (logging stays aggregated).
    limit: u32,
    window: Duration,
    state: Mutex<Tracked>,
}

#[derive(Default)]
struct Tracked {
    by_addr: HashMap<IpAddr, Entry>,
    /// Refusals logged one by one in this interval, all addresses together.
    lines_this_interval: u32,
    /// Refusals not logged one by one, from addresses not tracked (map full, or unknown).
    untracked: u64,
}

struct Entry {
    window_start: Instant,
    failures: u32,
    /// Refusals logged one by one in this interval.
    lines: u32,
    /// Refusals counted for the next aggregated line, and how many of them were 429s.
    counted: u64,
    throttled: u64,
    last_seen: Instant,
}

/// What to answer a refused credential.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Refuse,
    Throttle { retry_after: Duration },
}

/// The throttle's key: the address, or its /64 for IPv6.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

impl AuthThrottle {
    pub fn new(limit: u32, window: Duration) -> AuthThrottle {
        AuthThrottle {
            limit,
            window: window.max(Duration::from_secs(1)),
            state: Mutex::new(Tracked::default()),
        }
    }

    /// Records one refusal from `ip` (`None`: the address is unknown, e.g. a request driven
    /// in-process) and logs it or counts it for the next aggregated line.
    pub fn record(&self, ip: Option<IpAddr>, failure: AuthFailure) -> Verdict {
        let now = Instant::now();
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let st = &mut *guard;
        let budget_left = st.lines_this_interval < LINES_PER_INTERVAL;
        let key = ip
            .map(client_key)
            .filter(|k| st.by_addr.len() < MAX_TRACKED || st.by_addr.contains_key(k));
        let Some(key) = key else {
            if budget_left {
                st.lines_this_interval += 1;
                drop(guard);
                tracing::warn!(code = failure.code, "request refused: not authorized");
            } else {
                st.untracked += 1;
            }
            return Verdict::Refuse;
        };
        let entry = st.by_addr.entry(key).or_insert(Entry {
            window_start: now,
            failures: 0,
            lines: 0,
            counted: 0,
            throttled: 0,
            last_seen: now,
        });
        entry.last_seen = now;
        if now.duration_since(entry.window_start) >= self.window {
            entry.window_start = now;
            entry.failures = 0;
        }
        let mut verdict = Verdict::Refuse;
        if failure.presented {
            entry.failures = entry.failures.saturating_add(1);
            if self.limit > 0 && entry.failures > self.limit {
                let left = self
                    .window
                    .saturating_sub(now.duration_since(entry.window_start));
                verdict = Verdict::Throttle {
                    retry_after: left.max(Duration::from_secs(1)),
                };
            }
        }
        let throttled = verdict != Verdict::Refuse;
        let single = budget_left && entry.lines < LINES_PER_ADDRESS;
        if single {
            entry.lines += 1;
            st.lines_this_interval += 1;
        } else {
            entry.counted += 1;
            entry.throttled += u64::from(throttled);
        }
        drop(guard);
        if single {
            tracing::warn!(
                code = failure.code,
                client = %key,
                throttled,
                "request refused: not authorized"
            );
        }
        verdict
    }

    /// Logs the counted refusals (one line per address, then one for the rest), starts a new
    /// interval, and forgets addresses that have been quiet for a whole window.
    pub fn flush_log(&self) {
        let now = Instant::now();
        let mut lines: Vec<(IpAddr, u64, u64)> = Vec::new();
        let untracked;
        {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.lines_this_interval = 0;
            untracked = std::mem::take(&mut st.untracked);
            let window = self.window;
            st.by_addr.retain(|addr, e| {
                if e.counted > 0 {
                    lines.push((*addr, e.counted, e.throttled));
                }
                e.counted = 0;
                e.throttled = 0;
                e.lines = 0;
                now.duration_since(e.last_seen) < window
            });
        }
        lines.sort_by_key(|l| std::cmp::Reverse(l.1));
        let interval = LOG_INTERVAL.as_secs();
        let (mut rest_addrs, mut rest) = (0usize, untracked);
        for (i, (addr, n, throttled)) in lines.into_iter().enumerate() {
            if i < AGGREGATE_LINES {
                tracing::warn!(
                    client = %addr,
                    count = n,
                    throttled,
                    "{n} more requests refused (not authorized) from {addr} in the last {interval} s"
                );
            } else {
                rest_addrs += 1;
                rest += n;
            }
        }
        if rest > 0 {
            tracing::warn!(
                count = rest,
                addresses = rest_addrs,
                "{rest} more requests refused (not authorized) from other addresses in the last {interval} s"
            );
        }
    }

    /// Logs the counted refusals every [`LOG_INTERVAL`], for as long as the daemon runs.
    pub async fn log_loop(self: Arc<Self>) {
        let mut tick = tokio::time::interval(LOG_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            self.flush_log();
        }
    }
}

/// The layer that records refused credentials (a 401 carrying [`AuthFailure`]) and, over
/// the address's limit, answers 429 instead. A plain tower layer rather than
/// `axum::middleware::from_fn`, which clones and boxes the inner service on every request.
#[derive(Clone)]
pub struct ThrottleLayer(pub Arc<AuthThrottle>);

impl<S> Layer<S> for ThrottleLayer {
    type Service = Throttled<S>;

    fn layer(&self, inner: S) -> Throttled<S> {
        Throttled {
            inner,
            throttle: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Throttled<S> {
    inner: S,
    throttle: Arc<AuthThrottle>,
}

impl<S> Service<Request> for Throttled<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let ip = req.extensions().get::<ClientAddr>().map(|c| c.0.ip());
        let throttle = self.throttle.clone();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let resp = fut.await?;
            let Some(failure) = resp.extensions().get::<AuthFailure>().copied() else {
                return Ok(resp);
            };
            Ok(match throttle.record(ip, failure) {
                Verdict::Refuse => resp,
                Verdict::Throttle { retry_after } => ApiError::AuthThrottled {
                    retry_after_secs: retry_after.as_secs().max(1),
                }
                .into_response(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRONG: AuthFailure = AuthFailure {
        code: "invalid_token",
        presented: true,
    };
    const MISSING: AuthFailure = AuthFailure {
        code: "missing_token",
        presented: false,
    };

    #[test]
    fn an_address_is_throttled_after_its_limit_and_others_are_not() {
        let t = AuthThrottle::new(3, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(t.record(Some(a), WRONG), Verdict::Refuse);
        }
        match t.record(Some(a), WRONG) {
            Verdict::Throttle { retry_after } => {
                assert!(
                    retry_after <= Duration::from_secs(60) && retry_after >= Duration::from_secs(1)
                )
            }
            v => panic!("{v:?}"),
        }
        assert_eq!(t.record(Some(b), WRONG), Verdict::Refuse);
        // Missing credentials never count.
        for _ in 0..10 {
            assert_eq!(t.record(Some(b), MISSING), Verdict::Refuse);
        }
        assert_eq!(t.record(Some(b), WRONG), Verdict::Refuse);
    }

    #[test]
    fn ipv6_is_keyed_by_its_64_and_mapped_ipv4_by_the_address() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn zero_disables_the_throttle() {
        let t = AuthThrottle::new(0, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..1000 {
            assert_eq!(t.record(Some(a), WRONG), Verdict::Refuse);
        }
    }
}
