"""Shared helpers for the decode tests."""
from __future__ import annotations

from extauthz.decode import DecodeLimits, Extraction, extract
from extauthz.decode.collector import Collector
from extauthz.request import Request

# A generous time budget: property tests must be deterministic on a busy machine.
NO_TIME_LIMIT = DecodeLimits(time_budget_ms=60_000)


def collector(**limits) -> Collector:
    return Collector(DecodeLimits(**{"time_budget_ms": 60_000, **limits}))


def post(body: bytes | str, content_type: str | None = None, path: str = "/api", **limits) -> Extraction:
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = {"content-type": (content_type,)} if content_type else {}
    return extract(Request(method="POST", path=path, headers=headers, body=body, body_size=len(body)),
                   DecodeLimits(**{"time_budget_ms": 60_000, **limits}))


def values(ex: Extraction, location: str | None = None, role: str | None = None) -> list[str]:
    return [i.value for i in ex.inputs
            if (location is None or i.location == location) and (role is None or i.role == role)]


def by_location(ex: Extraction) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i in ex.inputs:
        out.setdefault(i.location, []).append(i.value)
    return out


def rules(ex: Extraction) -> set[str]:
    return {f.rule for f in ex.findings}


def parse_twice(parser: str, text: str, where, **limits) -> tuple:
    """Run a parser twice on fresh collectors: (inputs, finding rules) of each run."""
    from extauthz.decode.parsers import PARSERS
    runs = []
    for _ in range(2):
        c = collector(**limits)
        PARSERS[parser].parse(c, text, where)
        runs.append((c.inputs, [f.rule for f in c.findings()]))
    return runs[0], runs[1]
