//! The assignee chooser (`a` on the Leads screen and in the SLA screen's open lead): the
//! lead's tenant's active users after "nobody", the current assignee preselected. The
//! users are fetched when it opens; a principal who may not list them (a manager) chooses
//! between "nobody" and themself, and nothing is fetched.

use echo5_core::authorization::{Action, Subject};
use echo5_core::users::User;
use uuid::Uuid;

use crate::app::access::{Place, may};
use crate::app::effect::{Call, Effect, LeadChange, Scope};
use crate::app::overlay::{AssigneePick, Overlay, PickUser, UserPick};
use crate::app::request::{issue, mutate};
use crate::app::state::ToastLevel;
use crate::app::{Resource, State};
use crate::widgets::printable;

/// The lead whose assignee is chosen.
pub(crate) struct Target {
    pub lead: Uuid,
    pub tenant: Uuid,
    /// How the lead is named in the title.
    pub name: String,
    pub current: Option<Uuid>,
    /// "Name <email>" of the current assignee, when the lead's detail says.
    pub current_name: Option<String>,
}

/// Opens the chooser: "loading…" while the users are fetched, or at once "nobody" and
/// "me" for a principal who may not list them.
pub(crate) fn open(state: &mut State, t: Target) -> Vec<Effect> {
    let title = format!("Assignee · {}", printable(&t.name));
    let mut pick = AssigneePick {
        lead: t.lead,
        tenant: t.tenant,
        ids: Vec::new(),
        current: t.current,
        current_name: t.current_name,
        waiting: None,
        error: None,
    };
    let mut out = Vec::new();
    let (choices, selected) = if may(state, Subject::Users, Action::Read, Place::Tenant) {
        let call = Call::ListAssignees { tenant: t.tenant };
        let effect = issue(state, Resource::Assignees, call, Scope::Global);
        if let Effect::Api(req) = &effect {
            pick.waiting = Some(req.id);
        }
        out.push(effect);
        (Vec::new(), 0)
    } else {
        let me = state.session.user.as_ref().map(|u| u.id);
        let mut lines = vec![(None, "nobody".to_string())];
        if let Some(me) = me {
            lines.push((Some(me), "me".to_string()));
        }
        fill(&mut pick, lines)
    };
    state.overlay = Some(Overlay::PickUser(PickUser {
        title,
        pick: UserPick::Assignee(pick),
        choices,
        selected,
    }));
    out
}

/// Sets the lines (a line for the current assignee added when the list lacks them) and
/// returns them with the line to preselect.
fn fill(pick: &mut AssigneePick, mut lines: Vec<(Option<Uuid>, String)>) -> (Vec<String>, usize) {
    if let Some(cur) = pick.current
        && !lines.iter().any(|(id, _)| *id == Some(cur))
    {
        let name = pick
            .current_name
            .as_deref()
            .map_or_else(|| cur.to_string(), printable);
        lines.push((Some(cur), format!("{name} (current)")));
    }
    let selected = lines
        .iter()
        .position(|(id, _)| *id == pick.current)
        .unwrap_or(0);
    pick.ids = lines.iter().map(|(id, _)| *id).collect();
    (lines.into_iter().map(|(_, l)| l).collect(), selected)
}

/// "Name <email> · role" of each active user, after "nobody".
fn lines_of(users: &[User]) -> Vec<(Option<Uuid>, String)> {
    let mut lines = vec![(None, "nobody".to_string())];
    lines.extend(users.iter().filter(|u| u.active).map(|u| {
        (
            Some(u.id),
            printable(&format!("{} <{}> · {}", u.name, u.email, u.role.as_str())),
        )
    }));
    lines
}

/// The users fetch `id` answered: the chooser waiting for exactly this answer shows them.
pub(crate) fn arrived(state: &mut State, id: u64, users: Vec<User>) {
    let now = state.now;
    if let Some(Overlay::PickUser(p)) = state.overlay.as_mut()
        && let UserPick::Assignee(a) = &mut p.pick
        && a.waiting == Some(id)
    {
        a.waiting = None;
        let (choices, selected) = fill(a, lines_of(&users));
        p.choices = choices;
        p.selected = selected;
    }
    state.leads.assignees.store(users, now);
}

/// The users fetch failed: the chooser says why instead of "loading…".
pub(crate) fn failed(state: &mut State, tenant: Uuid, why: String) {
    if let Some(Overlay::PickUser(p)) = state.overlay.as_mut()
        && let UserPick::Assignee(a) = &mut p.pick
        && a.tenant == tenant
        && a.waiting.is_some()
    {
        a.waiting = None;
        a.error = Some(why);
    }
}

/// Enter on a line of the list: saves it (`PATCH /api/v1/leads/{id}` with `assigned_to`),
/// unless it is the current assignee.
pub(crate) fn picked(state: &mut State, a: &AssigneePick, selected: usize) -> Vec<Effect> {
    let Some(chosen) = a.ids.get(selected).copied() else {
        return Vec::new();
    };
    if chosen == a.current {
        state.toast(ToastLevel::Info, "assignee unchanged");
        return Vec::new();
    }
    vec![mutate(
        state,
        Call::PatchLead {
            lead: a.lead,
            change: LeadChange::Assignee(chosen),
        },
        Resource::Leads,
    )]
}
