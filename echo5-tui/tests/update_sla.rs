//! The SLA screen as an owner uses it: it follows the selected tenant, sorts the most
//! overdue first, announces a new breach wherever the operator is, and opens a breach's
//! lead to move, assign and note it without leaving the screen.

mod common;

use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use echo5_core::page::Page;
use echo5_tui::app::overlay::{Overlay, UserPick};
use echo5_tui::app::state::ToastLevel;
use echo5_tui::app::{Action, Call, LeadChange, Reply, Screen, State, update};

/// The daemon's breach list after `fresh` breached too.
fn with_fresh(tenant: Option<uuid::Uuid>) -> Reply {
    let mut data: Vec<_> = breaches()
        .into_iter()
        .filter(|b| tenant.is_none_or(|t| b.tenant.id == t))
        .collect();
    data.push(fresh_breach());
    Reply::Breaches(Page {
        data,
        next_cursor: None,
    })
}

/// An `sla.breached` event arrives and the refetch it causes answers with the fresh breach.
fn breach_arrives(s: &mut State, tenant: Option<uuid::Uuid>) {
    let fx = stream(s, event("sla.breached", 50, Some(tenant_id(1))));
    let reqs = requests(&fx);
    let req = reqs
        .iter()
        .find(|r| matches!(r.call, Call::ListBreaches { .. }))
        .unwrap_or_else(|| panic!("a breach event refetches the breaches: {fx:?}"));
    assert_eq!(req.call, Call::ListBreaches { tenant });
    answer(s, req, Ok(with_fresh(tenant)));
}

#[test]
fn a_breach_event_on_the_dashboard_raises_a_toast_and_the_header_count() {
    let mut s = started();
    assert_eq!(s.screen, Screen::Dashboard);
    // Loaded at start: the first list is the baseline, nothing in it is news.
    assert_eq!(s.sla.remote.data.as_ref().map(Vec::len), Some(3));
    assert!(s.sla.unseen.is_empty() && s.toasts.is_empty());
    breach_arrives(&mut s, None);
    assert_eq!(s.sla.unseen, vec![lead_id(209)]);
    let toast = s.toasts.last().expect("a toast");
    assert_eq!(toast.level, ToastLevel::Alert);
    assert!(
        toast.text.contains("Nina Fresh") && toast.text.contains("Open Arms"),
        "{}",
        toast.text
    );
    assert!(toast.text.contains("7 shows it"), "{}", toast.text);
    // The same list again is not news twice.
    breach_arrives(&mut s, None);
    assert_eq!(s.toasts.len(), 1);
    assert_eq!(s.sla.unseen.len(), 1);
}

#[test]
fn a_lead_event_off_screen_does_not_fetch_breaches_but_a_move_does() {
    let mut s = started();
    let fx = stream(&mut s, event("lead.created", 3, Some(tenant_id(1))));
    assert!(!calls(&fx).contains(&Call::ListBreaches { tenant: None }));
    let fx = stream(&mut s, event("lead.updated", 4, Some(tenant_id(1))));
    assert!(calls(&fx).contains(&Call::ListBreaches { tenant: None }));
}

#[test]
fn the_toast_is_gone_after_a_screen_change() {
    let mut s = started();
    breach_arrives(&mut s, None);
    assert_eq!(s.toasts.len(), 1);
    let fx = update(&mut s, key('7'));
    settle(&mut s, fx);
    assert!(s.toasts.is_empty(), "{:?}", s.toasts);
    // A toast the screen-changing key itself raised stays.
    let fx = update(&mut s, key('4'));
    assert_eq!(s.screen, Screen::Tenants);
    assert!(s.toasts.iter().any(|t| t.text == "pick a tenant first"));
    settle(&mut s, fx);
}

#[test]
fn new_breaches_are_marked_until_the_cursor_has_been_on_them() {
    let mut s = on_tenant_screen('7');
    breach_arrives(&mut s, Some(tenant_id(1)));
    // Most overdue first: the fresh one (1 h over) comes last.
    let order: Vec<_> = s.sla.filtered().iter().map(|b| b.lead_id).collect();
    assert_eq!(order, vec![lead_id(201), lead_id(203), lead_id(209)]);
    assert!(s.sla.is_new(lead_id(209)));
    update(&mut s, key('j'));
    assert!(s.sla.is_new(lead_id(209)), "the cursor is not on it yet");
    update(&mut s, key('j'));
    assert!(!s.sla.is_new(lead_id(209)));
}

#[test]
fn an_unsorted_answer_is_shown_most_overdue_first_and_the_cursor_stays_on_its_breach() {
    let mut s = on_sla_all();
    update(&mut s, key('j'));
    let on = s.sla.selected().map(|b| b.lead_id);
    let mut data = breaches();
    data.reverse();
    let fx = update(&mut s, ctrl('r'));
    let req = requests(&fx).remove(0);
    answer(
        &mut s,
        &req,
        Ok(Reply::Breaches(Page {
            data,
            next_cursor: None,
        })),
    );
    let overdue: Vec<i64> = s
        .sla
        .filtered()
        .iter()
        .map(|b| (now() - b.deadline).num_minutes())
        .collect();
    let mut sorted = overdue.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(overdue, sorted);
    assert_eq!(s.sla.selected().map(|b| b.lead_id), on);
}

fn on_sla_all() -> State {
    let mut s = started();
    let fx = update(&mut s, key('7'));
    settle(&mut s, fx);
    s
}

#[test]
fn enter_opens_the_lead_and_esc_returns_to_the_list_with_the_selection_kept() {
    let mut s = on_sla_all();
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let c = calls(&fx);
    // June Park, of Caring Hearts: no tenant is selected, so its stages are fetched.
    assert!(
        c.contains(&Call::GetBreachLead { lead: lead_id(202) }),
        "{c:?}"
    );
    assert!(c.contains(&Call::ListBreachStages {
        tenant: tenant_id(2)
    }));
    settle(&mut s, fx);
    assert_eq!(s.screen, Screen::Breaches);
    assert_eq!(
        s.sla.lead.data.as_ref().map(|d| d.lead.id),
        Some(lead_id(202))
    );
    assert_eq!(s.sla.stage_name(stage_id(2)), Some("Contacted"));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.sla.open.is_none());
    assert_eq!(s.screen, Screen::Breaches);
    assert_eq!(s.sla.view.selected, 1);
}

#[test]
fn a_breach_is_moved_from_the_sla_screen_and_leaves_the_list() {
    let mut s = on_sla_all();
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    update(&mut s, key('m'));
    let Some(Overlay::PickStage(p)) = &s.overlay else {
        panic!("the stage chooser: {:?}", s.overlay);
    };
    assert_eq!(p.lead, lead_id(201));
    assert_eq!(p.selected, 0, "its own stage preselected");
    // Its own stage: nothing to send.
    assert!(calls(&update(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(s.toasts.iter().any(|t| t.text == "already in that stage"));
    update(&mut s, key('m'));
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let req = requests(&fx).remove(0);
    assert_eq!(
        req.call,
        Call::PatchLead {
            lead: lead_id(201),
            change: LeadChange::Stage(stage_id(2)),
        }
    );
    let mut saved = breach_lead(&breaches()[0]);
    saved.lead.stage_id = stage_id(2);
    saved.in_breach = false;
    let fx = answer(&mut s, &req, Ok(Reply::LeadSaved(Box::new(saved))));
    // The pane shows the move; the list is fetched again (the lead left breach).
    assert_eq!(
        s.sla.lead.data.as_ref().map(|d| d.lead.stage_id),
        Some(stage_id(2))
    );
    assert!(calls(&fx).contains(&Call::ListBreaches { tenant: None }));
    assert_eq!(s.screen, Screen::Breaches);
}

#[test]
fn m_before_the_stages_are_in_opens_the_chooser_when_they_land() {
    let mut s = on_sla_all();
    let fx = update(&mut s, key('m'));
    assert!(s.overlay.is_none());
    let reqs = requests(&fx);
    let stages = reqs
        .iter()
        .find(|r| matches!(r.call, Call::ListBreachStages { .. }))
        .expect("the tenant's stages are fetched");
    answer(&mut s, stages, Ok(Reply::Stages(common::stages())));
    assert!(matches!(s.overlay, Some(Overlay::PickStage(_))));
}

#[test]
fn assign_and_note_from_the_open_breach() {
    let mut s = on_sla_all();
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    // The assignee chooser lists the breach's client's users, fetched as it opens.
    let fx = update(&mut s, key('a'));
    assert_eq!(
        calls(&fx),
        vec![Call::ListAssignees {
            tenant: tenant_id(1)
        }]
    );
    assert!(matches!(
        &s.overlay,
        Some(Overlay::PickUser(p)) if matches!(&p.pick, UserPick::Assignee(a)
            if a.lead == lead_id(201) && a.waiting.is_some())
    ));
    answer(&mut s, &requests(&fx)[0], Ok(Reply::Users(team())));
    let Some(Overlay::PickUser(p)) = &s.overlay else {
        panic!("{:?}", s.overlay);
    };
    assert_eq!(p.choices.len(), 4, "nobody and the three active users");
    assert_eq!(p.choices[0], "nobody");
    assert_eq!(p.selected, 0);
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        calls(&fx),
        vec![Call::PatchLead {
            lead: lead_id(201),
            change: LeadChange::Assignee(Some(user_id(2))),
        }]
    );

    update(&mut s, key('n'));
    // An empty note is refused in the form, which stays open.
    assert!(calls(&update(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(matches!(&s.overlay, Some(Overlay::Form(f)) if f.error.is_some()));
    typ(&mut s, "Called twice");
    update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)),
    );
    typ(&mut s, "no answer");
    let fx = update(&mut s, code(KeyCode::Enter));
    // Appended to the lead's timeline as typed, over two lines; the note already there
    // ("Left a voicemail.") is not sent again.
    assert_eq!(
        calls(&fx),
        vec![Call::AddNote {
            lead: lead_id(201),
            text: "Called twice\nno answer".into(),
        }]
    );
    assert!(s.overlay.is_none());
    assert_eq!(s.screen, Screen::Breaches);
}

#[test]
fn the_pane_follows_the_cursor_and_keeps_a_tenants_stages() {
    let mut s = on_sla_all();
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    // Open Arms' Harold, then Caring Hearts' June: her tenant's stages are fetched.
    let fx = update(&mut s, key('j'));
    let c = calls(&fx);
    assert!(
        c.contains(&Call::GetBreachLead { lead: lead_id(202) }),
        "{c:?}"
    );
    assert!(c.contains(&Call::ListBreachStages {
        tenant: tenant_id(2)
    }));
    settle(&mut s, fx);
    // Closed and opened again on the same tenant's lead: only the lead is fetched.
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('k'));
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(calls(&fx), vec![Call::GetBreachLead { lead: lead_id(202) }]);
}

/// On every client's breaches, `a` on another client's breach lists that client's users;
/// Esc sends nothing.
#[test]
fn assign_lists_the_users_of_the_breachs_client() {
    let mut s = on_sla_all();
    update(&mut s, key('j'));
    let fx = update(&mut s, key('a'));
    let c = calls(&fx);
    assert!(
        c.contains(&Call::ListAssignees {
            tenant: tenant_id(2)
        }),
        "{c:?}"
    );
    assert!(!c.iter().any(|c| matches!(c, Call::ListUsers { .. })));
    settle(&mut s, fx);
    assert!(matches!(&s.overlay, Some(Overlay::PickUser(p)) if p.choices.len() == 4));
    assert!(requests(&update(&mut s, code(KeyCode::Esc))).is_empty());
    assert!(s.overlay.is_none());
}

/// A manager's chooser: "nobody" first, then "me"; "nobody" sends `assigned_to: null`,
/// and no users fetch goes out.
#[test]
fn a_managers_assign_offers_nobody_and_me() {
    let maria = team()[1].clone();
    let mut s = logged_in_as(maria);
    let fx = update(&mut s, key('7'));
    settle(&mut s, fx);
    assert_eq!(s.screen, Screen::Breaches);
    let fx = update(&mut s, key('a'));
    assert!(
        !calls(&fx)
            .iter()
            .any(|c| matches!(c, Call::ListAssignees { .. } | Call::ListUsers { .. })),
        "{fx:?}"
    );
    let Some(Overlay::PickUser(p)) = &s.overlay else {
        panic!("{:?}", s.overlay);
    };
    assert_eq!(p.choices, vec!["nobody".to_string(), "me".to_string()]);
    let lead = match &p.pick {
        UserPick::Assignee(a) => a.lead,
        other => panic!("{other:?}"),
    };
    settle(&mut s, fx);
    // Unassigned already: "nobody" changes nothing; "me" does.
    assert!(requests(&update(&mut s, code(KeyCode::Enter))).is_empty());
    update(&mut s, key('a'));
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        calls(&fx),
        vec![Call::PatchLead {
            lead,
            change: LeadChange::Assignee(Some(team()[1].id)),
        }]
    );
}
