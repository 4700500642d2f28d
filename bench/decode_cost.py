"""Decode cost alone: CPU µs of extauthz.decode.extract per request, same mix as engine_cost.py.

    python bench/decode_cost.py [--rounds N] [--json]

Targets (issue "Parse and decode"): browser GET with 5 parameters ≤ 30 µs,
45-field JSON POST ≤ 250 µs, so that detectors keep most of the engine budget
(bench/engine_cost.py). Per-call CPU time from time.thread_time_ns; the median
over `rounds` calls after a warm-up, and the number of Inputs and decoder
findings each request yields.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_cost import CASES, hostile_8k  # noqa: E402

from extauthz.decode import extract  # noqa: E402
from extauthz.request import Request  # noqa: E402


def measure(r: Request, rounds: int) -> list[float]:
    for _ in range(min(50, rounds)):
        extract(r)
    out = []
    for _ in range(rounds):
        t0 = time.thread_time_ns()
        extract(r)
        out.append((time.thread_time_ns() - t0) / 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = {}
    cases = {**CASES, **hostile_8k()}
    for name, r in cases.items():
        xs = measure(r, args.rounds if name in CASES else max(5, args.rounds // 100))
        ex = extract(r)
        results[name] = {"median_us": statistics.median(xs), "max_us": max(xs), "inputs": len(ex.inputs),
                         "findings": sorted({f.rule for f in ex.findings})}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, r in results.items():
            print(f"{name:28} median {r['median_us']:8.1f} µs   max {r['max_us']:8.1f} µs   "
                  f"inputs {r['inputs']:4}  {' '.join(r['findings'])}")
        print("targets: GET ≤ 30 µs, JSON POST ≤ 250 µs (decode alone)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
