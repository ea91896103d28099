//! The mouse wheel and bracketed paste, as `update` sees them: the wheel does what ↓/↑ do,
//! and a paste lands in the focused text field, as one line without control characters, and
//! nowhere else. Pure: no terminal, no network.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_tui::app::overlay::Overlay;
use echo5_tui::app::{Action, Call, Screen, State, update};

/// Every screen with its data loaded.
fn every_screen() -> Vec<State> {
    let overview = {
        // Enter on the dashboard opens the first client's overview.
        let mut s = started();
        let fx = update(&mut s, code(KeyCode::Enter));
        settle(&mut s, fx);
        s
    };
    let team = {
        let mut s = on_command("tenant open-arms");
        update(&mut s, key(':'));
        typ(&mut s, "team");
        let fx = update(&mut s, code(KeyCode::Enter));
        settle(&mut s, fx);
        s
    };
    let webhooks = {
        let mut s = on_command("tenant open-arms");
        update(&mut s, key(':'));
        typ(&mut s, "webhooks");
        let fx = update(&mut s, code(KeyCode::Enter));
        settle(&mut s, fx);
        s
    };
    let notifications = {
        let mut s = on_command("tenant open-arms");
        update(&mut s, key(':'));
        typ(&mut s, "notifications");
        let fx = update(&mut s, code(KeyCode::Enter));
        settle(&mut s, fx);
        s
    };
    // Enter on an endpoint opens its deliveries.
    let deliveries = {
        let mut s = webhooks.clone();
        let fx = update(&mut s, code(KeyCode::Enter));
        settle(&mut s, fx);
        s
    };
    let integrations = {
        let mut s = on_command("tenant open-arms");
        update(&mut s, key(':'));
        typ(&mut s, "integrations");
        let fx = update(&mut s, code(KeyCode::Enter));
        settle(&mut s, fx);
        s
    };
    ('1'..='8')
        .map(on_tenant_screen)
        .chain(["platform", "all", "usage", "audit", "logs", "global"].map(on_command))
        .chain([overview])
        .chain(["users"].map(on_command))
        .chain(["plans"].map(on_command))
        .chain([team, webhooks, deliveries, integrations, notifications])
        .collect()
}

fn paste(state: &mut State, text: &str) -> Vec<echo5_tui::app::Effect> {
    update(state, Action::Paste(text.to_string()))
}

/// The text of the open dialog's focused field, or of the palette or filter line.
fn input_text(state: &State) -> Option<String> {
    match state.overlay.as_ref()? {
        Overlay::Palette(p) => Some(p.input.text().to_string()),
        Overlay::Filter(f) => Some(f.input.text().to_string()),
        Overlay::Form(f) => f.fields.get(f.focus).map(|x| x.input.text().to_string()),
        _ => None,
    }
}

#[test]
fn the_wheel_does_what_the_arrow_keys_do_on_every_screen() {
    let screens = every_screen();
    assert_eq!(screens.len(), Screen::all().count(), "a screen is missing");
    for s in screens {
        for (delta, arrow) in [(1, KeyCode::Down), (-1, KeyCode::Up)] {
            let (mut wheel, mut keyed) = (s.clone(), s.clone());
            let by_wheel = update(&mut wheel, Action::Scroll(delta));
            let by_key = update(&mut keyed, code(arrow));
            assert_eq!(by_wheel, by_key, "{:?}: effects of wheel {delta}", s.screen);
            assert_eq!(wheel, keyed, "{:?}: state after wheel {delta}", s.screen);
        }
    }
}

#[test]
fn the_wheel_moves_the_list_cursor_and_stops_at_the_ends() {
    let mut s = on_tenant_screen('6');
    assert_eq!(s.leads.view.list.selected, 0);
    // At the top, up stays put.
    update(&mut s, Action::Scroll(-1));
    assert_eq!(s.leads.view.list.selected, 0);
    update(&mut s, Action::Scroll(1));
    update(&mut s, Action::Scroll(1));
    assert_eq!(s.leads.view.list.selected, 2);
    assert_eq!(
        s.leads.selected().and_then(|l| l.name.as_deref()),
        Some("Ana Souza")
    );
    update(&mut s, Action::Scroll(-1));
    assert_eq!(s.leads.view.list.selected, 1);

    // The pipeline's cursor too.
    let mut p = on_tenant_screen('3');
    update(&mut p, Action::Scroll(1));
    assert_eq!(p.stages.view.selected, 1);
}

#[test]
fn the_wheel_scrolls_the_log_tail_back_and_pauses_it() {
    let mut s = on_command("logs");
    assert!(s.logs.follow, "the tail starts following");
    update(&mut s, Action::Scroll(-1));
    assert!(!s.logs.follow, "scrolling up pauses the tail");
}

#[test]
fn the_wheel_does_nothing_while_a_dialog_is_open() {
    let mut s = on_tenant_screen('3');
    update(&mut s, key('a'));
    typ(&mut s, "Won");
    let before = s.clone();
    for delta in [1, -1] {
        let fx = update(&mut s, Action::Scroll(delta));
        assert!(fx.is_empty());
        assert_eq!(s, before, "wheel {delta} changed the state under a dialog");
    }
}

#[test]
fn a_paste_into_a_form_field_is_inserted_at_the_cursor_as_one_line() {
    let mut s = on_tenant_screen('3');
    update(&mut s, key('a'));
    typ(&mut s, "Tour ");
    // Newlines, a tab, a bell and an escape: none of them reaches the field, and none of
    // them acts as the key it resembles (Enter would submit, Esc would close).
    let fx = paste(&mut s, "Boo\r\nked\t\u{7}\u{1b}");
    assert!(fx.is_empty(), "a paste sends nothing: {fx:?}");
    assert!(
        matches!(s.overlay, Some(Overlay::Form(_))),
        "the form is still open"
    );
    assert_eq!(input_text(&s).as_deref(), Some("Tour Booked"));
    // Pasted in the middle, at the cursor.
    update(&mut s, code(KeyCode::Home));
    paste(&mut s, "My ");
    assert_eq!(input_text(&s).as_deref(), Some("My Tour Booked"));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(
        calls(&fx)
            .iter()
            .any(|c| matches!(c, Call::AddStage { name, .. } if name == "My Tour Booked")),
        "{fx:?}"
    );
}

#[test]
fn a_pasted_secret_lands_in_the_masked_field_without_its_newline() {
    let mut s = on_tenant_screen('4');
    update(&mut s, key('G'));
    update(&mut s, key('k'));
    update(&mut s, code(KeyCode::Enter));
    let Some(Overlay::Form(f)) = &s.overlay else {
        panic!("the secret form is open: {:?}", s.overlay);
    };
    assert!(
        f.fields[f.focus].secret,
        "the focused field is the masked one"
    );
    paste(&mut s, "EAAGsecret\n");
    assert_eq!(input_text(&s).as_deref(), Some("EAAGsecret"));
}

#[test]
fn a_paste_into_a_local_filter_filters_at_once_and_keeps_the_line_open() {
    let mut s = on_tenant_screen('7');
    update(&mut s, key('/'));
    update(&mut s, key('j'));
    paste(&mut s, "harold\n");
    assert!(matches!(s.overlay, Some(Overlay::Filter(_))), "still open");
    assert_eq!(input_text(&s).as_deref(), Some("jharold"));
    assert_eq!(s.sla.view.filter, "jharold");
    assert!(s.sla.filtered().is_empty());
    update(&mut s, code(KeyCode::Home));
    update(&mut s, code(KeyCode::Delete));
    assert_eq!(s.sla.view.filter, "harold");
    let names: Vec<_> = s.sla.filtered().iter().map(|b| b.name.clone()).collect();
    assert_eq!(names, [Some("Harold Finch".to_string())]);
}

#[test]
fn a_paste_into_the_server_search_is_sent_on_enter_only() {
    let mut s = on_tenant_screen('6');
    update(&mut s, key('/'));
    let fx = paste(&mut s, "maria lopez\r\n");
    assert!(fx.is_empty(), "nothing sent per paste: {fx:?}");
    assert_eq!(input_text(&s).as_deref(), Some("maria lopez"));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(
        calls(&fx)
            .iter()
            .any(|c| matches!(c, Call::ListLeads { q, .. } if q == "maria lopez")),
        "{fx:?}"
    );
}

#[test]
fn a_paste_into_the_palette_is_a_command_to_run_with_enter() {
    let mut s = started();
    update(&mut s, key(':'));
    paste(&mut s, "tenant caring\n");
    assert!(matches!(s.overlay, Some(Overlay::Palette(_))));
    assert_eq!(input_text(&s).as_deref(), Some("tenant caring"));
    assert!(s.tenant.is_none(), "the newline did not run it");
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    assert_eq!(
        s.tenant.as_ref().map(|t| t.name.as_str()),
        Some("Caring Hearts")
    );
}

#[test]
fn a_paste_with_no_text_field_open_is_not_typed_as_keys() {
    // Pasted "q" must not quit, "6" must not switch screens, ":" must not open the palette.
    let mut s = on_tenant_screen('3');
    s.dirty = false;
    let before = s.clone();
    let fx = paste(&mut s, "6:q\n");
    assert!(fx.is_empty());
    s.dirty = false;
    assert_eq!(s, before);
    assert!(!s.quit);

    // A dialog without a text field takes no paste either.
    update(&mut s, key('d'));
    assert!(s.overlay.is_some());
    let before = s.clone();
    paste(&mut s, "\ry");
    s.dirty = before.dirty;
    assert_eq!(s, before);
}
