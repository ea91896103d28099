//! What the principal may see and do, decided by core's `authorization::authorize` (the
//! rule the daemon applies): which screens show as tabs and in the palette, which key
//! hints show, which keys act, and which fetches are sent. With the admin token everything
//! is allowed, as before; logged in (`--login`), only what the user's role and permissions
//! allow, and nothing until `/me` is known.
//!
//! The tables here say what each screen, key and fetch needs; the answer is the rule's.

use echo5_core::authorization::{
    self as authz, Account, Action, Principal, Resource as Target, Scope as Where, Subject,
};
use uuid::Uuid;

use super::{Resource, Screen, State};
use crate::keymap::Cmd;

/// What a key the principal may not use says, and all it does.
pub const NOT_ALLOWED: &str = "not allowed";

/// Where a screen's, key's or fetch's resource lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The selected tenant (a tenant user's own).
    Tenant,
    /// Across tenants, or the platform's own.
    Platform,
}

/// Whom the console acts as: the admin token, the logged-in user once `/me` is known, or
/// nobody (logged out, or the session ended).
pub fn principal(state: &State) -> Option<Principal> {
    let s = &state.session;
    match (&s.email, &s.user) {
        (None, _) => Some(Principal::AdminToken {
            token_id: Uuid::nil(),
        }),
        (Some(_), Some(user)) if s.ready => Some(Principal::Session {
            account: Account::from(user),
        }),
        _ => None,
    }
}

/// A tenant user's tenant: the only one they may pick.
pub fn own_tenant(state: &State) -> Option<Uuid> {
    state.session.user.as_ref().and_then(|u| u.tenant)
}

fn scope(state: &State, place: Place) -> Where {
    match place {
        Place::Platform => Where::Platform,
        Place::Tenant => match state.tenant.as_ref().map(|t| t.id).or(own_tenant(state)) {
            Some(t) => Where::Tenant(t),
            None => Where::Platform,
        },
    }
}

/// May the principal do `action` on `subject` at `place`?
pub fn may(state: &State, subject: Subject, action: Action, place: Place) -> bool {
    principal(state).is_some_and(|p| {
        let target = Target {
            subject,
            scope: scope(state, place),
        };
        authz::authorize(&p, action, target).is_allowed()
    })
}

/// What a screen shows: reading it needs this.
pub fn screen_need(screen: Screen) -> (Subject, Place) {
    use Place::{Platform as P, Tenant as T};
    match screen {
        // Every tenant's figures.
        Screen::Dashboard => (Subject::Tenant, P),
        Screen::Tenants | Screen::Overview => (Subject::Tenant, T),
        Screen::Pipeline => (Subject::Stages, T),
        Screen::Settings | Screen::Integrations => (Subject::Settings, T),
        Screen::Keys => (Subject::Keys, T),
        Screen::Leads | Screen::Breaches => (Subject::Leads, T),
        Screen::Analytics => (Subject::Analytics, T),
        Screen::Platform => (Subject::PlatformSettings, P),
        Screen::AllLeads => (Subject::Leads, P),
        Screen::Usage => (Subject::Usage, P),
        Screen::Audit => (Subject::Audit, P),
        Screen::Logs => (Subject::SystemLogs, P),
        Screen::GlobalAnalytics => (Subject::Analytics, P),
        Screen::Team => (Subject::Users, T),
        Screen::Users => (Subject::PlatformUsers, P),
        Screen::Webhooks | Screen::Deliveries => (Subject::Webhooks, T),
        Screen::Notifications => (Subject::Notifications, T),
        Screen::Plans => (Subject::Plans, P),
    }
}

pub fn can_open(state: &State, screen: Screen) -> bool {
    let (subject, place) = screen_need(screen);
    may(state, subject, Action::Read, place)
}

/// What a screen's key needs beyond seeing the screen; `None`: nothing more.
pub fn cmd_need(screen: Screen, cmd: Cmd) -> Option<(Subject, Action, Place)> {
    use Action::{Delete, Read, Write};
    use Place::{Platform as P, Tenant as T};
    let need = match (screen, cmd) {
        (Screen::Dashboard | Screen::Tenants, Cmd::Add) => (Subject::Tenant, Write, P),
        (Screen::Dashboard, Cmd::AllAnalytics) => (Subject::Analytics, Read, P),
        (Screen::Tenants, Cmd::Rename | Cmd::Active) => (Subject::Tenant, Write, T),
        (Screen::Tenants, Cmd::Delete) => (Subject::Tenant, Delete, T),
        (Screen::Pipeline, Cmd::Delete) => (Subject::Stages, Delete, T),
        (Screen::Pipeline, Cmd::Add | Cmd::Rename | Cmd::MoveUp | Cmd::MoveDown | Cmd::Kind) => {
            (Subject::Stages, Write, T)
        }
        (Screen::Settings, Cmd::Edit | Cmd::Clear) | (Screen::Integrations, Cmd::Sync) => {
            (Subject::Settings, Write, T)
        }
        (Screen::Keys, Cmd::Add | Cmd::Rotate | Cmd::Reveal | Cmd::Delete) => {
            (Subject::Keys, Write, T)
        }
        (Screen::Leads, Cmd::MoveStage | Cmd::Notes | Cmd::Assign | Cmd::NotSpam | Cmd::Add)
        | (Screen::Breaches, Cmd::MoveStage | Cmd::Notes | Cmd::Assign)
        | (Screen::Overview, Cmd::Add) => (Subject::Leads, Write, T),
        (Screen::Leads, Cmd::Delete) => (Subject::Leads, Delete, T),
        (Screen::Breaches, Cmd::Scope) => (Subject::Leads, Read, P),
        (Screen::Overview, Cmd::OpenLeads) => (Subject::Leads, Read, T),
        (Screen::Overview, Cmd::OpenAnalytics) => (Subject::Analytics, Read, T),
        (Screen::Overview, Cmd::OpenSettings) => (Subject::Settings, Read, T),
        (Screen::Overview, Cmd::OpenPipeline) => (Subject::Stages, Read, T),
        (Screen::Overview, Cmd::OpenKeys) => (Subject::Keys, Read, T),
        (
            Screen::Platform,
            Cmd::Edit
            | Cmd::Clear
            | Cmd::Add
            | Cmd::Rename
            | Cmd::Delete
            | Cmd::Kind
            | Cmd::MoveUp
            | Cmd::MoveDown,
        ) => (Subject::PlatformSettings, Write, P),
        (Screen::Team, Cmd::Delete) => (Subject::Users, Delete, T),
        (Screen::Team, Cmd::Add | Cmd::Role | Cmd::Permission | Cmd::Active) => {
            (Subject::Users, Write, T)
        }
        (Screen::Users, Cmd::Delete) => (Subject::PlatformUsers, Delete, P),
        (Screen::Users, Cmd::Add | Cmd::Active) => (Subject::PlatformUsers, Write, P),
        (Screen::Webhooks, Cmd::Delete) => (Subject::Webhooks, Delete, T),
        (Screen::Plans, Cmd::Delete) => (Subject::Plans, Delete, P),
        (Screen::Plans, Cmd::Add | Cmd::Edit | Cmd::Assign | Cmd::Clear | Cmd::Billing) => {
            (Subject::Plans, Write, P)
        }
        (Screen::Notifications, Cmd::Test) => (Subject::Notifications, Write, T),
        (Screen::Webhooks, Cmd::Add | Cmd::Edit | Cmd::Active | Cmd::Rotate | Cmd::Test)
        | (Screen::Deliveries, Cmd::Retry | Cmd::Recover | Cmd::Test) => {
            (Subject::Webhooks, Write, T)
        }
        _ => return None,
    };
    Some(need)
}

/// Whether a key's command may act on `screen`: a numbered tab the principal may open,
/// or a screen key whose need is met. Moving, filtering, help and quitting always may.
pub fn allows(state: &State, screen: Screen, cmd: Cmd) -> bool {
    match cmd {
        Cmd::Go(n) => Screen::by_number(n).is_none_or(|s| can_open(state, s)),
        Cmd::Up | Cmd::Down | Cmd::Top | Cmd::Bottom | Cmd::Quit | Cmd::Help => true,
        _ => cmd_need(screen, cmd).is_none_or(|(s, a, p)| may(state, s, a, p)),
    }
}

/// The next screen Tab (or Shift-Tab) reaches that the principal may open.
pub fn step(state: &State, from: Screen, forward: bool) -> Screen {
    let mut s = from;
    for _ in Screen::all() {
        s = if forward { s.next() } else { s.prev() };
        if can_open(state, s) {
            return s;
        }
    }
    from
}

/// What a fetch reads, for the fetches a screen makes whatever the principal.
pub fn resource_need(res: Resource) -> (Subject, Place) {
    use Place::{Platform as P, Tenant as T};
    match res {
        Resource::Tenants => (Subject::Tenant, T),
        Resource::Dashboard => (Subject::Tenant, P),
        Resource::Stages | Resource::BreachStages => (Subject::Stages, T),
        Resource::Settings | Resource::Integrations => (Subject::Settings, T),
        Resource::Keys => (Subject::Keys, T),
        Resource::Leads
        | Resource::LeadDetail
        | Resource::RecentLeads
        | Resource::Breaches
        | Resource::BreachLead => (Subject::Leads, T),
        Resource::Analytics => (Subject::Analytics, T),
        Resource::Platform => (Subject::PlatformSettings, P),
        Resource::AllLeads => (Subject::Leads, P),
        Resource::Usage => (Subject::Usage, P),
        Resource::Logs => (Subject::SystemLogs, P),
        Resource::GlobalAnalytics => (Subject::Analytics, P),
        Resource::Audit => (Subject::Audit, P),
        Resource::Team | Resource::Assignees => (Subject::Users, T),
        Resource::PlatformUsers => (Subject::PlatformUsers, P),
        Resource::Webhooks | Resource::Deliveries => (Subject::Webhooks, T),
        Resource::Notifications | Resource::NotificationPreview => (Subject::Notifications, T),
        Resource::Plans => (Subject::Plans, P),
    }
}

/// Whether a fetch of `res` is the principal's to make: one that would be refused is not
/// sent (a manager's overview has no platform dashboard to read).
pub fn may_fetch(state: &State, res: Resource) -> bool {
    let (subject, place) = resource_need(res);
    may(state, subject, Action::Read, place)
}

/// Palette commands the principal may run, in completion order.
pub fn commands(state: &State) -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<(&'static str, &'static str)> = super::overlay::commands()
        .into_iter()
        .filter(|(c, _)| command_allowed(state, c))
        .collect();
    if state.session.email.is_some() {
        all.push(("logout", "end the session and log in again"));
    }
    all
}

/// Whether a palette command (its first word) is the principal's: a screen's command only
/// when the screen may be opened.
pub fn command_allowed(state: &State, command: &str) -> bool {
    match Screen::all().find(|s| s.command() == command) {
        Some(s) => can_open(state, s),
        None => true,
    }
}

/// Completions of a palette line, without the commands the principal may not run.
pub fn completions(state: &State, input: &str) -> Vec<String> {
    let tenants = state.tenants.remote.data.as_deref().unwrap_or_default();
    let mut out: Vec<String> = super::overlay::completions(input, tenants)
        .into_iter()
        .filter(|line| command_allowed(state, line.split(' ').next().unwrap_or_default()))
        .collect();
    let typed = input.trim_start();
    if state.session.email.is_some() && !typed.contains(' ') && "logout".starts_with(typed) {
        out.push("logout".into());
    }
    out
}
