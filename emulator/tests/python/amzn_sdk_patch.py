"""Drives the emulator with amzn-sp-api, Amazon's own SP-API SDK for Python: it patches a
listing's quantity with the product type PRODUCT (Amazon accepts it for offer attributes
whatever the listing's product type) by `merge`, and reads the listing back.

usage: python amzn_sdk_patch.py EMULATOR_URL SELLER_ID SKU
Prints one line per step and exits non-zero on the first failure.
"""
import sys
import time

from spapi.api.listings_items_v2021_08_01.listings_api import ListingsApi
from spapi.auth.credentials import SPAPIConfig
from spapi.client import SPAPIClient
from spapi.models.listings_items_v2021_08_01 import ListingsItemPatchRequest, PatchOperation

URL, SELLER, SKU = sys.argv[1], sys.argv[2], sys.argv[3]
MARKETPLACE = "ATVPDKIKX0DER"


def step(name, ok):
    print(("ok   " if ok else "FAIL ") + name, flush=True)
    if not ok:
        sys.exit(1)


config = SPAPIConfig(
    client_id="amzn1.application-oa2-client.emulator",
    client_secret="emulator-client-secret",
    refresh_token="Atzr|emulator-refresh-token",
    region="NA",
)
client = SPAPIClient(config, oauth_endpoint=URL + "/auth/o2/token", endpoint=URL)
listings = ListingsApi(client.api_client)

body = ListingsItemPatchRequest(
    product_type="PRODUCT",
    patches=[
        PatchOperation(
            op="merge",
            path="/attributes/fulfillment_availability",
            value=[{"fulfillment_channel_code": "DEFAULT", "quantity": 17}],
        )
    ],
)
answer = listings.patch_listings_item(SELLER, SKU, [MARKETPLACE], body)
step("patch with productType PRODUCT is " + str(answer.status), answer.status == "ACCEPTED")

# ACCEPTED is not applied: Amazon lands the change later, so a client reads until it shows.
deadline = time.time() + 30
while True:
    item = listings.get_listings_item(
        SELLER, SKU, [MARKETPLACE], included_data=["attributes", "summaries"]
    )
    entry = item.attributes["fulfillment_availability"][0]
    if entry.get("quantity") == 17 or time.time() > deadline:
        break
    time.sleep(0.05)
step("quantity reads back as " + str(entry.get("quantity")), entry.get("quantity") == 17)
step(
    "handling time kept: " + str(entry.get("lead_time_to_ship_max_days")),
    entry.get("lead_time_to_ship_max_days") == 3,
)
step("product type still " + item.summaries[0].product_type, item.summaries[0].product_type == "HOME")
print("all ok")
