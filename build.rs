//! Gives the shared library its versioned SONAME (`libsellsync.so.<major>`), so hosts link to
//! one major version and a later, incompatible one can be installed beside it; on Windows,
//! links the DLL's version resource (`sellsync.rc.in`, compiled with MinGW-w64's windres).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    if os == "linux" || os == "android" || os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsellsync.so.{major}");
    }
    if os == "windows" {
        version_resource();
    }
}

/// Compiles the version resource and links it into the DLL (GNU targets: windres makes a COFF
/// object the linker takes like any other). Other Windows toolchains get a warning only.
fn version_resource() {
    println!("cargo:rerun-if-changed=sellsync.rc.in");
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    if env("CARGO_CFG_TARGET_ENV") != "gnu" {
        println!("cargo:warning=the DLL's version resource is built for GNU targets only");
        return;
    }
    let target = env("TARGET");
    let windres = std::env::var(format!("WINDRES_{}", target.replace('-', "_")))
        .or_else(|_| std::env::var("WINDRES"))
        .unwrap_or_else(|_| {
            if cfg!(windows) {
                "windres".into()
            } else {
                format!("{}-w64-mingw32-windres", env("CARGO_CFG_TARGET_ARCH"))
            }
        });
    println!("cargo:rerun-if-env-changed=WINDRES");
    let rc = std::fs::read_to_string("sellsync.rc.in").expect("sellsync.rc.in is readable");
    let rc = rc
        .replace("@MAJOR@", &env("CARGO_PKG_VERSION_MAJOR"))
        .replace("@MINOR@", &env("CARGO_PKG_VERSION_MINOR"))
        .replace("@PATCH@", &env("CARGO_PKG_VERSION_PATCH"))
        .replace("@VERSION@", &env("CARGO_PKG_VERSION"))
        .replace(
            "@DESCRIPTION@",
            &env("CARGO_PKG_DESCRIPTION").replace('"', "'"),
        )
        .replace("@LICENSE@", &env("CARGO_PKG_LICENSE"));
    let out = PathBuf::from(env("OUT_DIR"));
    let source = out.join("sellsync.rc");
    let object = out.join("sellsync-version.o");
    std::fs::write(&source, rc).expect("OUT_DIR is writable");
    let status = Command::new(&windres)
        .args(["--input-format=rc", "--output-format=coff", "-i"])
        .arg(&source)
        .arg("-o")
        .arg(&object)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {windres} for the DLL's version resource: {e} (install MinGW-w64's binutils, or name it in WINDRES)"));
    assert!(status.success(), "{windres} failed on {}", source.display());
    println!("cargo:rustc-cdylib-link-arg={}", object.display());
}
