"""Timing budgets in tests, judged against this machine's speed right now.

The engine's budgets (20 ms for a pathological request, a few ms per KiB for a
detector) are figures of the project's development machine. A test measures the
thread's CPU time, best of three, but CPU time grows too on a slower CI runner or
when another process shares the core's caches. So a measurement over its budget
is judged once more against the budget times `machine_factor()`: how much longer
a fixed piece of pure-Python work (dicts and strings, as the engine does) takes
now than REFERENCE_WORK_S, its time on the development machine when quiet. The
factor never goes below 1: a faster machine keeps the budget as it is, and a
regression that doubles a cost still fails on a quiet machine.
"""
from __future__ import annotations

from extauthz.budget import request_cpu

REFERENCE_WORK_S = 0.0075  # min of 40 runs, 3 times, on the quiet development machine: 7.46–7.85 ms


def _reference_work() -> int:
    d: dict[str, int] = {}
    s = 0
    for i in range(40000):
        k = str(i)
        d[k] = len(k) + s % 7
        s += d[k]
    return s


def machine_factor() -> float:
    best = float("inf")
    for _ in range(5):
        t0 = request_cpu()
        _reference_work()
        best = min(best, request_cpu() - t0)
    return max(1.0, best / REFERENCE_WORK_S)


def within(spent: float, budget: float) -> tuple[bool, str]:
    """(spent is within budget on the reference machine, a message saying how it was judged)."""
    if spent < budget:
        return True, ""
    factor = machine_factor()
    return spent < budget * factor, (f"{spent * 1000:.1f} ms of CPU time (budget {budget * 1000:g} ms × {factor:.2f}, "
                                     f"this machine's slowness now against the reference)")
