//! Leads: the selected tenant's leads page by page (All leads, every tenant's, is [`all`]),
//! a search and filters sent to the daemon, new leads merged in live at the top, the detail
//! pane with the lead's timeline (notes and stage moves), and what an operator does to a
//! lead: move it, note it, assign it, clear a spam flag, enter one by hand, erase it, export
//! the list.

pub mod all;
pub(crate) mod assignee;
pub(crate) mod view;

use chrono::NaiveDate;
use crossterm::event::KeyCode;
use echo5_core::leads::{Lead, LeadDetail, LeadSource, NewLead, SpamFilter};
use echo5_core::page::Page;
use ratatui::Frame;
use ratatui::layout::Rect;
use std::path::PathBuf;
use uuid::Uuid;

use super::Component;
use crate::app::action::{ApiError, Reply};
use crate::app::effect::{Call, Effect, LeadChange, LeadFilters, Request, Scope};
use crate::app::live::LiveEvent;
use crate::app::overlay::{Confirm, Field, Form, Overlay, PendingOp, PickStage, Purpose};
use crate::app::request::{admit, fetch, issue, mutate, next_id};
use crate::app::state::{ListView, Remote, RemoteStatus, ToastLevel};
use crate::app::{Resource, State};
use crate::keymap::{Binding, Cmd, b, ch, k};

/// The selected tenant's leads, newest first, as many pages as loaded; the lead open in
/// the detail pane; and how the list is viewed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Leads {
    pub remote: Remote<Vec<Lead>>,
    pub view: LeadsView,
    pub detail: Remote<LeadDetail>,
    /// The last users list the assignee chooser fetched (the chooser holds its lines).
    pub assignees: Remote<Vec<echo5_core::users::User>>,
}

impl Leads {
    pub fn rows(&self) -> &[Lead] {
        self.remote.data.as_deref().unwrap_or_default()
    }

    pub fn selected(&self) -> Option<&Lead> {
        self.rows().get(self.view.list.selected)
    }
}

/// The Leads screen's view: a page-by-page list for the committed search, and the detail pane.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadsView {
    pub list: ListView,
    /// The search the shown rows answer (`q`); `list.filter` is what the filter line holds.
    pub query: String,
    /// The filters the shown rows answer (`f`, `s`).
    pub filters: LeadFilters,
    /// Where the next page starts; `None` once the last page is in.
    pub next_cursor: Option<String>,
    /// The detail pane is open (and has the focus for Esc).
    pub detail_open: bool,
    /// Pages loaded for the current search.
    pub pages: u32,
    /// A lead to put the cursor on when a page holding it arrives (opened from All leads).
    pub focus: Option<Uuid>,
}

pub struct LeadsScreen;

const BINDINGS: &[Binding] = &[
    b(
        &[k(KeyCode::Enter), k(KeyCode::Tab)],
        Cmd::Open,
        "details",
        true,
    ),
    b(&[ch('m')], Cmd::MoveStage, "move stage", true),
    b(&[ch('n')], Cmd::Notes, "note", true),
    b(&[ch('a')], Cmd::Assign, "assignee", true),
    b(&[ch('f')], Cmd::Filters, "filters", true),
    b(&[ch('s')], Cmd::Spam, "spam: hidden / shown / only", false),
    b(&[ch('u')], Cmd::NotSpam, "not spam (clear the flag)", false),
    b(&[ch('c')], Cmd::Add, "new lead", false),
    b(&[ch('e')], Cmd::Export, "export CSV", false),
    b(&[ch('D')], Cmd::Delete, "erase lead", false),
];

impl Component for LeadsScreen {
    fn bindings(&self) -> &'static [Binding] {
        BINDINGS
    }

    fn draw(&self, frame: &mut Frame, area: Rect, state: &State) {
        view::draw(frame, area, state);
    }

    fn on_cmd(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        on_cmd(state, cmd)
    }

    fn wanted(&self, state: &State, force: bool) -> Vec<Resource> {
        let mut r = Vec::new();
        // A poll would fold the pages scrolled in back to the first one; only an
        // explicit refresh (or a new search) starts over.
        if force || state.leads.view.pages <= 1 {
            r.push(Resource::Leads);
        }
        // Stage names for the table and the move-stage picker.
        if force || state.stages.remote.data.is_none() {
            r.push(Resource::Stages);
        }
        if state.leads.view.detail_open {
            r.push(Resource::LeadDetail);
        }
        r
    }

    fn list_mut<'a>(&self, state: &'a mut State) -> Option<&'a mut ListView> {
        Some(&mut state.leads.view.list)
    }

    fn list_len(&self, state: &State) -> usize {
        state.leads.rows().len()
    }

    fn move_cursor(&self, state: &mut State, cmd: Cmd) -> Vec<Effect> {
        let before = state.leads.view.list.selected;
        super::move_in_list(self, state, cmd);
        // Down (or End) on the last row asks for the next page.
        let after = state.leads.view.list.selected;
        let wanted =
            (matches!(cmd, Cmd::Down | Cmd::Bottom) && after == before) || cmd == Cmd::Bottom;
        after_move(state, wanted)
    }

    /// Esc first closes the lead pane, then clears the search, then the filters.
    fn back(&self, state: &mut State) -> Option<Vec<Effect>> {
        if state.leads.view.detail_open {
            state.leads.view.detail_open = false;
            return Some(Vec::new());
        }
        if !state.leads.view.query.is_empty() || !state.leads.view.list.filter.is_empty() {
            return Some(search(state, String::new()));
        }
        if !state.leads.view.filters.is_empty() {
            return Some(set_filters(state, LeadFilters::default()));
        }
        None
    }

    fn server_search(&self) -> bool {
        true
    }

    fn search(&self, state: &mut State, q: String) -> Vec<Effect> {
        search(state, q)
    }

    // A lead event refetches the first page, which is merged in at the top (pages scrolled
    // in stay, the cursor stays on its lead); the open lead's pane is kept current.
    fn live(&self, state: &State, event: LiveEvent) -> Vec<Resource> {
        if !(event.ours && event.topic.lead_or_sla) {
            return Vec::new();
        }
        let mut r = vec![Resource::Leads];
        if state.leads.view.detail_open {
            r.push(Resource::LeadDetail);
        }
        r
    }

    fn resources(&self) -> &'static [Resource] {
        &[Resource::Leads, Resource::LeadDetail, Resource::Assignees]
    }

    fn call(&self, state: &State, res: Resource) -> Option<(Call, Scope)> {
        let tenant = state.tenant.as_ref()?.id;
        let scope = state.tenant_scope();
        match res {
            Resource::LeadDetail => {
                let lead = state.leads.selected()?.id;
                Some((Call::GetLead { lead }, scope))
            }
            _ => Some((
                Call::ListLeads {
                    tenant,
                    q: state.leads.view.query.clone(),
                    filters: state.leads.view.filters.clone(),
                    cursor: None,
                },
                scope,
            )),
        }
    }

    fn remote_mut<'a>(
        &self,
        state: &'a mut State,
        res: Resource,
    ) -> Option<&'a mut dyn RemoteStatus> {
        Some(match res {
            Resource::LeadDetail => &mut state.leads.detail,
            Resource::Assignees => &mut state.leads.assignees,
            _ => &mut state.leads.remote,
        })
    }

    fn resource_of(&self, call: &Call) -> Option<Resource> {
        match call {
            Call::ListLeads { .. } => Some(Resource::Leads),
            Call::GetLead { .. } => Some(Resource::LeadDetail),
            Call::ListAssignees { .. } => Some(Resource::Assignees),
            _ => None,
        }
    }

    fn touched_by(&self, call: &Call) -> Option<Resource> {
        match call {
            Call::PatchLead { .. }
            | Call::CreateLead { .. }
            | Call::AddNote { .. }
            | Call::DeleteLead { .. } => Some(Resource::Leads),
            // The export changes nothing on the daemon; its answer is found by its kind.
            _ => None,
        }
    }

    fn still_wanted(&self, state: &State, call: &Call) -> bool {
        match call {
            Call::ListLeads { q, filters, .. } => {
                *q == state.leads.view.query && *filters == state.leads.view.filters
            }
            Call::GetLead { lead } => state.leads.selected().is_some_and(|l| l.id == *lead),
            _ => true,
        }
    }

    fn apply(
        &self,
        state: &mut State,
        id: u64,
        call: &Call,
        reply: Reply,
    ) -> Result<Vec<Effect>, Box<Reply>> {
        let now = state.now;
        Ok(match reply {
            Reply::Users(users) if matches!(call, Call::ListAssignees { .. }) => {
                if admit(state, Resource::Assignees, id) {
                    assignee::arrived(state, id, users);
                }
                Vec::new()
            }
            Reply::Leads(page) => {
                let more = matches!(
                    call,
                    Call::ListLeads {
                        cursor: Some(_),
                        ..
                    }
                );
                if admit(state, Resource::Leads, id) && store_leads(state, page, more) {
                    // A lead opened from All leads: its pane shows its history too.
                    if state.leads.view.detail_open {
                        return Ok(fetch(state, Resource::LeadDetail, true)
                            .into_iter()
                            .collect());
                    }
                }
                Vec::new()
            }
            Reply::Lead(detail) => {
                if admit(state, Resource::LeadDetail, id) {
                    state.leads.detail.store(*detail, now);
                }
                Vec::new()
            }
            Reply::LeadSaved(detail) => {
                let what = match call {
                    Call::PatchLead {
                        change: LeadChange::Stage(to),
                        ..
                    } => format!(
                        "moved to {}",
                        state.stages.name(*to).unwrap_or("the new stage")
                    ),
                    Call::PatchLead {
                        change: LeadChange::Spam(false),
                        ..
                    } => "no longer spam".to_string(),
                    Call::PatchLead {
                        change: LeadChange::Spam(true),
                        ..
                    } => "marked as spam".to_string(),
                    _ => "assignee saved".to_string(),
                };
                state.toast(ToastLevel::Info, what);
                if let Some(row) = state
                    .leads
                    .remote
                    .data
                    .iter_mut()
                    .flatten()
                    .find(|l| l.id == detail.lead.id)
                {
                    *row = detail.lead.clone();
                }
                if state
                    .leads
                    .selected()
                    .is_some_and(|l| l.id == detail.lead.id)
                {
                    state.leads.detail.store(*detail, now);
                }
                // Lead counts per stage changed; the breach list may have too.
                fetch(state, Resource::Stages, true).into_iter().collect()
            }
            Reply::LeadAdded(detail) => {
                state.toast(
                    ToastLevel::Info,
                    format!("lead added: {}", display_name(&detail.lead)),
                );
                // The cursor goes to it once the list holding it arrives.
                state.leads.view.focus = Some(detail.lead.id);
                let mut out: Vec<Effect> =
                    fetch(state, Resource::Leads, true).into_iter().collect();
                out.extend(fetch(state, Resource::Stages, true));
                out
            }
            Reply::LeadErased { lead } => {
                state.toast(ToastLevel::Info, "lead erased");
                forget(state, lead);
                // Lead counts per stage changed.
                fetch(state, Resource::Stages, true).into_iter().collect()
            }
            Reply::NoteAdded { lead, note } => {
                state.toast(ToastLevel::Info, "note added");
                let rows = state.leads.remote.data.iter_mut().flatten();
                let details = state.leads.detail.data.iter_mut().map(|d| &mut d.lead);
                for l in rows.chain(details).filter(|l| l.id == lead) {
                    if !l.notes.iter().any(|n| n.id == note.id) {
                        l.notes.push(note.clone());
                    }
                }
                Vec::new()
            }
            Reply::CsvExported { path, bytes } => {
                state.toast(
                    ToastLevel::Info,
                    format!(
                        "exported {} to {}",
                        super::format::human_bytes(bytes),
                        path.display()
                    ),
                );
                Vec::new()
            }
            Reply::CsvExists { path } => {
                state.overlay = Some(Overlay::Confirm(Confirm {
                    title: "Overwrite file?".into(),
                    message: format!(
                        "{} exists. Replace it with this export? (y/n)",
                        path.display()
                    ),
                    op: PendingOp::OverwriteCsv(path),
                }));
                Vec::new()
            }
            other => return Err(Box::new(other)),
        })
    }

    /// A failed users fetch leaves the assignee chooser saying why, not "loading…".
    fn answered(&self, state: &mut State, call: &Call, err: Option<&ApiError>) {
        if let (Call::ListAssignees { tenant }, Some(e)) = (call, err) {
            assignee::failed(state, *tenant, e.to_string());
        }
    }

    fn tenant_changed(&self, state: &mut State) {
        state.leads = Leads::default();
    }
}

/// A page of leads: a later page appends; the first replaces the list, or, with more
/// pages scrolled in, is merged in at the top (new leads above, the older pages kept).
/// The cursor stays on the lead it was on. True when the cursor went to the lead waiting in
/// `view.focus`.
fn store_leads(state: &mut State, page: Page<Lead>, more: bool) -> bool {
    let now = state.now;
    let keep = state.leads.selected().map(|l| l.id);
    let view = &mut state.leads.view;
    if more {
        view.next_cursor = page.next_cursor;
        view.pages += 1;
        let list = state.leads.remote.data.get_or_insert_with(Vec::new);
        // A lead that arrived between two pages shifts the rest by one; never show it twice.
        for l in page.data {
            if !list.iter().any(|x| x.id == l.id) {
                list.push(l);
            }
        }
        state.leads.remote.updated_at = Some(now);
        state.leads.remote.error = None;
    } else if view.pages > 1 && page.next_cursor.is_some() {
        // The head of a longer list: rows older than the page's last one are the pages
        // scrolled in, kept as they are; the page replaces the rest.
        let oldest = page.data.last().map(|l| (l.created_at, l.id));
        let mut rows = page.data;
        for l in state.leads.rows() {
            if oldest.is_some_and(|o| (l.created_at, l.id) < o)
                && !rows.iter().any(|x| x.id == l.id)
            {
                rows.push(l.clone());
            }
        }
        state.leads.remote.store(rows, now);
    } else {
        view.next_cursor = page.next_cursor;
        view.pages = 1;
        state.leads.remote.store(page.data, now);
    }
    if let Some(pos) = keep.and_then(|id| state.leads.rows().iter().position(|l| l.id == id)) {
        state.leads.view.list.selected = pos;
    }
    let n = state.leads.rows().len();
    state.leads.view.list.clamp(n);
    let focused = state
        .leads
        .view
        .focus
        .and_then(|id| state.leads.rows().iter().position(|l| l.id == id));
    if let Some(pos) = focused {
        state.leads.view.list.selected = pos;
        state.leads.view.focus = None;
    }
    focused.is_some()
}

/// The next page of leads, when there is one and no leads fetch is under way.
fn fetch_more_leads(state: &mut State) -> Option<Effect> {
    let tenant = state.tenant.as_ref()?.id;
    let cursor = state.leads.view.next_cursor.clone()?;
    if state.leads.remote.loading() {
        return None;
    }
    let call = Call::ListLeads {
        tenant,
        q: state.leads.view.query.clone(),
        filters: state.leads.view.filters.clone(),
        cursor: Some(cursor),
    };
    let scope = state.tenant_scope();
    Some(issue(state, Resource::Leads, call, scope))
}

fn on_cmd(state: &mut State, cmd: Cmd) -> Vec<Effect> {
    match cmd {
        Cmd::Open => {
            if state.leads.view.detail_open {
                state.leads.view.detail_open = false;
                return Vec::new();
            }
            if state.leads.selected().is_none() {
                return Vec::new();
            }
            state.leads.view.detail_open = true;
            state.leads.detail = Remote::default();
            fetch(state, Resource::LeadDetail, true)
                .into_iter()
                .collect()
        }
        Cmd::MoveStage => {
            let Some(lead) = state.leads.selected().cloned() else {
                return Vec::new();
            };
            let choices: Vec<(Uuid, String)> = state
                .stages
                .remote
                .data
                .iter()
                .flatten()
                .map(|s| (s.id, s.name.clone()))
                .collect();
            if choices.is_empty() {
                state.toast(ToastLevel::Info, "stages not loaded yet");
                return fetch(state, Resource::Stages, false).into_iter().collect();
            }
            let selected = choices
                .iter()
                .position(|(id, _)| *id == lead.stage_id)
                .unwrap_or(0);
            state.overlay = Some(Overlay::PickStage(PickStage {
                lead: lead.id,
                lead_name: display_name(&lead),
                choices,
                selected,
            }));
            Vec::new()
        }
        Cmd::Assign => {
            let Some(lead) = state.leads.selected().cloned() else {
                return Vec::new();
            };
            let current_name = state
                .leads
                .detail
                .data
                .as_ref()
                .filter(|d| d.lead.id == lead.id)
                .and_then(|d| d.assignee.as_ref())
                .map(|a| format!("{} <{}>", a.name, a.email));
            // The open lead's detail is fresher than its row.
            let current = state
                .leads
                .detail
                .data
                .as_ref()
                .filter(|d| d.lead.id == lead.id)
                .map_or(lead.assigned_to, |d| d.lead.assigned_to);
            assignee::open(
                state,
                assignee::Target {
                    lead: lead.id,
                    tenant: lead.tenant_id,
                    name: display_name(&lead),
                    current,
                    current_name,
                },
            )
        }
        Cmd::Delete => {
            let Some(lead) = state.leads.selected() else {
                return Vec::new();
            };
            state.overlay = Some(Overlay::Confirm(Confirm {
                title: "Erase lead".into(),
                message: format!(
                    "Erase {} with its notes and history? This cannot be undone. (y/n)",
                    display_name(lead)
                ),
                op: PendingOp::EraseLead { lead: lead.id },
            }));
            Vec::new()
        }
        Cmd::Notes => {
            let Some(lead) = state.leads.selected().cloned() else {
                return Vec::new();
            };
            let field = Field::multiline(
                "Note (added to the timeline; Alt-Enter: new line)",
                String::new(),
            );
            open_form(
                state,
                format!("Add a note · {}", display_name(&lead)),
                vec![field],
                Purpose::LeadNote { lead: lead.id },
            );
            Vec::new()
        }
        Cmd::Filters => {
            let f = state.leads.view.filters.clone();
            let stage = f
                .stage
                .and_then(|s| state.stages.name(s))
                .unwrap_or_default()
                .to_string();
            let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
            let fields = vec![
                Field::new("Stage (name; empty: any)", stage),
                Field::new(
                    "Source (website, meta, google, manual, api; empty: any)",
                    f.source.map(|s| s.as_str()).unwrap_or_default(),
                ),
                Field::new(
                    "In breach (yes, no; empty: any)",
                    match f.breached {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "",
                    },
                ),
                Field::new(
                    "Spam (shown, only; empty: hidden)",
                    match f.spam {
                        SpamFilter::Hide => "",
                        other => spam_word(other),
                    },
                ),
                Field::new("From (YYYY-MM-DD)", day(f.from)),
                Field::new("To (YYYY-MM-DD, included)", day(f.to)),
            ];
            open_form(state, "Filter leads".into(), fields, Purpose::LeadFilters);
            Vec::new()
        }
        Cmd::Spam => {
            let mut f = state.leads.view.filters.clone();
            f.spam = match f.spam {
                SpamFilter::Hide => SpamFilter::Include,
                SpamFilter::Include => SpamFilter::Only,
                SpamFilter::Only => SpamFilter::Hide,
            };
            state.toast(ToastLevel::Info, format!("spam {}", spam_word(f.spam)));
            set_filters(state, f)
        }
        Cmd::NotSpam => {
            let Some(lead) = state.leads.selected().cloned() else {
                return Vec::new();
            };
            if !lead.is_spam {
                state.toast(ToastLevel::Info, "this lead is not flagged as spam");
                return Vec::new();
            }
            vec![mutate(
                state,
                Call::PatchLead {
                    lead: lead.id,
                    change: LeadChange::Spam(false),
                },
                Resource::Leads,
            )]
        }
        Cmd::Add => {
            let fields = vec![
                Field::new("Name", ""),
                Field::new("E-mail", ""),
                Field::new("Phone", ""),
                Field::new("Company", ""),
                Field::new("Message", ""),
                Field::new("Note (the lead's first timeline entry)", ""),
            ];
            let name = state
                .tenant
                .as_ref()
                .map(|t| t.name.clone())
                .unwrap_or_default();
            open_form(
                state,
                format!("New lead · {name}"),
                fields,
                Purpose::NewLead,
            );
            Vec::new()
        }
        Cmd::Export => {
            let slug = state
                .tenant
                .as_ref()
                .map(|t| t.slug.clone())
                .unwrap_or_default();
            let suggested = format!("{slug}-leads-{}.csv", state.now.format("%Y-%m-%d"));
            open_form(
                state,
                "Export leads as CSV (the search and filters shown)".into(),
                vec![Field::new("File path (~ for home)", suggested)],
                Purpose::ExportCsv,
            );
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn open_form(state: &mut State, title: String, fields: Vec<Field>, purpose: Purpose) {
    state.overlay = Some(Overlay::Form(Form {
        title,
        fields,
        focus: 0,
        purpose,
        error: None,
    }));
}

/// How the spam filter is named in the filter form, the title and toasts.
pub fn spam_word(s: SpamFilter) -> &'static str {
    match s {
        SpamFilter::Hide => "hidden",
        SpamFilter::Include => "shown",
        SpamFilter::Only => "only",
    }
}

/// How a lead is named on screen: its name, else its e-mail or phone.
pub fn display_name(l: &Lead) -> String {
    l.name
        .clone()
        .or_else(|| l.email.clone())
        .or_else(|| l.phone.clone())
        .unwrap_or_else(|| "(no name)".into())
}

/// After the cursor moved: past the last row loads the next page; with the pane open,
/// the pane follows the cursor.
fn after_move(state: &mut State, wanted_past_end: bool) -> Vec<Effect> {
    let mut out = Vec::new();
    let len = state.leads.rows().len();
    let at_end = len > 0 && state.leads.view.list.selected + 1 >= len;
    if at_end && wanted_past_end {
        out.extend(fetch_more_leads(state));
    }
    if state.leads.view.detail_open {
        let shown = state.leads.detail.data.as_ref().map(|d| d.lead.id);
        if shown != state.leads.selected().map(|l| l.id) {
            state.leads.detail = Remote::default();
            out.extend(fetch(state, Resource::LeadDetail, true));
        }
    }
    out
}

/// A new search from the filter line: the list starts over from the first page.
pub(crate) fn search(state: &mut State, q: String) -> Vec<Effect> {
    let q = q.trim().to_string();
    state.leads.view.list.filter = q.clone();
    if q == state.leads.view.query && state.leads.remote.data.is_some() {
        return Vec::new();
    }
    state.leads.view.query = q;
    start_over(state)
}

/// New filters: the list starts over from the first page.
pub(crate) fn set_filters(state: &mut State, filters: LeadFilters) -> Vec<Effect> {
    if filters == state.leads.view.filters && state.leads.remote.data.is_some() {
        return Vec::new();
    }
    state.leads.view.filters = filters;
    start_over(state)
}

fn start_over(state: &mut State) -> Vec<Effect> {
    state.leads.view.list.selected = 0;
    state.leads.view.next_cursor = None;
    state.leads.view.pages = 0;
    state.leads.view.detail_open = false;
    state.leads.remote = Remote::default();
    fetch(state, Resource::Leads, true).into_iter().collect()
}

/// Sends the CSV export of what the screen lists to `path`; `overwrite` after a yes.
pub(crate) fn export(state: &mut State, path: PathBuf, overwrite: bool) -> Vec<Effect> {
    let Some(tenant) = state.tenant.as_ref().map(|t| t.id) else {
        return Vec::new();
    };
    let call = Call::ExportCsv {
        tenant,
        q: state.leads.view.query.clone(),
        filters: state.leads.view.filters.clone(),
        path,
        overwrite,
    };
    // Global scope: the operator hears how the export went even after switching tenant.
    let id = next_id(state);
    state.saving += 1;
    vec![Effect::Api(Request {
        id,
        scope: Scope::Global,
        call,
    })]
}

pub(crate) fn move_stage(state: &mut State, lead: Uuid, to: Uuid) -> Vec<Effect> {
    if state
        .leads
        .rows()
        .iter()
        .any(|l| l.id == lead && l.stage_id == to)
    {
        state.toast(ToastLevel::Info, "already in that stage");
        return Vec::new();
    }
    vec![mutate(
        state,
        Call::PatchLead {
            lead,
            change: LeadChange::Stage(to),
        },
        Resource::Leads,
    )]
}

/// Checks a submitted form of this screen; `Err` keeps the form open.
pub(crate) fn submit(
    state: &mut State,
    purpose: Purpose,
    values: &[String],
) -> Result<Vec<Effect>, String> {
    let value = |i: usize| values.get(i).map(|v| v.trim()).unwrap_or_default();
    match purpose {
        Purpose::LeadNote { lead } => {
            // As typed: a note keeps its own line breaks and indentation.
            let text = values.first().cloned().unwrap_or_default();
            let text = echo5_core::leads::note_text("note", &text).map_err(|e| e.to_string())?;
            Ok(vec![mutate(
                state,
                Call::AddNote { lead, text },
                Resource::Leads,
            )])
        }
        Purpose::LeadFilters => {
            let filters = parse_filters(state, values)?;
            Ok(set_filters(state, filters))
        }
        Purpose::NewLead => {
            let Some(tenant) = state.tenant.as_ref().map(|t| t.id) else {
                return Err("pick a tenant first".into());
            };
            let opt = |i: usize| Some(value(i).to_string()).filter(|v| !v.is_empty());
            let note = values.get(5).cloned().filter(|n| !n.trim().is_empty());
            let lead = NewLead {
                name: opt(0),
                email: opt(1),
                phone: opt(2),
                company: opt(3),
                message: opt(4),
                notes: note,
                ..NewLead::default()
            };
            // The daemon's own rules, checked here first so the form stays open on a typo.
            lead.build(tenant, uuid::Uuid::nil(), state.now)
                .map_err(|e| e.to_string())?;
            lead.first_note().map_err(|e| e.to_string())?;
            Ok(vec![mutate(
                state,
                Call::CreateLead {
                    tenant,
                    lead: Box::new(lead),
                },
                Resource::Leads,
            )])
        }
        Purpose::ExportCsv => {
            let path = value(0);
            if path.is_empty() {
                return Err("type the file to write, e.g. ~/leads.csv".into());
            }
            Ok(export(state, PathBuf::from(path), false))
        }
        _ => Ok(Vec::new()),
    }
}

/// The filter form's six fields as filters; `Err` names the field that is wrong.
fn parse_filters(state: &State, values: &[String]) -> Result<LeadFilters, String> {
    let value = |i: usize| values.get(i).map(|v| v.trim()).unwrap_or_default();
    let stage = match value(0).to_lowercase() {
        s if s.is_empty() => None,
        s => {
            let stages = state.stages.remote.data.as_deref().unwrap_or_default();
            let exact = stages.iter().find(|st| st.name.to_lowercase() == s);
            let starts: Vec<_> = stages
                .iter()
                .filter(|st| st.name.to_lowercase().starts_with(&s))
                .collect();
            match (exact, starts.as_slice()) {
                (Some(st), _) => Some(st.id),
                (None, [st]) => Some(st.id),
                (None, []) => return Err(format!("no stage is called \"{}\"", value(0))),
                (None, many) => {
                    let names: Vec<&str> = many.iter().map(|st| st.name.as_str()).collect();
                    return Err(format!("stage: one of {}", names.join(", ")));
                }
            }
        }
    };
    let source = match value(1).to_lowercase() {
        s if s.is_empty() => None,
        s => Some(
            LeadSource::parse(&s)
                .ok_or("source: website, meta, google, manual or api (empty: any)".to_string())?,
        ),
    };
    let breached = match value(2).to_lowercase().as_str() {
        "" => None,
        "yes" | "y" | "true" => Some(true),
        "no" | "n" | "false" => Some(false),
        _ => return Err("in breach: yes, no, or empty for any".into()),
    };
    let spam = match value(3).to_lowercase().as_str() {
        "" | "hidden" | "hide" | "no" => SpamFilter::Hide,
        "shown" | "show" | "all" | "yes" => SpamFilter::Include,
        "only" => SpamFilter::Only,
        _ => return Err("spam: hidden, shown or only".into()),
    };
    let day = |i: usize, name: &str| -> Result<Option<NaiveDate>, String> {
        match value(i) {
            "" => Ok(None),
            v => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| format!("{name}: a date as YYYY-MM-DD")),
        }
    };
    let (from, to) = (day(4, "from")?, day(5, "to")?);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err("from must not be after to".into());
    }
    Ok(LeadFilters {
        stage,
        source,
        breached,
        spam,
        from,
        to,
    })
}

/// Sends the erasure of `lead` (confirmed in the modal).
pub(crate) fn erase(state: &mut State, lead: Uuid) -> Vec<Effect> {
    vec![mutate(state, Call::DeleteLead { lead }, Resource::Leads)]
}

/// Takes an erased lead out of the list and closes its pane; the cursor stays in place.
fn forget(state: &mut State, lead: Uuid) {
    if let Some(rows) = state.leads.remote.data.as_mut() {
        rows.retain(|l| l.id != lead);
        let len = rows.len();
        let list = &mut state.leads.view.list;
        list.selected = list.selected.min(len.saturating_sub(1));
    }
    if state
        .leads
        .detail
        .data
        .as_ref()
        .is_some_and(|d| d.lead.id == lead)
    {
        state.leads.detail = Remote::default();
        state.leads.view.detail_open = false;
    }
}
