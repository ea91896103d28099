//! Users on the wire: a tenant's (`/api/v1/tenants/{t}/users`) and the platform's
//! (`/api/v1/platform/users`). Paths and bodies live here only.

use echo5_core::authorization::Permission;
use echo5_core::secret::Secret;
use echo5_core::users::{NewUser, PermissionsPatch, User, UserPatch};
use reqwest::Method;
use serde::Deserialize;
use uuid::Uuid;

use super::Client;
use crate::app::effect::{Invite, UserChange, UserRealm};
use crate::app::{ApiError, Reply};

/// The collection path of a realm's users.
pub fn users_path(realm: UserRealm) -> String {
    match realm {
        UserRealm::Tenant(t) => format!("/api/v1/tenants/{t}/users"),
        UserRealm::Platform => "/api/v1/platform/users".to_string(),
    }
}

fn user_path(realm: UserRealm, user: Uuid) -> String {
    format!("{}/{user}", users_path(realm))
}

/// A list answer, `{data: [...]}` (a cursor beside it is not followed: a team is small).
#[derive(Deserialize)]
struct Listed {
    data: Vec<User>,
}

/// The create answer: the user with `invite_url` beside its fields, or under `user`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Created {
    Nested {
        user: User,
        #[serde(default)]
        invite_url: Option<Secret<String>>,
    },
    Flat {
        #[serde(flatten)]
        user: User,
        #[serde(default)]
        invite_url: Option<Secret<String>>,
    },
}

/// The POST body of an invitation.
pub fn invite_body(invite: &Invite) -> NewUser {
    NewUser {
        email: invite.email.clone(),
        name: invite.name.clone(),
        role: invite.role,
        permissions: None,
    }
}

/// The PATCH body of one change: only that field is sent.
pub fn change_body(change: &UserChange) -> UserPatch {
    let mut p = UserPatch::default();
    match change {
        UserChange::Role(r) => p.role = Some(*r),
        UserChange::Active(a) => p.active = Some(*a),
        UserChange::Permission(perm, on) => {
            let mut pp = PermissionsPatch::default();
            let v = Some(Some(*on));
            match perm {
                Permission::ViewLeads => pp.view_leads = v,
                Permission::EditLeads => pp.edit_leads = v,
                Permission::DeleteLeads => pp.delete_leads = v,
                Permission::ManageSettings => pp.manage_settings = v,
            }
            p.permissions = Some(pp);
        }
    }
    p
}

impl Client {
    pub(super) async fn list_users(&self, realm: UserRealm) -> Result<Reply, ApiError> {
        let l: Listed = self.send(self.req(Method::GET, &users_path(realm))).await?;
        Ok(Reply::Users(l.data))
    }

    pub(super) async fn create_user(
        &self,
        realm: UserRealm,
        invite: &Invite,
    ) -> Result<Reply, ApiError> {
        let c: Created = self
            .send(
                self.req(Method::POST, &users_path(realm))
                    .json(&invite_body(invite)),
            )
            .await?;
        let (user, invite_url) = match c {
            Created::Nested { user, invite_url } | Created::Flat { user, invite_url } => {
                (user, invite_url)
            }
        };
        Ok(Reply::UserCreated {
            user: Box::new(user),
            invite_url,
        })
    }

    pub(super) async fn patch_user(
        &self,
        realm: UserRealm,
        user: Uuid,
        change: &UserChange,
    ) -> Result<Reply, ApiError> {
        self.send::<User>(
            self.req(Method::PATCH, &user_path(realm, user))
                .json(&change_body(change)),
        )
        .await
        .map(|u| Reply::UserSaved(Box::new(u)))
    }

    pub(super) async fn delete_user(
        &self,
        realm: UserRealm,
        user: Uuid,
    ) -> Result<Reply, ApiError> {
        self.send_empty(self.req(Method::DELETE, &user_path(realm, user)))
            .await
            .map(|()| Reply::UserDeleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use echo5_core::users::Role;
    use serde_json::json;

    #[test]
    fn bodies_and_paths_match_the_contract() {
        let t = Uuid::from_u128(7);
        assert_eq!(
            users_path(UserRealm::Tenant(t)),
            format!("/api/v1/tenants/{t}/users")
        );
        assert_eq!(users_path(UserRealm::Platform), "/api/v1/platform/users");
        let v = serde_json::to_value(change_body(&UserChange::Permission(
            Permission::EditLeads,
            true,
        )));
        assert_eq!(v.ok(), Some(json!({"permissions": {"edit_leads": true}})));
        let v = serde_json::to_value(change_body(&UserChange::Role(Role::Manager)));
        assert_eq!(v.ok(), Some(json!({"role": "manager"})));
        let v = serde_json::to_value(change_body(&UserChange::Active(false)));
        assert_eq!(v.ok(), Some(json!({"active": false})));
        let v = serde_json::to_value(invite_body(&Invite {
            email: "ana@x.example".into(),
            name: "Ana".into(),
            role: Some(Role::Agent),
        }));
        assert_eq!(
            v.ok(),
            Some(json!({"email": "ana@x.example", "name": "Ana", "role": "agent"}))
        );
    }

    #[test]
    fn the_create_answer_is_read_flat_or_nested_and_its_link_is_secret() {
        let user = json!({
            "id": Uuid::from_u128(1), "tenant": null, "email": "o@x.example", "name": "O",
            "role": "owner", "active": true, "created_at": "2026-03-02T09:30:00Z",
            "last_login_at": null,
            "permissions": {"view_leads": true, "edit_leads": true, "delete_leads": true,
                            "manage_settings": true}
        });
        let mut flat = user.clone();
        flat["invite_url"] = json!("http://x/invite/e5i_SECRETLINK");
        let nested = json!({"user": user, "invite_url": "http://x/invite/e5i_SECRETLINK"});
        for v in [flat, nested] {
            let c: Created = match serde_json::from_value(v) {
                Ok(c) => c,
                Err(e) => panic!("{e}"),
            };
            let (Created::Flat { user, invite_url } | Created::Nested { user, invite_url }) = c;
            assert_eq!(user.email, "o@x.example");
            let url = invite_url.expect("link");
            assert!(url.expose().ends_with("SECRETLINK"));
            assert!(!format!("{url:?}").contains("SECRETLINK"));
        }
    }
}
