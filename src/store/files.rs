//! The files the library writes are its owner's alone (mode 0600 whatever the process's
//! umask): the store, its `-wal` and `-shm` files (SQLite gives them the main file's mode) and
//! the key file. An existing store whose files others may read is tightened at open.
//!
//! On Windows, owner only is a protected DACL allowing the process's user alone
//! (`crate::win32`): files are created so, and an existing file whose DACL allows anyone else
//! or inherits from its folder is given that DACL. SQLite does not give its `-wal` and `-shm`
//! files the main file's DACL there, so they are made owner only before SQLite opens the store
//! (it opens them as they are) and checked again after.

/// How the messages name owner-only access on this platform.
#[cfg(windows)]
const OWNER_ONLY: &str = "made its owner's alone (an owner-only ACL)";
#[cfg(not(windows))]
const OWNER_ONLY: &str = "set to 0600";

use crate::error::{quote, Error, Result};
use std::fs::File;
#[cfg(not(windows))]
use std::fs::OpenOptions;

/// The files of a store at `path`: the main file and SQLite's `-wal` and `-shm` files.
pub fn store_files(path: &str) -> [String; 3] {
    [
        path.to_string(),
        format!("{path}-wal"),
        format!("{path}-shm"),
    ]
}

/// Creates a new file readable and writable by its owner only; fails if it exists.
#[cfg(windows)]
pub fn create_private(path: &str) -> std::io::Result<File> {
    crate::win32::create_owner_only(path)
}

/// Creates a new file readable and writable by its owner only; fails if it exists.
#[cfg(not(windows))]
pub fn create_private(path: &str) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let f = o.open(path)?;
    // The umask may only take permissions away; set them exactly anyway.
    restrict(path)?;
    Ok(f)
}

/// Sets a file's permissions to 0600 when others or its group may use it.
#[cfg(unix)]
fn restrict(path: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Gives a file the owner-only DACL when anyone else may use it.
#[cfg(windows)]
fn restrict(path: &str) -> std::io::Result<()> {
    crate::win32::restrict_to_owner(path)
}

#[cfg(not(any(unix, windows)))]
fn restrict(_path: &str) -> std::io::Result<()> {
    Ok(())
}

/// Before SQLite opens the store at `path`: creates the main file with mode 0600 if it is
/// missing (SQLite then gives its `-wal` and `-shm` files the same mode; on Windows they are
/// made here, empty, which SQLite takes as no log yet), and tightens the existing files of the
/// store that others or the group may use to 0600.
pub fn prepare_store(path: &str) -> Result<()> {
    let files = store_files(path);
    let made = if cfg!(windows) {
        &files[..]
    } else {
        &files[..1]
    };
    for file in made {
        match create_private(file) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(Error::Store(format!(
                    "cannot create store {}: {e}",
                    quote(file)
                )))
            }
        }
    }
    for file in store_files(path) {
        match restrict(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::Config(format!(
                    "{} may be read by other users and its permissions cannot be {OWNER_ONLY}: {e}",
                    quote(&file)
                )))
            }
        }
    }
    Ok(())
}

/// Tightens a key file that others or the group may use to 0600 (an error if it cannot).
pub fn tighten_key_file(path: &str) -> Result<()> {
    match restrict(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::Config(format!(
            "the key file {} may be read by other users and its permissions cannot be {OWNER_ONLY}: {e}",
            quote(path)
        ))),
    }
}
