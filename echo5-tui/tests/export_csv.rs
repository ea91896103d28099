//! The CSV export's file, written for real in a temporary directory: the whole export under
//! the typed name, owner-only, never half a file, and clear words when the path is wrong.

use echo5_tui::api::export::{CsvFile, exists, expand_home};
use std::path::Path;

#[tokio::test]
async fn an_export_lands_whole_under_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open-arms-leads.csv");
    assert!(!exists(&path).await);
    let mut f = CsvFile::create(&path).await.unwrap();
    f.write(b"\"id\",\"name\"\n").await.unwrap();
    // Until it is finished, the name is not there: only the part file.
    assert!(!exists(&path).await);
    f.write(b"\"1\",\"Jane\"\n").await.unwrap();
    assert_eq!(f.finish().await.unwrap(), 23);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "\"id\",\"name\"\n\"1\",\"Jane\"\n"
    );
    assert!(exists(&path).await);
    assert!(!dir.path().join("open-arms-leads.csv.part").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "personal data: owner only");
    }
    // Replacing it (after the operator said yes) writes the new export.
    let mut f = CsvFile::create(&path).await.unwrap();
    f.write(b"\"id\"\n").await.unwrap();
    f.finish().await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "\"id\"\n");
}

/// A `.part` already there (a crashed export, or a link planted under that name) is
/// replaced, never written through.
#[cfg(unix)]
#[tokio::test]
async fn a_link_under_the_part_name_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious.txt");
    std::fs::write(&target, "keep me").unwrap();
    let path = dir.path().join("leads.csv");
    std::os::unix::fs::symlink(&target, dir.path().join("leads.csv.part")).unwrap();
    let mut f = CsvFile::create(&path).await.unwrap();
    f.write(b"\"id\"\n").await.unwrap();
    f.finish().await.unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "\"id\"\n");
    assert!(
        !std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[tokio::test]
async fn a_cut_export_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.csv");
    std::fs::write(&path, "the old export").unwrap();
    let mut f = CsvFile::create(&path).await.unwrap();
    f.write(b"half of it").await.unwrap();
    drop(f); // the download failed
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "the old export");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no .part left"
    );
}

#[tokio::test]
async fn a_path_that_cannot_be_written_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder").join("leads.csv");
    let err = CsvFile::create(&missing).await.err().unwrap();
    assert!(err.contains("does not exist"), "{err}");
    assert!(err.contains("no-such-folder"), "{err}");

    let err = CsvFile::create(dir.path()).await.err().unwrap();
    assert!(err.contains("folder"), "{err}");

    #[cfg(unix)]
    if !is_root() {
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
        let err = CsvFile::create(&locked.join("leads.csv"))
            .await
            .err()
            .unwrap();
        assert!(err.contains("permission denied"), "{err}");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}

#[cfg(unix)]
fn is_root() -> bool {
    // Root writes through directory permissions; the file's owner says who runs the test.
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("probe");
    std::fs::write(&f, "").unwrap();
    std::fs::metadata(&f).unwrap().uid() == 0
}

#[test]
fn tilde_is_the_home_directory() {
    let home = dirs::home_dir().unwrap();
    assert_eq!(expand_home(Path::new("~/x.csv")), home.join("x.csv"));
    assert_eq!(expand_home(Path::new("x.csv")), Path::new("x.csv"));
    assert_eq!(
        expand_home(Path::new("/tmp/~x.csv")),
        Path::new("/tmp/~x.csv")
    );
}
