"""Drives the emulator with python-amazon-sp-api, an SP-API client written by others.

usage: python sp_api_roundtrip.py EMULATOR_URL SELLER_ID
Prints one line per step and exits non-zero on the first failure.
"""
import io
import json
import sys
import time

from sp_api.api import FeedsV20210630, ListingsItemsV20210801, OrdersV20260101
from emulator_client import client as emulator_client

URL, SELLER = sys.argv[1], sys.argv[2]


def client(cls):
    return emulator_client(cls, URL)


def step(name, ok):
    print(("ok   " if ok else "FAIL ") + name, flush=True)
    if not ok:
        sys.exit(1)


# 1. Token exchange (implicit in every call) and a paged order search.
orders = client(OrdersV20260101)
seen, token, pages = [], None, 0
while True:
    kwargs = dict(lastUpdatedAfter="2020-01-01T00:00:00Z", marketplaceIds="ATVPDKIKX0DER",
                  maxResultsPerPage=10, includedData="FULFILLMENT,RECIPIENT")
    if token:
        kwargs["paginationToken"] = token
    r = orders.search_orders(**kwargs)
    payload = r.payload
    seen += [o["orderId"] for o in payload["orders"]]
    pages += 1
    token = r.next_token
    if not token:
        break
step(f"searchOrders: {len(seen)} orders in {pages} pages", len(seen) == 25 and len(set(seen)) == 25 and pages == 3)
one = orders.get_order(seen[0], includedData="FULFILLMENT").payload
step("getOrder", one["order"]["orderId"] == seen[0])

# 2. A listings patch.
listings = client(ListingsItemsV20210801)
patch = {"productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 17}]}]}
r = listings.patch_listings_item(SELLER, "SKU-0001", marketplaceIds="ATVPDKIKX0DER", body=patch)
step("patchListingsItem ACCEPTED", r.payload["status"] == "ACCEPTED")
# ACCEPTED is not applied: Amazon lands the change later, so a client reads until it shows.
deadline = time.time() + 30
while True:
    r = listings.get_listings_item(SELLER, "SKU-0001", marketplaceIds="ATVPDKIKX0DER", includedData="fulfillmentAvailability")
    if r.payload["fulfillmentAvailability"][0]["quantity"] == 17 or time.time() > deadline:
        break
    time.sleep(0.05)
step("getListingsItem shows 17", r.payload["fulfillmentAvailability"][0]["quantity"] == 17)

# 3. A feed round trip: document, upload, createFeed, getFeed until done, result document.
feeds = client(FeedsV20210630)
feed = {"header": {"sellerId": SELLER, "version": "2.0"}, "messages": [
    {"messageId": 1, "sku": "SKU-0002", "operationType": "PATCH", "productType": "PRODUCT",
     "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                  "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 0}]}]}]}
doc, created = feeds.submit_feed("JSON_LISTINGS_FEED", io.StringIO(json.dumps(feed)), content_type="application/json",
                                 marketplaceIds=["ATVPDKIKX0DER"])
feed_id = created.payload["feedId"]
step("createFeed", bool(feed_id))
deadline = time.time() + 30
while True:
    status = feeds.get_feed(feed_id).payload
    if status["processingStatus"] in ("DONE", "FATAL", "CANCELLED") or time.time() > deadline:
        break
    time.sleep(0.05)
step("getFeed DONE", status["processingStatus"] == "DONE")
result = feeds.get_feed_result_document(status["resultFeedDocumentId"])
report = json.loads(result)
step("processing report: 1 accepted", report["summary"]["messagesAccepted"] == 1)
print("all ok")
