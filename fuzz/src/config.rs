//! Target `config`: the configuration document, through `Config::from_json` and
//! `sellsync_open`. A document that parses must open (on a new store in the scratch folder, with
//! a key file where it names one; opening calls nothing out) and close; any other must be
//! refused with INVALID_ARGUMENT or CONFIG before anything is touched.

use crate::ffi::{check, open};
use crate::input::until_nul;
use sellsync::ffi::status::{SELLSYNC_ERR_CONFIG, SELLSYNC_ERR_INVALID_ARGUMENT};
use sellsync::ffi::{sellsync_close, sellsync_open};
use sellsync::Config;
use std::ffi::CString;

/// Runs one input.
pub fn run(data: &[u8]) {
    if let Ok(whole) = std::str::from_utf8(data) {
        let _ = Config::from_json(whole);
    }
    // What sellsync_open reads of the same bytes.
    let text = until_nul(data);
    let parses = std::str::from_utf8(text).is_ok_and(|t| Config::from_json(t).is_ok());
    if parses {
        let mut doc: serde_json::Value =
            serde_json::from_slice(text).expect("a configuration that parses is JSON");
        // A new store each time: a store keeps the key it was first opened with, and the
        // inputs name different keys.
        let store = crate::scratch::path("config.sqlite");
        for suffix in ["", "-wal", "-shm", ".key"] {
            let _ = std::fs::remove_file(format!("{store}{suffix}"));
        }
        doc["store_path"] = store.into();
        if doc["privacy"]["key_file"].is_string() {
            // A key file the configuration names must exist.
            let key_file = crate::scratch::path("config.key");
            std::fs::write(&key_file, "00".repeat(32)).expect("scratch key file");
            doc["privacy"]["key_file"] = key_file.into();
        }
        let h = open(&doc.to_string());
        // SAFETY: a handle from sellsync_open, closed once.
        check("sellsync_close", unsafe { sellsync_close(h) });
    } else {
        let c = CString::new(text).expect("cut at NUL");
        let mut h = std::ptr::null_mut();
        // SAFETY: a NUL-terminated string and a writable pointer, both valid for the call.
        let status = unsafe { sellsync_open(c.as_ptr(), &mut h) };
        check("sellsync_open", status);
        assert!(
            status == SELLSYNC_ERR_INVALID_ARGUMENT || status == SELLSYNC_ERR_CONFIG,
            "a configuration that does not parse was answered with status {status}"
        );
        assert!(h.is_null(), "a refused configuration wrote a handle");
    }
}
