//! The host's event callback, wrapped so the library thread can call it and release the
//! host's user data exactly once.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void, CString};

/// `void (*cb)(void *user, const char *event_json)`.
pub type sellsync_event_callback =
    Option<unsafe extern "C" fn(user: *mut c_void, event_json: *const c_char)>;
/// `void (*free_user)(void *user)`.
pub type sellsync_free_user = Option<unsafe extern "C" fn(user: *mut c_void)>;

/// The callback with its user data.
pub struct HostCallback {
    cb: unsafe extern "C" fn(*mut c_void, *const c_char),
    user: *mut c_void,
    free_user: sellsync_free_user,
}

// SAFETY: the header documents that `cb` is called on a library thread with `user`, so the host
// promises `user` may be used from that thread; the library itself never dereferences it.
unsafe impl Send for HostCallback {}

impl HostCallback {
    /// Wraps a callback.
    pub fn new(
        cb: unsafe extern "C" fn(*mut c_void, *const c_char),
        user: *mut c_void,
        free_user: sellsync_free_user,
    ) -> Self {
        HostCallback {
            cb,
            user,
            free_user,
        }
    }

    /// Calls the host with one event (the string lives only for the call).
    pub fn call(&mut self, event: &str) {
        if let Ok(c) = CString::new(event) {
            // SAFETY: `cb` is the host's function taking (user, NUL-terminated string); the
            // string is valid for the duration of the call.
            unsafe { (self.cb)(self.user, c.as_ptr()) };
        }
    }
}

impl Drop for HostCallback {
    fn drop(&mut self) {
        if let Some(f) = self.free_user {
            // SAFETY: the host's finaliser for `user`, called exactly once, when the library
            // drops the callback.
            unsafe { f(self.user) };
        }
    }
}

/// `void (*cb)(void *user, int32_t level, const char *message)`.
pub type sellsync_log_callback =
    Option<unsafe extern "C" fn(user: *mut c_void, level: i32, message: *const c_char)>;

/// The host's log function with its user data; `free_user` runs once, when it is dropped.
pub struct HostLogCallback {
    cb: unsafe extern "C" fn(*mut c_void, i32, *const c_char),
    user: *mut c_void,
    free_user: sellsync_free_user,
}

// SAFETY: the header documents that `cb` is called on library threads, possibly several at
// once, with `user`; the host promises that is safe. The library never dereferences `user`.
unsafe impl Send for HostLogCallback {}
// SAFETY: as above; the library only passes `user` back to the host's own function.
unsafe impl Sync for HostLogCallback {}

impl HostLogCallback {
    /// Wraps a log function.
    pub fn new(
        cb: unsafe extern "C" fn(*mut c_void, i32, *const c_char),
        user: *mut c_void,
        free_user: sellsync_free_user,
    ) -> Self {
        HostLogCallback {
            cb,
            user,
            free_user,
        }
    }

    /// Calls the host with one line (the string lives only for the call).
    pub fn call(&self, level: u8, line: &str) {
        if let Ok(c) = CString::new(line) {
            // SAFETY: `cb` is the host's function taking (user, level, NUL-terminated string);
            // the string is valid for the duration of the call.
            unsafe { (self.cb)(self.user, i32::from(level), c.as_ptr()) };
        }
    }
}

impl Drop for HostLogCallback {
    fn drop(&mut self) {
        if let Some(f) = self.free_user {
            // SAFETY: the host's finaliser for `user`, called exactly once, when the library
            // drops the log function (no thread runs it any more).
            unsafe { f(self.user) };
        }
    }
}
