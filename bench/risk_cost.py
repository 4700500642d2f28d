"""What actor risk costs per check: CPU µs in-process, Redis round trips with Redis.

    python bench/risk_cost.py [--checks 20000] [--actors 2000] [--redis-url URL] [--no-redis] [--json]

In-process: the risk stage's own work per check (identify the actor, the
store's bookkeeping, signals; and after the verdict, the risk update),
measured as this thread's CPU time around inspect + observe, over browser GETs
from a pool of actors with 5 % attacks mixed in. Also the whole engine with
and without the risk stage, for the difference as the server sees it.

With Redis (a redis-server started on a free loopback port, or --redis-url):
the same traffic through the engine with store.backend redis; round trips are
counted by a counting wrapper around the client's connection (one
send-then-read exchange = one round trip), split into those on the check path
and those behind it (the background writer), and cross-checked with Redis's
INFO commandstats. Targets (issue 5): ≤ 30 µs median in-process; ≤ 1 round
trip per check with Redis.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extauthz.config import Config, parse_config  # noqa: E402
from extauthz.engine import CheckContext, Engine  # noqa: E402
from extauthz.request import Hop, Peer, Request, split_uri  # noqa: E402
from extauthz.runtime import build_runtime  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
PAGES = ["/catalog/search?q=running+shoes&size=42&color=blue&sort=price_asc&page=2", "/", "/cart",
         "/product/1234?ref=home", "/static/app.js", "/account/orders?page=1"]
ATTACK = "/catalog/search?q=1'+union+select+password+from+users--&file=../../../../etc/passwd"


def traffic(n: int, actors: int, seed: int = 5) -> list[Request]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        a = rnd.randrange(actors)
        uri = ATTACK if rnd.random() < 0.05 else rnd.choice(PAGES)
        path, query = split_uri(uri)
        out.append(Request(method="GET", path=path, query=query,
                           headers={"host": ("shop.example.com",), "user-agent": (UA,)},
                           authority="shop.example.com", hop=Hop.EDGE, service="shop.example.com",
                           source=Peer(f"10.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}", 40000)))
    return out


class Clock:
    """Simulated time: each check 20 ms after the last (≈ 50 checks/s overall)."""

    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        self.t += 0.02
        return self.t


def stage_cost(config: Config, reqs: list[Request]) -> dict:
    clock = Clock()
    engine = Engine(config, clock=clock, runtime=build_runtime(config))
    risk = next(s for s in engine.stages if s.name == "risk")
    verdicts = [engine.check(r) for r in reqs]  # verdicts to observe (and a warm store)
    samples = []
    for r, v in zip(reqs, verdicts):
        ctx = CheckContext(r, engine.decider_for(r.service), clock())
        t0 = time.thread_time_ns()
        risk.inspect(ctx)
        risk.observe(ctx, v)
        samples.append((time.thread_time_ns() - t0) / 1000)
    samples.sort()
    return {"median_us": round(statistics.median(samples), 1), "p90_us": round(samples[int(len(samples) * .9)], 1),
            "p99_us": round(samples[int(len(samples) * .99)], 1)}


def engine_delta(config: Config, reqs: list[Request]) -> dict:
    off = parse_config("risk: {enabled: false}")
    out = {}
    for name, cfg in (("without risk", off), ("with risk", config)):
        engine = Engine(cfg, clock=Clock(), runtime=build_runtime(cfg))
        for r in reqs[:500]:
            engine.check(r)
        xs = []
        for r in reqs:
            t0 = time.thread_time_ns()
            engine.check(r)
            xs.append((time.thread_time_ns() - t0) / 1000)
        out[name] = round(statistics.median(xs), 1)
    out["difference"] = round(out["with risk"] - out["without risk"], 1)
    return out


class CountingConnection:
    """Counts round trips on one redis-py connection: a send followed by a read."""

    counts = {"check": 0, "background": 0}
    lock = threading.Lock()

    @classmethod
    def install(cls) -> None:
        from redis.connection import Connection
        orig_send, orig_read = Connection.send_packed_command, Connection.read_response

        def send(self, *a, **kw):
            self._rt_pending = True
            return orig_send(self, *a, **kw)

        def read(self, *a, **kw):
            if getattr(self, "_rt_pending", False):
                self._rt_pending = False
                who = "background" if threading.current_thread().name == "extauthz-redis" else "check"
                with cls.lock:
                    cls.counts[who] += 1
            return orig_read(self, *a, **kw)

        Connection.send_packed_command, Connection.read_response = send, read


def start_redis() -> tuple[subprocess.Popen, str, str]:
    from extauthz.mesh import free_port
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="extauthz-bench-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis
    for _ in range(100):
        try:
            if redis.Redis(port=port).ping():
                break
        except redis.RedisError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0", tmp


def redis_cost(url: str, reqs: list[Request]) -> dict:
    import redis
    CountingConnection.install()
    cfg = parse_config(f"store: {{backend: redis, redis: {{url: '{url}', namespace: bench}}}}")
    rt = build_runtime(cfg)
    engine = Engine(cfg, clock=Clock(), runtime=rt)
    admin = redis.Redis.from_url(url, decode_responses=True)
    admin.config_resetstat()
    before = dict(CountingConnection.counts)
    wall = []
    for r in reqs:
        t0 = time.perf_counter()
        engine.check(r)
        wall.append((time.perf_counter() - t0) * 1e6)
    time.sleep(0.2)  # let the background writer finish
    on_path = CountingConnection.counts["check"] - before["check"]
    behind = CountingConnection.counts["background"] - before["background"]
    stats = admin.info("commandstats")
    evalsha = stats.get("cmdstat_evalsha", {}).get("calls", 0)
    other = {k[8:]: v["calls"] for k, v in stats.items() if k != "cmdstat_evalsha" and k.startswith("cmdstat_")}
    store = rt.state
    rt.close()
    n = len(reqs)
    return {"checks": n, "round_trips_on_check_path": on_path, "round_trips_behind": behind,
            "round_trips_per_check": round((on_path + behind) / n, 3),
            "check_path_round_trips_per_check": round(on_path / n, 3),
            "evalsha_calls": evalsha, "other_commands": other,
            "store_counter": store.stats()["round_trips"],
            "check_wall_us_median": round(statistics.median(wall), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checks", type=int, default=20000)
    ap.add_argument("--actors", type=int, default=2000)
    ap.add_argument("--redis-url")
    ap.add_argument("--no-redis", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    reqs = traffic(args.checks, args.actors)
    config = Config()
    result = {"risk stage CPU per check (in-process store)": stage_cost(config, reqs),
              "engine CPU median per check": engine_delta(config, reqs[: min(len(reqs), 5000)])}
    if not args.no_redis:
        proc = tmp = None
        url = args.redis_url
        if not url:
            proc, url, tmp = start_redis()
        try:
            result["with redis"] = redis_cost(url, reqs[: min(len(reqs), 5000)])
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)
                shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k}: {json.dumps(v)}")
        print("targets: risk ≤ 30 µs median in-process; ≤ 1 Redis round trip per check")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
