"""Security events: one JSON line per decision an analyst should see.

Written for every deny and every monitor-mode hit (and failures, deny-list hits
and blocked actors): event id, time, request id, trace id, service, hop, both
identities, the actor, decision, score and the findings with their redacted
excerpts. Never the query string, body, cookies or authorization headers:
findings carry short excerpts only, and an excerpt from a location whose name
is a secret (authorization, cookie, password, token, ... plus the configured
`events.redact_keys`) is replaced by "[redacted]" here again, whatever the
detector did.

Lines are written by a background thread from a bounded queue, so a slow
stderr pipe or disk never holds a check up; when the queue is full the event is
dropped and counted (extauthz_security_events_dropped_total). The last
`events.recent` events stay in memory for the admin API (`/v1/events`).
"""
from __future__ import annotations

import collections
import fcntl
import hashlib
import json
import logging
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Iterable, Mapping, TextIO

from extauthz.config import EventSettings
from extauthz.finding import REDACTED, Finding, is_secret_location, writable
from extauthz.request import Request
from extauthz.verdict import Action, Verdict

log = logging.getLogger("extauthz.events")

# Not events: plain allows, `off` policies, and allow-list hits (a listed health
# checker or scanner would flood the log; /metrics counts them).
QUIET_ACTIONS = frozenset({Action.ALLOW, Action.OFF, Action.LISTED_ALLOW})
_ACTOR_KEY = os.environ.get("EXTAUTHZ_ACTOR_HASH_KEY", "extauthz-actor").encode()[:64]


def actor_of(request: Request) -> str:
    """Who is asking: the mTLS identity when there is one, else the client address Envoy saw."""
    return request.source.principal or request.source.address


def actor_hash(actor: str) -> str:
    """A stable pseudonym for traces (keyed by $EXTAUTHZ_ACTOR_HASH_KEY): correlates, does not reveal."""
    if not actor:
        return ""
    return hashlib.blake2b(actor.encode("utf-8", "replace"), digest_size=8, key=_ACTOR_KEY).hexdigest()


def redact(f: Finding) -> Finding:
    """The finding as it may be shown: no excerpt from a secret-named location, every field writable.

    Used for the event log and for spans alike, so neither can be made to fail
    by a lone surrogate an attacker put in a JSON member name (see finding.writable).
    """
    if f.excerpt and f.excerpt != REDACTED and is_secret_location(f.location):
        f = Finding(f.cls, f.rule, f.severity, f.location, REDACTED, f.chain, f.source, f.detail)
    return f.writable()


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


@dataclass(frozen=True, slots=True)
class TraceIds:
    trace_id: str = ""
    span_id: str = ""  # extauthz's own span, when traced
    parent_span_id: str = ""


def event_record(request: Request, verdict: Verdict, seconds: float, trace: TraceIds = TraceIds(),
                 now: float | None = None) -> dict:
    src, dst = request.source, request.destination
    now = time.time() if now is None else now
    actor = actor_of(request)
    return {
        "event_id": verdict.event_id,
        "time": _iso(now),
        "request_id": writable(request.request_id[:128]),
        "trace_id": trace.trace_id,
        "span_id": trace.span_id,
        "parent_span_id": trace.parent_span_id,
        "service": writable(verdict.service[:256]),
        "policy": verdict.policy,
        "hop": verdict.hop.value,
        "direction": verdict.hop.direction,
        "method": writable(request.method[:32]),
        "path": writable(request.path[:512]),
        "source": {"address": writable(src.address), "principal": writable(src.principal),
                   "service": writable(src.service)},
        "destination": {"principal": writable(dst.principal)},
        "actor": writable(actor),
        "actor_hash": actor_hash(actor),
        "decision": verdict.decision.value,
        "action": verdict.action.value,
        "mode": verdict.mode,
        "score": verdict.score,
        "threshold": verdict.threshold,
        "reason": writable(verdict.reason),
        "findings": [redact(f).as_dict() for f in verdict.findings],
        "check_ms": round(seconds * 1000, 3),
    }


# ---------------------------------------------------------------- sinks


class StreamSink:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, lines: list[str]) -> None:
        self.stream.write(writable("".join(lines)))
        self.stream.flush()

    def close(self) -> None:
        pass


class RotatingFileSink:
    """Appends lines to a file, rotating it at `max_bytes` into path.1 ... path.N.

    Safe with several worker processes on one file: each write is one O_APPEND
    write(2); rotation happens under an flock on `path.lock`, and a process
    whose file was rotated by another reopens the path on its next write.
    """

    def __init__(self, path: str, max_bytes: int, backups: int) -> None:
        self.path, self.max_bytes, self.backups = path, max_bytes, backups
        self._fd = self._open()

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)

    def _rotated_elsewhere(self) -> bool:
        try:
            return os.stat(self.path).st_ino != os.fstat(self._fd).st_ino
        except FileNotFoundError:
            return True

    def write(self, lines: list[str]) -> None:
        if self._rotated_elsewhere():
            os.close(self._fd)
            self._fd = self._open()
        # Fields are made writable in event_record; should one slip through, a lone surrogate
        # becomes `\udcXX` (a JSON escape of the same code point) instead of losing the batch.
        os.write(self._fd, "".join(lines).encode("utf-8", "backslashreplace"))
        if self.max_bytes and os.fstat(self._fd).st_size >= self.max_bytes:
            self._rotate()

    def _rotate(self) -> None:
        with open(self.path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self._rotated_elsewhere() and os.fstat(self._fd).st_size >= self.max_bytes:
                if self.backups == 0:
                    os.truncate(self.path, 0)
                else:
                    for i in range(self.backups - 1, 0, -1):
                        if os.path.exists(f"{self.path}.{i}"):
                            os.replace(f"{self.path}.{i}", f"{self.path}.{i + 1}")
                    os.replace(self.path, f"{self.path}.1")
            os.close(self._fd)
            self._fd = self._open()

    def close(self) -> None:
        os.close(self._fd)


def open_sink(settings: EventSettings):
    if settings.output == "off":
        return None
    if settings.output in ("stderr", "stdout"):
        return StreamSink(getattr(sys, settings.output))
    return RotatingFileSink(settings.output, settings.max_bytes, settings.backups)


# ---------------------------------------------------------------- the log

_STOP = object()


@dataclass(frozen=True)
class EventFilter:
    """What the admin API's /v1/events asks for; empty fields match everything."""

    service: str = ""
    hop: str = ""
    decision: str = ""
    action: str = ""
    cls: str = ""
    rule: str = ""
    request_id: str = ""
    trace_id: str = ""
    event_id: str = ""
    since: float = 0.0
    limit: int = 100

    def matches(self, t: float, e: Mapping) -> bool:
        if t < self.since:
            return False
        for key, want in (("service", self.service), ("hop", self.hop), ("decision", self.decision),
                          ("action", self.action), ("request_id", self.request_id),
                          ("trace_id", self.trace_id), ("event_id", self.event_id)):
            if want and e.get(key) != want:
                return False
        if self.cls and not any(f["class"] == self.cls for f in e["findings"]):
            return False
        if self.rule and not any(f["rule"] == self.rule for f in e["findings"]):
            return False
        return True


class EventLog:
    """Writes security events (background thread) and keeps the recent ones for the admin API."""

    def __init__(self, sink=None, recent: int = 1000, queue_size: int = 10000) -> None:
        self.sink = sink
        self._recent: collections.deque[tuple[float, dict]] = collections.deque(maxlen=max(recent, 0))
        self._recent_lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._writer: threading.Thread | None = None
        if sink is not None:
            self._writer = threading.Thread(target=self._write_loop, name="events", daemon=True)
            self._writer.start()

    @classmethod
    def from_settings(cls, settings: EventSettings) -> "EventLog":
        return cls(open_sink(settings), settings.recent)

    @classmethod
    def open(cls, output: str) -> "EventLog | None":
        """Compatibility: from an `events.output` value alone."""
        return cls.from_settings(EventSettings(output=output))

    def wants(self, verdict: Verdict) -> bool:
        return verdict.action not in QUIET_ACTIONS

    def record(self, request: Request, verdict: Verdict, seconds: float, trace: TraceIds = TraceIds()) -> dict:
        now = time.time()
        record = event_record(request, verdict, seconds, trace, now)
        with self._recent_lock:
            self._recent.append((now, record))
        if self.sink is not None:
            line = json.dumps({"type": "security_event", **record}, ensure_ascii=False, separators=(",", ":"))
            try:
                self._queue.put_nowait(line + "\n")
            except queue.Full:
                from extauthz.metrics import EVENTS_DROPPED

                EVENTS_DROPPED.inc()
                return record
        from extauthz.metrics import EVENTS

        EVENTS.labels(verdict.action.value).inc()
        return record

    def __call__(self, request: Request, verdict: Verdict, seconds: float, metadata: dict[str, str]) -> None:
        """As a CheckObserver on its own (no tracing): the trace id from the check's context."""
        if not self.wants(verdict):
            return
        from extauthz.telemetry.context import choose_parent

        parent = choose_parent(metadata, request.headers)
        self.record(request, verdict, seconds,
                    TraceIds(parent.trace_id_hex, "", parent.span_id_hex) if parent else TraceIds())

    def recent(self, flt: EventFilter = EventFilter()) -> list[dict]:
        """Newest first."""
        with self._recent_lock:
            items = list(self._recent)
        out = []
        for t, e in reversed(items):
            if flt.matches(t, e):
                out.append(e)
                if len(out) >= flt.limit:
                    break
        return out

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while len(batch) < 512:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            lines = [x for x in batch if x is not _STOP]
            if lines:
                try:
                    self.sink.write(lines)
                except Exception:  # a full disk must not kill the writer
                    log.exception("cannot write %d security events", len(lines))
            for _ in batch:
                self._queue.task_done()
            if len(lines) != len(batch):
                return

    def flush(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            self._queue.join()

    def close(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            self._queue.put(_STOP)
            self._writer.join(timeout=10)
        if self.sink is not None:
            self.sink.close()


def adopt_recent(old: EventLog, new: EventLog) -> None:
    """Keep the recent events across an events-settings reload."""
    with old._recent_lock:
        items: Iterable = list(old._recent)
    with new._recent_lock:
        new._recent.extend(items)
