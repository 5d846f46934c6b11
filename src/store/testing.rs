//! For the tests: which backend they run on, and a PostgreSQL database per test store.
//!
//! `SELLSYNC_TEST_BACKEND=postgres` runs the store's and the integration tests on PostgreSQL,
//! in databases of the cluster `SELLSYNC_TEST_PG` names (`scripts/pg-cluster start DIR` makes
//! one; `scripts/test` does it all).

use crate::error::{Error, Result};

/// The key test stores on PostgreSQL seal buyer data with.
pub const TEST_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";

/// Whether the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("SELLSYNC_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The URL of the test cluster's base database.
pub fn cluster_url() -> String {
    std::env::var("SELLSYNC_TEST_PG").unwrap_or_else(|_| {
        panic!(
            "SELLSYNC_TEST_PG must name a PostgreSQL cluster for the tests (scripts/pg-cluster start DIR prints one; scripts/test starts one)"
        )
    })
}

/// The URL of a database of its own for the test store `path` (made at the first call for
/// that path, so reopening the store finds it again).
pub fn database_for(path: &str) -> Result<String> {
    let base = cluster_url();
    let name = format!("t{:016x}", fnv(path.as_bytes()));
    let client = super::pg::Client::connect(&base)?;
    if let Err(e) = client.batch(&format!("CREATE DATABASE {name}")) {
        if !e.to_string().contains("42P04") {
            return Err(Error::Store(format!("cannot make test database: {e}")));
        }
    }
    let (head, _) = base
        .rsplit_once('/')
        .ok_or_else(|| Error::Store("SELLSYNC_TEST_PG has no database".into()))?;
    Ok(format!("{head}/{name}"))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The configuration entries that put a test store at `path` on the backend the tests run on.
pub fn store_entries(path: &str) -> String {
    if on_postgres() {
        let url = database_for(path).expect("test database");
        format!(
            r#""store": {{"postgres": {url:?}, "lease_seconds": 3}}, "privacy": {{"key": "{TEST_KEY}"}}"#
        )
    } else {
        format!(r#""store_path": {path:?}"#)
    }
}

/// Where a tool finds the test store at `path` on the backend the tests run on: the SQLite
/// file, or the URL of its PostgreSQL database.
pub fn store_locator(path: &str) -> String {
    if on_postgres() {
        database_for(path).expect("test database")
    } else {
        path.to_string()
    }
}

impl super::Store {
    /// Opens the test store at `path` on the backend the tests run on.
    pub fn open_for_test(path: &str) -> Result<super::Store> {
        if on_postgres() {
            let privacy = crate::config::Privacy {
                key: Some(crate::secret::Secret::new(TEST_KEY)),
                ..Default::default()
            };
            super::Store::open_postgres(&database_for(path)?, Some(&privacy))
        } else {
            super::Store::open(path)
        }
    }
}
