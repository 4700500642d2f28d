"""CpuBudget: a deadline on this thread's CPU time, cheap enough for hot loops.

The time limits of decoding and of detection are on the thread's CPU time:
wall time also counts waiting for the GIL or the CPU, which is load, not the
request's doing, and must not leave the rest of a request uninspected. Reading
the thread's CPU clock is a system call (about 1 µs), so the cheap wall clock
is watched first; only once it passes the budget does the CPU clock decide.
"""
from __future__ import annotations

import gc
import threading
import time
from typing import Callable


# ------------------------------------------------------------ collections are not the request's

_collecting = threading.local()


def _on_collection(phase: str, info: dict) -> None:
    """Keep, per thread, the CPU time spent in older-generation garbage collections.

    A full collection walks every object of the process (tens of ms in a big
    one) and lands on whichever thread allocated last: it is the process's
    cost, not the request's, and must not use up a request's budget (it cut
    requests that take under 1 ms short in a busy eval process). Young
    collections are short and frequent: not timed."""
    if info.get("generation", 0) == 0:
        return
    now = time.thread_time()
    if phase == "start":
        _collecting.start = now
    else:
        _collecting.spent = getattr(_collecting, "spent", 0.0) + now - getattr(_collecting, "start", now)


gc.callbacks.append(_on_collection)


def collection_time() -> float:
    """CPU seconds this thread has spent in older-generation collections so far."""
    return getattr(_collecting, "spent", 0.0)


class CpuBudget:
    __slots__ = ("_budget", "_clock", "_cpu_clock", "_deadline", "_cpu_deadline", "_collected", "_wall_end")

    def __init__(self, seconds: float, clock: Callable[[], float] = time.perf_counter,
                 cpu_clock: Callable[[], float] = time.thread_time, eager: bool = False,
                 wall: float = 0.0) -> None:
        """Between `seconds` and twice that of CPU time (see _late). No system call
        here: a request that ends before the wall clock passes `seconds` never
        reads the CPU clock. `eager`: exactly `seconds` of CPU time from now,
        however long the thread waits (the CPU clock is read here: for work known
        to be long, where one system call is nothing). `wall` > 0: spent, too, once
        that much wall time has passed (a thread that waits long for the CPU must
        still answer before the proxy's timeout)."""
        self._budget = seconds
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._wall_end = clock() + wall if wall > 0 else float("inf")
        if eager:
            self._cpu_deadline = cpu_clock() + seconds
            self._collected = collection_time()
            self._deadline = clock() + min(seconds, 0.001)
        else:
            self._deadline = clock() + seconds
            self._cpu_deadline = -1.0
            self._collected = 0.0  # collection time when the CPU budget started

    def shorten(self, seconds: float) -> None:
        """Make the budget `seconds` (if that is less), as if it had been created so."""
        cut = self._budget - seconds
        if cut <= 0:
            return
        self._budget = seconds
        self._deadline -= cut
        if self._cpu_deadline >= 0:
            self._cpu_deadline -= cut

    def spent(self) -> bool:
        """True once this thread has used the budget's CPU time (since about its creation)."""
        return self._clock() > self._deadline and self._late()

    def _late(self) -> bool:
        """The wall clock passed the deadline: is the CPU budget spent too?

        At the first call the thread gets one budget of CPU time from now (the
        wall time so far bounds the CPU time so far, so at most twice the
        budget is ever spent); later calls read the CPU clock at most once a
        millisecond of wall time."""
        if self._clock() > self._wall_end:
            return True
        cpu = self._cpu_clock()
        if self._cpu_deadline < 0:
            self._cpu_deadline = cpu + self._budget
            self._collected = collection_time()
        if cpu - (collection_time() - self._collected) > self._cpu_deadline:
            return True
        self._deadline = self._clock() + min(self._budget, 0.001)
        return False


# ------------------------------------------------------------ the running detection's budget

class BudgetSpent(Exception):
    """Raised inside a detector when the running detection's budget is used up."""


_running = threading.local()


class bounded:
    """`with bounded(budget):` makes `budget` the one check_spent() watches on this thread
    while the block runs (a class, not a generator: it is entered on every check)."""

    __slots__ = ("_budget", "_before")

    def __init__(self, budget: CpuBudget | None) -> None:
        self._budget = budget

    def __enter__(self) -> None:
        self._before = getattr(_running, "budget", None)
        _running.budget = self._budget

    def __exit__(self, *exc: object) -> None:
        _running.budget = self._before


def check_spent() -> None:
    """Raise BudgetSpent if this thread runs a bounded detection whose budget is used up.

    Detectors with costly loops (several readings of a long value) call it between
    iterations, so one detector call cannot run far past the budget. Raising, not
    returning, keeps a cut-short analysis out of the detectors' result caches.
    Outside a bounded block it does nothing (tests, eval tools, property tests)."""
    b = getattr(_running, "budget", None)
    if b is not None and b.spent():
        raise BudgetSpent


def request_cpu() -> float:
    """This thread's CPU seconds less its older-generation collections: what a piece of
    work costs by itself (timing tests and benchmarks read it)."""
    return time.thread_time() - collection_time()
