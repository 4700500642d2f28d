"""What telemetry costs per check, in-process: CPU µs with no observers, with the
server's telemetry and tracing off (metrics + events), and with tracing on
(a span per check, one span event per finding, exported over OTLP/gRPC to a
receiver in another process).

    python bench/telemetry_cost.py [--checks 3000] [--rounds 5] [--json]

CPU is this process's (all threads: the span exporter's background thread is
included, the receiver's process is not); the median over rounds is printed.
Each case goes through CheckService.check_bytes, as a gRPC call does (parse,
engine, response, observers), without the gRPC transport.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extauthz._wire import ext_authz_pb2 as pb  # noqa: E402
from extauthz.config import Config, EventSettings, TracingSettings  # noqa: E402
from extauthz.engine import Engine  # noqa: E402
from extauthz.events import EventLog  # noqa: E402
from extauthz.mesh import free_port  # noqa: E402
from extauthz.metrics import CheckMetrics  # noqa: E402
from extauthz.server.service import CheckService  # noqa: E402
from extauthz.telemetry import CheckTelemetry  # noqa: E402

RECEIVER = """
import sys, time
from concurrent import futures
import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as m, trace_service_pb2_grpc as g
class Sink(g.TraceServiceServicer):
    def Export(self, request, context):
        return m.ExportTraceServiceResponse()
s = grpc.server(futures.ThreadPoolExecutor(2))
g.add_TraceServiceServicer_to_server(Sink(), s)
s.add_insecure_port(sys.argv[1]); s.start(); print("up", flush=True); s.wait_for_termination()
"""

HEADERS = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
           "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
           "accept-language": "en-US,en;q=0.9", "referer": "https://shop.example.com/catalog",
           "cookie": "sessionid=8f14e45fceea167a5a36dedd4bea2543; theme=dark", "x-request-id": "3f2b8c1e-9a7d-4e21"}


def check_request(path: str, traceparent: bool) -> bytes:
    msg = pb.CheckRequest()
    h = msg.attributes.request.http
    h.method, h.path, h.host, h.id = "GET", path.encode(), "shop.example.com", "3f2b8c1e-9a7d-4e21"
    for k, v in HEADERS.items():
        h.headers[k] = v.encode()
    if traceparent:
        h.headers["traceparent"] = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    msg.attributes.context_extensions["hop"] = "edge"
    msg.attributes.source.address.socket_address.address = "203.0.113.7"
    return msg.SerializeToString()


CASES = {
    "benign GET": check_request("/catalog/search?q=running+shoes&size=42&color=blue&sort=price_asc&page=2", False),
    "benign GET + traceparent": check_request("/catalog/search?q=running+shoes&size=42&color=blue", True),
    "attack GET (denied)": check_request("/x?file=..%2f..%2f..%2f..%2fetc%2fpasswd&q=%3Cscript%3Ealert(1)%3C/script%3E",
                                         False),
}
METADATA = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": ""}
UNSAMPLED = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "tracestate": ""}


def cpu_per_check(service: CheckService, raw: bytes, metadata: dict, checks: int, flush=None) -> float:
    for _ in range(200):
        service.check_bytes(raw, metadata)
    if flush:
        flush()
    t0 = time.process_time()
    for _ in range(checks):
        service.check_bytes(raw, metadata)
    if flush:
        flush()
    return (time.process_time() - t0) * 1e6 / checks


def observer_cost(service: CheckService, raw: bytes, metadata: dict, calls: int, flush=None) -> float:
    """The observers alone, on one decided check: what telemetry adds to a check, without the engine's noise."""
    from extauthz import envoy_api

    request = envoy_api.to_request(envoy_api.parse_check_request(raw))
    verdict = service.engine.check(request)
    observers = service.observers
    t0 = time.process_time()
    for i in range(calls):
        for observe in observers:
            observe(request, verdict, 0.0003, metadata)
        if flush and i % 1000 == 999:
            flush()  # stay under the span queue's size: every span exported, none dropped
    if flush:
        flush()
    return (time.process_time() - t0) * 1e6 / calls


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checks", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, f"127.0.0.1:{port}"], stdout=subprocess.PIPE, text=True)
    receiver.stdout.readline()
    from extauthz.telemetry.tracing import CheckTracer

    engine = Engine(Config())
    tracer = CheckTracer(TracingSettings(enabled=True, endpoint=f"http://127.0.0.1:{port}"))
    variants = {
        "no observers": (CheckService(engine), None),
        "tracing off (metrics+events)": (CheckService(engine), None),
        "tracing on": (CheckService(engine), tracer.flush),
    }
    variants["tracing off (metrics+events)"][0].observers.append(
        CheckTelemetry(CheckMetrics(), None, EventLog.from_settings(EventSettings(output="off"))))
    variants["tracing on"][0].observers.append(
        CheckTelemetry(CheckMetrics(), tracer, EventLog.from_settings(EventSettings(output="off"))))
    results: dict[str, dict[str, float]] = {}
    observer_only: dict[str, dict[str, float]] = {}
    try:
        for case, raw in CASES.items():
            for md_name, md in (("", {}), (" (Envoy traceparent)", METADATA), (" (Envoy, not sampled)", UNSAMPLED)):
                if md and "traceparent" in case:
                    continue
                samples: dict[str, list[float]] = {name: [] for name in variants}
                alone: dict[str, list[float]] = {name: [] for name in variants if name != "no observers"}
                for _ in range(args.rounds):  # variants interleaved, so drift hits them alike
                    for name, (service, flush) in variants.items():
                        samples[name].append(cpu_per_check(service, raw, md, args.checks, flush))
                        if name in alone:
                            alone[name].append(observer_cost(service, raw, md, args.checks * 5, flush))
                results[case + md_name] = {k: statistics.median(v) for k, v in samples.items()}
                observer_only[case + md_name] = {k: statistics.median(v) for k, v in alone.items()}
    finally:
        tracer.shutdown()
        receiver.terminate()
        receiver.wait()
    if args.json:
        print(json.dumps({"per_check": results, "observers_alone": observer_only}, indent=2))
        return 0
    print(f"CPU µs per check (median of {args.rounds} rounds × {args.checks} checks; CheckService.check_bytes)")
    print(f"{'case':44}{'no observers':>14}{'tracing off':>13}{'tracing on':>12}{'off-none':>10}{'on-off':>9}")
    for case, r in results.items():
        a, b, c = r["no observers"], r["tracing off (metrics+events)"], r["tracing on"]
        print(f"{case:44}{a:14.1f}{b:13.1f}{c:12.1f}{b - a:+10.1f}{c - b:+9.1f}")
    print("\nthe telemetry observer alone, CPU µs per check (span export included when tracing is on)")
    print(f"{'case':44}{'tracing off':>13}{'tracing on':>12}")
    for case, r in observer_only.items():
        print(f"{case:44}{r['tracing off (metrics+events)']:13.1f}{r['tracing on']:12.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
