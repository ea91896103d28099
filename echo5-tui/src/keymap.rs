//! Every key binding as data, each with its description: key handling, the footer hints and
//! the `?` help are all read from these tables (the global and dialog ones here, each
//! screen's from its component), so they cannot disagree.

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
    b(&[ch('1')], Cmd::Go(Screen::Dashboard), "dashboard", false),
    b(&[ch('2')], Cmd::Go(Screen::Tenants), "tenant picker", false),
    b(&[ch('3')], Cmd::Go(Screen::Pipeline), "pipeline", false),
    b(&[ch('4')], Cmd::Go(Screen::Settings), "settings", false),
    b(&[ch('5')], Cmd::Go(Screen::Keys), "API keys", false),
    b(&[ch('6')], Cmd::Go(Screen::Leads), "leads", false),
    b(&[ch('7')], Cmd::Go(Screen::Breaches), "SLA breaches", false),
    b(&[ch('8')], Cmd::Go(Screen::Analytics), "analytics", false),
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

/// The command a key means on `screen` (screen bindings first, then global ones).
pub fn lookup(screen: Screen, ev: &KeyEvent) -> Option<Cmd> {
    lookup_in(&[Ctx::Screen(screen), Ctx::Global], ev)
}

/// The command a key means inside a dialog.
pub fn dialog(ev: &KeyEvent) -> Option<Cmd> {
    lookup_in(&[Ctx::Dialog], ev)
}

/// The bindings of one context.
pub fn bindings(ctx: Ctx) -> &'static [Binding] {
    match ctx {
        Ctx::Global => GLOBAL,
        Ctx::Dialog => DIALOG,
        Ctx::Screen(s) => s.component().bindings(),
    }
}

/// Every binding of every context, in help order.
pub fn all_bindings() -> Vec<&'static Binding> {
    contexts().flat_map(|c| bindings(c).iter()).collect()
}

/// Every context: global, each screen in Tab order, dialogs.
fn contexts() -> impl Iterator<Item = Ctx> {
    std::iter::once(Ctx::Global)
        .chain(Screen::all().map(Ctx::Screen))
        .chain(std::iter::once(Ctx::Dialog))
}

fn lookup_in(ctxs: &[Ctx], ev: &KeyEvent) -> Option<Cmd> {
    ctxs.iter().find_map(|ctx| {
        bindings(*ctx)
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

/// Footer hints for a screen: its own bindings, then the global ones marked as hints.
/// Only the first key of each binding is shown to save width.
pub fn hints(ctx: Ctx) -> Vec<(String, &'static str)> {
    let ctxs: &[Ctx] = match ctx {
        Ctx::Dialog => &[Ctx::Dialog],
        _ => &[ctx, Ctx::Global],
    };
    ctxs.iter()
        .flat_map(|c| bindings(*c).iter().filter(|b| b.hint))
        .filter_map(|b| b.keys.first().map(|key| (key_label(key), b.desc)))
        .collect()
}

/// Help sections: a title and its bindings, in table order.
pub fn help_sections() -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    contexts()
        .map(|ctx| {
            let title = match ctx {
                Ctx::Global => "Everywhere",
                Ctx::Screen(s) => s.title(),
                Ctx::Dialog => "In dialogs",
            };
            let rows = bindings(ctx)
                .iter()
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
        for ctx in contexts() {
            let table = bindings(ctx);
            for (i, a) in table.iter().enumerate() {
                for b in &table[i + 1..] {
                    for key in a.keys {
                        assert!(!b.keys.contains(key), "{key:?} bound twice in {ctx:?}");
                    }
                }
            }
        }
    }
}
