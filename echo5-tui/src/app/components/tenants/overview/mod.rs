//! A client's overview: what choosing a client opens. Its figures (the dashboard's row for
//! it and its analytics), its newest leads, and one key to each thing done for a client.

mod view;

use crossterm::event::KeyCode;
use echo5_core::leads::Lead;
use echo5_core::page::Page;
use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::action::Reply;
use crate::app::components::Component;
use crate::app::effect::{Call, Effect, Scope};
use crate::app::live::LiveEvent;
use crate::app::navigation::go;
use crate::app::request::admit;
use crate::app::state::{Remote, RemoteStatus};
use crate::app::{Resource, Screen, State};
use crate::keymap::{Binding, Cmd, b, ch, k};

/// The selected client's newest leads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    pub recent: Remote<Vec<Lead>>,
}

pub struct OverviewScreen;

const BINDINGS: &[Binding] = &[
    b(&[ch('a')], Cmd::Add, "add a lead", true),
    b(&[ch('l'), k(KeyCode::Enter)], Cmd::OpenLeads, "leads", true),
    b(&[ch('c')], Cmd::OpenAnalytics, "analytics", true),
    b(&[ch('s')], Cmd::OpenSettings, "settings", true),
    b(&[ch('p')], Cmd::OpenPipeline, "pipeline", true),
    b(&[ch('K')], Cmd::OpenKeys, "API keys", false),
];

impl Component for OverviewScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        let target = match cmd {
            // Manual entry belongs to the Leads screen: the overview opens it there, with its
            // form open, so the new lead is listed where it was entered.
            Cmd::Add => {
                let mut out = go(state, Screen::Leads, true);
                if state.screen == Screen::Leads {
                    out.extend(Screen::Leads.component().on_cmd(state, Cmd::Add));
                }
                return out;
            }
            Cmd::OpenLeads => Screen::Leads,
            Cmd::OpenAnalytics => Screen::Analytics,
            Cmd::OpenSettings => Screen::Settings,
            Cmd::OpenPipeline => Screen::Pipeline,
            Cmd::OpenKeys => Screen::Keys,
            _ => return Vec::new(),
        };
        go(state, target, true)
    }

    /// Its own leads first; the figures come from the dashboard and the analytics, which
    /// their own screens keep.
    fn wanted(&self, _state: &State, _force: bool) -> Vec<Resource> {
        vec![
            Resource::RecentLeads,
            Resource::Dashboard,
            Resource::Analytics,
        ]
    }

    fn live(&self, _state: &State, event: LiveEvent) -> Vec<Resource> {
        let mut out = Vec::new();
        if event.topic.lead_or_sla || event.topic.tenant_updated {
            out.push(Resource::Dashboard);
        }
        if event.topic.lead_or_sla && event.ours {
            out.push(Resource::RecentLeads);
            out.push(Resource::Analytics);
        }
        out
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::RecentLeads]
    }

    fn call(&self, state: &State, _res: Resource) -> Option<(Call, Scope)> {
        let tenant = state.tenant.as_ref()?.id;
        Some((Call::RecentLeads { tenant }, state.tenant_scope()))
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(&mut state.overview.recent)
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        matches!(call, Call::RecentLeads { .. }).then_some(Resource::RecentLeads)
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        match (call, reply) {
            (Call::RecentLeads { .. }, Reply::Leads(Page { data, .. })) => {
                if admit(state, Resource::RecentLeads, id) {
                    let now = state.now;
                    state.overview.recent.store(data, now);
                }
                Ok(Vec::new())
            }
            (_, other) => Err(Box::new(other)),
        }
    }

    fn tenant_changed(&self, state: &mut State) {
        state.overview = Overview::default();
    }
}
