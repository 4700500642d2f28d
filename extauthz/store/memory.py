"""The in-process state store: the default, and the local fallback behind Redis.

One record per actor in an insertion-ordered dict used as an LRU: a touch moves
the actor to the end, and past `max_actors` the least recently seen goes. No
sweeps: decay is computed when a value is read, so idle actors cost nothing
until they are evicted.

Each `extauthz serve --workers N` process has its own store; for N > 1 (or
several replicas) use the Redis store so that they share what they learn.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from extauthz.store.base import (LN2, ActorLabel, ActorRecord, ActorView, BlockRule, RiskChange, Tracking,
                                 decayed)

# Interval statistics: exponential averages with this weight for the newest interval.
INTERVAL_ALPHA = 0.1
# Distinct paths are counted exactly up to this many per window (then "at least this many").
MAX_PATHS_PER_WINDOW = 1024


class _Actor:
    __slots__ = ("risk", "risk_t", "reqs", "reqs_t", "last", "imean", "idev", "samples", "blocked_until",
                 "cause", "offences", "offence_t", "window", "paths", "label", "decided_at")

    def __init__(self, now: float) -> None:
        self.risk = 0.0
        self.risk_t = now
        self.reqs = 0.0  # decaying request count; rate = reqs * ln2 / half-life
        self.reqs_t = now
        self.last = 0.0
        self.imean = 0.0
        self.idev = 0.0
        self.samples = 0
        self.blocked_until = 0.0
        self.cause = ""
        self.offences = 0
        self.offence_t = 0.0  # when the last block ends
        self.decided_at = 0.0  # when this process's own risk last blocked the actor
        self.window = -1
        # None, one path's hash, or the set of them: most actors touch one path per
        # window, and a set is one more object for every collection of the GC to walk.
        self.paths: None | int | set[int] = None
        self.label = NO_LABEL  # shared until the actor gets risk

    def current_offences(self, now: float, memory: float) -> int:
        if self.offences and self.offence_t and now - self.offence_t > memory:
            return 0
        return self.offences


NO_LABEL = ActorLabel()


def _add_path(a: _Actor, h: int) -> int:
    """Record a path hash in the actor's window; the number of distinct paths in it."""
    paths = a.paths
    if paths is None:
        a.paths = h
        return 1
    if isinstance(paths, int):
        if paths == h:
            return 1
        paths = a.paths = {paths}
    if len(paths) < MAX_PATHS_PER_WINDOW:
        paths.add(h)
    return len(paths)


def path_window(now: float, seconds: float) -> int:
    return int(now // seconds)


class MemoryStateStore:
    """StateStore in this process's memory (thread-safe)."""

    def __init__(self, max_actors: int = 100_000) -> None:
        self.max_actors = max_actors
        self._actors: OrderedDict[str, _Actor] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._actors)

    def _record(self, actor: str, now: float) -> _Actor:
        a = self._actors.get(actor)
        if a is None:
            a = self._actors[actor] = _Actor(now)
            if len(self._actors) > self.max_actors:
                self._actors.popitem(last=False)
        else:
            self._actors.move_to_end(actor)
        return a

    def touch(self, actor: str, now: float, path: str, tracking: Tracking) -> ActorView:
        with self._lock:
            a = self._record(actor, now)
            a.reqs = decayed(a.reqs, a.reqs_t, now, tracking.rate_half_life) + 1.0
            a.reqs_t = now
            if a.last and now >= a.last:
                dt = now - a.last
                if a.samples:
                    a.idev += INTERVAL_ALPHA * (abs(dt - a.imean) - a.idev)
                    a.imean += INTERVAL_ALPHA * (dt - a.imean)
                else:
                    a.imean = dt
                a.samples += 1
            a.last = max(a.last, now)
            w = path_window(now, tracking.path_window)
            if w != a.window:
                a.window = w
                a.paths = None
            distinct = _add_path(a, hash(path))
            return ActorView(decayed(a.risk, a.risk_t, now, tracking.risk_half_life), a.blocked_until, a.cause,
                             a.offences, a.reqs * LN2 / tracking.rate_half_life, a.samples, a.imean, a.idev,
                             distinct)

    def add_risk(self, actor: str, now: float, points: float, cause: str, label: ActorLabel,
                 tracking: Tracking, rule: BlockRule) -> RiskChange:
        with self._lock:
            a = self._record(actor, now)
            a.risk = decayed(a.risk, a.risk_t, now, tracking.risk_half_life) + points
            a.risk_t = max(a.risk_t, now)
            if label.ip or label.principal or label.user_agent or label.credential:
                a.label = label
            if cause and a.blocked_until <= now:
                a.cause = cause  # the class behind the latest risk; frozen while blocked
            newly = False
            if a.blocked_until <= now and a.risk >= rule.threshold:
                offences = a.current_offences(now, rule.offence_memory) + 1
                self._block(a, now + rule.duration(offences), cause, offences)
                a.decided_at = now
                newly = True
            return RiskChange(a.risk, a.blocked_until if a.blocked_until > now else 0.0, a.offences, newly)

    @staticmethod
    def _block(a: _Actor, until: float, cause: str, offences: int) -> None:
        a.blocked_until = until
        a.cause = cause
        a.offences = offences
        a.offence_t = until

    def set_block(self, actor: str, now: float, until: float, cause: str, label: ActorLabel,
                  tracking: Tracking) -> None:
        with self._lock:
            a = self._record(actor, now)
            if label.ip or label.principal or label.user_agent or label.credential:
                a.label = label
            self._block(a, until, cause, a.offences + 1)

    def recent_block(self, actor: str, now: float, within: float) -> tuple[float, str, int] | None:
        """A block this process's own risk decided less than `within` seconds ago and still holding:
        (until, cause, offences). The shared store may not have it yet (write-behind)."""
        a = self._actors.get(actor)
        if a is None or not a.decided_at or now - a.decided_at > within or a.blocked_until <= now:
            return None
        return a.blocked_until, a.cause, a.offences

    def merge_block(self, actor: str, now: float, until: float, cause: str, offences: int) -> None:
        """Learn a block decided elsewhere (the shared store), without counting a new offence."""
        with self._lock:
            a = self._record(actor, now)
            if until > a.blocked_until:
                self._block(a, until, cause, max(offences, a.offences))

    def clear(self, actor: str, now: float) -> bool:
        with self._lock:
            a = self._actors.get(actor)
            if a is None:
                return False
            a.decided_at = 0.0
            a.blocked_until = 0.0
            a.risk = 0.0
            a.risk_t = now
            return True

    def _as_record(self, actor: str, a: _Actor, now: float, tracking: Tracking) -> ActorRecord:
        return ActorRecord(actor, a.label, decayed(a.risk, a.risk_t, now, tracking.risk_half_life),
                           a.blocked_until, a.cause, a.offences, a.last or a.risk_t)

    def get(self, actor: str, now: float, tracking: Tracking) -> ActorRecord | None:
        with self._lock:
            a = self._actors.get(actor)
            return None if a is None else self._as_record(actor, a, now, tracking)

    def actors(self, now: float, tracking: Tracking, limit: int = 50) -> list[ActorRecord]:
        with self._lock:
            items = list(self._actors.items())
        records = [self._as_record(k, a, now, tracking) for k, a in items]
        records = [r for r in records if r.risk >= 0.01 or r.blocked_until > now]
        return rank_actors(records, now)[:limit]

    def blocked(self, now: float) -> list[ActorRecord]:
        """Actors blocked at `now` (risk as last recorded, not decayed)."""
        with self._lock:
            return [ActorRecord(k, a.label, a.risk, a.blocked_until, a.cause, a.offences, a.last)
                    for k, a in self._actors.items() if a.blocked_until > now]

    def close(self) -> None:
        pass


def rank_actors(records: list[ActorRecord], now: float) -> list[ActorRecord]:
    """Blocked actors first, then by risk."""
    return sorted(records, key=lambda r: (r.blocked_until > now, r.risk), reverse=True)
