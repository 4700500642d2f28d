"""Which detector (or decoder) blows its time budget on which hostile input.

    python bench/detector_stress.py [--size 8192] [--pairs 1500] [--limit-ms 5] [--seed 1] [--json]

Hostile values are attack-syntax tokens (tests/fuzz_helpers.TOKENS) repeated
to `--size` characters: every single token, and `--pairs` random pairs of
tokens. Each value is handed, as a query parameter Input, to every detector
whose triggers it contains (as the pipeline does); each detector's CPU time
(this thread's, best of 3) is recorded. Printed: every (detector, value) over
`--limit-ms`, worst first, with a one-line reproducer for `extauthz check`,
and then the same values through the whole engine (decode + all detectors),
against the engine budget of 20 ms per 8 KiB hostile input.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from extauthz.config import Config, DecodeLimits  # noqa: E402
from extauthz.decode import Input  # noqa: E402
from extauthz.detect import DetectorSet  # noqa: E402
from extauthz.engine import Engine  # noqa: E402
from extauthz.request import Request  # noqa: E402

from detect_helpers import best_cpu_ms as cpu_ms  # noqa: E402
from fuzz_helpers import TOKENS  # noqa: E402

ENGINE_BUDGET_MS = 20.0


def values(size: int, pairs: int, seed: int) -> list[tuple[str, str]]:
    """(description, value) pairs: each token, and random pairs, repeated to `size` characters."""
    rnd = random.Random(seed)
    units = [(repr(t), t) for t in TOKENS if t]
    for _ in range(pairs):
        a, b = rnd.choice(TOKENS), rnd.choice(TOKENS)
        if a + b:
            units.append((f"{a!r}+{b!r}", a + b))
    out = []
    for desc, unit in units:
        n = max(1, size // len(unit))
        out.append((f"{desc}*{n}", (unit * n)[:size]))
    return out


def reproducer(desc: str, value: str) -> str:
    unit, _, n = desc.rpartition("*")
    return f"extauthz check \"/s?q=$(python3 -c 'import urllib.parse as u; print(u.quote(({unit})*{n}, safe=\"\"))')\""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=8192)
    ap.add_argument("--pairs", type=int, default=1500)
    ap.add_argument("--limit-ms", type=float, default=5.0, help="report a detector using more than this on one value")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    ds = DetectorSet.from_toggles({})
    slow: list[dict] = []
    raised: list[dict] = []
    worst_per_detector: dict[str, tuple[float, str]] = {}
    vals = values(args.size, args.pairs, args.seed)
    t_start = time.monotonic()
    for desc, v in vals:
        inp = Input("query", "q", v, (), v)
        for i in ds._prefilter.candidates(v):
            d = ds.detectors[i]
            if d.kinds is not None and "query" not in d.kinds:
                continue
            try:
                ms = cpu_ms(lambda: list(d.scan_input(inp)), tries=1)
            except Exception as exc:  # a detector must never raise: the check would get the failure decision
                raised.append({"detector": d.name, "value": desc, "error": f"{type(exc).__name__}: {exc}"[:200],
                               "reproduce": reproducer(desc, v)})
                continue
            if ms > args.limit_ms:
                ms = cpu_ms(lambda: list(d.scan_input(inp)))  # confirm: best of 3
            if ms > worst_per_detector.get(d.name, (0.0, ""))[0]:
                worst_per_detector[d.name] = (ms, desc)
            if ms > args.limit_ms:
                slow.append({"detector": d.name, "value": desc, "ms": round(ms, 1), "chars": len(v)})
    slow.sort(key=lambda r: -r["ms"])
    # the same values through the whole engine, as a query parameter, percent-encoded
    engine = Engine(Config(limits=DecodeLimits(time_budget_ms=60_000)))
    over: list[dict] = []
    suspects = {r["value"] for r in slow}
    for desc, v in vals:
        if desc not in suspects:
            continue
        req = Request(path="/s", query="q=" + quote(v, safe="", errors="surrogatepass"))
        engine.check(req)
        ms = cpu_ms(engine.check, req)
        if ms > ENGINE_BUDGET_MS:
            over.append({"value": desc, "engine_ms": round(ms, 1), "reproduce": reproducer(desc, v)})
    over.sort(key=lambda r: -r["engine_ms"])
    failures = []
    for r in raised:
        desc = r["value"]
        v = next(val for d, val in vals if d == desc)
        verdict = engine.check(Request(path="/s", query="q=" + quote(v, safe="", errors="surrogatepass")))
        if verdict.action.value == "failure":
            failures.append(desc)
    result = {"values": len(vals), "size": args.size, "seconds": round(time.monotonic() - t_start, 1),
              "raised": raised, "engine_failures": failures, "slow": slow, "engine_over_budget": over,
              "worst_per_detector": {k: {"ms": round(v[0], 2), "value": v[1]}
                                     for k, v in sorted(worst_per_detector.items(), key=lambda kv: -kv[1][0])}}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{len(vals)} hostile values of {args.size} chars, {result['seconds']} s")
    print(f"\ndetectors that RAISED (the engine answers with the failure decision): {len(raised)}")
    for r in raised[:20]:
        print(f"  {r['detector']:18} {r['value'][:70]}\n      {r['error'][:120]}\n      {r['reproduce']}")
    if raised:
        print(f"  of these, through the whole engine, the check ended in the failure decision: {len(failures)}")
    print(f"\nworst value per detector (CPU ms, best of 3 when over {args.limit_ms:g} ms):")
    for name, r in result["worst_per_detector"].items():
        print(f"  {name:18} {r['ms']:8.2f} ms   {r['value'][:80]}")
    print(f"\ndetector × value over {args.limit_ms:g} ms: {len(slow)}")
    for r in slow[:40]:
        print(f"  {r['detector']:18} {r['ms']:8.1f} ms   {r['value'][:90]}")
    print(f"\nwhole engine over {ENGINE_BUDGET_MS:g} ms (value as ?q=, percent-encoded): {len(over)}")
    for r in over[:20]:
        print(f"  {r['engine_ms']:8.1f} ms   {r['value'][:90]}\n      {r['reproduce']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
