//! The audit log: who changed what, for which tenant, when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::tenants::TenantRef;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `admin:<token id>` for the admin token, `user:<id>:<email>` for a user's session,
    /// `personal_token:<token id>:<email>`, `api_key:<key id>`; `system` for the daemon.
    pub actor: String,
    /// The actor as `{kind, id, email?}`; `null` for the daemon's own actors (`system`).
    #[serde(default)]
    pub by: Option<crate::authorization::Actor>,
    /// Dotted verb, e.g. `tenant.created`, `stage.deleted`, `settings.updated`.
    pub action: String,
    /// The tenant as it was named when the action happened (kept after a tenant is deleted).
    pub tenant: Option<TenantRef>,
    /// The id of the object acted on, when it is not the tenant itself.
    pub target: Option<String>,
    /// What changed. Never holds a secret value: secrets appear as `"[changed]"`/`"[cleared]"`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
}

/// An audit row about to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub actor: String,
    pub action: AuditAction,
    pub tenant: Option<TenantRef>,
    pub target: Option<String>,
    pub details: serde_json::Value,
}

/// What an audit row records; stored and served as its dotted name ([`AuditAction::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    AdminTokenCreated,
    AuthLinkCreated,
    AuthLinkUsed,
    DemoSeeded,
    KeyCreated,
    KeyRevealed,
    KeyRevoked,
    KeyRotated,
    LeadCreated,
    /// A lead erased: the row keeps its id and tenant, no personal data.
    LeadDeleted,
    LeadNoteAdded,
    LeadUpdated,
    /// The nightly retention job erased leads past their plan's window (one row per tenant
    /// and run, with the count).
    LeadsRetentionErased,
    MasterKeyRotated,
    NotificationsReplaced,
    NotificationsTested,
    NotificationsUpdated,
    PersonalTokenCreated,
    PersonalTokenDeleted,
    PlanCreated,
    PlanDeleted,
    PlanUpdated,
    PlatformSettingsReplaced,
    PlatformSettingsUpdated,
    SessionEnded,
    SessionStarted,
    SettingsReplaced,
    SettingsUpdated,
    StageCreated,
    StageDeleted,
    StageReordered,
    StageUpdated,
    TenantCreated,
    TenantDeleted,
    TenantReplaced,
    TenantUpdated,
    UserCreated,
    UserDeleted,
    UserPasswordSet,
    UserUpdated,
    WebhookCreated,
    WebhookDeleted,
    WebhookSecretRotated,
    WebhookUpdated,
}

impl AuditAction {
    pub const ALL: [AuditAction; 44] = [
        AuditAction::AdminTokenCreated,
        AuditAction::AuthLinkCreated,
        AuditAction::AuthLinkUsed,
        AuditAction::DemoSeeded,
        AuditAction::KeyCreated,
        AuditAction::KeyRevealed,
        AuditAction::KeyRevoked,
        AuditAction::KeyRotated,
        AuditAction::LeadCreated,
        AuditAction::LeadDeleted,
        AuditAction::LeadNoteAdded,
        AuditAction::LeadUpdated,
        AuditAction::LeadsRetentionErased,
        AuditAction::MasterKeyRotated,
        AuditAction::NotificationsReplaced,
        AuditAction::NotificationsTested,
        AuditAction::NotificationsUpdated,
        AuditAction::PersonalTokenCreated,
        AuditAction::PersonalTokenDeleted,
        AuditAction::PlanCreated,
        AuditAction::PlanDeleted,
        AuditAction::PlanUpdated,
        AuditAction::PlatformSettingsReplaced,
        AuditAction::PlatformSettingsUpdated,
        AuditAction::SessionEnded,
        AuditAction::SessionStarted,
        AuditAction::SettingsReplaced,
        AuditAction::SettingsUpdated,
        AuditAction::StageCreated,
        AuditAction::StageDeleted,
        AuditAction::StageReordered,
        AuditAction::StageUpdated,
        AuditAction::TenantCreated,
        AuditAction::TenantDeleted,
        AuditAction::TenantReplaced,
        AuditAction::TenantUpdated,
        AuditAction::UserCreated,
        AuditAction::UserDeleted,
        AuditAction::UserPasswordSet,
        AuditAction::UserUpdated,
        AuditAction::WebhookCreated,
        AuditAction::WebhookDeleted,
        AuditAction::WebhookSecretRotated,
        AuditAction::WebhookUpdated,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::AdminTokenCreated => "admin_token.created",
            AuditAction::AuthLinkCreated => "auth_link.created",
            AuditAction::AuthLinkUsed => "auth_link.used",
            AuditAction::DemoSeeded => "demo.seeded",
            AuditAction::KeyCreated => "key.created",
            AuditAction::KeyRevealed => "key.revealed",
            AuditAction::KeyRevoked => "key.revoked",
            AuditAction::KeyRotated => "key.rotated",
            AuditAction::LeadCreated => "lead.created",
            AuditAction::LeadDeleted => "lead.deleted",
            AuditAction::LeadNoteAdded => "lead.note_added",
            AuditAction::LeadUpdated => "lead.updated",
            AuditAction::LeadsRetentionErased => "leads.retention_erased",
            AuditAction::MasterKeyRotated => "master_key.rotated",
            AuditAction::NotificationsReplaced => "notifications.replaced",
            AuditAction::NotificationsTested => "notifications.tested",
            AuditAction::NotificationsUpdated => "notifications.updated",
            AuditAction::PersonalTokenCreated => "personal_token.created",
            AuditAction::PersonalTokenDeleted => "personal_token.deleted",
            AuditAction::PlanCreated => "plan.created",
            AuditAction::PlanDeleted => "plan.deleted",
            AuditAction::PlanUpdated => "plan.updated",
            AuditAction::PlatformSettingsReplaced => "platform.settings.replaced",
            AuditAction::PlatformSettingsUpdated => "platform.settings.updated",
            AuditAction::SessionEnded => "session.ended",
            AuditAction::SessionStarted => "session.started",
            AuditAction::SettingsReplaced => "settings.replaced",
            AuditAction::SettingsUpdated => "settings.updated",
            AuditAction::StageCreated => "stage.created",
            AuditAction::StageDeleted => "stage.deleted",
            AuditAction::StageReordered => "stage.reordered",
            AuditAction::StageUpdated => "stage.updated",
            AuditAction::TenantCreated => "tenant.created",
            AuditAction::TenantDeleted => "tenant.deleted",
            AuditAction::TenantReplaced => "tenant.replaced",
            AuditAction::TenantUpdated => "tenant.updated",
            AuditAction::UserCreated => "user.created",
            AuditAction::UserDeleted => "user.deleted",
            AuditAction::UserPasswordSet => "user.password_set",
            AuditAction::UserUpdated => "user.updated",
            AuditAction::WebhookCreated => "webhook.created",
            AuditAction::WebhookDeleted => "webhook.deleted",
            AuditAction::WebhookSecretRotated => "webhook.secret_rotated",
            AuditAction::WebhookUpdated => "webhook.updated",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// How an actor is shown to people (a note's author, a stage move's "by", the audit screen):
/// the admin token is `admin` whichever token it was (`admin:<token id>` stays in the audit
/// row for tracing); `system`, `demo` and the like are their own names.
pub fn actor_name(actor: &str) -> &str {
    match actor.split_once(':') {
        Some(("admin", _)) => "admin",
        // A user, directly or through a personal token: their e-mail address.
        Some(("user" | "personal_token", rest)) => rest.split_once(':').map_or(actor, |(_, e)| e),
        _ => actor,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn actors_by_name() {
        assert_eq!(
            super::actor_name("admin:0190c0de-0000-7000-8000-000000000001"),
            "admin"
        );
        assert_eq!(super::actor_name("system"), "system");
        assert_eq!(
            super::actor_name("user:0190c0de-0000-7000-8000-000000000002:jane@openarms.test"),
            "jane@openarms.test"
        );
        assert_eq!(
            super::actor_name("personal_token:0190c0de-0000-7000-8000-000000000003:jane@x.test"),
            "jane@x.test"
        );
        assert_eq!(super::actor_name("demo"), "demo");
    }

    use super::*;

    #[test]
    fn actions_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(AuditAction::parse("tenant.exploded"), None);
    }

    /// The names already in audit logs: renaming one would split a filter's history.
    #[test]
    fn the_names_are_those_in_use() {
        let names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            names,
            [
                "admin_token.created",
                "auth_link.created",
                "auth_link.used",
                "demo.seeded",
                "key.created",
                "key.revealed",
                "key.revoked",
                "key.rotated",
                "lead.created",
                "lead.deleted",
                "lead.note_added",
                "lead.updated",
                "leads.retention_erased",
                "master_key.rotated",
                "notifications.replaced",
                "notifications.tested",
                "notifications.updated",
                "personal_token.created",
                "personal_token.deleted",
                "plan.created",
                "plan.deleted",
                "plan.updated",
                "platform.settings.replaced",
                "platform.settings.updated",
                "session.ended",
                "session.started",
                "settings.replaced",
                "settings.updated",
                "stage.created",
                "stage.deleted",
                "stage.reordered",
                "stage.updated",
                "tenant.created",
                "tenant.deleted",
                "tenant.replaced",
                "tenant.updated",
                "user.created",
                "user.deleted",
                "user.password_set",
                "user.updated",
                "webhook.created",
                "webhook.deleted",
                "webhook.secret_rotated",
                "webhook.updated",
            ]
        );
    }
}
