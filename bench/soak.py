"""Soak: N minutes at a share of the maximum throughput through the real edge Envoy; 0 errors, flat RSS.

    python bench/soak.py [--minutes 10] [--load 0.8] [--connections 16] [--fill-seconds 120]
                         [--reload-every 0] [--json FILE]

1. Envoy (envoy/edge.yaml, direct-response upstream) + extauthz with everything on
   (as in bench/envoy_overhead.py: detection, actor risk, behaviour profile, metrics,
   security events to a file).
2. Steady state first: `--fill-seconds` of wrk at full speed, so that the actor
   store holds store.max_actors actors (every request is a new one) and the
   profile has learned: a check costs ~15 % more then than on an empty process,
   and the maximum of an empty process would overload the steady one.
   Then the maximum: wrk for 20 s at `--connections` with the soak mix (benign GETs,
   45-field JSON orders, multipart uploads and attacks, 60/20/10/10; every
   request from its own client address).
3. The soak: wrk paced at `--load` × that maximum for `--minutes`, while every
   10 s the resident set of extauthz and of Envoy is sampled; with
   `--reload-every S` the config file is rewritten and extauthz gets SIGHUP
   every S seconds (reloads under load).

Errors counted (each failed request once): wrk socket errors and timeouts,
responses other than the mix's expected status (200 benign, 403 attack; an
Envoy ext_authz error is one of these, a 503), Envoy's failure-mode allows
(its /stats: answered 200, so not seen in the statuses), extauthz's own
failure counter (/metrics).
RSS is flat when the last half of the run grows less than 5 % (actor and
profile stores fill up first: each request is a new actor, up to
store.max_actors; then least-recently-seen actors go).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extauthz.mesh import find_envoy, free_port  # noqa: E402

from harness import (EnvoyEdge, Proc, require_wrk, run_wrk, tree_cpu, tree_rss_mb, wait_for,  # noqa: E402
                     wrk_script)
from mixes import HttpRequest, attacks, browser_get, json_post, multipart_upload  # noqa: E402

CONFIG = """\
risk: {{xff_trusted_hops: 2}}
events: {{output: "{events}"}}
server: {{watch_seconds: 1.0}}
# reload #{n}
"""


def soak_mix() -> list[HttpRequest]:
    """60 % browser GETs, 20 % JSON orders, 10 % multipart uploads, 10 % attacks (round-robin)."""
    out: list[HttpRequest] = []
    atk = attacks()
    for i in range(len(atk)):
        out += browser_get() * 6 + json_post() * 2 + multipart_upload() + [atk[i]]
    return out


def metric(admin_url: str, name: str) -> float:
    try:
        text = urllib.request.urlopen(admin_url + "/metrics", timeout=10).read().decode()
    except OSError:
        return float("nan")
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mt, mr = sum(t for t, _ in samples) / n, sum(r for _, r in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    return 60 * sum((t - mt) * (r - mr) for t, r in samples) / var if var else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--load", type=float, default=0.8, help="share of the measured maximum throughput")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--max-seconds", type=float, default=20.0, help="duration of the maximum-throughput run")
    ap.add_argument("--fill-seconds", type=float, default=120.0,
                    help="full-speed run before the maximum is measured (fills the actor store: 100k actors)")
    ap.add_argument("--reload-every", type=float, default=0.0, help="seconds between config reloads (SIGHUP); 0 = none")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    missing = require_wrk()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="extauthz-soak-") as tmp:
        work = Path(tmp)
        cfg = work / "extauthz.yaml"
        events = work / "events.jsonl"
        cfg.write_text(CONFIG.format(events=events, n=0))
        port, admin = free_port(), free_port()
        admin_url = f"http://127.0.0.1:{admin}"
        ext = Proc("extauthz", [sys.executable, "-m", "extauthz", "serve", "--config", str(cfg), "--listen",
                                f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}"], work)
        edge = None
        try:
            from extauthz.mesh import grpc_health
            wait_for(lambda: grpc_health(f"127.0.0.1:{port}") == "SERVING", 120, "extauthz", ext)
            edge = EnvoyEdge(find_envoy(), work, "edge", port)
            script = wrk_script(soak_mix(), work / "max.lua")
            filled = run_wrk(edge.url, script, args.connections, max(3.0, args.fill_seconds))  # steady state
            print(f"fill: {filled.requests} requests in {max(3.0, args.fill_seconds):g} s", flush=True)
            peak = run_wrk(edge.url, script, args.connections, args.max_seconds)
            rate = args.load * peak.rps
            print(f"maximum: {peak.rps:.0f} req/s at {args.connections} connections (p50 {peak.p50_ms:.2f} ms, "
                  f"p99 {peak.p99_ms:.2f} ms); soak at {args.load:.0%}: {rate:.0f} req/s for {args.minutes:g} min",
                  flush=True)
            paced = wrk_script(soak_mix(), work / "soak.lua", rate=rate)
            before = edge.stats("ext_authz")
            fail0 = metric(admin_url, "extauthz_failures_total")
            samples: list[tuple[float, float, float]] = []
            reloads = [0]
            stop = threading.Event()
            t_start = time.monotonic()
            cpu0 = tree_cpu(ext.pid), tree_cpu(edge.proc.pid)

            def sampler() -> None:
                next_reload, next_sample = args.reload_every, 0.0
                while not stop.wait(0.5):
                    t = time.monotonic() - t_start
                    if t >= next_sample:
                        next_sample += 10
                        samples.append((t, tree_rss_mb(ext.pid), tree_rss_mb(edge.proc.pid)))
                        print(f"  {t:6.0f} s  extauthz RSS {samples[-1][1]:7.1f} MB  Envoy RSS {samples[-1][2]:6.1f} MB"
                              + (f"  reloads {reloads[0]}" if args.reload_every else ""), flush=True)
                    if args.reload_every and t >= next_reload:
                        reloads[0] += 1
                        cfg.write_text(CONFIG.format(events=events, n=reloads[0]))
                        ext.popen.send_signal(signal.SIGHUP)
                        next_reload += args.reload_every

            th = threading.Thread(target=sampler, daemon=True)
            th.start()
            res = run_wrk(edge.url, paced, args.connections, args.minutes * 60, timeout_s=5)
            stop.set()
            th.join(timeout=5)
            cpu1 = tree_cpu(ext.pid), tree_cpu(edge.proc.pid)
            after = edge.stats("ext_authz")
            fails = metric(admin_url, "extauthz_failures_total") - fail0
            reload_ok = metric(admin_url, 'extauthz_config_reloads_total{result="applied"}')
        finally:
            if edge is not None:
                edge.stop()
            ext.stop()
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    envoy_errors = sum(v for k, v in delta.items() if k.endswith(("ext_authz.error", "ext_authz.failure_mode_allowed")))
    # An ext_authz error is answered 503 (status_on_error), so it is already among the unexpected
    # statuses; a failure-mode allow is answered 200 and shows only in Envoy's stats.
    failure_allowed = sum(v for k, v in delta.items() if k.endswith("ext_authz.failure_mode_allowed"))
    st, sent = res.statuses or {}, res.sent or {}
    unexpected = sum(v for k, v in st.items() if k not in ("200", "403"))
    mismatch = max(0, abs(st.get("403", 0) - sent.get("403", 0)) - args.connections)
    errors = res.socket_errors + unexpected + mismatch + failure_allowed + (fails if fails == fails else 0)
    half = [(t, r) for t, r, _ in samples if t >= args.minutes * 30]
    first = [r for t, r, _ in samples if t >= args.minutes * 30][:1] or [0.0]
    last = [r for _, r, _ in samples][-1:] or [0.0]
    growth = (last[0] - first[0]) / first[0] if first[0] else 0.0
    out = {
        "max_rps": round(peak.rps), "target_rps": round(rate), "achieved_rps": round(res.rps),
        "minutes": args.minutes, "requests": res.requests, "p50_ms": res.p50_ms, "p99_ms": res.p99_ms,
        "statuses": st, "sent": sent, "socket_errors": res.socket_errors, "envoy_ext_authz": delta,
        "extauthz_failures": fails, "errors": errors, "reloads": reloads[0], "reloads_applied": reload_ok,
        "extauthz_cpu_us_per_request": round((cpu1[0] - cpu0[0]) * 1e6 / max(1, res.requests)),
        "envoy_cpu_us_per_request": round((cpu1[1] - cpu0[1]) * 1e6 / max(1, res.requests)),
        "rss_mb": [(round(t), round(r, 1), round(e, 1)) for t, r, e in samples],
        "rss_slope_last_half_mb_per_min": round(slope_mb_per_min(half), 2),
        "rss_growth_last_half": round(growth, 4),
    }
    print(f"\nsoak: {res.requests} requests in {args.minutes:g} min at {res.rps:.0f} req/s "
          f"(target {rate:.0f} = {args.load:.0%} of {peak.rps:.0f}); p50 {res.p50_ms:.2f} ms, p99 {res.p99_ms:.2f} ms")
    print(f"errors: {errors} (socket {res.socket_errors}, unexpected statuses {unexpected}, 403 mismatch {mismatch}, "
          f"failure-mode allows {failure_allowed}, extauthz failures {fails:g}; Envoy ext_authz errors/failure-mode "
          f"{envoy_errors}, answered as the statuses above); statuses {st}")
    if args.reload_every:
        print(f"reloads: {reloads[0]} sent, {reload_ok:g} applied")
    print(f"RSS extauthz: start {samples[0][1] if samples else 0:.1f} MB, mid {first[0]:.1f} MB, end {last[0]:.1f} MB; "
          f"last half {out['rss_slope_last_half_mb_per_min']:+.2f} MB/min ({growth:+.1%}) → "
          f"{'flat' if abs(growth) < 0.05 else 'NOT flat'}")
    print(f"CPU per request: extauthz {out['extauthz_cpu_us_per_request']} µs, Envoy {out['envoy_cpu_us_per_request']} µs")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
