"""sellsync: keeps an Amazon seller account and a POS/ERP system in step.

A ctypes binding of libsellsync's C ABI (include/sellsync.h)::

    import sellsync

    with sellsync.SellSync.from_file("sellsync.json") as shop:
        shop.sync_now(sellsync.Flow.ORDERS)
        for order in shop.orders():
            shop.ack(order["order_id"], "ERP-1001")

The library is found through the environment variable SELLSYNC_LIBRARY, a copy installed
next to this package, or the system's library search path.
"""
from ._native import LibraryNotFoundError, LibraryVersionError, VERSION_MAJOR
from ._shop import (
    Flow,
    LogLevel,
    SellSync,
    last_error,
    load_library,
    registered_callbacks,
    status_str,
    version,
    version_number,
)
from .errors import (
    ERRORS,
    AmazonError,
    AuthError,
    ClosedError,
    ConfigError,
    ConflictError,
    ForkedError,
    InternalError,
    InvalidArgumentError,
    InvalidStateError,
    NetworkError,
    NotFoundError,
    SellSyncError,
    StoreError,
    SyncTimeoutError,
    ThrottledError,
)

__all__ = [
    "ERRORS",
    "VERSION_MAJOR",
    "AmazonError",
    "AuthError",
    "ClosedError",
    "ConfigError",
    "ConflictError",
    "Flow",
    "ForkedError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidStateError",
    "LibraryNotFoundError",
    "LibraryVersionError",
    "LogLevel",
    "NetworkError",
    "NotFoundError",
    "SellSync",
    "SellSyncError",
    "StoreError",
    "SyncTimeoutError",
    "ThrottledError",
    "last_error",
    "load_library",
    "registered_callbacks",
    "status_str",
    "version",
    "version_number",
]
