//! Every key binding as data, each with its description: key handling, the footer hints and
//! the `?` help are all read from this one table, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::Screen;

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
    Go(Screen),
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
    PageUp,
    PageDown,
    // Inside dialogs.
    Confirm,
    Cancel,
    NextField,
    PrevField,
}

/// Where a binding applies. Screen bindings win over global ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Global,
    Screen(Screen),
    /// Forms, confirmations and choosers; text fields take every other key.
    Dialog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

const fn k(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

const fn ch(c: char) -> Key {
    k(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

const fn alt(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::ALT,
    }
}

pub struct Binding {
    pub ctx: Ctx,
    pub keys: &'static [Key],
    pub cmd: Cmd,
    pub desc: &'static str,
    /// Shown in the footer (the rest only in `?` help).
    pub hint: bool,
}

const fn b(ctx: Ctx, keys: &'static [Key], cmd: Cmd, desc: &'static str, hint: bool) -> Binding {
    Binding {
        ctx,
        keys,
        cmd,
        desc,
        hint,
    }
}

use Ctx::{Dialog, Global};
const DASH: Ctx = Ctx::Screen(Screen::Dashboard);
const TEN: Ctx = Ctx::Screen(Screen::Tenants);
const PIPE: Ctx = Ctx::Screen(Screen::Pipeline);
const SET: Ctx = Ctx::Screen(Screen::Settings);
const KEYS: Ctx = Ctx::Screen(Screen::Keys);
const LEADS: Ctx = Ctx::Screen(Screen::Leads);
const SLA: Ctx = Ctx::Screen(Screen::Breaches);
const ANA: Ctx = Ctx::Screen(Screen::Analytics);
const PLAT: Ctx = Ctx::Screen(Screen::Platform);
const ALL: Ctx = Ctx::Screen(Screen::AllLeads);
const USE: Ctx = Ctx::Screen(Screen::Usage);
const LOGS: Ctx = Ctx::Screen(Screen::Logs);

pub const BINDINGS: &[Binding] = &[
    // Screen bindings come first so the footer lists what is special here before the rest.
    b(DASH, &[k(KeyCode::Enter)], Cmd::Open, "open tenant", true),
    b(
        TEN,
        &[k(KeyCode::Enter)],
        Cmd::Open,
        "switch to tenant",
        true,
    ),
    b(PIPE, &[ch('a')], Cmd::Add, "add stage", true),
    b(PIPE, &[ch('r')], Cmd::Rename, "rename", true),
    b(PIPE, &[ch('d')], Cmd::Delete, "delete", true),
    b(
        PIPE,
        &[ctrl('k'), alt(KeyCode::Up)],
        Cmd::MoveUp,
        "move up",
        true,
    ),
    b(
        PIPE,
        &[ctrl('j'), alt(KeyCode::Down)],
        Cmd::MoveDown,
        "move down",
        true,
    ),
    b(
        SET,
        &[k(KeyCode::Enter), ch('e')],
        Cmd::Edit,
        "edit / replace",
        true,
    ),
    b(SET, &[ch('x')], Cmd::Clear, "clear value", true),
    b(KEYS, &[ch('c')], Cmd::Add, "create key", true),
    b(KEYS, &[ch('R')], Cmd::Rotate, "rotate", true),
    b(KEYS, &[ch('v')], Cmd::Reveal, "reveal", true),
    b(KEYS, &[ch('x'), ch('d')], Cmd::Delete, "revoke", true),
    b(
        LEADS,
        &[k(KeyCode::Enter), k(KeyCode::Tab)],
        Cmd::Open,
        "details",
        true,
    ),
    b(LEADS, &[ch('m')], Cmd::MoveStage, "move stage", true),
    b(LEADS, &[ch('n')], Cmd::Notes, "notes", true),
    b(LEADS, &[ch('a')], Cmd::Assign, "assignee", true),
    b(SLA, &[ch('t')], Cmd::Scope, "all / this tenant", true),
    b(ANA, &[ch('r')], Cmd::Range, "range 7/30/90 d", true),
    b(
        PLAT,
        &[k(KeyCode::Enter), ch('e')],
        Cmd::Edit,
        "edit / rename",
        true,
    ),
    b(PLAT, &[ch('a')], Cmd::Add, "add stage", true),
    b(PLAT, &[ch('d')], Cmd::Delete, "delete stage", true),
    b(PLAT, &[ch('t')], Cmd::Kind, "stage kind", true),
    b(
        PLAT,
        &[ctrl('k'), alt(KeyCode::Up)],
        Cmd::MoveUp,
        "move up",
        true,
    ),
    b(
        PLAT,
        &[ctrl('j'), alt(KeyCode::Down)],
        Cmd::MoveDown,
        "move down",
        true,
    ),
    b(PLAT, &[ch('r')], Cmd::Rename, "rename stage", false),
    b(PLAT, &[ch('x')], Cmd::Clear, "clear value", false),
    b(
        ALL,
        &[k(KeyCode::Enter)],
        Cmd::Open,
        "open in its tenant",
        true,
    ),
    b(ALL, &[ch('t')], Cmd::Tenants, "tenants", true),
    b(
        USE,
        &[ch('h'), ch('['), k(KeyCode::Left)],
        Cmd::PrevMonth,
        "previous month",
        true,
    ),
    b(
        USE,
        &[ch('l'), ch(']'), k(KeyCode::Right)],
        Cmd::NextMonth,
        "next month",
        true,
    ),
    b(LOGS, &[ch('l')], Cmd::Level, "level", true),
    b(LOGS, &[ch('f')], Cmd::Follow, "follow / pause", true),
    b(
        LOGS,
        &[k(KeyCode::PageUp), ctrl('b')],
        Cmd::PageUp,
        "page up",
        false,
    ),
    b(
        LOGS,
        &[k(KeyCode::PageDown), ctrl('f')],
        Cmd::PageDown,
        "page down",
        false,
    ),
    b(Global, &[ch(':')], Cmd::Palette, "command", true),
    b(Global, &[ch('/')], Cmd::Filter, "filter", true),
    b(Global, &[ch('?')], Cmd::Help, "help", true),
    b(Global, &[k(KeyCode::Esc)], Cmd::Back, "back", false),
    b(Global, &[ch('q'), ctrl('c')], Cmd::Quit, "quit", true),
    b(
        Global,
        &[ch('k'), k(KeyCode::Up)],
        Cmd::Up,
        "previous row",
        false,
    ),
    b(
        Global,
        &[ch('j'), k(KeyCode::Down)],
        Cmd::Down,
        "next row",
        false,
    ),
    b(
        Global,
        &[ch('g'), k(KeyCode::Home)],
        Cmd::Top,
        "first row",
        false,
    ),
    b(
        Global,
        &[ch('G'), k(KeyCode::End)],
        Cmd::Bottom,
        "last row",
        false,
    ),
    b(
        Global,
        &[k(KeyCode::Tab)],
        Cmd::NextScreen,
        "next screen",
        false,
    ),
    b(
        Global,
        &[k(KeyCode::BackTab)],
        Cmd::PrevScreen,
        "previous screen",
        false,
    ),
    b(
        Global,
        &[ch('1')],
        Cmd::Go(Screen::Dashboard),
        "dashboard",
        false,
    ),
    b(
        Global,
        &[ch('2')],
        Cmd::Go(Screen::Tenants),
        "tenant picker",
        false,
    ),
    b(
        Global,
        &[ch('3')],
        Cmd::Go(Screen::Pipeline),
        "pipeline",
        false,
    ),
    b(
        Global,
        &[ch('4')],
        Cmd::Go(Screen::Settings),
        "settings",
        false,
    ),
    b(Global, &[ch('5')], Cmd::Go(Screen::Keys), "API keys", false),
    b(Global, &[ch('6')], Cmd::Go(Screen::Leads), "leads", false),
    b(
        Global,
        &[ch('7')],
        Cmd::Go(Screen::Breaches),
        "SLA breaches",
        false,
    ),
    b(
        Global,
        &[ch('8')],
        Cmd::Go(Screen::Analytics),
        "analytics",
        false,
    ),
    b(Global, &[ctrl('r')], Cmd::Refresh, "refresh now", false),
    b(
        Dialog,
        &[k(KeyCode::Enter)],
        Cmd::Confirm,
        "save / confirm",
        true,
    ),
    b(Dialog, &[k(KeyCode::Esc)], Cmd::Cancel, "cancel", true),
    b(
        Dialog,
        &[k(KeyCode::Tab)],
        Cmd::NextField,
        "next field",
        true,
    ),
    b(
        Dialog,
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

/// The command a key means on `screen` (screen bindings first, then global ones).
pub fn lookup(screen: Screen, ev: &KeyEvent) -> Option<Cmd> {
    lookup_in(&[Ctx::Screen(screen), Ctx::Global], ev)
}

/// The command a key means inside a dialog.
pub fn dialog(ev: &KeyEvent) -> Option<Cmd> {
    lookup_in(&[Ctx::Dialog], ev)
}

fn lookup_in(ctxs: &[Ctx], ev: &KeyEvent) -> Option<Cmd> {
    ctxs.iter().find_map(|ctx| {
        BINDINGS
            .iter()
            .filter(|b| b.ctx == *ctx)
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

/// Footer hints for a screen: its own bindings, then the global ones marked as hints.
/// Only the first key of each binding is shown to save width.
pub fn hints(ctx: Ctx) -> Vec<(String, &'static str)> {
    let ctxs: &[Ctx] = match ctx {
        Ctx::Dialog => &[Ctx::Dialog],
        _ => &[ctx, Ctx::Global],
    };
    ctxs.iter()
        .flat_map(|c| BINDINGS.iter().filter(move |b| b.ctx == *c && b.hint))
        .filter_map(|b| b.keys.first().map(|key| (key_label(key), b.desc)))
        .collect()
}

/// Help sections: a title and its bindings, in table order.
pub fn help_sections() -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    let mut sections = vec![("Everywhere", Ctx::Global)];
    sections.extend(Screen::ALL.iter().map(|s| (s.title(), Ctx::Screen(*s))));
    sections.push(("In dialogs", Ctx::Dialog));
    sections
        .into_iter()
        .map(|(title, ctx)| {
            let rows = BINDINGS
                .iter()
                .filter(|b| b.ctx == ctx)
                .map(|b| (keys_label(b), b.desc))
                .collect();
            (title, rows)
        })
        .filter(|(_, rows): &(_, Vec<_>)| !rows.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screen_bindings_win_and_shift_is_ignored() {
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(lookup(Screen::Settings, &enter), Some(Cmd::Edit));
        assert_eq!(lookup(Screen::Dashboard, &enter), Some(Cmd::Open));
        let big_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(lookup(Screen::Dashboard, &big_g), Some(Cmd::Bottom));
        let ctrl_k = KeyEvent::new(KeyCode::Char('k'), KeyModifiers::CONTROL);
        assert_eq!(lookup(Screen::Pipeline, &ctrl_k), Some(Cmd::MoveUp));
        assert_eq!(lookup(Screen::Dashboard, &ctrl_k), None);
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                if a.ctx == b.ctx {
                    for key in a.keys {
                        assert!(!b.keys.contains(key), "{key:?} bound twice in {:?}", a.ctx);
                    }
                }
            }
        }
    }
}
