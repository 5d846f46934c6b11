"""Exceptions: one subclass of SellSyncError per status code of include/sellsync.h."""
from __future__ import annotations

from typing import Dict, Optional, Type


class SellSyncError(Exception):
    """A sellsync call failed.

    `code` is the status the library returned, `name` its name (e.g. `NOT_FOUND`), `message`
    the library's `sellsync_last_error()` read right after the failing call on the same
    thread, and `function` the C function that failed.
    """

    code: int = -1
    name: str = "UNKNOWN"

    def __init__(self, message: str, code: Optional[int] = None, function: str = "") -> None:
        if code is not None:
            self.code = code
        self.message = message
        self.function = function
        where = f"{function}: " if function else ""
        super().__init__(f"{where}{self.name} ({self.code}): {message}")


class InvalidArgumentError(SellSyncError, ValueError):
    """An argument was NULL, not UTF-8, malformed JSON, or out of range."""

    code, name = 1, "INVALID_ARGUMENT"


class ConfigError(SellSyncError):
    """The configuration is incomplete or inconsistent."""

    code, name = 2, "CONFIG"


class AuthError(SellSyncError):
    """Amazon refused the credentials or the token."""

    code, name = 3, "AUTH"


class ThrottledError(SellSyncError):
    """Amazon kept throttling (429) after every retry."""

    code, name = 4, "THROTTLED"


class NetworkError(SellSyncError):
    """Amazon could not be reached, or its answer was unreadable, after every retry."""

    code, name = 5, "NETWORK"


class AmazonError(SellSyncError):
    """Amazon answered with an error (its code and message are in `message`)."""

    code, name = 6, "AMAZON"


class StoreError(SellSyncError):
    """The local store failed."""

    code, name = 7, "STORE"


class NotFoundError(SellSyncError, LookupError):
    """No such order or item."""

    code, name = 8, "NOT_FOUND"


class ConflictError(SellSyncError):
    """The call contradicts what was recorded before."""

    code, name = 9, "CONFLICT"


class SyncTimeoutError(SellSyncError, TimeoutError):
    """The call did not finish in time."""

    code, name = 10, "TIMEOUT"


class ClosedError(SellSyncError):
    """The handle is closed."""

    code, name = 11, "CLOSED"


class InvalidStateError(SellSyncError):
    """The call is not allowed now (e.g. close from the event callback)."""

    code, name = 12, "INVALID_STATE"


class ForkedError(SellSyncError):
    """The handle was opened in another process (after fork)."""

    code, name = 13, "FORKED"


class InternalError(SellSyncError):
    """A bug inside the library (a caught panic); the handle stays usable."""

    code, name = 14, "INTERNAL"


# Status code -> exception class; one line per SELLSYNC_ERR_* of the header (checked by a test).
ERRORS: Dict[int, Type[SellSyncError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        ConfigError,
        AuthError,
        ThrottledError,
        NetworkError,
        AmazonError,
        StoreError,
        NotFoundError,
        ConflictError,
        SyncTimeoutError,
        ClosedError,
        InvalidStateError,
        ForkedError,
        InternalError,
    )
}


def error_for(code: int, message: str, function: str = "") -> SellSyncError:
    """The exception for status `code` (SellSyncError itself for a code this binding does not know)."""
    cls = ERRORS.get(code)
    if cls is None:
        return SellSyncError(message, code=code, function=function)
    return cls(message, function=function)
