//! The client's rate-limit buckets outlive the process: a host that is restarted again and
//! again never sends Amazon calls its buckets have no tokens for.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn handles_one_after_another_on_one_store_never_meet_a_429() {
    // Amazon's real usage plan for searchOrders: burst 20, one token every ~3 minutes.
    let emu = emulator(1.0);
    let dir = tempdir();
    let mut syncs = Vec::new();
    for _ in 0..3 {
        let engine = open(&emu, &dir, "");
        let mut n = 0;
        // Each sync makes a searchOrders call; once the bucket is spent the next one waits
        // minutes for a token, and the short timeout ends this handle's run.
        loop {
            match engine.sync_now(1, Duration::from_secs(2)) {
                Ok(_) => n += 1,
                Err(sellsync::Error::Timeout(_)) => break,
                Err(e) => panic!("sync failed: {e}"),
            }
            assert!(n <= 25, "the bucket never ran dry");
        }
        syncs.push(n);
        drop(engine); // as if the process were killed: the next one starts afresh
    }
    let ok = emu.control().count("searchOrders", 200);
    assert!(
        ok >= 19,
        "the first handle spent the burst: {ok} calls, {syncs:?}"
    );
    assert_eq!(
        emu.control().count("searchOrders", 429),
        0,
        "syncs per handle: {syncs:?}"
    );
    assert!(
        syncs[1..].iter().all(|&n| n == 0),
        "later handles knew the bucket was empty: {syncs:?}"
    );
}
