//! Numbered migrations; `PRAGMA user_version` records how many are applied.

/// Migration N is `MIGRATIONS[N - 1]`. Append only: never edit one that has shipped.
pub const MIGRATIONS: &[&str] = &[
    // 1: orders, items, watermarks, events.
    "CREATE TABLE orders (
        order_id TEXT PRIMARY KEY,
        marketplace_id TEXT NOT NULL,
        status TEXT NOT NULL,
        fulfilled_by TEXT NOT NULL,
        purchase_date TEXT NOT NULL,
        last_updated TEXT NOT NULL,
        latest_ship_date TEXT,
        doc TEXT NOT NULL,
        ready_seq INTEGER,
        lease_owner TEXT,
        lease_until TEXT,
        handed_out INTEGER NOT NULL DEFAULT 0,
        acked_at TEXT,
        host_ref TEXT
    );
    CREATE INDEX orders_to_deliver ON orders(ready_seq) WHERE acked_at IS NULL AND ready_seq IS NOT NULL;
    CREATE TABLE order_items (
        order_id TEXT NOT NULL REFERENCES orders(order_id) ON DELETE CASCADE,
        order_item_id TEXT NOT NULL,
        sku TEXT,
        quantity INTEGER NOT NULL,
        quantity_shipped INTEGER NOT NULL,
        PRIMARY KEY (order_id, order_item_id)
    );
    CREATE INDEX order_items_sku ON order_items(sku);
    CREATE TABLE watermarks (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        doc TEXT NOT NULL
    );",
];
