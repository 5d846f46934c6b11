"""The way ERP integrations read orders today: python-amazon-sp-api, v0 getOrders pages
(load_all_pages) and one getOrderItems per order, both wrapped in its throttle_retry helper.
Delays are divided by the emulator's rate scale, like its rates are multiplied.

usage: python orders_python.py EMULATOR_URL RATE_SCALE
Prints: orders=<n> calls=<n> seconds=<wall time>
"""
import os
import sys
import time

from sp_api.api import Orders
from sp_api.util import load_all_pages, throttle_retry

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emulator", "tests", "python"))
from emulator_client import client as emulator_client  # noqa: E402

URL, SCALE = sys.argv[1], float(sys.argv[2])


def client():
    return emulator_client(Orders, URL)


calls = 0


@throttle_retry(delay=5 / SCALE)
@load_all_pages(throttle_by_seconds=2 / SCALE)
def load_all_orders(**kwargs):
    global calls
    calls += 1
    return client().get_orders(**kwargs)


@throttle_retry(delay=5 / SCALE)
def items(order_id):
    global calls
    calls += 1
    return client().get_order_items(order_id)


start = time.time()
n = 0
for page in load_all_orders(LastUpdatedAfter="2020-01-01T00:00:00Z", MarketplaceIds=["ATVPDKIKX0DER"]):
    for order in page.payload.get("Orders", []):
        items(order["AmazonOrderId"])
        n += 1
print(f"orders={n} calls={calls} seconds={time.time() - start:.3f}")
