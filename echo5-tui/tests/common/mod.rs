//! Fixed data and a fixed clock for the console's tests, and helpers that drive `update`
//! the way the main loop does: keys in, effects out, answers fed back as actions.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use echo5_core::apikey::{ApiKey, KeyStatus};
use echo5_core::secret::{MaskedSecret, Secret};
use echo5_core::stage::{StageKind, StageSummary};
use echo5_core::tenant::{Tenant, TenantSettings};
use echo5_tui::api::ApiError;
use echo5_tui::app::{Action, ApiReply, Call, Effect, Reply, Request, SecretOrigin, State, update};
use uuid::Uuid;

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 30, 0)
        .single()
        .expect("valid date")
}

pub fn tenant_id(n: u128) -> Uuid {
    Uuid::from_u128(0x1000 + n)
}

pub fn stage_id(n: u128) -> Uuid {
    Uuid::from_u128(0x2000 + n)
}

fn settings(sla: u32, email: &str, kw: &[&str], meta: bool) -> TenantSettings {
    TenantSettings {
        sla_hours: sla,
        spam_keywords: kw.iter().map(|s| s.to_string()).collect(),
        manager_email: Some(email.into()),
        meta_access_token: if meta {
            MaskedSecret::from_last4(Some("1234".into()))
        } else {
            MaskedSecret::unset()
        },
        google_ads: MaskedSecret::unset(),
    }
}

pub fn tenants() -> Vec<Tenant> {
    let t = |n: u128, slug: &str, name: &str, active: bool, s: TenantSettings| Tenant {
        id: tenant_id(n),
        slug: slug.into(),
        name: name.into(),
        active,
        created_at: now() - chrono::TimeDelta::days(30 - n as i64),
        settings: s,
    };
    vec![
        t(
            1,
            "open-arms",
            "Open Arms",
            true,
            settings(
                24,
                "intake@openarms.example",
                &["casino", "crypto", "seo services"],
                true,
            ),
        ),
        t(
            2,
            "caring-hearts",
            "Caring Hearts",
            true,
            settings(
                4,
                "director@caringhearts.example",
                &["casino", "backlinks"],
                false,
            ),
        ),
        t(
            3,
            "family-first",
            "Family First",
            false,
            settings(12, "office@familyfirst.example", &[], false),
        ),
    ]
}

pub fn stages() -> Vec<StageSummary> {
    let s = |n: u128, name: &str, kind: StageKind, leads: u64| StageSummary {
        id: stage_id(n),
        name: name.into(),
        kind,
        lead_count: leads,
    };
    vec![
        s(1, "New", StageKind::Open, 31),
        s(2, "Contacted", StageKind::Open, 22),
        s(3, "Qualified", StageKind::Open, 0),
        s(4, "Tour Scheduled", StageKind::Open, 9),
        s(5, "Won", StageKind::Won, 40),
        s(6, "Lost", StageKind::Lost, 38),
    ]
}

pub fn key_id(n: u128) -> Uuid {
    Uuid::from_u128(0x3000 + n)
}

/// A made-up key of the real shape, fixed so snapshots are stable. Never a real key.
pub const FAKE_KEY: &str = "e5_FAKEfake0123456789snapshotONLY12";

/// Open Arms' keys, newest first as the daemon lists them: one in its grace period after a
/// rotation, one working, one expired, one revoked.
pub fn keys() -> Vec<ApiKey> {
    let h = chrono::TimeDelta::hours;
    let k = |n: u128, prefix: &str, label: &str, created: i64| ApiKey {
        id: key_id(n),
        tenant_id: tenant_id(1),
        prefix: prefix.into(),
        label: label.into(),
        status: KeyStatus::Active,
        created_at: now() - h(created),
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
        rotated_from: None,
    };
    let mut fresh = k(1, "e5_Zx9Qr", "openarms.com", 2);
    fresh.rotated_from = Some(key_id(2));
    fresh.last_used_at = Some(now() - chrono::TimeDelta::minutes(5));
    let mut grace = k(2, "e5_Ab3dE", "openarms.com", 24 * 40);
    grace.status = KeyStatus::Expiring;
    grace.expires_at = Some(now() + h(22));
    grace.last_used_at = Some(now() - h(3));
    let mut expired = k(3, "e5_Old11", "landing page", 24 * 90);
    expired.status = KeyStatus::Expired;
    expired.expires_at = Some(now() - h(72));
    expired.last_used_at = Some(now() - h(80));
    let mut revoked = k(4, "e5_Rev00", "staging site", 24 * 120);
    revoked.status = KeyStatus::Revoked;
    revoked.revoked_at = Some(now() - h(240));
    vec![fresh, grace, expired, revoked]
}

/// The daemon's answer to a create: a new key and its full value.
pub fn created_key(label: &str) -> Reply {
    let mut key = keys()[0].clone();
    key.id = key_id(9);
    key.prefix = FAKE_KEY[..8].to_string();
    key.label = label.into();
    key.created_at = now();
    key.last_used_at = None;
    key.rotated_from = None;
    Reply::KeySecret {
        key,
        secret: Secret::new(FAKE_KEY.to_string()),
        origin: SecretOrigin::Created,
    }
}

pub fn open_arms_settings() -> TenantSettings {
    tenants()[0].settings.clone()
}

pub fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn code(c: KeyCode) -> Action {
    Action::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Presses each character of `text` in turn, collecting effects.
pub fn typ(state: &mut State, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| update(state, key(c))).collect()
}

pub fn requests(effects: &[Effect]) -> Vec<Request> {
    effects
        .iter()
        .map(|e| match e {
            Effect::Api(r) => r.clone(),
        })
        .collect()
}

pub fn calls(effects: &[Effect]) -> Vec<Call> {
    requests(effects).into_iter().map(|r| r.call).collect()
}

/// Answers a request as the daemon would, returning the follow-up effects.
pub fn answer(state: &mut State, req: &Request, result: Result<Reply, ApiError>) -> Vec<Effect> {
    update(
        state,
        Action::Api(Box::new(ApiReply {
            id: req.id,
            scope: req.scope,
            call: req.call.clone(),
            result,
        })),
    )
}

/// The canned successful answer for a fetch.
pub fn canned(call: &Call) -> Option<Reply> {
    match call {
        Call::ListTenants => Some(Reply::Tenants(tenants())),
        Call::ListStages { .. } => Some(Reply::Stages(stages())),
        Call::GetSettings { .. } => Some(Reply::Settings(open_arms_settings())),
        Call::ListKeys { .. } => Some(Reply::Keys(keys())),
        _ => None,
    }
}

/// Answers every fetch in `effects` (and the fetches those answers cause) with canned data.
pub fn settle(state: &mut State, effects: Vec<Effect>) {
    let mut queue = requests(&effects);
    while let Some(req) = queue.pop() {
        if let Some(reply) = canned(&req.call) {
            let more = answer(state, &req, Ok(reply));
            queue.extend(requests(&more));
        }
    }
}

/// A console just started, with the tenant list loaded.
pub fn started() -> State {
    let mut s = State::new("http://127.0.0.1:8787", now());
    let fx = update(&mut s, Action::Tick(now()));
    settle(&mut s, fx);
    s.toasts.clear();
    s
}

/// Open Arms selected, on `screen` with its data loaded, toasts cleared.
pub fn on_tenant_screen(screen_key: char) -> State {
    let mut s = started();
    let fx = update(&mut s, key(':'));
    settle(&mut s, fx);
    typ(&mut s, "tenant open-arms");
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    let fx = update(&mut s, key(screen_key));
    settle(&mut s, fx);
    s.toasts.clear();
    s
}

pub fn unreachable() -> ApiError {
    ApiError::Unreachable("Connection refused (os error 111)".into())
}
