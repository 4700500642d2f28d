"""Detector share: CPU µs per check that each detector (or a group of them) costs.

    python bench/detector_share.py [--group a,b,c] [--rounds N] [--batches K]

For each case of bench/engine_cost.py the request is decoded once; then, per
detector, `scan_input` on the Inputs the prefilter hands it plus its
`scan_request` run `rounds` times in a row (thread CPU time, the median of
`batches` batches, divided by `rounds`). The prefilter's part is the
difference between scanning the Inputs with every detector's triggers and
with the group's triggers left out. A group's share = its detectors' own time
+ its prefilter part. Also prints the whole engine with and without the group.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_cost import CASES  # noqa: E402

from extauthz.config import Config, ServicePolicy  # noqa: E402
from extauthz.decode import extract  # noqa: E402
from extauthz.detect import REGISTRY, DetectorSet  # noqa: E402
from extauthz.detect.prefilter import Prefilter  # noqa: E402
from extauthz.engine import Engine  # noqa: E402

MISC = ("path_traversal", "ssrf_rfi", "scanner", "crlf", "ldapi", "nosqli", "session_fixation", "xxe",
        "protocol", "xpath")


def per_call(fn, rounds: int, batches: int) -> float:
    """Median over batches of thread-CPU µs per call of fn()."""
    fn()
    xs = []
    for _ in range(batches):
        t0 = time.thread_time_ns()
        for _ in range(rounds):
            fn()
        xs.append((time.thread_time_ns() - t0) / 1000 / rounds)
    return statistics.median(xs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--group", default=",".join(MISC))
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--batches", type=int, default=9)
    ap.add_argument("--engine", action="store_true", help="also time the whole engine with and without the group")
    args = ap.parse_args()
    group = [g for g in args.group.split(",") if g in REGISTRY]
    ds = DetectorSet.from_toggles({})
    rest = [d for d in ds.detectors if d.name not in group]
    pf_all, pf_rest = Prefilter(ds.detectors), Prefilter(rest)
    for case, request in CASES.items():
        inputs = extract(request).inputs
        print(f"== {case}: {len(inputs)} inputs")
        chosen = {d.name: [] for d in ds.detectors}
        for inp in inputs:
            for i in pf_all.candidates(inp.value):
                d = ds.detectors[i]
                if d.kinds is None or inp.kind in d.kinds:
                    chosen[d.name].append(inp)
        total = 0.0
        for d in ds.detectors:
            if d.name not in group:
                continue
            mine = chosen[d.name]

            def run(d=d, mine=mine) -> None:
                for inp in mine:
                    for _ in d.scan_input(inp):
                        pass
                for _ in d.scan_request(request, inputs):
                    pass
            us = per_call(run, args.rounds, args.batches)
            total += us
            print(f"  {d.name:18} {us:7.2f} µs  ({len(mine)} inputs scanned)")
        a = per_call(lambda: [pf_all.candidates(i.value) for i in inputs], args.rounds, args.batches)
        b = per_call(lambda: [pf_rest.candidates(i.value) for i in inputs], args.rounds, args.batches)
        print(f"  prefilter: all {a:.2f} µs, without group {b:.2f} µs -> group part {a - b:.2f} µs")
        print(f"  GROUP SHARE {total + (a - b):.2f} µs")
        if args.engine:
            on = Engine(Config())
            off = Engine(Config(defaults=ServicePolicy(detectors={n: False for n in group})))
            e_on = per_call(lambda: on.check(request), args.rounds // 3 or 1, args.batches)
            e_off = per_call(lambda: off.check(request), args.rounds // 3 or 1, args.batches)
            print(f"  engine: {e_on:.1f} µs with, {e_off:.1f} µs without the group ({e_on - e_off:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
