"""The binding driving the real library against the emulator, flow by flow."""
from __future__ import annotations

import gc
import threading
from typing import Any, Dict, List

import pytest

import sellsync
from sellsync import Flow, SellSync

from conftest import Emulator, make_config, wait_for

MARKETPLACE = "ATVPDKIKX0DER"


def seed(emulator: Emulator, skus: List[str], quantity: int = 50) -> None:
    emulator.seed_listings([{"sku": s, "quantity": quantity, "price_cents": 1299} for s in skus])


def take_all(shop: SellSync, ack: bool = True) -> List[Dict[str, Any]]:
    taken = []
    for order in shop.orders():
        taken.append(order)
        if ack:
            shop.ack(order["order_id"], "ERP-" + order["order_id"])
    return taken


def sync_until(shop: SellSync, flows: int, condition: Any, what: str, seconds: float = 60) -> Any:
    """Runs `flows` again and again until `condition()` holds (each run waits on the library)."""

    def once() -> Any:
        shop.sync_now(flows)
        return condition()

    return wait_for(once, seconds, what)


def test_orders_are_taken_acknowledged_and_never_handed_twice(emulator: Emulator, config: Dict[str, Any]) -> None:
    seed(emulator, ["SKU-A", "SKU-B"])
    placed = emulator.place_orders(count=5)
    with SellSync(config) as shop:
        shop.sync_now(Flow.ORDERS)
        first = take_all(shop, ack=False)
        assert sorted(o["order_id"] for o in first) == sorted(placed)
        assert all(o["marketplace_id"] == MARKETPLACE and o["items"] for o in first)
        # Taken but not acknowledged: not handed again to this handle at once.
        assert shop.order_next() is None
    # A new process gets every unacknowledged order again, at once.
    with SellSync(config) as shop:
        again = take_all(shop, ack=True)
        assert sorted(o["order_id"] for o in again) == sorted(placed)
        assert shop.order_next() is None
        # The same host reference again is fine; another one is a conflict.
        shop.ack(placed[0], "ERP-" + placed[0])
        with pytest.raises(sellsync.ConflictError) as e:
            shop.ack(placed[0], "ERP-OTHER")
        assert e.value.code == 9 and e.value.message
        shop.sync_now(Flow.ORDERS)
        assert shop.order_next() is None
        assert shop.state()["orders"]["acknowledged"] == 5
    # Acknowledged orders never come back, not even to a new process.
    with SellSync(config) as shop:
        shop.sync_now(Flow.ORDERS)
        assert list(shop.orders()) == []


def stock_in_step(shop: SellSync, emulator: Emulator) -> bool:
    """Whether every SKU's quantity is what the shelf says, with no feed open, and Amazon has
    applied every change it accepted (it applies them seconds to minutes later)."""
    s = shop.state()["stock"]
    return bool(s["out_of_step"] == 0 and s["open_feeds"] == 0 and emulator.state()["landing"] == 0)


def test_stock_levels_reach_the_listing_quantity(emulator: Emulator, config: Dict[str, Any]) -> None:
    seed(emulator, ["MUG-1", "MUG-6", "KIT"], quantity=50)
    with SellSync(config) as shop:
        shop.sku_map(
            [
                {"sku": "MUG-1", "items": [{"host_item": "4711"}]},
                {"sku": "MUG-6", "items": [{"host_item": "4711", "units": 6}]},
                {"sku": "KIT", "items": [{"host_item": "0815"}, {"host_item": "4712", "units": 2}]},
            ]
        )
        shop.stock_set("4711", 13)
        shop.stock_set_batch({"0815": 5, "4712": 4})
        sync_until(shop, Flow.STOCK, lambda: stock_in_step(shop, emulator), "stock in step")
        assert (emulator.quantity("MUG-1"), emulator.quantity("MUG-6"), emulator.quantity("KIT")) == (13, 2, 2)
        shop.stock_set_batch([{"host_item": "4711", "on_hand": 0}])
        sync_until(shop, Flow.STOCK, lambda: stock_in_step(shop, emulator), "stock in step again")
        assert emulator.quantity("MUG-1") == 0 and emulator.quantity("MUG-6") == 0


def test_amazon_sells_the_sum_of_the_configured_locations(emulator: Emulator, config: Dict[str, Any]) -> None:
    seed(emulator, ["LOC-1"], quantity=50)
    config["stock"] = {"amazon_locations": ["STORE-1", "WAREHOUSE"]}
    with SellSync(config) as shop:
        shop.sku_map([{"sku": "LOC-1", "items": [{"host_item": "4711"}]}])
        shop.stock_set_batch({"4711": 3}, location="STORE-1")
        shop.stock_set_batch({"4711": 4}, location="WAREHOUSE")
        shop.stock_set_batch([{"host_item": "4711", "on_hand": 100, "location": "OUTLET"}])
        with pytest.raises(TypeError):
            shop.stock_set_batch([{"host_item": "4711", "on_hand": 1}], location="OUTLET")
        sync_until(shop, Flow.STOCK, lambda: stock_in_step(shop, emulator), "stock in step")
        assert emulator.quantity("LOC-1") == 7, "the store's and the warehouse's units, not the outlet's"
        shop.stock_set_batch({"4711": 0}, location="STORE-1")
        sync_until(shop, Flow.STOCK, lambda: stock_in_step(shop, emulator), "stock in step again")
        assert emulator.quantity("LOC-1") == 4, "the store sold out: the warehouse's units"


def test_shipments_are_confirmed_on_amazon(emulator: Emulator, config: Dict[str, Any]) -> None:
    seed(emulator, ["SKU-A"])
    placed = emulator.place_orders(count=2, lines=[["SKU-A", 2]])
    with SellSync(config) as shop:
        shop.sync_now(Flow.ORDERS)
        orders = take_all(shop)
        assert len(orders) == 2
        for n, order in enumerate(orders):
            item = order["items"][0]
            shop.shipment_confirm(
                {
                    "order_id": order["order_id"],
                    "carrier_code": "UPS",
                    "shipping_method": "Ground",
                    "tracking_number": f"1Z{n:08d}",
                    "items": [{"order_item_id": item["order_item_id"], "quantity": item["quantity"]}],
                }
            )
        with pytest.raises(sellsync.InvalidArgumentError):  # nothing left to ship
            shop.shipment_confirm(
                {
                    "order_id": orders[0]["order_id"],
                    "carrier_code": "UPS",
                    "tracking_number": "1Z-again",
                    "items": [{"order_item_id": orders[0]["items"][0]["order_item_id"], "quantity": 1}],
                }
            )
        waiting = shop.shipments()["shipments"]
        assert len(waiting) == 2 and {p["state"] for p in waiting} <= {"QUEUED", "UNCERTAIN"}

        def sent() -> bool:
            packages = [p for oid in placed for p in shop.shipments(oid)["shipments"]]
            return len(packages) == 2 and all(p["state"] == "SENT" for p in packages)

        sync_until(shop, Flow.SHIPMENTS, sent, "packages sent")
        at_amazon = {s["order_id"]: s for s in emulator.state()["shipments"]}
        assert set(at_amazon) == set(placed)
        assert all(s["confirmations"] == 1 for s in at_amazon.values())
        confirmed = [e for e in shop.events() if e["type"] == "shipment.confirmed"]
        assert sorted(e["order_id"] for e in confirmed) == sorted(placed)


def test_an_order_of_several_lines_books_to_what_amazon_charged(
    emulator: Emulator, config: Dict[str, Any]
) -> None:
    from decimal import Decimal

    seed(emulator, ["SKU-A", "SKU-B", "SKU-C"])
    placed = emulator.place_orders(count=12, lines=[["SKU-A", 2], ["SKU-B", 1], ["SKU-C", 1]])
    with SellSync(config) as shop:
        shop.sync_now(Flow.ORDERS)
        orders = take_all(shop)
        assert sorted(o["order_id"] for o in orders) == sorted(placed)
        kinds = set()
        for order in orders:
            charged = [Decimal(i["charges"]["charged"]) for i in order["items"]]
            assert len(charged) == 3
            assert sum(charged) + Decimal(order["other_charges"]) == Decimal(order["total"])
            for item in order["items"]:
                c = item["charges"]
                taxes = Decimal(c["item_tax"]) + Decimal(c["shipping_tax"]) + Decimal(c["gift_wrap_tax"])
                taxes -= Decimal(c["discount_tax"])
                assert Decimal(c["charged"]) == (
                    Decimal(item["line_total"])
                    + Decimal(c["shipping_price"])
                    + Decimal(c["gift_wrap_price"])
                    - Decimal(c["discount"])
                    + (0 if order["tax_included"] else taxes)
                )
                kinds |= {k for k in ("shipping_price", "discount", "gift_wrap_price") if Decimal(c[k]) > 0}
            # Amazon's own view of the order agrees.
            assert Decimal(order["total"]) * 100 == emulator.order(order["order_id"])["total_cents"]
        assert kinds == {"shipping_price", "discount", "gift_wrap_price"}


def test_fba_stock_is_shown_and_never_sent(emulator: Emulator, config: Dict[str, Any]) -> None:
    emulator.seed_listings(
        [
            {"sku": "OWN", "quantity": 5},
            {"sku": "FBA", "quantity": 20, "fba": True, "fba_stock": {"inbound_shipped": 6, "unfulfillable": 1}},
        ]
    )
    with SellSync(config) as shop:
        # FBA mapped to a host item by mistake: it must never get the shop's quantity.
        shop.sku_map(
            {"mappings": [{"sku": "OWN", "items": [{"host_item": "MUG"}]}, {"sku": "FBA", "items": [{"host_item": "CUP"}]}]}
        )
        shop.stock_set_batch({"levels": [{"host_item": "MUG", "on_hand": 3}, {"host_item": "CUP", "on_hand": 2}]})
        sync_until(shop, Flow.STOCK, lambda: shop.state()["stock"]["out_of_step"] == 0, "stock in step")
        sync_until(shop, Flow.LISTINGS, lambda: shop.fba_stock()["read_at"] is not None, "FBA stock read")
        (fba,) = shop.fba_stock()["skus"]
        assert (fba["sku"], fba["fulfillable"], fba["inbound_shipped"], fba["unfulfillable"]) == ("FBA", 20, 6, 1)
        assert fba["total"] == 27
        by_sku = {entry["sku"]: entry for entry in shop.listings()["listings"]}
        assert by_sku["FBA"]["fba_stock"]["inbound_shipped"] == 6 and by_sku["OWN"]["fba_stock"] is None
        assert [e["sku"] for e in shop.events() if e["type"] == "sku.fulfilled_by_amazon"] == ["FBA"]
    assert emulator.quantity("FBA") == 20


def test_prices_go_out_within_the_guard_rails(emulator: Emulator, config: Dict[str, Any]) -> None:
    seed(emulator, ["MUG"])

    def offer() -> Any:
        (mug,) = [l for l in emulator.state()["listings"] if l["sku"] == "MUG"]
        return mug["offers"].get(MARKETPLACE)

    def applied() -> bool:
        emulator.landed()
        return shop.prices()["prices"]["MUG"][0]["state"] == "APPLIED"

    with SellSync(config) as shop:
        shop.sku_map([{"sku": "MUG", "items": [{"host_item": "4711"}]}])
        with pytest.raises(sellsync.InvalidArgumentError, match="below the seller's minimum"):
            shop.price_set([{"sku": "MUG", "marketplace_id": MARKETPLACE, "price": "9.99", "minimum": "10.00"}])
        shop.price_set([{"sku": "MUG", "marketplace_id": MARKETPLACE, "price": "11.99", "minimum": "10.00"}])
        sync_until(shop, Flow.STOCK, applied, "the price applied")
        assert offer()["price_cents"] == 1199 and offer()["currency"] == "USD"
        assert offer()["minimum_cents"] == 1000
        # A slip of a finger waits for the host.
        shop.price_set([{"sku": "MUG", "marketplace_id": MARKETPLACE, "price": "119.90"}])
        asked = [e for e in shop.events() if e["type"] == "price.confirmation_needed"]
        assert [(e["price"], e["reference"]) for e in asked] == [("119.90", "11.99")]
        shop.sync_now(Flow.STOCK)
        assert offer()["price_cents"] == 1199
        shop.price_confirm("MUG", MARKETPLACE)
        sync_until(shop, Flow.STOCK, applied, "the confirmed price applied")
        assert offer()["price_cents"] == 11990


def test_amazons_account_health_shows_beside_sellsyncs_figures(emulator: Emulator, config: Dict[str, Any]) -> None:
    seed(emulator, ["MUG"])
    emulator.place_orders(count=3)

    def amazons() -> Any:
        (us,) = [m for m in shop.metrics()["marketplaces"] if m["marketplace_id"] == MARKETPLACE]
        return us["amazon"]

    with SellSync(config) as shop:
        shop.sync_now(Flow.ORDERS)
        assert amazons() is None, "no seller performance report read yet"
        sync_until(shop, Flow.LISTINGS, lambda: amazons() is not None, "Amazon's seller performance report")
        health = amazons()
        assert health["account_status"] and health["report_id"]
        names = {m["name"] for m in health["metrics"]}
        assert {"cancellation_rate", "late_shipment_rate", "order_defect_rate"} <= names, names
        (cancel,) = [m for m in health["metrics"] if m["name"] == "cancellation_rate"]
        assert cancel["sellsync"] is not None, "sellsync's own count over Amazon's window beside it"


def test_a_return_comes_once_as_an_event(emulator: Emulator, config: Dict[str, Any]) -> None:
    emulator.seed_listings([{"sku": "FBA-R", "quantity": 10, "fba": True}])
    (order_id,) = emulator.place_orders(count=1, lines=[["FBA-R", 2]])
    emulator._request("POST", f"orders/{order_id}/return", {"quantity": 1, "reason": "DEFECTIVE"})
    with SellSync(config) as shop:
        shop.sync_now(Flow.ORDERS)
        take_all(shop)
        returns: List[Dict[str, Any]] = []

        def came() -> bool:
            for e in shop.events():
                shop.event_ack(e["seq"])  # acted on
                if e["type"] == "order.returned":
                    returns.append(e)
            return len(returns) >= 1

        sync_until(shop, Flow.LISTINGS, came, "the return")
        (r,) = returns
        assert (r["order_id"], r["sku"], r["quantity"], r["reason"]) == (order_id, "FBA-R", 1, "DEFECTIVE")
        assert r["fulfilled_by"] == "AMAZON" and r["order_item_id"]
    def fba_returns_reports_done() -> int:
        reports = emulator.state()["reports"]
        return sum(r["report_type"] == "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA" and r["status"] == "DONE" for r in reports)

    done = fba_returns_reports_done()
    with SellSync(config) as shop:  # a new process, and a report covering it again: not twice
        def report_read() -> bool:
            if fba_returns_reports_done() <= done:
                return False
            shop.sync_now(Flow.LISTINGS)  # reads the report Amazon has finished
            return True

        sync_until(shop, Flow.LISTINGS, report_read, "another returns report read")
        assert not [e for e in shop.events() if e["type"] == "order.returned"]


def test_cancellation_reaches_amazon_and_counts_in_metrics(emulator: Emulator, config: Dict[str, Any]) -> None:
    seed(emulator, ["SKU-A"])
    placed = emulator.place_orders(count=4, lines=[["SKU-A", 1]])
    with SellSync(config) as shop:
        shop.sync_now(Flow.ORDERS)
        assert len(take_all(shop)) == 4
        victim = placed[0]
        shop.order_cancel(victim, "NoInventory")
        shop.order_cancel(victim, "NoInventory")  # again: succeeds, sends nothing more
        done: List[Dict[str, Any]] = []

        def cancelled() -> bool:
            done.extend(e for e in shop.events() if e["type"] == "adjustment.done")
            return bool(done)

        sync_until(shop, Flow.SHIPMENTS, cancelled, "adjustment.done")
        assert done[0]["kind"] == "CANCEL" and done[0]["order_id"] == victim
        assert [c["order_id"] for c in emulator.state()["cancellations"]] == [victim]
        metrics = shop.metrics({"marketplace_ids": [MARKETPLACE]})
        (market,) = metrics["marketplaces"]
        rates = {m["name"]: m for m in market["metrics"]}
        assert market["marketplace_id"] == MARKETPLACE
        assert (rates["cancellation_rate"]["numerator"], rates["cancellation_rate"]["denominator"]) == (1, 4)
        assert rates["cancellation_rate"]["status"] == "failing"
        assert "orders_due" in metrics["at_risk"]
        with pytest.raises(sellsync.InvalidArgumentError):
            shop.metrics({"horizon_hours": 100000})


def test_events_by_polling_are_acknowledged_once(emulator: Emulator, config: Dict[str, Any]) -> None:
    seed(emulator, ["SKU-A"])
    placed = emulator.place_orders(count=3)
    with SellSync(config) as shop:
        shop.sync_now(Flow.ORDERS)
        ready = []
        for event in shop.events():
            if event["type"] == "order.ready":
                ready.append(event["order_id"])
            shop.event_ack(event["seq"])
            shop.event_ack(event["seq"])  # again: succeeds
        assert sorted(ready) == sorted(placed)
        assert shop.event_next() is None
        assert shop.state()["queues"]["events_unread"] == 0
    with SellSync(config) as shop:  # acknowledged: not even a new process gets them
        assert shop.event_next(timeout=0.05) is None


def test_event_callback_is_kept_alive_and_released_when_the_library_says(
    emulator: Emulator, config: Dict[str, Any]
) -> None:
    seed(emulator, ["SKU-A"])
    placed = emulator.place_orders(count=3)
    seen: List[str] = []
    types: List[str] = []
    lock = threading.Lock()
    before = sellsync.registered_callbacks()
    with SellSync(config) as shop:

        def on_event(event: Dict[str, Any]) -> None:
            with lock:
                types.append(event["type"])
            if event["type"] == "order.ready":
                with lock:
                    seen.append(event["order_id"])
                # The callback may call the library; closing or replacing from here is refused.
                with pytest.raises(sellsync.InvalidStateError):
                    shop.set_event_callback(None)

        shop.set_event_callback(on_event)
        del on_event
        gc.collect()  # the binding, not this test, keeps the callback alive
        assert sellsync.registered_callbacks() == before + 1
        shop.sync_now(Flow.ORDERS)
        # The cycle's events: three order.ready, then sync.completed.
        wait_for(lambda: "sync.completed" in types, 30, "the cycle's events in the callback")
        assert sorted(seen) == sorted(placed)
        shop.set_event_callback(lambda e: None)  # replaced: the first is released
        assert sellsync.registered_callbacks() == before + 1
        shop.set_event_callback(None)
        assert sellsync.registered_callbacks() == before
        # Delivered by the callback, so acknowledged: none comes again by polling.
        assert not [e for e in shop.events() if e["type"] == "order.ready"]
        shop.set_event_callback(lambda e: None)
    # Closing releases the last one.
    assert sellsync.registered_callbacks() == before


def test_an_event_whose_handler_raised_comes_again(
    emulator: Emulator, config: Dict[str, Any]
) -> None:
    seed(emulator, ["SKU-A"])
    placed = emulator.place_orders(count=1)
    config["orders"] = {"redelivery_seconds": 1}
    ready: List[str] = []
    lock = threading.Lock()
    with SellSync(config) as shop:

        def on_event(event: Dict[str, Any]) -> None:
            if event["type"] != "order.ready":
                return
            with lock:
                ready.append(event["order_id"])
                if len(ready) == 1:
                    raise ConnectionError("the ERP is down")

        shop.set_event_callback(on_event)
        shop.sync_now(Flow.ORDERS)
        wait_for(lambda: len(ready) >= 2, 30, "the event whose handler raised, again")
        shop.set_event_callback(None)
        assert ready == placed * 2
    with SellSync(config) as shop:  # handled the second time: acknowledged
        assert not [e for e in shop.events() if e["type"] == "order.ready"]


def test_log_callback_gets_the_library_lines(emulator: Emulator, config: Dict[str, Any]) -> None:
    lines: List[Any] = []
    lock = threading.Lock()

    def on_log(level: int, message: str) -> None:
        with lock:
            lines.append((level, message))

    with SellSync(config) as shop:
        before = sellsync.registered_callbacks()
        shop.set_log_callback(on_log, sellsync.LogLevel.DEBUG)
        shop.sync_now(Flow.ORDERS)
        with pytest.raises(sellsync.InvalidArgumentError):
            shop.set_log_callback(on_log, 9)
        assert sellsync.registered_callbacks() == before + 1  # the refused one is not kept
        shop.set_log_callback(None)
        assert sellsync.registered_callbacks() == before
    with lock:
        assert lines and all(1 <= level <= 4 for level, _ in lines)
        assert all(isinstance(m, str) and "\n" not in m for _, m in lines)
        assert not any("emulator-client-secret" in m or "Atzr|" in m for _, m in lines)


def test_worker_runs_in_the_background(emulator: Emulator, tmp_path: Any) -> None:
    seed(emulator, ["SKU-A"])
    placed = emulator.place_orders(count=2)
    config = make_config(emulator, tmp_path / "bg.sqlite", intervals={"orders_seconds": 1, "stock_seconds": 1})
    with SellSync(config) as shop:
        shop.start()
        shop.start()  # idempotent
        got: List[Dict[str, Any]] = []
        wait_for(lambda: got.extend(take_all(shop)) or len(got) >= 2, 60, "orders from the worker")
        shop.stop()
        assert sorted(o["order_id"] for o in got) == sorted(placed)


def test_log_lines_reach_a_logging_logger(emulator: Emulator, config: Dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.DEBUG, logger="sellsync.test"):
        with SellSync(config) as shop:
            shop.log_to(logging.getLogger("sellsync.test"), sellsync.LogLevel.INFO)
            shop.sync_now(Flow.ORDERS)
            shop.set_log_callback(None)
    records = [r for r in caplog.records if r.name == "sellsync.test"]
    assert records and all(r.levelno >= logging.INFO for r in records)


def test_refund_reaches_amazon(emulator: Emulator, config: Dict[str, Any]) -> None:
    seed(emulator, ["SKU-A"])
    (placed,) = emulator.place_orders(count=1, lines=[["SKU-A", 1]])
    with SellSync(config) as shop:
        shop.sync_now(Flow.ORDERS)
        (order,) = take_all(shop)
        item = order["items"][0]
        shop.order_refund(
            {
                "order_id": placed,
                "reason": "CustomerReturn",
                "items": [{"order_item_id": item["order_item_id"], "amount": item["line_total"]}],
            }
        )
        done: List[Dict[str, Any]] = []

        def refunded() -> bool:
            done.extend(e for e in shop.events() if e["type"].startswith("adjustment."))
            return bool(done)

        sync_until(shop, Flow.SHIPMENTS, refunded, "the refund's outcome")
        assert [(e["type"], e["kind"], e["order_id"]) for e in done] == [("adjustment.done", "REFUND", placed)]
        assert [r["order_id"] for r in emulator.state()["refunds"]] == [placed]


def test_notifications_setup_and_an_order_in_seconds(emulator: Emulator, tmp_path) -> None:
    seed(emulator, ["PY-NOTE"])
    queue = emulator._request("POST", "queues", {"name": "sellsync-notifications"})
    config = make_config(
        emulator,
        tmp_path / "store.sqlite",
        intervals={"orders_seconds": 3600},
        notifications={
            "queue_url": queue["url"],
            "region": "us-east-1",
            "aws_access_key_id": "AKIAEMULATOR00000000",
            "aws_secret_access_key": "emulator/aws/secret/key/0000000000000000",
        },
    )
    with SellSync(config) as shop:
        first = shop.notifications_setup()
        assert first == shop.notifications_setup(), "set-up is idempotent"
        assert first["queue_arn"] == queue["arn"]
        assert set(first["subscriptions"]) == {"ORDER_CHANGE", "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"}
        shop.start()
        placed = emulator.place_orders(count=1, lines=[["PY-NOTE", 1]], age_seconds=0)
        # The order search runs hourly here: only the notification can bring the order.
        taken = wait_for(lambda: take_all(shop), seconds=30, what="the notified order")
        assert [o["order_id"] for o in taken] == placed
        assert shop.state()["notifications"]["flowing"] is True
