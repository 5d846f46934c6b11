//! Strings across the boundary: borrowed NUL-terminated UTF-8 in, library-owned out.

use crate::error::{Error, Result};
use std::ffi::{c_char, CStr, CString};

/// Borrows a C string argument as UTF-8, naming the argument in the error.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid for the call.
pub unsafe fn arg<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::InvalidArgument(format!("{name} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated, valid for the call, per the caller's contract.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|e| {
        Error::InvalidArgument(format!(
            "{name} is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })
}

/// Checks an output pointer and sets `*out` to NULL, so it is written only on success.
///
/// # Safety
/// `out` is NULL or points to writable storage for one pointer.
pub unsafe fn reset_out<T>(out: *mut *mut T, name: &str) -> Result<()> {
    if out.is_null() {
        return Err(Error::InvalidArgument(format!("{name} is NULL")));
    }
    // SAFETY: non-NULL and writable per the caller's contract.
    unsafe { *out = std::ptr::null_mut() };
    Ok(())
}

/// Hands a string to the host through `out` (NULL for None); freed with `sellsync_string_free`.
///
/// # Safety
/// `out` was checked by [`reset_out`].
pub unsafe fn write_out(out: *mut *mut c_char, s: Option<String>) -> Result<()> {
    let p = match s {
        None => std::ptr::null_mut(),
        Some(s) => CString::new(s)
            .map_err(|_| Error::Internal("an output string contained NUL".into()))?
            .into_raw(),
    };
    // SAFETY: `out` is non-NULL and writable (checked by reset_out).
    unsafe { *out = p };
    Ok(())
}

/// Frees a string made by [`write_out`].
///
/// # Safety
/// `s` is NULL or was returned by this library and not freed before.
pub unsafe fn free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: `s` came from CString::into_raw in write_out and is freed once.
        drop(unsafe { CString::from_raw(s) });
    }
}
