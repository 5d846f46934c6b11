"""Fixtures: the SP-API emulator as a subprocess, and a configuration for the demo seller.

Needs SELLSYNC_LIBRARY (the libsellsync to test) and SELLSYNC_EMULATOR (the path of the
`sellsync-emulator` binary); scripts/test-python sets both.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[3]
HEADER = REPO / "include" / "sellsync.h"

SELLER_ID = "A2DEMOSELLER01"
CREDENTIALS = {
    "client_id": "amzn1.application-oa2-client.emulator",
    "client_secret": "emulator-client-secret",
    "refresh_token": "Atzr|emulator-refresh-token",
}


def wait_for(condition: Callable[[], Any], seconds: float = 60, what: str = "condition") -> Any:
    """Polls `condition` until it returns something true, at most `seconds`; returns it."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.02)  # polling interval of a bounded wait, not a synchronisation


def run_script(script: Path, *args: str) -> str:
    """Runs a Python program as a user would (this interpreter, this environment); asserts it
    succeeded and returns what it printed."""
    result = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class Emulator:
    """A running sellsync-emulator and its control API."""

    def __init__(self, process: subprocess.Popen, url: str) -> None:
        self.process = process
        self.url = url

    def _request(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + "/_emulator/" + path,
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def seed_listings(self, listings: List[Dict[str, Any]]) -> None:
        self._request("POST", "listings", {"listings": listings})

    def place_orders(self, **seed: Any) -> List[str]:
        seed.setdefault("age_seconds", 600)
        # Visible to searches at once: these tests are about the binding, not Amazon's search lag.
        seed.setdefault("search_lag_seconds", 0)
        return self._request("POST", "orders", seed)["order_ids"]

    def state(self) -> Dict[str, Any]:
        return self._request("GET", "state")

    def landed(self) -> None:
        """Waits until Amazon has applied every listing change it accepted (seconds to minutes
        after accepting it, scaled by the emulator's speed)."""
        wait_for(lambda: self.state()["landing"] == 0, 60, "Amazon to apply the accepted changes")

    def order(self, order_id: str) -> Dict[str, Any]:
        return self._request("GET", "orders/" + order_id)

    def quantity(self, sku: str) -> int:
        for listing in self.state()["listings"]:
            if listing["sku"] == sku:
                return listing["quantity"]
        raise KeyError(sku)


def _emulator_binary() -> str:
    path = os.environ.get("SELLSYNC_EMULATOR")
    if not path:
        pytest.fail("set SELLSYNC_EMULATOR to the sellsync-emulator binary (scripts/test-python does)")
    return path


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """A fresh emulator on a free port, rate limits 1000x Amazon's, stopped after the test."""
    log = open(tmp_path / "emulator.log", "wb")
    process = subprocess.Popen(
        [_emulator_binary(), "--rate-scale", "1000"],
        stdout=subprocess.PIPE,
        stderr=log,
    )
    lines: "queue.Queue[bytes]" = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        first = lines.get(timeout=30).decode().strip()
        assert first.startswith("http://"), f"emulator printed {first!r}"
        yield Emulator(process, first)
    finally:
        process.kill()
        process.wait()
        log.close()


def make_config(emulator: Emulator, store: Path, **extra: Any) -> Dict[str, Any]:
    """The configuration document of the demo seller against `emulator`, store at `store`."""
    config: Dict[str, Any] = {
        "store_path": str(store),
        "seller_id": SELLER_ID,
        "marketplace_ids": ["ATVPDKIKX0DER"],
        "endpoint": emulator.url,
        "http_allow_insecure_loopback": True,
        "credentials": dict(CREDENTIALS),
        "http": {"timeout_ms": 5000, "max_attempts": 8, "backoff_initial_ms": 5, "backoff_max_ms": 50},
    }
    config.update(extra)
    return config


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path) -> Dict[str, Any]:
    return make_config(emulator, tmp_path / "store.sqlite")


@pytest.fixture
def offline_config(tmp_path: Path) -> Dict[str, Any]:
    """A configuration whose Amazon is a closed port: for calls that never reach Amazon."""
    return {
        "store_path": str(tmp_path / "store.sqlite"),
        "seller_id": SELLER_ID,
        "marketplace_ids": ["ATVPDKIKX0DER"],
        "endpoint": "http://127.0.0.1:9",
        "http_allow_insecure_loopback": True,
        "credentials": dict(CREDENTIALS),
    }
