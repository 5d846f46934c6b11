"""The SellSync class: one handle of libsellsync, with a method per C function."""
from __future__ import annotations

import ctypes
import enum
import itertools
import json
import logging
import os
import threading
from ctypes import c_void_p
from typing import Any, Callable, Dict, Iterable, Iterator, Mapping, Optional, Tuple, Union

from . import _native
from ._native import EVENT_CALLBACK, FREE_USER, LOG_CALLBACK
from .errors import ClosedError, InvalidArgumentError, SellSyncError, error_for

_log = logging.getLogger("sellsync")

Json = Dict[str, Any]
EventCallback = Callable[[Json], None]
LogCallback = Callable[[int, str], None]


class Flow(enum.IntFlag):
    """Flow bits of `sync_now` (SELLSYNC_FLOW_*)."""

    ORDERS = 1
    STOCK = 2
    LISTINGS = 4
    SHIPMENTS = 8
    ALL = 15


class LogLevel(enum.IntEnum):
    """Log levels of `set_log_callback` (SELLSYNC_LOG_*)."""

    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4


_LOGGING_LEVELS = {
    LogLevel.ERROR: logging.ERROR,
    LogLevel.WARN: logging.WARNING,
    LogLevel.INFO: logging.INFO,
    LogLevel.DEBUG: logging.DEBUG,
}

# --- the library, loaded once -------------------------------------------------------------

_lib: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()


def load_library(path: Optional[str] = None) -> ctypes.CDLL:
    """Loads libsellsync now (from `path`, or as `_native.load` searches) and returns it.

    Called by the first SellSync() when not called before. Raises LibraryNotFoundError or
    LibraryVersionError.
    """
    global _lib
    with _lib_lock:
        if _lib is None or path is not None:
            _lib = _native.load(path)
        return _lib


def _L() -> ctypes.CDLL:
    return _lib if _lib is not None else load_library()


def version() -> str:
    """The library's version, e.g. "0.1.0"."""
    return _L().sellsync_version().decode("utf-8")


def version_number() -> int:
    """The library's version as MAJOR * 10000 + MINOR * 100 + PATCH."""
    return int(_L().sellsync_version_number())


def status_str(code: int) -> str:
    """The library's static text for a status code."""
    return _L().sellsync_status_str(code).decode("utf-8")


def last_error() -> str:
    """This thread's message of the last failed sellsync call ("" after a success)."""
    return _L().sellsync_last_error().decode("utf-8", "replace")


def _check(status: int, function: str) -> None:
    """Raises the status's exception with the last error, read at once on this thread."""
    if status != 0:
        message = _L().sellsync_last_error().decode("utf-8", "replace")
        raise error_for(status, message, function)


def _cstr(value: Optional[str], what: str, function: str) -> Optional[bytes]:
    """A str as NUL-terminated UTF-8 (None stays NULL: the library then names the argument)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{function}: {what} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise InvalidArgumentError(f"{what} contains a NUL character", function=function)
    return value.encode("utf-8")


def _cjson(value: Any, what: str, function: str) -> Optional[bytes]:
    """A document as JSON text: dicts and lists are encoded, a str is taken as JSON already."""
    if value is None or isinstance(value, str):
        return _cstr(value, what, function)
    return json.dumps(value).encode("utf-8")


def _take_string(out: c_void_p) -> Optional[str]:
    """Copies an owned string into a str; the caller frees it."""
    if not out.value:
        return None
    return ctypes.string_at(out.value).decode("utf-8")


# --- callbacks: kept alive until the library says it is done with them -----------------------

# token -> (ctypes function object, the Python callable). An entry is removed only when the
# library calls `_free_user` with its token (callback replaced, removed, or handle closed), or
# when the call that would have registered it failed.
_registry: Dict[int, Tuple[Any, Callable[..., None]]] = {}
_registry_lock = threading.Lock()
_tokens = itertools.count(1)


def _release(user: Optional[int]) -> None:
    if user:
        with _registry_lock:
            _registry.pop(user, None)


_free_user = FREE_USER(_release)


def _register(cfunc: Any, fn: Callable[..., None]) -> int:
    token = next(_tokens)
    with _registry_lock:
        _registry[token] = (cfunc, fn)
    return token


def registered_callbacks() -> int:
    """How many callbacks the library holds a reference to right now (for tests)."""
    with _registry_lock:
        return len(_registry)


# --- the handle ---------------------------------------------------------------------------


class SellSync:
    """One seller account: a handle of libsellsync.

    Use it in a `with` block, or call `close()`::

        with SellSync(config) as shop:
            shop.sync_now(Flow.ORDERS)
            for order in shop.orders():
                shop.ack(order["order_id"], book(order))

    Every method raises a SellSyncError subclass when the library returns a failure status
    (InvalidArgumentError, NotFoundError, ConflictError, ClosedError, ...), with the library's
    message. Documents (orders, events, state) are dicts decoded from the library's JSON.
    A handle may be used from several threads at once.
    """

    def __init__(self, config: Union[Mapping[str, Any], str]) -> None:
        """Opens a handle; `config` is the configuration document (a dict, or JSON text)."""
        self._h: Optional[c_void_p] = None
        self._closed = False
        self._event_callback: Optional[EventCallback] = None
        self._log_callback: Optional[LogCallback] = None
        lib = _L()
        doc = _cjson(config, "config", "sellsync_open")
        h = c_void_p()
        _check(lib.sellsync_open(doc, ctypes.byref(h)), "sellsync_open")
        self._h = h

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> "SellSync":
        """Opens a handle with the configuration document in the JSON file at `path`."""
        with open(path, encoding="utf-8") as f:
            return cls(f.read())

    def __enter__(self) -> "SellSync":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<SellSync {state} handle {self._h.value if self._h else 0:#x}>"

    @property
    def closed(self) -> bool:
        """True after close()."""
        return self._closed

    # Internals

    def _string_out(self, function: str, *args: Any) -> Optional[str]:
        out = c_void_p()
        try:
            _check(getattr(_L(), function)(self._h, *args, ctypes.byref(out)), function)
            return _take_string(out)
        finally:
            if out.value:
                _L().sellsync_string_free(out)

    def _json_out(self, function: str, *args: Any) -> Optional[Json]:
        text = self._string_out(function, *args)
        return None if text is None else json.loads(text)

    def _call(self, function: str, *args: Any) -> None:
        _check(getattr(_L(), function)(self._h, *args), function)

    # Lifecycle

    def close(self) -> None:
        """Stops the worker and callback thread, waits for running calls, flushes the store.

        Callbacks are released (the library calls their `free_user`). Closing again does
        nothing; any other call afterwards raises ClosedError.
        """
        if self._h is None or self._closed:
            return
        status = _L().sellsync_close(self._h)
        if status == ClosedError.code:
            self._closed = True
            return
        _check(status, "sellsync_close")
        self._closed = True

    def sync_now(self, flows: int = Flow.ALL) -> None:
        """Runs the given flows (Flow bits) once each; returns when they are done."""
        self._call("sellsync_sync_now", int(flows))

    def start(self) -> None:
        """Starts the background worker (idempotent)."""
        self._call("sellsync_start")

    def stop(self) -> None:
        """Stops the background worker and waits for it (idempotent)."""
        self._call("sellsync_stop")

    # Orders

    def order_next(self) -> Optional[Json]:
        """The oldest order ready for the host, or None. It comes again until acknowledged."""
        return self._json_out("sellsync_order_next")

    def orders(self) -> Iterator[Json]:
        """Every order waiting now, oldest first; acknowledge each with `ack`.

        An order not acknowledged is not handed out again by this iterator (it comes again
        after `orders.redelivery_seconds`, or at once to a new process).
        """
        while True:
            order = self.order_next()
            if order is None:
                return
            yield order

    def order_ack(self, order_id: str, host_ref: str) -> None:
        """The host has the order under its own reference: it is never handed out again.

        Again with the same `host_ref` succeeds; with another raises ConflictError; an
        unknown order raises NotFoundError.
        """
        f = "sellsync_order_ack"
        self._call(f, _cstr(order_id, "order_id", f), _cstr(host_ref, "host_ref", f))

    ack = order_ack

    def order_cancel(self, order_id: str, reason: str) -> None:
        """Cancels a whole unshipped seller-fulfilled order with one of Amazon's reasons."""
        f = "sellsync_order_cancel"
        self._call(f, _cstr(order_id, "order_id", f), _cstr(reason, "reason", f))

    def order_cancel_items(
        self, order_id: Union[str, Mapping[str, Any]], reason: str = "", items: Iterable[str] = ()
    ) -> None:
        """Cancels the unshipped units of some items (`items`: order item ids; none: all).

        Takes either the arguments or the whole document as a dict or JSON text.
        """
        f = "sellsync_order_cancel_items"
        if isinstance(order_id, str) and not order_id.lstrip().startswith("{"):
            doc: Any = {"order_id": order_id, "reason": reason, "items": list(items)}
        else:
            doc = order_id
        self._call(f, _cjson(doc, "cancel_json", f))

    def order_refund(self, refund: Union[Mapping[str, Any], str]) -> None:
        """Refunds items: `{"order_id", "reason", "items": [{"order_item_id", "amount"}]}`."""
        f = "sellsync_order_refund"
        self._call(f, _cjson(refund, "refund_json", f))

    # Stock and listings

    def set_credentials(self, credentials: Union[Mapping[str, Any], str]) -> None:
        """Replaces the client secret (and, if given, the refresh token or client id) of the
        open handle: `{"client_secret": ...}`. The next token exchange uses them."""
        f = "sellsync_set_credentials"
        self._call(f, _cjson(credentials, "credentials_json", f))

    def purge_buyer_data(self, order_id: str) -> None:
        """Deletes one order's buyer data (the recipient) at once and for good."""
        f = "sellsync_purge_buyer_data"
        self._call(f, _cstr(order_id, "order_id", f))

    def sku_map(self, mappings: Union[Iterable[Mapping[str, Any]], Mapping[str, Any], str]) -> None:
        """Creates, replaces or removes SKU mappings, all or nothing.

        `mappings` is a list of mappings (`{"sku": ..., "items": [{"host_item", "units"}]}`),
        or the whole `{"mappings": [...]}` document.
        """
        f = "sellsync_sku_map"
        if not isinstance(mappings, (str, Mapping)):
            mappings = {"mappings": list(mappings)}
        self._call(f, _cjson(mappings, "mapping_json", f))

    def stock_set(self, host_item: str, on_hand: int) -> None:
        """Sets the absolute on-hand quantity of one host item (durable at return)."""
        f = "sellsync_stock_set"
        if not isinstance(on_hand, int) or isinstance(on_hand, bool):
            raise TypeError(f"{f}: on_hand must be an int")
        if not -(2**63) <= on_hand < 2**63:
            raise InvalidArgumentError(f"on_hand {on_hand} is out of range", function=f)
        self._call(f, _cstr(host_item, "host_item", f), on_hand)

    def stock_set_batch(
        self,
        levels: Union[Mapping[str, int], Iterable[Mapping[str, Any]], str],
        location: Optional[str] = None,
    ) -> None:
        """Sets several quantities at once, all or nothing.

        `levels` is `{host_item: on_hand, ...}` (at `location`, a store or warehouse, when
        given), a list of `{"host_item", "on_hand"}` (each may name its `"location"`), the
        whole `{"levels": [...]}` document, or its JSON text. Amazon sells an item's levels
        summed over `stock.amazon_locations`.
        """
        f = "sellsync_stock_set_batch"
        if isinstance(levels, Mapping) and "levels" not in levels:
            at = {} if location is None else {"location": location}
            doc: Any = {"levels": [{"host_item": k, "on_hand": v, **at} for k, v in levels.items()]}
        elif location is not None:
            raise TypeError(f"{f}: location goes with the {{host_item: on_hand}} form; name it in each level")
        elif isinstance(levels, (str, Mapping)):
            doc = levels
        else:
            doc = {"levels": list(levels)}
        self._call(f, _cjson(doc, "levels_json", f))

    def listings(self) -> Json:
        """The seller's listings as last pulled from Amazon, with their mapping state."""
        return self._json_out("sellsync_listings") or {}

    def fba_stock(self) -> Json:
        """The stock at Amazon of the SKUs it fulfils, as last read with the listings."""
        return self._json_out("sellsync_fba_stock") or {}

    # Prices

    def price_set(self, prices: Union[Iterable[Mapping[str, Any]], Mapping[str, Any], str]) -> None:
        """Sets SKUs' prices per marketplace, all or nothing.

        `prices` is a list of `{"sku", "marketplace_id", "price": "15.50"}` (optionally
        `"sale_price"`, `"sale_start"`, `"sale_end"`, `"minimum"`, `"maximum"`), or the whole
        `{"prices": [...]}` document. A price outside the seller's minimum and maximum raises
        InvalidArgumentError; a large change waits for `price_confirm` (event
        `price.confirmation_needed`).
        """
        f = "sellsync_price_set"
        if not isinstance(prices, (str, Mapping)):
            prices = {"prices": list(prices)}
        self._call(f, _cjson(prices, "prices_json", f))

    def price_confirm(self, sku: str, marketplace_id: str) -> None:
        """Confirms the price of `sku` in `marketplace_id` that waits for it."""
        f = "sellsync_price_confirm"
        self._call(f, _cstr(sku, "sku", f), _cstr(marketplace_id, "marketplace_id", f))

    def prices(self) -> Json:
        """Every price set and where it stands, by SKU: `{"prices": {sku: [...]}}`."""
        return self._json_out("sellsync_prices") or {}

    def notifications_setup(self) -> Json:
        """Creates (or finds) the seller's notification destination and subscriptions for the
        configured queue; returns their ids."""
        return self._json_out("sellsync_notifications_setup") or {}

    # Shipments

    def shipment_confirm(self, shipment: Union[Mapping[str, Any], str]) -> None:
        """Confirms a shipped package (durable at return, sent to Amazon exactly once)."""
        f = "sellsync_shipment_confirm"
        self._call(f, _cjson(shipment, "shipment_json", f))

    def shipments(self, order_id: Optional[str] = None) -> Json:
        """The packages of one order, or (None) of every order with a package not yet at Amazon."""
        f = "sellsync_shipments"
        return self._json_out(f, _cstr(order_id, "order_id", f)) or {}

    # Reports

    def metrics(self, query: Union[Mapping[str, Any], str, None] = None) -> Json:
        """Seller performance per marketplace against Amazon's targets, and what is at risk."""
        f = "sellsync_metrics"
        return self._json_out(f, _cjson(query, "query_json", f)) or {}

    def state(self) -> Json:
        """Counts of orders, stock and every queue."""
        return self._json_out("sellsync_state") or {}

    # Events

    def event_next(self, timeout: Optional[float] = 0) -> Optional[Json]:
        """The oldest event not acknowledged, or None after `timeout` seconds (None: wait
        until one arrives or the handle closes). Acknowledge it with `event_ack(event["seq"])`.
        """
        f = "sellsync_event_next"
        if timeout is None:
            ms = -1
        else:
            ms = max(0, min(int(timeout * 1000), 2**31 - 1))
        return self._json_out(f, ms)

    def events(self, timeout: Optional[float] = 0) -> Iterator[Json]:
        """Every event waiting (each wait up to `timeout` seconds); acknowledge each."""
        while True:
            event = self.event_next(timeout)
            if event is None:
                return
            yield event

    def event_ack(self, seq: int) -> None:
        """The host has acted on event `seq`: it is never handed out again."""
        self._call("sellsync_event_ack", int(seq))

    def set_event_callback(self, callback: Optional[EventCallback]) -> None:
        """Sends every event to `callback(event_dict)` on a library thread (None: back to
        `event_next`). Each event is acknowledged when the callback returns; when it raises,
        the exception is logged to the `sellsync` logger and the event is declined: it comes
        again after `orders.redelivery_seconds`. The callback may call the handle, except
        `close` and `set_event_callback`.
        """
        f = "sellsync_set_event_callback"
        if callback is None:
            self._call(f, EVENT_CALLBACK(), None, FREE_USER())  # NULL function pointers
            self._event_callback = None
            return

        def trampoline(_user: Optional[int], event_json: bytes) -> None:
            try:  # nothing may unwind into the library
                event = json.loads(event_json.decode("utf-8"))
                try:
                    callback(event)
                except BaseException:  # noqa: BLE001
                    _log.exception("sellsync event callback raised; event %s comes again", event["seq"])
                    self._call("sellsync_event_decline", int(event["seq"]))
            except BaseException:  # noqa: BLE001
                _log.exception("sellsync event could not be handed over or declined")

        cfunc = EVENT_CALLBACK(trampoline)
        token = _register(cfunc, callback)
        try:
            self._call(f, cfunc, token, _free_user)
        except BaseException:
            _release(token)  # the library did not take it
            raise
        self._event_callback = callback

    def set_log_callback(
        self, callback: Optional[LogCallback], level: int = LogLevel.INFO
    ) -> None:
        """Sends the library's log lines at `level` or more severe to `callback(level, message)`
        (None: silent again). It runs on whichever thread writes the line, possibly several at
        once. An exception it raises is dropped.
        """
        f = "sellsync_set_log_callback"
        if callback is None:
            self._call(f, int(level), LOG_CALLBACK(), None, FREE_USER())  # NULL function pointers
            self._log_callback = None
            return

        def trampoline(_user: Optional[int], lvl: int, message: bytes) -> None:
            try:
                callback(int(lvl), message.decode("utf-8", "replace"))
            except BaseException:  # noqa: BLE001 - nothing may unwind into the library
                pass

        cfunc = LOG_CALLBACK(trampoline)
        token = _register(cfunc, callback)
        try:
            self._call(f, int(level), cfunc, token, _free_user)
        except BaseException:
            _release(token)
            raise
        self._log_callback = callback

    def log_to(self, logger: Optional[logging.Logger] = None, level: int = LogLevel.INFO) -> None:
        """Sends the library's log lines to a `logging` logger (default: `sellsync`)."""
        target = logger or _log

        def emit(lvl: int, message: str) -> None:
            target.log(_LOGGING_LEVELS.get(lvl, logging.INFO), message)

        self.set_log_callback(emit, level)


__all__ = [
    "Flow",
    "LogLevel",
    "SellSync",
    "SellSyncError",
    "last_error",
    "load_library",
    "registered_callbacks",
    "status_str",
    "version",
    "version_number",
]
