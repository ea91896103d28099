//! Usage: per tenant, what a month cost — leads accepted, spam, duplicates, refusals, API
//! calls and storage — with a month picker.

mod view;

use chrono::{DateTime, Utc};
use echo5_core::usage::{Month, TenantUsage, UsageReport};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::Component;
use crate::app::action::Reply;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::request::{admit, fetch};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch, k};
use crossterm::event::KeyCode;

/// `GET /api/v1/usage` for one month, and the table's cursor and filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub remote: Remote<UsageReport>,
    pub month: Month,
    pub view: ListView,
}

impl Usage {
    /// Starts on the month of `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Usage {
            remote: Remote::default(),
            month: Month::of(now),
            view: ListView::default(),
        }
    }

    /// Rows with the filter (tenant name or slug) applied.
    pub fn filtered(&self) -> Vec<&TenantUsage> {
        let f = self.view.filter.to_lowercase();
        self.remote
            .data
            .iter()
            .flat_map(|u| u.tenants.iter())
            .filter(|t| {
                f.is_empty()
                    || t.tenant.name.to_lowercase().contains(&f)
                    || t.tenant.slug.to_lowercase().contains(&f)
            })
            .collect()
    }
}

pub struct UsageScreen;

const BINDINGS: &[Binding] = &[
    b(
        &[ch('h'), ch('['), k(KeyCode::Left)],
        Cmd::PrevMonth,
        "previous month",
        true,
    ),
    b(
        &[ch('l'), ch(']'), k(KeyCode::Right)],
        Cmd::NextMonth,
        "next month",
        true,
    ),
];

impl Component for UsageScreen {
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
        vec![Resource::Usage]
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.usage.view)
    }

    fn list_len(&self, state: &State) -> usize {
        state.usage.filtered().len()
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Usage]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        Some((
            Call::GetUsage {
                month: state.usage.month,
            },
            Scope::Global,
        ))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.usage.remote)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::GetUsage { .. }).then_some(Resource::Usage)
    }

    fn still_wanted(&self, state: &State, call: &Call) -> bool {
        match call {
            Call::GetUsage { month } => *month == state.usage.month,
            _ => true,
        }
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        _call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        let Reply::Usage(u) = reply else {
            return Err(Box::new(reply));
        };
        if admit(state, Resource::Usage, id) {
            let now = state.now;
            state.usage.remote.store(*u, now);
            let n = state.usage.filtered().len();
            state.usage.view.clamp(n);
        }
        Ok(Vec::new())
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The month picker on core's [`Month`] (whose `Display` is the `2026-11`
/// query value): stepping across years and the heading's name.
pub trait MonthNav {
    fn prev(self) -> Month;
    fn next(self) -> Month;
    /// `November 2026`.
    fn label(self) -> String;
}

impl MonthNav for Month {
    fn prev(self) -> Month {
        if self.month <= 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    fn next(self) -> Month {
        if self.month >= 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    fn label(self) -> String {
        let name = MONTHS
            .get(self.month.saturating_sub(1) as usize)
            .copied()
            .unwrap_or("?");
        format!("{name} {}", self.year)
    }
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    let month = match cmd {
        Cmd::PrevMonth => state.usage.month.prev(),
        Cmd::NextMonth => {
            let next = state.usage.month.next();
            if next > Month::of(state.now) {
                state.toast(ToastLevel::Info, "no usage recorded in the future yet");
                return Vec::new();
            }
            next
        }
        _ => return Vec::new(),
    };
    state.usage.month = month;
    state.usage.view.selected = 0;
    // The old month's numbers stay on screen (titled with their month) until the new ones
    // land; the answer for the old month is dropped if it comes late.
    fetch(state, Resource::Usage, true).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn months_wrap_over_years() {
        let jan = Month {
            year: 2026,
            month: 1,
        };
        assert_eq!(
            jan.prev(),
            Month {
                year: 2025,
                month: 12
            }
        );
        assert_eq!(jan.prev().next(), jan);
        assert_eq!(jan.prev().to_string(), "2025-12");
        assert_eq!(jan.label(), "January 2026");
    }

    #[test]
    fn contract_shapes_parse() {
        let usage = json!({
            "month": "2026-11", "active_tenants": 1,
            "totals": {"accepted": 3, "spam": 1, "duplicates": 0, "rejected": 2, "api_calls": 9, "storage_bytes": 4096},
            "tenants": [{
                "tenant": {"id": "00000000-0000-0000-0000-000000001001", "slug": "open-arms", "name": "Open Arms"},
                "accepted": 3, "spam": 1, "duplicates": 0, "rejected": 2, "api_calls": 9, "storage_bytes": 4096,
                "last_lead_at": null, "active": true,
                "keys": [{"key_id": null, "prefix": null, "name": null, "accepted": 0, "spam": 0, "duplicates": 0, "rejected": 2, "api_calls": 2}]
            }]
        });
        let u: UsageReport = serde_json::from_value(usage).expect("usage parses");
        assert_eq!(u.tenants[0].storage_bytes, 4096);
        assert_eq!(u.tenants[0].keys[0].rejected, 2);
    }
}
