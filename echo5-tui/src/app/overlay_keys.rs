//! Keys while an overlay is open. The overlay is taken out of the state, handled, and put
//! back unless the key closed it.

use crossterm::event::{KeyCode, KeyEvent};

use super::components::analytics::global as global_analytics;
use super::components::leads::{self, all as all_leads};
use super::components::{
    REGISTRY, audit, integrations, keys, plans, platform_settings as platform, settings, sla,
    stages as pipeline, tenants, users, webhooks,
};
use super::effect::{Call, Effect};
use super::overlay::{
    Form, MoveTo, Overlay, Palette, PendingOp, PickStage, PickTenants, PickUser, Purpose,
    TypeToConfirm, UserPick,
};
use super::request::{mutate, refresh_screen};
use super::state::ToastLevel;
use super::{Resource, Screen, State, access, navigation, session};
use crate::keymap::{self, Cmd};

pub(crate) fn on_key(state: &mut State, overlay: Overlay, key: KeyEvent) -> Vec<Effect> {
    match overlay {
        Overlay::Help { scroll } => {
            let scroll = match key.code {
                KeyCode::Char('j') | KeyCode::Down => scroll.saturating_add(1),
                KeyCode::Char('k') | KeyCode::Up => scroll.saturating_sub(1),
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter => {
                    return Vec::new();
                }
                _ => scroll,
            };
            state.overlay = Some(Overlay::Help { scroll });
            Vec::new()
        }
        Overlay::LogLine { line, scroll } => {
            let scroll = match key.code {
                KeyCode::Char('j') | KeyCode::Down => scroll.saturating_add(1),
                KeyCode::Char('k') | KeyCode::Up => scroll.saturating_sub(1),
                KeyCode::PageDown | KeyCode::Char(' ') => scroll.saturating_add(10),
                KeyCode::PageUp => scroll.saturating_sub(10),
                KeyCode::Char('g') | KeyCode::Home => 0,
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => return Vec::new(),
                _ => scroll,
            };
            state.overlay = Some(Overlay::LogLine { line, scroll });
            Vec::new()
        }
        Overlay::Palette(p) => palette(state, p, key),
        Overlay::Filter(mut f) if server_search(f.screen) => {
            // Leads are searched by the daemon (`q`), so the search is sent on Enter rather
            // than per key press: one request per search, none for half-typed words.
            let component = f.screen.component();
            let search = |state: &mut State, q: String| component.search(state, q);
            match key.code {
                KeyCode::Enter => return search(state, f.input.text().to_string()),
                KeyCode::Esc => return search(state, String::new()),
                _ => {
                    f.input.handle(&key);
                }
            }
            state.overlay = Some(Overlay::Filter(f));
            Vec::new()
        }
        Overlay::Filter(mut f) => {
            match key.code {
                KeyCode::Enter => return Vec::new(),
                KeyCode::Esc => {
                    set_filter(state, f.screen, String::new());
                    return Vec::new();
                }
                _ => {
                    f.input.handle(&key);
                }
            }
            set_filter(state, f.screen, f.input.text().to_string());
            state.overlay = Some(Overlay::Filter(f));
            Vec::new()
        }
        Overlay::Form(form) => form_key(state, form, key),
        Overlay::MoveTo(m) => move_to(state, m, key),
        Overlay::PickStage(p) => pick_stage(state, p, key),
        Overlay::PickTenants(p) => pick_tenants(state, p, key),
        Overlay::ShowKey(mut shown) => {
            // Only an explicit Enter or Esc lets a key go: a stray j or q must not make the
            // operator lose a key they have not copied yet.
            if matches!(key.code, KeyCode::Enter | KeyCode::Esc) && !shown.is_empty() {
                shown.remove(0);
            }
            if !shown.is_empty() {
                state.overlay = Some(Overlay::ShowKey(shown));
            }
            Vec::new()
        }
        Overlay::TypeToConfirm(c) => type_to_confirm(state, c, key),
        Overlay::Login(l) => session::on_key(state, l, key),
        Overlay::ShowInvite(shown) => {
            // Like a new key: only an explicit Enter or Esc lets the link go.
            if !matches!(key.code, KeyCode::Enter | KeyCode::Esc) {
                state.overlay = Some(Overlay::ShowInvite(shown));
            }
            Vec::new()
        }
        Overlay::PickUser(p) => pick_user(state, p, key),
        Overlay::PickEvents(p) => webhooks::pick_events_key(state, p, key),
        Overlay::ShowWebhookSecret(mut shown) => {
            // Like a new key: only an explicit Enter or Esc lets a secret go.
            if matches!(key.code, KeyCode::Enter | KeyCode::Esc) && !shown.is_empty() {
                shown.remove(0);
            }
            if !shown.is_empty() {
                state.overlay = Some(Overlay::ShowWebhookSecret(shown));
            }
            Vec::new()
        }
        Overlay::Confirm(c) => match (key.code, keymap::dialog(&key)) {
            (KeyCode::Char('y') | KeyCode::Char('Y'), _) | (_, Some(Cmd::Confirm)) => {
                perform(state, c.op)
            }
            (KeyCode::Char('n') | KeyCode::Char('N'), _) | (_, Some(Cmd::Cancel)) => Vec::new(),
            _ => {
                state.overlay = Some(Overlay::Confirm(c));
                Vec::new()
            }
        },
    }
}

pub(crate) fn on_paste(state: &mut State, text: &str) {
    match state.overlay.as_mut() {
        Some(Overlay::Palette(p)) => p.input.insert_str(text),
        Some(Overlay::Form(f)) => {
            if let Some(field) = f.fields.get_mut(f.focus) {
                field.input.insert_str(text);
            }
        }
        Some(Overlay::TypeToConfirm(c)) => c.input.insert_str(text),
        // A password manager's paste; the text is never shown.
        Some(Overlay::Login(l)) if !l.busy => l.type_chars(text),
        Some(Overlay::Filter(f)) if server_search(f.screen) => f.input.insert_str(text),
        Some(Overlay::Filter(f)) => {
            f.input.insert_str(text);
            let (screen, text) = (f.screen, f.input.text().to_string());
            set_filter(state, screen, text);
        }
        _ => {}
    }
}

/// Screens whose `/` search is sent to the daemon on Enter rather than applied per key.
pub(crate) fn server_search(screen: Screen) -> bool {
    screen.component().server_search()
}

fn set_filter(state: &mut State, screen: Screen, text: String) {
    let Some(view) = screen.component().list_mut(state) else {
        return;
    };
    if view.filter != text {
        view.filter = text;
        view.selected = 0;
    }
}

fn palette(state: &mut State, mut p: Palette, key: KeyEvent) -> Vec<Effect> {
    let options = access::completions(state, p.input.text());
    match key.code {
        KeyCode::Esc => return Vec::new(),
        KeyCode::Enter => return run_command(state, p.input.text()),
        KeyCode::Tab => {
            if let Some(c) = options.get(p.selected.min(options.len().saturating_sub(1))) {
                // A bare command that takes an argument gets its space, ready for it.
                let text = if c == "tenant" {
                    "tenant ".to_string()
                } else {
                    c.clone()
                };
                p.input.set(text);
                p.selected = 0;
            }
        }
        KeyCode::Down => p.selected = (p.selected + 1).min(options.len().saturating_sub(1)),
        KeyCode::Up => p.selected = p.selected.saturating_sub(1),
        _ => {
            if p.input.handle(&key) {
                p.selected = 0;
            }
        }
    }
    state.overlay = Some(Overlay::Palette(p));
    Vec::new()
}

/// Runs a palette line such as `tenant open-arms`, `pipeline` or `q`.
pub(crate) fn run_command(state: &mut State, line: &str) -> Vec<Effect> {
    let line = line.trim();
    let (cmd, arg) = line.split_once(' ').unwrap_or((line, ""));
    let arg = arg.trim();
    match cmd {
        "" => Vec::new(),
        "q" | "quit" | "q!" => {
            state.quit = true;
            Vec::new()
        }
        "help" | "h" => {
            state.overlay = Some(Overlay::Help { scroll: 0 });
            Vec::new()
        }
        "refresh" => refresh_screen(state, true),
        "logout" => session::logout(state),
        // `team <client>`: that client's users in one command.
        "team" if !arg.is_empty() => users::open_team_of(state, arg),
        "tenant" | "t" if arg.is_empty() => navigation::go(state, Screen::Tenants, true),
        // A name the list does not know yet is looked for again in a fresh list, so a
        // client created elsewhere is found at once.
        "tenant" | "t" => tenants::switch_by_name(state, arg, true),
        other => {
            // Screen names may be shortened to any unique prefix (`pipe`, `set`); a few
            // other names are understood too.
            let alias = REGISTRY
                .iter()
                .find(|d| d.aliases.contains(&other) || d.command == other)
                .map(|d| d.screen);
            let hits: Vec<Screen> = match alias {
                Some(s) => vec![s],
                // Only the screens the principal may open count towards a unique prefix.
                None => Screen::all()
                    .filter(|s| s.command().starts_with(other) && access::can_open(state, *s))
                    .collect(),
            };
            match hits.as_slice() {
                [s] => navigation::go(state, *s, true),
                [] => {
                    state.toast(
                        ToastLevel::Error,
                        format!("unknown command: {other} (? for help)"),
                    );
                    Vec::new()
                }
                many => {
                    let names: Vec<&str> = many.iter().map(|s| s.command()).collect();
                    state.toast(
                        ToastLevel::Error,
                        format!("\"{other}\" could be {}", names.join(", ")),
                    );
                    Vec::new()
                }
            }
        }
    }
}

fn form_key(state: &mut State, mut form: Form, key: KeyEvent) -> Vec<Effect> {
    let n = form.fields.len().max(1);
    match keymap::dialog(&key) {
        Some(Cmd::Cancel) => return Vec::new(),
        Some(Cmd::NextField) => form.focus = (form.focus + 1) % n,
        Some(Cmd::PrevField) => form.focus = (form.focus + n - 1) % n,
        Some(Cmd::Confirm) => {
            let values: Vec<String> = form
                .fields
                .iter()
                .map(|f| f.input.text().to_string())
                .collect();
            let result = match form.purpose {
                Purpose::AddStage | Purpose::RenameStage { .. } => {
                    pipeline::submit(state, form.purpose, &values)
                }
                Purpose::CreateKey | Purpose::RotateKey { .. } => {
                    keys::submit(state, form.purpose, &values)
                }
                Purpose::LeadNote { .. }
                | Purpose::LeadFilters
                | Purpose::NewLead
                | Purpose::ExportCsv => leads::submit(state, form.purpose, &values),
                Purpose::AuditAction => audit::submit(state, &values),
                Purpose::BreachNote { .. } => sla::submit(state, form.purpose, &values),
                Purpose::CreateTenant | Purpose::RenameTenant { .. } => {
                    tenants::submit(state, form.purpose, &values)
                }
                Purpose::InviteUser { .. } => users::submit(state, form.purpose, &values),
                Purpose::CreateWebhook
                | Purpose::EditWebhook { .. }
                | Purpose::RecoverWebhook { .. } => webhooks::submit(state, form.purpose, &values),
                Purpose::CreatePlan
                | Purpose::EditPlan { .. }
                | Purpose::AssignPlan { .. }
                | Purpose::UnassignPlan
                | Purpose::StripeCustomer => plans::submit(state, form.purpose, &values),
                Purpose::Platform(_)
                | Purpose::AddDefaultStage
                | Purpose::RenameDefaultStage { .. } => {
                    platform::submit(state, form.purpose, &values)
                }
                _ => settings::submit(state, form.purpose, &values),
            };
            match result {
                Ok(effects) => return effects,
                Err(e) => form.error = Some(e),
            }
        }
        _ => {
            if let Some(f) = form.fields.get_mut(form.focus) {
                f.input.handle(&key);
            }
        }
    }
    state.overlay = Some(Overlay::Form(form));
    Vec::new()
}

fn pick_stage(state: &mut State, mut p: PickStage, key: KeyEvent) -> Vec<Effect> {
    match (key.code, keymap::dialog(&key)) {
        (_, Some(Cmd::Cancel)) => return Vec::new(),
        (_, Some(Cmd::Confirm)) => {
            return match p.choices.get(p.selected) {
                Some((to, _)) if sla::in_stage(state, p.lead, *to) => {
                    state.toast(ToastLevel::Info, "already in that stage");
                    Vec::new()
                }
                Some((to, _)) => leads::move_stage(state, p.lead, *to),
                None => Vec::new(),
            };
        }
        (KeyCode::Char('j') | KeyCode::Down, _) => {
            p.selected = (p.selected + 1).min(p.choices.len().saturating_sub(1));
        }
        (KeyCode::Char('k') | KeyCode::Up, _) => p.selected = p.selected.saturating_sub(1),
        _ => {}
    }
    state.overlay = Some(Overlay::PickStage(p));
    Vec::new()
}

/// j/k move, Space ticks, `a` ticks all or none, Enter applies, Esc leaves it as it was.
fn pick_tenants(state: &mut State, mut p: PickTenants, key: KeyEvent) -> Vec<Effect> {
    match (key.code, keymap::dialog(&key)) {
        (_, Some(Cmd::Cancel)) => return Vec::new(),
        (_, Some(Cmd::Confirm)) => {
            let slugs: Vec<String> = p
                .choices
                .iter()
                .zip(&p.checked)
                .filter(|(_, on)| **on)
                .map(|((slug, _), _)| slug.clone())
                .collect();
            // The same dialog picks the clients of All leads and of the global analytics.
            return if state.screen == Screen::GlobalAnalytics {
                global_analytics::set_tenants(state, slugs)
            } else {
                all_leads::set_tenants(state, slugs)
            };
        }
        (KeyCode::Char('j') | KeyCode::Down, _) => {
            p.selected = (p.selected + 1).min(p.choices.len().saturating_sub(1));
        }
        (KeyCode::Char('k') | KeyCode::Up, _) => p.selected = p.selected.saturating_sub(1),
        (KeyCode::Char(' ') | KeyCode::Char('x'), _) => {
            if let Some(c) = p.checked.get_mut(p.selected) {
                *c = !*c;
            }
        }
        (KeyCode::Char('a'), _) => {
            let all = p.checked.iter().all(|c| *c);
            p.checked.iter_mut().for_each(|c| *c = !all);
        }
        _ => {}
    }
    state.overlay = Some(Overlay::PickTenants(p));
    Vec::new()
}

fn move_to(state: &mut State, mut m: MoveTo, key: KeyEvent) -> Vec<Effect> {
    match (key.code, keymap::dialog(&key)) {
        (_, Some(Cmd::Cancel)) => return Vec::new(),
        (_, Some(Cmd::Confirm)) => {
            if let Some((id, name)) = m.choices.get(m.selected) {
                state.overlay = Some(pipeline::confirm_delete(
                    &m.stage_name,
                    m.stage,
                    Some(*id),
                    m.lead_count,
                    name,
                ));
            }
            return Vec::new();
        }
        (KeyCode::Char('j') | KeyCode::Down, _) => {
            m.selected = (m.selected + 1).min(m.choices.len().saturating_sub(1));
        }
        (KeyCode::Char('k') | KeyCode::Up, _) => m.selected = m.selected.saturating_sub(1),
        _ => {}
    }
    state.overlay = Some(Overlay::MoveTo(m));
    Vec::new()
}

fn perform(state: &mut State, op: PendingOp) -> Vec<Effect> {
    match op {
        PendingOp::DeleteStage { stage, move_to } => {
            let Some(tenant) = state.tenant.as_ref().map(|t| t.id) else {
                return Vec::new();
            };
            vec![mutate(
                state,
                Call::DeleteStage {
                    tenant,
                    stage,
                    move_to,
                },
                Resource::Stages,
            )]
        }
        PendingOp::Settings(change) => settings::save(state, change).into_iter().collect(),
        PendingOp::RevokeKey { key } => keys::revoke(state, key),
        PendingOp::Platform(change) => platform::send(state, change),
        op @ (PendingOp::DeactivateTenant { .. } | PendingOp::DeleteTenant { .. }) => {
            tenants::perform(state, op)
        }
        PendingOp::OverwriteCsv(path) => leads::export(state, path, true),
        PendingOp::EraseLead { lead } => leads::erase(state, lead),
        op @ (PendingOp::User { .. } | PendingOp::DeleteUser { .. }) => users::perform(state, op),
        op @ (PendingOp::DeleteWebhook { .. } | PendingOp::RotateWebhookSecret { .. }) => {
            webhooks::perform(state, op)
        }
        PendingOp::SyncMeta { since } => integrations::sync(state, since),
        op @ PendingOp::DeletePlan { .. } => plans::perform(state, op),
    }
}

/// A chooser about users (a role, a permission, a lead's assignee): j/k move, Enter
/// sends, Esc cancels.
fn pick_user(state: &mut State, mut p: PickUser, key: KeyEvent) -> Vec<Effect> {
    match (key.code, keymap::dialog(&key)) {
        (_, Some(Cmd::Cancel)) => return Vec::new(),
        (_, Some(Cmd::Confirm)) => match &p.pick {
            // Still loading: nothing to choose yet, the chooser stays open.
            UserPick::Assignee(a) if a.ids.is_empty() => {}
            UserPick::Assignee(a) => return leads::assignee::picked(state, a, p.selected),
            _ => return users::picked(state, &p),
        },
        (KeyCode::Char('j') | KeyCode::Down, _) => {
            p.selected = (p.selected + 1).min(p.choices.len().saturating_sub(1));
        }
        (KeyCode::Char('k') | KeyCode::Up, _) => p.selected = p.selected.saturating_sub(1),
        _ => {}
    }
    state.overlay = Some(Overlay::PickUser(p));
    Vec::new()
}

/// Typing the expected word and Enter sends the change; Esc cancels; anything else types.
fn type_to_confirm(state: &mut State, mut c: TypeToConfirm, key: KeyEvent) -> Vec<Effect> {
    match keymap::dialog(&key) {
        Some(Cmd::Cancel) => return Vec::new(),
        Some(Cmd::Confirm) => {
            if c.input.text().trim() == c.expect {
                return perform(state, c.op);
            }
            c.error = Some(format!("type \"{}\" to confirm, or Esc", c.expect));
        }
        _ => {
            if c.input.handle(&key) {
                c.error = None;
            }
        }
    }
    state.overlay = Some(Overlay::TypeToConfirm(c));
    Vec::new()
}
