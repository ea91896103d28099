//! Things drawn over a screen that take the keys while open: help, the command palette, the
//! filter line, forms, the move-to chooser and confirmations.

use echo5_core::keys::ApiKey;
use echo5_core::logs::LogLine;
use echo5_core::secret::Secret;
use echo5_core::tenants::Tenant;
use std::path::PathBuf;
use uuid::Uuid;

use super::Screen;
use super::action::SecretOrigin;
use super::effect::{
    PlatformChange, PlatformField, SecretField, SettingsChange, UserChange, UserRealm,
};
use super::input::LineInput;

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    Palette(Palette),
    Filter(Filter),
    Form(Form),
    MoveTo(MoveTo),
    /// Which stage to move a lead to.
    PickStage(PickStage),
    /// Which tenants the All leads list shows.
    PickTenants(PickTenants),
    Confirm(Confirm),
    /// One daemon log line in full, wrapped and scrollable.
    LogLine {
        line: Box<LogLine>,
        scroll: u16,
    },
    /// A change that erases data for good: the operator types a word (the client's slug)
    /// before it is sent.
    TypeToConfirm(TypeToConfirm),
    /// Full API keys waiting to be read, oldest first. Only Enter or Esc dismisses one, and
    /// a dismissed key leaves the state for good.
    ShowKey(Vec<ShownKey>),
    /// `--login`: the password prompt. Nothing else takes keys while it is open.
    Login(Login),
    /// A new user's invitation link, shown once.
    ShowInvite(ShownInvite),
    /// A user's role, or the permission to toggle, chosen from a list.
    PickUser(PickUser),
    /// Which event types a webhook endpoint is sent.
    PickEvents(PickEvents),
    /// Webhook signing secrets waiting to be read, oldest first. The daemon never shows a
    /// secret again, so only Enter or Esc dismisses one, and it leaves the state for good.
    ShowWebhookSecret(Vec<ShownWebhookSecret>),
}

/// A webhook endpoint's signing secret on its way to the operator's eyes: drawn only by
/// its modal, redacted in `Debug`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownWebhookSecret {
    pub url: String,
    pub secret: Secret<String>,
    /// A new secret of a rotation (else a new endpoint's).
    pub rotated: bool,
    /// After a rotation, until when the old secret keeps signing too.
    pub previous_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The event chooser of a webhook endpoint: "all events" first, then each type.
#[derive(Debug, Clone, PartialEq)]
pub struct PickEvents {
    pub title: String,
    /// Ticked or not, for "*" and then each of [`echo5_core::webhooks::EventType::ALL`].
    pub checked: Vec<bool>,
    pub selected: usize,
    /// What the chosen events complete.
    pub then: EventsFor,
    /// Why Enter was refused (nothing ticked).
    pub error: Option<String>,
}

/// The endpoint the chosen events are for: a new one, or one being edited, with what the
/// form before the chooser said.
#[derive(Debug, Clone, PartialEq)]
pub enum EventsFor {
    Create {
        url: String,
        description: String,
    },
    Edit {
        webhook: Uuid,
        url: String,
        description: String,
    },
}

/// The login dialog. The password lives in a [`Secret`] (redacted in `Debug`, wiped when
/// dropped) whose buffer is reserved up front, so typing never leaves a copy behind in a
/// freed allocation; it is drawn as dots and leaves with the login call.
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    pub email: String,
    pub password: Secret<String>,
    /// Why the dialog is open again: the session ended, or the user logged out.
    pub reason: Option<String>,
    /// Why the last attempt failed, as the daemon said it.
    pub error: Option<String>,
    /// A login is on its way.
    pub busy: bool,
}

/// Bytes reserved for a password: `MAX_CHARS` characters of up to 4 bytes each.
const PASSWORD_BYTES: usize = echo5_core::passwords::MAX_CHARS * 4;

impl Login {
    pub fn new(email: impl Into<String>, reason: Option<String>) -> Login {
        Login {
            email: email.into(),
            password: Secret::new(String::with_capacity(PASSWORD_BYTES)),
            reason,
            error: None,
            busy: false,
        }
    }

    pub fn password_chars(&self) -> usize {
        self.password.expose().chars().count()
    }

    /// Adds typed (or pasted) characters, up to the longest password there can be. The
    /// reserved buffer is reused, never grown, so no copy is left in freed memory.
    pub fn type_chars(&mut self, text: &str) {
        let mut pw = std::mem::take(&mut self.password).into_inner();
        if pw.capacity() < PASSWORD_BYTES {
            pw.reserve_exact(PASSWORD_BYTES - pw.len());
        }
        for c in text.chars().filter(|c| !c.is_control()) {
            if pw.chars().count() >= echo5_core::passwords::MAX_CHARS
                || pw.len() + c.len_utf8() > pw.capacity()
            {
                break;
            }
            pw.push(c);
        }
        self.password = Secret::new(pw);
    }

    pub fn backspace(&mut self) {
        let mut pw = std::mem::take(&mut self.password).into_inner();
        pw.pop();
        self.password = Secret::new(pw);
    }

    /// Takes the password out for the login call; the dialog keeps an empty one.
    pub fn take_password(&mut self) -> Secret<String> {
        std::mem::replace(
            &mut self.password,
            Secret::new(String::with_capacity(PASSWORD_BYTES)),
        )
    }
}

/// An invitation link waiting to be read: drawn only by its modal, redacted in `Debug`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownInvite {
    pub email: String,
    pub url: Secret<String>,
}

/// What a [`PickUser`] chooses.
#[derive(Debug, Clone, PartialEq)]
pub enum UserPick {
    /// A role for `user`.
    Role { realm: UserRealm, user: Uuid },
    /// A permission of `user` to turn on or off.
    Permission { realm: UserRealm, user: Uuid },
    /// The user a lead is assigned to.
    Assignee(AssigneePick),
}

/// Whom a lead is assigned to: the lines of its tenant's active users after "nobody".
#[derive(Debug, Clone, PartialEq)]
pub struct AssigneePick {
    pub lead: Uuid,
    pub tenant: Uuid,
    /// What each line of the chooser assigns, in the same order; `None` is nobody.
    pub ids: Vec<Option<Uuid>>,
    /// Whom the lead is assigned to now: preselected once the list is in.
    pub current: Option<Uuid>,
    /// "Name <email>" of the current assignee, from the lead's detail, for the line added
    /// when the list lacks them (deactivated, or not the principal's to list).
    pub current_name: Option<String>,
    /// The users fetch the list waits for ("loading…"); only its answer fills the list.
    pub waiting: Option<u64>,
    /// Why the users could not be listed.
    pub error: Option<String>,
}

/// A chooser about users: a user's role or permission, or a lead's assignee.
#[derive(Debug, Clone, PartialEq)]
pub struct PickUser {
    pub title: String,
    pub pick: UserPick,
    /// What each line says, in order (roles, permissions with their current value, or
    /// users).
    pub choices: Vec<String>,
    pub selected: usize,
}

/// A full API key on its way to the operator's eyes: drawn only by the modal, redacted in
/// `Debug` (it is a [`Secret`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ShownKey {
    pub tenant_name: String,
    pub key: ApiKey,
    pub secret: Secret<String>,
    pub origin: SecretOrigin,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Palette {
    pub input: LineInput,
    /// Index into the completions of the current input.
    pub selected: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub screen: Screen,
    pub input: LineInput,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub purpose: Purpose,
    /// Why the last submit was refused; the form stays open so nothing typed is lost.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub label: &'static str,
    pub input: LineInput,
    /// Drawn as dots while typed, so a secret never sits readable on screen.
    pub secret: bool,
}

impl Field {
    pub fn new(label: &'static str, value: impl Into<String>) -> Self {
        Field {
            label,
            input: LineInput::new(value),
            secret: false,
        }
    }

    /// Free text over several lines (notes): Alt-Enter breaks a line.
    pub fn multiline(label: &'static str, value: impl Into<String>) -> Self {
        Field {
            label,
            input: LineInput::multiline(value),
            secret: false,
        }
    }

    pub fn secret(label: &'static str) -> Self {
        Field {
            label,
            input: LineInput::default(),
            secret: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    AddStage,
    RenameStage {
        stage: Uuid,
    },
    SlaHours,
    BusinessHours,
    SpamKeywords,
    ManagerEmail,
    DefaultCountry,
    Secret(SecretField),
    CreateKey,
    RotateKey {
        key: Uuid,
    },
    /// A note appended to the lead's timeline.
    LeadNote {
        lead: Uuid,
    },
    /// The Leads screen's filters (stage, source, breached, spam, from, to).
    LeadFilters,
    /// Manual lead entry for the selected tenant.
    NewLead,
    /// Where the CSV export goes.
    ExportCsv,
    /// The Audit screen's action filter.
    AuditAction,
    Platform(PlatformField),
    AddDefaultStage,
    RenameDefaultStage {
        index: usize,
    },
    BreachNote {
        lead: Uuid,
    },
    CreateTenant,
    RenameTenant {
        tenant: Uuid,
    },
    /// Invite a user to a tenant (email, name, role) or the platform (email, name).
    InviteUser {
        realm: UserRealm,
    },
    /// A new webhook endpoint's URL and description (its events are chosen next).
    CreateWebhook,
    /// An endpoint's URL and description (its events are chosen next).
    EditWebhook {
        webhook: Uuid,
    },
    /// Since when an endpoint's failed messages are sent again.
    RecoverWebhook {
        webhook: Uuid,
    },
    /// A new plan: name, price, currency and each limit.
    CreatePlan,
    EditPlan {
        plan: Uuid,
    },
    /// Which client goes on the plan.
    AssignPlan {
        plan: Uuid,
    },
    /// Which client comes off its plan.
    UnassignPlan,
    /// A client and the Stripe customer its usage is reported for.
    StripeCustomer,
}

/// The All leads tenant filter: tick any number of tenants; none ticked means all.
#[derive(Debug, Clone, PartialEq)]
pub struct PickTenants {
    /// (slug, name) of every tenant, in the tenant list's order.
    pub choices: Vec<(String, String)>,
    pub checked: Vec<bool>,
    pub selected: usize,
}

/// Moving a lead: the tenant's stages, the lead's current one preselected.
#[derive(Debug, Clone, PartialEq)]
pub struct PickStage {
    pub lead: Uuid,
    pub lead_name: String,
    pub choices: Vec<(Uuid, String)>,
    pub selected: usize,
}

/// Where to move a stage's leads before deleting it.
#[derive(Debug, Clone, PartialEq)]
pub struct MoveTo {
    pub stage: Uuid,
    pub stage_name: String,
    pub lead_count: u64,
    pub choices: Vec<(Uuid, String)>,
    pub selected: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub message: String,
    pub op: PendingOp,
}

/// A destructive change waiting for a yes.
#[derive(Debug, Clone, PartialEq)]
pub enum PendingOp {
    DeleteStage {
        stage: Uuid,
        move_to: Option<Uuid>,
    },
    Settings(SettingsChange),
    RevokeKey {
        key: Uuid,
    },
    Platform(PlatformChange),
    /// Write the CSV export over an existing file.
    OverwriteCsv(PathBuf),
    DeactivateTenant {
        tenant: Uuid,
    },
    DeleteTenant {
        tenant: Uuid,
        purge: bool,
    },
    /// A user's change that ends their sessions (deactivation).
    User {
        realm: UserRealm,
        user: Uuid,
        change: UserChange,
    },
    DeleteUser {
        realm: UserRealm,
        user: Uuid,
    },
    /// Erase a lead, its notes and its history.
    EraseLead {
        lead: Uuid,
    },
    DeleteWebhook {
        webhook: Uuid,
    },
    RotateWebhookSecret {
        webhook: Uuid,
    },
    DeletePlan {
        plan: Uuid,
    },
    /// Read the tenant's Meta leads since this time again.
    SyncMeta {
        since: chrono::DateTime<chrono::Utc>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeToConfirm {
    pub title: String,
    /// What is erased, in full.
    pub message: String,
    /// What must be typed.
    pub expect: String,
    pub input: LineInput,
    pub op: PendingOp,
    pub error: Option<String>,
}

/// Palette commands, in the order completion offers them: switching tenant, each screen
/// (from the registry), then the rest.
pub fn commands() -> Vec<(&'static str, &'static str)> {
    let mut all = vec![("tenant", "switch tenant: tenant <name or slug>")];
    all.extend(Screen::all().map(|s| (s.command(), s.desc().about)));
    all.extend([
        ("refresh", "fetch the current screen again"),
        ("help", "key bindings"),
        ("quit", "leave the console"),
    ]);
    all
}

/// Full command lines that complete `input`: command names, or tenant slugs after `tenant `.
pub fn completions(input: &str, tenants: &[Tenant]) -> Vec<String> {
    let input = input.trim_start();
    match input.split_once(' ') {
        Some(("tenant" | "t", arg)) => {
            let arg = arg.trim().to_lowercase();
            let mut prefix = Vec::new();
            let mut inner = Vec::new();
            for t in tenants {
                let (slug, name) = (t.slug.to_lowercase(), t.name.to_lowercase());
                if slug.starts_with(&arg) || name.starts_with(&arg) {
                    prefix.push(format!("tenant {}", t.slug));
                } else if slug.contains(&arg) || name.contains(&arg) {
                    inner.push(format!("tenant {}", t.slug));
                }
            }
            prefix.extend(inner);
            prefix
        }
        Some(_) => Vec::new(),
        None => commands()
            .into_iter()
            .filter(|(c, _)| c.starts_with(input))
            .map(|(c, _)| c.to_string())
            .collect(),
    }
}

/// Finds the tenant an operator means by `query`: an exact slug or name, else the only one
/// it starts, else the only one it is part of.
pub fn resolve_tenant<'a>(tenants: &'a [Tenant], query: &str) -> Result<&'a Tenant, String> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return Err("which tenant? type :tenant <name>".into());
    }
    if let Some(t) = tenants
        .iter()
        .find(|t| t.slug.to_lowercase() == q || t.name.to_lowercase() == q)
    {
        return Ok(t);
    }
    let tiers: [&dyn Fn(&str) -> bool; 2] =
        [&|s: &str| s.starts_with(&q), &|s: &str| s.contains(&q)];
    for test in tiers {
        let hits: Vec<&Tenant> = tenants
            .iter()
            .filter(|t| test(&t.slug.to_lowercase()) || test(&t.name.to_lowercase()))
            .collect();
        match hits.as_slice() {
            [one] => return Ok(one),
            [] => continue,
            many => {
                let names: Vec<&str> = many.iter().map(|t| t.slug.as_str()).collect();
                return Err(format!("\"{query}\" matches {}", names.join(", ")));
            }
        }
    }
    Err(format!("no tenant matches \"{query}\""))
}
