//! Fixed data and a fixed clock for the console's tests, and helpers that drive `update`
//! the way the main loop does: keys in, effects out, answers fed back as actions.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use echo5_core::analytics::{Analytics, Conversion, Count, DayCount, FirstContact, StageCount};
use echo5_core::dashboard::{Counts, Dashboard, TenantDashboard};
use echo5_core::keys::{ApiKey, KeyStatus};
use echo5_core::leads::LeadWithTenant;
use echo5_core::leads::{Assignee, Lead, LeadDetail, LeadSource, Note, StageMove};
use echo5_core::logs::LogLine;
use echo5_core::page::Page;
use echo5_core::platform_settings::{PlatformSettings, StageTemplate};
use echo5_core::secret::{MaskedSecret, Secret};
use echo5_core::sla::Breach;
use echo5_core::stages::{StageKind, StageSummary};
use echo5_core::tenants::TenantRef;
use echo5_core::usage::{KeyUsage, Month, TenantUsage, UsageReport};
use echo5_core::users::{Role, User};
use echo5_tui::app::ApiError;
use echo5_tui::app::effect::UserRealm;
use echo5_tui::app::{Action, ApiReply, Call, Effect, Reply, Request, SecretOrigin, State, update};
use uuid::Uuid;
use {echo5_core::settings::TenantSettings, echo5_core::tenants::Tenant};

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 30, 0)
        .single()
        .expect("valid date")
}

/// Open Arms' id (`tenant_id(1)`), for constants.
pub const OPEN_ARMS: Uuid = Uuid::from_u128(0x1001);

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
        default_country: "US".into(),
        auto_assign: Default::default(),
        meta_page_ids: Vec::new(),
        business_hours: None,
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
        plan_id: None,
        stripe_customer_id: None,
    };
    let mut all = vec![
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
    ];
    // Open Arms is on Pro and billed through Stripe; the others have no plan.
    all[0].plan_id = Some(plan_id(2));
    all[0].stripe_customer_id = Some("cus_OpenArms1".into());
    all
}

pub fn plan_id(n: u128) -> Uuid {
    Uuid::from_u128(0x7000 + n)
}

/// Starter, Pro (Open Arms is on it) and Agency, which has no limits.
pub fn plans() -> Vec<echo5_core::plans::Plan> {
    use echo5_core::plans::{Plan, PlanLimits};
    let p = |n: u128, name: &str, cents: u64, limits: PlanLimits, tenants: u64| Plan {
        id: plan_id(n),
        name: name.into(),
        price_cents: cents,
        currency: "EUR".into(),
        limits,
        created_at: now() - chrono::TimeDelta::days(60),
        tenants,
    };
    vec![
        p(
            1,
            "Starter",
            1900,
            PlanLimits {
                leads_per_month: Some(500),
                users: Some(3),
                api_keys: Some(2),
                webhooks: Some(1),
                retention_days: Some(365),
            },
            0,
        ),
        p(
            2,
            "Pro",
            4900,
            PlanLimits {
                leads_per_month: Some(2500),
                users: Some(10),
                api_keys: Some(5),
                webhooks: Some(5),
                retention_days: None,
            },
            1,
        ),
        p(3, "Agency", 129_900, PlanLimits::default(), 0),
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
        .filter_map(|e| match e {
            Effect::Api(r) => Some(r.clone()),
            _ => None,
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
        Call::Dashboard => Some(Reply::Dashboard(dashboard())),
        Call::ListLeads {
            cursor: None,
            filters,
            ..
        } => Some(Reply::Leads(Page {
            // The stage filter as the daemon applies it, so a filtered screen looks it.
            data: leads()
                .into_iter()
                .filter(|l| filters.stage.is_none_or(|s| l.stage_id == s))
                .collect(),
            next_cursor: Some("page2".into()),
        })),
        Call::ListLeads {
            cursor: Some(_), ..
        } => Some(Reply::Leads(Page {
            data: more_leads(),
            next_cursor: None,
        })),
        Call::GetLead { lead } => leads()
            .into_iter()
            .chain(more_leads())
            .find(|l| l.id == *lead)
            .map(|l| Reply::Lead(Box::new(lead_detail(l)))),
        Call::ListBreaches { tenant } => Some(Reply::Breaches(Page {
            data: breaches()
                .into_iter()
                .filter(|b| tenant.is_none_or(|t| b.tenant.id == t))
                .collect(),
            next_cursor: None,
        })),
        Call::GetBreachLead { lead } => breaches()
            .iter()
            .find(|b| b.lead_id == *lead)
            .map(|b| Reply::Lead(Box::new(breach_lead(b)))),
        Call::ListBreachStages { .. } => Some(Reply::Stages(stages())),
        Call::GetAnalytics { days, .. } => Some(Reply::Analytics(Box::new(analytics(*days)))),
        Call::GetPlatform => Some(Reply::Platform(Box::new(platform_settings()))),
        Call::ListAllLeads {
            tenants,
            cursor: None,
            ..
        } => Some(Reply::AllLeads(Page {
            data: all_leads()
                .into_iter()
                .filter(|r| tenants.is_empty() || tenants.contains(&r.tenant.slug))
                .collect(),
            next_cursor: Some("all2".into()),
        })),
        Call::ListAllLeads {
            cursor: Some(_), ..
        } => Some(Reply::AllLeads(Page {
            data: Vec::new(),
            next_cursor: None,
        })),
        Call::GetUsage { month } => Some(Reply::Usage(Box::new(usage(&month.to_string())))),
        Call::GetLogs { .. } => Some(Reply::Logs(log_lines(1, 30))),
        Call::RecentLeads { .. } => Some(Reply::Leads(Page {
            data: leads().into_iter().take(5).collect(),
            next_cursor: None,
        })),
        Call::GetGlobalAnalytics { tenants, days } => Some(Reply::GlobalAnalytics(Box::new(
            global_analytics(tenants, *days),
        ))),
        Call::ListAudit { cursor: None, .. } => Some(Reply::Audit(Page {
            data: audit_entries(1, 4),
            next_cursor: Some("audit2".into()),
        })),
        Call::ListAudit {
            cursor: Some(_), ..
        } => Some(Reply::Audit(Page {
            data: audit_entries(5, 6),
            next_cursor: None,
        })),
        Call::GetTenant { tenant } => tenants()
            .into_iter()
            .find(|t| t.id == *tenant)
            .map(|t| Reply::Tenants(vec![t])),
        Call::ListUsers {
            realm: UserRealm::Tenant(_),
        } => Some(Reply::Users(team())),
        Call::ListUsers {
            realm: UserRealm::Platform,
        } => Some(Reply::Users(platform_users())),
        Call::ListAssignees { .. } => Some(Reply::Users(team())),
        Call::ListWebhooks { .. } => Some(Reply::Webhooks(webhooks())),
        Call::ListPlans => Some(Reply::Plans(plans())),
        Call::ListIntegrations { .. } => Some(Reply::Integrations(integrations())),
        Call::GetNotifications { .. } => Some(Reply::Notifications(Box::new(notifications()))),
        Call::PreviewNotification { event, .. } => Some(Reply::NotificationPreview(Box::new(
            echo5_core::notifications::Rendered {
                subject: format!("[Open Arms] {} preview", event.as_str()),
                text: "Jane <Sample> Doe waited\x1b[31m past the SLA.\nOpen the lead: https://echo5.example/l".into(),
                html: "<p>Jane &lt;Sample&gt; Doe</p>".into(),
            },
        ))),
        Call::ListDeliveries {
            status,
            cursor: None,
            ..
        } => Some(Reply::Deliveries(Page {
            data: deliveries()
                .into_iter()
                .filter(|d| status.is_none_or(|s| d.status == s))
                .collect(),
            next_cursor: None,
        })),
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
    stream(&mut s, echo5_tui::app::StreamMsg::Opened);
    s.toasts.clear();
    s
}

/// A console just started, on the palette command's screen with its data loaded.
pub fn on_command(cmd: &str) -> State {
    let mut s = started();
    update(&mut s, key(':'));
    typ(&mut s, cmd);
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    s.toasts.clear();
    s
}

/// The log tail reporting `msg` on its current connection.
pub fn log_stream(state: &mut State, msg: echo5_tui::app::LogMsg) -> Vec<Effect> {
    let conn_id = state.logs.stream.conn_id;
    update(state, Action::LogStream { conn_id, msg })
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

pub fn tref(n: usize) -> TenantRef {
    let t = &tenants()[n];
    TenantRef {
        id: t.id,
        slug: t.slug.clone(),
        name: t.name.clone(),
    }
}

pub fn dashboard() -> Dashboard {
    let row = |n: usize, today, d7, d30, open, breach, oldest_h: Option<i64>| TenantDashboard {
        tenant: tref(n),
        active: tenants()[n].active,
        sla_hours: tenants()[n].settings.sla_hours,
        counts: Counts {
            today,
            last_7d: d7,
            last_30d: d30,
            open,
            in_breach: breach,
        },
        oldest_waiting: oldest_h.map(|h| now() - chrono::TimeDelta::hours(h)),
    };
    let tenants = vec![
        row(0, 3, 21, 88, 62, 4, Some(75)),
        row(1, 1, 9, 40, 17, 0, Some(2)),
        row(2, 0, 0, 3, 1, 0, None),
    ];
    let mut totals = Counts::default();
    for t in &tenants {
        totals.add(&t.counts);
    }
    Dashboard {
        generated_at: now(),
        tenants,
        totals,
    }
}

pub fn lead_id(n: u128) -> Uuid {
    Uuid::from_u128(0x4000 + n)
}

/// Open Arms' newest leads: the first page.
pub fn leads() -> Vec<Lead> {
    let names = [
        ("Maria Lopez", Some("maria@example.com"), None, 1, 2),
        ("Tom Becker", None, Some("5550101234"), 1, 30),
        ("Ana Souza", Some("ana.souza@example.org"), None, 2, 50),
        ("Kevin Walsh", Some("kwalsh@example.net"), None, 4, 70),
        (
            "Priya Natarajan",
            Some("priya@example.com"),
            Some("5550199999"),
            5,
            120,
        ),
        ("George Miller", Some("gmiller@example.com"), None, 6, 200),
    ];
    names
        .iter()
        .enumerate()
        .map(|(i, (name, email, phone, stage, hours))| {
            let at = now() - chrono::TimeDelta::hours(*hours);
            let mut l = Lead::blank(lead_id(i as u128 + 1), tenant_id(1), stage_id(*stage), at);
            l.name = Some(name.to_string());
            l.email = email.map(String::from);
            l.phone = phone.map(String::from);
            l.source = [LeadSource::Website, LeadSource::Meta, LeadSource::Google][i % 3];
            l
        })
        .collect()
}

/// The second (last) page.
pub fn more_leads() -> Vec<Lead> {
    (0..2)
        .map(|i| {
            let at = now() - chrono::TimeDelta::hours(300 + i);
            let mut l = Lead::blank(lead_id(100 + i as u128), tenant_id(1), stage_id(6), at);
            l.name = Some(format!("Older Lead {i}"));
            l.email = Some(format!("older{i}@example.com"));
            l
        })
        .collect()
}

pub fn lead_detail(l: Lead) -> LeadDetail {
    let mut l = l;
    let history = if l.stage_id == stage_id(1) {
        Vec::new()
    } else {
        vec![StageMove {
            from_stage: Some(stage_id(1)),
            to_stage: l.stage_id,
            at: l.created_at + chrono::TimeDelta::hours(1),
            // As the daemon names the admin token; the console shows "admin".
            by: "admin:0190c0de-0000-7000-8000-00000000a001".into(),
        }]
    };
    if l.id == lead_id(1) {
        l.notes = vec![Note {
            id: Uuid::from_u128(0x5001),
            text: "Called back, left voicemail.".into(),
            author: "admin".into(),
            at: l.created_at + chrono::TimeDelta::minutes(30),
        }];
        l.assigned_to = Some(dana());
        l.message = Some("Looking for care for my mother, 3 days a week.".into());
    }
    let assignee = l.assigned_to.map(|id| Assignee {
        id,
        name: "Dana Reyes".into(),
        email: "dana@openarms.example".into(),
        active: true,
    });
    LeadDetail {
        in_breach: false,
        tenant: tref(0),
        history,
        assignee,
        lead: l,
    }
}

/// The user id of Dana, a manager of Open Arms.
pub fn dana() -> Uuid {
    Uuid::from_u128(0x0190_c0de_0000_7000_8000_0000_0000_d001)
}

pub fn breaches() -> Vec<Breach> {
    let b = |n: u128, t: usize, name: &str, email: &str, hours_ago: i64, sla: i64| {
        let created = now() - chrono::TimeDelta::hours(hours_ago);
        let deadline = created + chrono::TimeDelta::hours(sla);
        Breach {
            lead_id: lead_id(200 + n),
            tenant: tref(t),
            name: Some(name.into()),
            email: Some(email.into()),
            phone: None,
            created_at: created,
            deadline,
            overdue_minutes: (now() - deadline).num_minutes(),
            assigned_to: None,
        }
    };
    vec![
        b(1, 0, "Harold Finch", "harold@example.com", 120, 24),
        b(2, 1, "June Park", "june@example.org", 30, 4),
        b(3, 0, "Sam Reyes", "sam@example.net", 26, 24),
    ]
}

/// A breach's lead as `GET /api/v1/leads/{id}` has it: waiting in the first stage.
pub fn breach_lead(b: &Breach) -> LeadDetail {
    let mut l = Lead::blank(b.lead_id, b.tenant.id, stage_id(1), b.created_at);
    l.name = b.name.clone();
    l.email = b.email.clone();
    if b.lead_id == lead_id(201) {
        l.notes = vec![Note {
            id: Uuid::from_u128(0x5201),
            text: "Left a voicemail.".into(),
            author: "admin".into(),
            at: b.created_at + chrono::TimeDelta::minutes(20),
        }];
    }
    LeadDetail {
        in_breach: true,
        tenant: b.tenant.clone(),
        history: Vec::new(),
        assignee: None,
        lead: l,
    }
}

/// A breach that was not in [`breaches`]: Open Arms' lead that has just passed its SLA.
pub fn fresh_breach() -> Breach {
    let created = now() - chrono::TimeDelta::hours(25);
    let deadline = created + chrono::TimeDelta::hours(24);
    Breach {
        lead_id: lead_id(209),
        tenant: tref(0),
        name: Some("Nina Fresh".into()),
        email: Some("nina@example.com".into()),
        phone: None,
        created_at: created,
        deadline,
        overdue_minutes: (now() - deadline).num_minutes(),
        assigned_to: None,
    }
}

pub fn analytics(days: u32) -> Analytics {
    let st = stages();
    let per_day = (0..days)
        .map(|i| DayCount {
            day: (now() - chrono::TimeDelta::days(i64::from(days - 1 - i))).date_naive(),
            count: u64::from((i * 7 + 3) % 9),
        })
        .collect();
    // Lost is not a step of the funnel: the API reaches nobody there (`reached` 0).
    let reached = [120u64, 70, 41, 30, 22, 0];
    let by_stage: Vec<StageCount> = st
        .iter()
        .zip(reached)
        .map(|(s, r)| StageCount {
            stage_id: s.id,
            name: s.name.clone(),
            kind: s.kind,
            count: s.lead_count,
            reached: r,
        })
        .collect();
    let conversion = st
        .windows(2)
        .take(4)
        .zip(reached.windows(2))
        .map(|(w, r)| Conversion {
            from_stage: w[0].id,
            to_stage: w[1].id,
            rate: Some(r[1] as f64 / r[0] as f64),
        })
        .collect();
    Analytics {
        from: now() - chrono::TimeDelta::days(i64::from(days)),
        to: now(),
        total: 120,
        by_stage,
        conversion,
        won_rate: Some(22.0 / 120.0),
        by_source: vec![
            Count {
                key: "website".into(),
                count: 64,
            },
            Count {
                key: "meta".into(),
                count: 31,
            },
            Count {
                key: "google".into(),
                count: 20,
            },
            Count {
                key: "manual".into(),
                count: 5,
            },
        ],
        by_utm_source: Vec::new(),
        by_utm_campaign: Vec::new(),
        per_day,
        first_contact: FirstContact {
            contacted: 98,
            median_minutes: Some(42.0),
            p90_minutes: Some(610.0),
        },
    }
}

pub fn platform_settings() -> PlatformSettings {
    let st = |name: &str, kind| StageTemplate {
        name: name.into(),
        kind,
    };
    PlatformSettings {
        default_stages: vec![
            st("New", StageKind::Open),
            st("Contacted", StageKind::Open),
            st("Qualified", StageKind::Open),
            st("Won", StageKind::Won),
            st("Lost", StageKind::Lost),
        ],
        default_sla_hours: 24,
        default_spam_keywords: vec!["casino".into(), "crypto".into()],
        honeypot_fields: vec!["website_url".into(), "hp_check".into()],
        default_grace_hours: 24,
        operator_name: Some("Agency Ops".into()),
        operator_email: None,
        meta_verify_token: None,
        meta_app_secret: Default::default(),
        stripe_meter_event_name: None,
        stripe_secret_key: Default::default(),
    }
}

/// Leads of two tenants, newest first, as `GET /api/v1/leads` lists them.
pub fn all_leads() -> Vec<LeadWithTenant> {
    let rows = [
        (
            1u128,
            0usize,
            "Maria Lopez",
            Some("maria@example.com"),
            None,
            2i64,
        ),
        (2, 1, "June Park", Some("june@example.org"), None, 5),
        (3, 0, "Tom Becker", None, Some("5550101234"), 30),
        (
            4,
            1,
            "Dev Patel",
            Some("dev@example.net"),
            Some("5550109876"),
            50,
        ),
        (5, 0, "Ana Souza", Some("ana.souza@example.org"), None, 70),
    ];
    rows.iter()
        .map(|(n, t, name, email, phone, hours)| {
            let at = now() - chrono::TimeDelta::hours(*hours);
            let mut l = Lead::blank(lead_id(500 + n), tenant_id(*t as u128 + 1), stage_id(1), at);
            l.name = Some(name.to_string());
            l.email = email.map(String::from);
            l.phone = phone.map(String::from);
            l.source = [LeadSource::Website, LeadSource::Meta][*n as usize % 2];
            if *n == 4 {
                l.is_spam = true;
            }
            LeadWithTenant {
                lead: l,
                tenant: tref(*t),
            }
        })
        .collect()
}

pub fn usage(month: &str) -> UsageReport {
    let key = |prefix: Option<&str>, name: Option<&str>, acc: u64, rej: u64, calls: u64| KeyUsage {
        key_id: prefix.map(|_| key_id(1)),
        prefix: prefix.map(String::from),
        name: name.map(String::from),
        accepted: acc,
        spam: 0,
        duplicates: 0,
        rejected: rej,
        api_calls: calls,
    };
    let row = |t: usize,
               acc: u64,
               spam: u64,
               dup: u64,
               rej: u64,
               calls: u64,
               bytes: u64,
               active: bool,
               keys: Vec<KeyUsage>| TenantUsage {
        tenant: tref(t),
        accepted: acc,
        spam,
        duplicates: dup,
        rejected: rej,
        api_calls: calls,
        storage_bytes: bytes,
        last_lead_at: active.then(|| now() - chrono::TimeDelta::hours(3 + t as i64)),
        active,
        keys,
        plan: None,
    };
    let tenants = vec![
        row(
            0,
            1284,
            37,
            12,
            5,
            1391,
            12_897_331,
            true,
            vec![
                key(Some("e5_Zx9Qr"), Some("openarms.com"), 1200, 2, 1250),
                key(Some("e5_Ab3dE"), Some("landing page"), 84, 0, 84),
                key(None, None, 0, 3, 57),
            ],
        ),
        row(
            1,
            312,
            4,
            2,
            0,
            320,
            2_410_112,
            true,
            vec![key(Some("e5_Cc7Hh"), Some("caringhearts.org"), 312, 0, 320)],
        ),
        row(2, 0, 0, 0, 0, 0, 18_000, false, Vec::new()),
    ];
    // Core's constructor: totals summed over the rows, active tenants counted.
    UsageReport::new(Month::parse(month).expect("a YYYY-MM month"), tenants)
}

/// Log lines `from..=to`, one a second, line 30 at `now`; levels mixed.
pub fn log_lines(from: u64, to: u64) -> Vec<LogLine> {
    (from..=to)
        .map(|seq| {
            let (level, target, message) = match seq % 7 {
                0 => (
                    "WARN",
                    "echo5d::monitor",
                    format!("smtp send failed, retrying in 5s (alert {seq})"),
                ),
                3 => (
                    "ERROR",
                    "echo5d::routes::ingest",
                    format!("storage unavailable: database is locked (request {seq})"),
                ),
                5 => (
                    "DEBUG",
                    "echo5d::events",
                    format!("event {seq} sent to 2 subscribers"),
                ),
                _ => (
                    "INFO",
                    "echo5d::routes",
                    format!("POST /api/v1/leads 200 tenant=open-arms lead={seq}"),
                ),
            };
            LogLine {
                seq,
                time: now() + chrono::TimeDelta::seconds(seq as i64 - 30),
                level: level.into(),
                target: target.into(),
                message,
            }
        })
        .collect()
}

/// The live stream reporting `msg` on the current connection.
pub fn stream(state: &mut State, msg: echo5_tui::app::StreamMsg) -> Vec<Effect> {
    let conn_id = state.live.conn_id;
    update(state, Action::Stream { conn_id, msg })
}

pub fn event(kind: &str, id: u64, tenant: Option<Uuid>) -> echo5_tui::app::StreamMsg {
    echo5_tui::app::StreamMsg::Event {
        id: Some(id),
        kind: kind.into(),
        tenant,
    }
}

/// What `GET /api/v1/analytics` answers for the fixture tenants (`slugs`, none = all):
/// each tenant's analytics scaled from [`analytics`], summed by core's rule.
pub fn global_analytics(slugs: &[String], days: u32) -> echo5_core::analytics::GlobalAnalytics {
    use echo5_core::analytics::{self, TenantAnalytics};
    let by_tenant: Vec<TenantAnalytics> = (0..tenants().len())
        .filter(|i| slugs.is_empty() || slugs.contains(&tenants()[*i].slug))
        .map(|i| {
            let mut a = analytics(days);
            let div = i as u64 + 1;
            a.total /= div;
            for s in &mut a.by_stage {
                s.count /= div;
                s.reached /= div;
            }
            for c in &mut a.by_source {
                c.count /= div;
            }
            a.first_contact.contacted /= div;
            a.first_contact.median_minutes = Some(42.0 * div as f64);
            // Consistent figures: every lead sits in one stage, and the rate follows.
            a.total = a.by_stage.iter().map(|s| s.count).sum();
            let won: u64 = a
                .by_stage
                .iter()
                .filter(|s| s.kind == StageKind::Won)
                .map(|s| s.count)
                .sum();
            a.won_rate = Some(won as f64 / a.total as f64);
            TenantAnalytics {
                tenant: tref(i),
                analytics: a,
            }
        })
        .collect();
    echo5_core::analytics::GlobalAnalytics {
        from: now() - chrono::TimeDelta::days(i64::from(days)),
        to: now(),
        days,
        totals: analytics::sum(&by_tenant),
        by_tenant,
    }
}

/// Audit rows, newest first: ids `to` down to `from`, an hour apart, the newest ten
/// minutes ago, about Open Arms and Caring Hearts in turn.
pub fn audit_entries(from: i64, to: i64) -> Vec<echo5_core::audit::AuditEntry> {
    (from..=to)
        .map(|i| {
            let (action, details) = match i % 3 {
                1 => (
                    "lead.note_added",
                    serde_json::json!({"note_id": "0190c0de-0000-7000-8000-00000000b001", "chars": 22}),
                ),
                2 => (
                    "lead.updated",
                    serde_json::json!({"changed": ["stage_id"], "stage_id": stage_id(2)}),
                ),
                _ => ("settings.updated", serde_json::json!({"changed": ["sla_hours"]})),
            };
            echo5_core::audit::AuditEntry {
                id: 1000 - i,
                at: now() - chrono::TimeDelta::minutes(10 + 60 * (i - 1)),
                actor: if i == 4 {
                    "system".into()
                } else {
                    "admin:0190c0de-0000-7000-8000-00000000a001".into()
                },
                action: action.into(),
                tenant: Some(tref(((i - 1) % 2) as usize)),
                target: Some(lead_id(1).to_string()),
                details,
                by: None,
            }
        })
        .collect()
}

/// A password typed in tests; asserted never to show anywhere.
pub const PASSWORD: &str = "Correct-Horse-7-Battery";

pub fn user_id(n: u128) -> Uuid {
    Uuid::from_u128(0x5000 + n)
}

/// A user of `tenant` (`None`: a platform user) with the role's permissions.
pub fn user(n: u128, email: &str, name: &str, role: Role, tenant: Option<Uuid>) -> User {
    User {
        id: user_id(n),
        tenant,
        email: email.into(),
        name: name.into(),
        role,
        permissions: role.default_permissions(),
        active: true,
        created_at: now() - chrono::TimeDelta::days(20),
        last_login_at: Some(now() - chrono::TimeDelta::hours(n as i64)),
    }
}

/// Open Arms' team: an admin, a manager, an agent given `edit_leads`, and a deactivated
/// agent who never logged in.
pub fn team() -> Vec<User> {
    let t = Some(tenant_id(1));
    let mut agent = user(3, "tom@openarms.example", "Tom Agent", Role::Agent, t);
    agent.permissions.edit_leads = true;
    let mut gone = user(4, "old@openarms.example", "Old Agent", Role::Agent, t);
    gone.active = false;
    gone.last_login_at = None;
    vec![
        user(1, "ada@openarms.example", "Ada Admin", Role::Admin, t),
        user(
            2,
            "maria@openarms.example",
            "Maria Manager",
            Role::Manager,
            t,
        ),
        agent,
        gone,
    ]
}

pub fn platform_users() -> Vec<User> {
    vec![
        user(10, "owner@echo5.example", "Olive Owner", Role::Owner, None),
        user(11, "second@echo5.example", "Sam Second", Role::Owner, None),
    ]
}

/// A `--login` console before any key press.
pub fn login_console(email: &str) -> State {
    let mut s = State::new("http://127.0.0.1:8787", now());
    echo5_tui::app::session::start(&mut s, email);
    s
}

/// Types the password, answers the login with `user` and `/me` with the same user, and
/// settles the fetches that follow: a console logged in as `user`.
pub fn logged_in_as(u: User) -> State {
    let mut s = login_console(&u.email);
    let fx = log_in(&mut s, &u);
    settle(&mut s, fx);
    stream(&mut s, echo5_tui::app::StreamMsg::Opened);
    s.toasts.clear();
    s
}

/// The password typed and Enter; the login and `/me` answered with `u`. Returns what
/// `/me`'s answer caused.
pub fn log_in(s: &mut State, u: &User) -> Vec<Effect> {
    typ(s, PASSWORD);
    let fx = update(s, code(KeyCode::Enter));
    let login = requests(&fx).into_iter().next().expect("a login request");
    let fx = answer(
        s,
        &login,
        Ok(Reply::LoggedIn {
            expires_at: now() + chrono::TimeDelta::minutes(30),
            user: Box::new(u.clone()),
        }),
    );
    let me = requests(&fx).into_iter().next().expect("a /me request");
    assert_eq!(me.call, Call::Me);
    answer(s, &me, Ok(Reply::Me(Box::new(u.clone()))))
}

pub fn http_error(status: u16, code: &str, message: &str) -> ApiError {
    ApiError::Http {
        status,
        detail: echo5_core::ErrorDetail {
            code: code.into(),
            message: message.into(),
            field: None,
        },
    }
}

pub fn webhook_id(n: u128) -> Uuid {
    Uuid::from_u128(0x6000 + n)
}

/// A made-up signing secret of the real shape, fixed so snapshots are stable.
pub const FAKE_WEBHOOK_SECRET: &str = "whsec_RkFLRWZha2Vfc25hcHNob3RPTkxZ";

/// Open Arms' webhook endpoints: one active for every event, one paused by a user, one
/// the daemon disabled after a 410.
pub fn webhooks() -> Vec<echo5_core::webhooks::Webhook> {
    use echo5_core::webhooks::Webhook;
    let w = |n: u128, url: &str, events: &[&str], desc: &str| Webhook {
        id: webhook_id(n),
        tenant_id: tenant_id(1),
        url: url.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        description: desc.into(),
        active: true,
        disabled_reason: None,
        created_at: now() - chrono::TimeDelta::days(10 + n as i64),
        updated_at: now() - chrono::TimeDelta::days(n as i64),
        previous_secret_expires_at: None,
    };
    let crm = w(
        1,
        "https://crm.openarms.example/api/echo5/leads",
        &["*"],
        "CRM intake",
    );
    let mut zap = w(
        2,
        "https://hooks.zapier.example/hooks/catch/1234/abcd",
        &["lead.created", "lead.stage_changed"],
        "Zapier: leads sheet",
    );
    zap.active = false;
    let mut n8n = w(
        3,
        "https://n8n.oldagency.example/webhook/breaches",
        &["sla.breached"],
        "old n8n flow",
    );
    n8n.active = false;
    n8n.disabled_reason = Some("gone".into());
    vec![crm, zap, n8n]
}

/// What a receiver may answer: an attacker's terminal escapes (clear screen, set the
/// title, a hyperlink) and line breaks, which must never reach the terminal.
pub const HOSTILE_ANSWER: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}<html>\r\nbad\u{1b}[31m gateway\u{1b}]8;;http://evil.example\u{7}x";

/// The CRM endpoint's deliveries, newest first: one failing with a hostile answer, one
/// retrying after a timeout, one delivered.
pub fn deliveries() -> Vec<echo5_core::webhooks::Delivery> {
    use echo5_core::webhooks::{Attempt, Delivery, DeliveryStatus, EventType};
    let m = chrono::TimeDelta::minutes;
    let attempt =
        |ago: i64, code: Option<u16>, ms: u64, response: &str, error: Option<&str>| Attempt {
            at: now() - m(ago),
            status_code: code,
            duration_ms: ms,
            response: response.into(),
            error: error.map(str::to_string),
        };
    vec![
        Delivery {
            message_id: "msg_2x7QfailHostile".into(),
            event_type: EventType::SlaBreached,
            status: DeliveryStatus::Failed,
            created_at: now() - m(300),
            next_attempt_at: None,
            attempts: vec![
                attempt(300, Some(502), 120, HOSTILE_ANSWER, None),
                attempt(295, None, 15_000, "", Some("timeout")),
                attempt(60, Some(500), 87, "internal error", None),
            ],
        },
        Delivery {
            message_id: "msg_2x7PpendRetry".into(),
            event_type: EventType::LeadStageChanged,
            status: DeliveryStatus::Pending,
            created_at: now() - m(20),
            next_attempt_at: Some(now() + m(10)),
            attempts: vec![
                attempt(20, None, 3, "", Some("connection refused")),
                attempt(19, Some(503), 41, "busy", None),
            ],
        },
        Delivery {
            message_id: "msg_2x7Nsucceeded".into(),
            event_type: EventType::LeadCreated,
            status: DeliveryStatus::Succeeded,
            created_at: now() - m(90),
            next_attempt_at: None,
            attempts: vec![attempt(90, Some(200), 35, "{\"ok\":true}", None)],
        },
    ]
}

/// The daemon's answer to a create or a rotation of `webhooks()[n]`: it with a secret.
pub fn webhook_secret(n: usize, rotated: bool) -> Reply {
    let mut w = webhooks()[n].clone();
    if rotated {
        w.previous_secret_expires_at = Some(now() + chrono::TimeDelta::hours(24));
    }
    Reply::WebhookSecret {
        webhook: Box::new(w),
        secret: Secret::new(FAKE_WEBHOOK_SECRET.to_string()),
        rotated,
    }
}

/// A tenant's ad sources: Google taking leads; Meta broken by a refused token, its error
/// carrying an escape sequence (as text from another party may).
pub fn integrations() -> Vec<echo5_core::integrations::Integration> {
    use echo5_core::integrations::{Integration, IntegrationSource, IntegrationState};
    vec![
        Integration {
            source: IntegrationSource::Google,
            state: IntegrationState::Ok,
            last_lead_at: Some(now() - chrono::TimeDelta::minutes(12)),
            last_error: None,
            last_error_at: None,
            broken_since: None,
            missing: Vec::new(),
        },
        Integration {
            source: IntegrationSource::Meta,
            state: IntegrationState::Broken,
            last_lead_at: Some(now() - chrono::TimeDelta::hours(26)),
            last_error: Some(
                "Graph API error 190/463 (OAuthException), HTTP 400: Error validating access \
                 token: Session has expired\u{1b}[31m"
                    .into(),
            ),
            last_error_at: Some(now() - chrono::TimeDelta::hours(2)),
            broken_since: Some(now() - chrono::TimeDelta::hours(2)),
            missing: Vec::new(),
        },
    ]
}

/// Open Arms' notification settings: e-mail to one more address, Slack set up (URL
/// masked), no SMS; breaches to e-mail and Slack; two escalation steps; a digest at 08:00.
pub fn notifications() -> echo5_core::notifications::Notifications {
    serde_json::from_value(serde_json::json!({
        "channels": {
            "email": {"to": ["ops@openarms.example"]},
            "slack": {"webhook_url": {"set": true, "last4": "cret"}},
            "sms": null,
            "sendgrid": null
        },
        "rules": {"sla.breached": ["email", "slack"], "digest.daily": ["email"]},
        "escalation": [
            {"after_hours": 2, "to": [], "channels": ["slack"]},
            {"after_hours": 8, "to": ["owner@openarms.example"], "channels": ["email"]}
        ],
        "branding": {"display_name": "Open Arms Care"},
        "templates": {"sla.breached": {"subject": "Breach: {{ lead.name }}"}},
        "digest": {"time": "08:00", "timezone": "America/Chicago"}
    }))
    .expect("a valid notifications document")
}
