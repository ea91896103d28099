//! The admin token as `update` sees it: where it comes from, whether the daemon takes it,
//! and when to read its file again. Reading the file is the main loop's
//! ([`Effect::ReloadToken`]); this is pure.
//!
//! The token file is read again after a 401 (the operator may have run
//! `echo5d new-admin-token`, which replaces it) and on `^R`. After a 401 it is read once;
//! a second 401 with no accepted request in between is reported, not retried, so a token
//! the daemon keeps refusing never turns into a loop of reads and requests.

use super::State;
pub use super::action::TokenLoad;
use super::effect::Effect;
use super::request::refresh_screen;
use super::state::ToastLevel;

/// Where the console's admin token comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TokenSource {
    /// A file read at start and read again when the daemon refuses the token (the data
    /// directory's `admin.token`, or `--token-file`).
    File(String),
    /// `--token` or `ECHO5_TOKEN`: nothing to read again.
    #[default]
    Given,
}

/// Why the console has no token the daemon takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthProblem {
    /// The token file does not exist: the daemon has not run with that data directory, or
    /// the console looks in the wrong one.
    NoTokenFile { path: String },
    /// The token file exists but cannot be used (unreadable, empty, or conflicting options).
    Unusable { why: String },
    /// The daemon answered 401 to the token the console has.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub source: TokenSource,
    pub problem: Option<AuthProblem>,
    /// Whether the next 401 may re-read the token file. Spent by that re-read; armed again
    /// by any accepted request or a token that changed.
    pub reread_armed: bool,
    /// Requests with an id up to this one were sent before the token last changed: a 401
    /// for one of them is about the old token and says nothing about the new one.
    pub old_token_until: u64,
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            source: TokenSource::Given,
            problem: None,
            reread_armed: true,
            old_token_until: 0,
        }
    }
}

impl Auth {
    /// The start-up state: where the token comes from and what reading it found.
    pub fn at_start(source: TokenSource, loaded: Result<(), TokenLoad>) -> Self {
        let problem = match loaded {
            Ok(()) | Err(TokenLoad::Read { .. }) => None,
            Err(TokenLoad::Missing { path }) => Some(AuthProblem::NoTokenFile { path }),
            Err(TokenLoad::Unusable { why }) => Some(AuthProblem::Unusable { why }),
        };
        Auth {
            source,
            problem,
            reread_armed: true,
            old_token_until: 0,
        }
    }

    /// The daemon cannot be used until the operator fixes the token.
    pub fn is_blocked(&self) -> bool {
        self.problem.is_some()
    }

    fn file(&self) -> Option<&str> {
        match &self.source {
            TokenSource::File(p) => Some(p),
            TokenSource::Given => None,
        }
    }
}

/// The operator's reading of a 401: what is wrong and what to do.
pub(crate) fn unauthorized_text(state: &State) -> String {
    match (&state.auth.problem, state.auth.file()) {
        (Some(AuthProblem::NoTokenFile { path }), _) => format!(
            "no token file at {path}: start echo5d (its first start writes it) or pass \
             --data-dir, --token-file or ECHO5_TOKEN"
        ),
        (Some(AuthProblem::Unusable { why }), _) => {
            format!("no usable admin token: {why}")
        }
        (_, Some(path)) => format!(
            "admin token rejected (401): {path} holds a token the daemon refuses; after \
             `echo5d new-admin-token`, ^R reads it again"
        ),
        (_, None) => {
            "admin token rejected (401): pass --token or ECHO5_TOKEN, or --data-dir of the daemon"
                .into()
        }
    }
}

/// Whether a 401 for request `id` was for a token replaced since (sent before the file was
/// read again): it is dropped, not reported.
pub(crate) fn is_for_old_token(state: &State, id: u64) -> bool {
    id <= state.auth.old_token_until
}

/// A 401 from the daemon. With a token file and a re-read not yet spent, the file is read
/// again; otherwise the token is marked refused.
pub(crate) fn on_unauthorized(state: &mut State) -> Vec<Effect> {
    if !matches!(
        state.auth.problem,
        Some(AuthProblem::NoTokenFile { .. } | AuthProblem::Unusable { .. })
    ) {
        state.auth.problem = Some(AuthProblem::Rejected);
    }
    state.dirty = true;
    if state.auth.file().is_some() && state.auth.reread_armed {
        state.auth.reread_armed = false;
        return vec![Effect::ReloadToken];
    }
    Vec::new()
}

/// An accepted request: the token works.
pub(crate) fn on_accepted(state: &mut State) {
    if state.auth.problem.is_some() {
        state.dirty = true;
    }
    state.auth.problem = None;
    state.auth.reread_armed = true;
}

/// `^R`: read the token file again, whatever happened before.
pub(crate) fn on_refresh(state: &mut State) -> Vec<Effect> {
    if state.auth.file().is_some() {
        state.auth.reread_armed = false;
        return vec![Effect::ReloadToken];
    }
    Vec::new()
}

/// What reading the token file found. A new token is tried at once: the screen is fetched
/// again and the event stream reopened with it.
pub(crate) fn on_loaded(state: &mut State, load: TokenLoad) -> Vec<Effect> {
    state.dirty = true;
    match load {
        TokenLoad::Read { changed: true } => {
            state.auth.problem = None;
            state.auth.reread_armed = true;
            state.auth.old_token_until = state.seq;
            state.toast(ToastLevel::Info, "read a new admin token");
            let mut out = refresh_screen(state, true);
            out.extend(super::live::reconnect_now(state));
            out
        }
        TokenLoad::Read { changed: false } => {
            // The same token the daemon refused (if it did): nothing new to try. Whether it
            // works shows with the next answer.
            Vec::new()
        }
        TokenLoad::Missing { path } => {
            state.auth.problem = Some(AuthProblem::NoTokenFile { path });
            let text = unauthorized_text(state);
            state.toast(ToastLevel::Error, text);
            Vec::new()
        }
        TokenLoad::Unusable { why } => {
            state.auth.problem = Some(AuthProblem::Unusable { why });
            let text = unauthorized_text(state);
            state.toast(ToastLevel::Error, text);
            Vec::new()
        }
    }
}
