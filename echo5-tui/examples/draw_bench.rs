//! Draw time of a 200-row table at 120×40, against an empty frame in the same run; also
//! the All leads table (200 rows over 20 tenants) and the Logs screen with a full
//! 5,000-line buffer, following a live tail.
//!
//! `cargo run --release -p echo5-tui --example draw_bench [iterations]`
//!
//! The Leads screen is measured with 200 leads loaded (table alone, and with the detail
//! pane beside it); the Keys and Dashboard tables are kept for comparison. Each
//! iteration moves the cursor so every frame differs from the one before (a real redraw,
//! not an empty diff). Times are for `Terminal::draw` on ratatui's `TestBackend`: building
//! the frame, diffing it against the previous one and writing the changed cells, which is
//! everything but the terminal's own I/O. The key press that moves the cursor is not timed.

use chrono::{TimeDelta, TimeZone, Utc};
use echo5_core::dashboard::{Counts, Dashboard, TenantDashboard};
use echo5_core::keys::{ApiKey, KeyStatus};
use echo5_core::leads::LeadWithTenant;
use echo5_core::leads::{Lead, LeadSource};
use echo5_core::logs::LogLine;
use echo5_core::secret::MaskedSecret;
use echo5_core::stages::{StageKind, StageSummary};
use echo5_tui::app::{Action, LogMsg, Screen, State, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};
use uuid::Uuid;
use {
    echo5_core::settings::TenantSettings,
    echo5_core::tenants::{Tenant, TenantRef},
};

const W: u16 = 120;
const H: u16 = 40;
const ROWS: usize = 200;

fn state() -> State {
    let now = Utc
        .with_ymd_and_hms(2026, 3, 2, 9, 30, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let mut s = State::new("http://127.0.0.1:8787", now);
    let tenant = Uuid::from_u128(1);
    s.tenant = Some(TenantRef {
        id: tenant,
        slug: "open-arms".into(),
        name: "Open Arms".into(),
    });
    let statuses = [
        KeyStatus::Active,
        KeyStatus::Expiring,
        KeyStatus::Expired,
        KeyStatus::Revoked,
    ];
    s.keys.remote.data = Some(
        (0..ROWS)
            .map(|i| {
                let status = statuses[i % 4];
                let h = TimeDelta::hours(i as i64 + 1);
                ApiKey {
                    id: Uuid::from_u128(0x1000 + i as u128),
                    tenant_id: tenant,
                    prefix: format!("e5_{i:05}"),
                    label: format!("site-{i}.example.org contact form"),
                    status,
                    created_at: now - h * 24,
                    last_used_at: (i % 3 != 0).then(|| now - h),
                    expires_at: match status {
                        KeyStatus::Expiring => Some(now + h),
                        KeyStatus::Expired => Some(now - h),
                        _ => None,
                    },
                    revoked_at: (status == KeyStatus::Revoked).then(|| now - h),
                    rotated_from: None,
                }
            })
            .collect(),
    );
    s.tenants.remote.data = Some(
        (0..ROWS)
            .map(|i| Tenant {
                id: Uuid::from_u128(0x2000 + i as u128),
                slug: format!("tenant-{i}"),
                name: format!("Home Care Agency {i}"),
                active: i % 7 != 0,
                created_at: now,
                settings: TenantSettings {
                    sla_hours: 24,
                    spam_keywords: Vec::new(),
                    manager_email: None,
                    default_country: "US".into(),
                    auto_assign: Default::default(),
                    meta_page_ids: Vec::new(),
                    business_hours: None,
                    meta_access_token: MaskedSecret::unset(),
                    google_ads: MaskedSecret::unset(),
                },
            })
            .collect(),
    );
    s.dashboard.remote.data = Some(Dashboard {
        generated_at: now,
        tenants: s
            .tenants
            .remote
            .data
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, t)| TenantDashboard {
                tenant: TenantRef {
                    id: t.id,
                    slug: t.slug.clone(),
                    name: t.name.clone(),
                },
                active: t.active,
                sla_hours: 24,
                counts: Counts {
                    today: i as u64 % 5,
                    last_7d: i as u64 % 40,
                    last_30d: i as u64 % 120,
                    open: i as u64 % 60,
                    in_breach: i as u64 % 3,
                },
                oldest_waiting: (i % 4 != 0).then(|| now - TimeDelta::hours(i as i64)),
            })
            .collect(),
        totals: Counts::default(),
    });
    let stages = [
        "New",
        "Contacted",
        "Qualified",
        "Tour Scheduled",
        "Won",
        "Lost",
    ];
    s.stages.remote.data = Some(
        stages
            .iter()
            .enumerate()
            .map(|(i, name)| StageSummary {
                id: Uuid::from_u128(0x3000 + i as u128),
                name: name.to_string(),
                kind: match i {
                    4 => StageKind::Won,
                    5 => StageKind::Lost,
                    _ => StageKind::Open,
                },
                lead_count: 0,
            })
            .collect(),
    );
    let sources = [
        LeadSource::Website,
        LeadSource::Meta,
        LeadSource::Google,
        LeadSource::Manual,
    ];
    s.leads.remote.data = Some(
        (0..ROWS)
            .map(|i| {
                let at = now - TimeDelta::minutes(37 * i as i64);
                let mut l = Lead::blank(
                    Uuid::from_u128(0x4000 + i as u128),
                    tenant,
                    Uuid::from_u128(0x3000 + (i % 6) as u128),
                    at,
                );
                l.name = Some(format!("Lead Person {i}"));
                l.email = (i % 3 != 0).then(|| format!("person{i}@example-family.org"));
                l.phone = Some(format!("555010{i:04}"));
                l.source = sources[i % 4];
                l
            })
            .collect(),
    );
    s.all_leads.remote.data = Some(
        s.leads
            .remote
            .data
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, l)| {
                let t = i % 20;
                LeadWithTenant {
                    lead: l.clone(),
                    tenant: TenantRef {
                        id: Uuid::from_u128(0x2000 + t as u128),
                        slug: format!("tenant-{t}"),
                        name: format!("Home Care Agency {t}"),
                    },
                }
            })
            .collect(),
    );
    s.logs.lines = (1..=LOG_LINES as u64)
        .map(|seq| log_line(now, seq))
        .collect();
    s
}

const LOG_LINES: usize = 5000;

fn log_line(now: chrono::DateTime<Utc>, seq: u64) -> LogLine {
    let (level, target, message) = match seq % 7 {
        0 => (
            "WARN",
            "echo5d::monitor",
            format!(
                "SLA alert not sent; will retry alert={seq} attempts=2 error=connection refused"
            ),
        ),
        3 => (
            "ERROR",
            "echo5d::routes::ingest",
            format!("storage unavailable: database is locked request={seq}"),
        ),
        _ => (
            "INFO",
            "echo5d::routes::keys",
            format!(
                "api key created key=e5_{seq:05} tenant=tenant-{} by=admin",
                seq % 20
            ),
        ),
    };
    LogLine {
        seq,
        time: now + TimeDelta::milliseconds(seq as i64 * 250),
        level: level.into(),
        target: target.into(),
        message,
    }
}

struct Stats {
    median: Duration,
    p99: Duration,
    mean: Duration,
}

/// `f` does one frame's work and returns how long the part being measured took.
fn measure(n: usize, mut f: impl FnMut(usize) -> Duration) -> Stats {
    for i in 0..n / 10 {
        f(i);
    }
    let mut times: Vec<Duration> = (0..n).map(&mut f).collect();
    times.sort();
    let total: Duration = times.iter().sum();
    Stats {
        median: times[n / 2],
        p99: times[n * 99 / 100],
        mean: total / n as u32,
    }
}

fn report(name: &str, s: &Stats) {
    println!(
        "{name:<34} median {:>8.1} µs   p99 {:>8.1} µs   mean {:>8.1} µs",
        s.median.as_secs_f64() * 1e6,
        s.p99.as_secs_f64() * 1e6,
        s.mean.as_secs_f64() * 1e6
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2000)
        .max(10);
    let mut term = Terminal::new(TestBackend::new(W, H))?;
    let mut state = state();
    let down = Action::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('j'),
        crossterm::event::KeyModifiers::NONE,
    ));
    let up = Action::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('k'),
        crossterm::event::KeyModifiers::NONE,
    ));

    println!("{W}x{H}, {ROWS} rows, {n} frames each (release build expected)\n");
    let empty = measure(n, |_| {
        let t = Instant::now();
        let _ = term.draw(|_| {});
        t.elapsed()
    });
    report("empty frame", &empty);

    let table = |state: &mut State, screen: Screen, term: &mut Terminal<TestBackend>| {
        state.screen = screen;
        measure(n, |i| {
            // Down for 30 rows then back up: the viewport scrolls and every frame changes.
            let a = if (i / 30) % 2 == 0 { &down } else { &up };
            update(state, a.clone());
            let t = Instant::now();
            let _ = term.draw(|f| echo5_tui::ui::draw(f, state));
            t.elapsed()
        })
    };
    let leads = table(&mut state, Screen::Leads, &mut term);
    report("Leads table, 200 rows", &leads);
    let keys = table(&mut state, Screen::Keys, &mut term);
    report("Keys table, 200 rows", &keys);
    let dash = table(&mut state, Screen::Dashboard, &mut term);
    report("Dashboard table, 200 rows", &dash);
    let all = table(&mut state, Screen::AllLeads, &mut term);
    report("All leads table, 200 rows", &all);
    // Logs, following: one new line per frame (the live tail), buffer full at 5,000.
    state.screen = Screen::Logs;
    let mut seq = LOG_LINES as u64;
    let now = state.now;
    let mut tail = |state: &mut State, term: &mut Terminal<TestBackend>| {
        measure(n, |_| {
            seq += 1;
            let conn_id = state.logs.stream.conn_id;
            update(
                state,
                Action::LogStream {
                    conn_id,
                    msg: LogMsg::Lines(vec![log_line(now, seq)]),
                },
            );
            let t = Instant::now();
            let _ = term.draw(|f| echo5_tui::ui::draw(f, state));
            t.elapsed()
        })
    };
    let logs = tail(&mut state, &mut term);
    report("Logs tail, 5,000-line buffer", &logs);
    // With a search matching one line in seven (the WARN lines), highlighted.
    state.logs.view.filter = "alert not sent".into();
    let logs_search = tail(&mut state, &mut term);
    report("Logs tail + search (1 in 7 match)", &logs_search);
    // A search nothing matches: every frame scans the whole buffer.
    state.logs.view.filter = "no such text".into();
    let logs_miss = tail(&mut state, &mut term);
    report("Logs tail + search (no match)", &logs_miss);
    state.logs.view.filter.clear();
    assert_eq!(
        state.logs.lines.len(),
        LOG_LINES,
        "the buffer stays bounded"
    );

    // The detail pane beside the table (no detail answer: the row's own fields).
    state.leads.view.detail_open = true;
    state.leads.view.list.selected = 0;
    let pane = table(&mut state, Screen::Leads, &mut term);
    report("Leads table + detail pane", &pane);
    let ratio = |s: &Stats| s.median.as_secs_f64() / empty.median.as_secs_f64().max(1e-9);
    println!(
        "\nover the empty frame (median): Leads {:.1}x, Leads+pane {:.1}x, Keys {:.1}x, \
         All leads {:.1}x, Logs {:.1}x",
        ratio(&leads),
        ratio(&pane),
        ratio(&keys),
        ratio(&all),
        ratio(&logs)
    );
    Ok(())
}
