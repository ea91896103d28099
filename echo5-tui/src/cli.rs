//! Command line and environment. With no flags the console finds a daemon on this machine:
//! the default URL, and the token the daemon wrote into its data directory.

use clap::Parser;
use echo5_core::secret::Secret;
use std::convert::Infallible;
use std::path::PathBuf;

/// The file the daemon writes its admin token to, inside its data directory.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

#[derive(Debug, Parser)]
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
    /// Admin token; read from <data dir>/admin.token when not given.
    #[arg(long, env = "ECHO5_TOKEN", hide_env_values = true, value_parser = secret_arg)]
    pub token: Option<Secret<String>>,
    /// The daemon's data directory, where admin.token lives.
    #[arg(long, env = "ECHO5_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Capture the mouse (wheel scrolls). Off by default so text can be selected and copied
    /// over SSH.
    #[arg(long, env = "ECHO5_MOUSE")]
    pub mouse: bool,
    /// Seconds between automatic refreshes of the current screen.
    #[arg(long, env = "ECHO5_REFRESH", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub refresh: u32,
}

fn secret_arg(s: &str) -> Result<Secret<String>, Infallible> {
    Ok(Secret::new(s.trim().to_string()))
}

impl Cli {
    /// The same default the daemon uses, so both agree without configuration.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            dirs::data_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("echo5")
        })
    }

    /// The admin token, or why there is none. Missing is not fatal: the console still
    /// starts and shows the daemon's 401 with advice.
    pub fn token(&self) -> Result<Secret<String>, String> {
        if let Some(t) = &self.token {
            return Ok(t.clone());
        }
        let path = self.data_dir().join(ADMIN_TOKEN_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => Ok(Secret::new(text.trim().to_string())),
            Ok(_) => Err(format!("{} is empty", path.display())),
            Err(e) => Err(format!(
                "no admin token: cannot read {} ({e}); pass --token or ECHO5_TOKEN",
                path.display()
            )),
        }
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
}
