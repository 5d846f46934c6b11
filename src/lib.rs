//! sellsync keeps an Amazon seller account and a point-of-sale or ERP system in step.
//!
//! The library is loaded into the host's process through its C ABI (`include/sellsync.h`);
//! Rust code can use [`engine::Engine`] directly. Amazon orders flow into the host exactly
//! once, through a durable SQLite store, over Amazon's Selling Partner API with its rate
//! limits respected.
#![deny(unsafe_code)]

pub mod amazon;
pub mod carriers;
pub mod clock;
pub mod config;
pub mod engine;
pub mod error;
#[allow(unsafe_code)]
pub mod ffi;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod prices;
pub mod safety_stock;
pub mod secret;
pub mod store;
#[cfg(windows)]
pub mod win32;

pub use config::Config;
pub use engine::Engine;
pub use error::{Error, Result};

/// The status name of an error, as in the C header (`SELLSYNC_ERR_*` without the prefix).
pub fn status_name(e: &Error) -> &'static str {
    ffi::status::name(ffi::status::of(e))
}
