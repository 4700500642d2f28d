"""Replay a corpus as many actors at a browsing rate and count false blocks by risk.

    python bench/risk_replay.py [CORPUS.jsonl.gz] [--actors 50] [--interval 3] [--config F] [--json]

Each record goes to one of N actors in turn (each its own client address, the
record's own User-Agent); every actor sends its requests with exponentially
distributed pauses of mean `--interval` seconds on a simulated clock (the
Engine's clock=), so 30 minutes of browsing replay in CPU time. The whole
engine runs: detection, actor risk, the in-process store.

A *false block by risk* is a benign request denied because of the actor's risk:
denied as a blocked actor, or denied with a score that only reached the
threshold through risk findings. Denies by detection alone are the detectors'
false positives and are reported apart. Default corpus: the CSIC 2010 normal
traffic (dev half). Target (issue 5): 0 false blocks by risk.
"""
from __future__ import annotations

import argparse
import dataclasses
import heapq
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extauthz.config import Config, load_config  # noqa: E402
from extauthz.corpus import read_corpus  # noqa: E402
from extauthz.engine import Engine  # noqa: E402
from extauthz.finding import Source  # noqa: E402
from extauthz.request import Peer  # noqa: E402
from extauthz.runtime import build_runtime  # noqa: E402
from extauthz.verdict import Action, score  # noqa: E402

CSIC_NORMAL = "csic2010-test-normal-dev.jsonl.gz"


def default_corpus() -> str:
    """The shared corpus beside the checkout (../shared/corpus), or $EXTAUTHZ_CORPUS_DIR."""
    import os
    here = Path(__file__).resolve().parents[1]
    for d in (os.environ.get("EXTAUTHZ_CORPUS_DIR"), here.parent / "shared" / "corpus",
              here.parent.parent / "shared" / "corpus"):
        if d and (Path(d) / CSIC_NORMAL).exists():
            return str(Path(d) / CSIC_NORMAL)
    return str(here.parent / "shared" / "corpus" / CSIC_NORMAL)
T0 = 1_700_000_000.0


def actor_ip(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255 or 1}"


def attack_phase(engine: Engine, clock_now: list[float], attacks: str, attackers: int, per_attacker: int,
                 clean_uri: str = "/tienda1/index.jsp") -> dict:
    """Each attacker sends `per_attacker` obvious attacks one second apart (records a stateless
    engine denies on their own), then a clean request, then another once its block has passed."""
    stateless = Engine(engine.config)
    obvious = (r for r in read_corpus(attacks) if r.label == "attack" and stateless.check(r.request).denied)
    blocked_after: list[int | None] = []
    clean_denied = clean_allowed_later = 0
    block_seconds = engine.config.risk.block_seconds
    for k in range(attackers):
        ip = actor_ip(k + 1).replace("10.", "172.", 1)
        first_block = None
        for n in range(per_attacker):
            rec = next(obvious, None)
            if rec is None:
                break
            clock_now[0] += 1
            v = engine.check(dataclasses.replace(rec.request, source=Peer(ip, 50000)))
            if v.action is Action.ACTOR_BLOCKED and first_block is None:
                first_block = n  # attacks denied by detection before the block took over
        blocked_after.append(first_block)
        clock_now[0] += 1
        clean = dataclasses.replace(rec.request, source=Peer(ip, 50000), path=clean_uri, query="", body=b"",
                                    method="GET") if rec is not None else None
        if clean is not None:
            clean_denied += engine.check(clean).action is Action.ACTOR_BLOCKED
            clock_now[0] += block_seconds + 10
            clean_allowed_later += not engine.check(clean).denied
    got = [b for b in blocked_after if b is not None]
    return {"attack_corpus": Path(attacks).name, "attackers": attackers, "attacks_each": per_attacker,
            "blocked": len(got), "blocked_within_5": sum(1 for b in got if b <= 5),
            "attacks_before_block_max": max(got) if got else None,
            "attacks_before_block_median": sorted(got)[len(got) // 2] if got else None,
            "clean_request_denied_as_blocked_actor": clean_denied,
            "clean_request_allowed_after_block": clean_allowed_later}


def replay(corpus: str, config: Config, actors: int, interval: float, seed: int = 1,
           attacks: str | None = None, attackers: int = 0) -> dict:
    rnd = random.Random(seed)
    queues: list[list] = [[] for _ in range(actors)]
    for n, rec in enumerate(read_corpus(corpus)):
        queues[n % actors].append(rec)
    clock_now = [T0]
    engine = Engine(config, clock=lambda: clock_now[0], runtime=build_runtime(config))
    # (time, actor, index): each actor's next request
    heap = [(T0 + rnd.expovariate(1 / interval), a, 0) for a in range(actors) if queues[a]]
    heapq.heapify(heap)
    counts: Counter[str] = Counter()
    blocked_actors: set[int] = set()
    examples: list[dict] = []
    risk_findings: Counter[str] = Counter()
    t_start = time.perf_counter()
    last_t = T0
    while heap:
        t, a, i = heapq.heappop(heap)
        rec = queues[a][i]
        clock_now[0] = last_t = t
        request = dataclasses.replace(rec.request, source=Peer(actor_ip(a + 1), 40000 + a))
        v = engine.check(request)
        counts["requests"] += 1
        counts[f"label:{rec.label}"] += 1
        for f in v.findings:
            if f.source is Source.RISK:
                risk_findings[f.rule] += 1
        false_by_risk = False
        if v.action is Action.ACTOR_BLOCKED:
            counts["denied_blocked_actor"] += 1
            blocked_actors.add(a)
            false_by_risk = rec.label == "benign"
        elif v.action is Action.DENY:
            without_risk = score(f for f in v.findings if f.source is not Source.RISK)
            if without_risk < v.threshold:
                counts["denied_by_risk_findings"] += 1
                false_by_risk = rec.label == "benign"
            else:
                counts["denied_by_detection"] += 1
        if false_by_risk:
            counts["false_blocks_by_risk"] += 1
            if len(examples) < 5:
                examples.append({"id": rec.id, "actor": a, "reason": v.reason, "uri": rec.raw.get("uri", "")[:120]})
        if i + 1 < len(queues[a]):
            heapq.heappush(heap, (t + rnd.expovariate(1 / interval), a, i + 1))
    attack_result = attack_phase(engine, clock_now, attacks, attackers, 20) if attacks and attackers else None
    return {
        "attack_phase": attack_result,
        "corpus": Path(corpus).name, "actors": actors, "mean_interval_s": interval,
        "simulated_minutes": round((last_t - T0) / 60, 1),
        "requests": counts["requests"], "benign": counts["label:benign"], "attack": counts["label:attack"],
        "denied_by_detection": counts["denied_by_detection"],
        "denied_blocked_actor": counts["denied_blocked_actor"],
        "denied_by_risk_findings": counts["denied_by_risk_findings"],
        "false_blocks_by_risk": counts["false_blocks_by_risk"],
        "actors_ever_blocked": len(blocked_actors),
        "risk_findings": dict(risk_findings),
        "examples": examples,
        "seconds": round(time.perf_counter() - t_start, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", default=None, help=f"default: ../shared/corpus/{CSIC_NORMAL}")
    ap.add_argument("--actors", type=int, default=50)
    ap.add_argument("--interval", type=float, default=3.0, help="mean seconds between one actor's requests")
    ap.add_argument("--config")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--attacks", help="then: attackers send 20 obvious attacks each from this corpus")
    ap.add_argument("--attackers", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    config = load_config(args.config) if args.config else Config()
    r = replay(args.corpus or default_corpus(), config, args.actors, args.interval, args.seed,
               args.attacks, args.attackers)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"{r['corpus']}: {r['requests']} requests ({r['benign']} benign) as {r['actors']} actors, "
          f"one request per {r['mean_interval_s']:g} s on average, {r['simulated_minutes']} simulated minutes")
    print(f"  denied by detection alone (detector false positives on benign): {r['denied_by_detection']}")
    print(f"  denied as blocked actor: {r['denied_blocked_actor']}   denied through risk findings: "
          f"{r['denied_by_risk_findings']}   actors ever blocked: {r['actors_ever_blocked']}")
    print(f"  FALSE BLOCKS BY RISK: {r['false_blocks_by_risk']}   (target 0)")
    print(f"  risk findings: {r['risk_findings'] or 'none'}")
    for e in r["examples"]:
        print(f"    e.g. actor {e['actor']}: {e['reason']}  {e['uri']}")
    a = r["attack_phase"]
    if a:
        print(f"{a['attack_corpus']}: {a['attackers']} attackers x {a['attacks_each']} obvious attacks: "
              f"{a['blocked']} blocked, {a['blocked_within_5']} within the first 5 "
              f"(attacks denied before the block: median {a['attacks_before_block_median']}, "
              f"max {a['attacks_before_block_max']})")
        print(f"  next clean request denied as blocked actor: {a['clean_request_denied_as_blocked_actor']}"
              f"/{a['attackers']}; allowed again after the block: {a['clean_request_allowed_after_block']}"
              f"/{a['attackers']}")
    print(f"  {r['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
