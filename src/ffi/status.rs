//! Status codes, their static texts, and the per-thread last error message.

use crate::error::Error;
use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// The result of every `sellsync_*` call: 0 is success. Numbers are never reused.
#[allow(non_camel_case_types)]
pub type sellsync_status = i32;

/// Success.
pub const SELLSYNC_OK: sellsync_status = 0;
/// An argument was NULL, not UTF-8, malformed JSON, or out of range.
pub const SELLSYNC_ERR_INVALID_ARGUMENT: sellsync_status = 1;
/// The configuration is incomplete or inconsistent.
pub const SELLSYNC_ERR_CONFIG: sellsync_status = 2;
/// Amazon refused the credentials or the token.
pub const SELLSYNC_ERR_AUTH: sellsync_status = 3;
/// Amazon kept throttling (429) after every retry.
pub const SELLSYNC_ERR_THROTTLED: sellsync_status = 4;
/// Amazon could not be reached, or its answer was unreadable, after every retry.
pub const SELLSYNC_ERR_NETWORK: sellsync_status = 5;
/// Amazon answered with an error (its code and message are in the last error).
pub const SELLSYNC_ERR_AMAZON: sellsync_status = 6;
/// The local store failed.
pub const SELLSYNC_ERR_STORE: sellsync_status = 7;
/// No such order or item.
pub const SELLSYNC_ERR_NOT_FOUND: sellsync_status = 8;
/// The call contradicts what was recorded before.
pub const SELLSYNC_ERR_CONFLICT: sellsync_status = 9;
/// The call did not finish in time.
pub const SELLSYNC_ERR_TIMEOUT: sellsync_status = 10;
/// The handle is closed.
pub const SELLSYNC_ERR_CLOSED: sellsync_status = 11;
/// The call is not allowed now (e.g. close from the event callback).
pub const SELLSYNC_ERR_INVALID_STATE: sellsync_status = 12;
/// The handle was opened in another process (after fork).
pub const SELLSYNC_ERR_FORKED: sellsync_status = 13;
/// A bug inside the library (a caught panic); the handle stays usable.
pub const SELLSYNC_ERR_INTERNAL: sellsync_status = 14;

const TEXTS: &[(sellsync_status, &str, &str)] = &[
    (SELLSYNC_OK, "OK", "success\0"),
    (
        SELLSYNC_ERR_INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
        "invalid argument\0",
    ),
    (SELLSYNC_ERR_CONFIG, "CONFIG", "configuration error\0"),
    (SELLSYNC_ERR_AUTH, "AUTH", "authentication failed\0"),
    (SELLSYNC_ERR_THROTTLED, "THROTTLED", "throttled by Amazon\0"),
    (SELLSYNC_ERR_NETWORK, "NETWORK", "network error\0"),
    (SELLSYNC_ERR_AMAZON, "AMAZON", "Amazon returned an error\0"),
    (SELLSYNC_ERR_STORE, "STORE", "local store error\0"),
    (SELLSYNC_ERR_NOT_FOUND, "NOT_FOUND", "not found\0"),
    (
        SELLSYNC_ERR_CONFLICT,
        "CONFLICT",
        "conflict with earlier data\0",
    ),
    (SELLSYNC_ERR_TIMEOUT, "TIMEOUT", "timed out\0"),
    (SELLSYNC_ERR_CLOSED, "CLOSED", "handle is closed\0"),
    (
        SELLSYNC_ERR_INVALID_STATE,
        "INVALID_STATE",
        "invalid state for this call\0",
    ),
    (
        SELLSYNC_ERR_FORKED,
        "FORKED",
        "handle belongs to another process\0",
    ),
    (SELLSYNC_ERR_INTERNAL, "INTERNAL", "internal error\0"),
];

/// The status code of an error.
pub fn of(e: &Error) -> sellsync_status {
    match e {
        Error::InvalidArgument(_) => SELLSYNC_ERR_INVALID_ARGUMENT,
        Error::Config(_) => SELLSYNC_ERR_CONFIG,
        Error::Auth(_) | Error::Credentials(_) => SELLSYNC_ERR_AUTH,
        Error::Throttled(_) => SELLSYNC_ERR_THROTTLED,
        Error::Network(_) => SELLSYNC_ERR_NETWORK,
        Error::Amazon { .. } => SELLSYNC_ERR_AMAZON,
        Error::Store(_) => SELLSYNC_ERR_STORE,
        Error::NotFound(_) => SELLSYNC_ERR_NOT_FOUND,
        Error::Conflict(_) => SELLSYNC_ERR_CONFLICT,
        Error::Timeout(_) => SELLSYNC_ERR_TIMEOUT,
        Error::Closed => SELLSYNC_ERR_CLOSED,
        Error::InvalidState(_) => SELLSYNC_ERR_INVALID_STATE,
        Error::Forked => SELLSYNC_ERR_FORKED,
        Error::Internal(_) => SELLSYNC_ERR_INTERNAL,
    }
}

/// The status's name without the `SELLSYNC_ERR_` prefix (`OK` for success).
pub fn name(code: sellsync_status) -> &'static str {
    TEXTS
        .iter()
        .find(|t| t.0 == code)
        .map(|t| t.1)
        .unwrap_or("UNKNOWN")
}

/// Static NUL-terminated text for a status code.
pub fn text(code: sellsync_status) -> *const c_char {
    TEXTS
        .iter()
        .find(|t| t.0 == code)
        .map(|t| t.2)
        .unwrap_or("unknown status\0")
        .as_ptr()
        .cast()
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Sets this thread's last error message.
pub fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|l| *l.borrow_mut() = c);
}

/// Clears this thread's last error message.
pub fn clear_last_error() {
    LAST_ERROR.with(|l| *l.borrow_mut() = CString::default());
}

/// This thread's last error message (valid until this thread's next sellsync call).
pub fn last_error() -> *const c_char {
    LAST_ERROR.with(|l| l.borrow().as_ptr())
}

/// Records `e` as the last error and returns its code.
pub fn fail(e: &Error) -> sellsync_status {
    set_last_error(&e.to_string());
    of(e)
}
