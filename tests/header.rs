//! The committed header is exactly what cbindgen generates from `src/ffi`, and its version
//! macros match Cargo.toml.

use std::path::Path;

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
}

#[test]
fn committed_header_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/sellsync.h");
    let generated = generate();
    if std::env::var_os("SELLSYNC_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write header");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/sellsync.h is out of date: run `SELLSYNC_BLESS=1 cargo test --test header` and commit it"
    );
}

#[test]
fn header_declares_every_exported_function() {
    let header = generate();
    for f in [
        "sellsync_version",
        "sellsync_version_number",
        "sellsync_status_str",
        "sellsync_last_error",
        "sellsync_string_free",
        "sellsync_open",
        "sellsync_close",
        "sellsync_sync_now",
        "sellsync_start",
        "sellsync_stop",
        "sellsync_order_next",
        "sellsync_order_ack",
        "sellsync_purge_buyer_data",
        "sellsync_event_next",
        "sellsync_set_event_callback",
        "sellsync_event_ack",
        "sellsync_set_log_callback",
        "sellsync_set_credentials",
    ] {
        assert!(
            header.contains(&format!("{f}(")),
            "{f} missing from the header"
        );
    }
    assert!(header.contains("typedef struct SellSync SellSync;"));
    assert!(header.contains("typedef int32_t sellsync_status;"));
}

fn header_define(header: &str, name: &str) -> u32 {
    let line = header
        .lines()
        .find(|l| l.starts_with(&format!("#define {name} ")))
        .unwrap_or_else(|| panic!("{name} not defined"));
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

#[test]
fn header_version_macros_match_cargo_toml() {
    let header = generate();
    let major: u32 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: u32 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let patch: u32 = env!("CARGO_PKG_VERSION_PATCH").parse().unwrap();
    assert_eq!(header_define(&header, "SELLSYNC_VERSION_MAJOR"), major);
    assert_eq!(header_define(&header, "SELLSYNC_VERSION_MINOR"), minor);
    assert_eq!(header_define(&header, "SELLSYNC_VERSION_PATCH"), patch);
    assert_eq!(
        header_define(&header, "SELLSYNC_VERSION_NUMBER"),
        major * 10000 + minor * 100 + patch
    );
    assert_eq!(
        sellsync::ffi::sellsync_version_number(),
        major * 10000 + minor * 100 + patch
    );
    // SAFETY: sellsync_version returns a static NUL-terminated string.
    let v = unsafe { std::ffi::CStr::from_ptr(sellsync::ffi::sellsync_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}
