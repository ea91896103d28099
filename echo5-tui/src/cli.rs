//! Command line and environment. With no flags the console finds a daemon on this machine:
//! the default URL, and the token the daemon wrote into its data directory.

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use echo5_core::secret::Secret;

use crate::app::auth::{TokenLoad, TokenSource};
use std::convert::Infallible;
use std::path::PathBuf;

/// The file the daemon writes its admin token to, inside its data directory.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

#[derive(Debug, Clone, Parser)]
#[command(
    name = "echo5-tui",
    version,
    about = "Echo5 operator console",
    after_help = "Measuring: ECHO5_TUI_TIMINGS=<file> appends one line of startup timings \
                  (first frame, first frame with data, its draw time) to <file>."
)]
pub struct Cli {
    /// The daemon's base URL.
    #[arg(long, env = "ECHO5_URL", default_value = "http://127.0.0.1:8787")]
    pub url: String,
    /// Admin token; read from <data dir>/admin.token when not given. Prefer ECHO5_TOKEN or
    /// --token-file: a flag is visible to every local user.
    #[arg(long, env = "ECHO5_TOKEN", hide_env_values = true, value_parser = secret_arg)]
    pub token: Option<Secret<String>>,
    /// A file holding the admin token (keeps it out of the process list).
    #[arg(long, env = "ECHO5_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// The daemon's data directory, where admin.token lives.
    #[arg(long, env = "ECHO5_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Capture the mouse (wheel scrolls). Off by default so text can be selected and copied
    /// over SSH.
    #[arg(long, env = "ECHO5_MOUSE")]
    pub mouse: bool,
    /// Log in as this user (the password is asked, never echoed) instead of using the
    /// admin token. The session is kept in memory only.
    #[arg(long, env = "ECHO5_LOGIN", value_name = "EMAIL")]
    pub login: Option<String>,
    /// Seconds between automatic refreshes of the current screen.
    #[arg(long, env = "ECHO5_REFRESH", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub refresh: u32,
    /// What the operator should hear about how the console was started (a secret passed
    /// as a flag); printed before the console starts and shown in it.
    #[arg(skip)]
    pub warnings: Vec<String>,
}

fn secret_arg(s: &str) -> Result<Secret<String>, Infallible> {
    Ok(Secret::new(s.trim().to_string()))
}

/// The warning for an admin token given as `--token`, which every local user can read in
/// `ps` or `/proc/<pid>/cmdline` (the environment is readable only by the same user).
pub const TOKEN_FLAG_WARNING: &str = "--token on the command line is visible to every local \
     user (ps); use --token-file or ECHO5_TOKEN instead";

impl Cli {
    /// Parses the process's arguments and notes in `warnings` a secret given as a flag.
    pub fn parse_checked() -> Cli {
        let matches = Cli::command().get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        cli.warnings = secret_flag_warnings(&matches);
        cli
    }

    /// The same default the daemon uses, so both agree without configuration.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            dirs::data_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("echo5")
        })
    }

    /// Where the admin token comes from: a file the console reads again when the daemon
    /// refuses the token, or a value given at start.
    pub fn token_source(&self) -> TokenSource {
        match (&self.token, &self.token_file) {
            (Some(_), _) => TokenSource::Given,
            (None, Some(path)) => TokenSource::File(path.display().to_string()),
            (None, None) => {
                TokenSource::File(self.data_dir().join(ADMIN_TOKEN_FILE).display().to_string())
            }
        }
    }

    /// The admin token, or why there is none. Missing is not fatal: the console still
    /// starts, says where it looked, and reads the file again on `^R`.
    pub fn load_token(&self) -> Result<Secret<String>, TokenLoad> {
        let unusable = |why: String| TokenLoad::Unusable { why };
        let path = match (&self.token, &self.token_file) {
            (Some(_), Some(_)) => {
                return Err(unusable(
                    "set only one of ECHO5_TOKEN and ECHO5_TOKEN_FILE".into(),
                ));
            }
            (Some(t), None) => return Ok(t.clone()),
            (None, Some(path)) => path.clone(),
            (None, None) => self.data_dir().join(ADMIN_TOKEN_FILE),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                // The file's text is wiped when dropped, like the trimmed copy.
                let text = Secret::new(text);
                match text.expose().trim() {
                    "" => Err(unusable(format!("{} is empty", path.display()))),
                    t => Ok(Secret::new(t.to_string())),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(TokenLoad::Missing {
                path: path.display().to_string(),
            }),
            Err(e) => Err(unusable(format!("cannot read {} ({e})", path.display()))),
        }
    }

    /// [`Cli::load_token`] with the reason as a sentence.
    pub fn token(&self) -> Result<Secret<String>, String> {
        self.load_token().map_err(|e| match e {
            TokenLoad::Missing { path } => format!(
                "no token file at {path}: start echo5d (its first start writes it) or pass \
                 --data-dir, --token-file or ECHO5_TOKEN"
            ),
            TokenLoad::Unusable { why } => why,
            TokenLoad::Read { .. } => String::new(),
        })
    }
}

/// Warnings for secrets given as flags (see [`TOKEN_FLAG_WARNING`]).
pub fn secret_flag_warnings(matches: &ArgMatches) -> Vec<String> {
    if matches.value_source("token") == Some(ValueSource::CommandLine) {
        vec![TOKEN_FLAG_WARNING.to_string()]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comes_from_the_data_dir() {
        let dir = std::env::temp_dir().join(format!("echo5-tui-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(ADMIN_TOKEN_FILE), "abc123\n").unwrap();
        let cli = Cli::parse_from(["echo5-tui", "--data-dir", dir.to_str().unwrap()]);
        assert_eq!(cli.token().unwrap().expose(), "abc123");
        let cli = Cli::parse_from(["echo5-tui", "--token", "zzz", "--data-dir", "/nonexistent"]);
        assert_eq!(cli.token().unwrap().expose(), "zzz");
        assert!(!format!("{cli:?}").contains("zzz"));
        let cli = Cli::parse_from(["echo5-tui", "--data-dir", "/nonexistent"]);
        assert!(cli.token().unwrap_err().contains("--token"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn login_takes_an_email_from_the_flag_or_the_environment_twin() {
        let cli = Cli::parse_from(["echo5-tui", "--login", "maria@openarms.example"]);
        assert_eq!(cli.login.as_deref(), Some("maria@openarms.example"));
        assert!(Cli::parse_from(["echo5-tui"]).login.is_none());
        let arg = Cli::command()
            .get_arguments()
            .find(|a| a.get_id() == "login")
            .and_then(|a| a.get_env().map(|e| e.to_string_lossy().into_owned()));
        assert_eq!(arg.as_deref(), Some("ECHO5_LOGIN"));
    }

    #[test]
    fn token_file_and_the_warning_for_a_token_flag() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "e5a_fromfile\n").unwrap();
        let f = file.to_str().unwrap();
        let cli = Cli::parse_from(["echo5-tui", "--token-file", f, "--data-dir", "/nonexistent"]);
        assert_eq!(cli.token().unwrap().expose(), "e5a_fromfile");
        let both = Cli::parse_from(["echo5-tui", "--token-file", f, "--token", "x"]);
        assert!(both.token().unwrap_err().contains("only one"));

        let warned = |args: &[&str]| {
            let m = Cli::command().try_get_matches_from(args).unwrap();
            secret_flag_warnings(&m)
        };
        let w = warned(&["echo5-tui", "--token", "e5a_secret"]);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("--token-file") && !w[0].contains("e5a_secret"));
        assert!(warned(&["echo5-tui", "--token-file", f]).is_empty());
        assert!(warned(&["echo5-tui"]).is_empty());
    }
}
