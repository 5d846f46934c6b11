//! Seller-outcome simulation: a shop selling the same stock in its store and on Amazon, run
//! against the SP-API emulator once per way of connecting the two, to show what each does to
//! Amazon's seller metrics (pre-fulfilment cancellation, late shipment, order defect rates).
//!
//! The shop's events (Amazon buyers, store customers, deliveries) are drawn up front from a
//! seed ([`schedule::generate`]), so every policy meets the same customers.

pub mod policies;
pub mod profile;
pub mod report;
pub mod run;
pub mod schedule;
pub mod shop;

pub use profile::Profile;
pub use run::{run, Options, Outcome};
pub use schedule::{generate, Schedule};
