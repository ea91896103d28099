//! Who a lead is assigned to: which users may be assigned a lead, the tenant setting
//! `auto_assign`, and the round-robin choice of the next manager.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::users::{Role, TenantId, UserId};

/// How a tenant's new leads get an assignee (`settings.auto_assign`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AutoAssign {
    /// New leads stay unassigned until someone assigns them.
    #[default]
    None,
    /// Each new lead goes to the tenant's next active manager, in turn.
    RoundRobin,
}

impl AutoAssign {
    pub const ALL: [AutoAssign; 2] = [AutoAssign::None, AutoAssign::RoundRobin];

    pub fn as_str(self) -> &'static str {
        match self {
            AutoAssign::None => "none",
            AutoAssign::RoundRobin => "round_robin",
        }
    }

    pub fn parse(s: &str) -> Option<AutoAssign> {
        AutoAssign::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// `auto_assign` checked: `none` or `round_robin` (422 `invalid_value` on `field`).
pub fn check_auto_assign(field: &str, v: &str) -> Result<AutoAssign, DomainError> {
    AutoAssign::parse(v.trim()).ok_or_else(|| {
        DomainError::invalid(
            field,
            "invalid_value",
            format!("{field} must be none or round_robin"),
        )
    })
}

/// What the assignee rule needs to know of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// `None` for a platform user.
    pub tenant: Option<TenantId>,
    pub role: Role,
    pub active: bool,
}

/// Whether the user `candidate` (`None`: no such user) may be assigned a lead of
/// `lead_tenant`: a user of that tenant, active. An unknown user, another tenant's user and
/// a platform user get the same answer (`unknown_user`), so the answer does not tell
/// whether an id exists elsewhere. A deactivated user of the tenant is `inactive_user`:
/// they cannot log in, so a lead given to them would wait for nobody.
pub fn check_assignee(
    field: &str,
    lead_tenant: TenantId,
    candidate: Option<Candidate>,
) -> Result<(), DomainError> {
    match candidate {
        Some(c) if c.tenant == Some(lead_tenant) && !c.role.is_platform() => {
            if c.active {
                Ok(())
            } else {
                Err(DomainError::invalid(
                    field,
                    "inactive_user",
                    format!("{field} names a deactivated user; reactivate them or pick another"),
                ))
            }
        }
        _ => Err(DomainError::invalid(
            field,
            "unknown_user",
            format!("{field} must be the id of a user of the lead's tenant"),
        )),
    }
}

/// The manager the next lead goes to: the first of `managers` (the tenant's active managers,
/// in ascending id order) after `last` (the one who got the previous lead), wrapping to the
/// first; `None` when there is no active manager. `last` need not be in the list any more
/// (deactivated or deleted since): the turn passes to whoever follows them in order.
pub fn round_robin(managers: &[UserId], last: Option<UserId>) -> Option<UserId> {
    let after = last.and_then(|l| managers.iter().find(|m| **m > l));
    after.or_else(|| managers.first()).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn u(n: u128) -> UserId {
        Uuid::from_u128(n)
    }

    #[test]
    fn round_robin_takes_each_manager_in_turn() {
        // (managers, last, next)
        let cases: &[(&[u128], Option<u128>, Option<u128>)] = &[
            (&[], None, None),
            (&[], Some(2), None),
            (&[1, 2, 3], None, Some(1)),
            (&[1, 2, 3], Some(1), Some(2)),
            (&[1, 2, 3], Some(2), Some(3)),
            (&[1, 2, 3], Some(3), Some(1)),
            // The last one was deactivated or deleted: the one after them in order.
            (&[1, 3], Some(2), Some(3)),
            (&[1, 3], Some(4), Some(1)),
            (&[5], Some(5), Some(5)),
            (&[5], Some(1), Some(5)),
            (&[5], Some(9), Some(5)),
        ];
        for (managers, last, next) in cases {
            let ms: Vec<UserId> = managers.iter().map(|m| u(*m)).collect();
            assert_eq!(
                round_robin(&ms, last.map(u)),
                next.map(u),
                "managers {managers:?}, last {last:?}"
            );
        }
    }

    #[test]
    fn three_managers_share_leads_evenly() {
        let ms = [u(10), u(20), u(30)];
        let mut last = None;
        let mut got = Vec::new();
        for _ in 0..7 {
            last = round_robin(&ms, last);
            got.push(last.unwrap().as_u128());
        }
        assert_eq!(got, [10, 20, 30, 10, 20, 30, 10]);
    }

    #[test]
    fn assignee_rule() {
        let t = u(100);
        let other = u(200);
        let cand = |tenant, role, active| {
            Some(Candidate {
                tenant,
                role,
                active,
            })
        };
        // (candidate, expected code; None = allowed)
        let cases = [
            (cand(Some(t), Role::Manager, true), None),
            (cand(Some(t), Role::Admin, true), None),
            (cand(Some(t), Role::Agent, true), None),
            (cand(Some(t), Role::Manager, false), Some("inactive_user")),
            (cand(Some(other), Role::Manager, true), Some("unknown_user")),
            (
                cand(Some(other), Role::Manager, false),
                Some("unknown_user"),
            ),
            (cand(None, Role::Owner, true), Some("unknown_user")),
            (None, Some("unknown_user")),
        ];
        for (c, want) in cases {
            let got = check_assignee("assigned_to", t, c);
            match (got, want) {
                (Ok(()), None) => {}
                (Err(DomainError::Invalid { field, code, .. }), Some(w)) => {
                    assert_eq!((field.as_str(), code), ("assigned_to", w), "{c:?}");
                }
                (got, want) => panic!("{c:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn auto_assign_values() {
        assert_eq!(check_auto_assign("a", "none").unwrap(), AutoAssign::None);
        assert_eq!(
            check_auto_assign("a", " round_robin ").unwrap(),
            AutoAssign::RoundRobin
        );
        for bad in ["", "Round_Robin", "random", "roundrobin"] {
            let Err(DomainError::Invalid { field, code, .. }) =
                check_auto_assign("settings.auto_assign", bad)
            else {
                panic!("{bad:?} accepted")
            };
            assert_eq!(
                (field.as_str(), code),
                ("settings.auto_assign", "invalid_value")
            );
        }
        assert_eq!(AutoAssign::default(), AutoAssign::None);
        assert_eq!(
            serde_json::to_string(&AutoAssign::RoundRobin).unwrap(),
            "\"round_robin\""
        );
    }
}
