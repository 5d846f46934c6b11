# Sourced from the repository root: builds the debug library (target/debug/libsellsync.so) and
# the emulator (target/debug/sellsync-emulator) for the bindings' tests. It builds what
# `cargo test --workspace` builds, with the same features, so after scripts/test's own test run
# it has nothing to do (`cargo build -p ...` alone would build the dependencies again with
# other features).
cargo test --workspace --locked --no-run --quiet
# The test build leaves the library in target/debug/deps (target/debug/libsellsync.so is only
# refreshed by `cargo build`, and may be an older copy).
export SELLSYNC_LIBRARY="$PWD/target/debug/deps/libsellsync.so"
export SELLSYNC_EMULATOR="$PWD/target/debug/sellsync-emulator"
