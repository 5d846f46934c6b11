//! Builds C and C++ hosts against include/sellsync.h and the libsellsync.so built with the
//! running test or example.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The project's root directory.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the libsellsync.so built for this run: next to the running binary
/// (a test's, in `deps`), or in `deps` one directory up (an example's). The copy `cargo build`
/// leaves one directory up may be older than this run's, so it comes last.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let here = exe.parent().unwrap().to_path_buf();
    let up = here.parent().unwrap().to_path_buf();
    for dir in [here, up.join("deps"), up] {
        if dir.join("libsellsync.so").exists() {
            return dir;
        }
    }
    panic!("libsellsync.so not found next to the running binary");
}

/// Makes `libsellsync.so.0` (the library's SONAME, which a host linked with `-lsellsync`
/// loads) name the `libsellsync.so` in `lib`, as an installed library's links do.
pub fn soname_link(lib: &Path) {
    let link = lib.join(format!(
        "libsellsync.so.{}",
        env!("CARGO_PKG_VERSION_MAJOR")
    ));
    match std::os::unix::fs::symlink("libsellsync.so", &link) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => panic!("cannot link {}: {e}", link.display()),
    }
}

/// Compiles `sources` (relative to the root) with `-Wall -Wextra -Werror -pedantic`, the
/// language flags `lang` and `extra`, linked against libsellsync, into `out`.
pub fn compile_with(compiler: &str, lang: &[&str], extra: &[&str], sources: &[&str], out: &Path) {
    let lib = lib_dir();
    soname_link(&lib);
    let status = Command::new(compiler)
        .args(lang)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic"])
        .args(extra)
        .arg("-I")
        .arg(root().join("include"))
        .args(sources.iter().map(|s| root().join(s)))
        .arg("-o")
        .arg(out)
        .arg(format!("-L{}", lib.display()))
        // RPATH, not RUNPATH: it comes before the LD_LIBRARY_PATH cargo sets for tests, which
        // may name a directory holding an older copy of the library.
        .arg(format!("-Wl,--disable-new-dtags,-rpath,{}", lib.display()))
        .args(["-lsellsync", "-lpthread", "-lm"])
        .status()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(status.success(), "{compiler} failed to build {sources:?}");
}

/// Runs `cmd`, which must succeed: its standard output.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
