//! The library's panic hook: a panic inside the library reaches the handle's log function and
//! is never printed; the host's own panics go to the hook it had. Its own test binary: the
//! hook is process-wide and installed once.

use sellsync::logging::{dispatch, install_panic_hook, InExport, LogSink, ERROR};
use std::sync::{Arc, Mutex};

#[test]
fn a_panic_inside_the_library_reaches_its_log_and_the_hosts_own_the_hook_before() {
    let earlier: Arc<Mutex<Vec<String>>> = Arc::default();
    let e = earlier.clone();
    std::panic::set_hook(Box::new(move |info| {
        e.lock().unwrap().push(info.to_string())
    }));
    install_panic_hook();
    let sink = Arc::new(LogSink::new(vec![]));
    let got: Arc<Mutex<Vec<(u8, String)>>> = Arc::default();
    let g = got.clone();
    sink.set(
        ERROR,
        Some(Box::new(move |l, s| g.lock().unwrap().push((l, s.into())))),
    )
    .unwrap();
    tracing::dispatcher::with_default(&dispatch(sink.clone()), || {
        let _ = std::panic::catch_unwind(|| panic!("boom with Atzr|refresh-token"));
    });
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, ERROR);
    assert!(
        got[0].1.starts_with(
            "internal error (please report it): boom with [redacted] at tests/panic_hook.rs:"
        ),
        "{got:?}"
    );
    // Inside an export without a handle's log: nothing printed, nothing passed on.
    {
        let _inside = InExport::enter();
        let _ = std::panic::catch_unwind(|| panic!("inside an export"));
    }
    assert!(
        earlier.lock().unwrap().is_empty(),
        "{:?}",
        earlier.lock().unwrap()
    );
    // The host's own panic goes to the hook it had.
    let _ = std::panic::catch_unwind(|| panic!("the host's own"));
    let earlier = earlier.lock().unwrap().clone();
    assert_eq!(earlier.len(), 1, "{earlier:?}");
    assert!(earlier[0].contains("the host's own"), "{earlier:?}");
}
