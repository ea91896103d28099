//! Who may do what: the principal a request acts as, and the one rule "may principal P do
//! action A on resource R", as plain functions over plain types.
//!
//! The rule answers with a [`Decision`]:
//! - `Allow(reach)`: yes; `reach` says whether every lead of the tenant counts or only the
//!   ones assigned to the principal (a manager).
//! - `NotFound` (404): the resource belongs to another tenant, or is a lead the principal
//!   cannot see. Its existence is not confirmed, as routes of another tenant answer today.
//! - `Forbidden` (403 `forbidden`): the resource is the principal's to see, the action is
//!   not theirs to take (an agent editing a lead, a tenant admin changing plans).
//! - `Unauthenticated` (401): a deactivated user's credential.
//!
//! Platform principals (the admin token and `owner` users) may do everything. A tenant
//! user's rights come from [`TENANT_RULES`], the table below; a personal token never goes
//! beyond its scope; an ingest key only ingests.

use serde::{Deserialize, Serialize};

use crate::personal_tokens::TokenScope;
use crate::users::{Permissions, Role, TenantId, User, UserId};

/// A user's identity and rights, as loaded for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: UserId,
    /// `None` for a platform user.
    pub tenant: Option<TenantId>,
    pub email: String,
    pub role: Role,
    /// Effective permissions (role defaults with overrides).
    pub permissions: Permissions,
    pub active: bool,
}

impl From<&User> for Account {
    fn from(u: &User) -> Account {
        Account {
            id: u.id,
            tenant: u.tenant,
            email: u.email.clone(),
            role: u.role,
            permissions: u.permissions,
            active: u.active,
        }
    }
}

/// Whom a request acts as, from the credential it presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The platform owner's bootstrap credential (`e5a_…`).
    AdminToken { token_id: uuid::Uuid },
    /// A user logged in with a session (`e5s_…`).
    Session { account: Account },
    /// A user's personal token (`e5p_…`): the user's rights, cut down to the scope.
    PersonalToken {
        token_id: uuid::Uuid,
        account: Account,
        scope: TokenScope,
    },
    /// A tenant's ingest API key (`e5_…`).
    IngestKey {
        key_id: uuid::Uuid,
        tenant: TenantId,
    },
}

impl Principal {
    pub fn account(&self) -> Option<&Account> {
        match self {
            Principal::Session { account } | Principal::PersonalToken { account, .. } => {
                Some(account)
            }
            _ => None,
        }
    }

    /// The tenant a principal is bound to; `None` for platform principals.
    pub fn tenant(&self) -> Option<TenantId> {
        match self {
            Principal::AdminToken { .. } => None,
            Principal::IngestKey { tenant, .. } => Some(*tenant),
            Principal::Session { account } | Principal::PersonalToken { account, .. } => {
                account.tenant
            }
        }
    }

    /// Whether the principal may do everything (the admin token, an `owner`). A read-scoped
    /// token of an owner is still held to its scope by [`authorize`].
    pub fn is_platform(&self) -> bool {
        match self {
            Principal::AdminToken { .. } => true,
            Principal::IngestKey { .. } => false,
            Principal::Session { account } | Principal::PersonalToken { account, .. } => {
                account.role.is_platform() && account.tenant.is_none()
            }
        }
    }

    /// How an audit row names the principal.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::AdminToken { token_id } => Actor {
                kind: ActorKind::AdminToken,
                id: token_id.to_string(),
                email: None,
            },
            Principal::Session { account } => Actor {
                kind: ActorKind::User,
                id: account.id.to_string(),
                email: Some(account.email.clone()),
            },
            Principal::PersonalToken {
                token_id, account, ..
            } => Actor {
                kind: ActorKind::PersonalToken,
                id: token_id.to_string(),
                email: Some(account.email.clone()),
            },
            Principal::IngestKey { key_id, .. } => Actor {
                kind: ActorKind::ApiKey,
                id: key_id.to_string(),
                email: None,
            },
        }
    }
}

/// Who did something, as audit rows name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    pub kind: ActorKind,
    /// The admin token's, user's, personal token's or API key's id.
    pub id: String,
    /// The user's e-mail, for users and their personal tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Actor {
    /// The audit log's `actor` column: `admin:<token id>` (as rows written before users
    /// existed), `user:<id>:<email>`, `personal_token:<token id>:<email>`, `api_key:<key id>`.
    /// The e-mail is kept as it was, so the row still names the person after they leave.
    pub fn to_audit(&self) -> String {
        let kind = match self.kind {
            ActorKind::AdminToken => "admin",
            ActorKind::User => "user",
            ActorKind::PersonalToken => "personal_token",
            ActorKind::ApiKey => "api_key",
        };
        match &self.email {
            Some(e) => format!("{kind}:{}:{e}", self.id),
            None => format!("{kind}:{}", self.id),
        }
    }

    /// Reads [`Actor::to_audit`] back; `None` for the daemon's own actors (`system`,
    /// `demo`) and anything else that names no principal.
    pub fn from_audit(s: &str) -> Option<Actor> {
        let mut parts = s.splitn(3, ':');
        let kind = match parts.next()? {
            "admin" => ActorKind::AdminToken,
            "user" => ActorKind::User,
            "personal_token" => ActorKind::PersonalToken,
            "api_key" => ActorKind::ApiKey,
            _ => return None,
        };
        let id = parts.next().filter(|id| !id.is_empty())?.to_string();
        let email = parts.next().map(str::to_string);
        Some(Actor { kind, id, email })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    AdminToken,
    User,
    PersonalToken,
    ApiKey,
}

/// What is done to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Read,
    /// Create, replace or update.
    Write,
    Delete,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Read, Action::Write, Action::Delete];
}

/// The kinds of thing a route acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// Leads, their detail, CSV export, SLA breaches.
    Leads,
    Analytics,
    /// The live event stream (each event is filtered again per principal).
    Events,
    Stages,
    Settings,
    Keys,
    Webhooks,
    Notifications,
    Integrations,
    Usage,
    Plans,
    Audit,
    /// The tenant's users (the Team screen).
    Users,
    /// The tenant record itself (`/tenants/{t}`), and at platform scope the tenant list:
    /// writing there is creating a tenant.
    Tenant,
    /// Adding leads with a site's API key (`/ingest`, `GET /key`).
    Ingest,
    PlatformSettings,
    /// Platform users (`owner`s).
    PlatformUsers,
    /// The daemon's own log.
    SystemLogs,
    /// The principal's own account: `/me`, its name, password and personal tokens.
    Account,
}

impl Subject {
    pub const ALL: [Subject; 19] = [
        Subject::Leads,
        Subject::Analytics,
        Subject::Events,
        Subject::Stages,
        Subject::Settings,
        Subject::Keys,
        Subject::Webhooks,
        Subject::Notifications,
        Subject::Integrations,
        Subject::Usage,
        Subject::Plans,
        Subject::Audit,
        Subject::Users,
        Subject::Tenant,
        Subject::Ingest,
        Subject::PlatformSettings,
        Subject::PlatformUsers,
        Subject::SystemLogs,
        Subject::Account,
    ];
}

/// Where a resource lives: in one tenant, or on the platform (across tenants, or
/// belonging to none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Platform,
    Tenant(TenantId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Resource {
    pub subject: Subject,
    pub scope: Scope,
}

impl Resource {
    pub fn tenant(subject: Subject, tenant: TenantId) -> Resource {
        Resource {
            subject,
            scope: Scope::Tenant(tenant),
        }
    }

    pub fn platform(subject: Subject) -> Resource {
        Resource {
            subject,
            scope: Scope::Platform,
        }
    }

    /// The principal's own account (scope does not apply to it).
    pub fn account() -> Resource {
        Resource::platform(Subject::Account)
    }
}

/// Which leads an allowed principal reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every lead in scope.
    All,
    /// Only the leads assigned to this user (a manager).
    AssignedTo(UserId),
}

impl Reach {
    /// Whether a lead assigned to `assigned_to` is within reach: what a listing, a CSV
    /// export, analytics and the event stream filter by.
    pub fn covers(self, assigned_to: Option<UserId>) -> bool {
        match self {
            Reach::All => true,
            Reach::AssignedTo(me) => assigned_to == Some(me),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(Reach),
    /// 403 `forbidden`.
    Forbidden,
    /// 404: another tenant's resource, or a lead out of the principal's reach.
    NotFound,
    /// 401: the credential's user is deactivated.
    Unauthenticated,
}

/// A refusal, for `?` in handlers; the daemon maps each to its status in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("the credential is no longer valid")]
    Unauthenticated,
}

impl Denied {
    pub fn status(self) -> u16 {
        match self {
            Denied::Forbidden => 403,
            Denied::NotFound => 404,
            Denied::Unauthenticated => 401,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Denied::Forbidden => "forbidden",
            Denied::NotFound => "not_found",
            Denied::Unauthenticated => "invalid_token",
        }
    }
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    pub fn into_result(self) -> Result<Reach, Denied> {
        match self {
            Decision::Allow(r) => Ok(r),
            Decision::Forbidden => Err(Denied::Forbidden),
            Decision::NotFound => Err(Denied::NotFound),
            Decision::Unauthenticated => Err(Denied::Unauthenticated),
        }
    }
}

/// A permission of [`Permissions`], by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ViewLeads,
    EditLeads,
    DeleteLeads,
    ManageSettings,
}

impl Permission {
    /// The permission's field name in [`Permissions`].
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ViewLeads => "view_leads",
            Permission::EditLeads => "edit_leads",
            Permission::DeleteLeads => "delete_leads",
            Permission::ManageSettings => "manage_settings",
        }
    }

    fn held_in(self, p: &Permissions) -> bool {
        match self {
            Permission::ViewLeads => p.view_leads,
            Permission::EditLeads => p.edit_leads,
            Permission::DeleteLeads => p.delete_leads,
            Permission::ManageSettings => p.manage_settings,
        }
    }
}

/// What a tenant user needs for one action on one subject of their own tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any active user of the tenant.
    Member,
    /// All of these permissions.
    All(&'static [Permission]),
    /// Role `admin` (the tenant's users and audit log).
    TenantAdmin,
    /// Nobody in a tenant: only the platform (the admin token, owners).
    Platform,
}

impl Need {
    /// How the OpenAPI document states an operation's requirement for tenant users
    /// (the admin token and owners may do everything).
    pub fn describe(self) -> String {
        match self {
            Need::Member => "any user of the tenant".into(),
            Need::All(perms) => perms
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(" + "),
            Need::TenantAdmin => "role admin".into(),
            Need::Platform => "platform only (admin token or owner)".into(),
        }
    }
}

use Need::{All, Member, Platform, TenantAdmin};
use Permission::{DeleteLeads, EditLeads, ManageSettings, ViewLeads};

const VIEW: Need = All(&[ViewLeads]);
const EDIT: Need = All(&[ViewLeads, EditLeads]);
const DELETE: Need = All(&[ViewLeads, DeleteLeads]);
const SETTINGS: Need = All(&[ManageSettings]);

/// What a tenant user needs, per subject of their own tenant: `(subject, read, write,
/// delete)`. Subjects not listed (platform settings, platform users, the system log, ingest)
/// are [`Need::Platform`]. A personal token is further cut to its scope, and a manager's
/// leads, analytics and events to the leads assigned to them ([`Reach`]).
pub const TENANT_RULES: &[(Subject, Need, Need, Need)] = &[
    //  subject                read        write       delete
    (Subject::Leads, VIEW, EDIT, DELETE),
    (Subject::Analytics, VIEW, Platform, Platform),
    (Subject::Events, Member, Platform, Platform),
    // Everyone who sees leads needs the stage names to show them.
    (Subject::Stages, VIEW, SETTINGS, SETTINGS),
    (Subject::Settings, SETTINGS, SETTINGS, SETTINGS),
    (Subject::Keys, SETTINGS, SETTINGS, SETTINGS),
    (Subject::Webhooks, SETTINGS, SETTINGS, SETTINGS),
    (Subject::Notifications, SETTINGS, SETTINGS, SETTINGS),
    (Subject::Integrations, SETTINGS, SETTINGS, SETTINGS),
    (Subject::Usage, SETTINGS, Platform, Platform),
    // A tenant sees its plan and its limits; choosing plans is the platform's.
    (Subject::Plans, SETTINGS, Platform, Platform),
    (Subject::Audit, TenantAdmin, Platform, Platform),
    (Subject::Users, TenantAdmin, TenantAdmin, TenantAdmin),
    // The tenant's name, slug and `active` switch are the platform's to change.
    (Subject::Tenant, Member, Platform, Platform),
];

/// The need for `action` on `subject` in the user's own tenant, from [`TENANT_RULES`].
pub fn tenant_need(subject: Subject, action: Action) -> Need {
    TENANT_RULES.iter().find(|(s, ..)| *s == subject).map_or(
        Platform,
        |&(_, read, write, delete)| match action {
            Action::Read => read,
            Action::Write => write,
            Action::Delete => delete,
        },
    )
}

fn meets(account: &Account, need: Need) -> bool {
    match need {
        Member => true,
        All(perms) => perms.iter().all(|p| p.held_in(&account.permissions)),
        TenantAdmin => account.role == Role::Admin,
        Platform => false,
    }
}

/// Subjects whose reach a manager's role narrows to their assigned leads.
fn lead_scoped(subject: Subject) -> bool {
    matches!(
        subject,
        Subject::Leads | Subject::Analytics | Subject::Events
    )
}

fn within_scope(scope: Option<TokenScope>, action: Action) -> bool {
    match scope {
        None | Some(TokenScope::Write) => true,
        Some(TokenScope::Read) => action == Action::Read,
    }
}

/// May `principal` do `action` on `resource`?
pub fn authorize(principal: &Principal, action: Action, resource: Resource) -> Decision {
    let (account, token_scope) = match principal {
        Principal::AdminToken { .. } => {
            // The admin token is nobody's account: it can read who it is, not change it.
            return if resource.subject == Subject::Account && action != Action::Read {
                Decision::Forbidden
            } else {
                Decision::Allow(Reach::All)
            };
        }
        Principal::IngestKey { tenant, .. } => return authorize_ingest_key(*tenant, resource),
        Principal::Session { account } => (account, None),
        Principal::PersonalToken { account, scope, .. } => (account, Some(*scope)),
    };
    if !account.active {
        return Decision::Unauthenticated;
    }
    if resource.subject == Subject::Account {
        // Tokens cannot mint tokens or change the password: a leaked token must not
        // outlive its expiry nor take the account over.
        return if action == Action::Read || token_scope.is_none() {
            Decision::Allow(Reach::All)
        } else {
            Decision::Forbidden
        };
    }
    if principal.is_platform() {
        return if within_scope(token_scope, action) {
            Decision::Allow(Reach::All)
        } else {
            Decision::Forbidden
        };
    }
    let Some(own) = account.tenant else {
        // A tenant role without a tenant cannot be stored; refuse rather than guess.
        return Decision::Forbidden;
    };
    match resource.scope {
        Scope::Tenant(t) if t != own => return Decision::NotFound,
        // Across tenants, or the platform's own: never a tenant user's.
        Scope::Platform => return Decision::Forbidden,
        Scope::Tenant(_) => {}
    }
    if !within_scope(token_scope, action) {
        return Decision::Forbidden;
    }
    if !meets(account, tenant_need(resource.subject, action)) {
        return Decision::Forbidden;
    }
    if account.role == Role::Manager && lead_scoped(resource.subject) {
        Decision::Allow(Reach::AssignedTo(account.id))
    } else {
        Decision::Allow(Reach::All)
    }
}

/// An ingest key adds leads to its own tenant (and tells which tenant that is), nothing
/// else.
fn authorize_ingest_key(tenant: TenantId, resource: Resource) -> Decision {
    match resource.scope {
        Scope::Tenant(t) if t != tenant => Decision::NotFound,
        Scope::Tenant(_) if resource.subject == Subject::Ingest => Decision::Allow(Reach::All),
        _ => Decision::Forbidden,
    }
}

/// One lead as far as authorization cares: whose it is and to whom it is assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadRef {
    pub tenant: TenantId,
    pub assigned_to: Option<UserId>,
}

/// May `principal` do `action` on this lead? A lead the principal cannot see (another
/// tenant's, or for a manager one not assigned to them) is `NotFound`; a lead they see
/// but may not change is `Forbidden`.
pub fn authorize_lead(principal: &Principal, action: Action, lead: LeadRef) -> Decision {
    let resource = Resource::tenant(Subject::Leads, lead.tenant);
    match authorize(principal, Action::Read, resource) {
        Decision::Allow(reach) if !reach.covers(lead.assigned_to) => Decision::NotFound,
        Decision::Allow(_) => authorize(principal, action, resource),
        refused => refused,
    }
}

/// Whether the principal may see this lead at all: the filter for listings, exports and
/// each event of the live stream.
pub fn may_see_lead(principal: &Principal, lead: LeadRef) -> bool {
    authorize_lead(principal, Action::Read, lead).is_allowed()
}

#[cfg(test)]
mod tests;
