"""Gauges and counters that live in other parts, sampled into Prometheus metrics.

Actor risk, the behaviour profile and the stores keep their own numbers; every
`interval` seconds (off the check path) this copies them into
extauthz_blocked_actors, extauthz_learned_endpoints{service} and
extauthz_store_errors_total{store,operation} (the stores' error totals, added
as deltas).
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from extauthz import metrics

log = logging.getLogger("extauthz.sampler")

MAX_SERVICES = 200  # label values: at most this many services' endpoint counts


class RuntimeSampler:
    def __init__(self, runtime: Any, interval: float = 10.0) -> None:
        self.runtime, self.interval = runtime, interval
        self._seen: dict[tuple[str, str], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-sampler", daemon=True)

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _count(self, store: str, operation: str, total: int) -> None:
        key = (store, operation)
        delta = total - self._seen.get(key, 0)
        self._seen[key] = total
        if delta > 0:
            metrics.STORE_ERRORS.labels(store, operation).inc(delta)

    def sample(self) -> None:
        rt = self.runtime
        if rt is None:
            return
        try:
            actors = getattr(rt, "actors", None)
            if actors is not None:
                metrics.set_blocked_actors(actors.blocked_count())
            book = getattr(rt, "profiles", None)
            if book is not None:
                for service in book.services()[:MAX_SERVICES]:
                    live = book.live(service)
                    if live is not None:
                        metrics.set_learned_endpoints(service, len(live.endpoints))
                self._count("profile", "flush", int(getattr(book, "flush_errors", 0)))
            stats = getattr(getattr(rt, "state", None), "stats", None)
            if stats is not None:
                s = stats()
                self._count("state", "all", int(s.get("errors", 0)))
                self._count("state", "dropped_write", int(s.get("dropped", 0)))
        except Exception:  # sampling must never hurt serving
            log.exception("sampling runtime metrics failed")
