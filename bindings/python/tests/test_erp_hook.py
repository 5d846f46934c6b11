"""examples/erp_hook.py, run twice as a scheduler would, against the emulator."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Dict

from conftest import REPO, Emulator, run_script

HOOK = REPO / "examples" / "erp_hook.py"


def run_hook(config: Path, db: Path) -> str:
    return run_script(HOOK, str(config), "--db", str(db))


def test_erp_hook_books_orders_once_and_reports_stock_and_shipments(
    emulator: Emulator, config: Dict[str, Any], tmp_path: Path
) -> None:
    emulator.seed_listings(
        [{"sku": "SKU-A", "quantity": 50, "price_cents": 1299}, {"sku": "SKU-B", "quantity": 50, "price_cents": 499}]
    )
    placed = emulator.place_orders(count=3, lines=[["SKU-A", 1]])
    config_file = tmp_path / "sellsync.json"
    config_file.write_text(json.dumps(config))
    db_path = tmp_path / "erp.sqlite"
    db = sqlite3.connect(db_path)
    schema = HOOK.read_text().split('SCHEMA = """', 1)[1].split('"""', 1)[0]
    db.executescript(schema)
    with db:
        db.execute("INSERT INTO erp_items VALUES ('4711', 'Mug', 'SKU-A', 12), ('0815', 'Tea pot', 'SKU-B', 7)")

    first = run_hook(config_file, db_path)
    print(first)
    assert len([l for l in first.splitlines() if l.startswith("booked ")]) == 3, first
    assert "summary: 3 order(s) booked, 0 acknowledged again, 2 stock level(s) reported" in first
    orders = db.execute("SELECT number, amazon_order_id FROM erp_sales_orders ORDER BY number").fetchall()
    assert sorted(a for _, a in orders) == sorted(placed)
    assert [n for n, _ in orders] == ["SO-000001", "SO-000002", "SO-000003"]
    assert db.execute("SELECT COUNT(*), SUM(quantity) FROM erp_sales_lines WHERE item_no = '4711'").fetchone() == (3, 3)
    emulator.landed()
    assert emulator.quantity("SKU-B") == 7  # nothing sold: what the ERP has
    assert emulator.quantity("SKU-A") == 12 - 3  # less the three orders not shipped yet

    # The warehouse ships the first order.
    number, amazon_id = orders[0]
    with db:
        db.execute(
            "INSERT INTO erp_deliveries (order_number, carrier, tracking_number, shipped_at) "
            "VALUES (?, 'UPS', '1Z999AA10123456784', '2026-01-01T10:00:00Z')",
            (number,),
        )
        db.execute("UPDATE erp_items SET on_hand = on_hand - 1 WHERE item_no = '4711'")

    second = run_hook(config_file, db_path)
    print(second)
    assert not [l for l in second.splitlines() if "booked " in l], second
    assert "summary: 0 order(s) booked, 0 acknowledged again, 2 stock level(s) reported, 1 shipment(s) reported" in second
    assert db.execute("SELECT COUNT(*) FROM erp_sales_orders").fetchone() == (3,)
    assert db.execute("SELECT COUNT(*) FROM erp_sales_lines").fetchone() == (3,)
    assert db.execute("SELECT reported_at IS NOT NULL FROM erp_deliveries").fetchall() == [(1,)]
    emulator.landed()
    assert emulator.quantity("SKU-A") == 11 - 2  # one left the warehouse, two still to ship
    shipments = emulator.state()["shipments"]
    assert [(s["order_id"], s["confirmations"]) for s in shipments] == [(amazon_id, 1)]
    db.close()
