//! `-o OUT`: a regular file is replaced whole or not at all (a temporary file beside it, then
//! a rename), keeping its mode; a symlink is written through to what it points at; a device,
//! pipe or socket is written to directly, since renaming over it would replace the node
//! (`-o /dev/stdout` as root would remove the system's link) and a reader on a pipe waits for
//! the writes themselves.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::Failure;

/// How many links deep a symlink chain is followed, as the kernel's own limit (`ELOOP`).
const MAX_LINKS: usize = 40;

/// Writes `contents` to `path`: whole or not at all for a regular file (which keeps its mode),
/// through for anything else.
pub fn write_output(path: &Path, contents: &str) -> Result<(), Failure> {
    write_with(path, contents.as_bytes(), |file, bytes| {
        file.write_all(bytes)
    })
    .map_err(|e| {
        Failure::input(format!(
            "{}: error: cannot write the output: {e}",
            path.display()
        ))
    })
}

/// [`write_output`] with the writing of the bytes as a parameter, so that a failure in the
/// middle of a write can be tested.
fn write_with(
    path: &Path,
    contents: &[u8],
    write: impl FnOnce(&mut File, &[u8]) -> io::Result<()>,
) -> io::Result<()> {
    match std::fs::metadata(path) {
        // `metadata` follows links, so a link to a device is written through as a device.
        Ok(meta) if !meta.is_file() => {
            let mut file = OpenOptions::new().write(true).open(path)?;
            write(&mut file, contents)?;
            file.flush()
        }
        Ok(meta) => replace(&resolve(path)?, contents, Some(meta.permissions()), write),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            replace(&resolve(path)?, contents, None, write)
        }
        Err(e) => Err(e),
    }
}

/// The path a rename must land on: `path` itself, or what its chain of symlinks ends at
/// (which may not exist yet: a dangling link creates its target, as a shell's `>` does).
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&at)?;
                let dir = at.parent().map(Path::to_path_buf).unwrap_or_default();
                at = dir.join(link);
            }
            _ => return Ok(at),
        }
    }
    Err(io::Error::other(format!(
        "more than {MAX_LINKS} symbolic links in a chain"
    )))
}

/// A temporary file beside `target`, filled, given `mode` (the replaced file's, exactly; a new
/// file gets the usual `0666` less the umask), then renamed over `target`. The temporary file
/// is removed on every error path: `NamedTempFile` deletes it when dropped unpersisted.
fn replace(
    target: &Path,
    contents: &[u8],
    mode: Option<Permissions>,
    write: impl FnOnce(&mut File, &[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let prefix = format!(
        ".{}.",
        target
            .file_name()
            .map(|f| f.to_string_lossy())
            .unwrap_or_default()
    );
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(Permissions::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(dir)?;
    write(temp.as_file_mut(), contents)?;
    temp.as_file_mut().flush()?;
    if let Some(mode) = mode {
        // Set on the open file, so the umask does not narrow it (a `0666` file stays `0666`).
        temp.as_file().set_permissions(mode)?;
    }
    temp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("chainrule-output-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir"); // ok: a test
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("dir") // ok: a test
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()) // ok: a test
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_write_leaves_the_file_and_no_temporary_file() {
        let dir = scratch("failed");
        let out = dir.join("out.tex");
        std::fs::write(&out, "previous").expect("write"); // ok: a test
        let fails = |file: &mut File, bytes: &[u8]| {
            file.write_all(&bytes[..3])?;
            Err(io::Error::other("the disk is full"))
        };
        let e = write_with(&out, b"new contents", fails).expect_err("the write fails");
        assert_eq!(e.to_string(), "the disk is full");
        assert_eq!(std::fs::read_to_string(&out).expect("read"), "previous"); // ok: a test
        assert_eq!(entries(&dir), ["out.tex"]);
        // A new file: nothing at all is left.
        let new = dir.join("new.tex");
        assert!(write_with(&new, b"new contents", fails).is_err());
        assert_eq!(entries(&dir), ["out.tex"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_link_into_a_missing_directory_is_an_error_that_leaves_nothing() {
        let dir = scratch("missing");
        let link = dir.join("link.tex");
        std::os::unix::fs::symlink("missing/out.tex", &link).expect("symlink"); // ok: a test
        assert!(write_with(&link, b"x", |f, b| f.write_all(b)).is_err());
        assert_eq!(entries(&dir), ["link.tex"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_chain_of_links_is_followed_and_kept() {
        let dir = scratch("chain");
        std::fs::write(dir.join("real.tex"), "previous").expect("write"); // ok: a test
        std::os::unix::fs::symlink("real.tex", dir.join("one")).expect("symlink"); // ok: a test
        std::os::unix::fs::symlink(dir.join("one"), dir.join("two")).expect("symlink"); // ok: a test
        write_with(&dir.join("two"), b"new", |f, b| f.write_all(b)).expect("written"); // ok: a test
        assert_eq!(
            std::fs::read_to_string(dir.join("real.tex")).expect("read"), // ok: a test
            "new"
        );
        for link in ["one", "two"] {
            let meta = std::fs::symlink_metadata(dir.join(link)).expect("meta"); // ok: a test
            assert!(meta.file_type().is_symlink(), "{link} is still a link");
        }
        assert_eq!(entries(&dir), ["one", "real.tex", "two"]);
        // A loop is an error, not a hang.
        std::os::unix::fs::symlink("loop_b", dir.join("loop_a")).expect("symlink"); // ok: a test
        std::os::unix::fs::symlink("loop_a", dir.join("loop_b")).expect("symlink"); // ok: a test
        assert!(write_with(&dir.join("loop_a"), b"x", |f, b| f.write_all(b)).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
