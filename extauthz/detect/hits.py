"""Hit: what a structural check found in one value, before it becomes a Finding.

Detectors that run several checks over a value (php, java, node, ssti) collect
Hits, keep the strongest, and turn it into a Finding for the Input.
"""
from __future__ import annotations

from dataclasses import dataclass

from extauthz.decode import Input
from extauthz.finding import Finding, Severity, excerpt


@dataclass(frozen=True, slots=True)
class Hit:
    severity: Severity
    rule: str
    start: int
    end: int
    detail: str


def stronger(a: Hit | None, b: Hit | None) -> Hit | None:
    """The more severe of two hits (the first on a tie)."""
    if b is None:
        return a
    if a is None or b.severity > a.severity:
        return b
    return a


def finding(cls: str, hit: Hit | None, inp: Input) -> tuple[Finding, ...]:
    if hit is None:
        return ()
    return (Finding(cls, hit.rule, hit.severity, inp.location, excerpt(inp.value, hit.start, hit.end, inp.location),
                    inp.chain, detail=hit.detail),)
