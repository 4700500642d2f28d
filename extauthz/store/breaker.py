"""A circuit breaker: after a failure, leave the remote store alone until a probe succeeds.

While open, `allow()` is False and a check pays nothing for the dead store
(no connect attempt, no timeout); a background probe retries with a doubling
pause. Outages are logged once when they start and once when they end, and
counted.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger("extauthz.store")


class CircuitBreaker:
    def __init__(self, name: str, retry_seconds: float = 1.0, max_retry_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max(max_retry_seconds, retry_seconds)
        self.clock = clock
        self._open_since: float | None = None
        self._pause = retry_seconds
        self._lock = threading.Lock()
        self.outages = 0  # times the circuit opened
        self.errors = 0  # failed operations (each outage starts with at least one)

    @property
    def is_open(self) -> bool:
        return self._open_since is not None

    def allow(self) -> bool:
        return self._open_since is None

    def failure(self, exc: BaseException) -> bool:
        """Record a failure; True when it opened the circuit (the caller may then start probing)."""
        with self._lock:
            self.errors += 1
            if self._open_since is not None:
                return False
            self._open_since = self.clock()
            self._pause = self.retry_seconds
            self.outages += 1
        log.error("%s unavailable (%s: %s): checks go on with local state; reconnecting in the background",
                  self.name, type(exc).__name__, exc)
        return True

    def next_pause(self) -> float:
        """How long the probe waits before its next attempt (doubling)."""
        with self._lock:
            pause = self._pause
            self._pause = min(self._pause * 2, self.max_retry_seconds)
            return pause

    def success(self) -> None:
        with self._lock:
            since, self._open_since = self._open_since, None
        if since is not None:
            log.warning("%s reachable again after %.1fs; shared state resumes", self.name, self.clock() - since)
