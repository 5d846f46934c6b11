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
    // 2: stock out: host stock levels, SKU mappings and policies, what Amazon shows, feeds.
    "CREATE TABLE stock (
        host_item TEXT PRIMARY KEY,
        on_hand INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE skus (
        sku TEXT PRIMARY KEY,
        fba INTEGER NOT NULL DEFAULT 0,
        product_type TEXT NOT NULL,
        buffer INTEGER,
        allocation_percent INTEGER,
        max_quantity INTEGER,
        urgent_threshold INTEGER,
        desired INTEGER,
        amazon INTEGER,
        in_flight INTEGER,
        in_flight_feed TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE sku_components (
        sku TEXT NOT NULL REFERENCES skus(sku) ON DELETE CASCADE,
        host_item TEXT NOT NULL,
        units INTEGER NOT NULL CHECK (units > 0),
        PRIMARY KEY (sku, host_item)
    );
    CREATE INDEX sku_components_item ON sku_components(host_item);
    CREATE TABLE feeds (
        feed_id TEXT PRIMARY KEY,
        feed_type TEXT NOT NULL,
        status TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        messages TEXT NOT NULL
    );",
    // 3: the listings Amazon has (from the merchant listings report) and the reports requested.
    "CREATE TABLE listings (
        sku TEXT PRIMARY KEY,
        asin TEXT,
        title TEXT,
        price TEXT,
        quantity INTEGER,
        fulfillment_channel TEXT,
        status TEXT,
        seen_at TEXT NOT NULL
    );
    CREATE TABLE reports (
        report_id TEXT PRIMARY KEY,
        report_type TEXT NOT NULL,
        status TEXT NOT NULL,
        requested_at TEXT NOT NULL
    );
    ALTER TABLE skus ADD COLUMN amazon_at TEXT;",
    // 4: what is learnt from Amazon about a SKU's listing before its first push.
    "ALTER TABLE skus ADD COLUMN product_type_explicit INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE skus ADD COLUMN looked_up INTEGER NOT NULL DEFAULT 0;",
    // 5: the shipment confirmation outbox.
    "CREATE TABLE shipments (
        order_id TEXT NOT NULL REFERENCES orders(order_id),
        package_reference_id TEXT NOT NULL,
        doc TEXT NOT NULL,
        latest_ship_date TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        PRIMARY KEY (order_id, package_reference_id)
    );
    CREATE INDEX shipments_to_send ON shipments(latest_ship_date) WHERE state IN ('QUEUED', 'UNCERTAIN');",
    // 6: seller cancellations and refunds, sent through order feeds.
    "CREATE TABLE adjustments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        order_id TEXT NOT NULL REFERENCES orders(order_id),
        doc TEXT NOT NULL,
        state TEXT NOT NULL,
        feed_id TEXT,
        record INTEGER,
        last_error TEXT,
        created_at TEXT NOT NULL,
        done_at TEXT
    );
    CREATE INDEX adjustments_state ON adjustments(state);
    CREATE INDEX adjustments_order ON adjustments(order_id);",
    // 7: item-level cancellations.
    "ALTER TABLE order_items ADD COLUMN quantity_cancelled INTEGER NOT NULL DEFAULT 0;",
    // 8: the race for the last unit: the value a push was made for (it may be lower than
    // desired while Amazon holds units for orders not visible yet), whether a SKU's change
    // was part of a bulk change (feed lane) or not (fast lane), what Amazon took between
    // two pushes, in-store sales per item and day, and the adaptive buffer they give.
    "ALTER TABLE skus ADD COLUMN pushed_for INTEGER;
     ALTER TABLE skus ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE stock ADD COLUMN first_at TEXT;
     ALTER TABLE stock ADD COLUMN auto_buffer INTEGER NOT NULL DEFAULT 0;
     CREATE TABLE item_sales (
        host_item TEXT NOT NULL,
        day INTEGER NOT NULL,
        units INTEGER NOT NULL,
        PRIMARY KEY (host_item, day)
     );
     CREATE INDEX orders_acked ON orders(acked_at) WHERE acked_at IS NOT NULL;
     CREATE TABLE amazon_takes (
        sku TEXT NOT NULL,
        after TEXT NOT NULL,
        until TEXT NOT NULL,
        units INTEGER NOT NULL
     );
     CREATE INDEX amazon_takes_sku ON amazon_takes(sku, until);",
    // 9: events are delivered at least once: each is leased to the handle that took it until
    // the host acknowledges it (and deleted then).
    "ALTER TABLE events ADD COLUMN lease_owner TEXT;
     ALTER TABLE events ADD COLUMN lease_until TEXT;",
    // 10: the client's rate-limit buckets, so a new process starts from what Amazon's hold.
    "CREATE TABLE rate_limits (
        operation TEXT PRIMARY KEY,
        tokens REAL NOT NULL,
        rate REAL NOT NULL,
        at_ms INTEGER NOT NULL
     );",
    // 11: hot paths that do not grow with the store: the next ready sequence number is read
    // from an index, reservations read only the order items still to ship, the stock lanes
    // read only the SKUs out of step, holding units or not looked up yet, what Amazon took in a
    // stretch is matched with the orders placed in it, and the metrics read only the orders of
    // their windows (the partial indexes' WHERE clauses are the very terms of the
    // queries that use them).
    "CREATE INDEX orders_ready_seq ON orders(ready_seq);
     CREATE INDEX order_items_open ON order_items(sku)
        WHERE quantity > quantity_shipped + quantity_cancelled;
     CREATE INDEX skus_out_of_step ON skus(sku)
        WHERE fba = 0 AND desired IS NOT NULL AND (amazon IS NULL OR desired <> COALESCE(pushed_for, amazon));
     CREATE INDEX skus_to_look_up ON skus(sku) WHERE fba = 0 AND looked_up = 0;
     CREATE INDEX orders_bought ON orders(marketplace_id, purchase_date);
     CREATE INDEX orders_ship_by ON orders(marketplace_id, latest_ship_date);
     CREATE INDEX orders_unshipped ON orders(latest_ship_date) WHERE status = 'UNSHIPPED';
     CREATE INDEX skus_over_shown ON skus(sku)
        WHERE fba = 0 AND amazon IS NOT NULL AND desired IS NOT NULL AND amazon > desired;
     CREATE INDEX skus_holding ON skus(sku) WHERE pushed_for IS NOT NULL AND pushed_for <> amazon;
     CREATE INDEX orders_placed ON orders(purchase_date);",
    // 12: buyer data sealed at rest and purged on time. `buyer_sealed` holds the recipient
    // sealed with the store's key (the order id bound to it), `doc` the order without it;
    // `retention_from` is when the order counts as delivered (its latest delivery date, or
    // when it shipped or was cancelled), from which the retention runs; `buyer_purged_at`
    // marks buyer data deleted for good. `privacy` keeps the key check value and the progress
    // of a key rotation. The clear-text recipients of older rows are sealed in Rust after this
    // step (see `privacy`).
    "ALTER TABLE orders ADD COLUMN buyer_sealed BLOB;
     ALTER TABLE orders ADD COLUMN retention_from TEXT;
     ALTER TABLE orders ADD COLUMN buyer_purged_at TEXT;
     UPDATE orders SET retention_from = last_updated WHERE status IN ('SHIPPED', 'CANCELLED');
     CREATE INDEX orders_buyer_data_due ON orders(retention_from) WHERE buyer_sealed IS NOT NULL;
     CREATE TABLE privacy (name TEXT PRIMARY KEY, value BLOB NOT NULL);",
    // 13: notifications taken from the seller's queue, until what each says was acted on
    // (kept a week after, to recognise a late duplicate), and only what is acted on; which
    // stretches of what Amazon took a quantity notification told.
    "CREATE TABLE notifications (
        notification_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        order_id TEXT,
        sku TEXT,
        quantity INTEGER,
        changed_at TEXT,
        received_at TEXT NOT NULL,
        done_at TEXT
     );
     CREATE INDEX notifications_pending ON notifications(received_at) WHERE done_at IS NULL;
     CREATE INDEX notifications_done ON notifications(done_at) WHERE done_at IS NOT NULL;
     ALTER TABLE amazon_takes ADD COLUMN by_notification INTEGER NOT NULL DEFAULT 0;",
    // 14: the lease on the seller account, when several processes share a store (PostgreSQL):
    // who runs the sync with Amazon, under which epoch, until when (ms since 1970, the
    // database's clock).
    "CREATE TABLE leases (
        account TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
     );",
    // 15: consumer groups beside the default one (whose delivery state is in `orders`): each
    // named group gets every order that became ready after it was first named (and those still
    // unshipped then) once; `deliveries` is its delivery state per order.
    "CREATE TABLE consumer_groups (name TEXT PRIMARY KEY, named_at TEXT NOT NULL);
     CREATE TABLE deliveries (
        grp TEXT NOT NULL REFERENCES consumer_groups(name),
        order_id TEXT NOT NULL REFERENCES orders(order_id),
        ready_seq INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until TEXT,
        handed_out INTEGER NOT NULL DEFAULT 0,
        acked_at TEXT,
        host_ref TEXT,
        PRIMARY KEY (grp, order_id)
     );
     CREATE INDEX deliveries_open ON deliveries(grp, ready_seq) WHERE acked_at IS NULL;",
    // 16: stock by location: the levels reported per store or warehouse; `stock.on_hand` is
    // their sum over the locations Amazon sells from.
    "CREATE TABLE stock_locations (
        host_item TEXT NOT NULL,
        location TEXT NOT NULL,
        on_hand INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (host_item, location)
     );",
    // 17: a SKU whose orders show Amazon took units after its last known value
    // (`recheck_after`: the latest such order's purchase time and a margin) is out of step
    // until Amazon's quantity is known again from a later time; `patch_sent(_at)` is a patch
    // sent whose answer is not recorded yet.
    "ALTER TABLE skus ADD COLUMN recheck_after TEXT;
     ALTER TABLE skus ADD COLUMN patch_sent INTEGER;
     ALTER TABLE skus ADD COLUMN patch_sent_at TEXT;
     DROP INDEX skus_out_of_step;
     CREATE INDEX skus_out_of_step ON skus(sku)
        WHERE fba = 0 AND desired IS NOT NULL
          AND (amazon IS NULL OR desired <> COALESCE(pushed_for, amazon) OR recheck_after IS NOT NULL);",
    // 18: an order cancelled before a group took it leaves the indexes of orders to hand out
    // (else every hand-out steps over all of them, oldest first).
    "DROP INDEX orders_to_deliver;
     CREATE INDEX orders_to_deliver ON orders(ready_seq)
        WHERE acked_at IS NULL AND ready_seq IS NOT NULL AND status <> 'CANCELLED';
     ALTER TABLE deliveries ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0;
     UPDATE deliveries SET cancelled = 1
        WHERE order_id IN (SELECT order_id FROM orders WHERE status = 'CANCELLED');
     DROP INDEX deliveries_open;
     CREATE INDEX deliveries_open ON deliveries(grp, ready_seq) WHERE acked_at IS NULL AND cancelled = 0;",
    // 19: a SKU's handling time: what the mapping or `stock.handling_days` asks for
    // (`handling_explicit`: the mapping named it) and what Amazon accepted with a quantity;
    // the SKUs with a value sent and not seen landing, and the listing's lastUpdatedDate read
    // before it went out.
    "ALTER TABLE skus ADD COLUMN handling_days INTEGER;
     ALTER TABLE skus ADD COLUMN handling_explicit INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE skus ADD COLUMN handling_sent INTEGER;
     DROP INDEX skus_out_of_step;
     CREATE INDEX skus_out_of_step ON skus(sku)
        WHERE fba = 0 AND desired IS NOT NULL
          AND (amazon IS NULL OR desired <> COALESCE(pushed_for, amazon) OR recheck_after IS NOT NULL
               OR (handling_days IS NOT NULL AND (handling_sent IS NULL OR handling_days <> handling_sent)));
     CREATE INDEX skus_sent ON skus(sku) WHERE patch_sent IS NOT NULL;
     ALTER TABLE skus ADD COLUMN listing_updated TEXT;",
    // 20: when a listings feed was reported late (`stock.feed_late`), so it is reported once.
    "ALTER TABLE feeds ADD COLUMN late_reported_at TEXT;",
    // 21: the value sent before `patch_sent` that may still land ahead of it.
    "ALTER TABLE skus ADD COLUMN patch_before INTEGER;",
    // 22: a SKU without `pushed_for` and with a value sent and not seen landing is out of step.
    "DROP INDEX skus_out_of_step;
     CREATE INDEX skus_out_of_step ON skus(sku)
        WHERE fba = 0 AND desired IS NOT NULL
          AND (amazon IS NULL OR desired <> COALESCE(pushed_for, amazon) OR recheck_after IS NOT NULL
               OR (pushed_for IS NULL AND patch_sent IS NOT NULL)
               OR (handling_days IS NOT NULL AND (handling_sent IS NULL OR handling_days <> handling_sent)));",
    // 23: the units of the orders seen since Amazon's last known value, on a SKU with nothing
    // sent or in a feed: Amazon shows at most `amazon - orders_took`, and the SKU stays in step
    // while it should show that.
    "ALTER TABLE skus ADD COLUMN orders_took INTEGER;
     DROP INDEX skus_out_of_step;
     CREATE INDEX skus_out_of_step ON skus(sku)
        WHERE fba = 0 AND desired IS NOT NULL
          AND (amazon IS NULL OR desired <> COALESCE(pushed_for, amazon) - COALESCE(orders_took, 0)
               OR recheck_after IS NOT NULL
               OR (pushed_for IS NULL AND patch_sent IS NOT NULL)
               OR (handling_days IS NOT NULL AND (handling_sent IS NULL OR handling_days <> handling_sent)));",
    // 24: every value sent before `patch_sent` that may still land ahead of it, oldest first
    // (comma-separated), instead of the last one only.
    "ALTER TABLE skus ADD COLUMN patches_before TEXT;
     UPDATE skus SET patches_before = CAST(patch_before AS TEXT) WHERE patch_before IS NOT NULL;
     ALTER TABLE skus DROP COLUMN patch_before;",
    // 25: a feed being created: Amazon's time just before its createFeed went out.
    "ALTER TABLE feeds ADD COLUMN attempt_at TEXT;",
    // 26: SKUs Amazon fulfils whatever the host mapped, and their stock at Amazon.
    "ALTER TABLE skus ADD COLUMN amazon_fulfils INTEGER NOT NULL DEFAULT 0;
     CREATE TABLE fba_stock (
        sku TEXT PRIMARY KEY,
        fulfillable INTEGER NOT NULL,
        inbound_working INTEGER NOT NULL,
        inbound_shipped INTEGER NOT NULL,
        inbound_receiving INTEGER NOT NULL,
        reserved INTEGER NOT NULL,
        unfulfillable INTEGER NOT NULL,
        researching INTEGER NOT NULL,
        total INTEGER NOT NULL,
        amazon_updated TEXT,
        read_at TEXT NOT NULL
     );",
    // 27: buyers' returns already handed over, by Amazon's id and SKU.
    "CREATE TABLE returns (
        return_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        order_id TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (return_id, sku)
     );",
    // 28: Amazon's account health per marketplace, as its last seller performance report gave
    // it, and the conditions already raised as events.
    "CREATE TABLE account_health (
        marketplace_id TEXT PRIMARY KEY,
        report_id TEXT NOT NULL,
        read_at TEXT NOT NULL,
        doc TEXT NOT NULL,
        raised TEXT NOT NULL
     );",
    // 29: the counts `sellsync_state` shows without counting a table that grows with the
    // shop's history: tallies kept by triggers (PostgreSQL: `PG_MIGRATION_29`), and partial
    // indexes for the small sets counted.
    "CREATE TABLE tallies (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
     INSERT INTO tallies SELECT 'orders', COUNT(*) FROM orders;
     INSERT INTO tallies SELECT 'orders_acked', COUNT(acked_at) FROM orders;
     INSERT INTO tallies SELECT 'skus', COUNT(*) FROM skus;
     INSERT INTO tallies SELECT 'events', COUNT(*) FROM events;
     INSERT INTO tallies SELECT 'notifications', COUNT(*) FROM notifications;
     CREATE TRIGGER orders_tally_in AFTER INSERT ON orders BEGIN
        UPDATE tallies SET n = n + 1 WHERE name = 'orders';
        UPDATE tallies SET n = n + 1 WHERE name = 'orders_acked' AND NEW.acked_at IS NOT NULL;
     END;
     CREATE TRIGGER orders_tally_out AFTER DELETE ON orders BEGIN
        UPDATE tallies SET n = n - 1 WHERE name = 'orders';
        UPDATE tallies SET n = n - 1 WHERE name = 'orders_acked' AND OLD.acked_at IS NOT NULL;
     END;
     CREATE TRIGGER orders_tally_acked AFTER UPDATE OF acked_at ON orders
        WHEN (OLD.acked_at IS NULL) <> (NEW.acked_at IS NULL) BEGIN
        UPDATE tallies SET n = n + CASE WHEN NEW.acked_at IS NULL THEN -1 ELSE 1 END
            WHERE name = 'orders_acked';
     END;
     CREATE TRIGGER skus_tally_in AFTER INSERT ON skus BEGIN
        UPDATE tallies SET n = n + 1 WHERE name = 'skus';
     END;
     CREATE TRIGGER skus_tally_out AFTER DELETE ON skus BEGIN
        UPDATE tallies SET n = n - 1 WHERE name = 'skus';
     END;
     CREATE TRIGGER events_tally_in AFTER INSERT ON events BEGIN
        UPDATE tallies SET n = n + 1 WHERE name = 'events';
     END;
     CREATE TRIGGER events_tally_out AFTER DELETE ON events BEGIN
        UPDATE tallies SET n = n - 1 WHERE name = 'events';
     END;
     CREATE TRIGGER notifications_tally_in AFTER INSERT ON notifications BEGIN
        UPDATE tallies SET n = n + 1 WHERE name = 'notifications';
     END;
     CREATE TRIGGER notifications_tally_out AFTER DELETE ON notifications BEGIN
        UPDATE tallies SET n = n - 1 WHERE name = 'notifications';
     END;
     CREATE INDEX orders_pending ON orders(order_id)
        WHERE status IN ('PENDING', 'PENDING_AVAILABILITY');
     CREATE INDEX skus_in_feed ON skus(sku) WHERE in_flight_feed IS NOT NULL;
     CREATE INDEX skus_parked ON skus(attempts) WHERE attempts > 0;
     CREATE INDEX shipments_failed ON shipments(order_id) WHERE state = 'FAILED';
     CREATE INDEX feeds_open ON feeds(feed_type) WHERE status IN ('SUBMITTED', 'CREATING');",
    // 30: prices the host set, per SKU and marketplace, and where each stands.
    "CREATE TABLE prices (
        sku TEXT NOT NULL,
        marketplace_id TEXT NOT NULL,
        currency TEXT NOT NULL,
        price INTEGER NOT NULL,
        sale_price INTEGER,
        sale_start TEXT,
        sale_end TEXT,
        minimum INTEGER,
        maximum INTEGER,
        state TEXT NOT NULL,
        confirmed INTEGER,
        accepted INTEGER,
        amazon INTEGER,
        amazon_currency TEXT,
        message TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (sku, marketplace_id)
     );
     CREATE INDEX prices_due ON prices(updated_at) WHERE state IN ('QUEUED', 'ACCEPTED');",
];

/// Migration 29 on PostgreSQL: the same tallies, kept by trigger functions.
pub const PG_MIGRATION_29: &str = "CREATE TABLE tallies (name TEXT PRIMARY KEY, n BIGINT NOT NULL);
     INSERT INTO tallies SELECT 'orders', COUNT(*) FROM orders;
     INSERT INTO tallies SELECT 'orders_acked', COUNT(acked_at) FROM orders;
     INSERT INTO tallies SELECT 'skus', COUNT(*) FROM skus;
     INSERT INTO tallies SELECT 'events', COUNT(*) FROM events;
     INSERT INTO tallies SELECT 'notifications', COUNT(*) FROM notifications;
     CREATE FUNCTION sellsync_tally() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE tallies SET n = n + 1 WHERE name = TG_TABLE_NAME;
        ELSE
            UPDATE tallies SET n = n - 1 WHERE name = TG_TABLE_NAME;
        END IF;
        RETURN NULL;
     END $$;
     CREATE FUNCTION sellsync_tally_acked() RETURNS trigger LANGUAGE plpgsql AS $$
     DECLARE
        was_acked INT := 0;
        is_acked INT := 0;
     BEGIN
        IF TG_OP <> 'INSERT' AND OLD.acked_at IS NOT NULL THEN was_acked := 1; END IF;
        IF TG_OP <> 'DELETE' AND NEW.acked_at IS NOT NULL THEN is_acked := 1; END IF;
        IF was_acked <> is_acked THEN
            UPDATE tallies SET n = n + is_acked - was_acked WHERE name = 'orders_acked';
        END IF;
        RETURN NULL;
     END $$;
     CREATE TRIGGER orders_tally AFTER INSERT OR DELETE ON orders
        FOR EACH ROW EXECUTE FUNCTION sellsync_tally();
     CREATE TRIGGER orders_tally_acked AFTER INSERT OR DELETE OR UPDATE OF acked_at ON orders
        FOR EACH ROW EXECUTE FUNCTION sellsync_tally_acked();
     CREATE TRIGGER skus_tally AFTER INSERT OR DELETE ON skus
        FOR EACH ROW EXECUTE FUNCTION sellsync_tally();
     CREATE TRIGGER events_tally AFTER INSERT OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION sellsync_tally();
     CREATE TRIGGER notifications_tally AFTER INSERT OR DELETE ON notifications
        FOR EACH ROW EXECUTE FUNCTION sellsync_tally();
     CREATE INDEX orders_pending ON orders(order_id)
        WHERE status IN ('PENDING', 'PENDING_AVAILABILITY');
     CREATE INDEX skus_in_feed ON skus(sku) WHERE in_flight_feed IS NOT NULL;
     CREATE INDEX skus_parked ON skus(attempts) WHERE attempts > 0;
     CREATE INDEX shipments_failed ON shipments(order_id) WHERE state = 'FAILED';
     CREATE INDEX feeds_open ON feeds(feed_type) WHERE status IN ('SUBMITTED', 'CREATING');";
