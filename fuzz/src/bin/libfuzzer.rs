//! The coverage-guided driver: libFuzzer runs the target named by `SELLSYNC_FUZZ_TARGET`.
//! Built and run by `scripts/fuzz`.
#![no_main]

use std::sync::OnceLock;

fn target() -> &'static sellsync_fuzz::Target {
    static TARGET: OnceLock<&'static sellsync_fuzz::Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let name = std::env::var("SELLSYNC_FUZZ_TARGET").unwrap_or_default();
        sellsync_fuzz::target(&name).unwrap_or_else(|| {
            let names: Vec<&str> = sellsync_fuzz::TARGETS.iter().map(|t| t.name).collect();
            panic!("SELLSYNC_FUZZ_TARGET must be one of {}", names.join(", "))
        })
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| (target().run)(data));
