"""Which trace a check belongs to: parse W3C traceparent and B3, pick the parent.

Verified against Envoy 1.40 (tests/test_tracing_envoy.py): with Envoy's tracing
on, the ext_authz gRPC call's *metadata* carries `traceparent` (and an empty
`tracestate`) naming Envoy's own ext_authz client span, while the CheckRequest's
*headers* carry whatever the client sent (its original `traceparent` or b3
headers, which Envoy has not rewritten yet at that point). So the order is:

  1. gRPC metadata `traceparent`   (Envoy's ext_authz span: the natural parent)
  2. gRPC metadata b3 / x-b3-*     (Envoy with the Zipkin tracer)
  3. request header `traceparent`  (Envoy tracing off: join the client's trace)
  4. request header b3 / x-b3-*
  5. none: a new root trace

The values are untrusted input: parsed by hand (fixed lengths, hex checks), no
regular expressions, nothing longer than a header of this kind can be.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

_HEX = frozenset("0123456789abcdef")
_MAX_HEADER = 256  # a traceparent is 55 characters; b3 single at most ~70


@dataclass(frozen=True, slots=True)
class TraceParent:
    trace_id: int
    span_id: int
    sampled: bool
    origin: str  # where it came from: "metadata:traceparent", "header:b3", ...

    @property
    def trace_id_hex(self) -> str:
        return f"{self.trace_id:032x}"

    @property
    def span_id_hex(self) -> str:
        return f"{self.span_id:016x}"


def _hex(value: str, length: int) -> int | None:
    if len(value) != length or not _HEX.issuperset(value):
        return None
    n = int(value, 16)
    return n or None  # all-zero ids are invalid in both formats


def parse_traceparent(value: str) -> tuple[int, int, bool] | None:
    """`00-<32 hex trace id>-<16 hex span id>-<2 hex flags>` (W3C Trace Context level 1)."""
    value = value.strip().lower()
    if len(value) > _MAX_HEADER:
        return None
    parts = value.split("-")
    if len(parts) < 4:
        return None
    version, trace, span, flags = parts[0], parts[1], parts[2], parts[3]
    if len(version) != 2 or not _HEX.issuperset(version) or version == "ff":
        return None
    if version == "00" and len(parts) != 4:
        return None
    trace_id, span_id = _hex(trace, 32), _hex(span, 16)
    if trace_id is None or span_id is None or len(flags) != 2 or not _HEX.issuperset(flags):
        return None
    return trace_id, span_id, bool(int(flags, 16) & 1)


def _b3_trace_id(value: str) -> int | None:
    value = value.strip().lower()
    if len(value) == 16:
        value = "0" * 16 + value  # 64-bit B3 trace ids are left-padded
    return _hex(value, 32)


def _b3_sampled(flag: str | None) -> bool:
    return (flag or "1").strip().lower() in ("1", "d", "true")


def parse_b3_single(value: str) -> tuple[int, int, bool] | None:
    """`b3: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]` (a lone `0`/`1`/`d` carries no ids)."""
    if len(value) > _MAX_HEADER:
        return None
    parts = value.strip().lower().split("-")
    if len(parts) < 2 or len(parts) > 4:
        return None
    trace_id, span_id = _b3_trace_id(parts[0]), _hex(parts[1], 16)
    if trace_id is None or span_id is None:
        return None
    return trace_id, span_id, _b3_sampled(parts[2] if len(parts) > 2 else None)


def parse_b3_multi(get) -> tuple[int, int, bool] | None:
    trace, span = get("x-b3-traceid"), get("x-b3-spanid")
    if not trace or not span or len(trace) > _MAX_HEADER or len(span) > _MAX_HEADER:
        return None
    trace_id, span_id = _b3_trace_id(trace), _hex(span.strip().lower(), 16)
    if trace_id is None or span_id is None:
        return None
    if (get("x-b3-flags") or "").strip() == "1":
        return trace_id, span_id, True
    return trace_id, span_id, _b3_sampled(get("x-b3-sampled"))


def _from(get, where: str) -> TraceParent | None:
    value = get("traceparent")
    if value:
        parsed = parse_traceparent(value)
        if parsed:
            return TraceParent(*parsed, origin=f"{where}:traceparent")
    value = get("b3")
    if value:
        parsed = parse_b3_single(value)
        if parsed:
            return TraceParent(*parsed, origin=f"{where}:b3")
    parsed = parse_b3_multi(get)
    if parsed:
        return TraceParent(*parsed, origin=f"{where}:x-b3")
    return None


def choose_parent(metadata: Mapping[str, str], headers: Mapping[str, tuple[str, ...]]) -> TraceParent | None:
    """The parent span of a check: Envoy's (metadata) first, then the request's own headers."""
    if metadata:
        found = _from(lambda k: metadata.get(k), "metadata")
        if found:
            return found

    def header(name: str) -> str | None:
        values = headers.get(name)
        return values[0] if values else None

    return _from(header, "header")
