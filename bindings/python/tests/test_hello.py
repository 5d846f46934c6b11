"""examples/hello.py, the README's Python program, run as a user would run it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

from conftest import Emulator, run_script

HELLO = Path(__file__).resolve().parents[1] / "examples" / "hello.py"


def run_hello(config_file: Path) -> str:
    return run_script(HELLO, str(config_file))


def test_hello_takes_every_waiting_order_once(
    emulator: Emulator, config: Dict[str, Any], tmp_path: Path
) -> None:
    emulator.seed_listings([{"sku": "SKU-A", "quantity": 50, "price_cents": 1299}])
    placed = emulator.place_orders(count=3, lines=[["SKU-A", 1]])
    config_file = tmp_path / "sellsync.json"
    config_file.write_text(json.dumps(config))

    first = run_hello(config_file)
    booked = [l.split()[1] for l in first.splitlines() if l.startswith("order ")]
    assert sorted(booked) == sorted(placed), first
    assert "took 3 orders (sellsync " in first, first
    # Acknowledged orders are never handed out again, even to a new process.
    assert "took 0 orders" in run_hello(config_file)
