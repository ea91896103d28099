//! Users: platform users (role `owner`) and tenant users (`admin`, `manager`, `agent`), their
//! permissions (the role's defaults with per-user overrides), and the rules that turn a
//! create or change request into a valid user.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::passwords::Password;
use crate::patch::double_option;
use crate::validate;

/// A tenant's id.
pub type TenantId = Uuid;
/// A user's id.
pub type UserId = Uuid;

/// What a user is. `owner` is a platform role; the other three are roles inside a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The platform owner: everything the admin token can do.
    Owner,
    /// Everything within its own tenant.
    Admin,
    /// The leads assigned to them: read, stage and notes.
    Manager,
    /// The tenant's leads and analytics, read-only.
    Agent,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Manager, Role::Agent];

    /// Whether the role belongs to a platform user (no tenant).
    pub fn is_platform(self) -> bool {
        self == Role::Owner
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
        }
    }

    /// What the role may do before any per-user override.
    pub fn default_permissions(self) -> Permissions {
        match self {
            Role::Owner | Role::Admin => Permissions {
                view_leads: true,
                edit_leads: true,
                delete_leads: true,
                manage_settings: true,
            },
            Role::Manager => Permissions {
                view_leads: true,
                edit_leads: true,
                delete_leads: false,
                manage_settings: false,
            },
            Role::Agent => Permissions {
                view_leads: true,
                edit_leads: false,
                delete_leads: false,
                manage_settings: false,
            },
        }
    }

    /// Whether a user's permissions may differ from the role's. The owner and a tenant
    /// admin hold every permission by definition: an admin without `manage_settings` could
    /// still give it back to themselves through the users they manage.
    pub fn permissions_overridable(self) -> bool {
        matches!(self, Role::Manager | Role::Agent)
    }
}

/// The four permissions of a user, as every response shows them (the effective values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    pub view_leads: bool,
    pub edit_leads: bool,
    pub delete_leads: bool,
    /// Settings, stages, API keys, webhooks, notifications, integrations and usage.
    pub manage_settings: bool,
}

/// A user's departures from their role's permissions: `Some` overrides, `None` follows
/// the role. Stored as is, so a role's defaults can change without rewriting users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PermissionOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_leads: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_leads: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_leads: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_settings: Option<bool>,
}

impl PermissionOverrides {
    pub fn is_empty(&self) -> bool {
        *self == PermissionOverrides::default()
    }
}

/// A user's effective permissions: the role's, with the overrides on top (ignored for
/// roles whose permissions are fixed).
pub fn effective_permissions(role: Role, overrides: &PermissionOverrides) -> Permissions {
    let d = role.default_permissions();
    if !role.permissions_overridable() {
        return d;
    }
    Permissions {
        view_leads: overrides.view_leads.unwrap_or(d.view_leads),
        edit_leads: overrides.edit_leads.unwrap_or(d.edit_leads),
        delete_leads: overrides.delete_leads.unwrap_or(d.delete_leads),
        manage_settings: overrides.manage_settings.unwrap_or(d.manage_settings),
    }
}

/// A user as every API response shows it. Never a password or a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: Uuid,
    /// The user's tenant; `null` for a platform user.
    pub tenant: Option<Uuid>,
    /// Lower-cased; unique across the platform.
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Effective permissions: the role's, with this user's overrides.
    pub permissions: Permissions,
    /// `false`: the user cannot log in and every session and token of theirs is dead.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// The create answer for a user: the user, and the invitation link (the one answer that
/// carries it, for an owner without SMTP; the invitation e-mail carries it too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserCreated {
    #[serde(flatten)]
    pub user: User,
    /// Single use, valid 72 hours.
    pub invite_url: String,
}

/// Where a user lives, which decides the roles it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    /// `POST /api/v1/platform/users`: role `owner` only.
    Platform,
    /// `POST /api/v1/tenants/{t}/users`: `admin`, `manager` or `agent`.
    Tenant,
}

impl Realm {
    fn allows(self, role: Role) -> bool {
        match self {
            Realm::Platform => role.is_platform(),
            Realm::Tenant => !role.is_platform(),
        }
    }
}

/// `POST /api/v1/platform/users`, `POST /api/v1/tenants/{t}/users`. The new user sets a
/// password through the invitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    /// Default: `owner` on the platform, `agent` in a tenant (the least a user can do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Departures from the role's permissions (managers and agents only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<PermissionOverrides>,
}

/// A new user's fields after validation, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFields {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub overrides: PermissionOverrides,
    pub active: bool,
}

/// `PATCH /api/v1/platform/users/{id}`, `PATCH /api/v1/tenants/{t}/users/{id}`: any subset.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name: Option<String>,
    /// A new role drops the overrides made for the old one, unless `permissions` is sent too.
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub role: Option<Role>,
    /// Each field: `true`/`false` overrides the role, `null` returns it to the role's default.
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub permissions: Option<PermissionsPatch>,
    /// `false` ends the user's sessions and tokens at once.
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub active: Option<bool>,
}

/// The `permissions` of a [`UserPatch`]: a value overrides, `null` follows the role, a
/// field left out keeps what the user has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PermissionsPatch {
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<bool>))]
    pub view_leads: Option<Option<bool>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<bool>))]
    pub edit_leads: Option<Option<bool>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<bool>))]
    pub delete_leads: Option<Option<bool>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<bool>))]
    pub manage_settings: Option<Option<bool>>,
}

impl PermissionsPatch {
    fn apply(&self, to: PermissionOverrides) -> PermissionOverrides {
        PermissionOverrides {
            view_leads: self.view_leads.unwrap_or(to.view_leads),
            edit_leads: self.edit_leads.unwrap_or(to.edit_leads),
            delete_leads: self.delete_leads.unwrap_or(to.delete_leads),
            manage_settings: self.manage_settings.unwrap_or(to.manage_settings),
        }
    }
}

pub fn validate_name(name: &str) -> Result<String, DomainError> {
    validate::text("name", name, validate::NAME_MAX_CHARS)
}

pub fn validate_email(email: &str) -> Result<String, DomainError> {
    validate::email("email", email)
}

fn check_role(realm: Realm, role: Role) -> Result<Role, DomainError> {
    if realm.allows(role) {
        return Ok(role);
    }
    let message = match realm {
        Realm::Platform => "a platform user's role is owner",
        Realm::Tenant => "a tenant user's role is admin, manager or agent",
    };
    Err(DomainError::invalid("role", "invalid_role", message))
}

/// Overrides on a role whose permissions are fixed are refused rather than ignored, so a
/// client never believes it restricted an admin.
fn check_overrides(
    role: Role,
    overrides: PermissionOverrides,
) -> Result<PermissionOverrides, DomainError> {
    if !overrides.is_empty() && !role.permissions_overridable() {
        return Err(DomainError::invalid(
            "permissions",
            "permissions_fixed",
            format!(
                "a user with role {} has every permission; only a manager's or an agent's can be changed",
                role.as_str()
            ),
        ));
    }
    Ok(overrides)
}

/// A new user's fields: e-mail lower-cased, name trimmed, role valid for the realm.
pub fn validate_new(input: &NewUser, realm: Realm) -> Result<UserFields, DomainError> {
    let email = validate_email(&input.email)?;
    let name = validate_name(&input.name)?;
    let role = check_role(
        realm,
        input.role.unwrap_or(match realm {
            Realm::Platform => Role::Owner,
            Realm::Tenant => Role::Agent,
        }),
    )?;
    let overrides = check_overrides(role, input.permissions.unwrap_or_default())?;
    Ok(UserFields {
        email,
        name,
        role,
        overrides,
        active: true,
    })
}

/// A stored user's fields with a patch applied.
pub fn apply_patch(
    current: &UserFields,
    patch: &UserPatch,
    realm: Realm,
) -> Result<UserFields, DomainError> {
    let name = match &patch.name {
        Some(n) => validate_name(n)?,
        None => current.name.clone(),
    };
    let role = match patch.role {
        Some(r) => check_role(realm, r)?,
        None => current.role,
    };
    let base = if role == current.role {
        current.overrides
    } else {
        PermissionOverrides::default()
    };
    let overrides = match &patch.permissions {
        Some(p) => p.apply(base),
        None => base,
    };
    let overrides = check_overrides(role, overrides)?;
    Ok(UserFields {
        email: current.email.clone(),
        name,
        role,
        overrides,
        active: patch.active.unwrap_or(current.active),
    })
}

/// Whether a change would leave the actor unable to undo it: nobody deactivates, demotes
/// or deletes themselves (another admin or the owner can).
pub fn check_not_self(
    actor: Option<UserId>,
    target: UserId,
    current: &UserFields,
    next: Option<&UserFields>,
) -> Result<(), DomainError> {
    if actor != Some(target) {
        return Ok(());
    }
    let refuse = |field: &str, what: &str| {
        Err(DomainError::conflict_on(
            field,
            "cannot_change_self",
            format!("you cannot {what} yourself; ask another admin"),
        ))
    };
    match next {
        None => refuse("id", "delete"),
        Some(n) if current.active && !n.active => refuse("active", "deactivate"),
        Some(n) if n.role != current.role => refuse("role", "change the role of"),
        Some(n) if n.overrides != current.overrides => {
            refuse("permissions", "change the permissions of")
        }
        Some(_) => Ok(()),
    }
}

/// `PATCH /api/v1/me`: the user's own name, and a new password (which needs the current
/// one and ends the user's other sessions).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name: Option<String>,
    #[serde(default, skip_serializing)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, write_only))]
    pub password: Option<Password>,
    #[serde(default, skip_serializing)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, write_only))]
    pub current_password: Option<Password>,
}

/// What a valid [`MePatch`] asks for. The daemon checks `current_password` against the
/// stored hash and the new one against [`crate::passwords::check_policy`].
#[derive(Debug)]
pub struct MeChange<'a> {
    pub name: Option<String>,
    /// `(new, current)`.
    pub password: Option<(&'a Password, &'a Password)>,
}

pub fn validate_me_patch(patch: &MePatch) -> Result<MeChange<'_>, DomainError> {
    let name = patch.name.as_deref().map(validate_name).transpose()?;
    let password = match (&patch.password, &patch.current_password) {
        (Some(new), Some(current)) => Some((new, current)),
        (Some(_), None) => {
            return Err(DomainError::invalid(
                "current_password",
                "current_password_required",
                "changing the password needs the current password",
            ));
        }
        (None, Some(_)) => {
            return Err(DomainError::invalid(
                "password",
                "password_required",
                "current_password is only sent with a new password",
            ));
        }
        (None, None) => None,
    };
    Ok(MeChange { name, password })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn code<T: std::fmt::Debug>(r: Result<T, DomainError>) -> (&'static str, String) {
        match r {
            Err(DomainError::Invalid { code, field, .. }) => (code, field),
            Err(DomainError::Conflict { code, field, .. }) => (code, field.unwrap_or_default()),
            other => panic!("{other:?}"),
        }
    }

    fn new(role: Option<Role>) -> NewUser {
        NewUser {
            email: " Jane.Doe@OpenArms.com ".into(),
            name: "  Jane Doe ".into(),
            role,
            permissions: None,
        }
    }

    #[test]
    fn role_defaults() {
        let p = |v, e, d, m| Permissions {
            view_leads: v,
            edit_leads: e,
            delete_leads: d,
            manage_settings: m,
        };
        let table = [
            (Role::Owner, p(true, true, true, true)),
            (Role::Admin, p(true, true, true, true)),
            (Role::Manager, p(true, true, false, false)),
            (Role::Agent, p(true, false, false, false)),
        ];
        for (role, expected) in table {
            assert_eq!(role.default_permissions(), expected, "{role:?}");
            assert_eq!(
                effective_permissions(role, &PermissionOverrides::default()),
                expected
            );
        }
    }

    #[test]
    fn overrides_apply_to_managers_and_agents_only() {
        let give_edit = PermissionOverrides {
            edit_leads: Some(true),
            ..Default::default()
        };
        assert!(effective_permissions(Role::Agent, &give_edit).edit_leads);
        assert!(!effective_permissions(Role::Agent, &give_edit).delete_leads);
        let take_view = PermissionOverrides {
            view_leads: Some(false),
            ..Default::default()
        };
        assert!(!effective_permissions(Role::Manager, &take_view).view_leads);
        assert!(effective_permissions(Role::Manager, &take_view).edit_leads);
        // Fixed for admins and owners, even if a stored row says otherwise.
        assert!(effective_permissions(Role::Admin, &take_view).view_leads);
        assert!(effective_permissions(Role::Owner, &take_view).view_leads);
    }

    #[test]
    fn new_users_are_normalised_and_roles_fit_the_realm() {
        let f = validate_new(&new(None), Realm::Tenant).unwrap();
        assert_eq!(f.email, "jane.doe@openarms.com");
        assert_eq!(f.name, "Jane Doe");
        assert_eq!(f.role, Role::Agent, "least privilege by default");
        assert!(f.active);
        assert_eq!(
            validate_new(&new(None), Realm::Platform).unwrap().role,
            Role::Owner
        );
        for role in Role::ALL {
            let tenant = validate_new(&new(Some(role)), Realm::Tenant);
            let platform = validate_new(&new(Some(role)), Realm::Platform);
            if role == Role::Owner {
                assert_eq!(code(tenant), ("invalid_role", "role".into()));
                assert!(platform.is_ok());
            } else {
                assert!(tenant.is_ok(), "{role:?}");
                assert_eq!(code(platform), ("invalid_role", "role".into()), "{role:?}");
            }
        }
    }

    #[test]
    fn new_user_fields_are_checked() {
        let mut bad = new(None);
        bad.email = "jane".into();
        assert_eq!(
            code(validate_new(&bad, Realm::Tenant)),
            ("invalid_email", "email".into())
        );
        let mut bad = new(None);
        bad.name = "  ".into();
        assert_eq!(
            code(validate_new(&bad, Realm::Tenant)),
            ("blank", "name".into())
        );
        bad.name = "x".repeat(121);
        assert_eq!(
            code(validate_new(&bad, Realm::Tenant)),
            ("too_long", "name".into())
        );
        bad.name = "Jane\u{7}".into();
        assert_eq!(
            code(validate_new(&bad, Realm::Tenant)),
            ("control_character", "name".into())
        );
        let mut admin = new(Some(Role::Admin));
        admin.permissions = Some(PermissionOverrides {
            manage_settings: Some(false),
            ..Default::default()
        });
        assert_eq!(
            code(validate_new(&admin, Realm::Tenant)),
            ("permissions_fixed", "permissions".into())
        );
        admin.role = Some(Role::Agent);
        assert!(validate_new(&admin, Realm::Tenant).is_ok());
    }

    #[test]
    fn patches_merge_and_a_new_role_drops_old_overrides() {
        let agent = UserFields {
            email: "a@x.io".into(),
            name: "A".into(),
            role: Role::Agent,
            overrides: PermissionOverrides {
                edit_leads: Some(true),
                ..Default::default()
            },
            active: true,
        };
        let same = apply_patch(&agent, &UserPatch::default(), Realm::Tenant).unwrap();
        assert_eq!(same, agent);

        let renamed: UserPatch = serde_json::from_str(r#"{"name":" B "}"#).unwrap();
        let r = apply_patch(&agent, &renamed, Realm::Tenant).unwrap();
        assert_eq!(r.name, "B");
        assert_eq!(r.overrides, agent.overrides);

        let promoted: UserPatch = serde_json::from_str(r#"{"role":"manager"}"#).unwrap();
        let r = apply_patch(&agent, &promoted, Realm::Tenant).unwrap();
        assert_eq!(r.role, Role::Manager);
        assert!(r.overrides.is_empty());

        let to_admin: UserPatch = serde_json::from_str(r#"{"role":"admin"}"#).unwrap();
        assert_eq!(
            apply_patch(&agent, &to_admin, Realm::Tenant).unwrap().role,
            Role::Admin,
            "the agent's overrides go with the old role, so no permissions_fixed"
        );

        let to_owner: UserPatch = serde_json::from_str(r#"{"role":"owner"}"#).unwrap();
        assert_eq!(
            code(apply_patch(&agent, &to_owner, Realm::Tenant)),
            ("invalid_role", "role".into())
        );

        // null returns a permission to the role's default; a value overrides; left out keeps.
        let p: UserPatch =
            serde_json::from_str(r#"{"permissions":{"edit_leads":null,"delete_leads":true}}"#)
                .unwrap();
        let r = apply_patch(&agent, &p, Realm::Tenant).unwrap();
        assert_eq!(
            r.overrides,
            PermissionOverrides {
                delete_leads: Some(true),
                ..Default::default()
            }
        );
        let deactivate: UserPatch = serde_json::from_str(r#"{"active":false}"#).unwrap();
        assert!(
            !apply_patch(&agent, &deactivate, Realm::Tenant)
                .unwrap()
                .active
        );

        assert!(serde_json::from_str::<UserPatch>(r#"{"email":"b@x.io"}"#).is_err());
        assert!(serde_json::from_str::<UserPatch>(r#"{"role":"root"}"#).is_err());
    }

    #[test]
    fn nobody_locks_themselves_out() {
        let me = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let admin = UserFields {
            email: "a@x.io".into(),
            name: "A".into(),
            role: Role::Admin,
            overrides: PermissionOverrides::default(),
            active: true,
        };
        let mut off = admin.clone();
        off.active = false;
        let mut demoted = admin.clone();
        demoted.role = Role::Agent;
        let mut renamed = admin.clone();
        renamed.name = "B".into();
        assert_eq!(
            code(check_not_self(Some(me), me, &admin, Some(&off))),
            ("cannot_change_self", "active".into())
        );
        assert_eq!(
            code(check_not_self(Some(me), me, &admin, Some(&demoted))),
            ("cannot_change_self", "role".into())
        );
        assert_eq!(
            code(check_not_self(Some(me), me, &admin, None)),
            ("cannot_change_self", "id".into())
        );
        assert!(check_not_self(Some(me), me, &admin, Some(&renamed)).is_ok());
        assert!(check_not_self(Some(me), other, &admin, Some(&off)).is_ok());
        assert!(
            check_not_self(None, me, &admin, None).is_ok(),
            "the admin token"
        );
    }

    #[test]
    fn users_serialise_as_the_contract_shows() {
        let u = User {
            id: Uuid::from_u128(7),
            tenant: None,
            email: "owner@echo5.io".into(),
            name: "Owner".into(),
            role: Role::Owner,
            permissions: Role::Owner.default_permissions(),
            active: true,
            created_at: DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
            last_login_at: None,
        };
        let v = serde_json::to_value(&u).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "active",
                "created_at",
                "email",
                "id",
                "last_login_at",
                "name",
                "permissions",
                "role",
                "tenant"
            ]
        );
        assert_eq!(v["tenant"], serde_json::Value::Null);
        assert_eq!(v["role"], "owner");
        assert_eq!(
            v["permissions"],
            serde_json::json!({"view_leads": true, "edit_leads": true, "delete_leads": true, "manage_settings": true})
        );
        let back: User = serde_json::from_value(v).unwrap();
        assert_eq!(back, u);
    }

    #[test]
    fn me_patch_needs_the_current_password_and_never_shows_either() {
        let p: MePatch =
            serde_json::from_str(r#"{"password":"new one here!","current_password":"old one"}"#)
                .unwrap();
        let c = validate_me_patch(&p).unwrap();
        assert_eq!(c.password.unwrap().0.expose(), "new one here!");
        assert_eq!(c.password.unwrap().1.expose(), "old one");
        let shown = format!("{p:?} {c:?} {}", serde_json::to_string(&p).unwrap());
        assert!(
            !shown.contains("new one") && !shown.contains("old one"),
            "{shown}"
        );

        let no_current = MePatch {
            password: Some(Secret::new("x".into())),
            ..Default::default()
        };
        assert_eq!(
            code(validate_me_patch(&no_current)),
            ("current_password_required", "current_password".into())
        );
        let only_current = MePatch {
            current_password: Some(Secret::new("x".into())),
            ..Default::default()
        };
        assert_eq!(
            code(validate_me_patch(&only_current)),
            ("password_required", "password".into())
        );
        let name: MePatch = serde_json::from_str(r#"{"name":" Jo "}"#).unwrap();
        assert_eq!(
            validate_me_patch(&name).unwrap().name.as_deref(),
            Some("Jo")
        );
    }
}
