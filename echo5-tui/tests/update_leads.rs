//! Leads screen: search, paging, the detail pane, move stage, notes and assignee. Pure
//! `update`, no terminal, no network.

mod common;

use chrono::TimeDelta;
use common::*;
use crossterm::event::KeyCode;
use echo5_core::page::Page;
use echo5_tui::app::overlay::Overlay;
use echo5_tui::app::{Action, Call, LeadChange, Reply, Screen, State, update};

fn on_leads() -> State {
    on_tenant_screen('6')
}

fn one(fx: &[echo5_tui::app::Effect]) -> Call {
    match calls(fx).as_slice() {
        [c] => c.clone(),
        other => panic!("expected one call, got {other:?}"),
    }
}

#[test]
fn six_opens_leads_with_the_first_page_and_stage_names() {
    let mut s = on_tenant_screen('1');
    s.stages.remote = Default::default();
    let fx = update(&mut s, key('6'));
    assert_eq!(s.screen, Screen::Leads);
    let c = calls(&fx);
    assert!(c.contains(&Call::ListLeads {
        tenant: tenant_id(1),
        q: String::new(),
        cursor: None,
    }));
    assert!(c.contains(&Call::ListStages {
        tenant: tenant_id(1)
    }));
    settle(&mut s, fx);
    assert_eq!(s.leads.rows().len(), 6);
    assert_eq!(s.leads.view.next_cursor.as_deref(), Some("page2"));
}

#[test]
fn filter_is_sent_as_q_on_enter_not_per_key() {
    let mut s = on_leads();
    update(&mut s, key('/'));
    let typed = typ(&mut s, "maria");
    assert!(typed.is_empty(), "no request while typing");
    assert_eq!(s.leads.rows().len(), 6, "rows unchanged until Enter");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one(&fx),
        Call::ListLeads {
            tenant: tenant_id(1),
            q: "maria".into(),
            cursor: None,
        }
    );
    assert!(s.overlay.is_none());
    assert_eq!(s.leads.view.query, "maria");
    // Esc clears the search and fetches everything again.
    let fx = update(&mut s, code(KeyCode::Esc));
    assert_eq!(
        one(&fx),
        Call::ListLeads {
            tenant: tenant_id(1),
            q: String::new(),
            cursor: None,
        }
    );
    assert_eq!(s.leads.view.query, "");
}

#[test]
fn an_answer_for_an_older_search_is_dropped() {
    let mut s = on_leads();
    update(&mut s, key('/'));
    typ(&mut s, "ana");
    let old = requests(&update(&mut s, code(KeyCode::Enter)));
    update(&mut s, key('/'));
    update(&mut s, ctrl('u'));
    typ(&mut s, "tom");
    let new = requests(&update(&mut s, code(KeyCode::Enter)));
    let tom: Vec<_> = leads()
        .into_iter()
        .filter(|l| l.name.as_deref() == Some("Tom Becker"))
        .collect();
    answer(
        &mut s,
        &new[0],
        Ok(Reply::Leads(Page {
            data: tom,
            next_cursor: None,
        })),
    );
    // The "ana" answer lands late: it must not replace the "tom" rows.
    answer(
        &mut s,
        &old[0],
        Ok(Reply::Leads(Page {
            data: leads(),
            next_cursor: None,
        })),
    );
    assert_eq!(s.leads.rows().len(), 1);
    assert_eq!(s.leads.rows()[0].name.as_deref(), Some("Tom Becker"));
}

#[test]
fn an_answer_for_another_tenant_is_dropped() {
    let mut s = on_leads();
    let fx = update(&mut s, ctrl('r'));
    let stale = requests(&fx);
    update(&mut s, key(':'));
    typ(&mut s, "tenant caring");
    update(&mut s, code(KeyCode::Enter));
    assert!(s.leads.remote.data.is_none(), "Open Arms' leads are gone");
    answer(
        &mut s,
        &stale[0],
        Ok(Reply::Leads(Page {
            data: leads(),
            next_cursor: None,
        })),
    );
    assert!(s.leads.remote.data.is_none(), "and do not come back");
}

#[test]
fn scrolling_past_the_end_loads_the_next_page() {
    let mut s = on_leads();
    for _ in 0..5 {
        assert!(requests(&update(&mut s, key('j'))).is_empty());
    }
    assert_eq!(s.leads.view.list.selected, 5);
    let fx = update(&mut s, key('j'));
    assert_eq!(
        one(&fx),
        Call::ListLeads {
            tenant: tenant_id(1),
            q: String::new(),
            cursor: Some("page2".into()),
        }
    );
    // A second press while it loads asks for nothing more.
    assert!(requests(&update(&mut s, key('j'))).is_empty());
    settle(&mut s, fx);
    assert_eq!(s.leads.rows().len(), 8);
    assert_eq!(s.leads.view.next_cursor, None);
    update(&mut s, key('j'));
    assert_eq!(s.leads.view.list.selected, 6);
    // The last page is in: End asks for nothing.
    assert!(requests(&update(&mut s, key('G'))).is_empty());
    assert_eq!(s.leads.view.list.selected, 7);
    // A poll would fold the pages back to the first one; it leaves the list alone.
    let fx = update(&mut s, Action::Tick(now() + TimeDelta::seconds(30)));
    assert!(
        !calls(&fx)
            .iter()
            .any(|c| matches!(c, Call::ListLeads { .. }))
    );
}

#[test]
fn enter_and_tab_open_the_detail_pane_which_follows_the_cursor() {
    let mut s = on_leads();
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(s.leads.view.detail_open);
    assert_eq!(one(&fx), Call::GetLead { lead: lead_id(1) });
    settle(&mut s, fx);
    assert_eq!(
        s.leads.detail.data.as_ref().map(|d| d.lead.id),
        Some(lead_id(1))
    );
    let fx = update(&mut s, key('j'));
    assert_eq!(one(&fx), Call::GetLead { lead: lead_id(2) });
    // Tab closes it again; so does Esc.
    update(&mut s, code(KeyCode::Tab));
    assert!(!s.leads.view.detail_open);
    update(&mut s, code(KeyCode::Tab));
    assert!(s.leads.view.detail_open);
    update(&mut s, code(KeyCode::Esc));
    assert!(!s.leads.view.detail_open);
    assert_eq!(
        s.screen,
        Screen::Leads,
        "Esc closed the pane, not the screen"
    );
}

#[test]
fn m_moves_the_lead_to_a_picked_stage() {
    let mut s = on_leads();
    update(&mut s, key('m'));
    match &s.overlay {
        Some(Overlay::PickStage(p)) => {
            assert_eq!(p.lead, lead_id(1));
            assert_eq!(p.choices.len(), 6);
            assert_eq!(p.selected, 0, "the lead's current stage is preselected");
        }
        other => panic!("expected the stage picker, got {other:?}"),
    }
    // Enter on the current stage changes nothing.
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
    update(&mut s, key('m'));
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(s.overlay.is_none());
    let req = requests(&fx);
    assert_eq!(
        req[0].call,
        Call::PatchLead {
            lead: lead_id(1),
            change: LeadChange::Stage(stage_id(2)),
        }
    );
    let mut moved = lead_detail(leads()[0].clone());
    moved.lead.stage_id = stage_id(2);
    let more = answer(&mut s, &req[0], Ok(Reply::LeadSaved(Box::new(moved))));
    assert_eq!(s.leads.rows()[0].stage_id, stage_id(2));
    assert!(s.toasts.iter().any(|t| t.text == "moved to Contacted"));
    assert!(calls(&more).contains(&Call::ListStages {
        tenant: tenant_id(1)
    }));
    // Esc cancels the picker.
    update(&mut s, key('m'));
    assert!(requests(&update(&mut s, code(KeyCode::Esc))).is_empty());
    assert!(s.overlay.is_none());
}

#[test]
fn n_edits_notes_and_empty_clears_them() {
    let mut s = on_leads();
    update(&mut s, key('n'));
    assert!(matches!(s.overlay, Some(Overlay::Form(_))));
    typ(&mut s, "Call Tuesday");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one(&fx),
        Call::PatchLead {
            lead: lead_id(1),
            change: LeadChange::Notes(Some("Call Tuesday".into())),
        }
    );
    update(&mut s, key('n'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one(&fx),
        Call::PatchLead {
            lead: lead_id(1),
            change: LeadChange::Notes(None),
        }
    );
}

#[test]
fn notes_keep_their_line_breaks_and_alt_enter_adds_one() {
    let mut s = on_leads();
    // The lead's notes as the daemon has them, over two lines.
    if let Some(rows) = s.leads.remote.data.as_mut() {
        rows[0].notes = Some("Called.\nNo answer.".into());
    }
    update(&mut s, key('n'));
    match &s.overlay {
        Some(Overlay::Form(f)) => {
            assert!(f.fields[0].input.is_multiline());
            assert_eq!(f.fields[0].input.text(), "Called.\nNo answer.");
        }
        other => panic!("the notes form: {other:?}"),
    }
    update(
        &mut s,
        Action::Key(crossterm::event::KeyEvent::new(
            KeyCode::Enter,
            crossterm::event::KeyModifiers::ALT,
        )),
    );
    typ(&mut s, "Try Friday");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one(&fx),
        Call::PatchLead {
            lead: lead_id(1),
            change: LeadChange::Notes(Some("Called.\nNo answer.\nTry Friday".into())),
        }
    );
}

#[test]
fn a_sets_the_assignee() {
    let mut s = on_leads();
    update(&mut s, key('j'));
    update(&mut s, key('a'));
    typ(&mut s, "Dana");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one(&fx),
        Call::PatchLead {
            lead: lead_id(2),
            change: LeadChange::Assignee(Some("Dana".into())),
        }
    );
    // Esc cancels without a request.
    update(&mut s, key('a'));
    assert!(requests(&update(&mut s, code(KeyCode::Esc))).is_empty());
}

#[test]
fn keys_do_nothing_on_an_empty_list() {
    let mut s = on_leads();
    s.leads.remote.data = Some(Vec::new());
    for k in ['m', 'n', 'a', 'j', 'G'] {
        assert!(requests(&update(&mut s, key(k))).is_empty());
    }
    update(&mut s, code(KeyCode::Enter));
    assert!(s.overlay.is_none());
    assert!(!s.leads.view.detail_open);
}
