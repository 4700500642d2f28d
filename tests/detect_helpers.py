"""Run one detector the way the engine does: decode the request, prefilter, scan."""
from __future__ import annotations


from extauthz.budget import request_cpu
from extauthz.decode import extract
from extauthz.detect import Detector, DetectorSet
from extauthz.finding import Finding
from extauthz.request import Request, split_uri


def request(uri: str = "/", method: str = "GET", headers: dict | None = None, body: bytes | str = b"",
            host: str = "app.example.com") -> Request:
    path, query = split_uri(uri)
    hs = {"host": (host,)}
    for k, v in (headers or {}).items():
        hs[k.lower()] = v if isinstance(v, tuple) else (v,)
    raw = body.encode() if isinstance(body, str) else body
    return Request(method=method, path=path, query=query, headers=hs, body=raw, body_size=len(raw), authority=host)


def findings(detector: Detector, req: Request) -> list[Finding]:
    """What `detector` reports on `req` through decode and the prefilter."""
    return DetectorSet([detector]).scan(req, extract(req).inputs)


def rule_set(detector: Detector, req: Request) -> set[tuple[str, str]]:
    return {(f.rule, f.severity.name) for f in findings(detector, req)}


def best_cpu_ms(fn, *args, tries: int = 3) -> float:
    """This thread's CPU milliseconds for fn(*args), the best of `tries` (a busy machine adds, never removes)."""
    best = float("inf")
    for _ in range(tries):
        t0 = request_cpu()
        fn(*args)
        best = min(best, request_cpu() - t0)
    return best * 1000
