"""An in-process ``stripe`` HTTP client: StripeClient talks to the emulator with no sockets.

::

    emulator = StripeEmulator()
    client = stripe.StripeClient("sk_test_emulator", http_client=emulator.http_client())
    client.v1.customers.create({"email": "a@example.com"})

For settings that name a zero-argument factory by dotted path (the app's
``STRIPE_HTTP_CLIENT``), :func:`activate` makes an emulator current and
:func:`active_http_client` returns a client for it.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import stripe
from stripe._http_client import HTTPClient

from .api import handle_api_request
from .state import DEFAULT_PUBLIC_URL, StripeEmulator


class CaseInsensitiveHeaders(Mapping[str, str]):
    """Response headers; stripe-python looks some up in lower case and others capitalised."""

    def __init__(self, headers: Mapping[str, str]):
        self._items = {key.lower(): (key, value) for key, value in headers.items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()][1]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"CaseInsensitiveHeaders({dict(self)!r})"


class EmulatorHTTPClient(HTTPClient):
    """A stripe-python ``HTTPClient`` that answers from a :class:`StripeEmulator` in memory.

    It supports the sync and async request paths (``request``,
    ``request_async``, and their ``_stream`` variants), so both
    ``client.v1.customers.create(...)`` and ``create_async(...)`` work.
    """

    name = "stripe-emulator"

    def __init__(self, emulator: StripeEmulator | None = None):
        super().__init__()
        self._emulator = emulator

    @property
    def emulator(self) -> StripeEmulator:
        # Without a fixed emulator, follow the active one: an app may cache
        # its StripeClient for the whole process while each test activates a
        # fresh emulator.
        return self._emulator if self._emulator is not None else active_emulator()

    def _call(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any
    ) -> tuple[bytes, int, CaseInsensitiveHeaders]:
        emulator = self.emulator
        parts = urlsplit(url)
        if isinstance(post_data, str):
            body = post_data.encode("utf-8")
        else:
            body = post_data or b""
        response = handle_api_request(
            emulator,
            method,
            parts.path,
            query=parts.query,
            body=body,
            headers=headers or {},
            # The in-process client has no host of its own; hosted pages are
            # addressed through the emulator's public URL.
            base_url=emulator.public_url or DEFAULT_PUBLIC_URL,
        )
        if response.network_failure:
            raise stripe.APIConnectionError(
                "Unexpected error communicating with Stripe (connection reset by the emulator).",
                should_retry=True,
            )
        return response.body, response.status, CaseInsensitiveHeaders(response.headers)

    def request(self, method, url, headers, post_data=None, *, _usage: list[str] | None = None):
        return self._call(method, url, headers, post_data)

    def request_stream(
        self, method, url, headers, post_data=None, *, _usage: list[str] | None = None
    ):
        body, status, headers = self._call(method, url, headers, post_data)
        return io.BytesIO(body), status, headers

    async def request_async(self, method, url, headers, post_data=None):
        return self._call(method, url, headers, post_data)

    async def request_stream_async(self, method, url, headers, post_data=None):
        body, status, response_headers = self._call(method, url, headers, post_data)

        async def chunks() -> AsyncIterator[bytes]:
            yield body

        return chunks(), status, response_headers

    def sleep_async(self, secs: float):
        return asyncio.sleep(secs)

    def close(self) -> None:
        """Nothing to release: there is no connection."""

    async def close_async(self) -> None:
        """Nothing to release: there is no connection."""


_active_lock = threading.Lock()
_active: StripeEmulator | None = None


def activate(emulator: StripeEmulator | None) -> None:
    """Make ``emulator`` the one :func:`active_http_client` serves (``None`` to clear)."""
    global _active
    with _active_lock:
        _active = emulator


def active_emulator() -> StripeEmulator:
    if _active is None:
        raise RuntimeError(
            "No Stripe emulator is active. Call django_skillswap_payments.testing.emulator.activate(emulator) "
            "or use the payments_settings pytest fixture."
        )
    return _active


def active_http_client() -> EmulatorHTTPClient:
    """Zero-argument factory for ``STRIPE_HTTP_CLIENT``: a client that serves whichever emulator is active."""
    return EmulatorHTTPClient()
