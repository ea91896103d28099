//! Invitations and password resets: single-use links carrying an `e5i_` or `e5r_` token
//! (see [`crate::tokens`]), stored as the token's hash, valid for a limited time.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::passwords::Password;
use crate::secret::Secret;
use crate::sessions::ThrottlePolicy;
use crate::tokens::TokenKind;

/// An invitation link works this long (the invitee may read the e-mail days later).
pub const INVITE_VALID: TimeDelta = TimeDelta::hours(72);
/// A reset link works this long: whoever asks is at their mailbox now, and a reset link
/// left in a mailbox is a way into the account.
pub const RESET_VALID: TimeDelta = TimeDelta::hours(1);

/// Reset requests for one address: after 3 within 15 minutes no further link is mailed
/// until the oldest leaves the window. The answer stays 202 either way, so it tells nothing
/// about the address; the cap only stops anyone from filling a mailbox with reset mails.
pub const RESETS_PER_ADDRESS: ThrottlePolicy = ThrottlePolicy {
    window: TimeDelta::minutes(15),
    slow_after: usize::MAX,
    first_delay: TimeDelta::zero(),
    max_delay: TimeDelta::zero(),
    lock_after: 3,
};

/// Reset requests from one client address: after 10 within 15 minutes the client is
/// answered 429 with `Retry-After`. This limit says nothing about any account, so the
/// client may be told.
pub const RESETS_PER_CLIENT: ThrottlePolicy = ThrottlePolicy {
    window: TimeDelta::minutes(15),
    slow_after: usize::MAX,
    first_delay: TimeDelta::zero(),
    max_delay: TimeDelta::zero(),
    lock_after: 10,
};

/// What a single-use link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Invite,
    Reset,
}

impl LinkPurpose {
    pub fn token_kind(self) -> TokenKind {
        match self {
            LinkPurpose::Invite => TokenKind::Invite,
            LinkPurpose::Reset => TokenKind::Reset,
        }
    }

    pub fn valid_for(self) -> TimeDelta {
        match self {
            LinkPurpose::Invite => INVITE_VALID,
            LinkPurpose::Reset => RESET_VALID,
        }
    }

    /// The link's expiry when made at `now`.
    pub fn expires_at(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + self.valid_for()
    }
}

/// Why a presented link token is not accepted. All of these answer the same to the
/// client (the link is invalid or expired), so a token's history is not told to whoever
/// holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Usable,
    Used,
    Expired,
}

/// A stored link's state at `now`: used wins, then expiry (the expiry instant is out).
pub fn link_state(
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
) -> LinkState {
    if used_at.is_some() {
        LinkState::Used
    } else if now >= expires_at {
        LinkState::Expired
    } else {
        LinkState::Usable
    }
}

/// `POST /api/v1/auth/accept-invite`
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcceptInvite {
    #[cfg_attr(feature = "openapi", schema(value_type = String, write_only))]
    pub token: Secret<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, write_only))]
    pub password: Password,
}

/// `POST /api/v1/auth/password-reset`: always answered 202, known address or not.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub email: String,
}

/// `POST /api/v1/auth/password-reset/confirm`
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    #[cfg_attr(feature = "openapi", schema(value_type = String, write_only))]
    pub token: Secret<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, write_only))]
    pub password: Password,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + h * 3600, 0).unwrap()
    }

    #[test]
    fn links_expire_at_their_boundary_and_are_single_use() {
        let made = at(0);
        let inv = LinkPurpose::Invite.expires_at(made);
        assert_eq!(inv, at(72));
        assert_eq!(link_state(at(71), inv, None), LinkState::Usable);
        assert_eq!(link_state(at(72), inv, None), LinkState::Expired);
        assert_eq!(link_state(at(1), inv, Some(at(1))), LinkState::Used);
        let reset = LinkPurpose::Reset.expires_at(made);
        assert_eq!(reset, at(1));
        assert_eq!(
            link_state(at(1) - TimeDelta::seconds(1), reset, None),
            LinkState::Usable
        );
        assert_eq!(link_state(at(1), reset, None), LinkState::Expired);
        assert_eq!(link_state(at(9), reset, Some(at(0))), LinkState::Used);
    }

    #[test]
    fn each_purpose_has_its_own_token_kind() {
        let i = tokens::generate(LinkPurpose::Invite.token_kind()).unwrap();
        let r = tokens::generate(LinkPurpose::Reset.token_kind()).unwrap();
        assert!(i.expose().starts_with("e5i_"));
        assert!(r.expose().starts_with("e5r_"));
        assert!(!tokens::well_formed(TokenKind::Reset, i.expose()));
    }

    #[test]
    fn bodies_never_show_token_or_password() {
        let a: AcceptInvite =
            serde_json::from_str(r#"{"token":"e5i_abc","password":"s3cret pass phrase"}"#).unwrap();
        let c: PasswordResetConfirm =
            serde_json::from_str(r#"{"token":"e5r_abc","password":"s3cret pass phrase"}"#).unwrap();
        let shown = format!("{a:?} {c:?}");
        assert!(
            !shown.contains("abc") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert_eq!(a.token.expose(), "e5i_abc");
    }

    #[test]
    fn a_fourth_reset_for_an_address_and_an_eleventh_from_a_client_are_held_back() {
        use crate::sessions::LoginGate;
        let now = at(10);
        let minutes_ago = |m: i64| now - TimeDelta::minutes(m);
        let three: Vec<_> = (1..=3).map(minutes_ago).collect();
        assert_eq!(RESETS_PER_ADDRESS.gate(&three[..2], now), LoginGate::Open);
        // Held until the oldest of the three (3 minutes ago) leaves the 15-minute window.
        assert_eq!(
            RESETS_PER_ADDRESS.gate(&three, now),
            LoginGate::Locked {
                retry_after_secs: 12 * 60
            }
        );
        let old: Vec<_> = (15..=17).map(minutes_ago).collect();
        assert_eq!(RESETS_PER_ADDRESS.gate(&old, now), LoginGate::Open);
        let ten: Vec<_> = (1..=10).map(minutes_ago).collect();
        assert_eq!(RESETS_PER_CLIENT.gate(&ten[..9], now), LoginGate::Open);
        assert!(matches!(
            RESETS_PER_CLIENT.gate(&ten, now),
            LoginGate::Locked { .. }
        ));
    }

    #[test]
    fn reset_counters_share_the_login_failures_window() {
        // Their rows share one table, which each insert prunes to the window of its own
        // policy: a longer reset window would lose rows to a login's prune.
        let login = ThrottlePolicy::default().window;
        assert_eq!(RESETS_PER_ADDRESS.window, login);
        assert_eq!(RESETS_PER_CLIENT.window, login);
    }
}
