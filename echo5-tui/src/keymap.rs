//! Every key binding as data, each with its description: key handling, the footer hints and
//! the `?` help are all read from these tables (the global and dialog ones here, each
//! screen's from its component), so they cannot disagree. Which tables apply where is the
//! model's business (`crate::app::bindings`); this knows keys, not screens.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key means, independent of which key it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Quit,
    Back,
    Help,
    Palette,
    Filter,
    Refresh,
    Up,
    Down,
    Top,
    Bottom,
    NextScreen,
    PrevScreen,
    /// A numbered tab (1 is the first), as the header numbers them.
    Go(u32),
    Open,
    Add,
    Rename,
    Delete,
    MoveUp,
    MoveDown,
    Edit,
    Clear,
    Rotate,
    Reveal,
    MoveStage,
    Notes,
    Assign,
    /// SLA breaches: all tenants or the selected one.
    Scope,
    /// Analytics: the next range (7/30/90 days).
    Range,
    /// Platform: the selected default stage's kind, open → won → lost.
    Kind,
    /// All leads: choose which tenants are listed.
    Tenants,
    /// Usage: the month before / after.
    PrevMonth,
    NextMonth,
    /// Logs: the next level filter (all, info+, warn+, error).
    Level,
    /// Logs: follow the tail, or pause where the view is.
    Follow,
    /// Leads: the filter form (stage, source, breached, spam, dates).
    Filters,
    /// Leads: spam hidden → shown → only.
    Spam,
    /// Leads: clear the selected lead's spam flag.
    NotSpam,
    /// Leads: export the list as CSV to a file.
    Export,
    /// Audit: filter by action.
    ActionFilter,
    PageUp,
    PageDown,
    /// Tenants: deactivate or reactivate a client.
    Active,
    /// Analytics across every client (or a chosen set).
    AllAnalytics,
    /// Quick actions of a client's overview.
    OpenLeads,
    OpenAnalytics,
    OpenSettings,
    OpenPipeline,
    OpenKeys,
    /// Team: a user's role.
    Role,
    /// Team: toggle one of a user's permissions.
    Permission,
    /// Webhooks: send a test message to the selected endpoint.
    Test,
    /// Deliveries: send the selected message again.
    Retry,
    /// Deliveries: send again every failed message since a time.
    Recover,
    /// Deliveries: the next status filter (all, pending, succeeded, failed).
    StatusFilter,
    /// Integrations: read the selected source's leads again (Meta backfill).
    Sync,
    /// Plans: a client's Stripe customer.
    Billing,
    // Inside dialogs.
    Confirm,
    Cancel,
    NextField,
    PrevField,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

pub const fn k(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

pub const fn ch(c: char) -> Key {
    k(KeyCode::Char(c))
}

pub const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

pub const fn alt(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::ALT,
    }
}

pub struct Binding {
    pub keys: &'static [Key],
    pub cmd: Cmd,
    pub desc: &'static str,
    /// Shown in the footer (the rest only in `?` help).
    pub hint: bool,
}

pub const fn b(keys: &'static [Key], cmd: Cmd, desc: &'static str, hint: bool) -> Binding {
    Binding {
        keys,
        cmd,
        desc,
        hint,
    }
}

/// Bindings that apply on every screen (a screen's own win over them).
pub const GLOBAL: &[Binding] = &[
    b(&[ch(':')], Cmd::Palette, "command", true),
    b(&[ch('/')], Cmd::Filter, "filter", true),
    b(&[ch('?')], Cmd::Help, "help", true),
    b(&[k(KeyCode::Esc)], Cmd::Back, "back", false),
    b(&[ch('q'), ctrl('c')], Cmd::Quit, "quit", true),
    b(&[ch('k'), k(KeyCode::Up)], Cmd::Up, "previous row", false),
    b(&[ch('j'), k(KeyCode::Down)], Cmd::Down, "next row", false),
    b(&[ch('g'), k(KeyCode::Home)], Cmd::Top, "first row", false),
    b(&[ch('G'), k(KeyCode::End)], Cmd::Bottom, "last row", false),
    b(&[k(KeyCode::Tab)], Cmd::NextScreen, "next screen", false),
    b(
        &[k(KeyCode::BackTab)],
        Cmd::PrevScreen,
        "previous screen",
        false,
    ),
    b(&[ch('1')], Cmd::Go(1), "dashboard", false),
    b(&[ch('2')], Cmd::Go(2), "tenant picker", false),
    b(&[ch('3')], Cmd::Go(3), "pipeline", false),
    b(&[ch('4')], Cmd::Go(4), "settings", false),
    b(&[ch('5')], Cmd::Go(5), "API keys", false),
    b(&[ch('6')], Cmd::Go(6), "leads", false),
    b(&[ch('7')], Cmd::Go(7), "SLA breaches", false),
    b(&[ch('8')], Cmd::Go(8), "analytics", false),
    b(&[ctrl('r')], Cmd::Refresh, "refresh now", false),
];

/// Bindings inside forms, confirmations and choosers.
pub const DIALOG: &[Binding] = &[
    b(&[k(KeyCode::Enter)], Cmd::Confirm, "save / confirm", true),
    b(&[k(KeyCode::Esc)], Cmd::Cancel, "cancel", true),
    b(&[k(KeyCode::Tab)], Cmd::NextField, "next field", true),
    b(
        &[k(KeyCode::BackTab)],
        Cmd::PrevField,
        "previous field",
        false,
    ),
];

fn matches(key: &Key, ev: &KeyEvent) -> bool {
    // Terminals report an upper-case letter with SHIFT set (and BackTab with SHIFT); the
    // character already says it, so SHIFT is ignored for comparison.
    let mods = ev.modifiers - KeyModifiers::SHIFT;
    key.code == ev.code && key.mods == mods
}

/// The command a key means inside a dialog.
pub fn dialog(ev: &KeyEvent) -> Option<Cmd> {
    find(&[DIALOG], ev)
}

/// The command the first table binding `ev` gives it: earlier tables win.
pub fn find(tables: &[&[Binding]], ev: &KeyEvent) -> Option<Cmd> {
    tables.iter().find_map(|table| {
        table
            .iter()
            .find(|b| b.keys.iter().any(|key| matches(key, ev)))
            .map(|b| b.cmd)
    })
}

pub fn key_label(key: &Key) -> String {
    let base = match key.code {
        KeyCode::Char(' ') => "Space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "S-Tab".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        other => format!("{other:?}"),
    };
    if key.mods.contains(KeyModifiers::CONTROL) {
        format!("^{}", base.to_uppercase())
    } else if key.mods.contains(KeyModifiers::ALT) {
        format!("M-{base}")
    } else {
        base
    }
}

/// All keys of a binding, e.g. `k/↑`.
pub fn keys_label(b: &Binding) -> String {
    b.keys.iter().map(key_label).collect::<Vec<_>>().join("/")
}
