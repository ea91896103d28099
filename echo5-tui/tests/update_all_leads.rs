//! All leads: the request's query (tenants, search, cursor), paging, stale answers, the
//! tenant filter, and Enter opening the lead in its own tenant's Leads screen.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_core::page::Page;
use echo5_tui::app::overlay::Overlay;
use echo5_tui::app::{Call, Effect, Reply, Scope, Screen, State, update};

fn on_all() -> State {
    on_command("all")
}

fn all_call(fx: &[Effect]) -> (Vec<String>, String, Option<String>) {
    match calls(fx).as_slice() {
        [Call::ListAllLeads { tenants, q, cursor }] => (tenants.clone(), q.clone(), cursor.clone()),
        other => panic!("expected one all-leads fetch, got {other:?}"),
    }
}

#[test]
fn the_palette_opens_every_tenants_leads_without_a_tenant() {
    let mut s = started();
    assert!(s.tenant.is_none());
    update(&mut s, key(':'));
    typ(&mut s, "all");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::AllLeads);
    assert_eq!(all_call(&fx), (Vec::new(), String::new(), None));
    assert_eq!(requests(&fx)[0].scope, Scope::Global);
    settle(&mut s, fx);
    assert_eq!(s.all_leads.rows().len(), 5);
    let slugs: Vec<&str> = s
        .all_leads
        .rows()
        .iter()
        .map(|r| r.tenant.slug.as_str())
        .collect();
    assert!(slugs.contains(&"open-arms") && slugs.contains(&"caring-hearts"));
    // Aliases reach it too.
    let mut s = started();
    update(&mut s, key(':'));
    typ(&mut s, "all-leads");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::AllLeads);
}

#[test]
fn search_is_sent_on_enter_and_pages_follow_the_cursor() {
    let mut s = on_all();
    update(&mut s, key('/'));
    assert!(typ(&mut s, "maria").is_empty(), "nothing per key");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(all_call(&fx), (Vec::new(), "maria".into(), None));
    settle(&mut s, fx);
    // Past the last row: the next page, same search, with the cursor.
    let mut fx = Vec::new();
    for _ in 0..6 {
        fx.extend(update(&mut s, key('j')));
    }
    assert_eq!(
        all_call(&fx),
        (Vec::new(), "maria".into(), Some("all2".into()))
    );
    // Esc clears the search and starts over.
    let fx = update(&mut s, code(KeyCode::Esc));
    assert_eq!(all_call(&fx), (Vec::new(), String::new(), None));
}

#[test]
fn the_tenant_filter_picks_several_tenants() {
    let mut s = on_all();
    update(&mut s, key('t'));
    let Some(Overlay::PickTenants(p)) = &s.overlay else {
        panic!("{:?}", s.overlay);
    };
    assert_eq!(p.choices.len(), 3);
    assert!(p.checked.iter().all(|c| !c), "all tenants: none ticked");
    update(&mut s, key(' ')); // open-arms
    update(&mut s, key('j'));
    update(&mut s, key(' ')); // caring-hearts
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(s.overlay.is_none());
    assert_eq!(
        all_call(&fx),
        (
            vec!["open-arms".into(), "caring-hearts".into()],
            String::new(),
            None
        )
    );
    // One tenant only; the rows shown are that tenant's.
    update(&mut s, key('t'));
    update(&mut s, key('j'));
    update(&mut s, key(' ')); // untick caring-hearts
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(all_call(&fx).0, vec!["open-arms".to_string()]);
    settle(&mut s, fx);
    assert!(
        s.all_leads
            .rows()
            .iter()
            .all(|r| r.tenant.slug == "open-arms")
    );
    // Esc on the screen drops the tenant filter.
    let fx = update(&mut s, code(KeyCode::Esc));
    assert_eq!(all_call(&fx).0, Vec::<String>::new());
    // Esc in the picker changes nothing.
    update(&mut s, key('t'));
    update(&mut s, key(' '));
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    assert!(s.all_leads.view.tenants.is_empty());
}

#[test]
fn an_answer_for_an_older_query_is_dropped() {
    let mut s = on_all();
    update(&mut s, key('/'));
    typ(&mut s, "ana");
    let old = requests(&update(&mut s, code(KeyCode::Enter)));
    update(&mut s, key('/'));
    update(&mut s, ctrl('u'));
    typ(&mut s, "june");
    let new = requests(&update(&mut s, code(KeyCode::Enter)));
    let june: Vec<_> = all_leads()
        .into_iter()
        .filter(|r| r.lead.name.as_deref() == Some("June Park"))
        .collect();
    answer(
        &mut s,
        &new[0],
        Ok(Reply::AllLeads(Page {
            data: june,
            next_cursor: None,
        })),
    );
    answer(
        &mut s,
        &old[0],
        Ok(Reply::AllLeads(Page {
            data: all_leads(),
            next_cursor: None,
        })),
    );
    assert_eq!(s.all_leads.rows().len(), 1);
    assert_eq!(
        s.all_leads.rows()[0].lead.name.as_deref(),
        Some("June Park")
    );
}

#[test]
fn enter_opens_the_lead_in_its_tenant() {
    let mut s = on_all();
    // The second row: June Park of Caring Hearts.
    update(&mut s, key('j'));
    let lead = s
        .all_leads
        .selected()
        .map(|r| r.lead.clone())
        .expect("a row");
    let gen_before = s.tenant_gen;
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Leads);
    assert_eq!(
        s.tenant.as_ref().map(|t| t.slug.as_str()),
        Some("caring-hearts")
    );
    assert!(s.tenant_gen > gen_before, "a tenant switch");
    let c = calls(&fx);
    assert!(
        c.contains(&Call::ListLeads {
            tenant: tenant_id(2),
            q: "june@example.org".into(),
            filters: Default::default(),
            cursor: None,
        }),
        "{c:?}"
    );
    assert!(c.contains(&Call::ListStages {
        tenant: tenant_id(2)
    }));
    // The page holding it arrives: the cursor is on it and its detail is fetched.
    let list = requests(&fx)
        .into_iter()
        .find(|r| matches!(r.call, Call::ListLeads { .. }))
        .expect("leads request");
    let mut other = lead.clone();
    other.id = lead_id(999);
    other.name = Some("June Park (older)".into());
    let after = answer(
        &mut s,
        &list,
        Ok(Reply::Leads(Page {
            data: vec![other, lead.clone()],
            next_cursor: None,
        })),
    );
    assert_eq!(s.leads.selected().map(|l| l.id), Some(lead.id));
    assert!(s.leads.view.detail_open);
    assert_eq!(calls(&after), vec![Call::GetLead { lead: lead.id }]);
    // Esc closes the pane, then clears the search back to the whole list.
    update(&mut s, code(KeyCode::Esc));
    let fx = update(&mut s, code(KeyCode::Esc));
    assert_eq!(
        calls(&fx),
        vec![Call::ListLeads {
            tenant: tenant_id(2),
            q: String::new(),
            filters: Default::default(),
            cursor: None,
        }]
    );
}
