//! Which key bindings apply where: everywhere, on each screen (its component's table, from
//! the registry) and in dialogs. Key handling, the footer hints and the `?` help all ask here.

use crossterm::event::KeyEvent;

use super::{Screen, State, access};
use crate::keymap::{self, Binding, Cmd, DIALOG, GLOBAL, key_label, keys_label};

/// Where a binding applies. Screen bindings win over global ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Global,
    Screen(Screen),
    /// Forms, confirmations and choosers; text fields take every other key.
    Dialog,
}

/// The command a key means on `screen` (screen bindings first, then global ones).
pub fn lookup(screen: Screen, ev: &KeyEvent) -> Option<Cmd> {
    keymap::find(&[bindings(Ctx::Screen(screen)), GLOBAL], ev)
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

/// Footer hints for a screen: its own bindings, then the global ones marked as hints
/// whose key the screen does not bind itself (a screen may list a global key among its
/// own to show it earlier). Only the first key of each binding is shown to save width.
pub fn hints(ctx: Ctx) -> Vec<(String, &'static str)> {
    hint_bindings(ctx)
        .filter_map(|b| b.keys.first().map(|key| (key_label(key), b.desc)))
        .collect()
}

/// The bindings [`hints`] shows, in order.
fn hint_bindings(ctx: Ctx) -> impl Iterator<Item = &'static Binding> {
    let ctxs: Vec<Ctx> = match ctx {
        Ctx::Dialog => vec![Ctx::Dialog],
        _ => vec![ctx, Ctx::Global],
    };
    let own = bindings(ctx);
    ctxs.into_iter().flat_map(move |c| {
        bindings(c)
            .iter()
            .filter(move |b| b.hint && (c == ctx || !own.iter().any(|o| o.keys == b.keys)))
    })
}

/// [`hints`] without the keys the principal may not use.
pub fn hints_for(state: &State, ctx: Ctx) -> Vec<(String, &'static str)> {
    let screen = match ctx {
        Ctx::Screen(s) => Some(s),
        _ => None,
    };
    hint_bindings(ctx)
        .filter(|b| screen.is_none_or(|s| access::allows(state, s, b.cmd)))
        .filter_map(|b| b.keys.first().map(|key| (key_label(key), b.desc)))
        .collect()
}

/// [`help_sections`] for the principal: only screens they may open, only keys they may use.
pub fn help_sections_for(state: &State) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    contexts()
        .filter(|ctx| match ctx {
            Ctx::Screen(s) => access::can_open(state, *s),
            _ => true,
        })
        .map(|ctx| {
            let title = match ctx {
                Ctx::Global => "Everywhere",
                Ctx::Screen(s) => s.title(),
                Ctx::Dialog => "In dialogs",
            };
            let rows = bindings(ctx)
                .iter()
                .filter(|b| match ctx {
                    Ctx::Screen(s) => access::allows(state, s, b.cmd),
                    Ctx::Global => access::allows(state, state.screen, b.cmd),
                    Ctx::Dialog => true,
                })
                .map(|b| (keys_label(b), b.desc))
                .collect();
            (title, rows)
        })
        .filter(|(_, rows): &(_, Vec<_>)| !rows.is_empty())
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
    use crossterm::event::{KeyCode, KeyModifiers};

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

    #[test]
    fn digit_keys_open_the_tab_the_header_numbers_so() {
        for b in GLOBAL {
            if let Cmd::Go(n) = b.cmd {
                assert!(Screen::by_number(n).is_some(), "no tab {n}");
                let labels: Vec<String> = b.keys.iter().map(key_label).collect();
                assert_eq!(labels, [n.to_string()]);
            }
        }
    }
}
