//! Buyer data in the store: each order's recipient is sealed (`seal`) in its own column, bound
//! to the order id, and put back only when an order is read for the host. At open the key is
//! checked against the key check value the store keeps (a wrong key is refused, never used to
//! read garbage), a lost key file is handled as the configuration says, clear-text recipients of
//! older stores are sealed, and a key rotation is started. Buyer data is deleted when its
//! retention has run out (`purge_due`, through the index `orders_buyer_data_due`), or when the
//! host asks (`purge_buyer_data`); the order and its lines stay.

use super::db::{params, Conn, OptionalExtension};
use super::seal::{self, Key};
use super::{ts, Store};
use crate::config::Privacy;
use crate::error::{quote, Error, Result};
use crate::model::{Address, Order, OrderStatus};
use chrono::{DateTime, Utc};

/// Rows sealed, re-sealed or purged per transaction, so no host call waits long for the store.
pub const BATCH: usize = 500;

/// The keys buyer data is sealed and opened with.
#[derive(Debug)]
pub struct Keys {
    /// Seals, and opens first.
    current: Key,
    /// Opens rows not yet sealed again during a key rotation.
    previous: Option<Key>,
}

/// What opening the store did to buyer data.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// Orders whose sealed buyer data was dropped because the key file was lost.
    pub dropped_for_lost_key: u64,
    /// Orders whose clear-text recipient (from an older version) was sealed.
    pub sealed_clear: u64,
    /// A new key file was made.
    pub key_file_created: bool,
}

const KEY_CHECK: &str = "key_check";
/// The last order id sealed again under the new key while a rotation runs (a rowid, from
/// older versions, counts as none).
const ROTATION: &str = "rotation";
/// Present once the clear-text recipients of older versions were sealed.
const CLEAR_SEALED: &str = "clear_sealed";

fn get(conn: &Conn, name: &str) -> Result<Option<rusqlite::types::Value>> {
    Ok(conn
        .query_row("SELECT value FROM privacy WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?)
}

fn set(conn: &Conn, name: &str, value: impl rusqlite::ToSql) -> Result<()> {
    conn.execute(
        "INSERT INTO privacy(name, value) VALUES (?1, ?2)
         ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

/// Finds the key, checks it against the store, and brings the store's buyer data in line
/// with it (see the module documentation).
pub(super) fn setup(conn: &mut Conn, store_path: &str, p: &Privacy) -> Result<(Keys, Opened)> {
    let mut opened = Opened::default();
    let check = match get(conn, KEY_CHECK)? {
        Some(rusqlite::types::Value::Blob(b)) => Some(b),
        _ => None,
    };
    let previous = p
        .previous_key
        .as_ref()
        .map(|k| Key::parse(k.expose(), "privacy.previous_key"))
        .transpose()?;
    let current = match (&p.key, &p.key_file) {
        (Some(k), _) => Key::parse(k.expose(), "privacy.key")?,
        (None, Some(file)) => {
            super::files::tighten_key_file(file)?;
            seal::read_key_file(file)?.ok_or_else(|| {
                Error::Config(format!(
                    "the key file {} (privacy.key_file) does not exist",
                    quote(file)
                ))
            })?
        }
        (None, None) => {
            let file = seal::default_key_file(store_path);
            super::files::tighten_key_file(&file)?;
            match seal::read_key_file(&file)? {
                Some(k) => k,
                None => {
                    if check.is_some() {
                        let sealed: i64 = conn.query_row(
                            "SELECT COUNT(*) FROM orders WHERE buyer_sealed IS NOT NULL",
                            [],
                            |r| r.get(0),
                        )?;
                        if sealed > 0 && !p.new_key_if_lost {
                            return Err(Error::Config(format!(
                                "the key file {} is missing, and the buyer data of {sealed} orders in the store was sealed with it: restore the key file from a backup, or set privacy.new_key_if_lost to start a new key (those orders' addresses are then lost; orders and stock keep working)",
                                quote(&file)
                            )));
                        }
                        // The old data goes before the new key file is made, so a crash in
                        // between leaves a store that a new key opens.
                        let tx = conn.transaction()?;
                        let dropped = tx.execute(
                            "UPDATE orders SET buyer_sealed = NULL WHERE buyer_sealed IS NOT NULL",
                            [],
                        )?;
                        tx.execute(
                            "DELETE FROM privacy WHERE name IN (?1, ?2)",
                            params![KEY_CHECK, ROTATION],
                        )?;
                        tx.commit()?;
                        if dropped > 0 {
                            tracing::warn!(
                                "the key file {} was missing: a new key was started and the buyer data (addresses) of {dropped} orders, sealed with the lost key, was dropped",
                                quote(&file)
                            );
                        }
                        opened.dropped_for_lost_key = dropped as u64;
                    }
                    let k = Key::generate();
                    seal::create_key_file(&file, &k)?;
                    opened.key_file_created = true;
                    k
                }
            }
        }
    };
    let check = get(conn, KEY_CHECK)?;
    match check {
        None => set(conn, KEY_CHECK, current.check_value()?)?,
        Some(rusqlite::types::Value::Blob(c)) if current.opens_check(&c) => {}
        Some(rusqlite::types::Value::Blob(c))
            if previous.as_ref().is_some_and(|k| k.opens_check(&c)) =>
        {
            // A rotation starts: new rows are sealed with the new key from now on, old ones
            // are sealed again in batches (`rotate_batch`).
            let tx = conn.transaction()?;
            set(&tx, KEY_CHECK, current.check_value()?)?;
            set(&tx, ROTATION, Vec::<u8>::new())?;
            tx.commit()?;
            tracing::info!("key rotation started: buyer data is sealed again under the new key in the background");
        }
        Some(_) => {
            return Err(Error::Config(
                "the store was sealed with another key: give the key it was sealed with (privacy.key or privacy.key_file), or give it as privacy.previous_key beside a new privacy.key to rotate".into(),
            ))
        }
    }
    if get(conn, ROTATION)?.is_some() && previous.is_none() {
        return Err(Error::Config(
            "a key rotation is not finished: keep privacy.previous_key until the status shows no rotation pending".into(),
        ));
    }
    let keys = Keys { current, previous };
    if get(conn, CLEAR_SEALED)?.is_none() {
        // A PostgreSQL store was never written by a version that kept them.
        if !conn.is_pg() {
            opened.sealed_clear = seal_clear_rows(conn, &keys)?;
        }
        set(conn, CLEAR_SEALED, vec![1u8])?;
        if opened.sealed_clear > 0 {
            tracing::info!(
                "the recipients of {} orders stored in clear text were sealed",
                opened.sealed_clear
            );
        }
    }
    Ok((keys, opened))
}

/// Seals the clear-text recipients that older versions kept in `doc`, in batches.
fn seal_clear_rows(conn: &mut Conn, keys: &Keys) -> Result<u64> {
    let mut after = 0i64;
    let mut sealed = 0u64;
    loop {
        let tx = conn.transaction()?;
        let rows: Vec<(i64, String)> = tx
            .prepare(
                "SELECT rowid, doc FROM orders
                 WHERE rowid > ?1 AND json_extract(doc, '$.recipient') IS NOT NULL
                 ORDER BY rowid LIMIT ?2",
            )?
            .query_map(params![after, BATCH as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (rowid, doc) in &rows {
            let order: Order = serde_json::from_str(doc)?;
            let (doc, blob) = keys.seal_order(&order)?;
            tx.execute(
                "UPDATE orders SET doc = ?1, buyer_sealed = ?2 WHERE rowid = ?3",
                params![doc, blob, rowid],
            )?;
            sealed += 1;
            after = *rowid;
        }
        tx.commit()?;
        if rows.len() < BATCH {
            return Ok(sealed);
        }
    }
}

/// What is sealed of an order: its recipient and its lines' gift messages.
#[derive(serde::Serialize, serde::Deserialize)]
struct BuyerData {
    /// Marks this shape; older versions sealed an `Address` alone.
    v: u8,
    recipient: Option<Address>,
    /// (order item id, message)
    gift_messages: Vec<(String, String)>,
}

impl BuyerData {
    fn of(order: &Order) -> BuyerData {
        BuyerData {
            v: 1,
            recipient: order.recipient.clone(),
            gift_messages: order
                .items
                .iter()
                .filter_map(|i| {
                    let m = i.charges.as_ref()?.gift_message.clone()?;
                    Some((i.order_item_id.clone(), m))
                })
                .collect(),
        }
    }

    fn read(plain: &[u8]) -> Option<BuyerData> {
        serde_json::from_slice(plain).ok().or_else(|| {
            serde_json::from_slice::<Address>(plain)
                .ok()
                .map(|a| BuyerData {
                    v: 1,
                    recipient: Some(a),
                    gift_messages: Vec::new(),
                })
        })
    }
}

impl Keys {
    /// Keys that open no buyer data (a random key never stored), for tools that need none.
    pub(super) fn none() -> Keys {
        Keys {
            current: Key::generate(),
            previous: None,
        }
    }

    /// An order's document without its buyer data (recipient, gift messages), and the buyer
    /// data sealed (if any).
    pub fn seal_order(&self, order: &Order) -> Result<(String, Option<Vec<u8>>)> {
        let sealed = BuyerData::of(order);
        if sealed.recipient.is_none() && sealed.gift_messages.is_empty() {
            return Ok((serde_json::to_string(order)?, None));
        }
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(&sealed)?);
        let blob = self.current.seal(&order.order_id, &plain)?;
        let mut bare = order.clone();
        bare.recipient = None;
        for c in bare.items.iter_mut().filter_map(|i| i.charges.as_mut()) {
            c.gift_message = None;
        }
        Ok((serde_json::to_string(&bare)?, Some(blob)))
    }

    /// Puts an order's sealed buyer data back into it. A blob that opens with neither key
    /// (changed, or moved from another order) leaves it out with an error line, never giving
    /// another buyer's data.
    pub fn open_buyer_data(&self, order: &mut Order, blob: &[u8]) {
        let plain = self.current.open(&order.order_id, blob).or_else(|| {
            self.previous
                .as_ref()
                .and_then(|k| k.open(&order.order_id, blob))
        });
        let Some(data) = plain.and_then(|p| BuyerData::read(&p)) else {
            tracing::error!(
                "the sealed buyer data of order {} does not open with the store's key: it was changed or copied from another order, and is left out",
                quote(&order.order_id)
            );
            return;
        };
        order.recipient = data.recipient;
        for (item_id, message) in data.gift_messages {
            let item = order.items.iter_mut().find(|i| i.order_item_id == item_id);
            if let Some(c) = item.and_then(|i| i.charges.as_mut()) {
                c.gift_message = Some(message);
            }
        }
    }
}

/// When an order counts as delivered, for the retention of its buyer data: once shipped, its
/// latest delivery date or the time it shipped, whichever is later; once cancelled, the time it
/// was cancelled. None while neither.
pub(super) fn retention_from(o: &Order) -> Option<String> {
    match o.status {
        OrderStatus::Shipped | OrderStatus::Cancelled => Some(
            o.latest_delivery_date
                .clone()
                .filter(|d| *d > o.last_updated && o.status == OrderStatus::Shipped)
                .unwrap_or_else(|| o.last_updated.clone()),
        ),
        _ => None,
    }
}

impl Store {
    /// An order document `doc` with its buyer data opened from `sealed`.
    pub(super) fn with_buyer_data(&self, doc: String, sealed: Option<Vec<u8>>) -> Result<String> {
        let Some(blob) = sealed else { return Ok(doc) };
        let mut order: Order = serde_json::from_str(&doc)?;
        self.keys.open_buyer_data(&mut order, &blob);
        Ok(serde_json::to_string(&order)?)
    }

    /// Deletes the buyer data of at most `limit` orders delivered (see `retention_from`) at or
    /// before `cutoff`, in one transaction; returns how many.
    pub fn purge_due(
        &self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<u64> {
        let conn = self.conn();
        let n = conn
            .prepare_cached(
                "UPDATE orders SET buyer_sealed = NULL, buyer_purged_at = ?2
                 WHERE order_id IN (SELECT order_id FROM orders
                     WHERE buyer_sealed IS NOT NULL AND retention_from <= ?1
                     ORDER BY retention_from LIMIT ?3)",
            )?
            .execute(params![ts(cutoff), ts(now), limit as i64])?;
        Ok(n as u64)
    }

    /// Deletes one order's buyer data at the host's request, for good: a later version of the
    /// order from Amazon does not bring it back. An unknown order is `NotFound`.
    pub fn purge_buyer_data(&self, order_id: &str, now: DateTime<Utc>) -> Result<()> {
        let (id, now) = (order_id.to_string(), ts(now));
        self.write(super::commit::Durability::Full, move |tx| {
            let n = tx.execute(
                "UPDATE orders SET buyer_sealed = NULL, buyer_purged_at = COALESCE(buyer_purged_at, ?2)
                 WHERE order_id = ?1",
                params![id, now],
            )?;
            if n == 0 {
                return Err(Error::NotFound(format!("order {} is not known", quote(&id))));
            }
            Ok(())
        })
    }

    /// Whether a key rotation is still sealing rows again.
    pub fn rotation_pending(&self) -> Result<bool> {
        Ok(get(&self.conn(), ROTATION)?.is_some())
    }

    /// Seals up to `limit` rows sealed under the previous key again under the current one, in
    /// one transaction. Returns how many, and whether the rotation is finished.
    pub fn rotate_batch(&self, limit: usize) -> Result<(u64, bool)> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let after = match get(&tx, ROTATION)? {
            Some(rusqlite::types::Value::Blob(b)) => String::from_utf8(b).unwrap_or_default(),
            Some(_) => String::new(),
            None => return Ok((0, true)),
        };
        let rows: Vec<(String, Vec<u8>)> = tx
            .prepare_cached(
                "SELECT order_id, buyer_sealed FROM orders
                 WHERE order_id > ?1 AND buyer_sealed IS NOT NULL ORDER BY order_id LIMIT ?2",
            )?
            .query_map(params![after, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut resealed = 0;
        for (order_id, blob) in &rows {
            if self.keys.current.open(order_id, blob).is_some() {
                continue;
            }
            let Some(plain) = self
                .keys
                .previous
                .as_ref()
                .and_then(|k| k.open(order_id, blob))
            else {
                tracing::error!(
                    "the sealed buyer data of order {} opens with neither key and is left as it is",
                    quote(order_id)
                );
                continue;
            };
            tx.prepare_cached("UPDATE orders SET buyer_sealed = ?1 WHERE order_id = ?2")?
                .execute(params![self.keys.current.seal(order_id, &plain)?, order_id])?;
            resealed += 1;
        }
        let done = rows.len() < limit;
        match rows.last() {
            _ if done => {
                tx.execute("DELETE FROM privacy WHERE name = ?1", [ROTATION])?;
            }
            Some((order_id, _)) => set(&tx, ROTATION, order_id.as_bytes())?,
            None => {}
        }
        tx.commit()?;
        if done {
            tracing::info!("key rotation finished: all buyer data is sealed under the new key");
        }
        Ok((resealed, done))
    }

    /// What opening the store did to buyer data.
    pub fn opened(&self) -> Opened {
        self.opened
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StockConfig;
    use crate::secret::Secret;
    use chrono::Duration;

    const NAME: &str = "Jane Q. Buyer";
    const STREET: &str = "17 Privet Lane";

    fn order(n: usize, status: &str, updated: &str, delivery: Option<&str>) -> Order {
        serde_json::from_value(serde_json::json!({
            "order_id": format!("111-{n:07}-0000000"), "marketplace_id": "ATVPDKIKX0DER",
            "status": status, "fulfilled_by": "MERCHANT",
            "purchase_date": "2026-01-01T10:00:00.000Z", "last_updated": updated,
            "earliest_ship_date": null, "latest_ship_date": "2026-01-03T10:00:00.000Z",
            "latest_delivery_date": delivery,
            "currency": "USD", "total": "10.00", "buyer_cancel_requested": false,
            "recipient": {"name": format!("{NAME} {n}"), "company": null, "line1": STREET,
                          "line2": null, "line3": null, "city": "Springfield",
                          "district_or_county": null, "state_or_region": "IL",
                          "postal_code": "62704", "country_code": "US", "phone": "+1 555 0100"},
            "items": [{"order_item_id": format!("{n}"), "sku": "SKU-1", "asin": null,
                       "title": null, "quantity": 1, "quantity_shipped": 0,
                       "unit_price": "10.00", "line_total": "10.00",
                       "buyer_cancel_requested": false, "buyer_cancel_reason": null}]
        }))
        .unwrap()
    }

    fn id(n: usize) -> String {
        format!("111-{n:07}-0000000")
    }

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
    }

    fn keyed(key: &Key) -> Privacy {
        Privacy {
            key: Some(Secret::new(key.encode().to_string())),
            ..Privacy::default()
        }
    }

    fn path(dir: &tempfile::TempDir) -> String {
        dir.path().join("s.sqlite").to_str().unwrap().to_string()
    }

    fn apply(store: &Store, orders: &[Order]) {
        store
            .apply_orders(orders, &StockConfig::default(), Utc::now())
            .unwrap();
    }

    /// Every byte the store keeps on disk (main file and WAL).
    fn on_disk(p: &str) -> Vec<u8> {
        let mut all = std::fs::read(p).unwrap();
        all.extend(std::fs::read(format!("{p}-wal")).unwrap_or_default());
        all
    }

    fn contains(hay: &[u8], needle: &str) -> bool {
        hay.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    #[test]
    fn recipients_are_sealed_on_disk_and_come_back_for_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(&dir);
        let store = Store::open(&p).unwrap();
        apply(
            &store,
            &[order(1, "UNSHIPPED", "2026-01-01T10:00:00.000Z", None)],
        );
        let disk = on_disk(&p);
        for clear in [NAME, STREET, "+1 555 0100"] {
            assert!(!contains(&disk, clear), "{clear} is stored in clear text");
        }
        let doc = store
            .next_order("h", Utc::now(), Utc::now())
            .unwrap()
            .unwrap();
        let o: Order = serde_json::from_str(&doc).unwrap();
        assert_eq!(o.recipient.unwrap().name.unwrap(), format!("{NAME} 1"));
        let o = store.order(&id(1)).unwrap().unwrap();
        assert_eq!(o.recipient.unwrap().line1.unwrap(), STREET);
    }

    #[test]
    fn sealed_data_moved_to_another_order_does_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&path(&dir)).unwrap();
        let mut other = order(2, "UNSHIPPED", "2026-01-01T10:00:00.000Z", None);
        other.recipient = None;
        apply(
            &store,
            &[
                order(1, "UNSHIPPED", "2026-01-01T10:00:00.000Z", None),
                other,
            ],
        );
        store
            .conn()
            .execute(
                "UPDATE orders SET buyer_sealed = (SELECT buyer_sealed FROM orders WHERE order_id = ?1) WHERE order_id = ?2",
                params![id(1), id(2)],
            )
            .unwrap();
        assert!(store.order(&id(2)).unwrap().unwrap().recipient.is_none());
        assert!(store.order(&id(1)).unwrap().unwrap().recipient.is_some());
    }

    #[test]
    fn a_wrong_key_is_refused_at_open_without_showing_it() {
        let dir = tempfile::tempdir().unwrap();
        let (k1, k2) = (Key::generate(), Key::generate());
        let store = Store::open_with(&path(&dir), &keyed(&k1)).unwrap();
        apply(
            &store,
            &[order(1, "UNSHIPPED", "2026-01-01T10:00:00.000Z", None)],
        );
        drop(store);
        let e = Store::open_with(&path(&dir), &keyed(&k2)).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("sealed with another key"), "{text}");
        assert!(!text.contains(k1.encode().as_str()) && !text.contains(k2.encode().as_str()));
        // The right key still opens it.
        let store = Store::open_with(&path(&dir), &keyed(&k1)).unwrap();
        assert!(store.order(&id(1)).unwrap().unwrap().recipient.is_some());
    }

    #[test]
    fn a_lost_key_file_is_refused_unless_a_new_key_is_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(&dir);
        let key_file = seal::default_key_file(&p);
        let store = Store::open(&p).unwrap();
        assert!(store.opened().key_file_created);
        let orders: Vec<Order> = (0..3)
            .map(|n| order(n, "UNSHIPPED", "2026-01-01T10:00:00.000Z", None))
            .collect();
        apply(&store, &orders);
        drop(store);
        // The key file made at first open holds a key, and its owner alone may read it.
        assert!(seal::read_key_file(&key_file).unwrap().is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_file(&key_file).unwrap();
        let e = Store::open(&p).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        assert!(e.to_string().contains("3 orders"), "{e}");
        // Refusing changed nothing: the key file is still missing, the data still sealed.
        assert!(!std::path::Path::new(&key_file).exists());
        let lost = Privacy {
            new_key_if_lost: true,
            ..Privacy::default()
        };
        let store = Store::open_with(&p, &lost).unwrap();
        assert_eq!(store.opened().dropped_for_lost_key, 3);
        assert!(std::path::Path::new(&key_file).exists());
        // Orders and their lines stay, without their addresses.
        let o = store.order(&id(1)).unwrap().unwrap();
        assert!(o.recipient.is_none());
        assert_eq!(o.items.len(), 1);
        // New orders are sealed with the new key, and the store opens as usual again.
        apply(
            &store,
            &[order(9, "UNSHIPPED", "2026-01-01T10:00:00.000Z", None)],
        );
        drop(store);
        let store = Store::open(&p).unwrap();
        assert_eq!(store.opened(), Opened::default());
        assert!(store.order(&id(9)).unwrap().unwrap().recipient.is_some());
    }

    /// A store as the previous version left it: schema 11, recipients inside `doc`.
    fn old_store(p: &str, orders: &[Order]) {
        let mut conn = rusqlite::Connection::open(p).unwrap();
        for sql in &super::super::schema::MIGRATIONS[..11] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch("PRAGMA user_version = 11").unwrap();
        let tx = conn.transaction().unwrap();
        for o in orders {
            tx.execute(
                "INSERT INTO orders(order_id, marketplace_id, status, fulfilled_by, purchase_date,
                                    last_updated, latest_ship_date, doc, ready_seq)
                 VALUES (?1, 'ATVPDKIKX0DER', ?2, 'MERCHANT', ?3, ?4, ?5, ?6, NULL)",
                params![
                    o.order_id,
                    o.status.as_str(),
                    o.purchase_date,
                    o.last_updated,
                    o.latest_ship_date,
                    serde_json::to_string(o).unwrap()
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }

    #[test]
    fn clear_text_recipients_of_an_older_store_are_sealed_at_first_open() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(&dir);
        let orders: Vec<Order> = (0..1_200)
            .map(|n| order(n, "SHIPPED", "2026-01-05T10:00:00.000Z", None))
            .collect();
        old_store(&p, &orders);
        assert!(contains(&on_disk(&p), NAME));
        let store = Store::open(&p).unwrap();
        assert_eq!(store.opened().sealed_clear, 1_200);
        let clear: i64 = store
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM orders WHERE doc LIKE ?1",
                [format!("%{NAME}%")],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(clear, 0);
        assert_eq!(
            store
                .order(&id(1_199))
                .unwrap()
                .unwrap()
                .recipient
                .unwrap()
                .name
                .unwrap(),
            format!("{NAME} 1199")
        );
        // Shipped orders of the old store count from their last update.
        let cutoff = at("2026-01-05T10:00:00.000Z");
        assert_eq!(store.purge_due(cutoff, cutoff, 10_000).unwrap(), 1_200);
        drop(store);
        // Sealed once: a second open finds nothing in clear text.
        assert_eq!(Store::open(&p).unwrap().opened().sealed_clear, 0);
    }

    #[test]
    fn a_rotation_seals_every_row_again_under_the_new_key_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(&dir);
        let (old, new) = (Key::generate(), Key::generate());
        let store = Store::open_with(&p, &keyed(&old)).unwrap();
        let orders: Vec<Order> = (0..1_200)
            .map(|n| order(n, "UNSHIPPED", "2026-01-01T10:00:00.000Z", None))
            .collect();
        apply(&store, &orders);
        drop(store);
        let rotating = Privacy {
            previous_key: Some(Secret::new(old.encode().to_string())),
            ..keyed(&new)
        };
        let store = Store::open_with(&p, &rotating).unwrap();
        assert!(store.rotation_pending().unwrap());
        // Mid-rotation every order opens, whichever key it is under.
        assert_eq!(store.rotate_batch(BATCH).unwrap(), (500, false));
        assert!(store
            .order(&id(1_100))
            .unwrap()
            .unwrap()
            .recipient
            .is_some());
        assert!(store.order(&id(10)).unwrap().unwrap().recipient.is_some());
        drop(store);
        // Without the previous key a rotation in progress is refused.
        let e = Store::open_with(&p, &keyed(&new)).unwrap_err();
        assert!(e.to_string().contains("rotation is not finished"), "{e}");
        let store = Store::open_with(&p, &rotating).unwrap();
        assert_eq!(store.rotate_batch(BATCH).unwrap(), (500, false));
        assert_eq!(store.rotate_batch(BATCH).unwrap(), (200, true));
        assert!(!store.rotation_pending().unwrap());
        drop(store);
        // Done: the new key alone opens every row; the old one is refused.
        let store = Store::open_with(&p, &keyed(&new)).unwrap();
        for n in [0, 499, 500, 1_199] {
            assert!(
                store.order(&id(n)).unwrap().unwrap().recipient.is_some(),
                "{n}"
            );
        }
        drop(store);
        assert!(Store::open_with(&p, &keyed(&old)).is_err());
    }

    #[test]
    fn buyer_data_goes_at_the_end_of_its_retention_and_not_a_second_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&path(&dir)).unwrap();
        let shipped = "2026-02-01T12:00:00.000Z";
        let delivery = "2026-02-04T12:00:00.000Z";
        apply(
            &store,
            &[
                // Shipped, no delivery date: 30 days after it shipped.
                order(1, "SHIPPED", shipped, None),
                // Shipped with a latest delivery date: 30 days after that.
                order(2, "SHIPPED", shipped, Some(delivery)),
                // Not shipped yet: kept.
                order(3, "UNSHIPPED", shipped, None),
            ],
        );
        let retention = Duration::days(30);
        let purge = |now: DateTime<Utc>| store.purge_due(now - retention, now, BATCH).unwrap();
        let has = |n| store.order(&id(n)).unwrap().unwrap().recipient.is_some();
        let second = Duration::seconds(1);
        assert_eq!(purge(at(shipped) + retention - second), 0);
        assert!(has(1));
        assert_eq!(purge(at(shipped) + retention), 1);
        assert!(!has(1) && has(2) && has(3));
        assert_eq!(purge(at(delivery) + retention - second), 0);
        assert!(has(2));
        assert_eq!(purge(at(delivery) + retention + second), 1);
        assert!(!has(2) && has(3));
        // The orders and their lines stay for the metrics.
        let o = store.order(&id(1)).unwrap().unwrap();
        assert_eq!((o.status, o.items.len()), (OrderStatus::Shipped, 1));
        // A newer version from Amazon does not bring purged data back.
        apply(
            &store,
            &[order(1, "SHIPPED", "2026-03-20T12:00:00.000Z", None)],
        );
        assert!(!has(1));
    }

    #[test]
    fn the_host_erases_one_buyers_data_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&path(&dir)).unwrap();
        apply(
            &store,
            &[
                order(1, "UNSHIPPED", "2026-01-01T10:00:00.000Z", None),
                order(2, "UNSHIPPED", "2026-01-01T10:00:00.000Z", None),
            ],
        );
        store.purge_buyer_data(&id(1), Utc::now()).unwrap();
        store.purge_buyer_data(&id(1), Utc::now()).unwrap();
        assert!(store.order(&id(1)).unwrap().unwrap().recipient.is_none());
        assert!(store.order(&id(2)).unwrap().unwrap().recipient.is_some());
        let doc = store
            .next_order("h", Utc::now(), Utc::now())
            .unwrap()
            .unwrap();
        assert!(
            doc.contains(&id(1)) && doc.contains("\"recipient\":null"),
            "{doc}"
        );
        assert!(matches!(
            store.purge_buyer_data("999-0000000-0000000", Utc::now()),
            Err(Error::NotFound(_))
        ));
        apply(
            &store,
            &[order(1, "SHIPPED", "2026-01-09T10:00:00.000Z", None)],
        );
        assert!(store.order(&id(1)).unwrap().unwrap().recipient.is_none());
    }
}
