"""Processes and load for the HTTP benchmarks: Envoy (edge), extauthz, nginx + ModSecurity, wrk.

Everything listens on 127.0.0.1 only and runs in its own process group, so a
scenario stops completely. Costs are read from /proc: CPU as utime + stime of
a process tree (live and reaped children), memory as the peak resident set
(VmHWM) summed over the tree.

Load comes from wrk (Debian package `wrk`): one thread, a fixed number of
keep-alive connections, a bounded duration. Its Lua script sends a mix
round-robin (bench/mixes.py), gives every request its own client address in
X-Forwarded-For (so actor risk never settles a request early: each check runs
full detection, the worst case for CPU), can pace itself to a fixed rate
(soak), and counts response statuses, so that a run reports errors, not only
latency.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extauthz.mesh import asset_dir, free_port, grpc_health, render  # noqa: E402

from mixes import HttpRequest  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
LOOPBACK = "127.0.0.1"


# ----------------------------------------------------------------- /proc


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its reaped children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / CLK_TCK


def tree_pids(pid: int) -> list[int]:
    """pid and all its descendants (from /proc, no external tools)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def tree_cpu(pid: int | None) -> float:
    return sum(cpu_seconds(p) for p in tree_pids(pid)) if pid else 0.0


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_peak_rss_mb(pid: int | None) -> float:
    return sum(_status_kb(p, "VmHWM:") for p in tree_pids(pid)) / 1024 if pid else 0.0


def tree_rss_mb(pid: int | None) -> float:
    return sum(_status_kb(p, "VmRSS:") for p in tree_pids(pid)) / 1024 if pid else 0.0


# ----------------------------------------------------------------- processes


class Proc:
    """A child in its own process group, logging to a file; stop() ends the whole group."""

    def __init__(self, name: str, argv: list[str], workdir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
                                      env={**os.environ, **(env or {})})

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        else:
            self.popen.wait()
        self._log.close()


def wait_for(cond, timeout: float, what: str, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{what}: process exited\n{proc.log()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}" + (f"\n{proc.log()}" if proc else ""))
        time.sleep(0.1)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def start_extauthz(config_text: str, workdir: Path, name: str = "extauthz", workers: int = 1,
                   port: int = 0) -> tuple[Proc, int]:
    port = port or free_port()
    cfg = workdir / f"{name}.yaml"
    cfg.write_text(config_text)
    argv = [sys.executable, "-m", "extauthz", "serve", "--config", str(cfg), "--listen", f"{LOOPBACK}:{port}",
            "--admin-listen", "off"]
    if workers > 1:
        argv += ["--workers", str(workers)]
    proc = Proc(name, argv, workdir)
    wait_for(lambda: grpc_health(f"{LOOPBACK}:{port}") == "SERVING", 120, f"{name} to serve", proc)
    return proc, port


def edge_config(listen: int, admin: int, extauthz: int | None, service: str = "shop") -> dict:
    """envoy/edge.yaml as users deploy it, for a benchmark on loopback.

    Kept: the listener's HTTP settings (use_remote_address, request ids, path
    normalisation) and the ext_authz filter exactly (timeout, failure mode,
    body settings). Changed: the route answers directly (a near-free upstream),
    the access log and tracing are left out (no collector here; they cost the
    same with and without extauthz), and `extauthz=None` removes the ext_authz
    filter: Envoy alone.
    """
    cfg = render(yaml.safe_load((asset_dir("envoy") / "edge.yaml").read_text()),
                 {("0.0.0.0", 8080): (LOOPBACK, listen), (LOOPBACK, 9901): (LOOPBACK, admin),
                  ("extauthz", 9001): (LOOPBACK, extauthz or 9)}, None)
    hcm = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    hcm.pop("access_log", None)
    hcm.pop("tracing", None)
    vhost = hcm["route_config"]["virtual_hosts"][0]
    vhost["routes"] = [{"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": {"inline_string": "ok"}}}]
    vhost["typed_per_filter_config"]["envoy.filters.http.ext_authz"]["check_settings"]["context_extensions"] = {
        "hop": "edge", "service": service}
    clusters = cfg["static_resources"]["clusters"]
    ext = next(c for c in clusters if c["name"] == "extauthz")
    ext["type"] = "STATIC"
    cfg["static_resources"]["clusters"] = [ext] if extauthz is not None else []
    if extauthz is None:
        hcm["http_filters"] = [f for f in hcm["http_filters"] if f["name"] != "envoy.filters.http.ext_authz"]
        vhost.pop("typed_per_filter_config")
    return cfg


class EnvoyEdge:
    def __init__(self, envoy_bin: str, workdir: Path, name: str, extauthz_port: int | None,
                 concurrency: int = 1) -> None:
        self.port, self.admin = free_port(), free_port()
        cfg = workdir / f"{name}.json"
        cfg.write_text(json.dumps(edge_config(self.port, self.admin, extauthz_port)))
        self.proc = Proc(name, [envoy_bin, "-c", str(cfg), "--disable-hot-restart", "--concurrency",
                                str(concurrency), "--log-level", "error", "--base-id", str(free_port())], workdir)
        wait_for(lambda: http_ok(f"http://{LOOPBACK}:{self.admin}/ready"), 60, f"{name} ready", self.proc)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stats(self, prefix: str = "") -> dict[str, int]:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{self.admin}/stats?filter={prefix}", timeout=5) as r:
            out = {}
            for line in r.read().decode().splitlines():
                k, _, v = line.partition(": ")
                if v.strip().isdigit():
                    out[k] = int(v)
            return out

    def stop(self) -> None:
        self.proc.stop()


# ----------------------------------------------------------------- nginx + ModSecurity (the legacy peer)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MODSEC_MODULE = Path("/usr/lib/nginx/modules/ngx_http_modsecurity_module.so")
CRS_SETUP = Path("/etc/modsecurity/crs/crs-setup.conf")
CRS_RULES = Path("/usr/share/modsecurity-crs/rules")


def modsecurity_available() -> str | None:
    """None when nginx, the ModSecurity module and CRS are installed, else what is missing."""
    for p in (Path(NGINX), MODSEC_MODULE, CRS_SETUP, CRS_RULES):
        if not p.exists():
            return f"{p} not found (Debian: apt-get install nginx libnginx-mod-http-modsecurity modsecurity-crs)"
    return None


def crs_version() -> str:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "modsecurity-crs"], capture_output=True,
                             text=True, timeout=10).stdout
        return out.split("-")[0] or "?"
    except OSError:
        return "?"


# ModSecurity's engine settings (after modsecurity.conf-recommended, blocking on, no audit
# log: the cheapest faithful setup), then CRS at its default paranoia level 1.
MODSEC_CONF = """\
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\\+|/)|text/)xml" \\
  "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \\
  "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 512
SecPcreMatchLimit 100000
SecPcreMatchLimitRecursion 100000
SecResponseBodyAccess Off
SecTmpDir {tmp}
SecDataDir {tmp}
SecAuditEngine Off
SecArgumentSeparator &
SecCookieFormat 0
SecStatusEngine Off
Include {crs_setup}
Include {crs_rules}/*.conf
"""

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log error;
load_module {module};
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  client_max_body_size 16m;
  client_body_buffer_size 256k;
  keepalive_requests 10000000;
  upstream app {{ server {lo}:{app}; keepalive 64; }}
  server {{
    listen {lo}:{port};
    modsecurity {modsec};
    modsecurity_rules_file {dir}/modsecurity.conf;
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
  # the near-free upstream: ModSecurity inspects the request before nginx proxies it here
  server {{
    listen {lo}:{app};
    modsecurity off;
    location / {{ return 200 "ok"; }}
  }}
}}
"""


class NginxPeer:
    """nginx (one worker) proxying to a return-200 server block, with or without ModSecurity + CRS."""

    def __init__(self, workdir: Path, name: str, modsecurity: bool) -> None:
        d = workdir / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "tmp").mkdir(exist_ok=True)
        self.port, app = free_port(), free_port()
        (d / "modsecurity.conf").write_text(MODSEC_CONF.format(tmp=d / "tmp", crs_setup=CRS_SETUP, crs_rules=CRS_RULES))
        conf = d / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=d, module=MODSEC_MODULE, lo=LOOPBACK, port=self.port, app=app,
                                          modsec="on" if modsecurity else "off"))
        self.proc = Proc(name, [NGINX, "-c", str(conf), "-p", str(d), "-e", str(d / "nginx-error.log")], workdir)
        wait_for(lambda: http_ok(f"http://{LOOPBACK}:{self.port}/"), 60, f"{name} to answer", self.proc)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        self.proc.stop()


# ----------------------------------------------------------------- wrk

WRK_LUA = """\
-- generated by bench/harness.py
local mix = {mix}
local rate = {rate}           -- requests/s for the whole thread; 0 = as fast as possible
local reqs, n = {{}}, 0
counts, sent, blocked_actor = {{}}, {{}}, 0  -- globals: done() reads them with thread:get
local ffi, clock, start = nil, nil, nil
if rate > 0 then
  ffi = require("ffi")
  ffi.cdef[[ typedef struct {{ long tv_sec; long tv_nsec; }} ts_t; int clock_gettime(int, ts_t *); ]]
  local ts = ffi.new("ts_t")
  clock = function() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6 end
end

threads_list = {{}}
function setup(thread)
  thread:set("id", #threads_list)
  table.insert(threads_list, thread)
end

function init(args)
  for i, r in ipairs(mix) do reqs[i] = r end
  n = (id or 0) * 2097152
  base = n
end

if rate > 0 then  -- wrk calls delay() before every request only if the script defines it
  function delay()
    if start == nil then start = clock() end
    local due = start + (n - base) * 1000 / rate
    local now = clock()
    if due > now then return due - now end
    return 0
  end
end

function request()
  n = n + 1
  local r = reqs[(n % #reqs) + 1]
  local a = n % 16777216
  r.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(a / 65536) % 256, math.floor(a / 256) % 256, a % 256)
  sent[r.expect] = (sent[r.expect] or 0) + 1
  return wrk.format(r.method, r.path, r.headers, r.body)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if status == 403 and body and string.find(body, "blocked actor", 1, true) then blocked_actor = blocked_actor + 1 end
end

function done(summary, latency, requests)
  local out = {{statuses = {{}}, sent = {{}}, blocked_actor = 0, errors = summary.errors}}
  for _, t in ipairs(threads_list) do
    for k, v in pairs(t:get("counts")) do out.statuses[tostring(k)] = (out.statuses[tostring(k)] or 0) + v end
    for k, v in pairs(t:get("sent")) do out.sent[tostring(k)] = (out.sent[tostring(k)] or 0) + v end
    out.blocked_actor = out.blocked_actor + t:get("blocked_actor")
  end
  local parts = {{}}
  for k, v in pairs(out.statuses) do table.insert(parts, string.format('"%s": %d', k, v)) end
  local sparts = {{}}
  for k, v in pairs(out.sent) do table.insert(sparts, string.format('"%s": %d', k, v)) end
  io.write(string.format('WRKJSON {{"statuses": {{%s}}, "sent": {{%s}}, "blocked_actor": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\\n',
    table.concat(parts, ", "), table.concat(sparts, ", "), out.blocked_actor,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
"""


def _lua_str(b: bytes | str) -> str:
    if isinstance(b, str):
        b = b.encode()
    return '"' + "".join(f"\\{c:03d}" if c < 32 or c > 126 or c in (34, 92) else chr(c) for c in b) + '"'


def wrk_script(requests: list[HttpRequest], path: Path, rate: float = 0.0, threads: int = 1) -> Path:
    entries = []
    for r in requests:
        headers = ", ".join(f"[{_lua_str(k)}] = {_lua_str(v)}" for k, v in r.headers.items())
        entries.append(f"{{method = {_lua_str(r.method)}, path = {_lua_str(r.uri)}, headers = {{{headers}}}, "
                       f"body = {_lua_str(r.body) if r.body else 'nil'}, expect = {r.expect}}}")
    per_thread = rate / threads if rate else 0
    path.write_text(WRK_LUA.format(mix="{\n  " + ",\n  ".join(entries) + "\n}", rate=per_thread))
    return path


@dataclass
class WrkResult:
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    statuses: dict | None = None
    sent: dict | None = None
    blocked_actor: int = 0
    socket_errors: int = 0
    raw: str = ""

    def unexpected(self) -> int:
        """Responses whose status the mix did not ask for (plus socket errors and timeouts).

        wrk stops with requests in flight, so the counts per status may differ from
        what was sent by at most the number of connections; beyond that it is an error.
        """
        st, sent = self.statuses or {}, self.sent or {}
        other = sum(v for k, v in st.items() if k not in sent)
        return other + self.socket_errors


def _ms(text: str) -> float:
    for unit, f in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * f
    return float(text)


def run_wrk(url: str, script: Path, connections: int, duration: float, threads: int = 1,
            timeout_s: float = 5.0) -> WrkResult:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
            "--timeout", f"{timeout_s:g}s", "-s", str(script), url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120).stdout
    res = WrkResult(raw=out)
    for line in out.splitlines():
        parts = line.split()
        s = line.strip()
        if s.startswith("50%"):
            res.p50_ms = _ms(parts[1])
        elif s.startswith("90%"):
            res.p90_ms = _ms(parts[1])
        elif s.startswith("99%"):
            res.p99_ms = _ms(parts[1])
        elif line.startswith("Requests/sec:"):
            res.rps = float(parts[1])
        elif "requests in" in line:
            res.requests = int(parts[0])
            res.seconds = _ms(parts[3].rstrip(",")) / 1000
        elif line.startswith("WRKJSON "):
            data = json.loads(line[len("WRKJSON "):])
            res.statuses, res.sent, res.blocked_actor = data["statuses"], data["sent"], data["blocked_actor"]
            res.socket_errors = sum(data[k] for k in ("connect", "read", "write", "timeout"))
    return res


def require_wrk() -> str | None:
    return None if shutil.which("wrk") else "wrk is not installed (Debian: apt-get install wrk)"
