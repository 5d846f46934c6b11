"""Failures arrive as the right SellSyncError subclass, with the library's message."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

import sellsync
from sellsync import SellSync, _native


def test_status_codes_map_to_their_own_exception() -> None:
    for code, cls in sellsync.ERRORS.items():
        e = sellsync.errors.error_for(code, "msg", "sellsync_x")
        assert type(e) is cls and isinstance(e, sellsync.SellSyncError)
        assert e.code == code and e.message == "msg" and e.function == "sellsync_x"
        assert sellsync.status_str(code) and cls.name in str(e)
    unknown = sellsync.errors.error_for(999, "later", "sellsync_x")
    assert type(unknown) is sellsync.SellSyncError and unknown.code == 999


def test_open_refuses_bad_configurations(offline_config: Dict[str, Any]) -> None:
    with pytest.raises(sellsync.InvalidArgumentError) as e:
        SellSync("{not json")
    assert e.value.code == 1 and e.value.function == "sellsync_open" and e.value.message
    bad = dict(offline_config, orders={"initial_lookback_hours": 0})
    with pytest.raises(sellsync.ConfigError) as e:
        SellSync(bad)
    assert "initial_lookback_hours" in e.value.message
    assert sellsync.last_error() == e.value.message  # read on this thread, right after the call
    with pytest.raises(sellsync.InvalidArgumentError):
        SellSync(json.dumps(offline_config) + "\0")


def test_null_and_invalid_arguments(offline_config: Dict[str, Any]) -> None:
    with SellSync(offline_config) as shop:
        with pytest.raises(sellsync.InvalidArgumentError) as e:
            shop.order_ack(None, "ERP-1")  # type: ignore[arg-type]  # NULL reaches the library
        assert "order_id" in e.value.message
        with pytest.raises(sellsync.NotFoundError) as e:
            shop.order_ack("111-0000000-0000000", "ERP-1")
        assert e.value.code == 8 and e.value.message
        with pytest.raises(sellsync.NotFoundError) as e:
            shop.stock_set("NOPE", 1)
        assert "NOPE" in e.value.message
        shop.sku_map({"mappings": [{"sku": "MUG-1", "items": [{"host_item": "4711"}]}]})
        with pytest.raises(sellsync.InvalidArgumentError):
            shop.stock_set("4711", -1)
        with pytest.raises(sellsync.InvalidArgumentError):
            shop.stock_set("4711", 2**62)
        with pytest.raises(sellsync.InvalidArgumentError):
            shop.stock_set("4711", 2**64)  # refused before the call
        with pytest.raises(TypeError):
            shop.stock_set("4711", "7")  # type: ignore[arg-type]
        with pytest.raises(sellsync.InvalidArgumentError):
            shop.stock_set_batch("{")
        with pytest.raises(sellsync.NotFoundError):
            shop.stock_set_batch({"4711": 1, "NOPE": 1})
        with pytest.raises(sellsync.InvalidArgumentError):
            shop.sku_map([{"sku": "X"}])
        with pytest.raises(sellsync.InvalidArgumentError):
            shop.shipment_confirm(None)  # type: ignore[arg-type]
        with pytest.raises(sellsync.InvalidArgumentError):
            shop.event_ack(0)
        with pytest.raises(sellsync.NotFoundError):
            shop.event_ack(10**9)
        with pytest.raises(sellsync.InvalidArgumentError) as e:
            shop.order_cancel("111-0000000-0000000\0x", "NoInventory")
        assert "NUL" in e.value.message
        with pytest.raises(sellsync.InvalidArgumentError):
            shop.order_refund({"order_id": "1"})
        with pytest.raises(sellsync.InvalidArgumentError):
            shop.metrics({"late_shipment_days": [0]})
        # The handle stays usable after failures.
        assert shop.state()["orders"]["total"] == 0


def test_calls_after_close_raise_closed(offline_config: Dict[str, Any]) -> None:
    shop = SellSync(offline_config)
    shop.close()
    package = {"order_id": "1", "carrier_code": "UPS", "tracking_number": "1Z", "items": [{"order_item_id": "2", "quantity": 1}]}
    refund = {"order_id": "1", "reason": "CustomerReturn", "items": [{"order_item_id": "2", "amount": "1.00"}]}
    assert shop.closed
    shop.close()  # again: nothing
    calls = [
        lambda: shop.sync_now(),
        shop.start,
        shop.stop,
        shop.order_next,
        lambda: shop.order_ack("1", "2"),
        lambda: list(shop.orders()),
        lambda: shop.event_next(None),
        lambda: shop.event_ack(1),
        lambda: shop.set_event_callback(lambda e: None),
        lambda: shop.set_log_callback(lambda level, m: None),
        lambda: shop.stock_set("4711", 1),
        lambda: shop.stock_set_batch({"4711": 1}),
        lambda: shop.sku_map([]),
        shop.listings,
        lambda: shop.shipment_confirm(package),
        shop.shipments,
        lambda: shop.order_cancel("1", "NoInventory"),
        lambda: shop.order_cancel_items("1", "NoInventory", ["2"]),
        lambda: shop.order_refund(refund),
        shop.metrics,
        shop.state,
    ]
    before = sellsync.registered_callbacks()
    for call in calls:
        with pytest.raises(sellsync.ClosedError) as e:
            call()
        assert e.value.code == 11 and e.value.message
    assert sellsync.registered_callbacks() == before  # callbacks the library refused are not kept


def test_library_not_found_names_every_place(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SELLSYNC_LIBRARY", str(tmp_path / "libnothing.so"))
    with pytest.raises(sellsync.LibraryNotFoundError) as e:
        _native.load()
    assert "SELLSYNC_LIBRARY" in str(e.value) and "libnothing.so" in str(e.value)
    monkeypatch.delenv("SELLSYNC_LIBRARY")
    monkeypatch.setattr(_native, "_file_names", lambda: ("libsellsync-absent.so",))
    monkeypatch.setattr(_native.ctypes.util, "find_library", lambda name: None)
    with pytest.raises(sellsync.LibraryNotFoundError) as e:
        _native.load()
    text = str(e.value)
    assert "packaged copy" in text and "system search path" in text and "libsellsync-absent.so" in text


def test_another_major_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    path = sellsync.load_library()._name
    monkeypatch.setattr(_native, "VERSION_MAJOR", _native.VERSION_MAJOR + 1)
    with pytest.raises(sellsync.LibraryVersionError) as e:
        _native.load(path)
    assert "major version" in str(e.value) and sellsync.version() in str(e.value)


def test_version() -> None:
    assert sellsync.version_number() // 10000 == sellsync.VERSION_MAJOR
    major, minor, patch = (int(x) for x in sellsync.version().split(".")[:3])
    assert major * 10000 + minor * 100 + patch == sellsync.version_number()


def test_a_packaged_copy_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    installed = Path(sellsync.load_library()._name)
    (tmp_path / "libsellsync.so").symlink_to(installed)
    monkeypatch.delenv("SELLSYNC_LIBRARY")
    monkeypatch.setattr(_native, "__file__", str(tmp_path / "_native.py"))
    monkeypatch.setattr(_native, "_file_names", lambda: ("libsellsync.so",))
    lib = _native.load()
    assert lib._name == str(tmp_path / "libsellsync.so")
