//! Deliveries: the delivery log of the endpoint opened on the Webhooks screen, newest first,
//! page by page: each message with its status and attempts. Filter by status, retry one
//! message, or recover every failed message since a time.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use echo5_core::page::Page;
use echo5_core::webhooks::{Delivery, DeliveryStatus};
use ratatui::Frame;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::view;
use crate::app::action::Reply;
use crate::app::components::{Component, move_in_list};
use crate::app::effect::{Call, Effect, Scope};
use crate::app::overlay::{Field, Form, Overlay, Purpose};
use crate::app::request::{admit, fetch, issue, mutate};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch};

/// One endpoint's deliveries loaded so far, and how they are filtered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deliveries {
    /// The endpoint opened; `None` until one is (Enter on the Webhooks screen).
    pub webhook: Option<Uuid>,
    /// Only this status (`None`: all), as the daemon filters.
    pub status: Option<DeliveryStatus>,
    pub remote: Remote<Vec<Delivery>>,
    /// The cursor, and `/` narrowing the loaded rows (message id or type).
    pub view: ListView,
    /// Where the next page starts; `None` once the last page is in.
    pub next_cursor: Option<String>,
    pub pages: u32,
}

impl Deliveries {
    pub fn filtered(&self) -> Vec<&Delivery> {
        let f = self.view.filter.to_lowercase();
        self.remote
            .data
            .iter()
            .flatten()
            .filter(|d| {
                f.is_empty()
                    || d.message_id.to_lowercase().contains(&f)
                    || d.event_type.as_str().contains(&f)
            })
            .collect()
    }

    pub fn selected(&self) -> Option<&Delivery> {
        self.filtered().get(self.view.selected).copied()
    }
}

/// The status filter after `s`: all → pending → succeeded → failed → all.
pub fn next_status(s: Option<DeliveryStatus>) -> Option<DeliveryStatus> {
    match s {
        None => Some(DeliveryStatus::Pending),
        Some(DeliveryStatus::Pending) => Some(DeliveryStatus::Succeeded),
        Some(DeliveryStatus::Succeeded) => Some(DeliveryStatus::Failed),
        Some(DeliveryStatus::Failed) => None,
    }
}

/// Opens `webhook`'s log: another endpoint's rows go, the status filter stays.
pub(crate) fn open(state: &mut State, webhook: Uuid) {
    let d = &mut state.webhooks.deliveries;
    if d.webhook != Some(webhook) {
        *d = Deliveries {
            webhook: Some(webhook),
            status: d.status,
            ..Deliveries::default()
        };
    }
}

pub struct DeliveriesScreen;

const BINDINGS: &[Binding] = &[
    b(&[ch('f')], Cmd::StatusFilter, "status", true),
    b(&[ch('r')], Cmd::Retry, "retry", true),
    b(&[ch('R')], Cmd::Recover, "recover since", true),
    b(&[ch('t')], Cmd::Test, "test", true),
];

impl Component for DeliveriesScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw_deliveries(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        let Some(webhook) = state.webhooks.deliveries.webhook else {
            state.toast(
                ToastLevel::Info,
                "no endpoint open: Enter on one in :webhooks",
            );
            return Vec::new();
        };
        match cmd {
            Cmd::StatusFilter => {
                let d = &mut state.webhooks.deliveries;
                d.status = next_status(d.status);
                start_over(state)
            }
            Cmd::Retry => {
                let Some(message_id) = state
                    .webhooks
                    .deliveries
                    .selected()
                    .map(|d| d.message_id.clone())
                else {
                    return Vec::new();
                };
                let Some(tenant) = state.tenant.as_ref().map(|t| t.id) else {
                    return Vec::new();
                };
                vec![mutate(
                    state,
                    Call::RetryDelivery {
                        tenant,
                        webhook,
                        message_id,
                    },
                    Resource::Deliveries,
                )]
            }
            Cmd::Recover => {
                state.overlay = Some(Overlay::Form(Form {
                    title: "Recover: send failed messages again".into(),
                    fields: vec![Field::new(
                        "Since (UTC: 2026-03-01 09:00, or 6h / 2d ago)",
                        "",
                    )],
                    focus: 0,
                    purpose: Purpose::RecoverWebhook { webhook },
                    error: None,
                }));
                Vec::new()
            }
            Cmd::Test => super::test(state, webhook),
            _ => Vec::new(),
        }
    }

    /// The log, and the endpoint list for its URL in the title.
    fn wanted(&self, state: &State, force: bool) -> Vec<Resource> {
        let d = &state.webhooks.deliveries;
        let mut out = Vec::new();
        // A poll would fold the pages scrolled in back to the first one.
        if d.webhook.is_some() && (force || d.pages <= 1) {
            out.push(Resource::Deliveries);
        }
        out.push(Resource::Webhooks);
        out
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.webhooks.deliveries.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.webhooks.deliveries.filtered().len()
    }

    fn move_cursor(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        let before = state.webhooks.deliveries.view.selected;
        move_in_list(self, state, cmd);
        let d = &state.webhooks.deliveries;
        let after = d.view.selected;
        let len = d.filtered().len();
        let past_end = (matches!(cmd, Cmd::Down) && after == before) || cmd == Cmd::Bottom;
        if past_end && len > 0 && after + 1 >= len {
            return fetch_more(state).into_iter().collect();
        }
        Vec::new()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Deliveries]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        Some((call(state, None)?, state.tenant_scope()))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.webhooks.deliveries.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::ListDeliveries { .. }).then_some(Resource::Deliveries)
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        matches!(
            call,
            Call::TestWebhook { .. } | Call::RetryDelivery { .. } | Call::RecoverWebhook { .. }
        )
        .then_some(Resource::Deliveries)
    }

    /// Only the endpoint and status asked for last.
    fn still_wanted(&self, state: &State, c: &Call) -> bool {
        match (c, call(state, None)) {
            (
                Call::ListDeliveries {
                    webhook, status, ..
                },
                Some(Call::ListDeliveries {
                    webhook: w,
                    status: s,
                    ..
                }),
            ) => *webhook == w && *status == s,
            (Call::ListDeliveries { .. }, None) => false,
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
        let opened = |state: &State, w: &Uuid| state.webhooks.deliveries.webhook == Some(*w);
        Ok(match reply {
            Reply::Deliveries(page) => {
                let more = matches!(
                    call,
                    Call::ListDeliveries {
                        cursor: Some(_),
                        ..
                    }
                );
                if admit(state, Resource::Deliveries, id) {
                    store(state, page, more);
                }
                Vec::new()
            }
            Reply::WebhookTested => {
                let text = match state.screen {
                    crate::app::Screen::Deliveries => "test message queued".to_string(),
                    _ => "test message queued (Enter shows its delivery)".to_string(),
                };
                state.toast(ToastLevel::Info, text);
                refetch_if(state, call, opened)
            }
            Reply::DeliveryRetried => {
                state.toast(ToastLevel::Info, "queued to be sent again");
                refetch_if(state, call, opened)
            }
            Reply::Recovered(r) => {
                state.toast(
                    ToastLevel::Info,
                    format!("{} failed message(s) queued again", r.queued),
                );
                refetch_if(state, call, opened)
            }
            other => return Err(Box::new(other)),
        })
    }
}

/// The log fetched again when the call was about the endpoint open.
fn refetch_if(
    state: &mut State,
    call: &Call,
    opened: impl Fn(&State, &Uuid) -> bool,
) -> Vec<Effect> {
    let webhook = match call {
        Call::TestWebhook { webhook, .. }
        | Call::RetryDelivery { webhook, .. }
        | Call::RecoverWebhook { webhook, .. } => webhook,
        _ => return Vec::new(),
    };
    if opened(state, webhook) {
        fetch(state, Resource::Deliveries, true)
            .into_iter()
            .collect()
    } else {
        Vec::new()
    }
}

/// The listing call for the open endpoint and status, from `cursor`.
fn call(state: &State, cursor: Option<String>) -> Option<Call> {
    let tenant = state.tenant.as_ref()?.id;
    let d = &state.webhooks.deliveries;
    Some(Call::ListDeliveries {
        tenant,
        webhook: d.webhook?,
        status: d.status,
        cursor,
    })
}

fn store(state: &mut State, page: Page<Delivery>, more: bool) {
    let now = state.now;
    let d = &mut state.webhooks.deliveries;
    d.next_cursor = page.next_cursor;
    if more {
        d.pages += 1;
        let rows = d.remote.data.get_or_insert_with(Vec::new);
        for x in page.data {
            if !rows.iter().any(|r| r.message_id == x.message_id) {
                rows.push(x);
            }
        }
        d.remote.updated_at = Some(now);
        d.remote.error = None;
    } else {
        // The cursor stays on the message it was on when that one is still listed.
        let keep = d.selected().map(|x| x.message_id.clone());
        d.pages = 1;
        d.remote.store(page.data, now);
        if let Some(pos) = keep.and_then(|id| d.filtered().iter().position(|x| x.message_id == id))
        {
            d.view.selected = pos;
        }
    }
    let n = d.filtered().len();
    d.view.clamp(n);
}

fn fetch_more(state: &mut State) -> Option<Effect> {
    let cursor = state.webhooks.deliveries.next_cursor.clone()?;
    if state.webhooks.deliveries.remote.loading() {
        return None;
    }
    let c = call(state, Some(cursor))?;
    let scope = state.tenant_scope();
    Some(issue(state, Resource::Deliveries, c, scope))
}

/// A new status filter: the log starts over from the newest message.
fn start_over(state: &mut State) -> Vec<Effect> {
    let d = &mut state.webhooks.deliveries;
    d.remote = Remote::default();
    d.view.selected = 0;
    d.next_cursor = None;
    d.pages = 0;
    fetch(state, Resource::Deliveries, true)
        .into_iter()
        .collect()
}

/// The recover form's time: `2026-03-01 09:00` or `2026-03-01T09:00:00Z` (UTC), a day
/// (`2026-03-01`, from its midnight), or how long ago (`90m`, `6h`, `2d`). Never in the
/// future: nothing has failed there yet.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("type a time: 2026-03-01 09:00 (UTC), or 6h / 2d for that long ago".into());
    }
    let since = ago(t, now)
        .or_else(|| {
            DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        })
        .or_else(|| {
            ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
                .map(|n| n.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|n| n.and_utc())
        })
        .ok_or_else(|| {
            format!("\"{t}\" is not a time: use 2026-03-01 09:00 (UTC), or 6h / 2d ago")
        })?;
    if since > now {
        return Err("that time is in the future".into());
    }
    Ok(since)
}

/// `90m`, `6h`, `2d` (an optional ` ago` after it) before `now`.
fn ago(t: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let t = t.strip_suffix("ago").unwrap_or(t).trim();
    let unit = t.chars().last()?;
    let n: i64 = t[..t.len() - unit.len_utf8()].trim().parse().ok()?;
    let span = match unit {
        'm' => TimeDelta::try_minutes(n)?,
        'h' => TimeDelta::try_hours(n)?,
        'd' => TimeDelta::try_days(n)?,
        _ => return None,
    };
    now.checked_sub_signed(span)
}
