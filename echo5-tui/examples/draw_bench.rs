//! Draw time of a 200-row table at 120×40, against an empty frame in the same run.
//!
//! `cargo run --release -p echo5-tui --example draw_bench [iterations]`
//!
//! There is no Leads screen yet; the Keys and Dashboard tables stand in for it. Each
//! iteration moves the cursor so every frame differs from the one before (a real redraw,
//! not an empty diff). Times are for `Terminal::draw` on ratatui's `TestBackend`: building
//! the frame, diffing it against the previous one and writing the changed cells, which is
//! everything but the terminal's own I/O. The key press that moves the cursor is not timed.

use chrono::{TimeDelta, TimeZone, Utc};
use echo5_core::apikey::{ApiKey, KeyStatus};
use echo5_core::secret::MaskedSecret;
use echo5_core::tenant::{Tenant, TenantRef, TenantSettings};
use echo5_tui::app::{Action, Screen, State, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};
use uuid::Uuid;

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
    s.keys.data = Some(
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
    s.tenants.data = Some(
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
                    meta_access_token: MaskedSecret::unset(),
                    google_ads: MaskedSecret::unset(),
                },
            })
            .collect(),
    );
    s
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

    let mut table = |screen: Screen, term: &mut Terminal<TestBackend>| {
        state.screen = screen;
        measure(n, |i| {
            // Down for 30 rows then back up: the viewport scrolls and every frame changes.
            let a = if (i / 30) % 2 == 0 { &down } else { &up };
            update(&mut state, a.clone());
            let t = Instant::now();
            let _ = term.draw(|f| echo5_tui::ui::draw(f, &state));
            t.elapsed()
        })
    };
    let keys = table(Screen::Keys, &mut term);
    report("Keys table, 200 rows", &keys);
    let dash = table(Screen::Dashboard, &mut term);
    report("Dashboard table, 200 rows", &dash);
    println!(
        "\nKeys over empty frame: {:.1}x (median)",
        keys.median.as_secs_f64() / empty.median.as_secs_f64().max(1e-9)
    );
    Ok(())
}
