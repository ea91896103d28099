//! The real `echo5-tui` binary and an admin token passed as a flag: a warning naming the
//! safer twins before the console starts (here it then stops: no terminal), none when the
//! token comes from the environment or a file.

use std::process::Command;

/// stderr of `echo5-tui ARGS` without a terminal (it exits after its checks).
fn stderr_of(args: &[&str], envs: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echo5-tui"));
    cmd.args(args)
        .args(["--url", "http://127.0.0.1:9"])
        .env_remove("ECHO5_TOKEN")
        .env_remove("ECHO5_TOKEN_FILE")
        .stdin(std::process::Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_token_flag_is_warned_about_and_its_twins_are_not() {
    let token = "e5a_VisibleInPsVisibleInPsVisibleInPs1234";
    let err = stderr_of(&["--token", token], &[]);
    assert!(
        err.contains("visible to every local user") && err.contains("--token-file"),
        "{err}"
    );
    assert!(!err.contains(token), "{err}");

    let err = stderr_of(&[], &[("ECHO5_TOKEN", token)]);
    assert!(!err.contains("visible to every local user"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, token).unwrap();
    let err = stderr_of(&["--token-file", file.to_str().unwrap()], &[]);
    assert!(!err.contains("visible to every local user"), "{err}");
    assert!(!err.contains("unexpected argument"), "{err}");
    let err = stderr_of(&[], &[("ECHO5_TOKEN_FILE", file.to_str().unwrap())]);
    assert!(!err.contains("visible to every local user"), "{err}");
}
