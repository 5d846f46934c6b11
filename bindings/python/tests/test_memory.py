"""Owned strings are freed: 100,000 calls returning one leave resident memory flat."""
from __future__ import annotations

import os
from typing import Any, Dict

from sellsync import SellSync

CALLS = 100_000
WARM = 10_000
BOUND = 5 * 1024 * 1024


def rss() -> int:
    """Resident set size of this process, in bytes (from /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_owned_strings_do_not_leak(offline_config: Dict[str, Any]) -> None:
    with SellSync(offline_config) as shop:
        shop.sku_map([{"sku": f"SKU-{i}", "items": [{"host_item": f"H{i}"}]} for i in range(20)])
        size = len(shop.state().__repr__())
        for _ in range(WARM):
            shop.state()
        at_warm = rss()
        for _ in range(CALLS - WARM):
            shop.state()
        at_end = rss()
    growth = at_end - at_warm
    print(
        f"\nRSS after {WARM} calls: {at_warm / 2**20:.1f} MiB; after {CALLS}: {at_end / 2**20:.1f} MiB; "
        f"growth {growth / 2**10:.0f} KiB (each answer about {size} bytes)"
    )
    assert growth < BOUND, f"resident memory grew {growth} bytes over {CALLS - WARM} calls"
