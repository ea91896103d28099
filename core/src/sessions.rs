//! Login sessions: the login and logout wire types, when a session expires (idle and
//! absolute timeouts), and login throttling after repeated failures.
//!
//! A session is an opaque `e5s_` token (see [`crate::tokens`]) stored as its hash, so a
//! deactivated user's sessions die the moment their rows do; no JWT could be recalled.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::passwords::Password;
use crate::users::User;

/// A session unused this long ends (`--session-idle`).
pub const IDLE_TIMEOUT_DEFAULT: TimeDelta = TimeDelta::minutes(30);
/// A session ends this long after login however busy it is (`--session-max`).
pub const ABSOLUTE_TIMEOUT_DEFAULT: TimeDelta = TimeDelta::hours(12);

/// `POST /api/v1/auth/login`
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, write_only))]
    pub password: Password,
}

/// The login answer: the session token (shown once), when it expires if left idle, and
/// the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginAnswer {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// `GET /api/v1/me`: what the credential is, and its user (`null` for the admin token,
/// which is nobody's account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub credential: crate::authorization::ActorKind,
    pub user: Option<User>,
    /// A personal token's scope; `null` for other credentials.
    pub scope: Option<crate::personal_tokens::TokenScope>,
}

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimeouts {
    pub idle: TimeDelta,
    pub absolute: TimeDelta,
}

impl Default for SessionTimeouts {
    fn default() -> Self {
        SessionTimeouts {
            idle: IDLE_TIMEOUT_DEFAULT,
            absolute: ABSOLUTE_TIMEOUT_DEFAULT,
        }
    }
}

/// A session's state at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Usable; used now, it would expire at `expires_at` unless used again.
    Live { expires_at: DateTime<Utc> },
    /// Unused for the idle timeout.
    IdleExpired,
    /// Older than the absolute timeout.
    AbsoluteExpired,
}

impl SessionTimeouts {
    /// When a session expires if it is not used after `last_seen_at`: the idle deadline,
    /// never past the absolute one.
    pub fn expires_at(
        &self,
        created_at: DateTime<Utc>,
        last_seen_at: DateTime<Utc>,
    ) -> DateTime<Utc> {
        (last_seen_at + self.idle).min(created_at + self.absolute)
    }

    /// The session's state at `now`. A deadline is exclusive: at exactly 30 minutes idle
    /// (or 12 hours old) the session is over. The absolute timeout is reported first, so
    /// a client can tell "log in again, it has been 12 hours" from "you were away".
    pub fn state(
        &self,
        created_at: DateTime<Utc>,
        last_seen_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> SessionState {
        if now >= created_at + self.absolute {
            SessionState::AbsoluteExpired
        } else if now >= last_seen_at + self.idle {
            SessionState::IdleExpired
        } else {
            // Using the session now moves its idle deadline.
            SessionState::Live {
                expires_at: self.expires_at(created_at, now),
            }
        }
    }
}

/// When login attempts slow down and stop, for one e-mail address (or one client IP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures counted: those within this window before now.
    pub window: TimeDelta,
    /// From this many failures on, each answer is delayed.
    pub slow_after: usize,
    /// The delay at `slow_after` failures; it doubles with each further failure.
    pub first_delay: TimeDelta,
    /// The longest delay.
    pub max_delay: TimeDelta,
    /// This many failures within the window lock the address until the oldest of them
    /// leaves the window.
    pub lock_after: usize,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            window: TimeDelta::minutes(15),
            slow_after: 5,
            first_delay: TimeDelta::seconds(1),
            max_delay: TimeDelta::seconds(8),
            lock_after: 10,
        }
    }
}

/// What to do with a login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LoginGate {
    /// Check the password at once.
    Open,
    /// Check it, but answer no sooner than after this delay.
    SlowDown { delay: TimeDelta },
    /// Do not check it: 429 with `Retry-After: retry_after_secs`.
    Locked { retry_after_secs: u64 },
}

impl LoginGate {
    /// The stricter of two gates (for the e-mail's and the client IP's).
    pub fn stricter(self, other: LoginGate) -> LoginGate {
        self.max(other)
    }
}

impl ThrottlePolicy {
    /// How many failure times storage needs to keep per address: the rule never looks
    /// further back than the last `lock_after`.
    pub fn failures_kept(&self) -> usize {
        self.lock_after
    }

    /// The gate for the next attempt, given the times of earlier failures (in any order;
    /// those outside the window or in the future are ignored).
    pub fn gate(&self, failures: &[DateTime<Utc>], now: DateTime<Utc>) -> LoginGate {
        let since = now - self.window;
        let mut recent: Vec<DateTime<Utc>> = failures
            .iter()
            .copied()
            .filter(|&t| t > since && t <= now)
            .collect();
        let n = recent.len();
        if n >= self.lock_after {
            recent.sort_unstable();
            // The lock lifts when fewer than `lock_after` failures remain in the window:
            // when the `lock_after`-th most recent one leaves it.
            let lifts_at = recent[n - self.lock_after] + self.window;
            let ms = (lifts_at - now).num_milliseconds().max(1);
            let secs = (ms as u64).div_ceil(1000);
            return LoginGate::Locked {
                retry_after_secs: secs,
            };
        }
        if n >= self.slow_after {
            let doublings = (n - self.slow_after).min(16) as i32;
            let delay = self.first_delay * 2i32.pow(doublings as u32);
            return LoginGate::SlowDown {
                delay: delay.min(self.max_delay),
            };
        }
        LoginGate::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + min * 60, 0).unwrap()
    }

    fn secs(min: i64, s: i64) -> DateTime<Utc> {
        at(min) + TimeDelta::seconds(s)
    }

    #[test]
    fn idle_timeout_is_exclusive_at_30_minutes() {
        let t = SessionTimeouts::default();
        let created = at(0);
        assert_eq!(
            t.state(created, at(0), secs(29, 59)),
            SessionState::Live {
                expires_at: secs(59, 59)
            }
        );
        assert_eq!(t.state(created, at(0), at(30)), SessionState::IdleExpired);
        assert_eq!(t.state(created, at(0), at(31)), SessionState::IdleExpired);
        // Use moves the deadline.
        assert!(matches!(
            t.state(created, at(20), at(49)),
            SessionState::Live { .. }
        ));
        assert_eq!(t.state(created, at(20), at(50)), SessionState::IdleExpired);
    }

    #[test]
    fn absolute_timeout_is_exclusive_at_12_hours_however_busy() {
        let t = SessionTimeouts::default();
        let created = at(0);
        let twelve_h = at(12 * 60);
        // Used a second ago, but 12 hours old.
        assert_eq!(
            t.state(created, twelve_h - TimeDelta::seconds(1), twelve_h),
            SessionState::AbsoluteExpired
        );
        assert_eq!(
            t.state(
                created,
                twelve_h - TimeDelta::seconds(2),
                twelve_h - TimeDelta::seconds(1)
            ),
            SessionState::Live {
                expires_at: twelve_h
            },
            "the idle deadline never passes the absolute one"
        );
        // Both over: the absolute reason wins.
        assert_eq!(
            t.state(created, at(0), at(13 * 60)),
            SessionState::AbsoluteExpired
        );
    }

    #[test]
    fn expiry_follows_configured_timeouts() {
        let t = SessionTimeouts {
            idle: TimeDelta::minutes(5),
            absolute: TimeDelta::minutes(60),
        };
        assert_eq!(t.expires_at(at(0), at(0)), at(5));
        assert_eq!(t.expires_at(at(0), at(58)), at(60));
        assert_eq!(t.state(at(0), at(0), at(5)), SessionState::IdleExpired);
        assert_eq!(
            t.state(at(0), at(59), at(60)),
            SessionState::AbsoluteExpired
        );
    }

    fn failures(n: usize, from: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        (0..n)
            .map(|i| from + TimeDelta::seconds(i as i64))
            .collect()
    }

    #[test]
    fn slow_down_from_the_fifth_failure() {
        let p = ThrottlePolicy::default();
        let now = at(10);
        let start = at(5);
        assert_eq!(p.gate(&[], now), LoginGate::Open);
        assert_eq!(p.gate(&failures(4, start), now), LoginGate::Open);
        let delays: Vec<LoginGate> = (5..=9).map(|n| p.gate(&failures(n, start), now)).collect();
        let s = |n| LoginGate::SlowDown {
            delay: TimeDelta::seconds(n),
        };
        assert_eq!(delays, vec![s(1), s(2), s(4), s(8), s(8)]);
    }

    #[test]
    fn the_tenth_failure_within_15_minutes_locks() {
        let p = ThrottlePolicy::default();
        // Nine failures: slowed, not locked.
        let nine = failures(9, at(0));
        assert!(matches!(p.gate(&nine, at(1)), LoginGate::SlowDown { .. }));
        // The tenth: locked until the first of the ten leaves the 15-minute window.
        let ten = failures(10, at(0));
        assert_eq!(
            p.gate(&ten, secs(1, 0)),
            LoginGate::Locked {
                retry_after_secs: 14 * 60
            }
        );
        assert_eq!(
            p.gate(&ten, secs(14, 59)),
            LoginGate::Locked {
                retry_after_secs: 1
            }
        );
        // At 15 minutes the first failure is out of the window: nine remain.
        assert!(matches!(p.gate(&ten, at(15)), LoginGate::SlowDown { .. }));
        // A sub-second remainder still asks for a whole second.
        let ten_ms: Vec<DateTime<Utc>> = ten
            .iter()
            .map(|&t| t + TimeDelta::milliseconds(300))
            .collect();
        assert_eq!(
            p.gate(&ten_ms, at(15)),
            LoginGate::Locked {
                retry_after_secs: 1
            }
        );
    }

    #[test]
    fn ten_failures_spread_over_more_than_15_minutes_do_not_lock() {
        let p = ThrottlePolicy::default();
        let spread: Vec<DateTime<Utc>> = (0..10).map(|i| at(i * 2)).collect();
        // At minute 18 the failures at 0 and 2 are out of the window (> 15 minutes old
        // counts as out; exactly 15 too).
        assert_eq!(
            p.gate(&spread, at(18)),
            LoginGate::SlowDown {
                delay: TimeDelta::seconds(8)
            }
        );
        // Old failures and future ones (clock skew) are ignored; order does not matter.
        let mut mixed = failures(10, at(0));
        mixed.reverse();
        mixed.push(at(100));
        assert_eq!(p.gate(&mixed, at(40)), LoginGate::Open);
        assert_eq!(p.failures_kept(), 10);
    }

    #[test]
    fn the_stricter_gate_wins() {
        let open = LoginGate::Open;
        let slow = LoginGate::SlowDown {
            delay: TimeDelta::seconds(2),
        };
        let slower = LoginGate::SlowDown {
            delay: TimeDelta::seconds(4),
        };
        let locked = LoginGate::Locked {
            retry_after_secs: 3,
        };
        assert_eq!(open.stricter(slow), slow);
        assert_eq!(slower.stricter(slow), slower);
        assert_eq!(slower.stricter(locked), locked);
        assert_eq!(locked.stricter(open), locked);
    }

    fn rank(g: LoginGate) -> (u8, i64) {
        match g {
            LoginGate::Open => (0, 0),
            LoginGate::SlowDown { delay } => (1, delay.num_milliseconds()),
            LoginGate::Locked { retry_after_secs } => (2, retry_after_secs as i64),
        }
    }

    proptest::proptest! {
        /// One more failure never makes the gate less strict, and a lock never asks for
        /// more than the window.
        #[test]
        fn another_failure_never_loosens_the_gate(
            offsets in proptest::collection::vec(0i64..1200, 0..14),
            extra in 0i64..1200,
            now in 0i64..1200,
        ) {
            let p = ThrottlePolicy::default();
            let base = at(0);
            let now = base + TimeDelta::seconds(now);
            let mut fails: Vec<DateTime<Utc>> =
                offsets.iter().map(|&s| base + TimeDelta::seconds(s)).collect();
            let before = p.gate(&fails, now);
            fails.push(base + TimeDelta::seconds(extra));
            let after = p.gate(&fails, now);
            let (kb, _) = rank(before);
            let (ka, _) = rank(after);
            proptest::prop_assert!(ka >= kb, "{before:?} -> {after:?}");
            if ka == kb {
                proptest::prop_assert!(after >= before, "{before:?} -> {after:?}");
            }
            if let LoginGate::Locked { retry_after_secs } = after {
                proptest::prop_assert!((1..=15 * 60).contains(&retry_after_secs));
            }
        }
    }

    #[test]
    fn login_bodies_hide_the_password() {
        let l: Login =
            serde_json::from_str(r#"{"email":"a@b.io","password":"hunter2 hunter2"}"#).unwrap();
        assert_eq!(l.password.expose(), "hunter2 hunter2");
        assert!(!format!("{l:?}").contains("hunter2"));
        assert!(serde_json::from_str::<Login>(r#"{"email":"a@b.io"}"#).is_err());
        assert!(
            serde_json::from_str::<Login>(r#"{"email":"a","password":"x","remember":true}"#)
                .is_err()
        );
    }
}
