//! Audit: who did what, when — the daemon's audit log, newest first, page by page; every
//! client's rows or the selected client's, every action or one.

mod view;

use echo5_core::audit::{AuditAction, AuditEntry, actor_name};
use echo5_core::page::Page;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::Component;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::overlay::{Field, Form, Overlay, Purpose};
use crate::app::request::{admit, fetch, issue};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch};

/// The audit rows loaded so far, and how they are filtered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Audit {
    pub remote: Remote<Vec<AuditEntry>>,
    /// The cursor, and `/` narrowing the loaded rows (who, action, client, target).
    pub view: ListView,
    /// Only the selected client's rows (else every client's and the platform's).
    pub client_only: bool,
    pub action: Option<AuditAction>,
    /// Where the next page starts; `None` once the last page is in.
    pub next_cursor: Option<String>,
    pub pages: u32,
}

impl Audit {
    /// The loaded rows the `/` filter keeps.
    pub fn filtered(&self) -> Vec<&AuditEntry> {
        let f = self.view.filter.to_lowercase();
        self.remote
            .data
            .iter()
            .flatten()
            .filter(|e| {
                f.is_empty()
                    || [
                        Some(actor_name(&e.actor)),
                        Some(e.action.as_str()),
                        e.tenant.as_ref().map(|t| t.name.as_str()),
                        e.tenant.as_ref().map(|t| t.slug.as_str()),
                        e.target.as_deref(),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|v| v.to_lowercase().contains(&f))
            })
            .collect()
    }
}

pub struct AuditScreen;

const BINDINGS: &[Binding] = &[
    b(&[ch('t')], Cmd::Scope, "all clients / this client", true),
    b(&[ch('a')], Cmd::ActionFilter, "action filter", true),
];

impl Component for AuditScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        match cmd {
            Cmd::Scope => {
                if !state.audit.client_only && state.tenant.is_none() {
                    state.toast(ToastLevel::Info, "pick a client first (:tenant)");
                    return Vec::new();
                }
                state.audit.client_only = !state.audit.client_only;
                start_over(state)
            }
            Cmd::ActionFilter => {
                let current = state.audit.action.map(|a| a.as_str()).unwrap_or_default();
                state.overlay = Some(Overlay::Form(Form {
                    title: "Audit: only one action".into(),
                    fields: vec![Field::new(
                        "Action, e.g. lead.note_added or a unique start (empty: all)",
                        current,
                    )],
                    focus: 0,
                    purpose: Purpose::AuditAction,
                    error: None,
                }));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn wanted(&self, state: &State, force: bool) -> Vec<Resource> {
        // A poll would fold the pages scrolled in back to the first one.
        if force || state.audit.pages <= 1 {
            vec![Resource::Audit]
        } else {
            Vec::new()
        }
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.audit.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.audit.filtered().len()
    }

    fn move_cursor(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        let before = state.audit.view.selected;
        super::move_in_list(self, state, cmd);
        let after = state.audit.view.selected;
        let len = state.audit.filtered().len();
        let past_end = (matches!(cmd, Cmd::Down) && after == before) || cmd == Cmd::Bottom;
        if past_end && len > 0 && after + 1 >= len {
            return fetch_more(state).into_iter().collect();
        }
        Vec::new()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Audit]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        Some((call(state, None)?, Scope::Global))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.audit.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::ListAudit { .. }).then_some(Resource::Audit)
    }

    /// Only the client and action asked for last.
    fn still_wanted(&self, state: &State, c: &Call) -> bool {
        match (c, call(state, None)) {
            (
                Call::ListAudit { tenant, action, .. },
                Some(Call::ListAudit {
                    tenant: t,
                    action: a,
                    ..
                }),
            ) => *tenant == t && *action == a,
            _ => true,
        }
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        let Reply::Audit(page) = reply else {
            return Err(Box::new(reply));
        };
        let more = matches!(
            call,
            Call::ListAudit {
                cursor: Some(_),
                ..
            }
        );
        if admit(state, Resource::Audit, id) {
            store(state, page, more);
        }
        Ok(Vec::new())
    }

    fn tenant_changed(&self, state: &mut State) {
        if state.audit.client_only {
            state.audit = Audit {
                client_only: true,
                action: state.audit.action,
                ..Audit::default()
            };
        }
    }
}

/// The listing call for the current filters, from `cursor`; `None` when "this client" is
/// asked for with no client chosen.
fn call(state: &State, cursor: Option<String>) -> Option<Call> {
    let tenant = if state.audit.client_only {
        Some(state.tenant.as_ref()?.id)
    } else {
        None
    };
    Some(Call::ListAudit {
        tenant,
        action: state.audit.action,
        cursor,
    })
}

fn store(state: &mut State, page: Page<AuditEntry>, more: bool) {
    let now = state.now;
    let a = &mut state.audit;
    a.next_cursor = page.next_cursor;
    if more {
        a.pages += 1;
        let rows = a.remote.data.get_or_insert_with(Vec::new);
        for e in page.data {
            if !rows.iter().any(|r| r.id == e.id) {
                rows.push(e);
            }
        }
        a.remote.updated_at = Some(now);
        a.remote.error = None;
    } else {
        // The cursor stays on the row it was on when that row is still listed.
        let keep = a.filtered().get(a.view.selected).map(|e| e.id);
        a.pages = 1;
        a.remote.store(page.data, now);
        if let Some(pos) = keep.and_then(|id| a.filtered().iter().position(|e| e.id == id)) {
            a.view.selected = pos;
        }
    }
    let n = a.filtered().len();
    a.view.clamp(n);
}

fn fetch_more(state: &mut State) -> Option<Effect> {
    let cursor = state.audit.next_cursor.clone()?;
    if state.audit.remote.loading() {
        return None;
    }
    let c = call(state, Some(cursor))?;
    Some(issue(state, Resource::Audit, c, Scope::Global))
}

/// New filters: the list starts over from the newest row.
fn start_over(state: &mut State) -> Vec<Effect> {
    let a = &mut state.audit;
    a.remote = Remote::default();
    a.view.selected = 0;
    a.next_cursor = None;
    a.pages = 0;
    fetch(state, Resource::Audit, true).into_iter().collect()
}

/// The action form: an action's full name or a start only one action has; empty for all.
pub(crate) fn submit(state: &mut State, values: &[String]) -> Result<Vec<Effect>, String> {
    let typed = values.first().map(|v| v.trim()).unwrap_or_default();
    let action = if typed.is_empty() {
        None
    } else {
        Some(parse_action(typed)?)
    };
    if action == state.audit.action && state.audit.remote.data.is_some() {
        return Ok(Vec::new());
    }
    state.audit.action = action;
    Ok(start_over(state))
}

/// An action by its name or by a start only it has.
pub fn parse_action(typed: &str) -> Result<AuditAction, String> {
    let t = typed.to_lowercase();
    if let Some(a) = AuditAction::parse(&t) {
        return Ok(a);
    }
    let hits: Vec<AuditAction> = AuditAction::ALL
        .into_iter()
        .filter(|a| a.as_str().starts_with(&t))
        .collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!("no action starts with \"{typed}\"")),
        many => Err(format!(
            "\"{typed}\" could be {}",
            many.iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
