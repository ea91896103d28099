//! Pipeline key handling: add, rename, reorder, delete with move-to and confirmation.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_core::stages::{Stage, StageKind};
use echo5_tui::app::overlay::Overlay;
use echo5_tui::app::{Call, Reply, update};

fn names(s: &echo5_tui::app::State) -> Vec<String> {
    s.stages
        .remote
        .data
        .iter()
        .flatten()
        .map(|s| s.name.clone())
        .collect()
}

#[test]
fn add_stage_sends_name_and_kind() {
    let mut s = on_tenant_screen('3');
    update(&mut s, key('a'));
    typ(&mut s, "Nurture");
    update(&mut s, code(KeyCode::Tab));
    for _ in 0..4 {
        update(&mut s, code(KeyCode::Backspace));
    }
    typ(&mut s, "lost");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        calls(&fx),
        vec![Call::AddStage {
            tenant: tenant_id(1),
            name: "Nurture".into(),
            kind: StageKind::Lost
        }]
    );
    assert!(s.overlay.is_none());
    assert_eq!(s.saving, 1);
    // The answer triggers a refetch and the cursor lands on the new stage.
    let req = &requests(&fx)[0];
    let added = Stage {
        id: stage_id(7),
        name: "Nurture".into(),
        kind: StageKind::Lost,
    };
    let more = answer(&mut s, req, Ok(Reply::StageAdded(added)));
    assert_eq!(
        calls(&more),
        vec![Call::ListStages {
            tenant: tenant_id(1)
        }]
    );
    let mut list = stages();
    list.push(echo5_core::stages::StageSummary {
        id: stage_id(7),
        name: "Nurture".into(),
        kind: StageKind::Lost,
        lead_count: 0,
    });
    answer(&mut s, &requests(&more)[0], Ok(Reply::Stages(list)));
    assert_eq!(s.stages.view.selected, 6);
    assert_eq!(s.saving, 0);
}

#[test]
fn add_refuses_a_duplicate_or_bad_kind_and_keeps_the_form() {
    let mut s = on_tenant_screen('3');
    update(&mut s, key('a'));
    typ(&mut s, "won");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(fx.is_empty());
    match &s.overlay {
        Some(Overlay::Form(f)) => {
            assert!(f.error.as_deref().unwrap_or("").contains("already exists"))
        }
        other => panic!("{other:?}"),
    }
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "x");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "2");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(fx.is_empty());
    match &s.overlay {
        Some(Overlay::Form(f)) => {
            assert_eq!(f.error.as_deref(), Some("kind must be open, won or lost"))
        }
        other => panic!("{other:?}"),
    }
    update(&mut s, code(KeyCode::Esc));
    assert!(s.overlay.is_none());
}

#[test]
fn rename_prefills_and_sends_patch() {
    let mut s = on_tenant_screen('3');
    update(&mut s, key('j'));
    update(&mut s, key('r'));
    update(&mut s, ctrl('u'));
    typ(&mut s, "Called");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        calls(&fx),
        vec![Call::RenameStage {
            tenant: tenant_id(1),
            stage: stage_id(2),
            name: "Called".into()
        }]
    );
    // Unchanged name: nothing to send.
    update(&mut s, key('r'));
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
}

#[test]
fn ctrl_j_and_ctrl_k_send_the_full_order_at_once() {
    let mut s = on_tenant_screen('3');
    update(&mut s, key('j'));
    let fx = update(&mut s, ctrl('j'));
    let order: Vec<_> = [1, 3, 2, 4, 5, 6].into_iter().map(stage_id).collect();
    assert_eq!(
        calls(&fx),
        vec![Call::ReorderStages {
            tenant: tenant_id(1),
            order
        }]
    );
    assert_eq!(s.stages.view.selected, 2, "the cursor follows the stage");
    assert_eq!(names(&s)[2], "Contacted", "shown before the daemon answers");

    // A poll issued before the reorder must not undo it when it lands late.
    let mut s2 = on_tenant_screen('3');
    let poll = requests(&update(&mut s2, ctrl('r')));
    update(&mut s2, key('j'));
    update(&mut s2, ctrl('k'));
    answer(&mut s2, &poll[0], Ok(Reply::Stages(stages())));
    assert_eq!(names(&s2)[0], "Contacted");
}

#[test]
fn reorder_refused_by_core_rules_is_not_sent() {
    let mut s = on_tenant_screen('3');
    // Make the pipeline two stages: New (open) then Won; moving Won up would put a
    // non-open stage first.
    let mut two = stages();
    two.retain(|st| st.name == "New" || st.name == "Won");
    s.stages.remote.data = Some(two);
    update(&mut s, key('j'));
    let fx = update(&mut s, ctrl('k'));
    assert!(fx.is_empty());
    assert!(
        s.toasts.iter().any(|t| t.text.contains("open")),
        "{:?}",
        s.toasts
    );
    // And at the edges nothing happens.
    update(&mut s, key('g'));
    assert!(update(&mut s, ctrl('k')).is_empty());
}

#[test]
fn a_refused_reorder_is_rolled_back_by_a_refetch() {
    let mut s = on_tenant_screen('3');
    let fx = update(&mut s, ctrl('j'));
    let err = echo5_tui::app::ApiError::Http {
        status: 409,
        detail: echo5_core::ErrorDetail {
            code: "x".into(),
            message: "nope".into(),
            field: None,
        },
    };
    let more = answer(&mut s, &requests(&fx)[0], Err(err));
    assert_eq!(
        calls(&more),
        vec![Call::ListStages {
            tenant: tenant_id(1)
        }]
    );
    answer(&mut s, &requests(&more)[0], Ok(Reply::Stages(stages())));
    assert_eq!(names(&s)[0], "New");
    assert!(s.toasts.iter().any(|t| t.text.contains("not saved: nope")));
}

#[test]
fn delete_with_leads_asks_where_then_confirms() {
    let mut s = on_tenant_screen('3');
    update(&mut s, key('j')); // Contacted, 22 leads
    update(&mut s, key('d'));
    match &s.overlay {
        Some(Overlay::MoveTo(m)) => {
            assert_eq!(m.choices[0].1, "New", "one step back is offered first");
            assert_eq!(m.choices.len(), 5);
        }
        other => panic!("{other:?}"),
    }
    update(&mut s, key('j')); // Qualified
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    match &s.overlay {
        Some(Overlay::Confirm(c)) => {
            assert!(c.message.contains("move its 22 lead(s) to \"Qualified\""))
        }
        other => panic!("{other:?}"),
    }
    let fx = update(&mut s, key('y'));
    assert_eq!(
        calls(&fx),
        vec![Call::DeleteStage {
            tenant: tenant_id(1),
            stage: stage_id(2),
            move_to: Some(stage_id(3))
        }]
    );
}

#[test]
fn delete_of_an_empty_stage_only_confirms_and_n_cancels() {
    let mut s = on_tenant_screen('3');
    update(&mut s, key('j'));
    update(&mut s, key('j')); // Qualified, 0 leads
    update(&mut s, key('d'));
    assert!(matches!(s.overlay, Some(Overlay::Confirm(_))));
    assert!(update(&mut s, key('n')).is_empty());
    assert!(s.overlay.is_none());
    update(&mut s, key('d'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        calls(&fx),
        vec![Call::DeleteStage {
            tenant: tenant_id(1),
            stage: stage_id(3),
            move_to: None
        }]
    );
}

#[test]
fn filter_blocks_reorder() {
    let mut s = on_tenant_screen('3');
    update(&mut s, key('/'));
    typ(&mut s, "o");
    update(&mut s, code(KeyCode::Enter));
    assert!(update(&mut s, ctrl('j')).is_empty());
}
