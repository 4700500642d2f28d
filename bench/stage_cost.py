"""Where a check's CPU goes: per stage and per detector, on each request mix.

    python bench/stage_cost.py [--rounds 300] [--mixes get,json,multipart,attack] [--config F]
                               [--by-request] [--json]

Runs the server's own check path in-process (CheckService.check_bytes on the
serialized CheckRequest the bench's edge Envoy sends: adapter, actor risk,
behaviour profile when enabled, decode, prefilter, every detector, scoring,
response, metrics and security events), with a clean client address per
check as in bench/envoy_overhead.py. Two passes per mix:

  1. clean: this thread's CPU time per check, nothing instrumented (the figure to compare);
  2. instrumented: each part wrapped with a timer (this thread's CPU time by
     default: other processes on a shared machine do not land in it);
     exclusive µs per check, the median over rounds, the timer's own cost
     subtracted (calibrated at start). The parts' sum is close to, not
     exactly, the clean figure: the rest is shown as `other`.

Reading it: `decode` is extauthz.decode.extract; `prefilter` the Hyperscan
trigger scan of every Input; `detect.<name>` a detector's scan_input and
scan_request together (with the number of Inputs it was run on per check);
`stage.<name>` a stage's own work outside the parts above; `adapter.*`
protobuf in and out; `telemetry` metrics and events. For 8 KiB hostile inputs
per detector see bench/detector_stress.py.
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import extauthz.engine as engine_mod  # noqa: E402
from extauthz import envoy_api, metrics  # noqa: E402
from extauthz.config import Config, load_config, parse_config  # noqa: E402
from extauthz.engine import DetectionStage, Engine  # noqa: E402
from extauthz.events import EventLog  # noqa: E402
from extauthz.runtime import build_runtime  # noqa: E402
from extauthz.server.service import CheckService  # noqa: E402
from extauthz.telemetry import CheckTelemetry  # noqa: E402

from mixes import MIXES, HttpRequest, check_request, mix  # noqa: E402

BENCH_CONFIG = 'risk: {xff_trusted_hops: 2}\nevents: {output: "%s"}\n'


class Meter:
    """Exclusive wall time per key, nested calls subtracted from their caller."""

    def __init__(self, clock: Callable[[], int] = time.thread_time_ns) -> None:
        self.clock = clock
        self.ns: dict[str, int] = defaultdict(int)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[int] = []
        self.inner_cost = 0   # ns a timer adds inside its own measurement
        self.outer_cost = 0   # ns a wrapped call adds to its caller beyond the measured time

    def wrap(self, key: str | Callable[..., str], fn: Callable, materialize: bool = False) -> Callable:
        clock, stack, ns, calls = self.clock, self._stack, self.ns, self.calls

        def timed(*args, **kwargs):
            stack.append(0)
            t0 = clock()
            out = fn(*args, **kwargs)
            if materialize:
                out = list(out)
            dt = clock() - t0
            inner = stack.pop()
            k = key if isinstance(key, str) else key(*args)
            ns[k] += dt - inner - self.inner_cost
            calls[k] += 1
            if stack:
                stack[-1] += dt + self.outer_cost
            return out
        return timed

    def calibrate(self) -> None:
        def noop() -> None:
            return None
        probe = Meter(self.clock)
        w = probe.wrap("x", noop)
        n, inner, outer = 20000, [], []
        for _ in range(5):
            probe.ns.clear()
            t0 = self.clock()
            for _ in range(n):
                w()
            total = self.clock() - t0
            t0 = self.clock()
            for _ in range(n):
                noop()
            direct = self.clock() - t0
            inner.append(probe.ns["x"] // n)
            outer.append(max(0, (total - direct) // n - inner[-1]))
        self.inner_cost, self.outer_cost = int(statistics.median(inner)), int(statistics.median(outer))

    def reset(self) -> None:
        self.ns.clear()
        self.calls.clear()


@contextmanager
def patched(obj, name: str, value) -> Iterator[None]:
    had = name in vars(obj)
    old = getattr(obj, name)
    object.__setattr__(obj, name, value)  # frozen dataclasses too
    try:
        yield
    finally:
        if had:
            object.__setattr__(obj, name, old)
        else:
            object.__delattr__(obj, name)


def instrument(service: CheckService, meter: Meter) -> list:
    """Wrap every part of the check path; returns the patches to undo (context managers)."""
    eng: Engine = service.engine
    patches = [
        patched(envoy_api, "parse_check_request", meter.wrap("adapter.parse", envoy_api.parse_check_request)),
        patched(envoy_api, "to_request", meter.wrap("adapter.parse", envoy_api.to_request)),
        patched(envoy_api, "response_bytes", meter.wrap("adapter.response", envoy_api.response_bytes)),
        patched(engine_mod, "extract", meter.wrap("decode", engine_mod.extract)),
    ]
    for stage in eng.stages:
        patches.append(patched(stage, "inspect", meter.wrap(f"stage.{stage.name}", stage.inspect)))
        patches.append(patched(stage, "observe", meter.wrap(f"stage.{stage.name}", stage.observe)))
        if isinstance(stage, DetectionStage):
            for ds in stage._sets.values():
                pf = ds._prefilter
                patches.append(patched(pf, "candidates", meter.wrap("prefilter", pf.candidates)))
                patches.append(patched(pf, "candidates_each", meter.wrap("prefilter", pf.candidates_each)))
                for d in ds.detectors:
                    patches.append(patched(d, "scan_input", meter.wrap(f"detect.{d.name}", d.scan_input, True)))
                    patches.append(patched(d, "scan_request",
                                           meter.wrap(f"request.{d.name}", d.scan_request, True)))
    for dec in {id(d): d for d in [eng._default, *eng._deciders.values()]}.values():
        patches.append(patched(dec, "decide", meter.wrap("verdict", dec.decide)))
        patches.append(patched(dec, "fixed", meter.wrap("verdict", dec.fixed)))
    service.observers[:] = [meter.wrap("telemetry", o) for o in service.observers]
    return patches


def build_service(config: Config, events_path: Path) -> CheckService:
    runtime = build_runtime(config)
    service = CheckService(Engine(config, runtime=runtime))
    metrics.init_process()
    service.observers.append(CheckTelemetry(metrics.CheckMetrics(), None, EventLog.open(str(events_path))))
    return service


def messages(requests: list[HttpRequest], rounds: int, offset: int) -> list[list[bytes]]:
    """Per round, the mix's CheckRequests, each from a client address not seen before."""
    out = []
    for i in range(rounds):
        n = offset + i * len(requests)
        out.append([check_request(r, f"10.{(n + j) >> 16 & 255}.{(n + j) >> 8 & 255}.{(n + j) & 255}")
                    for j, r in enumerate(requests)])
    return out


def clean_cpu_us(service: CheckService, batches: list[list[bytes]]) -> list[float]:
    out = []
    for batch in batches:
        t0 = time.thread_time_ns()
        for raw in batch:
            service.check_bytes(raw)
        out.append((time.thread_time_ns() - t0) / 1000 / len(batch))
    return out


def breakdown(service: CheckService, meter: Meter, batches: list[list[bytes]]) -> tuple[dict, dict, list[float]]:
    """Median exclusive µs per check per part, calls per check, and the instrumented totals."""
    per_round: dict[str, list[float]] = defaultdict(list)
    calls: dict[str, float] = defaultdict(float)
    totals = []
    observers = list(service.observers)
    stack = instrument(service, meter)
    for p in stack:
        p.__enter__()
    try:
        for batch in batches:
            meter.reset()
            t0 = meter.clock()
            for raw in batch:
                service.check_bytes(raw)
            totals.append((meter.clock() - t0) / 1000 / len(batch))
            for k, v in meter.ns.items():
                per_round[k].append(v / 1000 / len(batch))
            for k, v in meter.calls.items():
                calls[k] += v / len(batch) / len(batches)
    finally:
        for p in reversed(stack):
            p.__exit__(None, None, None)
        service.observers[:] = observers
    med = {k: statistics.median(v + [0.0] * (len(batches) - len(v))) for k, v in per_round.items()}
    return med, dict(calls), totals


def merge_detectors(med: dict[str, float], calls: dict[str, float]) -> dict[str, tuple[float, float]]:
    """detect.X and request.X together as detector X: (µs per check, Inputs scanned per check)."""
    out: dict[str, tuple[float, float]] = {}
    for k, v in med.items():
        if k.startswith("request."):
            name = "detect." + k.split(".", 1)[1]
            us, n = out.get(name, (0.0, calls.get(name, 0.0)))
            out[name] = (us + v, n)
        elif k.startswith("detect."):
            us, n = out.get(k, (0.0, calls.get(k, 0.0)))
            out[k] = (us + v, calls.get(k, 0.0))
        else:
            out[k] = (v, calls.get(k, 0.0))
    return out


def run_mix(service: CheckService, meter: Meter, name: str, requests: list[HttpRequest], rounds: int,
            offset: int) -> dict:
    warm = messages(requests, 20, offset)
    clean_cpu_us(service, warm)
    batches = messages(requests, rounds, offset + 20 * len(requests))
    gc.collect()
    clean = clean_cpu_us(service, batches)
    batches = messages(requests, rounds, offset + (20 + rounds) * len(requests))
    med, calls, totals = breakdown(service, meter, batches)
    parts = merge_detectors(med, calls)
    parts = {k: v for k, v in parts.items() if v[0] > 0.05 or (k.startswith("detect.") and v[1] > 0)}
    attributed = sum(us for us, _ in parts.values())
    clean_med = statistics.median(clean)
    return {"mix": name, "requests": [r.label for r in requests], "clean_cpu_us": clean_med,
            "clean_p90_us": sorted(clean)[int(len(clean) * 0.9)], "instrumented_us": statistics.median(totals),
            "parts": {k: {"us": round(us, 1), "calls": round(n, 2)} for k, (us, n) in
                      sorted(parts.items(), key=lambda kv: -kv[1][0])},
            "other_us": round(clean_med - attributed, 1)}


def print_result(res: dict) -> None:
    print(f"\n== {res['mix']}  ({', '.join(res['requests'][:4])}{' ...' if len(res['requests']) > 4 else ''})")
    print(f"   clean: {res['clean_cpu_us']:.0f} µs CPU per check (p90 {res['clean_p90_us']:.0f}); "
          f"instrumented {res['instrumented_us']:.0f} µs")
    total = res["clean_cpu_us"] or 1
    for k, v in res["parts"].items():
        calls = f"  ({v['calls']:.1f} Inputs)" if k.startswith("detect.") else ""
        us = max(0.0, v["us"])  # a part cheaper than the timer's calibrated cost shows as 0
        print(f"   {k:28} {us:8.1f} µs  {100 * us / total:5.1f} %{calls}")
    print(f"   {'other (unattributed)':28} {res['other_us']:8.1f} µs")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--mixes", default=",".join(MIXES))
    ap.add_argument("--config", help="an extauthz config instead of the bench's (full detection, risk on)")
    ap.add_argument("--by-request", action="store_true", help="each request of a mix on its own (the attack mix)")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="time the parts with this thread's CPU time (default; costlier timer, immune to a busy "
                         "machine) or perf_counter (cheap timer, but preemption lands in whatever part was running)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="extauthz-stage-cost-") as tmp:
        events = Path(tmp) / "events.jsonl"
        config = load_config(args.config) if args.config else parse_config(BENCH_CONFIG % events)
        service = build_service(config, events)
        meter = Meter(time.thread_time_ns if args.clock == "cpu" else time.perf_counter_ns)
        meter.calibrate()
        results, offset = [], 0
        for name in [m for m in args.mixes.split(",") if m]:
            reqs = mix(name)
            groups = [(f"{name}: {r.label}", [r]) for r in reqs] if args.by_request and len(reqs) > 1 else [(name, reqs)]
            for label, group in groups:
                rounds = max(20, args.rounds // len(group)) if len(group) > 1 else args.rounds
                res = run_mix(service, meter, label, group, rounds, offset)
                offset += (40 + 2 * rounds) * len(group)
                results.append(res)
                if not args.json:
                    print_result(res)
        if args.json:
            print(json.dumps({"timer_cost_ns": [meter.inner_cost, meter.outer_cost], "results": results}, indent=2))
        else:
            print(f"\n(timer cost subtracted: {meter.inner_cost} ns inside, {meter.outer_cost} ns outside per call)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
