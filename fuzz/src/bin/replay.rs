//! Replays inputs of one target under the guards: `sellsync-fuzz-replay TARGET PATH...` (files,
//! or folders of them). Prints each failure and exits 1 if any input failed.

use sellsync_fuzz::{runner, target, TARGETS};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    let Some(t) = args.first().and_then(|n| target(n)) else {
        eprintln!(
            "usage: sellsync-fuzz-replay TARGET PATH...  (TARGET: {})",
            names.join(", ")
        );
        std::process::exit(2);
    };
    let mut failed = 0;
    let mut ran = 0;
    for path in args[1..].iter().flat_map(|p| runner::files(p.as_ref())) {
        let input = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        ran += 1;
        if let Err(f) = runner::run(t, &input) {
            failed += 1;
            println!("FAILED {}: {f}", path.display());
        }
    }
    sellsync_fuzz::ffi::close();
    sellsync_fuzz::scratch::remove();
    println!("{} passed, {failed} failed", ran - failed);
    std::process::exit(i32::from(failed > 0));
}
