//! Every export of the header that takes text is fuzzed: by the `ffi` target, or, for
//! `sellsync_open`, by the `config` target.

#[test]
fn every_export_taking_text_has_a_fuzz_target() {
    let header = include_str!("../../include/sellsync.h");
    let mut missing = Vec::new();
    for line in header.lines() {
        let Some(decl) = line.strip_prefix("sellsync_status sellsync_") else {
            continue;
        };
        let name = decl.split('(').next().unwrap_or_default();
        if !decl.contains("const char *") || name == "open" {
            continue;
        }
        if !sellsync_fuzz::ffi::FUNCTIONS.contains(&name) {
            missing.push(name.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "exports taking text that no fuzz target calls: {missing:?}"
    );
}
