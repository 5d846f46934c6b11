#!/usr/bin/env python3
"""One sync cycle between Amazon and a small ERP, as an ERP scheduler runs it.

Call it from cron, an Odoo scheduled action or an ERPNext scheduler event:

    python3 examples/erp_hook.py sellsync.json --db erp.sqlite

Each run opens the library with the configuration file, and:
1. maps the ERP's items to their Amazon SKUs,
2. fetches new Amazon orders and books each as an ERP sales order, then acknowledges it with
   the sales order's number (an order booked before but not acknowledged, after a crash, is
   acknowledged again with its number, not booked twice),
3. reports every mapped item's free quantity,
4. reports the deliveries the warehouse recorded since the last run as shipments,
5. sends the stock and shipments to Amazon (a few rounds at most, then the next run goes on),
printing one line per action and a summary. The ERP is a SQLite database with tables of its
own (`erp_items`, `erp_sales_orders`, `erp_sales_lines`, `erp_deliveries`), created if missing.

`on_hand` is the physical stock, lowered by the warehouse when goods leave. What the hook
reports to the library is what is free to sell: on hand less the units of booked sales orders
not delivered yet (the library counts an Amazon order's units itself only until the host has
acknowledged it and then reported the item's stock again).
Exit status: 0, or 1 when a step failed (the rest of the cycle still ran; the next run retries).
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import datetime, timezone
from typing import Any, Dict, List

import sellsync
from sellsync import Flow, SellSync

SCHEMA = """
CREATE TABLE IF NOT EXISTS erp_items (
    item_no   TEXT PRIMARY KEY,
    name      TEXT,
    amazon_sku TEXT UNIQUE,          -- NULL: not sold on Amazon
    on_hand   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS erp_sales_orders (
    number          TEXT PRIMARY KEY,  -- the ERP's own number, e.g. SO-000001
    amazon_order_id TEXT NOT NULL UNIQUE,
    marketplace_id  TEXT,
    fulfilled_by    TEXT,
    customer        TEXT,
    total           TEXT,
    currency        TEXT,
    booked_at       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS erp_sales_lines (
    order_number         TEXT NOT NULL REFERENCES erp_sales_orders(number),
    line                 INTEGER NOT NULL,
    amazon_order_item_id TEXT NOT NULL,
    amazon_sku           TEXT,
    item_no              TEXT,
    quantity             INTEGER NOT NULL,
    unit_price           TEXT,
    PRIMARY KEY (order_number, line)
);
CREATE TABLE IF NOT EXISTS erp_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_number    TEXT NOT NULL REFERENCES erp_sales_orders(number),
    carrier         TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    shipped_at      TEXT NOT NULL,
    reported_at     TEXT                -- NULL until reported to Amazon
);
"""


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cycle:
    def __init__(self, shop: SellSync, db: sqlite3.Connection) -> None:
        self.shop = shop
        self.db = db
        self.counts = {"booked": 0, "acknowledged_again": 0, "stock": 0, "shipments": 0, "failed": 0}

    def fail(self, step: str, e: sellsync.SellSyncError) -> None:
        self.counts["failed"] += 1
        print(f"FAILED {step}: {e}")

    def map_items(self) -> None:
        rows = self.db.execute(
            "SELECT item_no, amazon_sku FROM erp_items WHERE amazon_sku IS NOT NULL ORDER BY item_no"
        ).fetchall()
        if rows:
            self.shop.sku_map([{"sku": sku, "items": [{"host_item": item}]} for item, sku in rows])
            print(f"mapped {len(rows)} items to Amazon SKUs")

    def book_orders(self) -> None:
        try:
            self.shop.sync_now(Flow.ORDERS)
        except sellsync.SellSyncError as e:
            self.fail("fetching orders", e)  # orders fetched earlier are still booked below
        for order in self.shop.orders():
            amazon_id = order["order_id"]
            row = self.db.execute(
                "SELECT number FROM erp_sales_orders WHERE amazon_order_id = ?", (amazon_id,)
            ).fetchone()
            if row:
                number = row[0]
                self.counts["acknowledged_again"] += 1
                print(f"already booked {amazon_id} as {number}")
            else:
                number = self.book(order)
                self.counts["booked"] += 1
                print(
                    f"booked {amazon_id} as {number}: {len(order['items'])} line(s), "
                    f"{order.get('total')} {order.get('currency')}"
                )
            # Acknowledge only what the ERP has committed.
            self.shop.ack(amazon_id, number)

    def book(self, order: Dict[str, Any]) -> str:
        with self.db:  # one transaction: the order and its lines, or nothing
            n = self.db.execute("SELECT COUNT(*) FROM erp_sales_orders").fetchone()[0] + 1
            number = f"SO-{n:06d}"
            recipient = order.get("recipient") or {}
            self.db.execute(
                "INSERT INTO erp_sales_orders VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    number,
                    order["order_id"],
                    order.get("marketplace_id"),
                    order.get("fulfilled_by"),
                    recipient.get("name"),
                    order.get("total"),
                    order.get("currency"),
                    now(),
                ),
            )
            for i, item in enumerate(order["items"], 1):
                found = self.db.execute(
                    "SELECT item_no FROM erp_items WHERE amazon_sku = ?", (item.get("sku"),)
                ).fetchone()
                self.db.execute(
                    "INSERT INTO erp_sales_lines VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        number,
                        i,
                        item["order_item_id"],
                        item.get("sku"),
                        found[0] if found else None,
                        item["quantity"],
                        item.get("unit_price"),
                    ),
                )
        return number

    def report_stock(self) -> None:
        rows = self.db.execute(
            "SELECT i.item_no, i.amazon_sku, i.on_hand, "
            "  (SELECT COALESCE(SUM(l.quantity), 0) FROM erp_sales_lines l "
            "   JOIN erp_sales_orders o ON o.number = l.order_number "
            "   WHERE l.item_no = i.item_no AND o.fulfilled_by = 'MERCHANT' "
            "     AND NOT EXISTS (SELECT 1 FROM erp_deliveries d WHERE d.order_number = o.number)) "
            "FROM erp_items i WHERE i.amazon_sku IS NOT NULL ORDER BY i.item_no"
        ).fetchall()
        if not rows:
            return
        self.shop.stock_set_batch({item: max(0, on_hand - reserved) for item, _, on_hand, reserved in rows})
        for item, sku, on_hand, reserved in rows:
            self.counts["stock"] += 1
            print(f"stock {item} ({sku}): {max(0, on_hand - reserved)} free ({on_hand} on hand, {reserved} reserved)")

    def report_shipments(self) -> None:
        rows = self.db.execute(
            "SELECT d.id, d.order_number, o.amazon_order_id, d.carrier, d.tracking_number, d.shipped_at "
            "FROM erp_deliveries d JOIN erp_sales_orders o ON o.number = d.order_number "
            "WHERE d.reported_at IS NULL ORDER BY d.id"
        ).fetchall()
        for delivery_id, number, amazon_id, carrier, tracking, shipped_at in rows:
            lines = self.db.execute(
                "SELECT amazon_order_item_id, quantity FROM erp_sales_lines WHERE order_number = ?",
                (number,),
            ).fetchall()
            shipment = {
                "order_id": amazon_id,
                "package_reference_id": str(delivery_id),
                "carrier_code": carrier,
                "tracking_number": tracking,
                "ship_date": shipped_at,
                "items": [{"order_item_id": i, "quantity": q} for i, q in lines],
            }
            try:
                self.shop.shipment_confirm(shipment)  # durable when it returns
            except sellsync.SellSyncError as e:
                self.fail(f"shipment of {number}", e)
                continue
            with self.db:
                self.db.execute("UPDATE erp_deliveries SET reported_at = ? WHERE id = ?", (now(), delivery_id))
            self.counts["shipments"] += 1
            print(f"shipment of {number} ({amazon_id}): {carrier} {tracking}")

    def send(self, rounds: int) -> None:
        """Runs the outgoing flows until nothing waits, at most `rounds` times (a first level
        of a SKU takes two: one reads what Amazon shows, the next sends). What is left is
        queued in the library's store and goes out at the next run."""
        for _ in range(rounds):
            try:
                self.shop.sync_now(Flow.STOCK | Flow.SHIPMENTS)
            except sellsync.SellSyncError as e:
                self.fail("sending to Amazon", e)
                return
            state = self.shop.state()
            stock, queues = state["stock"], state["queues"]
            waiting = stock["out_of_step"] + stock["in_flight"] + queues["shipments_queued"] + queues["shipments_uncertain"]
            if waiting == 0:
                print("sent: Amazon is in step")
                return
        print(f"sent: {waiting} change(s) still on their way; the next run goes on")

    def summary(self) -> str:
        c = self.counts
        return (
            f"summary: {c['booked']} order(s) booked, {c['acknowledged_again']} acknowledged again, "
            f"{c['stock']} stock level(s) reported, {c['shipments']} shipment(s) reported, "
            f"{c['failed']} failure(s)"
        )


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description="One sync cycle between Amazon and the ERP.")
    parser.add_argument("config", help="the sellsync configuration file (JSON)")
    parser.add_argument("--db", default="erp.sqlite", help="the ERP database (default erp.sqlite)")
    parser.add_argument("--send-rounds", type=int, default=3, help="outgoing sync rounds at most (default 3)")
    args = parser.parse_args(argv)

    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)
    try:
        with SellSync.from_file(args.config) as shop:
            cycle = Cycle(shop, db)
            cycle.map_items()
            cycle.book_orders()
            cycle.report_stock()
            cycle.report_shipments()
            cycle.send(args.send_rounds)
            print(cycle.summary())
            return 1 if cycle.counts["failed"] else 0
    except sellsync.SellSyncError as e:
        print(f"FAILED: {e}")
        return 1
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
