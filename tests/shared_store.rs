//! Several processes on one seller account through a shared PostgreSQL store: one runs the
//! sync with Amazon under the lease, every one serves its host, a new leader takes over when
//! the old one goes, and a leader that lost its lease cannot write. Needs `SELLSYNC_TEST_PG`
//! (`scripts/test` starts a private cluster).

mod common;

use common::*;
use sellsync::model::StockLevel;
use sellsync::store::pg::Fence;
use sellsync::store::{testing, Store};
use sellsync::{Engine, Error};
use std::collections::HashSet;
use std::time::Duration;

/// A database of its own for a test.
fn database(dir: &tempfile::TempDir) -> String {
    testing::database_for(dir.path().join("shared").to_str().unwrap()).expect("test database")
}

/// The configuration entries of a store in the shared database `url` (`store` adds to its
/// section).
fn shared_entries(url: &str, store: &str) -> String {
    format!(
        r#""store": {{"postgres": {url:?}{store}}}, "privacy": {{"key": "{}"}}"#,
        testing::TEST_KEY
    )
}

/// Opens a till `node` on the shared database `url`.
fn till(emu: &sellsync_emulator::Emulator, url: &str, node: &str, extra: &str) -> Engine {
    let entries = shared_entries(url, &format!(r#", "lease_seconds": 2, "node": "{node}""#));
    let config = sellsync::Config::from_json(&config_json_with(emu, &entries, extra)).unwrap();
    Engine::open(config).expect("till opens")
}

fn privacy() -> sellsync::config::Privacy {
    sellsync::config::Privacy {
        key: Some(sellsync::secret::Secret::new(testing::TEST_KEY)),
        ..Default::default()
    }
}

fn lease(e: &Engine) -> serde_json::Value {
    let s: serde_json::Value = serde_json::from_str(&e.status().unwrap()).unwrap();
    s["lease"].clone()
}

#[test]
fn one_till_runs_the_sync_every_till_takes_orders_and_another_takes_over_at_close() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 20, 10);
    let placed = place_orders(&emu, 30, false, None);
    let dir = tempdir();
    let url = database(&dir);
    let a = till(&emu, &url, "till-a", "");
    let b = till(&emu, &url, "till-b", "");
    assert_eq!(a.sync_now(1, SYNC).unwrap().orders.new, 30);
    match b.sync_now(1, SYNC) {
        Err(Error::InvalidState(m)) => assert!(m.contains("till-a"), "{m}"),
        other => panic!("a second till ran the sync: {other:?}"),
    }
    assert_eq!(lease(&a)["leader"], true);
    assert_eq!(lease(&b)["leader"], false);
    assert_eq!(lease(&b)["holder"], "till-a");
    // Both tills take orders, turn about: each order reaches exactly one of them.
    let mut taken: Vec<(String, &str)> = Vec::new();
    loop {
        let mut any = false;
        for (t, name) in [(&a, "a"), (&b, "b")] {
            if let Some(doc) = t.order_next().unwrap() {
                let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
                let id = v["order_id"].as_str().unwrap().to_string();
                t.order_ack(&id, &format!("{name}-{id}")).unwrap();
                taken.push((id, name));
                any = true;
            }
        }
        if !any {
            break;
        }
    }
    let ids: HashSet<&String> = taken.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), taken.len(), "an order went to two tills");
    assert_eq!(ids, placed.iter().collect::<HashSet<_>>());
    assert!(taken.iter().any(|t| t.1 == "a") && taken.iter().any(|t| t.1 == "b"));
    // The leader closes: it gives the lease up, and the other till runs the sync at once.
    let epoch = lease(&a)["epoch"].as_i64().unwrap();
    drop(a);
    b.sync_now(1, SYNC).unwrap();
    assert_eq!(lease(&b)["leader"], true);
    assert!(lease(&b)["epoch"].as_i64().unwrap() > epoch);
    assert!(drain(&b).is_empty(), "an order was handed out again");
}

#[test]
fn a_followers_stock_reaches_amazon_and_its_worker_takes_over_when_the_leader_stops() {
    let emu = emulator(1000.0);
    seed_listings(&emu, 2, 10);
    let dir = tempdir();
    let url = database(&dir);
    let fast = r#", "intervals": {"stock_seconds": 0.2, "orders_seconds": 1}"#;
    let a = till(&emu, &url, "till-a", fast);
    let b = till(&emu, &url, "till-b", fast);
    a.sku_map(&[one_to_one("SKU-0000", "ITEM-0")]).unwrap();
    a.start().unwrap();
    wait_until("till-a leads", Duration::from_secs(10), || {
        lease(&a)["leader"] == true
    });
    b.start().unwrap();
    let level = |t: &Engine, n| {
        t.stock_set(&[StockLevel {
            host_item: "ITEM-0".into(),
            on_hand: n,
        }])
        .unwrap()
    };
    level(&b, 4);
    wait_until("Amazon shows 4", Duration::from_secs(20), || {
        emu.control().quantity("SKU-0000") == Some(4)
    });
    assert_eq!(lease(&b)["leader"], false);
    // The leader's worker stops: it gives the lease up and the follower's worker takes over
    // within a quarter of the lease (a leader killed outright is `tests/cluster.rs`'s).
    a.stop().unwrap();
    assert_eq!(lease(&a)["leader"], false);
    wait_until("till-b takes over", Duration::from_secs(5), || {
        lease(&b)["leader"] == true
    });
    level(&b, 7);
    wait_until("Amazon shows 7", Duration::from_secs(20), || {
        emu.control().quantity("SKU-0000") == Some(7)
    });
}

#[test]
fn a_leader_whose_lease_ran_out_cannot_write_what_its_successor_owns() {
    let dir = tempdir();
    let url = database(&dir);
    let old = Store::open_postgres(&url, Some(&privacy())).unwrap();
    let new = Store::open_postgres(&url, Some(&privacy())).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let flow_write = |s: &Store, v: &str| {
        rt.block_on(sellsync::store::pg::fenced(async {
            s.set_watermark("orders", v)
        }))
    };
    assert_eq!(old.take_lease("S", "old", 0, 300).unwrap(), Some(1));
    old.set_fence(Some(Fence {
        account: "S".into(),
        holder: "old".into(),
        epoch: 1,
    }));
    flow_write(&old, "1").unwrap();
    assert_eq!(new.take_lease("S", "new", 0, 10_000).unwrap(), None);
    // The old leader is paused past its lease; the new one takes over.
    wait_until("the lease runs out", Duration::from_secs(10), || {
        new.take_lease("S", "new", 0, 10_000).unwrap() == Some(2)
    });
    new.set_fence(Some(Fence {
        account: "S".into(),
        holder: "new".into(),
        epoch: 2,
    }));
    flow_write(&new, "2").unwrap();
    // The old one wakes up: its flow's write is refused, the watermark stays the new one's.
    match flow_write(&old, "stale") {
        Err(Error::InvalidState(m)) => assert!(m.contains("lease"), "{m}"),
        other => panic!("a stale leader wrote: {other:?}"),
    }
    assert_eq!(new.watermark("orders").unwrap().as_deref(), Some("2"));
    assert_eq!(old.take_lease("S", "old", 1, 300).unwrap(), None);
    // The host's own writes in that process still go through.
    old.set_watermark("host", "kept").unwrap();
    assert_eq!(new.watermark("host").unwrap().as_deref(), Some("kept"));
}

#[test]
fn an_order_taken_by_one_till_is_not_handed_to_another_even_when_it_restarts_and_comes_back_to_it()
{
    let emu = emulator(1000.0);
    seed_listings(&emu, 5, 10);
    let placed = place_orders(&emu, 1, false, None);
    let dir = tempdir();
    let url = database(&dir);
    let a = till(&emu, &url, "till-a", "");
    let b = till(&emu, &url, "till-b", "");
    a.sync_now(1, SYNC).unwrap();
    let doc = a.order_next().unwrap().expect("the order");
    assert!(doc.contains(&placed[0]));
    // Till a has not booked it yet: till b must not get it too.
    assert_eq!(b.order_next().unwrap(), None);
    // Till a dies (perhaps after booking it, before acknowledging) and starts again: till b
    // still does not get it, and till a gets it back at once.
    drop(a);
    let a = till(&emu, &url, "till-a", "");
    assert_eq!(
        b.order_next().unwrap(),
        None,
        "the restarted till may acknowledge what it booked"
    );
    let again = a.order_next().unwrap().expect("handed out again");
    assert!(again.contains(&placed[0]));
    a.order_ack(&placed[0], "A-1").unwrap();
    assert_eq!(b.order_next().unwrap(), None);
}

#[test]
fn a_lost_database_connection_is_made_again_and_nothing_written_is_lost() {
    let dir = tempdir();
    let url = database(&dir);
    let store = Store::open_postgres(&url, Some(&privacy())).unwrap();
    store.set_watermark("kept", "1").unwrap();
    // The server ends every connection to this database but the one asking (a restart, a
    // network cut as the server sees it).
    let admin = sellsync::store::pg::Client::connect(&url).unwrap();
    let kill = admin
        .prepare(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .unwrap();
    assert!(!admin.query(&kill, &[]).unwrap().is_empty());
    // The next calls find a new connection (the first may report the lost one).
    let mut failures = 0;
    wait_until("the store answers again", Duration::from_secs(20), || {
        let ok = store.watermark("kept").is_ok();
        failures += u32::from(!ok);
        ok
    });
    assert!(failures <= 1, "{failures} calls failed");
    assert_eq!(store.watermark("kept").unwrap().as_deref(), Some("1"));
    store.set_watermark("after", "2").unwrap();
}

#[test]
fn a_database_serves_one_seller_account() {
    let emu = emulator(1000.0);
    let dir = tempdir();
    let url = database(&dir);
    let a = till(&emu, &url, "till-a", "");
    a.sync_now(1, SYNC).unwrap();
    let doc = config_json_with(&emu, &shared_entries(&url, ""), "");
    let mut v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    v["seller_id"] = "ANOTHERSELLER".into();
    match Engine::open(sellsync::Config::from_json(&v.to_string()).unwrap()) {
        Err(Error::Config(m)) => assert!(m.contains("a database of its own"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a second seller account opened the same database"),
    }
}
