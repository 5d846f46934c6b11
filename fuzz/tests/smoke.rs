//! A short run of every fuzz target: its kept corpus and a few thousand random mutations of
//! it, all under the guards (no panic anywhere, no input over 10 s, no runaway memory).

use std::time::Duration;

#[test]
fn every_target_survives_its_corpus_and_random_inputs() {
    let mut failures = Vec::new();
    for target in sellsync_fuzz::TARGETS {
        match sellsync_fuzz::runner::smoke(target, 3000, Duration::from_secs(3), 9) {
            Ok(s) => {
                assert!(s.corpus > 0, "target {} has no corpus", target.name);
                println!("{}: {} inputs, corpus {}", target.name, s.inputs, s.corpus);
            }
            Err(f) => failures.push(format!("target {}: {f}", target.name)),
        }
    }
    sellsync_fuzz::ffi::close();
    sellsync_fuzz::scratch::remove();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
