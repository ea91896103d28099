//! Users: a tenant's team (the Team screen, for the tenant's admins and the platform) and
//! the platform's users (the Users screen, owners). Invite (the invitation link shown
//! once), change a role, toggle a permission override, deactivate or reactivate, delete.
//! What the daemon refuses (409 `cannot_change_self`, 422 `weak_password`, 403) is shown
//! in its own words.

mod view;

use echo5_core::authorization::Permission;
use echo5_core::users::{self as core, NewUser, Realm, Role, User};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::Component;
use super::tenants::switch_tenant;
use crate::app::Screen;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Invite, Scope, UserChange, UserRealm};
use crate::app::navigation::go;
use crate::app::overlay::{
    Confirm, Field, Form, Overlay, PendingOp, PickUser, Purpose, ShownInvite, UserPick,
};
use crate::app::request::{admit, fetch, mutate, mutate_global};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch};
use echo5_core::tenants::TenantRef;

/// One realm's users and the screen's cursor and filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Users {
    pub remote: Remote<Vec<User>>,
    pub view: ListView,
}

impl Users {
    /// Users with the filter (e-mail, name or role) applied, in the daemon's order.
    pub fn filtered(&self) -> Vec<&User> {
        let f = self.view.filter.to_lowercase();
        self.remote
            .data
            .iter()
            .flatten()
            .filter(|u| {
                f.is_empty()
                    || u.email.to_lowercase().contains(&f)
                    || u.name.to_lowercase().contains(&f)
                    || u.role.as_str().contains(&f)
            })
            .collect()
    }

    pub fn selected(&self) -> Option<&User> {
        self.filtered().get(self.view.selected).copied()
    }
}

/// The tenant roles, in the order the role chooser lists them.
pub const TENANT_ROLES: [Role; 3] = [Role::Admin, Role::Manager, Role::Agent];
/// The permissions, in the order the permission chooser lists them.
pub const PERMISSIONS: [Permission; 4] = [
    Permission::ViewLeads,
    Permission::EditLeads,
    Permission::DeleteLeads,
    Permission::ManageSettings,
];

pub fn held(u: &User, p: Permission) -> bool {
    match p {
        Permission::ViewLeads => u.permissions.view_leads,
        Permission::EditLeads => u.permissions.edit_leads,
        Permission::DeleteLeads => u.permissions.delete_leads,
        Permission::ManageSettings => u.permissions.manage_settings,
    }
}

/// Which screen: the selected tenant's team, or the platform's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Team,
    Platform,
}

impl Which {
    fn of(realm: UserRealm) -> Which {
        match realm {
            UserRealm::Tenant(_) => Which::Team,
            UserRealm::Platform => Which::Platform,
        }
    }

    fn resource(self) -> Resource {
        match self {
            Which::Team => Resource::Team,
            Which::Platform => Resource::PlatformUsers,
        }
    }

    fn realm(self, state: &State) -> Option<UserRealm> {
        match self {
            Which::Team => state.tenant.as_ref().map(|t| UserRealm::Tenant(t.id)),
            Which::Platform => Some(UserRealm::Platform),
        }
    }

    fn users(self, state: &State) -> &Users {
        match self {
            Which::Team => &state.team,
            Which::Platform => &state.platform_users,
        }
    }

    fn users_mut(self, state: &mut State) -> &mut Users {
        match self {
            Which::Team => &mut state.team,
            Which::Platform => &mut state.platform_users,
        }
    }
}

/// The realm a users call is about.
fn realm_of(call: &Call) -> Option<UserRealm> {
    match call {
        Call::ListUsers { realm }
        | Call::CreateUser { realm, .. }
        | Call::PatchUser { realm, .. }
        | Call::DeleteUser { realm, .. } => Some(*realm),
        _ => None,
    }
}

pub struct TeamScreen;
pub struct PlatformUsersScreen;

const TEAM_BINDINGS: &[Binding] = &[
    b(&[ch('a')], Cmd::Add, "invite", true),
    b(&[ch('r')], Cmd::Role, "role", true),
    b(&[ch('p')], Cmd::Permission, "permission", true),
    b(&[ch('x')], Cmd::Active, "(de)activate", true),
    b(&[ch('D')], Cmd::Delete, "delete", true),
];

const PLATFORM_BINDINGS: &[Binding] = &[
    b(&[ch('a')], Cmd::Add, "invite owner", true),
    b(&[ch('x')], Cmd::Active, "deactivate / reactivate", true),
    b(&[ch('D')], Cmd::Delete, "delete", true),
];

/// The component methods both screens share, for one [`Which`].
macro_rules! users_component {
    ($screen:ty, $which:expr, $bindings:expr) => {
        impl Component for $screen {
            fn bindings(&self) -> &'static [Binding] {
                $bindings
            }

            fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
                view::draw(frame, area, state, $which == Which::Team);
            }

            fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
                on_cmd(state, $which, cmd)
            }

            fn wanted(&self, _state: &State, _force: bool) -> Vec<Resource> {
                vec![$which.resource()]
            }

            fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
                Some(&mut $which.users_mut(state).view)
            }

            fn list_len(&self, state: &State) -> usize {
                $which.users(state).filtered().len()
            }

            fn resources(&self) -> &'static [Resource] {
                match $which {
                    Which::Team => &[Resource::Team],
                    Which::Platform => &[Resource::PlatformUsers],
                }
            }

            fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
                let realm = $which.realm(state)?;
                let scope = match realm {
                    UserRealm::Tenant(_) => state.tenant_scope(),
                    UserRealm::Platform => Scope::Global,
                };
                Some((Call::ListUsers { realm }, scope))
            }

            fn remote_mut<'a>(
                &self,
                state: &'a mut State,
                _res: Resource,
            ) -> Option<&'a mut dyn RemoteStatus> {
                Some(&mut $which.users_mut(state).remote)
            }

            fn resource_of(&self, call: &Call) -> Option<Resource> {
                match call {
                    Call::ListUsers { realm } if Which::of(*realm) == $which => {
                        Some($which.resource())
                    }
                    _ => None,
                }
            }

            fn touched_by(&self, call: &Call) -> Option<Resource> {
                match call {
                    Call::CreateUser { realm, .. }
                    | Call::PatchUser { realm, .. }
                    | Call::DeleteUser { realm, .. }
                        if Which::of(*realm) == $which =>
                    {
                        Some($which.resource())
                    }
                    _ => None,
                }
            }

            fn apply(
                &self,
                state: &mut State,
                id: u64,
                call: &Call,
                reply: Reply,
            ) -> Result<Vec<Effect>, Box<Reply>> {
                match realm_of(call) {
                    Some(realm) if Which::of(realm) == $which => apply(state, $which, id, reply),
                    _ => Err(Box::new(reply)),
                }
            }

            fn tenant_changed(&self, state: &mut State) {
                if $which == Which::Team {
                    state.team = Users::default();
                }
            }
        }
    };
}

users_component!(TeamScreen, Which::Team, TEAM_BINDINGS);
users_component!(PlatformUsersScreen, Which::Platform, PLATFORM_BINDINGS);

fn apply(
    state: &mut State,
    which: Which,
    id: u64,
    reply: Reply,
) -> Result<Vec<Effect>, Box<Reply>> {
    let res = which.resource();
    Ok(match reply {
        Reply::Users(list) => {
            if admit(state, res, id) {
                let now = state.now;
                let users = which.users_mut(state);
                users.remote.store(list, now);
                let n = users.filtered().len();
                users.view.clamp(n);
            }
            Vec::new()
        }
        Reply::UserCreated { user, invite_url } => {
            state.toast(ToastLevel::Info, format!("invited {}", user.email));
            if let Some(url) = invite_url {
                // Over any other dialog: this answer is the only time the link is handed over.
                state.overlay = Some(Overlay::ShowInvite(ShownInvite {
                    email: user.email.clone(),
                    url,
                }));
            }
            fetch(state, res, true).into_iter().collect()
        }
        Reply::UserSaved(user) => {
            state.toast(ToastLevel::Info, format!("saved {}", user.email));
            if let Some(row) = which
                .users_mut(state)
                .remote
                .data
                .iter_mut()
                .flatten()
                .find(|u| u.id == user.id)
            {
                *row = *user;
            }
            fetch(state, res, true).into_iter().collect()
        }
        Reply::UserDeleted => {
            state.toast(ToastLevel::Info, "user deleted");
            fetch(state, res, true).into_iter().collect()
        }
        other => return Err(Box::new(other)),
    })
}

fn send(state: &mut State, realm: UserRealm, call: Call) -> Vec<Effect> {
    let effect = match realm {
        UserRealm::Tenant(_) => mutate(state, call, Resource::Team),
        UserRealm::Platform => mutate_global(state, call, Resource::PlatformUsers),
    };
    vec![effect]
}

fn on_cmd(state: &mut State, which: Which, cmd: Cmd) -> Vec<Effect> {
    let Some(realm) = which.realm(state) else {
        return Vec::new();
    };
    if cmd == Cmd::Add {
        open_invite(state, realm);
        return Vec::new();
    }
    let Some(u) = which.users(state).selected().cloned() else {
        return Vec::new();
    };
    match cmd {
        Cmd::Role if which == Which::Team => {
            let selected = TENANT_ROLES.iter().position(|r| *r == u.role).unwrap_or(0);
            state.overlay = Some(Overlay::PickUser(PickUser {
                title: format!("Role of {}", u.email),
                pick: UserPick::Role { realm, user: u.id },
                choices: TENANT_ROLES
                    .iter()
                    .map(|r| r.as_str().to_string())
                    .collect(),
                selected,
            }));
        }
        Cmd::Permission if which == Which::Team => {
            if !u.role.permissions_overridable() {
                state.toast(
                    ToastLevel::Info,
                    format!(
                        "an {}'s permissions are fixed: all of them",
                        u.role.as_str()
                    ),
                );
                return Vec::new();
            }
            state.overlay = Some(Overlay::PickUser(PickUser {
                title: format!("Toggle a permission of {}", u.email),
                pick: UserPick::Permission { realm, user: u.id },
                choices: PERMISSIONS
                    .iter()
                    .map(|p| {
                        let on = if held(&u, *p) { "on " } else { "off" };
                        format!("{on}  {}", p.as_str())
                    })
                    .collect(),
                selected: 0,
            }));
        }
        Cmd::Active if u.active => {
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: "Deactivate user".into(),
                message: format!(
                    "Deactivate {}? Their sessions and tokens end at once; x reactivates.",
                    u.email
                ),
                op: PendingOp::User {
                    realm,
                    user: u.id,
                    change: UserChange::Active(false),
                },
            }));
        }
        Cmd::Active => {
            let call = Call::PatchUser {
                realm,
                user: u.id,
                change: UserChange::Active(true),
            };
            return send(state, realm, call);
        }
        Cmd::Delete => {
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: "Delete user".into(),
                message: format!(
                    "Delete {}? Their sessions and tokens end; this cannot be undone.",
                    u.email
                ),
                op: PendingOp::DeleteUser { realm, user: u.id },
            }));
        }
        _ => {}
    }
    Vec::new()
}

/// `:team <client>`: switches to the client and opens its Team screen.
pub(crate) fn open_team_of(state: &mut State, query: &str) -> Vec<Effect> {
    let all = state.tenants.remote.data.clone().unwrap_or_default();
    match crate::app::overlay::resolve_tenant(&all, query) {
        Ok(t) => {
            let t = TenantRef::new(t.id, t.slug.clone(), t.name.clone());
            let mut out = switch_tenant(state, &t);
            out.extend(go(state, Screen::Team, true));
            out
        }
        Err(e) => {
            state.toast(ToastLevel::Error, e);
            Vec::new()
        }
    }
}

fn open_invite(state: &mut State, realm: UserRealm) {
    let (title, mut fields) = match realm {
        UserRealm::Tenant(_) => {
            let name = state
                .tenant
                .as_ref()
                .map(|t| t.name.clone())
                .unwrap_or_default();
            (format!("Invite a user to {name}"), Vec::new())
        }
        UserRealm::Platform => ("Invite a platform owner".to_string(), Vec::new()),
    };
    fields.push(Field::new("E-mail", ""));
    fields.push(Field::new("Name", ""));
    if matches!(realm, UserRealm::Tenant(_)) {
        fields.push(Field::new(
            "Role: admin, manager or agent (empty: agent)",
            "",
        ));
    }
    state.overlay = Some(Overlay::Form(Form {
        title,
        fields,
        focus: 0,
        purpose: Purpose::InviteUser { realm },
        error: None,
    }));
}

fn parse_role(text: &str) -> Result<Option<Role>, String> {
    match text.trim().to_lowercase().as_str() {
        "" => Ok(None),
        other => TENANT_ROLES
            .iter()
            .find(|r| r.as_str() == other)
            .map(|r| Some(*r))
            .ok_or_else(|| format!("role must be admin, manager or agent, not \"{other}\"")),
    }
}

/// Checks the invitation form with core's rules; `Err` keeps the form open.
pub(crate) fn submit(
    state: &mut State,
    purpose: Purpose,
    values: &[String],
) -> Result<Vec<Effect>, String> {
    let Purpose::InviteUser { realm } = purpose else {
        return Ok(Vec::new());
    };
    let get = |i: usize| {
        values
            .get(i)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let (role, core_realm) = match realm {
        UserRealm::Tenant(_) => (parse_role(&get(2))?, Realm::Tenant),
        UserRealm::Platform => (None, Realm::Platform),
    };
    let new = NewUser {
        email: get(0),
        name: get(1),
        role,
        permissions: None,
    };
    let fields = core::validate_new(&new, core_realm).map_err(|e| e.to_string())?;
    let invite = Invite {
        email: fields.email,
        name: fields.name,
        role,
    };
    Ok(send(state, realm, Call::CreateUser { realm, invite }))
}

/// Enter in the role or permission chooser.
pub(crate) fn picked(state: &mut State, p: &PickUser) -> Vec<Effect> {
    let (realm, user, change) = match &p.pick {
        UserPick::Role { realm, user } => {
            let Some(role) = TENANT_ROLES.get(p.selected) else {
                return Vec::new();
            };
            (*realm, *user, UserChange::Role(*role))
        }
        UserPick::Permission { realm, user } => {
            let Some(perm) = PERMISSIONS.get(p.selected) else {
                return Vec::new();
            };
            let which = Which::of(*realm);
            let Some(u) = which
                .users(state)
                .remote
                .data
                .iter()
                .flatten()
                .find(|u| u.id == *user)
            else {
                return Vec::new();
            };
            (
                *realm,
                *user,
                UserChange::Permission(*perm, !held(u, *perm)),
            )
        }
        // The lead's assignee is the Leads screen's to save.
        UserPick::Assignee(_) => return Vec::new(),
    };
    let call = Call::PatchUser {
        realm,
        user,
        change,
    };
    send(state, realm, call)
}

/// A confirmed deactivation or deletion.
pub(crate) fn perform(state: &mut State, op: PendingOp) -> Vec<Effect> {
    match op {
        PendingOp::User {
            realm,
            user,
            change,
        } => send(
            state,
            realm,
            Call::PatchUser {
                realm,
                user,
                change,
            },
        ),
        PendingOp::DeleteUser { realm, user } => {
            send(state, realm, Call::DeleteUser { realm, user })
        }
        _ => Vec::new(),
    }
}
