//! The one guard every export runs in: no panic crosses the C boundary, every error becomes a
//! status code plus this thread's last error message.

/// Runs `$body` (a block returning `crate::Result<()>`) inside `catch_unwind`; maps the
/// outcome to a status code and sets or clears the last error.
macro_rules! ffi_entry {
    ($body:block) => {{
        let _inside = $crate::logging::InExport::enter();
        let outcome = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || -> $crate::error::Result<()> { $body },
        ));
        match outcome {
            Ok(Ok(())) => {
                $crate::ffi::status::clear_last_error();
                $crate::ffi::status::SELLSYNC_OK
            }
            Ok(Err(e)) => $crate::ffi::status::fail(&e),
            Err(_) => {
                $crate::ffi::status::set_last_error(
                    "internal error: the library caught a panic; the handle is still usable, please report this",
                );
                $crate::ffi::status::SELLSYNC_ERR_INTERNAL
            }
        }
    }};
}

pub(crate) use ffi_entry;
