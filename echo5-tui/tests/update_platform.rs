//! Platform screen: each field edited alone (PATCH carries only it), the default pipeline
//! edited as a list with core's rules, and the daemon's refusals shown beside the field.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_core::ErrorDetail;
use echo5_core::platform_settings::StageTemplate;
use echo5_core::stages::StageKind;
use echo5_tui::app::ApiError;
use echo5_tui::app::components::platform_settings::ErrorAt;
use echo5_tui::app::effect::PlatformField;
use echo5_tui::app::overlay::Overlay;
use echo5_tui::app::{Call, Effect, PlatformChange, Reply, Scope, Screen, State, update};
use serde_json::json;

fn on_platform() -> State {
    on_command("platform")
}

fn change(fx: &[Effect]) -> PlatformChange {
    match calls(fx).as_slice() {
        [Call::PatchPlatform { change }] => change.clone(),
        other => panic!("expected one PATCH, got {other:?}"),
    }
}

fn body(fx: &[Effect]) -> serde_json::Value {
    serde_json::to_value(change(fx).body()).expect("body serialises")
}

fn names(s: &State) -> Vec<String> {
    s.platform_settings
        .remote
        .data
        .iter()
        .flat_map(|p| p.default_stages.iter().map(|s| s.name.clone()))
        .collect()
}

/// The cursor on the default stage at `i`.
fn to_stage(s: &mut State, i: usize) {
    update(s, key('g'));
    for _ in 0..PlatformField::ALL.len() + i {
        update(s, key('j'));
    }
}

fn refused(field: Option<&str>, message: &str) -> ApiError {
    ApiError::Http {
        status: 422,
        detail: ErrorDetail {
            code: "invalid".into(),
            message: message.into(),
            field: field.map(String::from),
        },
    }
}

#[test]
fn palette_opens_platform_and_fetches_its_settings() {
    let mut s = started();
    update(&mut s, key(':'));
    typ(&mut s, "plat");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Platform);
    let reqs = requests(&fx);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].call, Call::GetPlatform);
    assert_eq!(reqs[0].scope, Scope::Global, "no tenant needed");
    settle(&mut s, fx);
    assert_eq!(s.platform_settings.remote.data, Some(platform_settings()));
}

#[test]
fn an_edited_field_is_patched_alone() {
    let mut s = on_platform();
    // Operator name: the fifth field.
    for _ in 0..4 {
        update(&mut s, key('j'));
    }
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, ctrl('u'));
    typ(&mut s, "Dana Ops");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(body(&fx), json!({"operator_name": "Dana Ops"}));
    assert_eq!(requests(&fx)[0].scope, Scope::Global);
    // Emptied, it is cleared with null.
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, ctrl('u'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(body(&fx), json!({"operator_name": null}));
}

#[test]
fn an_unchanged_value_sends_nothing() {
    let mut s = on_platform();
    update(&mut s, code(KeyCode::Enter)); // SLA hours, 24
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(calls(&fx).is_empty(), "{fx:?}");
    assert!(s.overlay.is_none());
}

#[test]
fn fields_are_checked_with_core_rules_before_sending() {
    let mut s = on_platform();
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, ctrl('u'));
    typ(&mut s, "721");
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    match &s.overlay {
        Some(Overlay::Form(f)) => {
            assert!(
                f.error
                    .as_deref()
                    .unwrap_or("")
                    .contains("between 1 and 720")
            )
        }
        other => panic!("{other:?}"),
    }
    update(&mut s, code(KeyCode::Esc));
    // Grace hours may be 0.
    update(&mut s, key('j'));
    update(&mut s, key('e'));
    update(&mut s, ctrl('u'));
    typ(&mut s, "0");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(body(&fx), json!({"default_grace_hours": 0}));
    // Keywords are normalised like a tenant's, honeypot names by the same rules.
    update(&mut s, key('j'));
    update(&mut s, key('e'));
    update(&mut s, ctrl('u'));
    typ(&mut s, "Casino, ,Loans, casino");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        body(&fx),
        json!({"default_spam_keywords": ["casino", "loans"]})
    );
    update(&mut s, key('j'));
    update(&mut s, key('e'));
    update(&mut s, ctrl('u'));
    typ(&mut s, "Website_URL, hp");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(body(&fx), json!({"honeypot_fields": ["website_url", "hp"]}));
    // A bad e-mail keeps the form open.
    update(&mut s, key('G'));
    update(&mut s, key('g'));
    for _ in 0..5 {
        update(&mut s, key('j'));
    }
    update(&mut s, key('e'));
    typ(&mut s, "not-an-email");
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(matches!(s.overlay, Some(Overlay::Form(_))));
}

#[test]
fn a_refusal_is_shown_beside_its_field_until_it_is_saved() {
    let mut s = on_platform();
    for _ in 0..5 {
        update(&mut s, key('j'));
    }
    update(&mut s, key('e'));
    typ(&mut s, "ops@agency.example");
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = requests(&fx)[0].clone();
    let after = answer(
        &mut s,
        &req,
        Err(refused(
            Some("operator_email"),
            "operator_email is not deliverable",
        )),
    );
    assert_eq!(
        s.platform_settings
            .view
            .error(ErrorAt::Field(PlatformField::OperatorEmail)),
        Some("operator_email is not deliverable")
    );
    // The daemon's truth is fetched again.
    assert_eq!(calls(&after), vec![Call::GetPlatform]);
    // No `field` in the answer: the field that was sent is the one at fault.
    update(&mut s, key('k'));
    update(&mut s, key('e'));
    update(&mut s, ctrl('u'));
    typ(&mut s, "Someone");
    let fx = update(&mut s, code(KeyCode::Enter));
    answer(
        &mut s,
        &requests(&fx)[0],
        Err(refused(None, "name is reserved")),
    );
    assert_eq!(
        s.platform_settings
            .view
            .error(ErrorAt::Field(PlatformField::OperatorName)),
        Some("name is reserved")
    );
    // A later success for the e-mail clears its refusal only.
    update(&mut s, key('j'));
    update(&mut s, key('e'));
    update(&mut s, ctrl('u'));
    typ(&mut s, "ops2@agency.example");
    let fx = update(&mut s, code(KeyCode::Enter));
    let mut saved = platform_settings();
    saved.operator_email = Some("ops2@agency.example".into());
    answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::PlatformSaved(Box::new(saved))),
    );
    assert_eq!(
        s.platform_settings
            .view
            .error(ErrorAt::Field(PlatformField::OperatorEmail)),
        None
    );
    assert!(
        s.platform_settings
            .view
            .error(ErrorAt::Field(PlatformField::OperatorName))
            .is_some()
    );
    assert_eq!(
        s.platform_settings
            .remote
            .data
            .as_ref()
            .and_then(|p| p.operator_email.clone()),
        Some("ops2@agency.example".into())
    );
}

#[test]
fn a_stage_error_with_an_index_lands_on_that_stage() {
    let mut s = on_platform();
    to_stage(&mut s, 1);
    update(&mut s, key('r'));
    update(&mut s, ctrl('u'));
    typ(&mut s, "Called");
    let fx = update(&mut s, code(KeyCode::Enter));
    answer(
        &mut s,
        &requests(&fx)[0],
        Err(refused(Some("default_stages[1].name"), "reserved name")),
    );
    assert_eq!(
        s.platform_settings.view.error(ErrorAt::Stage(1)),
        Some("reserved name")
    );
}

#[test]
fn stages_move_with_ctrl_j_and_ctrl_k_and_are_sent_whole() {
    let mut s = on_platform();
    to_stage(&mut s, 1);
    let fx = update(&mut s, ctrl('j'));
    assert_eq!(
        names(&s),
        ["New", "Qualified", "Contacted", "Won", "Lost"],
        "shown at once"
    );
    assert_eq!(
        s.platform_settings.row(),
        Some(echo5_tui::app::components::platform_settings::PlatformRow::Stage(2))
    );
    let sent = body(&fx);
    assert_eq!(
        sent.as_object().map(|o| o.len()),
        Some(1),
        "only the stages"
    );
    assert_eq!(
        sent["default_stages"][1],
        json!({"name": "Qualified", "kind": "open"})
    );
    // A poll while the change is on its way would bring back the old order: none is sent.
    let polls = update(
        &mut s,
        echo5_tui::app::Action::Tick(now() + chrono::TimeDelta::seconds(6)),
    );
    assert!(!calls(&polls).contains(&Call::GetPlatform), "{polls:?}");
    // Ctrl-K back up.
    let fx2 = update(&mut s, ctrl('k'));
    assert_eq!(names(&s), ["New", "Contacted", "Qualified", "Won", "Lost"]);
    // The intake stage cannot be moved below a won stage's place... nor can an open
    // stage be replaced at the top by a closed one.
    to_stage(&mut s, 3); // Won
    for _ in 0..2 {
        update(&mut s, ctrl('k'));
    }
    let fx3 = update(&mut s, ctrl('k'));
    assert!(
        calls(&fx3).is_empty(),
        "a won stage cannot become the intake stage"
    );
    assert_eq!(names(&s)[0], "New");
    assert!(s.toasts.iter().any(|t| t.text.contains("must be open")));
    // Answers: the older one is dropped, so the order shown stays the newest sent.
    let first = requests(&fx)[0].clone();
    let second = requests(&fx2)[0].clone();
    let mut newest = platform_settings();
    newest.default_stages = s
        .platform_settings
        .remote
        .data
        .as_ref()
        .map(|p| p.default_stages.clone())
        .unwrap_or_default();
    answer(
        &mut s,
        &second,
        Ok(Reply::PlatformSaved(Box::new(newest.clone()))),
    );
    let mut stale = platform_settings();
    stale.default_stages.swap(1, 2);
    answer(&mut s, &first, Ok(Reply::PlatformSaved(Box::new(stale))));
    assert_eq!(
        s.platform_settings
            .remote
            .data
            .as_ref()
            .map(|p| &p.default_stages),
        Some(&newest.default_stages)
    );
}

#[test]
fn stages_are_added_renamed_retyped_and_deleted() {
    let mut s = on_platform();
    update(&mut s, key('a'));
    typ(&mut s, "contacted");
    assert!(
        update(&mut s, code(KeyCode::Enter)).is_empty(),
        "names are unique"
    );
    update(&mut s, ctrl('u'));
    typ(&mut s, "Tour Scheduled");
    let fx = update(&mut s, code(KeyCode::Enter));
    match change(&fx) {
        PlatformChange::Stages(list) => {
            assert_eq!(list.len(), 6);
            assert_eq!(
                list[5],
                StageTemplate {
                    name: "Tour Scheduled".into(),
                    kind: StageKind::Open
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.platform_settings.row(),
        Some(echo5_tui::app::components::platform_settings::PlatformRow::Stage(5))
    );
    // t cycles the kind: open → won.
    let fx = update(&mut s, key('t'));
    match change(&fx) {
        PlatformChange::Stages(list) => assert_eq!(list[5].kind, StageKind::Won),
        other => panic!("{other:?}"),
    }
    // d asks first, then sends the list without it.
    update(&mut s, key('d'));
    assert!(matches!(s.overlay, Some(Overlay::Confirm(_))));
    let fx = update(&mut s, key('y'));
    match change(&fx) {
        PlatformChange::Stages(list) => {
            assert_eq!(list.len(), 5);
            assert!(!list.iter().any(|s| s.name == "Tour Scheduled"));
        }
        other => panic!("{other:?}"),
    }
    // Deleting the only open... the intake stage when the next is closed is refused.
    let mut s = on_platform();
    to_stage(&mut s, 0);
    update(&mut s, key('d'));
    assert!(
        matches!(s.overlay, Some(Overlay::Confirm(_))),
        "Contacted is open"
    );
    update(&mut s, key('n'));
    // Stage commands on a field row explain themselves and send nothing.
    update(&mut s, key('g'));
    assert!(update(&mut s, key('d')).is_empty());
    assert!(
        s.toasts
            .iter()
            .any(|t| t.text.contains("default stage first"))
    );
}

#[test]
fn clearing_asks_and_hours_cannot_be_cleared() {
    let mut s = on_platform();
    assert!(update(&mut s, key('x')).is_empty());
    assert!(s.overlay.is_none());
    assert!(
        s.toasts
            .iter()
            .any(|t| t.text.contains("cannot be cleared"))
    );
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    update(&mut s, key('j')); // Honeypot fields
    update(&mut s, key('x'));
    let fx = update(&mut s, key('y'));
    assert_eq!(body(&fx), json!({"honeypot_fields": []}));
}
