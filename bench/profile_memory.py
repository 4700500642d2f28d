"""Memory of learned behaviour profiles: N services x E endpoints x P parameters.

    python bench/profile_memory.py [--services 100] [--endpoints 50] [--params 20] [--samples 40]

Target (issue 4): 100 services x 50 endpoints x 20 parameters in <= 150 MiB RSS.
The profiles are learned from synthetic traffic (a mix of integer ids, small
enumerations, names, e-mail addresses, dates, hex tokens and free text, the
kinds of values APIs carry) through the profile stage's own learning path,
written to a SQLite state directory, and then loaded by a fresh process the
way `extauthz serve` loads them at start; that process prints its RSS, which is
the figure to compare (it includes the interpreter and everything extauthz
imports). The learning process's own RSS is printed too.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extauthz.config import parse_config  # noqa: E402
from extauthz.decode import Input  # noqa: E402
from extauthz.profile.examine import examine  # noqa: E402
from extauthz.request import Hop, Peer, Request  # noqa: E402
from extauthz.runtime import build_runtime  # noqa: E402

WORDS = ("red", "green", "blue", "small", "large", "new", "used", "shoes", "jacket", "socks", "rain", "trail",
         "wool", "cotton", "summer", "winter", "kids", "women", "men", "sale")
NAMES = ("ana", "luis", "marta", "jon", "iker", "sara", "pablo", "nerea", "olga", "tomas", "eva", "raul",
         "maria", "jose", "carmen", "david", "laura", "javier", "paula", "daniel")


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def value_maker(kind: int, rng: random.Random):
    """One parameter's value generator; the kind decides what the parameter carries."""
    choices = [rng.choice(WORDS) for _ in range(rng.randint(2, 6))]
    return [
        lambda: str(rng.randint(1, 10 ** rng.randint(1, 6))),                       # integer id
        lambda: rng.choice(choices),                                                # small enumeration
        lambda: rng.choice(NAMES).capitalize() + " " + rng.choice(NAMES).capitalize(),  # a name
        lambda: f"{rng.choice(NAMES)}.{rng.randint(1, 99)}@example{rng.randint(1, 9)}.com",  # e-mail
        lambda: f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",           # date
        lambda: "%032x" % rng.getrandbits(128),                                     # hex token
        lambda: " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8))),      # free text
        lambda: rng.choice(("true", "false")),                                      # flag
    ][kind % 8]


def learn(services: int, endpoints: int, params: int, samples: int, state_dir: str) -> None:
    config = parse_config(f"""
state: {{dir: "{state_dir}", flush_seconds: 3600}}
risk: {{enabled: false}}
defaults: {{profile: {{mode: learn}}}}
""")
    runtime = build_runtime(config, actor_state=False)
    book = runtime.profiles
    rng = random.Random(1)
    for s in range(services):
        service = f"svc-{s:03d}.shop.svc.cluster.local"
        for e in range(endpoints):
            path = f"/api/v1/{rng.choice(WORDS)}-{e}/items"
            method = rng.choice(("GET", "POST", "PUT", "DELETE"))
            makers = [(f"p{e}_{i}_{rng.choice(WORDS)}", value_maker(rng.randrange(8), rng)) for i in range(params)]
            kind = "query" if method in ("GET", "DELETE") else "json"
            for n in range(samples):
                inputs = [Input(kind, name if kind == "query" else f"$.{name}", make()) for name, make in makers]
                req = Request(method=method, path=path, service=service, hop=Hop.SIDECAR_INBOUND,
                              source=Peer(address=f"10.0.{n % 7}.{n % 13}"))
                obs, _ = examine(book.live(service), service, req, inputs, None, "", True)
                book.learn(obs, 1_700_000_000.0 + n)
        book.flush()
    runtime.close()


def load(state_dir: str) -> dict:
    """What a serving process holds after start: every profile loaded from the state directory."""
    from extauthz.engine import Engine
    config = parse_config(f'state: {{dir: "{state_dir}"}}\nrisk: {{enabled: false}}\n')
    Engine(config)  # detectors compiled, everything imported: the serving process without profiles
    gc.collect()
    before = rss_mib()
    runtime = build_runtime(config, actor_state=False)
    Engine(config, runtime=runtime)
    gc.collect()
    book = runtime.profiles
    params = sum(len(ep.params) for s in book.services() for ep in book.live(s).endpoints.values())
    endpoints = sum(len(book.live(s).endpoints) for s in book.services())
    return {"services": len(book.services()), "endpoints": endpoints, "params": params,
            "rss_mib": round(rss_mib(), 1), "rss_before_mib": round(before, 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=100)
    ap.add_argument("--endpoints", type=int, default=50)
    ap.add_argument("--params", type=int, default=20)
    ap.add_argument("--samples", type=int, default=40, help="learned requests per endpoint")
    ap.add_argument("--load", metavar="DIR", help=argparse.SUPPRESS)  # the fresh process's part
    args = ap.parse_args()
    if args.load:
        print(json.dumps(load(args.load)))
        return 0
    with tempfile.TemporaryDirectory(prefix="extauthz-profile-bench-") as state:
        t0 = time.monotonic()
        learn(args.services, args.endpoints, args.params, args.samples, state)
        gc.collect()
        learned_rss = rss_mib()
        size = (Path(state) / "profiles.sqlite3").stat().st_size
        out = subprocess.run([sys.executable, __file__, "--load", state], capture_output=True, text=True, check=True)
        loaded = json.loads(out.stdout)
    print(f"learned {args.services} services x {args.endpoints} endpoints x {args.params} parameters "
          f"({args.samples} requests each) in {time.monotonic() - t0:.0f}s; state file {size / 2**20:.1f} MiB")
    print(f"learning process RSS after flush: {learned_rss:.1f} MiB")
    print(f"fresh process with all profiles loaded: RSS {loaded['rss_mib']} MiB "
          f"({loaded['rss_before_mib']} MiB for the engine without profiles; {loaded['services']} services, "
          f"{loaded['endpoints']} endpoints, {loaded['params']} parameters)")
    print("target: <= 150 MiB RSS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
