"""One OpenTelemetry server span per check, joined to the request's trace.

The span is recorded after the decision, with the check's real start and end
times: the check itself runs no tracing code at all, and with tracing off this
module is never imported (the OpenTelemetry SDK is not even loaded).

What a span carries (no secrets: no headers, no query, no body; excerpts are
the findings' redacted ones): decision, action, score, threshold, service,
policy, hop, event id, the hashed actor, attack classes and rule ids, and one
span event `finding` per finding (class, rule, severity, location, decode
chain, excerpt). The parent is chosen by extauthz.telemetry.context.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Sequence

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from extauthz.config import TracingSettings
from extauthz.finding import Finding
from extauthz.request import Request
from extauthz.telemetry.context import TraceParent
from extauthz.verdict import Action, Verdict

log = logging.getLogger("extauthz.tracing")

SPAN_NAME = "envoy.service.auth.v3.Authorization/Check"
_SAMPLED, _NOT_SAMPLED = TraceFlags(TraceFlags.SAMPLED), TraceFlags(TraceFlags.DEFAULT)


def _exporter(settings: TracingSettings) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    env_endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return OTLPSpanExporter(endpoint=env_endpoint or settings.endpoint or None)


class CheckTracer:
    """Turns a decided check into a span; owns the TracerProvider and its exporter."""

    def __init__(self, settings: TracingSettings, exporter: SpanExporter | None = None,
                 worker: str = "") -> None:
        self.settings = settings
        attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": settings.service_name}
        if worker:
            attributes["extauthz.worker"] = worker
        sampler = None if os.environ.get("OTEL_TRACES_SAMPLER") else ParentBased(TraceIdRatioBased(settings.sample_ratio))
        # With our parent-based sampler an unsampled parent means no span: skip the SDK (≈1 µs, not ≈12).
        self.follows_parent = sampler is not None
        self.provider = TracerProvider(resource=Resource.create(attributes), sampler=sampler)
        self.provider.add_span_processor(BatchSpanProcessor(exporter or _exporter(settings)))
        self.tracer = self.provider.get_tracer("extauthz")

    def record(self, request: Request, verdict: Verdict, seconds: float, parent: TraceParent | None,
               findings: Sequence[Finding], actor_hash: str) -> tuple[str, str]:
        """Record the check's span; returns (trace id, span id) as hex, empty when not sampled."""
        if parent is not None and not parent.sampled and self.follows_parent:
            return parent.trace_id_hex, ""
        end = time.time_ns()
        start = end - int(seconds * 1e9)
        context = None
        if parent is not None:
            context = trace.set_span_in_context(NonRecordingSpan(SpanContext(
                parent.trace_id, parent.span_id, is_remote=True,
                trace_flags=_SAMPLED if parent.sampled else _NOT_SAMPLED)))
        attributes = {
            "rpc.system": "grpc",
            "rpc.service": "envoy.service.auth.v3.Authorization",
            "rpc.method": "Check",
            "extauthz.decision": verdict.decision.value,
            "extauthz.action": verdict.action.value,
            "extauthz.score": verdict.score,
            "extauthz.threshold": verdict.threshold,
            "extauthz.service": verdict.service[:256],
            "extauthz.policy": verdict.policy,
            "extauthz.hop": verdict.hop.value,
            "extauthz.mode": verdict.mode,
            "extauthz.event_id": verdict.event_id,
            "extauthz.actor.hash": actor_hash,
            "extauthz.classes": verdict.classes,
            "extauthz.rules": verdict.rules,
        }
        if request.request_id:
            attributes["extauthz.request_id"] = request.request_id[:128]
        if parent is not None:
            attributes["extauthz.parent_from"] = parent.origin
        span = self.tracer.start_span(SPAN_NAME, context=context, kind=SpanKind.SERVER,
                                      attributes=attributes, start_time=start)
        if not span.is_recording():
            span.end(end_time=end)
            ctx = span.get_span_context()
            return (f"{ctx.trace_id:032x}", "") if ctx.trace_id else ("", "")
        for f in findings[: self.settings.max_finding_events]:
            event = {
                "extauthz.finding.class": f.cls,
                "extauthz.finding.rule": f.rule,
                "extauthz.finding.severity": f.severity.name.lower(),
                "extauthz.finding.points": int(f.severity),
                "extauthz.finding.location": f.location,
                "extauthz.finding.source": f.source.value,
                "extauthz.finding.chain": list(f.chain),
                "extauthz.finding.excerpt": f.excerpt,
            }
            if f.detail:
                event["extauthz.finding.detail"] = f.detail
            span.add_event("finding", event, timestamp=end)
        if verdict.action is Action.FAILURE:
            span.set_status(Status(StatusCode.ERROR, verdict.reason[:256]))
        if verdict.reason:
            span.set_attribute("extauthz.reason", verdict.reason[:256])
        span.end(end_time=end)
        ctx = span.get_span_context()
        return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"

    def flush(self, timeout_millis: int = 5000) -> None:
        self.provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.provider.shutdown()
