"""Telemetry for each check: Prometheus metrics, an OpenTelemetry span, a security event.

`CheckTelemetry` is the server's one CheckObserver. It runs after the decision
(the response is already built), so nothing here can change a verdict, and
each part costs only when it is on:

- metrics: always; a few counter/histogram updates with cached label children;
- tracing: only when configured; otherwise the OpenTelemetry SDK is not loaded;
- events: only for verdicts an analyst should see (deny, monitor, failure, ...).

The trace context (extauthz.telemetry.context) is parsed only when a span or an
event needs it, so an allowed request with tracing off parses nothing.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Mapping

from extauthz.config import TracingSettings
from extauthz.events import EventLog, TraceIds, actor_hash, actor_of, redact
from extauthz.metrics import CheckMetrics
from extauthz.request import Request
from extauthz.telemetry.context import TraceParent, choose_parent
from extauthz.verdict import Verdict

if TYPE_CHECKING:
    from extauthz.telemetry.tracing import CheckTracer

__all__ = ["CheckTelemetry", "TraceParent", "choose_parent", "tracing_wanted"]


def tracing_wanted(settings: TracingSettings, environ: Mapping[str, str] = os.environ) -> bool:
    """The config turns tracing on; the standard OTEL_* variables can force it either way."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return settings.enabled or exporter == "otlp"


class CheckTelemetry:
    def __init__(self, metrics: CheckMetrics | None = None, tracer: "CheckTracer | None" = None,
                 events: EventLog | None = None) -> None:
        self.metrics = metrics
        self.tracer = tracer
        self.events = events  # replaced in one step when a reload changes the events settings

    def __call__(self, request: Request, verdict: Verdict, seconds: float, metadata: dict[str, str]) -> None:
        if self.metrics is not None:
            self.metrics(request, verdict, seconds, metadata)
        events, tracer = self.events, self.tracer
        wants_event = events is not None and events.wants(verdict)
        if tracer is None and not wants_event:
            return
        parent = choose_parent(metadata, request.headers)
        parent_ids = TraceIds(parent.trace_id_hex, "", parent.span_id_hex) if parent else TraceIds()
        trace = parent_ids
        if tracer is not None and not (parent is not None and not parent.sampled and tracer.follows_parent):
            findings = [redact(f) for f in verdict.findings]
            trace_id, span_id = tracer.record(request, verdict, seconds, parent, findings,
                                              actor_hash(actor_of(request)))
            trace = TraceIds(trace_id or parent_ids.trace_id, span_id, parent_ids.parent_span_id)
        if wants_event:
            events.record(request, verdict, seconds, trace)
