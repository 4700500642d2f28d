"""Detector: one small unit per attack family, registered by name.

A detector looks at decoded Inputs (and, if it needs to, the whole Request) and
returns Findings. To keep the per-request cost low, a detector declares
`triggers`: patterns (Hyperscan syntax, matched case-insensitively) of which at
least one must occur in an Input's value before `scan_input` runs on it. All
enabled detectors' triggers are compiled into one database, so each Input is
scanned once, in linear time, to learn which detectors need a closer look.
"""
from __future__ import annotations

import threading
from typing import ClassVar, Iterable, Sequence

from extauthz.decode import Input
from extauthz.finding import Finding
from extauthz.request import Request


class Detector:
    name: ClassVar[str] = ""
    # Prefilter patterns; None means "run scan_input on every Input it accepts".
    triggers: ClassVar[tuple[str, ...] | None] = None
    # Input kinds this detector inspects (query, path, header, cookie, form, json,
    # xml, multipart, graphql, body); None means all of them.
    kinds: ClassVar[frozenset[str] | None] = None

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        return ()

    def scan_request(self, request: Request, inputs: Sequence[Input]) -> Iterable[Finding]:
        """Request-level checks (header combinations, method, probe paths)."""
        return ()


_scan = threading.local()


def from_mesh_workload() -> bool:
    """Whether the request being scanned on this thread is an east-west call from a
    workload the mesh identified (a sidecar hop with the caller's mTLS principal, or the
    calling workload named on an outbound hop). Detectors whose judgement depends on
    who speaks read it, e.g. a cluster-internal URL is the mesh's own address space in a
    call between services, and an SSRF attempt in a request from outside."""
    return getattr(_scan, "mesh_workload", False)


def set_scan_request(request: Request | None) -> None:
    """Set by DetectorSet.scan around one request's scan (None when it is done)."""
    _scan.mesh_workload = request is not None and request.hop.direction == "east-west" and bool(
        request.source.principal or request.source.service)


REGISTRY: dict[str, type[Detector]] = {}


def register(cls: type[Detector]) -> type[Detector]:
    """Class decorator: make a detector available under its `name`."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no name")
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise TypeError(f"two detectors named {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls
