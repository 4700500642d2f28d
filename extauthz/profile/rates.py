"""Usual request rates per endpoint: what one client of the population does in a minute.

For each endpoint the tracker counts, per minute, the clean requests of each
client (bounded table). When a minute ends it takes the median and 90th
percentile of those per-client counts, and the endpoint's total; the
background flush hands the means over the minutes of its window to the profile,
where they are merged with the history (see model._merge_rate). Medians over
clients, not means, so one heavy client does not raise the baseline.

The risk stage reads the result through ProfileBook.rate_baseline.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_CLIENTS_PER_MINUTE = 512


@dataclass(frozen=True, slots=True)
class RateBaseline:
    """The learned rate of one endpoint, in requests per minute (active minutes only)."""

    client_median_rpm: float  # a typical client
    client_p90_rpm: float  # a busy but normal client
    total_rpm: float  # all clients together
    minutes: int  # how many active minutes the figures rest on

    def as_dict(self) -> dict:
        return {"client_median_rpm": round(self.client_median_rpm, 2), "client_p90_rpm": round(self.client_p90_rpm, 2),
                "total_rpm": round(self.total_rpm, 2), "minutes": self.minutes}


class RateTracker:
    __slots__ = ("minute", "clients", "total", "sum_median", "sum_p90", "sum_total", "minutes")

    def __init__(self) -> None:
        self.minute = -1
        self.clients: dict[int, int] = {}
        self.total = 0
        self.sum_median = self.sum_p90 = self.sum_total = 0.0
        self.minutes = 0

    def hit(self, client: int | None, now: float) -> None:
        minute = int(now // 60)
        if minute != self.minute:
            self._roll()
            self.minute = minute
        self.total += 1
        if client is not None:
            clients = self.clients
            if client in clients:
                clients[client] += 1
            elif len(clients) < MAX_CLIENTS_PER_MINUTE:
                clients[client] = 1

    def _roll(self) -> None:
        if self.total:
            counts = sorted(self.clients.values())
            if counts:
                self.sum_median += counts[len(counts) // 2]
                self.sum_p90 += counts[min(len(counts) - 1, (len(counts) * 9) // 10)]
            self.sum_total += self.total
            self.minutes += 1
        self.clients = {}
        self.total = 0

    def take_window(self, now: float) -> tuple[float, float, float, int] | None:
        """Means over the minutes completed since the last call; None when there were none."""
        if int(now // 60) != self.minute:
            self._roll()
            self.minute = int(now // 60)
        if not self.minutes:
            return None
        m = self.minutes
        out = (self.sum_median / m, self.sum_p90 / m, self.sum_total / m, m)
        self.sum_median = self.sum_p90 = self.sum_total = 0.0
        self.minutes = 0
        return out
