"""The native library: where it is found, and the ctypes signature of every export.

`FUNCTIONS` holds one line per exported function of `include/sellsync.h`; adding an export to
the binding is adding its line. A test compares this table with the header.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from ctypes import CFUNCTYPE, POINTER, c_char_p, c_int32, c_int64, c_uint32, c_void_p
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

# The header's SELLSYNC_VERSION_MAJOR this binding is written for.
VERSION_MAJOR = 0

# C types as the binding declares them.
STATUS = c_int32  # sellsync_status
HANDLE = c_void_p  # struct SellSync *
HANDLE_OUT = POINTER(c_void_p)  # struct SellSync **
OWNED_STRING = c_void_p  # char * (allocated by the library, freed with sellsync_string_free)
OWNED_STRING_OUT = POINTER(c_void_p)  # char ** (an out-parameter the library allocates)
STRING_IN = c_char_p  # const char * (borrowed for the call; a static text when returned)

# void (*cb)(void *user, const char *event_json)
EVENT_CALLBACK = CFUNCTYPE(None, c_void_p, c_char_p)
# void (*free_user)(void *user)
FREE_USER = CFUNCTYPE(None, c_void_p)
# void (*cb)(void *user, int32_t level, const char *message)
LOG_CALLBACK = CFUNCTYPE(None, c_void_p, c_int32, c_char_p)

# name: (restype, argtypes); one line per export.
FUNCTIONS: Dict[str, Tuple[object, List[object]]] = {
    "sellsync_version": (STRING_IN, []),
    "sellsync_version_number": (c_uint32, []),
    "sellsync_status_str": (STRING_IN, [STATUS]),
    "sellsync_last_error": (STRING_IN, []),
    "sellsync_string_free": (None, [OWNED_STRING]),
    "sellsync_open": (STATUS, [STRING_IN, HANDLE_OUT]),
    "sellsync_close": (STATUS, [HANDLE]),
    "sellsync_sync_now": (STATUS, [HANDLE, c_uint32]),
    "sellsync_start": (STATUS, [HANDLE]),
    "sellsync_stop": (STATUS, [HANDLE]),
    "sellsync_order_next": (STATUS, [HANDLE, OWNED_STRING_OUT]),
    "sellsync_order_ack": (STATUS, [HANDLE, STRING_IN, STRING_IN]),
    "sellsync_event_next": (STATUS, [HANDLE, c_int32, OWNED_STRING_OUT]),
    "sellsync_set_event_callback": (STATUS, [HANDLE, EVENT_CALLBACK, c_void_p, FREE_USER]),
    "sellsync_stock_set": (STATUS, [HANDLE, STRING_IN, c_int64]),
    "sellsync_stock_set_batch": (STATUS, [HANDLE, STRING_IN]),
    "sellsync_sku_map": (STATUS, [HANDLE, STRING_IN]),
    "sellsync_listings": (STATUS, [HANDLE, OWNED_STRING_OUT]),
    "sellsync_fba_stock": (STATUS, [HANDLE, OWNED_STRING_OUT]),
    "sellsync_notifications_setup": (STATUS, [HANDLE, OWNED_STRING_OUT]),
    "sellsync_shipment_confirm": (STATUS, [HANDLE, STRING_IN]),
    "sellsync_shipments": (STATUS, [HANDLE, STRING_IN, OWNED_STRING_OUT]),
    "sellsync_order_cancel": (STATUS, [HANDLE, STRING_IN, STRING_IN]),
    "sellsync_order_refund": (STATUS, [HANDLE, STRING_IN]),
    "sellsync_metrics": (STATUS, [HANDLE, STRING_IN, OWNED_STRING_OUT]),
    "sellsync_state": (STATUS, [HANDLE, OWNED_STRING_OUT]),
    "sellsync_order_cancel_items": (STATUS, [HANDLE, STRING_IN]),
    "sellsync_event_ack": (STATUS, [HANDLE, c_int64]),
    "sellsync_event_decline": (STATUS, [HANDLE, c_int64]),
    "sellsync_set_log_callback": (STATUS, [HANDLE, c_int32, LOG_CALLBACK, c_void_p, FREE_USER]),
    "sellsync_set_credentials": (STATUS, [HANDLE, STRING_IN]),
    "sellsync_purge_buyer_data": (STATUS, [HANDLE, STRING_IN]),
    "sellsync_price_set": (STATUS, [HANDLE, STRING_IN]),
    "sellsync_price_confirm": (STATUS, [HANDLE, STRING_IN, STRING_IN]),
    "sellsync_prices": (STATUS, [HANDLE, OWNED_STRING_OUT]),
}


class LibraryNotFoundError(OSError):
    """No loadable libsellsync was found; the message names every place looked at."""


class LibraryVersionError(ImportError):
    """The library found has another major version than this binding."""


def _file_names() -> Sequence[str]:
    if sys.platform == "darwin":
        return ("libsellsync.dylib",)
    if sys.platform == "win32":
        return ("sellsync.dll",)
    return ("libsellsync.so",)


def _candidates() -> List[Tuple[str, str]]:
    """(where, what to load) in the order they are tried."""
    out: List[Tuple[str, str]] = []
    env = os.environ.get("SELLSYNC_LIBRARY")
    if env:
        # An explicit choice: a wrong path is an error, not a reason to load another copy.
        return [("SELLSYNC_LIBRARY", env)]
    here = Path(__file__).resolve().parent
    for name in _file_names():
        out.append(("packaged copy", str(here / name)))
    found = ctypes.util.find_library("sellsync")
    if found:
        out.append(("ctypes.util.find_library('sellsync')", found))
    for name in _file_names():
        out.append(("system search path", name))
    return out


def load(path: Optional[str] = None) -> ctypes.CDLL:
    """Loads libsellsync (from `path` if given), declares every export and checks its version.

    Without `path`: the file named by the environment variable `SELLSYNC_LIBRARY` when it is
    set (and only that); otherwise, in order, a copy installed next to this package,
    `ctypes.util.find_library("sellsync")`, and the plain file name on the system's search
    path. When none loads, it raises
    LibraryNotFoundError naming each place and why it failed.
    """
    tried: List[str] = []
    candidates = [("path argument", path)] if path else _candidates()
    lib = None
    for where, what in candidates:
        if where == "packaged copy" and not os.path.exists(what):
            tried.append(f"{where} {what}: no such file")
            continue
        try:
            lib = ctypes.CDLL(what)
            break
        except OSError as e:
            tried.append(f"{where} {what}: {e}")
    if lib is None:
        raise LibraryNotFoundError(
            "libsellsync not found; looked at:\n  "
            + "\n  ".join(tried)
            + "\nSet SELLSYNC_LIBRARY to the library's path."
        )
    declare(lib)
    number = lib.sellsync_version_number()
    if number // 10000 != VERSION_MAJOR:
        version = lib.sellsync_version().decode("utf-8", "replace")
        raise LibraryVersionError(
            f"libsellsync {version} (version number {number}) has major version "
            f"{number // 10000}; this binding needs major version {VERSION_MAJOR}"
        )
    return lib


def declare(lib: ctypes.CDLL) -> None:
    """Sets argtypes and restype of every function in FUNCTIONS (missing one: AttributeError)."""
    for name, (restype, argtypes) in FUNCTIONS.items():
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = argtypes
