//! The console's model: one [`State`], changed only by [`update()`], which returns the side
//! effects (HTTP calls) to perform as plain data.
//!
//! What the children share lives here: the [`State`], and the [`Screen`]s and
//! [`Resource`]s the [`components`] registry describes. The routers (`update`, `reply`,
//! `live`, `navigation`, `overlay_keys`) and the request kernel (`request`) reach a screen's
//! behaviour through the registry; components build on the kernel and on navigation, and
//! the kernel and navigation never name a component.

pub mod access;
pub mod action;
pub mod auth;
pub mod bindings;
pub mod components;
pub mod effect;
pub mod input;
pub mod live;
pub(crate) mod navigation;
pub mod overlay;
mod overlay_keys;
pub(crate) mod reply;
pub(crate) mod request;
pub mod session;
pub mod state;
pub mod update;

use chrono::{DateTime, TimeDelta, Utc};
use echo5_core::tenants::TenantRef;
use std::collections::HashMap;

pub use action::{Action, ApiError, ApiReply, LogMsg, Reply, SecretOrigin, StreamMsg};
use components::{
    analytics, audit, dashboard, integrations, keys, leads, logs, notifications, plans,
    platform_settings, settings, sla, stages, tenants, usage, users, webhooks,
};
pub use effect::{
    Call, Effect, LeadChange, PlatformChange, Request, Scope, SecretField, SettingsChange,
    TenantChange,
};
use overlay::Overlay;
pub use state::{Conn, Remote};
use state::{Live, MAX_TOASTS, Toast, ToastLevel};
pub use update::update;

/// The screens, in the order Tab and the number keys use: [`components::REGISTRY`]'s order,
/// which also holds what each one is called and the component behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Dashboard,
    Tenants,
    Pipeline,
    Settings,
    Keys,
    Leads,
    Breaches,
    Analytics,
    Platform,
    AllLeads,
    Usage,
    Audit,
    Logs,
    /// One client: its figures, newest leads and quick actions.
    Overview,
    /// Analytics across clients, with a per-client breakdown.
    GlobalAnalytics,
    /// A tenant's users.
    Team,
    /// Platform users (owners).
    Users,
    /// The selected tenant's webhook endpoints.
    Webhooks,
    /// One endpoint's delivery log, opened from Webhooks.
    Deliveries,
    /// The selected tenant's ad sources (Google Ads, Meta Lead Ads).
    Integrations,
    /// The selected tenant's notifications: channels, rules, escalation, previews.
    Notifications,
    /// The platform's plans, and which clients are on each.
    Plans,
}

/// What a request's answer may overwrite; used for latest-wins ordering. Each belongs to
/// the component that lists it in [`components::Component::resources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Tenants,
    Stages,
    Settings,
    Keys,
    Dashboard,
    Leads,
    LeadDetail,
    Breaches,
    /// The lead of the breach open on the SLA screen.
    BreachLead,
    /// Its client's stages.
    BreachStages,
    Analytics,
    Platform,
    AllLeads,
    Usage,
    /// The log history fetch (the live tail is a stream, not a fetch).
    Logs,
    /// The selected client's newest leads, on its overview.
    RecentLeads,
    GlobalAnalytics,
    Audit,
    /// The selected tenant's users.
    Team,
    /// A lead's tenant's users, for the assignee chooser.
    Assignees,
    PlatformUsers,
    /// The selected tenant's webhook endpoints.
    Webhooks,
    /// The delivery log of the endpoint opened on the Webhooks screen.
    Deliveries,
    /// The selected tenant's ad sources and where each stands.
    Integrations,
    /// The selected tenant's notification settings.
    Notifications,
    /// One event's template rendered with a sample lead, on the Notifications screen.
    NotificationPreview,
    Plans,
}

/// Everything the console knows. Only [`update()`] changes it; the UI only reads it. What a
/// screen shows lives in its component's own type, under the component's name; the rest is
/// what the app around them needs: the connection, navigation, tenant, overlays, toasts and
/// the request bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub base_url: String,
    /// The clock as of the last tick; injected so rendering and timing are deterministic.
    pub now: DateTime<Utc>,
    pub conn: Conn,
    /// Last time any request got an HTTP answer; "stale Ns" counts from here.
    pub last_ok: Option<DateTime<Utc>>,
    /// When the next automatic refresh (or reconnect attempt) is due.
    pub next_poll: DateTime<Utc>,
    pub refresh_every: TimeDelta,

    pub screen: Screen,
    pub back: Vec<Screen>,
    /// Where to go once the tenant picker returns, when a per-tenant screen sent us there.
    pub after_pick: Option<Screen>,

    pub tenant: Option<TenantRef>,
    /// Bumped on every tenant switch; answers tagged with an older generation are dropped.
    pub tenant_gen: u64,
    pub live: Live,
    /// The admin token: where it comes from and whether the daemon takes it.
    pub auth: auth::Auth,
    /// `--login`: the user's session (unused with the admin token).
    pub session: session::Session,

    // What each component owns, under the component's name.
    pub tenants: tenants::Tenants,
    pub dashboard: dashboard::Dashboard,
    pub stages: stages::Stages,
    pub settings: settings::Settings,
    pub keys: keys::Keys,
    pub leads: leads::Leads,
    pub all_leads: leads::all::AllLeads,
    pub sla: sla::Sla,
    pub analytics: analytics::Analytics,
    pub platform_settings: platform_settings::Platform,
    pub usage: usage::Usage,
    pub logs: logs::Logs,
    pub overview: tenants::overview::Overview,
    pub global_analytics: analytics::global::GlobalAnalytics,
    pub audit: audit::Audit,
    pub team: users::Users,
    pub platform_users: users::Users,
    pub webhooks: webhooks::Webhooks,
    pub integrations: integrations::Integrations,
    pub notifications: notifications::Notifications,
    pub plans: plans::Plans,

    pub overlay: Option<Overlay>,
    pub toasts: Vec<Toast>,
    /// Mutations sent and not yet answered, shown as a busy marker.
    pub saving: u32,

    /// Source of request ids; ids only grow, which is what latest-wins compares.
    pub seq: u64,
    /// Per resource, the lowest request id whose answer may still be applied.
    pub floor: HashMap<Resource, u64>,

    /// Set by `update` when the screen must be redrawn.
    pub dirty: bool,
    pub quit: bool,
}

impl State {
    /// The scope of a request about the selected tenant: its answer is dropped once the
    /// operator has switched tenants.
    pub fn tenant_scope(&self) -> Scope {
        Scope::Tenant {
            generation: self.tenant_gen,
        }
    }

    pub fn new(base_url: impl Into<String>, now: DateTime<Utc>) -> Self {
        State {
            base_url: base_url.into(),
            now,
            conn: Conn::Connecting,
            last_ok: None,
            next_poll: now,
            refresh_every: TimeDelta::seconds(5),
            screen: Screen::Dashboard,
            back: Vec::new(),
            after_pick: None,
            tenant: None,
            tenant_gen: 0,
            live: Live::default(),
            auth: auth::Auth::default(),
            session: Default::default(),
            tenants: Default::default(),
            dashboard: Default::default(),
            stages: Default::default(),
            settings: Default::default(),
            keys: Default::default(),
            leads: Default::default(),
            all_leads: Default::default(),
            sla: Default::default(),
            analytics: Default::default(),
            platform_settings: Default::default(),
            usage: usage::Usage::new(now),
            logs: Default::default(),
            overview: Default::default(),
            global_analytics: Default::default(),
            audit: Default::default(),
            team: Default::default(),
            platform_users: Default::default(),
            webhooks: Default::default(),
            integrations: Default::default(),
            notifications: Default::default(),
            plans: Default::default(),
            overlay: None,
            toasts: Vec::new(),
            saving: 0,
            seq: 0,
            floor: HashMap::new(),
            dirty: true,
            quit: false,
        }
    }

    /// Data on screen may be out of date: the daemon is not answering.
    pub fn is_stale(&self) -> bool {
        self.conn.is_failing()
    }

    /// Seconds since the daemon last answered, for the "stale Ns" badge.
    pub fn stale_for(&self) -> Option<i64> {
        if !self.is_stale() {
            return None;
        }
        let since = match (self.last_ok, self.conn) {
            (Some(t), _) => t,
            (None, Conn::Degraded { since, .. } | Conn::Down { since, .. }) => since,
            (None, _) => self.now,
        };
        Some((self.now - since).num_seconds().max(0))
    }

    pub fn toast(&mut self, level: ToastLevel, text: impl Into<String>) {
        // Errors stay longer than confirmations: they are what the operator must read.
        let secs = match level {
            ToastLevel::Info => 4,
            ToastLevel::Error => 8,
            ToastLevel::Alert => 10,
        };
        let text = text.into();
        self.toasts.retain(|t| t.text != text);
        self.toasts.push(Toast {
            text,
            level,
            until: self.now + TimeDelta::seconds(secs),
        });
        if self.toasts.len() > MAX_TOASTS {
            let extra = self.toasts.len() - MAX_TOASTS;
            self.toasts.drain(..extra);
        }
        self.dirty = true;
    }

    /// What the components keep loaded whatever the screen, after `event` (`None`: a
    /// poll); see [`components::Component::background`].
    pub(crate) fn background(&self, event: Option<live::LiveEvent>) -> Vec<Resource> {
        let mut out = Vec::new();
        for s in Screen::all() {
            for r in s.component().background(self, event) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// The screen changed: what the toasts said was about the one left. Toasts raised
    /// since `shown` was taken (by the key that changed the screen) stay.
    pub(crate) fn drop_toasts_of_last_screen(&mut self, shown: &[Toast]) {
        let before = self.toasts.len();
        self.toasts.retain(|t| !shown.contains(t));
        self.dirty |= self.toasts.len() != before;
    }
}
