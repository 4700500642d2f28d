"""What extauthz costs behind real Envoy, against Envoy alone, in the same run.

    python bench/envoy_overhead.py [--duration 10] [--connections 1,16] [--mix get]

Scenarios, each measured with wrk (bounded duration, loopback only):
  envoy            Envoy with a near-free upstream (a direct_response route), no ext_authz
  extauthz-off     + ext_authz to extauthz with `mode: off` (the cost of the gRPC hop)
  extauthz         + ext_authz to extauthz with the built-in defaults (full detection)
  extauthz-traced  + tracing on: a span per check exported over OTLP to a receiver process
Printed: req/s, p50/p99 latency, CPU µs per request of Envoy and of extauthz
(from /proc utime+stime), peak RSS of extauthz; ratios against the baseline.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extauthz.mesh import find_envoy, free_port, grpc_health  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")

MIXES = {
    "get": {"method": "GET",
            "path": "/catalog/search?q=running+shoes&size=42&color=blue&sort=price_asc&page=2",
            "headers": {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                                      "Chrome/131.0.0.0 Safari/537.36",
                        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                        "Accept-Language": "en-US,en;q=0.9", "Referer": "https://shop.example.com/catalog",
                        "Cookie": "sessionid=8f14e45fceea167a5a36dedd4bea2543; theme=dark"},
            "body": ""},
}


def envoy_config(listen: int, admin: int, extauthz: int | None) -> dict:
    filters = []
    if extauthz is not None:
        filters.append({
            "name": "envoy.filters.http.ext_authz",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
                "transport_api_version": "V3",
                "grpc_service": {"envoy_grpc": {"cluster_name": "extauthz"}, "timeout": "1s"},
                "failure_mode_allow": False,
                "with_request_body": {"max_request_bytes": 131072, "allow_partial_message": True, "pack_as_bytes": True},
                "encode_raw_headers": True,
            }})
    filters.append({"name": "envoy.filters.http.router", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}})
    clusters = []
    if extauthz is not None:
        clusters.append({
            "name": "extauthz", "type": "STATIC", "connect_timeout": "1s",
            "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}}}},
            "load_assignment": {"cluster_name": "extauthz", "endpoints": [{"lb_endpoints": [{"endpoint": {
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": extauthz}}}}]}]}})
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin}}},
        "static_resources": {
            "listeners": [{"name": "bench", "address": {"socket_address": {"address": "127.0.0.1", "port_value": listen}},
                           "filter_chains": [{"filters": [{
                               "name": "envoy.filters.network.http_connection_manager",
                               "typed_config": {
                                   "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                                   "stat_prefix": "bench",
                                   "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
                                       {"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": {"inline_string": "ok"}}}],
                                       "typed_per_filter_config": {"envoy.filters.http.ext_authz": {
                                           "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute",
                                           "check_settings": {"context_extensions": {"hop": "edge", "service": "shop"}}}}
                                       if extauthz is not None else {}}]},
                                   "http_filters": filters}}]}]}],
            "clusters": clusters}}


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its (reaped and live) children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / CLK_TCK


def tree_pids(pid: int) -> list[int]:
    out = [pid]
    try:
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    except OSError:
        kids = []
    for k in kids:
        out.extend(tree_pids(int(k)))
    return out


def peak_rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def wrk_script(mix: dict, path: Path) -> Path:
    headers = "".join(f'wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n' for k, v in mix["headers"].items())
    path.write_text(f'wrk.method = {json.dumps(mix["method"])}\nwrk.path = {json.dumps(mix["path"])}\n'
                    f'wrk.body = {json.dumps(mix["body"])}\n{headers}')
    return path


def run_wrk(url: str, script: Path, connections: int, duration: float) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", "--timeout", "5s",
                          "-s", str(script), url], capture_output=True, text=True, timeout=duration + 60).stdout
    res: dict = {"raw": out}
    for line in out.splitlines():
        parts = line.split()
        if line.strip().startswith("50%"):
            res["p50_ms"] = _ms(parts[1])
        elif line.strip().startswith("99%"):
            res["p99_ms"] = _ms(parts[1])
        elif line.startswith("Requests/sec:"):
            res["rps"] = float(parts[1])
        elif "requests in" in line:
            res["requests"] = int(parts[0])
        elif "Non-2xx or 3xx responses" in line:
            res["non2xx"] = int(parts[-1])
    return res


def _ms(text: str) -> float:
    for unit, f in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * f
    return float(text)


class Scenario:
    def __init__(self, name: str, config_text: str | None, workdir: Path, envoy: str, workers: int) -> None:
        self.name = name
        self.workdir = workdir
        self.ext_proc = None
        ext_port = None
        if config_text is not None:
            ext_port = free_port()
            cfg = workdir / f"{name}.yaml"
            cfg.write_text(config_text)
            self.ext_log = open(workdir / f"{name}-extauthz.log", "wb")
            self.ext_proc = subprocess.Popen(
                [sys.executable, "-m", "extauthz", "serve", "--config", str(cfg), "--workers", str(workers),
                 "--listen", f"127.0.0.1:{ext_port}"], stdout=self.ext_log, stderr=subprocess.STDOUT,
                start_new_session=True)
            deadline = time.monotonic() + 30
            while grpc_health(f"127.0.0.1:{ext_port}") != "SERVING":
                if time.monotonic() > deadline or self.ext_proc.poll() is not None:
                    raise RuntimeError(f"extauthz did not start ({name})")
                time.sleep(0.1)
        self.port, admin = free_port(), free_port()
        ecfg = workdir / f"{name}-envoy.json"
        ecfg.write_text(json.dumps(envoy_config(self.port, admin, ext_port)))
        self.envoy_log = open(workdir / f"{name}-envoy.log", "wb")
        self.envoy = subprocess.Popen([envoy, "-c", str(ecfg), "--disable-hot-restart", "--concurrency", "1",
                                       "--log-level", "error"], stdout=self.envoy_log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        deadline = time.monotonic() + 30
        import urllib.request
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{admin}/ready", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"envoy did not start ({name})")
                time.sleep(0.1)

    def measure(self, script: Path, connections: int, duration: float) -> dict:
        url = f"http://127.0.0.1:{self.port}"
        run_wrk(url, script, connections, min(2.0, duration))  # warm-up
        ext_pids = tree_pids(self.ext_proc.pid) if self.ext_proc else []
        e0 = cpu_seconds(self.envoy.pid)
        x0 = sum(cpu_seconds(p) for p in ext_pids)
        res = run_wrk(url, script, connections, duration)
        e1 = cpu_seconds(self.envoy.pid)
        x1 = sum(cpu_seconds(p) for p in ext_pids)
        n = max(1, res.get("requests", 1))
        res["envoy_cpu_us"] = (e1 - e0) * 1e6 / n
        res["extauthz_cpu_us"] = (x1 - x0) * 1e6 / n if ext_pids else 0.0
        res["extauthz_peak_rss_mb"] = peak_rss_mb(ext_pids) if ext_pids else 0.0
        return res

    def stop(self) -> None:
        for p in (self.envoy, self.ext_proc):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)


# Actor risk is off in these scenarios: one wrk client at full speed is scripted
# activity from one address, and would be measured as a blocked actor after a second.
_QUIET = "events:\n  output: 'off'\nrisk:\n  enabled: false\n"
SCENARIOS = {
    "envoy": None,
    "extauthz-off": "defaults:\n  mode: 'off'\n" + _QUIET,
    "extauthz": _QUIET,
    # + a span per check exported over OTLP/gRPC to a receiver process (its CPU is not counted)
    "extauthz-traced": _QUIET + "tracing:\n  enabled: true\n  endpoint: http://127.0.0.1:{otlp_port}\n",
}


def start_otlp_sink() -> tuple[subprocess.Popen, int]:
    """An OTLP/gRPC trace receiver that accepts and discards, in its own process."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from telemetry_cost import RECEIVER

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER, f"127.0.0.1:{port}"], stdout=subprocess.PIPE, text=True)
    proc.stdout.readline()
    return proc, port


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--connections", default="1,16")
    ap.add_argument("--mix", default="get", choices=sorted(MIXES))
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    envoy = find_envoy()
    conns = [int(c) for c in args.connections.split(",")]
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="extauthz-bench-") as tmp:
        workdir = Path(tmp)
        script = wrk_script(MIXES[args.mix], workdir / "mix.lua")
        for name, cfg in SCENARIOS.items():
            sink = None
            if cfg and "{otlp_port}" in cfg:
                sink, port = start_otlp_sink()
                cfg = cfg.replace("{otlp_port}", str(port))
            sc = Scenario(name, cfg, workdir, envoy, args.workers)
            try:
                for c in conns:
                    results[f"{name} c={c}"] = sc.measure(script, c, args.duration)
            finally:
                sc.stop()
                if sink is not None:
                    sink.terminate()
                    sink.wait()
    if args.json:
        print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "raw"} for k, v in results.items()}, indent=2))
        return 0
    print(f"mix={args.mix} duration={args.duration}s workers={args.workers}  (wrk -t1, loopback, 2-core machine)")
    print(f"{'scenario':20}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'envoy µs/req':>14}{'extauthz µs/req':>17}{'RSS MB':>8}{'non-2xx':>9}")
    for k, r in results.items():
        print(f"{k:20}{r.get('rps', 0):9.0f}{r.get('p50_ms', 0):9.3f}{r.get('p99_ms', 0):9.3f}"
              f"{r['envoy_cpu_us']:14.1f}{r['extauthz_cpu_us']:17.1f}{r['extauthz_peak_rss_mb']:8.1f}{r.get('non2xx', 0):9}")
    for c in conns:
        base, off, full, traced = (results.get(f"{n} c={c}") for n in SCENARIOS)
        if full and traced:
            print(f"c={c}: tracing on adds {traced['extauthz_cpu_us'] - full['extauthz_cpu_us']:+.1f} extauthz CPU µs/req, "
                  f"p50 {traced['p50_ms'] - full['p50_ms']:+.3f} ms, throughput traced/full "
                  f"{traced['rps'] / full['rps']:.2f}")
        if base and off and full:
            print(f"c={c}: throughput extauthz/envoy {full['rps'] / base['rps']:.2f}, extauthz-off/envoy "
                  f"{off['rps'] / base['rps']:.2f}, full/off {full['rps'] / off['rps']:.2f}; "
                  f"p50 added vs envoy {full['p50_ms'] - base['p50_ms']:+.3f} ms, full vs off "
                  f"{full['p50_ms'] - off['p50_ms']:+.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
