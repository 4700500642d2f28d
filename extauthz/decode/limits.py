"""DecodeLimits: the bounds on parsing and decoding (the `limits:` config section).

Every loop over request data in extauthz.decode is bounded by one of these. A
bound that is reached becomes a `limit.<what>` Finding with the location where
it happened (see extauthz.decode.anomalies for the severities and why); the
request is never failed and nothing is skipped silently.

This module imports nothing from extauthz.config (config imports it), so the
field metadata is spelled out here in the same shape as config.doc().
"""
from __future__ import annotations

from dataclasses import dataclass, field


def _doc(text: str, minimum: float = 1) -> dict:
    def check(v: float) -> str | None:
        return None if v >= minimum else f"must be at least {minimum:g}"
    return {"doc": text, "check": check}


@dataclass(frozen=True)
class DecodeLimits:
    """Bounds on parse and decode work for one request (all services)."""

    max_inputs: int = field(default=1000, metadata=_doc(
        "values examined per request (parameters, cookies, headers, JSON members, XML nodes, "
        "multipart parts); the rest is not inspected and limit.inputs is reported. "
        "1000 matches PHP's max_input_vars"))
    max_depth: int = field(default=32, metadata=_doc(
        "nesting depth of JSON/XML and of formats inside values (JSON in a parameter, ...); "
        "deeper structure is not descended into (limit.depth)"))
    max_value_bytes: int = field(default=16384, metadata=_doc(
        "characters of one value inspected as one piece; a longer value is inspected in "
        "overlapping pieces of this size, at most 4 (64 KiB by default; of a longer value, 3 from "
        "its start and its tail), all counted against max_total_bytes (limit.value-bytes)", minimum=16))
    max_total_bytes: int = field(default=1 << 20, metadata=_doc(
        "characters of all values of a request taken together (limit.total-bytes)", minimum=16))
    max_layers: int = field(default=6, metadata=_doc(
        "decoding layers undone on one value (percent, entities, escapes, base64, ...); "
        "more nesting than this is evasion (limit.layers)"))
    time_budget_ms: float = field(default=10.0, metadata=_doc(
        "CPU time for parsing and decoding one request (this thread's, so waiting for the CPU or "
        "the GIL does not count; at most twice this is spent); a backstop, the other limits "
        "should always bind first (limit.time)", minimum=0.1))
    detect_budget_ms: float = field(default=10.0, metadata=_doc(
        "CPU time for the detectors on one request (this thread's; at most this, at least half of "
        "it when the thread is kept waiting), checked between detector calls and inside the costly "
        "ones; once spent, the remaining values are not inspected (limit.detect-time). Ordinary "
        "requests take well under a millisecond", minimum=0.1))
    detect_budget_per_kib_ms: float = field(default=6.0, metadata=_doc(
        "added to the detector budget per KiB of long text beyond the first (values of 1 KiB "
        "or more of varied words with little code or markup syntax), up to "
        "detect_budget_max_ms: text costs the detectors 3-6 ms per KiB, so a 6 KiB comment "
        "is read whole instead of denied by the budget. Withdrawn as soon as a detector finds "
        "something high or critical (the request is blocked anyway). 0 = a fixed budget", minimum=0))
    detect_wall_max_ms: float = field(default=200.0, metadata=_doc(
        "wall time after which a budget raised by the long-text allowance is spent too, however "
        "little CPU the check got (other checks held the interpreter): keep it below your Envoy's "
        "ext_authz timeout (250 ms in the shipped configs), so that a busy process answers with "
        "limit.detect-time instead of the proxy timing out while extauthz reads on", minimum=1))
    detect_budget_max_ms: float = field(default=120.0, metadata=_doc(
        "the most detect_budget_per_kib_ms may raise the detector budget to (a service "
        "policy's larger detect_budget_ms still applies); keep it well below detect_wall_max_ms",
        minimum=0.1))
