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


# An actor is a plain dict of numbers and strings (and, for an actor seen on several
# paths in a window, a set). Python's collector does not track such dicts: with
# 100k actors in the store a full collection has 100k fewer objects to walk
# (~100 ms on a loaded 2-core machine, while every check waits for the GIL).
_Actor = dict
NO_LABEL_FIELDS = ("", "", "", "")


def _new_actor(now: float) -> _Actor:
    return {
        "risk": 0.0, "risk_t": now,
        "reqs": 0.0, "reqs_t": now,  # decaying request count; rate = reqs * ln2 / half-life
        "last": 0.0, "imean": 0.0, "idev": 0.0, "samples": 0,
        "blocked_until": 0.0, "cause": "", "offences": 0,
        "offence_t": 0.0,  # when the last block ends
        "decided_at": 0.0,  # when this process's own risk last blocked the actor
        "window": -1,
        # None, one path's hash, or the set of them (most actors touch one path per window)
        "paths": None,
        "label": NO_LABEL_FIELDS,  # (ip, principal, user agent, credential): a tuple, untracked too
    }


def _label_fields(label: ActorLabel) -> tuple[str, str, str, str]:
    return (label.ip, label.principal, label.user_agent, label.credential)


def _current_offences(a: _Actor, now: float, memory: float) -> int:
    if a["offences"] and a["offence_t"] and now - a["offence_t"] > memory:
        return 0
    return a["offences"]



def _add_path(a: _Actor, h: int) -> int:
    """Record a path hash in the actor's window; the number of distinct paths in it."""
    paths = a["paths"]
    if paths is None:
        a["paths"] = h
        return 1
    if isinstance(paths, int):
        if paths == h:
            return 1
        paths = a["paths"] = {paths}
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
        # Actors a block was set on (until it is seen expired): `blocked()` reads these, not
        # every actor. A pass over 100k actors every few seconds (the metrics sampler) held
        # the GIL for tens of ms and, allocating a record per actor, set off full garbage
        # collections of over 100 ms: checks then waited past Envoy's ext_authz timeout.
        self._blocked: dict[str, None] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._actors)

    def _record(self, actor: str, now: float) -> _Actor:
        a = self._actors.get(actor)
        if a is None:
            a = self._actors[actor] = _new_actor(now)
            if len(self._actors) > self.max_actors:
                self._actors.popitem(last=False)
        else:
            self._actors.move_to_end(actor)
        return a

    def touch(self, actor: str, now: float, path: str, tracking: Tracking) -> ActorView:
        with self._lock:
            a = self._record(actor, now)
            a["reqs"] = decayed(a["reqs"], a["reqs_t"], now, tracking.rate_half_life) + 1.0
            a["reqs_t"] = now
            if a["last"] and now >= a["last"]:
                dt = now - a["last"]
                if a["samples"]:
                    a["idev"] += INTERVAL_ALPHA * (abs(dt - a["imean"]) - a["idev"])
                    a["imean"] += INTERVAL_ALPHA * (dt - a["imean"])
                else:
                    a["imean"] = dt
                a["samples"] += 1
            a["last"] = max(a["last"], now)
            w = path_window(now, tracking.path_window)
            if w != a["window"]:
                a["window"] = w
                a["paths"] = None
            distinct = _add_path(a, hash(path))
            return ActorView(decayed(a["risk"], a["risk_t"], now, tracking.risk_half_life), a["blocked_until"],
                             a["cause"], a["offences"], a["reqs"] * LN2 / tracking.rate_half_life, a["samples"],
                             a["imean"], a["idev"], distinct)

    def add_risk(self, actor: str, now: float, points: float, cause: str, label: ActorLabel,
                 tracking: Tracking, rule: BlockRule) -> RiskChange:
        with self._lock:
            a = self._record(actor, now)
            a["risk"] = decayed(a["risk"], a["risk_t"], now, tracking.risk_half_life) + points
            a["risk_t"] = max(a["risk_t"], now)
            if label.ip or label.principal or label.user_agent or label.credential:
                a["label"] = _label_fields(label)
            if cause and a["blocked_until"] <= now:
                a["cause"] = cause  # the class behind the latest risk; frozen while blocked
            newly = False
            if a["blocked_until"] <= now and a["risk"] >= rule.threshold:
                offences = _current_offences(a, now, rule.offence_memory) + 1
                self._block(actor, a, now + rule.duration(offences), cause, offences)
                a["decided_at"] = now
                newly = True
            return RiskChange(a["risk"], a["blocked_until"] if a["blocked_until"] > now else 0.0, a["offences"], newly)

    def _block(self, actor: str, a: _Actor, until: float, cause: str, offences: int) -> None:
        if len(self._blocked) >= 2 * self.max_actors:  # evicted actors' entries: drop them (amortized)
            self._prune_blocked(float("-inf"))
        self._blocked[actor] = None
        a["blocked_until"] = until
        a["cause"] = cause
        a["offences"] = offences
        a["offence_t"] = until

    def set_block(self, actor: str, now: float, until: float, cause: str, label: ActorLabel,
                  tracking: Tracking) -> None:
        with self._lock:
            a = self._record(actor, now)
            if label.ip or label.principal or label.user_agent or label.credential:
                a["label"] = _label_fields(label)
            self._block(actor, a, until, cause, a["offences"] + 1)

    def recent_block(self, actor: str, now: float, within: float) -> tuple[float, str, int] | None:
        """A block this process's own risk decided less than `within` seconds ago and still holding:
        (until, cause, offences). The shared store may not have it yet (write-behind)."""
        a = self._actors.get(actor)
        if a is None or not a["decided_at"] or now - a["decided_at"] > within or a["blocked_until"] <= now:
            return None
        return a["blocked_until"], a["cause"], a["offences"]

    def merge_block(self, actor: str, now: float, until: float, cause: str, offences: int) -> None:
        """Learn a block decided elsewhere (the shared store), without counting a new offence."""
        with self._lock:
            a = self._record(actor, now)
            if until > a["blocked_until"]:
                self._block(actor, a, until, cause, max(offences, a["offences"]))

    def clear(self, actor: str, now: float) -> bool:
        with self._lock:
            a = self._actors.get(actor)
            if a is None:
                return False
            a["decided_at"] = 0.0
            a["blocked_until"] = 0.0
            a["risk"] = 0.0
            a["risk_t"] = now
            return True

    def _as_record(self, actor: str, a: _Actor, now: float, tracking: Tracking) -> ActorRecord:
        return ActorRecord(actor, ActorLabel(*a["label"]), decayed(a["risk"], a["risk_t"], now,
                                                                   tracking.risk_half_life),
                           a["blocked_until"], a["cause"], a["offences"], a["last"] or a["risk_t"])

    def get(self, actor: str, now: float, tracking: Tracking) -> ActorRecord | None:
        with self._lock:
            a = self._actors.get(actor)
            return None if a is None else self._as_record(actor, a, now, tracking)

    def actors(self, now: float, tracking: Tracking, limit: int = 50) -> list[ActorRecord]:
        with self._lock:  # a record only for actors with risk or a block: not one per actor
            half_life = tracking.risk_half_life
            records = [self._as_record(k, a, now, tracking) for k, a in self._actors.items()
                       if a["blocked_until"] > now
                       or (a["risk"] and decayed(a["risk"], a["risk_t"], now, half_life) >= 0.01)]
        return rank_actors(records, now)[:limit]

    def blocked(self, now: float) -> list[ActorRecord]:
        """Actors blocked at `now` (risk as last recorded, not decayed)."""
        with self._lock:
            self._prune_blocked(now)
            actors = self._actors
            return [ActorRecord(k, ActorLabel(*a["label"]), a["risk"], a["blocked_until"], a["cause"], a["offences"],
                                a["last"]) for k, a in ((k, actors[k]) for k in self._blocked)]

    def _prune_blocked(self, now: float) -> None:
        """Forget index entries whose actor is gone or no longer blocked at `now` (lock held)."""
        actors = self._actors
        gone = [k for k in self._blocked if k not in actors or actors[k]["blocked_until"] <= now]
        for k in gone:
            del self._blocked[k]

    def close(self) -> None:
        pass


def rank_actors(records: list[ActorRecord], now: float) -> list[ActorRecord]:
    """Blocked actors first, then by risk."""
    return sorted(records, key=lambda r: (r.blocked_until > now, r.risk), reverse=True)
