"""A local MongoDB wire-protocol server for tests and demos.

Real MongoDB is the target in production, but tests and the demo need a server
that starts anywhere in a second, with no download.  ``mongoeco`` speaks the
MongoDB wire protocol over TCP, so pymongo and MongoEngine talk to it exactly
as they would to ``mongod`` (unique indexes, findAndModify, aggregation).

mongoeco needs Python 3.13 or newer, while the app supports older Pythons.  The
server therefore always runs in a child process, started with an interpreter
that has mongoeco installed: ``SKILLSWAP_MONGOECO_PYTHON`` if set, otherwise the
current interpreter.

Run it by hand with::

    python -m django_skillswap_payments.testing.mongo --port 27017 --sqlite var/db.sqlite3

:func:`fill_sqlite` writes many documents into such a SQLite file before a
server opens it: in-process, thousands of inserts take seconds, where over
the wire each one costs more as the collection grows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

READY_PREFIX = "MONGODB_URI="
PYTHON_ENV_VAR = "SKILLSWAP_MONGOECO_PYTHON"
FILL_BATCH = 500


class MongoServerError(RuntimeError):
    """The local wire server could not be started."""


def mongoeco_python() -> str:
    """Return the interpreter used to run the wire server."""
    return os.environ.get(PYTHON_ENV_VAR) or sys.executable


class LocalMongoServer:
    """A mongoeco wire server in a child process, bound to 127.0.0.1.

    Use it as a context manager or call :meth:`start` and :meth:`stop`.  With
    ``sqlite_path`` the data survives restarts; without it everything lives in
    memory and disappears with the process.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        sqlite_path: str | os.PathLike[str] | None = None,
        python: str | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.port = port
        self.sqlite_path = Path(sqlite_path) if sqlite_path else None
        self.python = python or mongoeco_python()
        self.startup_timeout = startup_timeout
        self.uri: str | None = None
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> str:
        """Start the server and return its connection URI once it accepts clients."""
        # Run this file by path: the server's interpreter (3.13+) may differ from the one that
        # imported the package, so it must not load the package's site-packages.
        command = [self.python, str(Path(__file__).resolve()), "--port", str(self.port)]
        if self.sqlite_path:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            command += ["--sqlite", str(self.sqlite_path)]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=None, text=True, env=_child_env())
        deadline = time.monotonic() + self.startup_timeout
        assert self._process.stdout is not None
        while time.monotonic() < deadline:
            line = self._process.stdout.readline()
            if not line:
                break
            if line.startswith(READY_PREFIX):
                self.uri = line[len(READY_PREFIX):].strip()
                return self.uri
        self.stop()
        raise MongoServerError(
            f"The mongoeco wire server did not start with {self.python!r}. "
            f"It needs Python 3.13+ with 'mongoeco[wire]' installed; point {PYTHON_ENV_VAR} "
            "at such an interpreter, or set MONGODB_URI to use an existing MongoDB server."
        )

    def stop(self) -> None:
        """Stop the child process (only the one this object started)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> LocalMongoServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _child_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}


def fill_sqlite(
    sqlite_path: str | os.PathLike[str],
    database: str,
    documents: Mapping[str, Iterable[Mapping[str, Any]]],
    *,
    python: str | None = None,
) -> None:
    """Insert ``documents`` (collection name to documents) into ``database`` of a SQLite-engine file.

    Run while no server has the file open. The documents travel as BSON through
    a temporary file to a child process with the mongoeco interpreter (see
    :class:`LocalMongoServer`), which inserts them with mongoeco's own client.
    """
    import bson

    sqlite_path = Path(sqlite_path)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".bson", delete=False) as stream:
        for collection, items in documents.items():
            for document in items:
                stream.write(bson.encode({"collection": collection, "document": document}))
    try:
        command = [python or mongoeco_python(), str(Path(__file__).resolve()), "--sqlite", str(sqlite_path),
                   "--database", database, "--fill-from", stream.name]
        subprocess.run(command, check=True, env=_child_env())
    finally:
        os.unlink(stream.name)


def _fill(sqlite_path: str, database: str, source: str) -> None:
    import bson
    from mongoeco import MongoClient
    from mongoeco.engines.sqlite import SQLiteEngine

    client = MongoClient(SQLiteEngine(sqlite_path))
    pending: dict[str, list[dict[str, Any]]] = {}
    try:
        with open(source, "rb") as stream:
            for item in bson.decode_file_iter(stream):
                batch = pending.setdefault(item["collection"], [])
                batch.append(item["document"])
                if len(batch) == FILL_BATCH:
                    client[database][item["collection"]].insert_many(batch)
                    batch.clear()
        for collection, batch in pending.items():
            if batch:
                client[database][collection].insert_many(batch)
    finally:
        client.close()


def with_database(uri: str, database: str) -> str:
    """Return ``uri`` pointing at ``database`` (keeps the query string)."""
    base, _, query = uri.partition("?")
    scheme, _, rest = base.partition("://")
    hosts = rest.split("/", 1)[0]
    return f"{scheme}://{hosts}/{database}" + (f"?{query}" if query else "")


async def _serve(port: int, sqlite_path: str | None) -> None:
    from mongoeco.engines.memory import MemoryEngine
    from mongoeco.engines.sqlite import SQLiteEngine
    from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

    engine = SQLiteEngine(sqlite_path) if sqlite_path else MemoryEngine()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncMongoEcoProxyServer(engine=engine, host="127.0.0.1", port=port) as server:
        print(f"{READY_PREFIX}mongodb://127.0.0.1:{server.address.port}/?directConnection=true", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a local MongoDB wire-protocol server (mongoeco).")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--sqlite", default=None, help="SQLite file that keeps data across restarts")
    parser.add_argument("--fill-from", default=None,
                        help="insert the documents of this file into --sqlite and exit (see fill_sqlite)")
    parser.add_argument("--database", default=None, help="the database --fill-from writes to")
    args = parser.parse_args(argv)
    if args.fill_from:
        if not (args.sqlite and args.database):
            parser.error("--fill-from needs --sqlite and --database")
        _fill(args.sqlite, args.database, args.fill_from)
        return
    asyncio.run(_serve(args.port, args.sqlite))


if __name__ == "__main__":
    main()
