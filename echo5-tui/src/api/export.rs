//! The CSV export's file, written by the API worker (never on the UI thread): into a
//! `.part` file beside the target, renamed over it once the whole export is in, so a
//! failed or cut export never leaves half a file under the name the operator typed. The
//! file is created owner-only (0600): it holds personal data.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// `~/x` as the home directory's `x`; other paths as typed (relative ones from the
/// console's working directory).
pub fn expand_home(path: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => dirs::home_dir()
            .map(|h| h.join(rest))
            .unwrap_or_else(|| path.to_path_buf()),
        Err(_) => path.to_path_buf(),
    }
}

/// Whether something (a file, a directory, a link) already has this name.
pub async fn exists(path: &Path) -> bool {
    tokio::fs::symlink_metadata(path).await.is_ok()
}

/// An export being written. Dropped before [`CsvFile::finish`], it removes its `.part`.
pub struct CsvFile {
    path: PathBuf,
    part: PathBuf,
    file: Option<tokio::fs::File>,
    bytes: u64,
    /// Renamed into place: nothing to clean up.
    done: bool,
}

/// Why the file could not be written, in the operator's words.
pub fn describe(path: &Path, e: &std::io::Error) -> String {
    let why = match e.kind() {
        ErrorKind::NotFound => match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => format!("folder {} does not exist", dir.display()),
            None => "no such folder".to_string(),
        },
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        ErrorKind::IsADirectory => "it is a folder".to_string(),
        _ => e.to_string(),
    };
    format!("cannot write {}: {why}", path.display())
}

impl CsvFile {
    pub async fn create(path: &Path) -> Result<CsvFile, String> {
        if path.file_name().is_none() {
            return Err(format!("cannot write {}: not a file name", path.display()));
        }
        if tokio::fs::metadata(path).await.is_ok_and(|m| m.is_dir()) {
            return Err(format!("cannot write {}: it is a folder", path.display()));
        }
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".part");
        let part = path.with_file_name(name);
        // A new file, never one already there: a `.part` left by a crashed export (or a
        // link planted under that name) is removed first, not written through.
        let mut open = tokio::fs::OpenOptions::new();
        open.write(true).create_new(true);
        #[cfg(unix)]
        open.mode(0o600);
        let file = match open.open(&part).await {
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                tokio::fs::remove_file(&part)
                    .await
                    .map_err(|e| describe(path, &e))?;
                open.open(&part).await
            }
            other => other,
        }
        .map_err(|e| describe(path, &e))?;
        Ok(CsvFile {
            path: path.to_path_buf(),
            part,
            file: Some(file),
            bytes: 0,
            done: false,
        })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), String> {
        let Some(f) = self.file.as_mut() else {
            return Err("export already finished".into());
        };
        f.write_all(chunk)
            .await
            .map_err(|e| describe(&self.path, &e))?;
        self.bytes += chunk.len() as u64;
        Ok(())
    }

    /// Flushes the file to disk and gives it its name; the bytes written.
    pub async fn finish(mut self) -> Result<u64, String> {
        if let Some(mut f) = self.file.take() {
            f.flush().await.map_err(|e| describe(&self.path, &e))?;
            f.sync_all().await.map_err(|e| describe(&self.path, &e))?;
        }
        tokio::fs::rename(&self.part, &self.path)
            .await
            .map_err(|e| describe(&self.path, &e))?;
        self.done = true;
        Ok(self.bytes)
    }
}

impl Drop for CsvFile {
    fn drop(&mut self) {
        if !self.done {
            // Not finished: the half-written part goes (a blocking unlink, as small as a
            // syscall gets, on the worker's task).
            let _ = std::fs::remove_file(&self.part);
        }
    }
}
