"""Threads of this process racing each other: started together at a barrier, results collected.

Many threads reach the code under test at the same moment, as concurrent
requests to one server process would::

    race = run_together([lambda: services.start_premium_checkout(profile, **URLS)] * 8)
    assert race.errors == []
    assert len({start.session_id for start in race.results}) == 1

Several OS processes racing are :mod:`tests.support.race`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Seconds a thread waits at the barrier for the others to arrive.
BARRIER_TIMEOUT = 10.0
#: Seconds all threads together may take to finish.
JOIN_TIMEOUT = 30.0


@dataclass
class ThreadRace:
    """What the threads did, in the order they finished."""

    results: list[Any] = field(default_factory=list)  # what each job that returned returned
    errors: list[BaseException] = field(default_factory=list)  # what each job that raised raised


def run_together(jobs: Sequence[Callable[[], Any]], *, timeout: float = JOIN_TIMEOUT) -> ThreadRace:
    """Run each of ``jobs`` in a thread of its own, all released at once, and wait for them all.

    An exception in a job is kept in ``errors`` rather than lost with its thread,
    so a test can assert there was none. Fails if a thread is still running
    after ``timeout`` seconds.
    """
    barrier = threading.Barrier(len(jobs))
    race = ThreadRace()
    lock = threading.Lock()

    def run(job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=BARRIER_TIMEOUT)
            result = job()
        except BaseException as exc:  # surfaced through race.errors
            with lock:
                race.errors.append(exc)
        else:
            with lock:
                race.results.append(result)

    threads = [threading.Thread(target=run, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    running = sum(thread.is_alive() for thread in threads)
    if running:
        raise AssertionError(f"{running} of {len(threads)} threads still running after {timeout} s")
    return race
