"""Engine cost: CPU µs per check over a fixed request mix, in-process.

    python bench/engine_cost.py [--config FILE] [--rounds N] [--json]

Targets (issue 3): browser GET with 5 query parameters ≤ 150 µs median;
45-field JSON POST ≤ 1 ms; no single 8 KiB hostile input over 20 ms.
Each case runs `rounds` times after a warm-up; per-call CPU time comes from
time.thread_time_ns (this thread's CPU, not wall clock), so a busy machine
inflates it less than wall time would.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extauthz.config import Config, load_config  # noqa: E402
from extauthz.engine import Engine  # noqa: E402
from extauthz.request import Hop, Peer, Request, split_uri  # noqa: E402

BROWSER_HEADERS = {
    "host": ("shop.example.com",),
    "user-agent": ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",),
    "accept": ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",),
    "accept-language": ("en-US,en;q=0.9,de;q=0.7",),
    "accept-encoding": ("gzip, deflate, br",),
    "referer": ("https://shop.example.com/catalog/shoes?sort=price",),
    "cookie": ("sessionid=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1",),
    "x-request-id": ("3f2b8c1e-9a7d-4e21-8f00-1c2d3e4f5a6b",),
}


def req(method: str, uri: str, headers: dict, body: bytes = b"") -> Request:
    path, query = split_uri(uri)
    return Request(method=method, path=path, query=query, headers=headers, body=body,
                   body_size=len(body), authority="shop.example.com", hop=Hop.EDGE,
                   service="shop.example.com", source=Peer("203.0.113.7", 51234))


def json_post_45() -> Request:
    fields = {}
    for i in range(15):
        fields[f"name_{i}"] = f"Customer Name {i}"
        fields[f"qty_{i}"] = i * 3
        fields[f"note_{i}"] = "Please leave the parcel at the back door, thanks!" if i % 2 else "n/a"
    body = json.dumps({"order": fields}).encode()
    headers = dict(BROWSER_HEADERS, **{"content-type": ("application/json",), "content-length": (str(len(body)),)})
    return req("POST", "/api/orders", headers, body)


def hostile_8k() -> dict[str, Request]:
    n = 8192
    h = dict(BROWSER_HEADERS)
    form = dict(h, **{"content-type": ("application/x-www-form-urlencoded",)})
    js = dict(h, **{"content-type": ("application/json",)})
    return {
        "8k %": req("GET", "/s?q=" + "%" * (n - 5), h),
        "8k '": req("GET", "/s?q=" + "'" * (n - 5), h),
        "8k %25 chains": req("GET", "/s?q=" + "%2525" * (n // 5), h),
        "8k json depth": req("POST", "/api", js, b"[" * (n // 2) + b"]" * (n // 2)),
        "8k tiny params": req("POST", "/f", form, b"&".join(b"a=%d" % i for i in range(n // 6))[:n]),
        "8k base64": req("GET", "/s?q=" + "QUFB" * (n // 4 - 2), h),
        "8k entities": req("GET", "/s?q=" + "%26%23x41%3B" * (n // 12), h),
        "8k regex bomb": req("GET", "/s?q=" + ("a" * 30 + "!") * (n // 31), h),
        "8k sql comments": req("GET", "/s?q=" + "/**/" * (n // 4 - 2), h),
        "8k html": req("GET", "/s?q=" + "%3Cb%3E" * (n // 7), h),
    }


CASES = {
    "browser GET, 5 params": req("GET", "/catalog/search?q=running+shoes&size=42&color=blue&sort=price_asc&page=2", BROWSER_HEADERS),
    "45-field JSON POST": json_post_45(),
}


def measure(engine: Engine, r: Request, rounds: int) -> list[float]:
    for _ in range(min(50, rounds)):
        engine.check(r)
    out = []
    for _ in range(rounds):
        t0 = time.thread_time_ns()
        engine.check(r)
        out.append((time.thread_time_ns() - t0) / 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config")
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    engine = Engine(load_config(args.config) if args.config else Config())
    results = {}
    for name, r in CASES.items():
        xs = measure(engine, r, args.rounds)
        results[name] = {"median_us": statistics.median(xs), "p99_us": sorted(xs)[int(len(xs) * 0.99) - 1]}
    for name, r in hostile_8k().items():
        xs = measure(engine, r, max(5, args.rounds // 100))
        results[name] = {"median_us": statistics.median(xs), "max_us": max(xs)}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, r in results.items():
            extra = f"p99 {r['p99_us']:8.1f}" if "p99_us" in r else f"max {r['max_us']:8.1f}"
            print(f"{name:28} median {r['median_us']:8.1f} µs   {extra} µs")
        print("targets: GET ≤ 150 µs, JSON POST ≤ 1000 µs, every 8k hostile input ≤ 20000 µs (max)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
