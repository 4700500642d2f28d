"""Per-request cost of the behaviour profile stage: inspect + observe, CPU µs.

    python bench/profile_cost.py [--rounds 2000] [--json]

Target (issue 4): <= 50 µs median per request for the profile stage.
A synthetic shop service learns 1,000 requests per endpoint (browser GET with
5 query parameters and browser headers and cookies, a 13-field form POST, a
JSON order API, an id in the path); then, with the profile enforced and still
learning (`profile.mode: auto`, the serving default), each case runs `rounds`
fresh requests (new values each time, so no cache hides the work). Only the
profile stage's own inspect and observe are timed (time.thread_time_ns: this
thread's CPU); decoding and detectors run before, untimed, as in the engine.
A second figure is the difference of whole-engine medians with and without
the profile stage over the same requests, interleaved.

Steady state: every endpoint has learned 1,000 requests, so (as in serving)
1 in 4 of its ordinary requests is learned (ProfileBook.sample).
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extauthz.config import parse_config  # noqa: E402
from extauthz.engine import CheckContext, Engine  # noqa: E402
from extauthz.request import Hop, Peer, Request, split_uri  # noqa: E402
from extauthz.runtime import build_runtime  # noqa: E402

CONFIG = """
state: {flush_seconds: 3600}
risk: {enabled: false}
defaults:
  profile: {mode: %s, min_samples: 100, stable_samples: 100}
"""
BROWSER = {
    "user-agent": ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",),
    "accept": ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",),
    "accept-language": ("en-US,en;q=0.9,de;q=0.7",),
    "referer": ("https://shop.example.com/catalog/shoes?sort=price",),
}
WORDS = ("running", "shoes", "trail", "rain", "jacket", "wool", "socks", "kids", "summer", "sale", "blue", "red")
NAMES = ("Ana", "Luis", "Marta", "Jon", "Iker", "Sara", "Pablo", "Nerea", "Olga", "Tomas", "Eva", "Raul")
CITIES = ("Madrid", "Bilbao", "Sevilla", "Valencia", "Zaragoza", "Girona", "Lugo", "Soria")


def _req(method: str, uri: str, headers: dict, body: str = "", client: str = "203.0.113.7") -> Request:
    path, query = split_uri(uri)
    raw = body.encode()
    return Request(method=method, path=path, query=query, headers={"host": ("shop.example.com",), **headers},
                   body=raw, body_size=len(raw), authority="shop.example.com", hop=Hop.EDGE,
                   service="shop.example.com", source=Peer(client, 51234))


def browser_get(rng: random.Random) -> Request:
    q = quote_plus(" ".join(rng.sample(WORDS, rng.randint(1, 3))))
    cookie = f"sessionid={rng.getrandbits(128):032x}; theme={rng.choice(['dark', 'light'])}; consent=1"
    return _req("GET", f"/catalog/search?q={q}&size={rng.randint(30, 48)}&color={rng.choice(WORDS[-2:])}"
                       f"&sort={rng.choice(['price_asc', 'price_desc', 'new'])}&page={rng.randint(1, 20)}",
                {**BROWSER, "cookie": (cookie,)}, client=f"203.0.113.{rng.randint(1, 200)}")


def form_post(rng: random.Random) -> Request:
    name, last = rng.choice(NAMES), rng.choice(NAMES)
    fields = {"modo": "registro", "login": f"{name.lower()}{rng.randint(1, 99)}", "password": f"x{rng.getrandbits(40):x}",
              "nombre": name, "apellidos": f"{last} {rng.choice(NAMES)}", "email": f"{name.lower()}@example.es",
              "dni": f"{rng.randint(0, 99999999):08d}{rng.choice('ABCDEFGHJK')}",
              "direccion": f"Calle {rng.choice(NAMES)} {rng.randint(1, 200)}, {rng.randint(1, 9)}B",
              "ciudad": rng.choice(CITIES), "cp": f"{rng.randint(1000, 52999):05d}", "provincia": rng.choice(CITIES),
              "ntc": f"{rng.getrandbits(52):016d}"[:16], "B1": "Registrar"}
    body = "&".join(f"{k}={quote_plus(v)}" for k, v in fields.items())
    return _req("POST", "/account/register", {**BROWSER, "content-type": ("application/x-www-form-urlencoded",)}, body,
                client=f"198.51.100.{rng.randint(1, 200)}")


def json_order(rng: random.Random) -> Request:
    order = {"customer": {"name": rng.choice(NAMES), "email": f"{rng.choice(NAMES).lower()}@example.com"},
             "items": [{"sku": f"SKU-{rng.randint(1000, 9999)}", "qty": rng.randint(1, 5)} for _ in range(rng.randint(1, 3))],
             "note": " ".join(rng.sample(WORDS, 3)), "express": rng.choice([True, False]), "coupon": rng.choice(["", "SALE10"])}
    return _req("POST", "/api/orders", {"content-type": ("application/json",), "user-agent": ("shop-app/2.1",)},
                json.dumps(order), client=f"192.0.2.{rng.randint(1, 200)}")


def user_orders(rng: random.Random) -> Request:
    return _req("GET", f"/users/{rng.randint(1, 99999)}/orders?tab={rng.choice(['open', 'done', 'all'])}",
                dict(BROWSER), client=f"203.0.113.{rng.randint(1, 200)}")


CASES = {"browser GET, 5 params + headers": browser_get, "form POST, 13 fields": form_post,
         "JSON order POST": json_order, "GET /users/{int}/orders": user_orders}


def measure(engine: Engine, request: Request) -> float:
    stages = {s.name: s for s in engine.stages}
    detect, profile = stages["detect"], stages["profile"]
    decider = engine.decider_for(request.service)
    ctx = CheckContext(request, decider, request.received_at or time.time())
    detect.inspect(ctx)
    t0 = time.thread_time_ns()
    profile.inspect(ctx)
    t1 = time.thread_time_ns()
    verdict = decider.decide(request, ctx.findings)
    t2 = time.thread_time_ns()
    profile.observe(ctx, verdict)
    t3 = time.thread_time_ns()
    return (t1 - t0 + t3 - t2) / 1000


def engine_cpu(engine: Engine, request: Request) -> float:
    t0 = time.thread_time_ns()
    engine.check(request)
    return (time.thread_time_ns() - t0) / 1000


def marginal(with_profile: Engine, without: Engine, requests: list[Request]) -> float:
    """Median whole-engine CPU with the profile stage minus without it, the same requests interleaved."""
    a, b = [], []
    for r in requests:
        a.append(engine_cpu(with_profile, r))
        b.append(engine_cpu(without, r))
    return statistics.median(a) - statistics.median(b)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--train", type=int, default=1000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rng = random.Random(7)
    learn_cfg = parse_config(CONFIG % "learn")
    runtime = build_runtime(learn_cfg, actor_state=False)
    learner = Engine(learn_cfg, runtime=runtime)
    for _ in range(args.train):
        for make in CASES.values():
            learner.check(make(rng))
    runtime.profiles.flush()
    serve_cfg = parse_config(CONFIG % "auto")
    engine = Engine(serve_cfg, runtime=runtime)  # a reload: same runtime, profile now enforced
    bare = Engine(serve_cfg, stages=[s for s in engine.stages if s.name != "profile"])
    results = {}
    for name, make in CASES.items():
        requests = [make(rng) for _ in range(args.rounds)]
        for r in requests[:50]:
            measure(engine, r)
        xs = [measure(engine, r) for r in requests]
        flagged = sum(1 for r in requests[:200] if engine.check(r).findings)
        results[name] = {"median_us": round(statistics.median(xs), 1), "p99_us": round(sorted(xs)[int(len(xs) * .99) - 1], 1),
                         "engine_delta_us": round(marginal(engine, bare, [make(rng) for _ in range(args.rounds // 2)]), 1),
                         "benign_flagged_of_200": flagged}
    mix = [make(rng) for _ in range(args.rounds // 4) for make in CASES.values()]
    everything = [measure(engine, r) for r in mix]
    results["all cases together"] = {"median_us": round(statistics.median(everything), 1),
                                     "engine_delta_us": round(marginal(engine, bare, mix), 1)}
    runtime.close()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, r in results.items():
            extra = f"  p99 {r['p99_us']:6.1f} µs  benign with findings {r['benign_flagged_of_200']}/200" if "p99_us" in r else ""
            print(f"{name:34} stage median {r['median_us']:6.1f} µs  (engine with - without: "
                  f"{r['engine_delta_us']:6.1f} µs){extra}")
        print("target: profile stage <= 50 µs median per request (inspect + observe)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
