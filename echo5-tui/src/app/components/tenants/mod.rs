//! Tenants: the tenant list (`GET /api/v1/tenants`), the picker over it, switching
//! tenant (also reached from `:tenant <name>`), and the clients' own lifecycle: create
//! (from the platform defaults), rename, deactivate/reactivate, delete.

pub mod overview;
mod view;

use echo5_core::tenants::{Tenant, TenantRef};
use echo5_core::validate;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Component, REGISTRY};
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope, TenantChange};
use crate::app::input::LineInput;
use crate::app::live::LiveEvent;
use crate::app::navigation::go;
use crate::app::overlay::{Confirm, Field, Form, Overlay, PendingOp, Purpose, TypeToConfirm};
use crate::app::request::{admit, fetch, mutate_global};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, Screen, State};
use crate::keymap::{Binding, Cmd, b, ch, k};
use crossterm::event::KeyCode;

/// The tenant list, and the picker's cursor and filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tenants {
    pub remote: Remote<Vec<Tenant>>,
    pub picker: ListView,
    /// A `:tenant` name not in the list as last read: looked for again in the next one
    /// (a client created elsewhere a moment ago).
    pub pending_switch: Option<String>,
}

impl Tenants {
    /// Tenants shown by the dashboard and the picker, with a list view's filter applied.
    pub fn filtered(&self, view: &ListView) -> Vec<&Tenant> {
        let all = self.remote.data.as_deref().unwrap_or_default();
        let f = view.filter.to_lowercase();
        all.iter()
            .filter(|t| {
                f.is_empty()
                    || t.name.to_lowercase().contains(&f)
                    || t.slug.to_lowercase().contains(&f)
            })
            .collect()
    }
}

pub struct TenantsScreen;

const BINDINGS: &[Binding] = &[
    b(&[k(KeyCode::Enter)], Cmd::Open, "switch to tenant", true),
    b(&[ch('a')], Cmd::Add, "new client", true),
    b(&[ch('r')], Cmd::Rename, "rename", true),
    b(&[ch('x')], Cmd::Active, "deactivate / reactivate", true),
    b(&[ch('d')], Cmd::Delete, "delete client", true),
];

impl Component for TenantsScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        on_cmd(state, cmd)
    }

    fn wanted(&self, _state: &State, _force: bool) -> Vec<Resource> {
        vec![Resource::Tenants]
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.tenants.picker)
    }

    fn list_len(&self, state: &State) -> usize {
        state.tenants.filtered(&state.tenants.picker).len()
    }

    fn live(&self, _state: &State, event: LiveEvent) -> Vec<Resource> {
        (event.topic.any || event.topic.tenant_updated)
            .then_some(Resource::Tenants)
            .into_iter()
            .collect()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Tenants]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        // A tenant user's list is their own tenant: the picker shows only it.
        match crate::app::access::own_tenant(state) {
            Some(tenant) => Some((Call::GetTenant { tenant }, Scope::Global)),
            None => Some((Call::ListTenants, Scope::Global)),
        }
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.tenants.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::ListTenants | Call::GetTenant { .. }).then_some(Resource::Tenants)
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        matches!(
            call,
            Call::CreateTenant { .. } | Call::PatchTenant { .. } | Call::DeleteTenant { .. }
        )
        .then_some(Resource::Tenants)
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        let list = match reply {
            Reply::Tenants(list) => list,
            Reply::TenantCreated(t) => return Ok(created(state, &t)),
            Reply::TenantSaved(t) => return Ok(saved(state, &t)),
            Reply::TenantDeleted => return Ok(deleted(state, call)),
            other => return Err(Box::new(other)),
        };
        if admit(state, Resource::Tenants, id) {
            // Keep the header's name current if the tenant was renamed elsewhere.
            if let Some(sel) = &state.tenant
                && let Some(t) = list.iter().find(|t| t.id == sel.id)
            {
                state.tenant = Some(TenantRef {
                    id: t.id,
                    slug: t.slug.clone(),
                    name: t.name.clone(),
                });
            }
            let now = state.now;
            state.tenants.remote.store(list, now);
            let n = state.tenants.filtered(&state.dashboard.view).len();
            state.dashboard.view.clamp(n);
            let n = state.tenants.filtered(&state.tenants.picker).len();
            state.tenants.picker.clamp(n);
            if let Some(q) = state.tenants.pending_switch.take() {
                return Ok(switch_by_name(state, &q, false));
            }
        }
        Ok(Vec::new())
    }
}

/// `:tenant <name>`: switches to the tenant `query` means. A name the list as last read
/// does not know is looked for once more in a fresh list (`retry`), so a client created
/// elsewhere a moment ago is found at once.
pub(crate) fn switch_by_name(state: &mut State, query: &str, retry: bool) -> Vec<Effect> {
    let all = state.tenants.remote.data.clone().unwrap_or_default();
    match crate::app::overlay::resolve_tenant(&all, query) {
        Ok(t) => {
            let t = t.clone();
            let mut out = switch_tenant(state, &tenant_ref(&t));
            out.extend(leave_picker(state));
            out.extend(crate::app::request::refresh_screen(state, false));
            out
        }
        // Only a name nothing matches is looked for again; an ambiguous one is said at once.
        Err(_) if retry && !query.trim().is_empty() && !mentioned(&all, query) => {
            state.tenants.pending_switch = Some(query.to_string());
            fetch(state, Resource::Tenants, true).into_iter().collect()
        }
        Err(e) => {
            state.toast(ToastLevel::Error, e);
            Vec::new()
        }
    }
}

/// Whether any tenant's slug or name contains `query` (case-insensitive).
fn mentioned(all: &[Tenant], query: &str) -> bool {
    let q = query.trim().to_lowercase();
    all.iter()
        .any(|t| t.slug.to_lowercase().contains(&q) || t.name.to_lowercase().contains(&q))
}

/// The client the picker's cursor is on.
fn selected(state: &State) -> Option<Tenant> {
    state
        .tenants
        .filtered(&state.tenants.picker)
        .get(state.tenants.picker.selected)
        .map(|t| (*t).clone())
}

/// `a` (here and on the dashboard): the new-client dialog.
pub(crate) fn open_create(state: &mut State) {
    state.overlay = Some(Overlay::Form(Form {
        title: "New client (from the platform defaults)".into(),
        fields: vec![
            Field::new("Name", ""),
            Field::new("Slug (blank: from the name)", ""),
        ],
        focus: 0,
        purpose: Purpose::CreateTenant,
        error: None,
    }));
}

/// Checks a submitted client form; `Err` keeps the form open with the reason.
pub(crate) fn submit(
    state: &mut State,
    purpose: Purpose,
    values: &[String],
) -> Result<Vec<Effect>, String> {
    let raw = values.first().map(String::as_str).unwrap_or_default();
    let name = validate::text("name", raw, validate::NAME_MAX_CHARS).map_err(|e| e.to_string())?;
    match purpose {
        Purpose::CreateTenant => {
            let slug_text = values.get(1).map(|s| s.trim()).unwrap_or_default();
            let slug = if slug_text.is_empty() {
                let derived = validate::slugify(&name);
                validate::slug("slug", &derived)
                    .map_err(|_| "no slug can be made from this name: type one".to_string())?;
                None
            } else {
                Some(validate::slug("slug", slug_text).map_err(|e| e.to_string())?)
            };
            let wanted = slug.clone().unwrap_or_else(|| validate::slugify(&name));
            if state
                .tenants
                .remote
                .data
                .iter()
                .flatten()
                .any(|t| t.slug == wanted)
            {
                return Err(format!("another client already uses the slug \"{wanted}\""));
            }
            Ok(vec![mutate_global(
                state,
                Call::CreateTenant { name, slug },
                Resource::Tenants,
            )])
        }
        Purpose::RenameTenant { tenant } => {
            let same = state
                .tenants
                .remote
                .data
                .iter()
                .flatten()
                .any(|t| t.id == tenant && t.name == name);
            if same {
                return Ok(Vec::new());
            }
            Ok(vec![mutate_global(
                state,
                Call::PatchTenant {
                    tenant,
                    change: TenantChange::Name(name),
                },
                Resource::Tenants,
            )])
        }
        _ => Ok(Vec::new()),
    }
}

/// A confirmed lifecycle change.
pub(crate) fn perform(state: &mut State, op: PendingOp) -> Vec<Effect> {
    let call = match op {
        PendingOp::DeactivateTenant { tenant } => Call::PatchTenant {
            tenant,
            change: TenantChange::Active(false),
        },
        PendingOp::DeleteTenant { tenant, purge } => Call::DeleteTenant { tenant, purge },
        _ => return Vec::new(),
    };
    vec![mutate_global(state, call, Resource::Tenants)]
}

/// The modal a delete asks through. Deleting a client erases its leads with it (the API's
/// `?purge=true`), so the operator types the client's slug, as the purge is for good.
pub(crate) fn delete_dialog(t: &Tenant) -> Overlay {
    let message = format!(
        "Deletes the client \"{}\" ({}) for good: every lead it holds with their notes \
         and stage history, its pipeline, its settings and secrets, and its API keys (its \
         sites' forms are refused at once). Its usage and audit rows stay. To keep the \
         leads, deactivate it instead (x).",
        t.name, t.slug
    );
    Overlay::TypeToConfirm(TypeToConfirm {
        title: format!("Delete client \"{}\"", t.name),
        message,
        expect: t.slug.clone(),
        input: LineInput::default(),
        op: PendingOp::DeleteTenant {
            tenant: t.id,
            purge: true,
        },
        error: None,
    })
}

fn created(state: &mut State, t: &Tenant) -> Vec<Effect> {
    state.toast(ToastLevel::Info, format!("created client \"{}\"", t.name));
    if let Some(list) = state.tenants.remote.data.as_mut()
        && !list.iter().any(|o| o.id == t.id)
    {
        list.push(t.clone());
    }
    // The operator made it to work on it: switch to it and open its overview.
    let mut out = switch_tenant(state, &tenant_ref(t));
    state.after_pick = None;
    out.extend(go(state, Screen::Overview, true));
    out.extend(fetch(state, Resource::Tenants, true));
    out.extend(fetch(state, Resource::Dashboard, true));
    out
}

fn saved(state: &mut State, t: &Tenant) -> Vec<Effect> {
    let text = match state
        .tenants
        .remote
        .data
        .iter()
        .flatten()
        .find(|o| o.id == t.id)
    {
        Some(old) if old.active != t.active && t.active => {
            format!("\"{}\" is active again: its sites' leads are taken", t.name)
        }
        Some(old) if old.active != t.active => {
            format!("\"{}\" deactivated: its sites' leads are refused", t.name)
        }
        Some(old) if old.plan_id != t.plan_id => match t.plan_id {
            Some(id) => format!(
                "\"{}\" is on the plan \"{}\"",
                t.name,
                state
                    .plans
                    .find(id)
                    .map_or("(not listed)", |p| p.name.as_str())
            ),
            None => format!("\"{}\" has no plan: no limits", t.name),
        },
        Some(old) if old.stripe_customer_id != t.stripe_customer_id => {
            match &t.stripe_customer_id {
                Some(c) => format!("\"{}\": usage is reported for {c}", t.name),
                None => format!("\"{}\": usage is no longer reported to Stripe", t.name),
            }
        }
        _ => format!("renamed to \"{}\"", t.name),
    };
    state.toast(ToastLevel::Info, text);
    if let Some(list) = state.tenants.remote.data.as_mut()
        && let Some(slot) = list.iter_mut().find(|o| o.id == t.id)
    {
        *slot = t.clone();
    }
    if state.tenant.as_ref().is_some_and(|s| s.id == t.id) {
        state.tenant = Some(tenant_ref(t));
    }
    let mut out: Vec<Effect> = fetch(state, Resource::Tenants, true).into_iter().collect();
    out.extend(fetch(state, Resource::Dashboard, true));
    out
}

fn deleted(state: &mut State, call: &Call) -> Vec<Effect> {
    let Call::DeleteTenant { tenant, .. } = call else {
        return Vec::new();
    };
    let name = state
        .tenants
        .remote
        .data
        .iter()
        .flatten()
        .find(|t| t.id == *tenant)
        .map_or_else(|| "client".to_string(), |t| format!("\"{}\"", t.name));
    state.toast(ToastLevel::Info, format!("deleted {name}"));
    if let Some(list) = state.tenants.remote.data.as_mut() {
        list.retain(|t| t.id != *tenant);
        let n = state.tenants.filtered(&state.tenants.picker).len();
        state.tenants.picker.clamp(n);
    }
    if state.tenant.as_ref().is_some_and(|t| t.id == *tenant) {
        // Nothing of it is left to show: drop the selection, as a switch would.
        state.tenant = None;
        state.tenant_gen += 1;
        for d in REGISTRY {
            d.component.tenant_changed(state);
        }
        // Esc must not lead back to a screen of the client that is gone.
        state.back.retain(|s| !s.needs_tenant());
        state.after_pick = None;
        if state.screen.needs_tenant() {
            state.screen = Screen::Tenants;
        }
    }
    let mut out: Vec<Effect> = fetch(state, Resource::Tenants, true).into_iter().collect();
    out.extend(fetch(state, Resource::Dashboard, true));
    out
}

/// The reference a tenant is selected by.
pub(crate) fn tenant_ref(t: &Tenant) -> TenantRef {
    TenantRef {
        id: t.id,
        slug: t.slug.clone(),
        name: t.name.clone(),
    }
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Add => {
            open_create(state);
            Vec::new()
        }
        Cmd::Rename => {
            if let Some(t) = selected(state) {
                state.overlay = Some(Overlay::Form(Form {
                    title: format!("Rename \"{}\"", t.name),
                    fields: vec![Field::new("Name", t.name.clone())],
                    focus: 0,
                    purpose: Purpose::RenameTenant { tenant: t.id },
                    error: None,
                }));
            }
            Vec::new()
        }
        Cmd::Active => {
            let Some(t) = selected(state) else {
                return Vec::new();
            };
            if t.active {
                state.overlay = Some(Overlay::Confirm(Confirm {
                    title: "Deactivate client".into(),
                    message: format!(
                        "Deactivate \"{}\"? Its sites' leads are refused (403) until it is \
                         reactivated; its leads and keys are kept.",
                        t.name
                    ),
                    op: PendingOp::DeactivateTenant { tenant: t.id },
                }));
                Vec::new()
            } else {
                // Reactivating loses nothing: no question asked.
                vec![mutate_global(
                    state,
                    Call::PatchTenant {
                        tenant: t.id,
                        change: TenantChange::Active(true),
                    },
                    Resource::Tenants,
                )]
            }
        }
        Cmd::Delete => {
            if let Some(t) = selected(state) {
                state.overlay = Some(delete_dialog(&t));
            }
            Vec::new()
        }
        Cmd::Open => {
            let Some(t) = state
                .tenants
                .filtered(&state.tenants.picker)
                .get(state.tenants.picker.selected)
                .map(|t| (*t).clone())
            else {
                return Vec::new();
            };
            let mut out = switch_tenant(state, &tenant_ref(&t));
            out.extend(leave_picker(state));
            out
        }
        _ => Vec::new(),
    }
}

/// After a pick: the screen that asked for a tenant, else where the operator came from.
pub(crate) fn leave_picker(state: &mut State) -> Vec<Effect> {
    if state.screen != Screen::Tenants {
        return Vec::new();
    }
    let target = state
        .after_pick
        .take()
        .or_else(|| state.back.pop())
        .unwrap_or(Screen::Pipeline);
    go(state, target, false)
}

/// Makes `t` the selected tenant. Everything shown about the previous one is dropped and
/// the generation bumped, so its answers still in flight are ignored when they land.
pub(crate) fn switch_tenant(state: &mut State, t: &TenantRef) -> Vec<Effect> {
    let same = state.tenant.as_ref().is_some_and(|cur| cur.id == t.id);
    state.tenant = Some(t.clone());
    if !same {
        state.tenant_gen += 1;
        for d in REGISTRY {
            d.component.tenant_changed(state);
        }
        state.toast(ToastLevel::Info, format!("tenant: {}", t.name));
    }
    Vec::new()
}
