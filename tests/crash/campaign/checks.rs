//! What must hold after a campaign, checked against Amazon (the emulator), the host's journal
//! and the store; each failed check is one line of the returned list.

use super::journal::Summary;
use sellsync_emulator::{CanceledBy, Emulator, Status};
use std::collections::HashMap;
use std::path::Path;

/// Counts for the report.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub orders: usize,
    pub fba_orders: usize,
    pub shipments: usize,
    pub duplicate_confirmations: usize,
    /// Orders the host cancelled and refunds it made, and refunds Amazon made more than once.
    pub cancellations: usize,
    pub refunds: usize,
    pub duplicate_refunds: usize,
    pub redelivered_before_ack: u64,
    /// SKUs for which the library still held units back after the drain, and how many.
    pub held_skus: usize,
    pub held_units: i64,
}

/// Where the library's store is.
#[derive(Clone, Copy, Debug)]
pub enum StoreAt<'a> {
    /// A SQLite file.
    Sqlite(&'a Path),
    /// A PostgreSQL database, by URL.
    Postgres(&'a str),
}

/// Runs every check; returns the counts and the failures.
pub fn check(
    emu: &Emulator,
    journal: &Summary,
    store: StoreAt<'_>,
    config: &Path,
    sku_of: impl Fn(&str) -> String,
) -> (Counts, Vec<String>) {
    let mut fails = Vec::new();
    let mut counts = Counts {
        redelivered_before_ack: journal.redelivered,
        ..Counts::default()
    };
    if !journal.drained {
        fails.push("the last host run did not drain".into());
    }
    // Amazon applies what it accepted seconds after the drain saw it accepted.
    crate::common::landed(emu);
    // 1. Orders: every order Amazon has (but those cancelled before they reached the host)
    //    was taken and acknowledged; none handed out after.
    let world: HashMap<String, (bool, Option<CanceledBy>)> = emu.control().with_world(|w| {
        w.orders
            .values()
            .map(|o| {
                let cancelled = (o.status == Status::Canceled).then_some(o.canceled_by);
                (
                    o.order_id.clone(),
                    (o.fulfilled_by_amazon, cancelled.flatten()),
                )
            })
            .collect()
    });
    let by_seller = |id: &str| {
        world
            .get(id)
            .is_some_and(|o| o.1 == Some(CanceledBy::Seller))
    };
    let amazon: HashMap<String, bool> = emu.control().with_world(|w| {
        w.orders
            .values()
            .filter(|o| o.status != Status::Canceled || by_seller(&o.order_id))
            .map(|o| (o.order_id.clone(), o.fulfilled_by_amazon))
            .collect()
    });
    counts.orders = amazon.len();
    counts.fba_orders = amazon.values().filter(|f| **f).count();
    for (id, fba) in &amazon {
        match journal.acked.get(id) {
            None => fails.push(format!("order {id} was never acknowledged by the host")),
            Some(f) if f != fba => fails.push(format!("order {id} came with the wrong channel")),
            Some(_) => {}
        }
    }
    for id in journal.acked.keys().filter(|id| !world.contains_key(*id)) {
        fails.push(format!(
            "the host acknowledged order {id}, which Amazon does not have"
        ));
    }
    for id in &journal.after_ack {
        fails.push(format!(
            "order {id} was handed out again after its acknowledgement"
        ));
    }
    // 2. Shipments: each seller-fulfilled order's one package reached Amazon exactly once.
    let packages: Vec<(String, String, u32)> = emu.control().with_world(|w| {
        w.shipments
            .values()
            .map(|s| {
                (
                    s.order_id.clone(),
                    s.package_reference_id.clone(),
                    s.confirmations,
                )
            })
            .collect()
    });
    counts.shipments = packages.len();
    let mut per_order: HashMap<&str, Vec<(&str, u32)>> = HashMap::new();
    for (order, package, n) in &packages {
        per_order.entry(order).or_default().push((package, *n));
        if *n != 1 {
            counts.duplicate_confirmations += 1;
            fails.push(format!(
                "package {package} of order {order} was confirmed {n} times"
            ));
        }
    }
    for (id, _) in amazon.iter().filter(|(_, fba)| !**fba) {
        let packages = per_order.get(id.as_str()).map(Vec::as_slice);
        if journal.cancelled.contains(id) {
            if packages.is_some() {
                fails.push(format!("order {id}, cancelled, has packages {packages:?}"));
            }
            continue;
        }
        match packages {
            Some([("1", _)]) => {}
            other => fails.push(format!(
                "order {id} has packages {other:?} at Amazon, not one"
            )),
        }
        if !journal.shipped.contains(id) {
            fails.push(format!("the host never got OK confirming order {id}"));
        }
    }
    // 2b. Cancellations and refunds: each reached Amazon once; none failed.
    counts.cancellations = journal.cancelled.len();
    for id in &journal.cancelled {
        if !by_seller(id) {
            fails.push(format!(
                "the host cancelled order {id}; Amazon has {:?}",
                world.get(id)
            ));
        }
    }
    for id in world
        .keys()
        .filter(|id| by_seller(id) && !journal.cancelled.contains(*id))
    {
        fails.push(format!(
            "Amazon has order {id} cancelled by the seller; the host never cancelled it"
        ));
    }
    for id in &journal.adjustments_failed {
        fails.push(format!("an adjustment of order {id} failed at Amazon"));
    }
    let mut refunds: HashMap<String, usize> = HashMap::new();
    emu.control().with_world(|w| {
        for r in &w.refunds {
            *refunds.entry(r.order_id.clone()).or_default() += 1;
        }
    });
    counts.refunds = journal.refunded.len();
    for (id, n) in &refunds {
        if !journal.refunded.contains(id) {
            fails.push(format!(
                "order {id} was refunded {n} times at Amazon; the host never refunded it"
            ));
        } else if *n > 1 {
            counts.duplicate_refunds += 1;
            fails.push(format!("order {id} was refunded {n} times at Amazon"));
        }
    }
    for id in journal
        .refunded
        .iter()
        .filter(|id| !refunds.contains_key(*id))
    {
        fails.push(format!("the host refunded order {id}; Amazon never did"));
    }
    // 3. The store is sound and agrees.
    const UNACKED: &str =
        "SELECT COUNT(*) FROM orders WHERE acked_at IS NULL AND status <> 'CANCELLED'";
    let unacked = match store {
        StoreAt::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).expect("store opens");
            let integrity: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .expect("integrity_check runs");
            if integrity != "ok" {
                fails.push(format!("PRAGMA integrity_check: {integrity}"));
            }
            conn.query_row(UNACKED, [], |r| r.get(0))
                .expect("orders count")
        }
        StoreAt::Postgres(url) => {
            let client = sellsync::store::pg::Client::connect(url).expect("store connects");
            fails.extend(pg_integrity(&client));
            let s = client.prepare(UNACKED).expect("orders count prepares");
            match client.query(&s, &[]).expect("orders count").as_slice() {
                [row] => match row.as_slice() {
                    [rusqlite::types::Value::Integer(n)] => *n,
                    other => panic!("orders count: {other:?}"),
                },
                other => panic!("orders count: {other:?}"),
            }
        }
    };
    if unacked != 0 {
        fails.push(format!(
            "{unacked} orders in the store are not acknowledged"
        ));
    }
    // 4. Stock. For a seller-fulfilled SKU the library sends Amazon `desired - held`
    //    (src/store/stock.rs): `desired` is the item's last level less the units of
    //    seller-fulfilled orders not cancelled that are not acknowledged or were acknowledged
    //    after that level was reported, through the policy (buffer 0, allocation 100 %, no
    //    maximum: nothing more); `held` is what Amazon took for orders the store has not seen
    //    (`unseen_units`). After the drain every order is seen and acknowledged before the last
    //    report, so `desired` must be the last level and Amazon must show it less what the
    //    store still held back when Amazon's value was last set or read (later, time alone
    //    releases a hold older than `UNSEEN_HORIZON`, which the next pass would push, and
    //    Amazon's clock runs fast here); that should be nothing, and what is held is counted.
    let config = std::fs::read_to_string(config).expect("config readable");
    let engine = sellsync::Engine::open(sellsync::Config::from_json(&config).expect("config"))
        .expect("store opens");
    let store_api = &engine.core().store;
    let now = emu.control().now();
    for (item, (level, ok)) in &journal.last_level {
        let sku = sku_of(item);
        if !ok {
            fails.push(format!("the last stock call for {item} did not return OK"));
        }
        let desired = store_api
            .sku_quantities(&sku)
            .expect("sku row")
            .and_then(|q| q.0);
        if desired != Some(*level) {
            fails.push(format!(
                "{sku}: the library wants Amazon to show {desired:?}, the host's last level of {item} is {level}"
            ));
        }
        let known = store_api.amazon_known(&sku).expect("sku row");
        let decided = known
            .as_ref()
            .and_then(|k| k.amazon_at.as_deref())
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or(now, |t| t.with_timezone(&chrono::Utc));
        let (held, _) = store_api
            .unseen_units(&sku, None, decided)
            .expect("held units");
        if held > 0 {
            counts.held_skus += 1;
            counts.held_units += held;
        }
        let shows = emu.control().quantity(&sku);
        if shows != Some((level - held).max(0)) {
            let log = emu.control().quantity_log(Some(&sku), None);
            let last: Vec<String> = log
                .iter()
                .rev()
                .take(6)
                .rev()
                .map(|c| format!("{} {}->{} {:?}", c.time, c.from, c.to, c.cause))
                .collect();
            fails.push(format!(
                "{sku}: Amazon shows {shows:?}, the host's last level of {item} is {level}, {held} held back \
                 (the store knows {known:?}); Amazon's last changes: {last:?}"
            ));
        }
    }
    drop(engine);
    (counts, fails)
}

/// PostgreSQL's own checks (amcheck) of the store's tables and B-tree indexes (with their
/// parent links and every heap tuple indexed); one failure per problem found.
fn pg_integrity(client: &sellsync::store::pg::Client) -> Vec<String> {
    let mut fails = Vec::new();
    if let Err(e) = client.batch("CREATE EXTENSION IF NOT EXISTS amcheck") {
        return vec![format!("amcheck is not available: {e}")];
    }
    let heap = client
        .prepare(
            "SELECT c.relname, v.msg FROM pg_class c, LATERAL verify_heapam(c.oid) v
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'",
        )
        .and_then(|s| client.query(&s, &[]));
    match heap {
        Ok(rows) => fails.extend(rows.iter().map(|r| format!("verify_heapam: {r:?}"))),
        Err(e) => fails.push(format!("verify_heapam failed: {e}")),
    }
    let indexes = "DO $$ DECLARE r record; BEGIN
        FOR r IN SELECT c.oid FROM pg_class c JOIN pg_am a ON a.oid = c.relam
                 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'i' AND a.amname = 'btree'
        LOOP PERFORM bt_index_parent_check(r.oid::regclass, true); END LOOP; END $$";
    if let Err(e) = client.batch(indexes) {
        fails.push(format!("bt_index_parent_check: {e}"));
    }
    fails
}
