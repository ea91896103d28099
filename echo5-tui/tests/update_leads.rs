//! Leads screen: search, paging, the detail pane, move stage, notes and assignee. Pure
//! `update`, no terminal, no network.

mod common;

use chrono::NaiveDate;
use chrono::TimeDelta;
use common::*;
use crossterm::event::KeyCode;
use echo5_core::leads::{Lead, LeadSource, SpamFilter};
use echo5_core::page::Page;
use echo5_tui::app::effect::LeadFilters;
use echo5_tui::app::overlay::{Overlay, UserPick};
use echo5_tui::app::{Action, ApiError, Call, LeadChange, Reply, Screen, State, update};

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
        filters: Default::default(),
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
            filters: Default::default(),
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
            filters: Default::default(),
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
            filters: Default::default(),
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
fn shift_d_erases_the_lead_after_a_confirmation() {
    let mut s = on_leads();
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    assert!(s.leads.view.detail_open);
    // Asked first; n sends nothing and keeps the lead.
    assert!(requests(&update(&mut s, key('D'))).is_empty());
    match &s.overlay {
        Some(Overlay::Confirm(c)) => assert!(c.message.contains("cannot be undone"), "{c:?}"),
        other => panic!("expected a confirmation, got {other:?}"),
    }
    assert!(requests(&update(&mut s, key('n'))).is_empty());
    assert!(s.overlay.is_none());
    assert_eq!(s.leads.rows().len(), 6);
    // y erases the lead under the cursor.
    update(&mut s, key('D'));
    let fx = update(&mut s, key('y'));
    let req = requests(&fx);
    assert_eq!(req[0].call, Call::DeleteLead { lead: lead_id(2) });
    let more = answer(&mut s, &req[0], Ok(Reply::LeadErased { lead: lead_id(2) }));
    assert_eq!(s.leads.rows().len(), 5);
    assert!(s.leads.rows().iter().all(|l| l.id != lead_id(2)));
    assert!(!s.leads.view.detail_open, "its pane closed with it");
    assert!(s.toasts.iter().any(|t| t.text == "lead erased"));
    assert!(calls(&more).contains(&Call::ListStages {
        tenant: tenant_id(1)
    }));
    // The cursor stays in range after the last row goes.
    update(&mut s, key('G'));
    update(&mut s, key('D'));
    let fx = update(&mut s, key('y'));
    let last = match &requests(&fx)[0].call {
        Call::DeleteLead { lead } => *lead,
        other => panic!("{other:?}"),
    };
    answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::LeadErased { lead: last }),
    );
    assert_eq!(s.leads.view.list.selected, 3);
}

#[test]
fn n_adds_a_note_and_a_blank_one_is_refused() {
    let mut s = on_leads();
    update(&mut s, key('n'));
    assert!(matches!(s.overlay, Some(Overlay::Form(_))));
    // Blank: the form stays open with the reason, nothing is sent.
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(requests(&fx).is_empty());
    match &s.overlay {
        Some(Overlay::Form(f)) => assert!(f.error.as_deref().is_some_and(|e| e.contains("empty"))),
        other => panic!("form closed: {other:?}"),
    }
    typ(&mut s, "Call Tuesday");
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = requests(&fx);
    assert_eq!(
        one(&fx),
        Call::AddNote {
            lead: lead_id(1),
            text: "Call Tuesday".into(),
        }
    );
    let note = echo5_core::leads::Note {
        id: uuid::Uuid::from_u128(0x5002),
        text: "Call Tuesday".into(),
        author: "admin".into(),
        at: now(),
    };
    answer(
        &mut s,
        &req[0],
        Ok(Reply::NoteAdded {
            lead: lead_id(1),
            note: note.clone(),
        }),
    );
    assert_eq!(s.leads.rows()[0].notes, vec![note], "appended to the row");
    assert!(s.toasts.iter().any(|t| t.text == "note added"));
}

#[test]
fn a_note_takes_several_lines_and_is_sent_as_typed() {
    let mut s = on_leads();
    update(&mut s, key('n'));
    match &s.overlay {
        Some(Overlay::Form(f)) => {
            assert!(f.fields[0].input.is_multiline());
            assert_eq!(f.fields[0].input.text(), "", "a new note starts empty");
        }
        other => panic!("the note form: {other:?}"),
    }
    typ(&mut s, "Called.");
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
        Call::AddNote {
            lead: lead_id(1),
            text: "Called.\nTry Friday".into(),
        }
    );
}

/// The assignee chooser's lines and the line preselected; panics when another overlay is open.
fn assignee_lines(s: &State) -> (Vec<String>, usize, bool) {
    match &s.overlay {
        Some(Overlay::PickUser(p)) => match &p.pick {
            UserPick::Assignee(a) => (p.choices.clone(), p.selected, a.waiting.is_some()),
            other => panic!("expected the assignee chooser, got {other:?}"),
        },
        other => panic!("expected the assignee chooser, got {other:?}"),
    }
}

/// Open Arms' active users as the chooser lists them, after "nobody" (Old Agent is
/// deactivated and left out).
fn team_lines() -> Vec<String> {
    vec![
        "nobody".to_string(),
        "Ada Admin <ada@openarms.example> · admin".to_string(),
        "Maria Manager <maria@openarms.example> · manager".to_string(),
        "Tom Agent <tom@openarms.example> · agent".to_string(),
    ]
}

#[test]
fn a_picks_the_assignee_from_the_tenants_users() {
    let mut s = on_leads();
    update(&mut s, key('j'));
    let fx = update(&mut s, key('a'));
    let reqs = requests(&fx);
    assert_eq!(
        calls(&fx),
        vec![Call::ListAssignees {
            tenant: tenant_id(1)
        }]
    );
    // "loading…" until the users arrive: nothing to choose, Enter sends nothing.
    assert_eq!(assignee_lines(&s), (Vec::new(), 0, true));
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(matches!(s.overlay, Some(Overlay::PickUser(_))));
    answer(&mut s, &reqs[0], Ok(Reply::Users(team())));
    // Unassigned: "nobody" is preselected.
    assert_eq!(assignee_lines(&s), (team_lines(), 0, false));
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one(&fx),
        Call::PatchLead {
            lead: lead_id(2),
            change: LeadChange::Assignee(Some(user_id(1))),
        }
    );
    assert!(s.overlay.is_none());
}

/// The current assignee is preselected, with a line of their own when the list lacks them;
/// "nobody" unassigns (`assigned_to: null`).
#[test]
fn a_preselects_the_current_assignee_and_nobody_unassigns() {
    let mut s = on_leads();
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    let fx = update(&mut s, key('a'));
    let reqs = requests(&fx);
    answer(&mut s, &reqs[0], Ok(Reply::Users(team())));
    let mut lines = team_lines();
    lines.push("Dana Reyes <dana@openarms.example> (current)".into());
    assert_eq!(assignee_lines(&s), (lines, 4, false));
    // Enter on the current assignee changes nothing.
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(s.overlay.is_none());
    let fx = update(&mut s, key('a'));
    let reqs = requests(&fx);
    answer(&mut s, &reqs[0], Ok(Reply::Users(team())));
    for _ in 0..4 {
        update(&mut s, key('k'));
    }
    assert_eq!(assignee_lines(&s).1, 0);
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one(&fx),
        Call::PatchLead {
            lead: lead_id(1),
            change: LeadChange::Assignee(None),
        }
    );
}

/// Reopened while the first list is on its way: only the latest fetch's answer fills the
/// chooser.
#[test]
fn a_shows_only_the_latest_users_answer() {
    let mut s = on_leads();
    let first = requests(&update(&mut s, key('a')));
    update(&mut s, code(KeyCode::Esc));
    let second = requests(&update(&mut s, key('a')));
    assert_ne!(first[0].id, second[0].id);
    answer(&mut s, &first[0], Ok(Reply::Users(team()[..1].to_vec())));
    assert_eq!(assignee_lines(&s), (Vec::new(), 0, true), "still loading");
    answer(&mut s, &second[0], Ok(Reply::Users(team())));
    assert_eq!(assignee_lines(&s).0, team_lines());
}

#[test]
fn esc_closes_the_assignee_chooser_without_a_request() {
    let mut s = on_leads();
    let fx = update(&mut s, key('a'));
    let reqs = requests(&fx);
    answer(&mut s, &reqs[0], Ok(Reply::Users(team())));
    update(&mut s, key('j'));
    assert!(requests(&update(&mut s, code(KeyCode::Esc))).is_empty());
    assert!(s.overlay.is_none());
}

/// A manager may not list users: the chooser offers "nobody" and "me" at once, and no
/// users fetch is sent.
#[test]
fn a_managers_chooser_has_nobody_and_me_and_fetches_no_users() {
    let maria = team()[1].clone();
    let mut s = logged_in_as(maria.clone());
    let fx = update(&mut s, key('6'));
    settle(&mut s, fx);
    assert_eq!(s.screen, Screen::Leads);
    update(&mut s, key('j'));
    let fx = update(&mut s, key('a'));
    assert!(
        !calls(&fx)
            .iter()
            .any(|c| matches!(c, Call::ListAssignees { .. } | Call::ListUsers { .. })),
        "{fx:?}"
    );
    assert_eq!(
        assignee_lines(&s),
        (vec!["nobody".to_string(), "me".to_string()], 0, false)
    );
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        one(&fx),
        Call::PatchLead {
            lead: lead_id(2),
            change: LeadChange::Assignee(Some(maria.id)),
        }
    );
}

/// An answer that fails leaves the chooser saying why, not "loading…" for ever.
#[test]
fn a_failed_users_fetch_is_shown_in_the_chooser() {
    let mut s = on_leads();
    let fx = update(&mut s, key('a'));
    let reqs = requests(&fx);
    answer(&mut s, &reqs[0], Err(ApiError::Decode("boom".into())));
    let Some(Overlay::PickUser(p)) = &s.overlay else {
        panic!("the chooser stays open: {:?}", s.overlay);
    };
    let UserPick::Assignee(a) = &p.pick else {
        panic!("{:?}", p.pick);
    };
    assert!(a.waiting.is_none());
    assert!(
        a.error.as_deref().is_some_and(|e| e.contains("boom")),
        "{a:?}"
    );
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

fn filters_of(fx: &[echo5_tui::app::Effect]) -> LeadFilters {
    match one(fx) {
        Call::ListLeads { filters, .. } => filters,
        other => panic!("expected a listing, got {other:?}"),
    }
}

#[test]
fn f_filters_by_stage_source_breach_spam_and_days() {
    let mut s = on_leads();
    update(&mut s, key('f'));
    typ(&mut s, "contac"); // a unique start of "Contacted"
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "meta");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "no");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "shown");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "2026-05-01");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "2026-05-31");
    let fx = update(&mut s, code(KeyCode::Enter));
    let want = LeadFilters {
        stage: Some(stage_id(2)),
        source: Some(LeadSource::Meta),
        breached: Some(false),
        spam: SpamFilter::Include,
        from: NaiveDate::from_ymd_opt(2026, 5, 1),
        to: NaiveDate::from_ymd_opt(2026, 5, 31),
    };
    assert_eq!(filters_of(&fx), want);
    assert!(s.overlay.is_none());
    assert_eq!(s.leads.view.filters, want);
    // The API's `to` is exclusive: the day typed is included by sending the next one.
    let q = want.query();
    assert!(q.contains(&("to", "2026-06-01".into())), "{q:?}");
    assert!(q.contains(&("spam", "all".into())), "{q:?}");
    assert!(q.contains(&("breached", "false".into())), "{q:?}");
    // Esc clears the filters (no search to clear first).
    let fx = update(&mut s, code(KeyCode::Esc));
    assert_eq!(filters_of(&fx), LeadFilters::default());
}

#[test]
fn f_keeps_the_form_open_on_a_bad_value() {
    let mut s = on_leads();
    for (field, value, says) in [
        (0, "zzz", "no stage"),
        (1, "fax", "source"),
        (2, "maybe", "in breach"),
        (3, "lots", "spam"),
        (4, "May 1st", "from"),
    ] {
        update(&mut s, key('f'));
        for _ in 0..field {
            update(&mut s, code(KeyCode::Tab));
        }
        typ(&mut s, value);
        let fx = update(&mut s, code(KeyCode::Enter));
        assert!(requests(&fx).is_empty(), "{value}");
        match &s.overlay {
            Some(Overlay::Form(f)) => {
                assert!(
                    f.error.as_deref().is_some_and(|e| e.contains(says)),
                    "{value}: {:?}",
                    f.error
                )
            }
            other => panic!("{value}: form closed: {other:?}"),
        }
        update(&mut s, code(KeyCode::Esc));
    }
}

#[test]
fn s_cycles_spam_hidden_shown_only() {
    let mut s = on_leads();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let fx = update(&mut s, key('s'));
        seen.push(filters_of(&fx).spam);
        settle(&mut s, fx);
    }
    assert_eq!(
        seen,
        [SpamFilter::Include, SpamFilter::Only, SpamFilter::Hide]
    );
}

#[test]
fn u_clears_a_spam_flag_and_only_on_spam() {
    let mut s = on_leads();
    assert!(requests(&update(&mut s, key('u'))).is_empty());
    assert!(s.toasts.iter().any(|t| t.text.contains("not flagged")));
    s.leads.remote.data.as_mut().unwrap()[0].is_spam = true;
    let fx = update(&mut s, key('u'));
    assert_eq!(
        one(&fx),
        Call::PatchLead {
            lead: lead_id(1),
            change: LeadChange::Spam(false),
        }
    );
    let mut clean = lead_detail(leads()[0].clone());
    clean.lead.is_spam = false;
    answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::LeadSaved(Box::new(clean))),
    );
    assert!(!s.leads.rows()[0].is_spam);
    assert!(s.toasts.iter().any(|t| t.text == "no longer spam"));
}

#[test]
fn a_new_lead_arrives_on_top_and_the_cursor_stays_on_its_lead() {
    let mut s = on_leads();
    // Two pages in, the cursor on the fourth lead.
    let fx = update(&mut s, key('G'));
    settle(&mut s, fx);
    assert_eq!(s.leads.rows().len(), 8);
    s.leads.view.list.selected = 3;
    let held = s.leads.selected().unwrap().id;
    let fx = stream(&mut s, event("lead.created", 41, Some(tenant_id(1))));
    let req = requests(&fx);
    let list = req
        .iter()
        .find(|r| matches!(r.call, Call::ListLeads { cursor: None, .. }))
        .expect("the first page again");
    let mut fresh = Lead::blank(lead_id(77), tenant_id(1), stage_id(1), now());
    fresh.name = Some("Just Arrived".into());
    let mut head = vec![fresh];
    head.extend(leads().into_iter().take(5));
    answer(
        &mut s,
        list,
        Ok(Reply::Leads(Page {
            data: head,
            next_cursor: Some("page2".into()),
        })),
    );
    let rows = s.leads.rows();
    assert_eq!(rows[0].id, lead_id(77), "new lead on top");
    assert_eq!(rows.len(), 9, "the older pages stay");
    assert_eq!(rows.last().unwrap().id, more_leads()[1].id);
    assert_eq!(
        s.leads.selected().unwrap().id,
        held,
        "the cursor stays on its lead"
    );
    assert_eq!(s.leads.view.list.selected, 4);
    assert_eq!(
        s.leads.view.next_cursor, None,
        "still at the end of the list"
    );
}

#[test]
fn c_enters_a_lead_and_the_cursor_goes_to_it() {
    let mut s = on_leads();
    update(&mut s, key('c'));
    // Nothing typed: core's rule, the form stays.
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
    match &s.overlay {
        Some(Overlay::Form(f)) => {
            assert!(
                f.error.as_deref().is_some_and(|e| e.contains("name")),
                "{:?}",
                f.error
            )
        }
        other => panic!("form closed: {other:?}"),
    }
    typ(&mut s, "Walk In");
    update(&mut s, code(KeyCode::Tab));
    typ(&mut s, "not-an-email");
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
    for _ in 0.."not-an-email".len() {
        update(&mut s, code(KeyCode::Backspace));
    }
    typ(&mut s, "walk@example.com");
    for _ in 0..4 {
        update(&mut s, code(KeyCode::Tab));
    }
    typ(&mut s, "came to the open day");
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = requests(&fx);
    match one(&fx) {
        Call::CreateLead { tenant, lead } => {
            assert_eq!(tenant, tenant_id(1));
            assert_eq!(lead.name.as_deref(), Some("Walk In"));
            assert_eq!(lead.email.as_deref(), Some("walk@example.com"));
            assert_eq!(lead.notes.as_deref(), Some("came to the open day"));
            assert_eq!(lead.phone, None);
        }
        other => panic!("{other:?}"),
    }
    let mut added = Lead::blank(lead_id(88), tenant_id(1), stage_id(1), now());
    added.name = Some("Walk In".into());
    let more = answer(
        &mut s,
        &req[0],
        Ok(Reply::LeadAdded(Box::new(lead_detail(added.clone())))),
    );
    assert!(s.toasts.iter().any(|t| t.text == "lead added: Walk In"));
    let list = requests(&more)
        .into_iter()
        .find(|r| matches!(r.call, Call::ListLeads { .. }))
        .expect("the list again");
    let mut page = vec![added];
    page.extend(leads());
    answer(
        &mut s,
        &list,
        Ok(Reply::Leads(Page {
            data: page,
            next_cursor: None,
        })),
    );
    assert_eq!(s.leads.selected().map(|l| l.id), Some(lead_id(88)));
}

#[test]
fn e_exports_what_is_listed_and_asks_before_overwriting() {
    let mut s = on_leads();
    let fx = update(&mut s, key('s'));
    settle(&mut s, fx);
    update(&mut s, key('e'));
    match &s.overlay {
        Some(Overlay::Form(f)) => assert_eq!(
            f.fields[0].input.text(),
            format!("open-arms-leads-{}.csv", now().format("%Y-%m-%d"))
        ),
        other => panic!("{other:?}"),
    }
    // A path of its own.
    for _ in 0..40 {
        update(&mut s, code(KeyCode::Backspace));
    }
    typ(&mut s, "/tmp/x/leads.csv");
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = requests(&fx);
    let want = |overwrite| Call::ExportCsv {
        tenant: tenant_id(1),
        q: String::new(),
        filters: LeadFilters {
            spam: SpamFilter::Include,
            ..LeadFilters::default()
        },
        path: "/tmp/x/leads.csv".into(),
        overwrite,
    };
    assert_eq!(one(&fx), want(false));
    // The file exists: nothing written until a yes.
    answer(
        &mut s,
        &req[0],
        Ok(Reply::CsvExists {
            path: "/tmp/x/leads.csv".into(),
        }),
    );
    assert!(matches!(s.overlay, Some(Overlay::Confirm(_))));
    let fx = update(&mut s, key('y'));
    assert_eq!(one(&fx), want(true));
    answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::CsvExported {
            path: "/tmp/x/leads.csv".into(),
            bytes: 2048,
        }),
    );
    assert!(
        s.toasts
            .iter()
            .any(|t| t.text == "exported 2.0 KiB to /tmp/x/leads.csv"),
        "{:?}",
        s.toasts
    );
    // A path that cannot be written says why.
    update(&mut s, key('e'));
    let fx = update(&mut s, code(KeyCode::Enter));
    answer(
        &mut s,
        &requests(&fx)[0],
        Err(ApiError::File(
            "cannot write /nope/leads.csv: folder /nope does not exist".into(),
        )),
    );
    assert!(
        s.toasts
            .iter()
            .any(|t| t.text.contains("folder /nope does not exist")),
        "{:?}",
        s.toasts
    );
    // `n` on the confirmation writes nothing.
    update(&mut s, key('e'));
    let fx = update(&mut s, code(KeyCode::Enter));
    answer(
        &mut s,
        &requests(&fx)[0],
        Ok(Reply::CsvExists {
            path: "x.csv".into(),
        }),
    );
    assert!(requests(&update(&mut s, key('n'))).is_empty());
    assert!(s.overlay.is_none());
}

#[test]
fn the_timeline_holds_notes_and_moves_and_names_the_actor() {
    let mut s = on_leads();
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    let d = s.leads.detail.data.as_ref().expect("detail");
    assert_eq!(d.lead.notes.len(), 1, "the note comes with the lead");
    // A lead that moved: the move's actor is the admin token, shown as "admin".
    for _ in 0..2 {
        let fx = update(&mut s, key('j'));
        settle(&mut s, fx);
    }
    let d = s.leads.detail.data.as_ref().expect("detail");
    assert!(d.history[0].by.starts_with("admin:"));
    assert_eq!(echo5_core::audit::actor_name(&d.history[0].by), "admin");
}
