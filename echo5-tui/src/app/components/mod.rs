//! The console's screens, one component per resource, and the one registry the app routes
//! through. A component owns its data (a field of [`State`] whose type it defines), builds
//! its requests, applies their answers and the live events about it, handles its keys and
//! draws itself; the app only knows the [`Component`] trait and [`REGISTRY`].
//!
//! A new screen is a new module implementing [`Component`] with its `mod` line and its line
//! in [`REGISTRY`] here, and a [`Screen`] variant in the parent module.

pub mod analytics;
pub mod audit;
pub mod dashboard;
pub mod format;
pub mod frame;
pub mod integrations;
pub mod keys;
pub mod leads;
pub mod logs;
pub mod notifications;
pub mod plans;
pub mod platform_settings;
pub mod settings;
pub mod sla;
pub mod stages;
pub mod tenants;
pub mod usage;
pub mod users;
pub mod webhooks;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::action::{ApiError, Reply};
use super::effect::{Call, Effect, Scope};
use super::live::LiveEvent;
use super::state::{ListView, RemoteStatus};
use super::{Resource, Screen, State};
use crate::keymap::{Binding, Cmd};

/// Where a screen shows in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tabs {
    /// The tab line, with a digit key (in registry order).
    Numbered,
    /// Platform administration, beside the daemon's address; reached with `:` and Tab.
    Platform,
    /// Not in the header; reached with `:` and Tab only.
    Hidden,
}

/// A screen as the app sees it: its names, what it needs, and the component behind it.
pub struct ScreenDesc {
    pub screen: Screen,
    pub title: &'static str,
    /// For narrow headers.
    pub short: &'static str,
    /// The palette command that opens it, and what the palette says about it.
    pub command: &'static str,
    pub about: &'static str,
    /// Other palette names for it.
    pub aliases: &'static [&'static str],
    /// Per-tenant screens cannot show anything until a tenant is chosen.
    pub needs_tenant: bool,
    pub tabs: Tabs,
    pub component: &'static dyn Component,
}

// One line per screen in the registry reads best with every field in order.
#[allow(clippy::too_many_arguments)]
const fn screen(
    screen: Screen,
    title: &'static str,
    short: &'static str,
    command: &'static str,
    about: &'static str,
    needs_tenant: bool,
    tabs: Tabs,
    component: &'static dyn Component,
) -> ScreenDesc {
    ScreenDesc {
        screen,
        title,
        short,
        command,
        about,
        aliases: &[],
        needs_tenant,
        tabs,
        component,
    }
}

use Tabs::{Hidden, Numbered, Platform};

/// Every screen, in [`Screen`]'s order. The later ones came later, so the first five keep
/// their numbers.
#[rustfmt::skip]
pub static REGISTRY: &[ScreenDesc] = &[
    screen(Screen::Dashboard, "Dashboard", "Dash", "dashboard", "all tenants", false, Numbered, &dashboard::DashboardScreen),
    screen(Screen::Tenants, "Tenants", "Ten", "tenants", "tenant picker", false, Numbered, &tenants::TenantsScreen),
    ScreenDesc { aliases: &["stages"], ..screen(Screen::Pipeline, "Pipeline", "Pipe", "pipeline", "stages of the selected tenant", true, Numbered, &stages::StagesScreen) },
    screen(Screen::Settings, "Settings", "Set", "settings", "settings of the selected tenant", true, Numbered, &settings::SettingsScreen),
    screen(Screen::Keys, "Keys", "Keys", "keys", "API keys of the selected tenant", true, Numbered, &keys::KeysScreen),
    screen(Screen::Leads, "Leads", "Leads", "leads", "leads of the selected tenant", true, Numbered, &leads::LeadsScreen),
    screen(Screen::Breaches, "SLA", "SLA", "sla", "SLA breaches, live", false, Numbered, &sla::SlaScreen),
    screen(Screen::Analytics, "Analytics", "Ana", "analytics", "charts of the selected tenant", true, Numbered, &analytics::AnalyticsScreen),
    screen(Screen::Platform, "Platform", "Plat", "platform", "platform settings and tenant defaults", false, Platform, &platform_settings::PlatformScreen),
    ScreenDesc { aliases: &["all-leads", "allleads", "leads-all"], ..screen(Screen::AllLeads, "All leads", "All", "all", "every tenant's leads", false, Platform, &leads::all::AllLeadsScreen) },
    screen(Screen::Usage, "Usage", "Use", "usage", "usage per tenant and month", false, Platform, &usage::UsageScreen),
    screen(Screen::Audit, "Audit", "Aud", "audit", "who did what, when", false, Tabs::Hidden, &audit::AuditScreen),
    ScreenDesc { aliases: &["log"], ..screen(Screen::Logs, "Logs", "Logs", "logs", "daemon log, live", false, Platform, &logs::LogsScreen) },
    ScreenDesc { aliases: &["client"], ..screen(Screen::Overview, "Overview", "Over", "overview", "the selected client: figures, newest leads, quick actions", true, Hidden, &tenants::overview::OverviewScreen) },
    ScreenDesc { aliases: &["analytics-all", "all-analytics"], ..screen(Screen::GlobalAnalytics, "Analytics (all)", "AllAn", "global", "analytics across clients, per client", false, Hidden, &analytics::global::GlobalAnalyticsScreen) },
    ScreenDesc { aliases: &["users-tenant"], ..screen(Screen::Team, "Team", "Team", "team", "users of the selected tenant", true, Hidden, &users::TeamScreen) },
    ScreenDesc { aliases: &["platform-users"], ..screen(Screen::Users, "Users", "Users", "users", "platform users (owners)", false, Hidden, &users::PlatformUsersScreen) },
    ScreenDesc { aliases: &["hooks", "webhook"], ..screen(Screen::Webhooks, "Webhooks", "Hooks", "webhooks", "webhook endpoints of the selected tenant", true, Hidden, &webhooks::WebhooksScreen) },
    screen(Screen::Deliveries, "Deliveries", "Deliv", "deliveries", "delivery log of the endpoint opened on Webhooks", true, Hidden, &webhooks::deliveries::DeliveriesScreen),
    ScreenDesc { aliases: &["ads", "sources"], ..screen(Screen::Integrations, "Integrations", "Integ", "integrations", "ad sources of the selected tenant: state, last lead, last error, sync", true, Hidden, &integrations::IntegrationsScreen) },
    ScreenDesc { aliases: &["notify", "alerts"], ..screen(Screen::Notifications, "Notifications", "Notif", "notifications", "notification channels, rules and templates of the selected tenant", true, Hidden, &notifications::NotificationsScreen) },
    ScreenDesc { aliases: &["billing"], ..screen(Screen::Plans, "Plans", "Plans", "plans", "plans and their limits; which client is on which, and its Stripe customer", false, Hidden, &plans::PlansScreen) },
];

// A screen's and a resource's names and behaviour are read from the registry, so their
// methods live beside it; the app's modules call them without naming a component.
impl Screen {
    pub fn desc(self) -> &'static ScreenDesc {
        // The registry lists the screens in declaration order (checked by a test below).
        &REGISTRY[self as usize]
    }

    pub fn component(self) -> &'static dyn Component {
        self.desc().component
    }

    /// Every screen, in Tab order.
    pub fn all() -> impl Iterator<Item = Screen> {
        REGISTRY.iter().map(|d| d.screen)
    }

    /// The screens of one header group, in order.
    pub fn in_tabs(tabs: Tabs) -> impl Iterator<Item = Screen> {
        REGISTRY
            .iter()
            .filter(move |d| d.tabs == tabs)
            .map(|d| d.screen)
    }

    pub fn title(self) -> &'static str {
        self.desc().title
    }

    pub fn short(self) -> &'static str {
        self.desc().short
    }

    pub fn command(self) -> &'static str {
        self.desc().command
    }

    pub fn needs_tenant(self) -> bool {
        self.desc().needs_tenant
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn by_number(n: u32) -> Option<Screen> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        Screen::in_tabs(Tabs::Numbered).nth(i)
    }

    pub fn next(self) -> Screen {
        REGISTRY[(self.index() + 1) % REGISTRY.len()].screen
    }

    pub fn prev(self) -> Screen {
        REGISTRY[(self.index() + REGISTRY.len() - 1) % REGISTRY.len()].screen
    }
}

impl Resource {
    /// The component that fetches and stores it.
    pub fn owner(self) -> Option<&'static dyn Component> {
        REGISTRY
            .iter()
            .map(|d| d.component)
            .find(|c| c.resources().contains(&self))
    }
}

/// The component whose call this is: the fetch or the change of one of its resources.
pub fn owner_of(call: &Call) -> Option<&'static dyn Component> {
    REGISTRY
        .iter()
        .map(|d| d.component)
        .find(|c| c.resource_of(call).is_some() || c.touched_by(call).is_some())
}

/// Stores an answer: the component whose call it was first, then whichever stores that
/// kind of answer.
pub fn apply(state: &mut State, id: u64, call: &Call, reply: Reply) -> Vec<Effect> {
    let mut out: Vec<Effect> = Vec::new();
    for d in REGISTRY {
        out.extend(d.component.observe(state, call, &reply));
    }
    let first = owner_of(call).into_iter();
    let mut reply = reply;
    for c in first.chain(REGISTRY.iter().map(|d| d.component)) {
        match c.apply(state, id, call, reply) {
            Ok(more) => {
                out.extend(more);
                return out;
            }
            Err(back) => reply = *back,
        }
    }
    out
}

/// One screen and the resources it owns. Every method has a default, so a component
/// implements only what it has.
pub trait Component: Sync {
    // --- The screen -----------------------------------------------------------------

    /// Keys this screen adds; shown in the footer before the global ones, and in help.
    fn bindings(&self) -> &'static [Binding] {
        &[]
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State);

    /// A command meant for this screen (global ones are handled before it).
    fn on_cmd(&self, _state: &mut State, _cmd: Cmd) -> Vec<Effect> {
        Vec::new()
    }

    /// What the screen shows, to fetch (again); the first is forced on an explicit refresh.
    /// Called with a tenant chosen when [`ScreenDesc::needs_tenant`].
    fn wanted(&self, _state: &State, _force: bool) -> Vec<Resource> {
        Vec::new()
    }

    /// The filterable list, when the screen has one.
    fn list_mut<'a>(&self, _state: &'a mut State) -> Option<&'a mut ListView> {
        None
    }

    /// The list the cursor moves over (the filterable one unless said otherwise).
    fn cursor_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        self.list_mut(state)
    }

    fn list_len(&self, _state: &State) -> usize {
        0
    }

    /// Up, Down, Top, Bottom (and the mouse wheel).
    fn move_cursor(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        move_in_list(self, state, cmd);
        Vec::new()
    }

    /// Esc, before the generic "clear the filter, then go back"; `Some` when handled.
    fn back(&self, _state: &mut State) -> Option<Vec<Effect>> {
        None
    }

    /// The `/` line is a search sent to the daemon on Enter, not a filter applied per key.
    fn server_search(&self) -> bool {
        false
    }

    fn search(&self, _state: &mut State, _q: String) -> Vec<Effect> {
        Vec::new()
    }

    /// What on this screen an event changes (`None`: everything live on it).
    fn live(&self, _state: &State, _event: LiveEvent) -> Vec<Resource> {
        Vec::new()
    }

    // --- The resources --------------------------------------------------------------

    /// The resources this component fetches and stores.
    fn resources(&self) -> &'static [Resource] {
        &[]
    }

    /// The call fetching `res` and whose answer it is, or `None` when it cannot be fetched
    /// now (no tenant, no lead selected).
    fn call(&self, _state: &State, _res: Resource) -> Option<(Call, Scope)> {
        None
    }

    /// `res`'s in-flight request id and last error.
    fn remote_mut<'a>(
        &self,
        _state: &'a mut State,
        _res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        None
    }

    /// The resource a fetch call reads.
    fn resource_of(&self, _call: &Call) -> Option<Resource> {
        None
    }

    /// The resource a change alters: older fetches of it are stale once it is sent.
    fn touched_by(&self, _call: &Call) -> Option<Resource> {
        None
    }

    /// Whether an answer still matches what the operator asked for last (the same search,
    /// scope, range, lead, month).
    fn still_wanted(&self, _state: &State, _call: &Call) -> bool {
        true
    }

    /// Any answer to one of its calls for the current tenant, success or not, before it
    /// is applied.
    fn answered(&self, _state: &mut State, _call: &Call, _err: Option<&ApiError>) {}

    /// A successful answer still wanted. An answer it does not store is handed back, for
    /// the component that does.
    fn apply(
        &self,
        _state: &mut State,
        _id: u64,
        _call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        Err(Box::new(reply))
    }

    /// The selected tenant changed: drop what belongs to the previous one.
    fn tenant_changed(&self, _state: &mut State) {}

    /// Every stored answer, before the component that stores it: for a component that
    /// shows what another one owns (the SLA screen's open lead, saved by Leads' change).
    fn observe(&self, _state: &mut State, _call: &Call, _reply: &Reply) -> Vec<Effect> {
        Vec::new()
    }

    /// What this component keeps loaded whatever screen is shown: on a poll (`None`) or
    /// after an event. The SLA breaches are, so the header can count them everywhere.
    fn background(&self, _state: &State, _event: Option<LiveEvent>) -> Vec<Resource> {
        Vec::new()
    }
}

/// The cursor movement most lists share.
pub fn move_in_list<C: Component + ?Sized>(c: &C, state: &mut State, cmd: Cmd) {
    let len = c.list_len(state);
    let Some(view) = c.cursor_mut(state) else {
        return;
    };
    match cmd {
        Cmd::Up => view.move_by(-1, len),
        Cmd::Down => view.move_by(1, len),
        Cmd::Top => view.selected = 0,
        Cmd::Bottom => view.selected = len.saturating_sub(1),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_follows_the_screen_order() {
        for (i, d) in REGISTRY.iter().enumerate() {
            assert_eq!(d.screen as usize, i, "{} out of place", d.title);
        }
    }

    #[test]
    fn every_resource_has_one_owner() {
        use Resource::*;
        let base = [
            Tenants,
            Stages,
            Settings,
            Keys,
            Dashboard,
            Leads,
            LeadDetail,
            Breaches,
            Analytics,
            Platform,
            AllLeads,
            Usage,
            Logs,
            RecentLeads,
            GlobalAnalytics,
            Audit,
            Team,
            PlatformUsers,
            Webhooks,
            Deliveries,
            Integrations,
            Notifications,
            NotificationPreview,
            Plans,
        ];
        for r in base.into_iter().chain([BreachLead, BreachStages]) {
            let owners = REGISTRY
                .iter()
                .filter(|d| d.component.resources().contains(&r))
                .count();
            assert_eq!(owners, 1, "{r:?}");
        }
    }
}
