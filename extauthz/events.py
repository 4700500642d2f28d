"""Security events: one JSON line per decision an analyst should see.

Written for every deny and every monitor-mode hit (and failures, list hits and
blocked actors): event id, time, request id, service, hop, both identities,
decision, score and the findings with their redacted excerpts. Never the query
string, body, cookies or authorization headers: findings carry short, redacted
excerpts only.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from typing import TextIO

from extauthz.request import Request
from extauthz.verdict import Action, Verdict

QUIET_ACTIONS = frozenset({Action.ALLOW, Action.OFF})


def event_record(request: Request, verdict: Verdict, seconds: float) -> dict:
    src, dst = request.source, request.destination
    return {
        "event_id": verdict.event_id,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() % 1 * 1000):03d}Z",
        "request_id": request.request_id,
        "service": verdict.service,
        "policy": verdict.policy,
        "hop": verdict.hop.value,
        "direction": verdict.hop.direction,
        "method": request.method,
        "path": request.path[:512],
        "source": {"address": src.address, "principal": src.principal, "service": src.service},
        "destination": {"principal": dst.principal},
        "decision": verdict.decision.value,
        "action": verdict.action.value,
        "mode": verdict.mode,
        "score": verdict.score,
        "threshold": verdict.threshold,
        "reason": verdict.reason,
        "findings": [f.as_dict() for f in verdict.findings],
        "check_ms": round(seconds * 1000, 3),
    }


class EventLog:
    """A CheckObserver that writes events as JSON lines to a stream."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()

    @classmethod
    def open(cls, output: str) -> "EventLog | None":
        """From the `events.output` setting: stderr, stdout, off, or a file path (appended)."""
        if output == "off":
            return None
        if output in ("stderr", "stdout"):
            return cls(getattr(sys, output))
        return cls(open(output, "a", encoding="utf-8", buffering=1))

    def __call__(self, request: Request, verdict: Verdict, seconds: float, metadata: dict[str, str]) -> None:
        if verdict.action in QUIET_ACTIONS:
            return
        line = json.dumps({"type": "security_event", **event_record(request, verdict, seconds)},
                          ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()
