//! Plans: what a client pays and the limits that come with it, for the platform owner.
//! Every plan with the clients on it; create, edit and delete one (after a confirmation);
//! put a client on the selected plan or take one off its plan; set the Stripe customer a
//! client's usage is reported for. Forms are checked with core's rules for a plan, the
//! ones the daemon applies, before anything is sent.

mod view;

use echo5_core::plans::{
    self as core, LimitsPatch, NewPlan, Plan, PlanFields, PlanLimits, PlanPatch,
};
use echo5_core::tenants::{Tenant, TenantPatch};
use ratatui::Frame;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::Component;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope, TenantChange};
use crate::app::overlay::{Confirm, Field, Form, Overlay, PendingOp, Purpose, resolve_tenant};
use crate::app::request::{admit, fetch, mutate_global};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch};

/// Every plan as the daemon lists it, and the screen's cursor and filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plans {
    pub remote: Remote<Vec<Plan>>,
    pub view: ListView,
    /// A plan just created, to put the cursor on when the list has it.
    pub focus: Option<Uuid>,
}

impl Plans {
    /// Plans with the filter (name or currency) applied, in the daemon's order.
    pub fn filtered(&self) -> Vec<&Plan> {
        let f = self.view.filter.to_lowercase();
        self.remote
            .data
            .iter()
            .flatten()
            .filter(|p| {
                f.is_empty()
                    || p.name.to_lowercase().contains(&f)
                    || p.currency.to_lowercase().contains(&f)
            })
            .collect()
    }

    pub fn selected(&self) -> Option<&Plan> {
        self.filtered().get(self.view.selected).copied()
    }

    pub fn find(&self, id: Uuid) -> Option<&Plan> {
        self.remote.data.iter().flatten().find(|p| p.id == id)
    }

    fn focus_pending(&mut self) {
        let ids: Vec<Uuid> = self.filtered().iter().map(|p| p.id).collect();
        self.view.focus(&mut self.focus, &ids);
    }
}

/// The clients on `plan`, from the tenant list, in its order.
pub fn clients_on(state: &State, plan: Uuid) -> Vec<&Tenant> {
    state
        .tenants
        .remote
        .data
        .iter()
        .flatten()
        .filter(|t| t.plan_id == Some(plan))
        .collect()
}

pub struct PlansScreen;

const BINDINGS: &[Binding] = &[
    b(&[ch('c')], Cmd::Add, "new", true),
    b(&[ch('e')], Cmd::Edit, "edit", true),
    b(&[ch('a')], Cmd::Assign, "put a client on it", true),
    b(&[ch('u')], Cmd::Clear, "take a client off its plan", false),
    b(
        &[ch('$')],
        Cmd::Billing,
        "a client's Stripe customer",
        false,
    ),
    b(&[ch('x'), ch('d')], Cmd::Delete, "delete", true),
];

impl Component for PlansScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        on_cmd(state, cmd)
    }

    /// The tenant list too: it says which clients are on which plan.
    fn wanted(&self, _state: &State, _force: bool) -> Vec<Resource> {
        vec![Resource::Plans, Resource::Tenants]
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.plans.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.plans.filtered().len()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Plans]
    }

    fn call(&self, _state: &State, _res: Resource) -> Option<(Call, Scope)> {
        Some((Call::ListPlans, Scope::Global))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.plans.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::ListPlans).then_some(Resource::Plans)
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        matches!(
            call,
            Call::CreatePlan { .. } | Call::PatchPlan { .. } | Call::DeletePlan { .. }
        )
        .then_some(Resource::Plans)
    }

    /// A client moved on or off a plan changes the plans' client counts.
    fn observe(&self, state: &mut State, call: &Call, reply: &Reply) -> Vec<Effect> {
        match (call, reply) {
            (
                Call::PatchTenant {
                    change: TenantChange::Plan(_),
                    ..
                },
                Reply::TenantSaved(_),
            ) => fetch(state, Resource::Plans, true).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        Ok(match reply {
            Reply::Plans(list) => {
                if admit(state, Resource::Plans, id) {
                    let now = state.now;
                    let p = &mut state.plans;
                    p.remote.store(list, now);
                    p.focus_pending();
                    let n = p.filtered().len();
                    p.view.clamp(n);
                }
                Vec::new()
            }
            Reply::PlanSaved(plan) => {
                let verb = match call {
                    Call::CreatePlan { .. } => "created",
                    _ => "saved",
                };
                state.toast(
                    ToastLevel::Info,
                    format!(
                        "{verb} the plan \"{}\"",
                        crate::widgets::printable(&plan.name)
                    ),
                );
                state.plans.focus = Some(plan.id);
                if let Some(row) = state
                    .plans
                    .remote
                    .data
                    .iter_mut()
                    .flatten()
                    .find(|p| p.id == plan.id)
                {
                    *row = *plan;
                }
                fetch(state, Resource::Plans, true).into_iter().collect()
            }
            Reply::PlanDeleted => {
                if let Call::DeletePlan { plan } = call
                    && let Some(list) = state.plans.remote.data.as_mut()
                {
                    list.retain(|p| p.id != *plan);
                }
                let n = state.plans.filtered().len();
                state.plans.view.clamp(n);
                state.toast(ToastLevel::Info, "plan deleted");
                fetch(state, Resource::Plans, true).into_iter().collect()
            }
            other => return Err(Box::new(other)),
        })
    }
}

/// The plan form's fields, in order.
const LABELS: [&str; 8] = [
    "Name",
    "Price a month (49.00)",
    "Currency (ISO 4217)",
    "Leads a month (blank: no limit)",
    "Users (blank: no limit)",
    "API keys (blank: no limit)",
    "Webhooks (blank: no limit)",
    "Retention days (blank: keep)",
];

fn plan_form(title: String, values: [String; 8], purpose: Purpose) -> Overlay {
    Overlay::Form(Form {
        title,
        fields: LABELS
            .iter()
            .zip(values)
            .map(|(label, v)| Field::new(label, v))
            .collect(),
        focus: 0,
        purpose,
        error: None,
    })
}

/// What the form shows for a plan: the price as `49.00`, a missing limit blank.
pub fn form_values(name: &str, price_cents: u64, currency: &str, l: &PlanLimits) -> [String; 8] {
    let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    [
        name.to_string(),
        format!("{}.{:02}", price_cents / 100, price_cents % 100),
        currency.to_string(),
        opt(l.leads_per_month),
        opt(l.users),
        opt(l.api_keys),
        opt(l.webhooks),
        opt(l.retention_days.map(u64::from)),
    ]
}

/// A price typed as `49`, `49.5` or `1,049.00`, in cents. Blank is free.
pub fn parse_price(text: &str) -> Result<u64, String> {
    let t: String = text.trim().chars().filter(|c| *c != ',').collect();
    if t.is_empty() {
        return Ok(0);
    }
    let bad = || format!("the price is an amount like 49.00, not \"{}\"", text.trim());
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let cents: u64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .ok_or_else(bad)
}

/// A limit typed as a whole number; blank is no limit.
pub fn parse_limit(label: &str, text: &str) -> Result<Option<u64>, String> {
    let t: String = text.trim().chars().filter(|c| *c != ',').collect();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse()
        .map(Some)
        .map_err(|_| format!("{label}: a whole number, or blank for no limit"))
}

/// The form as a new plan, checked with core's rules (the daemon's).
pub fn parse_form(values: &[String]) -> Result<(NewPlan, PlanFields), String> {
    let v = |i: usize| values.get(i).map(String::as_str).unwrap_or_default();
    let retention = match parse_limit("retention days", v(7))? {
        Some(d) => Some(u32::try_from(d).map_err(|_| {
            format!(
                "retention days is at most {}",
                echo5_core::plans::RETENTION_DAYS_MAX
            )
        })?),
        None => None,
    };
    let new = NewPlan {
        name: v(0).trim().to_string(),
        price_cents: parse_price(v(1))?,
        currency: Some(v(2).trim().to_string()).filter(|c| !c.is_empty()),
        limits: PlanLimits {
            leads_per_month: parse_limit("leads a month", v(3))?,
            users: parse_limit("users", v(4))?,
            api_keys: parse_limit("API keys", v(5))?,
            webhooks: parse_limit("webhooks", v(6))?,
            retention_days: retention,
        },
    };
    let fields = core::validate_new(&new).map_err(|e| e.to_string())?;
    Ok((new, fields))
}

/// The PATCH that turns `cur` into `want`: only what differs.
pub fn patch_between(cur: &Plan, want: &PlanFields) -> PlanPatch {
    let (a, b) = (&cur.limits, &want.limits);
    let changed = |x: Option<u64>, y: Option<u64>| (x != y).then_some(y);
    let limits = LimitsPatch {
        leads_per_month: changed(a.leads_per_month, b.leads_per_month),
        users: changed(a.users, b.users),
        api_keys: changed(a.api_keys, b.api_keys),
        webhooks: changed(a.webhooks, b.webhooks),
        retention_days: (a.retention_days != b.retention_days).then_some(b.retention_days),
    };
    PlanPatch {
        name: (cur.name != want.name).then(|| want.name.clone()),
        price_cents: (cur.price_cents != want.price_cents).then_some(want.price_cents),
        currency: (cur.currency != want.currency).then(|| want.currency.clone()),
        limits: (limits != LimitsPatch::default()).then_some(limits),
    }
}

/// The client a form's first field names, like `:tenant`: slug or name, or a unique part.
fn client(state: &State, text: &str) -> Result<Tenant, String> {
    let all = state.tenants.remote.data.as_deref().unwrap_or_default();
    resolve_tenant(all, text).cloned()
}

/// The slug of the selected client, to start a client field with.
fn selected_slug(state: &State) -> String {
    state
        .tenant
        .as_ref()
        .map(|t| t.slug.clone())
        .unwrap_or_default()
}

fn client_form(title: String, fields: Vec<Field>, purpose: Purpose) -> Overlay {
    Overlay::Form(Form {
        title,
        fields,
        focus: 0,
        purpose,
        error: None,
    })
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    let selected = state.plans.selected().cloned();
    match (cmd, selected) {
        (Cmd::Add, _) => {
            let mut values = form_values("", 0, "EUR", &PlanLimits::default());
            values[1].clear();
            state.overlay = Some(plan_form("New plan".into(), values, Purpose::CreatePlan));
        }
        (Cmd::Edit, Some(p)) => {
            let values = form_values(&p.name, p.price_cents, &p.currency, &p.limits);
            state.overlay = Some(plan_form(
                format!("Edit plan {}", crate::widgets::printable(&p.name)),
                values,
                Purpose::EditPlan { plan: p.id },
            ));
        }
        (Cmd::Delete, Some(p)) if p.tenants > 0 => {
            state.toast(
                ToastLevel::Error,
                format!(
                    "{} client(s) on \"{}\": take them off it first (u)",
                    p.tenants,
                    crate::widgets::printable(&p.name)
                ),
            );
        }
        (Cmd::Delete, Some(p)) => {
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: "Delete plan".into(),
                message: format!(
                    "Delete the plan \"{}\"? No client is on it; this cannot be undone.",
                    crate::widgets::printable(&p.name)
                ),
                op: PendingOp::DeletePlan { plan: p.id },
            }));
        }
        (Cmd::Assign, Some(p)) => {
            state.overlay = Some(client_form(
                format!("Put a client on {}", crate::widgets::printable(&p.name)),
                vec![Field::new("Client (name or slug)", selected_slug(state))],
                Purpose::AssignPlan { plan: p.id },
            ));
        }
        (Cmd::Clear, _) => {
            state.overlay = Some(client_form(
                "Take a client off its plan (no limits)".into(),
                vec![Field::new("Client (name or slug)", selected_slug(state))],
                Purpose::UnassignPlan,
            ));
        }
        (Cmd::Billing, _) => {
            let slug = selected_slug(state);
            let current = client(state, &slug)
                .ok()
                .and_then(|t| t.stripe_customer_id)
                .unwrap_or_default();
            state.overlay = Some(client_form(
                "Stripe customer of a client (usage is reported for it)".into(),
                vec![
                    Field::new("Client (name or slug)", slug),
                    Field::new("Stripe customer (cus_…; blank: none)", current),
                ],
                Purpose::StripeCustomer,
            ));
        }
        _ => {}
    }
    Vec::new()
}

fn patch_tenant(state: &mut State, tenant: Uuid, change: TenantChange) -> Vec<Effect> {
    vec![mutate_global(
        state,
        Call::PatchTenant { tenant, change },
        Resource::Tenants,
    )]
}

/// Checks a submitted form; `Err` keeps it open with the reason.
pub(crate) fn submit(
    state: &mut State,
    purpose: Purpose,
    values: &[String],
) -> Result<Vec<Effect>, String> {
    let first = values.first().map(String::as_str).unwrap_or_default();
    match purpose {
        Purpose::CreatePlan => {
            let (new, _) = parse_form(values)?;
            Ok(vec![mutate_global(
                state,
                Call::CreatePlan { new },
                Resource::Plans,
            )])
        }
        Purpose::EditPlan { plan } => {
            let (_, want) = parse_form(values)?;
            let cur = state
                .plans
                .find(plan)
                .cloned()
                .ok_or("that plan is no longer listed")?;
            let patch = patch_between(&cur, &want);
            if patch == PlanPatch::default() {
                state.toast(ToastLevel::Info, "nothing changed");
                return Ok(Vec::new());
            }
            Ok(vec![mutate_global(
                state,
                Call::PatchPlan { plan, patch },
                Resource::Plans,
            )])
        }
        Purpose::AssignPlan { plan } => {
            let t = client(state, first)?;
            if t.plan_id == Some(plan) {
                return Err(format!("{} is on this plan already", t.name));
            }
            Ok(patch_tenant(state, t.id, TenantChange::Plan(Some(plan))))
        }
        Purpose::UnassignPlan => {
            let t = client(state, first)?;
            if t.plan_id.is_none() {
                return Err(format!("{} has no plan", t.name));
            }
            Ok(patch_tenant(state, t.id, TenantChange::Plan(None)))
        }
        Purpose::StripeCustomer => {
            let t = client(state, first)?;
            let typed = values.get(1).map(|v| v.trim()).unwrap_or_default();
            let check = TenantPatch {
                stripe_customer_id: Some((!typed.is_empty()).then(|| typed.to_string())),
                ..TenantPatch::default()
            };
            let customer = check
                .billing()
                .map_err(|e| e.to_string())?
                .stripe_customer_id
                .flatten();
            if customer == t.stripe_customer_id {
                state.toast(ToastLevel::Info, "nothing changed");
                return Ok(Vec::new());
            }
            Ok(patch_tenant(
                state,
                t.id,
                TenantChange::StripeCustomer(customer),
            ))
        }
        _ => Ok(Vec::new()),
    }
}

/// After a delete is confirmed.
pub(crate) fn perform(state: &mut State, op: PendingOp) -> Vec<Effect> {
    match op {
        PendingOp::DeletePlan { plan } => vec![mutate_global(
            state,
            Call::DeletePlan { plan },
            Resource::Plans,
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_as_an_operator_types_them() {
        assert_eq!(parse_price("49"), Ok(4900));
        assert_eq!(parse_price("49.5"), Ok(4950));
        assert_eq!(parse_price(" 1,049.05 "), Ok(104_905));
        assert_eq!(parse_price(".99"), Ok(99));
        assert_eq!(parse_price(""), Ok(0));
        for bad in [
            "49.999",
            "-1",
            "4e3",
            "49.x",
            ".",
            "12.3.4",
            "99999999999999999999",
        ] {
            assert!(parse_price(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_are_whole_numbers_or_blank() {
        assert_eq!(parse_limit("users", " "), Ok(None));
        assert_eq!(parse_limit("users", "2,500"), Ok(Some(2500)));
        assert_eq!(parse_limit("users", "0"), Ok(Some(0)));
        let e = parse_limit("users", "ten").unwrap_err();
        assert!(e.starts_with("users:"), "{e}");
    }

    fn values(v: [&str; 8]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_form_is_checked_with_cores_rules() {
        let (new, fields) =
            parse_form(&values(["Pro", "49", "usd", "2500", "", "3", "", "365"])).unwrap();
        assert_eq!(new.price_cents, 4900);
        assert_eq!(fields.currency, "USD");
        assert_eq!(fields.limits.leads_per_month, Some(2500));
        assert_eq!(fields.limits.users, None);
        assert_eq!(fields.limits.retention_days, Some(365));
        // Retention 0 and an unknown currency are what the daemon refuses too.
        let e = parse_form(&values(["Pro", "49", "EUR", "", "", "", "", "0"])).unwrap_err();
        assert!(e.contains("retention_days"), "{e}");
        let e = parse_form(&values(["Pro", "49", "EURO", "", "", "", "", ""])).unwrap_err();
        assert!(e.contains("ISO 4217"), "{e}");
        let e = parse_form(&values(["  ", "49", "EUR", "", "", "", "", ""])).unwrap_err();
        assert!(e.contains("name"), "{e}");
        let e =
            parse_form(&values(["Pro", "49", "EUR", "", "", "", "", "99999999999"])).unwrap_err();
        assert!(e.contains("retention"), "{e}");
    }

    #[test]
    fn an_edit_sends_only_what_changed_and_null_removes_a_limit() {
        let cur = Plan {
            id: Uuid::from_u128(1),
            name: "Pro".into(),
            price_cents: 4900,
            currency: "EUR".into(),
            limits: PlanLimits {
                leads_per_month: Some(2500),
                users: Some(5),
                ..PlanLimits::default()
            },
            created_at: chrono::DateTime::UNIX_EPOCH,
            tenants: 2,
        };
        let same = form_values(&cur.name, cur.price_cents, &cur.currency, &cur.limits);
        let (_, want) = parse_form(&same).unwrap();
        assert_eq!(patch_between(&cur, &want), PlanPatch::default());
        let mut changed = same.clone();
        changed[1] = "59.00".into();
        changed[4] = String::new();
        changed[7] = "90".into();
        let (_, want) = parse_form(&changed).unwrap();
        let patch = patch_between(&cur, &want);
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            serde_json::json!({
                "price_cents": 5900,
                "limits": {"users": null, "retention_days": 90}
            })
        );
    }
}
