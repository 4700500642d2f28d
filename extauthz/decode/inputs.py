"""Input, DecodeLimits and the extraction entry point."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from extauthz.finding import Finding, Severity, Source
from extauthz.request import Request


@dataclass(frozen=True, slots=True)
class Input:
    """One attacker-controlled value, decoded.

    `kind` is the part of the request it came from (query, path, header, cookie,
    form, json, xml, multipart, graphql, body); `location` is `kind:name`.
    `chain` lists the decoding layers undone, outermost first, e.g.
    ("percent", "base64").
    """

    kind: str
    name: str
    value: str
    chain: tuple[str, ...] = ()
    raw: str = ""

    @property
    def location(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind


@dataclass(frozen=True)
class DecodeLimits:
    max_inputs: int = 2048
    max_depth: int = 32
    max_value_bytes: int = 65536
    max_total_bytes: int = 1 << 20
    max_layers: int = 4
    time_budget_ms: float = 15.0


@dataclass(slots=True)
class Extraction:
    inputs: list[Input] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def limit_finding(rule: str, location: str, detail: str) -> Finding:
    return Finding("protocol", f"limit.{rule}", Severity.LOW, location, detail=detail, source=Source.DECODER)


def extract(request: Request, limits: DecodeLimits = DecodeLimits(), body_limit: int = 131072) -> Extraction:
    """Provisional extraction: query parameters and path only (replaced by the decode stage)."""
    out = Extraction()
    deadline = time.perf_counter() + limits.time_budget_ms / 1000.0
    out.inputs.append(Input("path", "", unquote_plus(request.path), ("percent",), request.path))
    for pair in request.query.split("&") if request.query else ():
        if len(out.inputs) >= limits.max_inputs or time.perf_counter() > deadline:
            out.findings.append(limit_finding("inputs", "query", "too many query parameters"))
            break
        name, _, value = pair.partition("=")
        out.inputs.append(Input("query", unquote_plus(name), unquote_plus(value), ("percent",), value))
    return out
