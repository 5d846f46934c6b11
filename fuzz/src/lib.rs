//! Fuzz targets of sellsync. Each target takes one input of bytes and feeds it to the
//! library's real entry points: the configuration, every JSON document the C ABI accepts,
//! every SP-API answer the client reads, and the feed and report documents. A target panics
//! only when the library broke a promise (a panic inside it, a status outside the header's, an
//! output that is not JSON); the drivers (`scripts/fuzz` with libFuzzer, [`runner`] for the
//! smoke test and replays) turn that, a hang or runaway memory into a failure.

pub mod config;
pub mod documents;
pub mod ffi;
pub mod guard;
pub mod input;
pub mod runner;
pub mod scratch;
pub mod spapi;

use std::path::PathBuf;

/// One fuzz target: its name (also its corpus folder) and the function that takes one input.
pub struct Target {
    /// The target's name.
    pub name: &'static str,
    /// Runs one input; panics when the library broke a promise.
    pub run: fn(&[u8]),
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "config",
        run: config::run,
    },
    Target {
        name: "ffi",
        run: ffi::run,
    },
    Target {
        name: "spapi",
        run: spapi::run,
    },
    Target {
        name: "documents",
        run: documents::run,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The kept corpus of a target (`fuzz/corpus/<name>`).
pub fn corpus_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(name)
}
