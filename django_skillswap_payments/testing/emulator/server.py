"""A threaded HTTP server for the emulator, bound to 127.0.0.1 by default."""

from __future__ import annotations

import socketserver
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .state import StripeEmulator


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    # One thread per request: a webhook receiver may call back into the API
    # while the hosted-page request that triggered the webhook is still open.
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature of the base class
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


class EmulatorServer:
    """Serve a :class:`StripeEmulator` over HTTP.

    ::

        with EmulatorServer(emulator) as server:      # port=0 picks a free port
            client = stripe.StripeClient("sk_test_x", base_addresses={"api": server.base_url})

    Starting the server switches the emulator's ``auto`` webhook delivery to a
    background thread, as real Stripe delivers asynchronously.
    """

    def __init__(
        self,
        emulator: StripeEmulator | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        verbose: bool = False,
    ):
        self.emulator = emulator or StripeEmulator()
        self.host = host
        self.port = port
        self.verbose = verbose
        self._server: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator server is not running")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> EmulatorServer:
        if self._server is not None:
            return self
        server = make_server(
            self.host,
            self.port,
            self.emulator.wsgi_app(),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        server.verbose = self.verbose  # type: ignore[attr-defined]
        self.port = server.server_address[1]
        self._server = server
        self.emulator.webhooks.serve_in_background()
        # A short poll interval keeps stop() fast, which adds up over a test suite.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-emulator-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting requests, then let queued webhook deliveries finish."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.emulator.webhooks.stop()

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (used by the command line)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
