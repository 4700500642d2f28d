"""The long fuzz run: a million and more hostile inputs; every one must get a decision.

    python bench/fuzz_long.py [--inputs 1000000] [--grpc-every 20] [--seed 1] [--out DIR] [--json FILE]

Inputs come from tests/fuzz_helpers.py (the same vocabulary as the short runs
in the test suite), from a seeded random.Random, so input i of seed s can be
made again:
- every input is a CheckRequest payload (half structurally valid with hostile
  content everywhere, 40 % byte-level mutations of valid ones, 10 % garbage),
  decided in-process by the server's own CheckService.check_bytes (adapter,
  the whole engine with actor risk and behaviour profile, response, metrics);
- every `--grpc-every`-th input also goes to a real `extauthz serve` over gRPC.

Checked for each: the output is a CheckResponse that is an allow or a deny; the
engine did not fail internally (failure verdicts are counted by exception type
and their first inputs saved to --out); the check's CPU time (the slowest ones
are saved too). At the end the server must be healthy and decide ordinary
requests right. Exit status 0 only with no unexplained failure.
"""
from __future__ import annotations

import argparse
import collections
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import grpc  # noqa: E402

from extauthz._wire import ext_authz_pb2 as pb  # noqa: E402
from extauthz.config import parse_config  # noqa: E402
from extauthz.mesh import free_port, grpc_health  # noqa: E402
from extauthz.server.service import CHECK_METHOD  # noqa: E402

from fuzz_helpers import random_payload  # noqa: E402
from harness import Proc, wait_for  # noqa: E402
from mixes import MIXES, check_request  # noqa: E402
from stage_cost import Meter, build_service, instrument  # noqa: E402

CONFIG = 'risk: {xff_trusted_hops: 2}\nevents: {output: "%s"}\n'


def decision(raw: bytes) -> str:
    resp = pb.CheckResponse.FromString(raw)
    if resp.HasField("ok_response") and resp.status.code == 0:
        return "allow"
    if resp.HasField("denied_response") and resp.status.code != 0:
        return "deny"
    raise AssertionError("not a decision")


class FailureLog(logging.Handler):
    """Collects the engine's failure log records (kind and exception type) instead of printing tracebacks."""

    def __init__(self) -> None:
        super().__init__()
        self.last: tuple[str, str] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        kind = "engine" if "(engine)" in record.getMessage() else "adapter" if "(adapter)" in record.getMessage() \
            else "response" if "(response)" in record.getMessage() else "other"
        self.last = (kind, type(exc).__name__ if exc else "?")


def explain(service, out_dir: Path, indexes: list[int]) -> list[str]:
    """For saved slow inputs: the parts of the check (bench/stage_cost.py's timers) that cost the most."""
    lines = []
    for i in indexes:
        path = out_dir / f"slow-{i}.bin"
        if not path.exists():
            continue
        meter = Meter()
        meter.calibrate()
        patches = instrument(service, meter)
        observers = list(service.observers)
        for p in patches:
            p.__enter__()
        try:
            t0 = time.thread_time()
            service.check_bytes(path.read_bytes())
            total = time.thread_time() - t0
        finally:
            for p in reversed(patches):
                p.__exit__(None, None, None)
            service.observers[:] = observers
        top = sorted(meter.ns.items(), key=lambda kv: -kv[1])[:3]
        lines.append(f"#{i}: {total * 1000:.1f} ms: " + ", ".join(f"{k} {v / 1e6:.1f} ms" for k, v in top)
                     + f"  ({path})")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=1_000_000)
    ap.add_argument("--grpc-every", type=int, default=20, help="also send every N-th input to a real server (0: never)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="directory for the inputs that failed or were slowest (default: a temp dir)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    out_dir = Path(args.out or tempfile.mkdtemp(prefix="extauthz-fuzz-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="extauthz-fuzz-work-"))
    catcher = FailureLog()
    logging.getLogger("extauthz.engine").addHandler(catcher)
    logging.getLogger("extauthz.engine").propagate = False
    service = build_service(parse_config(CONFIG % (work / "events.jsonl")), work / "events.jsonl")
    seeds = [check_request(r, f"10.9.{i}.{j}") for i, name in enumerate(MIXES) for j, r in enumerate(MIXES[name]())]
    server = channel = call = None
    address = ""
    if args.grpc_every:
        port = free_port()
        address = f"127.0.0.1:{port}"
        cfg = work / "server.yaml"
        cfg.write_text(CONFIG % "off")
        server = Proc("server", [sys.executable, "-m", "extauthz", "serve", "--config", str(cfg), "--listen",
                                 f"127.0.0.1:{port}", "--admin-listen", "off"], work)
        wait_for(lambda: grpc_health(f"127.0.0.1:{port}") == "SERVING", 120, "extauthz serve", server)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 << 20)])
        call = channel.unary_unary(CHECK_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    rnd = random.Random(args.seed)
    counts: collections.Counter[str] = collections.Counter()
    failures: collections.Counter[tuple[str, str]] = collections.Counter()
    problems: list[str] = []
    slowest: list[tuple[float, int]] = []
    cpu_total = 0.0
    t0 = time.monotonic()
    grpc_sent = 0
    try:
        for i in range(args.inputs):
            payload = random_payload(rnd, seeds)
            catcher.last = None
            c0 = time.thread_time()
            try:
                d = decision(service.check_bytes(payload))
            except Exception as exc:  # never: check_bytes must always answer with a decision
                problems.append(f"#{i}: {type(exc).__name__}: {exc}")
                (out_dir / f"no-decision-{i}.bin").write_bytes(payload)
                continue
            spent = time.thread_time() - c0
            cpu_total += spent
            counts[d] += 1
            if catcher.last is not None:
                failures[catcher.last] += 1
                if catcher.last[0] != "adapter" and failures[catcher.last] <= 5:
                    (out_dir / f"failure-{catcher.last[0]}-{catcher.last[1]}-{i}.bin").write_bytes(payload)
            if len(slowest) < 20 or spent > slowest[0][0]:
                slowest.append((spent, i))
                slowest.sort()
                if len(slowest) > 20:
                    slowest.pop(0)
                (out_dir / f"slow-{i}.bin").write_bytes(payload)
            if call is not None and i % args.grpc_every == 0:
                grpc_sent += 1
                try:
                    decision(call(payload, timeout=30))
                except Exception as exc:
                    problems.append(f"#{i} over gRPC: {type(exc).__name__}: {str(exc)[:200]}")
            if (i + 1) % 50_000 == 0:
                el = time.monotonic() - t0
                print(f"  {i + 1:>9} inputs  {el:7.0f} s  {(i + 1) / el:6.0f}/s  decisions {dict(counts)}  "
                      f"failures {dict((f'{k}:{e}', v) for (k, e), v in failures.items())}  "
                      f"slowest {slowest[-1][0] * 1000:.1f} ms", flush=True)
        healthy = True
        if call is not None:
            for name, make in MIXES.items():
                for j, r in enumerate(make()):
                    want = "deny" if r.expect == 403 else "allow"
                    got = decision(call(check_request(r, f"10.88.{j}.1"), timeout=30))
                    if got != want:
                        problems.append(f"after fuzzing, {name}/{r.label}: {got}, expected {want}")
            healthy = server.alive() and grpc_health(address) == "SERVING"
    finally:
        if channel is not None:
            channel.close()
        if server is not None:
            server.stop()
    explained = explain(service, out_dir, [i for _, i in reversed(slowest)][:8])
    keep = {i for _, i in slowest}
    for p in out_dir.glob("slow-*.bin"):
        if int(p.stem.split("-")[1]) not in keep:
            p.unlink()
    el = time.monotonic() - t0
    engine_failures = {f"{k}:{e}": v for (k, e), v in failures.items() if k != "adapter"}
    result = {"inputs": args.inputs, "seed": args.seed, "seconds": round(el), "rate": round(args.inputs / el),
              "decisions": dict(counts), "adapter_refusals": sum(v for (k, _), v in failures.items() if k == "adapter"),
              "engine_failures": engine_failures, "grpc_sent": grpc_sent, "problems": problems[:50],
              "server_alive": healthy, "mean_cpu_us": round(cpu_total / max(1, sum(counts.values())) * 1e6),
              "slowest_ms": [(round(s * 1000, 1), i) for s, i in reversed(slowest)], "slowest_explained": explained,
              "saved": str(out_dir)}
    print(f"\n{args.inputs} inputs (seed {args.seed}) in {el:.0f} s ({result['rate']}/s), {grpc_sent} also over gRPC")
    print(f"decisions: {dict(counts)}; unparsable messages refused by the adapter (counted, decided): "
          f"{result['adapter_refusals']}")
    print(f"engine failures (failure decision): {engine_failures or 'none'}")
    print(f"problems (no decision, gRPC errors, wrong answers afterwards): {len(problems)}")
    for p in problems[:10]:
        print("  ", p)
    print(f"CPU per check: mean {result['mean_cpu_us']} µs; the slowest, where the time went:")
    for line in explained:
        print("  ", line)
    print(f"server alive after the run: {healthy}; inputs saved in {out_dir}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    import yaml
    known = {e["raises"] for e in yaml.safe_load((Path(__file__).resolve().parents[1] / "tests" / "data" /
                                                  "known_slow.yaml").read_text()) if "raises" in e}
    unexplained = [k for k in engine_failures if k.split(":")[1] not in known]
    return 0 if not problems and not unexplained and healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
