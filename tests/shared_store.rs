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

/// Opens a till `node` on the shared database `url`.
fn till(emu: &sellsync_emulator::Emulator, url: &str, node: &str, extra: &str) -> Engine {
    let doc = config_json(emu, std::path::Path::new("unused"), extra);
    let mut v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let obj = v.as_object_mut().unwrap();
    obj.remove("store_path");
    obj.insert(
        "store".into(),
        serde_json::json!({"postgres": url, "lease_seconds": 2, "node": node}),
    );
    obj.insert(
        "privacy".into(),
        serde_json::json!({"key": testing::TEST_KEY}),
    );
    Engine::open(sellsync::Config::from_json(&v.to_string()).unwrap()).expect("till opens")
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
    let privacy = sellsync::config::Privacy {
        key: Some(sellsync::secret::Secret::new(testing::TEST_KEY)),
        ..Default::default()
    };
    let old = Store::open_postgres(&url, Some(&privacy)).unwrap();
    let new = Store::open_postgres(&url, Some(&privacy)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
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
