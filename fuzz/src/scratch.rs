//! The folder where targets keep their stores: `SELLSYNC_FUZZ_DIR`, or a folder of this
//! process under the system's temporary folder, removed by [`remove`].

use std::path::PathBuf;
use std::sync::OnceLock;

/// The scratch folder (created on first use).
pub fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::var_os("SELLSYNC_FUZZ_DIR").map_or_else(
            || std::env::temp_dir().join(format!("sellsync-fuzz-{}", std::process::id())),
            PathBuf::from,
        );
        std::fs::create_dir_all(&dir).expect("cannot create the scratch folder");
        dir
    })
}

/// A file in the scratch folder, as text for a configuration document.
pub fn path(name: &str) -> String {
    dir().join(name).to_string_lossy().into_owned()
}

/// Removes the scratch folder when it is this process's own.
pub fn remove() {
    if std::env::var_os("SELLSYNC_FUZZ_DIR").is_none() {
        let _ = std::fs::remove_dir_all(dir());
    }
}
