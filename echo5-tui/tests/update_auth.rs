//! The admin token: a missing token file said as such (not as a refused token, and never
//! with the header saying "connected"), the token file read again after a 401 (once per
//! failure) and on ^R, and a new token tried at once.

mod common;

use common::*;
use echo5_tui::app::auth::{Auth, AuthProblem, TokenLoad, TokenSource};
use echo5_tui::app::state::LiveStatus;
use echo5_tui::app::{Action, ApiError, Call, Conn, Effect, State, StreamMsg, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const PATH: &str = "/home/op/.local/share/echo5/admin.token";

fn unauthorized() -> ApiError {
    ApiError::Http {
        status: 401,
        detail: echo5_core::ErrorDetail {
            code: "unauthorized".into(),
            message: "missing or invalid admin token".into(),
            field: None,
        },
    }
}

fn reloads(fx: &[Effect]) -> usize {
    fx.iter().filter(|e| **e == Effect::ReloadToken).count()
}

fn streams(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::Stream { .. }))
        .count()
}

fn header(state: &State) -> String {
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("backend");
    t.draw(|f| echo5_tui::ui::draw(f, state)).expect("draw");
    let buf = t.backend().buffer();
    (0..buf.area.width)
        .map(|x| buf[(x, 0)].symbol().to_string())
        .collect()
}

/// A console that read its token from `PATH` at start (or found no file there), with its
/// first fetches issued.
fn from_file(found: bool) -> (State, Vec<Effect>) {
    let mut s = State::new("http://127.0.0.1:8787", now());
    let loaded = if found {
        Ok(())
    } else {
        Err(TokenLoad::Missing { path: PATH.into() })
    };
    s.auth = Auth::at_start(TokenSource::File(PATH.into()), loaded);
    let fx = update(&mut s, Action::Tick(now()));
    (s, fx)
}

/// Answers every API request in `fx` with a 401, returning what followed.
fn refuse_all(s: &mut State, fx: &[Effect]) -> Vec<Effect> {
    requests(fx)
        .iter()
        .flat_map(|r| answer(s, r, Err(unauthorized())))
        .collect()
}

#[test]
fn a_missing_token_file_is_named_and_the_header_does_not_say_connected() {
    let (mut s, fx) = from_file(false);
    let after = refuse_all(&mut s, &fx);
    // The file is looked for once more (it may have appeared), not in a loop.
    assert_eq!(reloads(&after), 1);
    let after = update(
        &mut s,
        Action::TokenLoaded(TokenLoad::Missing { path: PATH.into() }),
    );
    assert_eq!(reloads(&after), 0);
    let texts: Vec<&str> = s.toasts.iter().map(|t| t.text.as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains(&format!("no token file at {PATH}"))),
        "{texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("rejected")),
        "a missing file is not a refused token: {texts:?}"
    );
    assert!(
        s.dashboard
            .remote
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no token file") && e.contains("echo5d")),
        "{:?}",
        s.dashboard.remote.error
    );
    let top = header(&s);
    assert!(!top.contains("connected"), "{top}");
    assert!(top.contains("no token file"), "{top}");
    // Polls go on answering 401: still no re-read loop.
    let next = s.next_poll;
    let fx = update(&mut s, Action::Tick(next));
    assert_eq!(reloads(&refuse_all(&mut s, &fx)), 0);
}

#[test]
fn a_401_reads_the_token_file_again_once_and_a_new_token_is_tried_at_once() {
    let (mut s, fx) = from_file(true);
    settle(&mut s, fx);
    stream(&mut s, StreamMsg::Opened);
    assert_eq!(s.conn, Conn::Connected);
    assert!(header(&s).contains("connected"));

    // `echo5d new-admin-token` ran: the daemon refuses the old token.
    stream(
        &mut s,
        StreamMsg::Closed {
            error: "missing or invalid admin token (401)".into(),
        },
    );
    let fx = update(&mut s, ctrl('r'));
    let first = requests(&fx);
    let after = answer(&mut s, &first[0], Err(unauthorized()));
    // ^R already asked for a re-read; the 401 does not add a second one.
    assert_eq!(reloads(&fx) + reloads(&after), 1);
    assert!(matches!(s.auth.problem, Some(AuthProblem::Rejected)));
    assert!(header(&s).contains("token refused"), "{}", header(&s));

    // The file holds the new token: everything is fetched again and the stream reopened.
    let fx = update(
        &mut s,
        Action::TokenLoaded(TokenLoad::Read { changed: true }),
    );
    assert!(s.auth.problem.is_none());
    assert!(calls(&fx).contains(&Call::Dashboard), "{fx:?}");
    // A request sent with the old token (any id up to the change; here the same request's
    // id again) is refused after the new one was read: old news, not a refusal of the new
    // token.
    s.toasts.clear();
    let late = answer(&mut s, &first[0], Err(unauthorized()));
    assert_eq!(reloads(&late), 0);
    assert!(s.auth.problem.is_none());
    assert!(
        s.toasts.iter().all(|t| !t.text.contains("rejected")),
        "{:?}",
        s.toasts
    );
    assert_eq!(streams(&fx), 1);
    assert_eq!(s.live.status, LiveStatus::Connecting);
    settle(&mut s, fx);
    assert!(header(&s).contains("connected"));

    // Refused again later (another reset): one more re-read, since requests were accepted
    // in between...
    let next = s.next_poll;
    let fx = update(&mut s, Action::Tick(next));
    let after = refuse_all(&mut s, &fx);
    assert_eq!(reloads(&after), 1);
    // ...the file still holds the refused token: reported, and no loop.
    let fx = update(
        &mut s,
        Action::TokenLoaded(TokenLoad::Read { changed: false }),
    );
    assert!(requests(&fx).is_empty());
    let next = s.next_poll;
    let fx = update(&mut s, Action::Tick(next));
    assert_eq!(reloads(&refuse_all(&mut s, &fx)), 0);
    assert!(
        s.toasts.iter().any(|t| t.text.contains("rejected (401)")
            && t.text.contains(PATH)
            && t.text.contains("^R")),
        "{:?}",
        s.toasts
    );
    // ^R always reads it again: the operator may have just fixed it.
    assert_eq!(reloads(&update(&mut s, ctrl('r'))), 1);
}

#[test]
fn a_token_given_on_the_command_line_is_not_read_again() {
    let mut s = State::new("http://127.0.0.1:8787", now());
    let fx = update(&mut s, Action::Tick(now()));
    assert_eq!(reloads(&refuse_all(&mut s, &fx)), 0);
    assert_eq!(reloads(&update(&mut s, ctrl('r'))), 0);
    assert!(
        s.toasts.iter().any(|t| t.text.contains("ECHO5_TOKEN")),
        "{:?}",
        s.toasts
    );
}
