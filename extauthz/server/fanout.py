"""The admin API of a --workers N supervisor: one port, answers for all workers.

Each worker serves the same admin API on an internal loopback port (it writes
the port to the supervisor's run directory and accepts only the supervisor's
random token). The supervisor's public admin port answers:

- /metrics: the sum over all workers, from prometheus_client's multiprocess
  files (PROMETHEUS_MULTIPROC_DIR, set for every worker);
- /readyz: ready when every worker is;
- /v1/events: each worker's recent events, merged newest first;
- /v1/reload: every worker reloads; applied only when all applied;
- /v1/config, /v1/lists, /v1/profiles: the first worker's answer (every worker
  runs the same config; lists and profiles come from the shared store);
- /v1/actors: merged by actor (highest risk); block/unblock and list changes
  go to every worker, so per-worker in-memory state agrees too.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from extauthz.admin.providers import AdminError
from extauthz.events import EventFilter

log = logging.getLogger("extauthz.supervisor")


class WorkerAdmin:
    """Talks to the workers' internal admin ports."""

    def __init__(self, admin_dir: Path, token: str, workers: int) -> None:
        self.admin_dir, self.token, self.workers = admin_dir, token, workers
        self.pool = ThreadPoolExecutor(max_workers=max(2, min(workers, 16)), thread_name_prefix="fanout")

    def ports(self) -> dict[int, int]:
        out = {}
        for i in range(self.workers):
            try:
                out[i] = int((self.admin_dir / f"worker-{i}.admin").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return out

    def call(self, port: int, method: str, target: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(f"http://127.0.0.1:{port}{target}", data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw, status = r.read(), r.status
        except urllib.error.HTTPError as e:
            raw, status = e.read(), e.code
        except OSError as exc:
            return 503, {"error": f"worker unreachable: {exc}", "status": 503}
        ctype_json = raw[:1] in (b"{", b"[")
        return status, json.loads(raw) if ctype_json else raw.decode("utf-8", "replace")

    def all(self, method: str, target: str, body: Any = None) -> dict[int, tuple[int, Any]]:
        ports = self.ports()
        futs = {i: self.pool.submit(self.call, p, method, target, body) for i, p in ports.items()}
        return {i: f.result() for i, f in futs.items()}

    def first(self, method: str, target: str, body: Any = None) -> Any:
        ports = self.ports()
        if not ports:
            raise AdminError(503, "no worker is up yet")
        status, obj = self.call(ports[min(ports)], method, target, body)
        if status != 200:
            raise AdminError(status, obj.get("error", str(obj)) if isinstance(obj, dict) else str(obj))
        return obj


def _raise_first_error(results: dict[int, tuple[int, Any]]) -> None:
    for i, (status, obj) in sorted(results.items()):
        if status != 200:
            msg = obj.get("error", str(obj)) if isinstance(obj, dict) else str(obj)
            raise AdminError(status, f"worker {i}: {msg}")


class _ActorsProxy:
    def __init__(self, w: WorkerAdmin) -> None:
        self.w = w

    def list_actors(self, limit: int, blocked_only: bool) -> list[dict]:
        results = self.w.all("GET", "/v1/actors?" + urlencode({"limit": limit, "blocked": str(blocked_only).lower()}))
        _raise_first_error(results)
        merged: dict[str, dict] = {}
        for _, (_, obj) in sorted(results.items()):
            for a in obj["actors"]:
                have = merged.get(a["actor"])
                if have is None or (a.get("risk") or 0) > (have.get("risk") or 0):
                    merged[a["actor"]] = a
        return sorted(merged.values(), key=lambda a: -(a.get("risk") or 0))[:limit]

    def block(self, actor: str, seconds: float, reason: str) -> dict:
        results = self.w.all("POST", "/v1/actors/block", {"actor": actor, "seconds": seconds, "reason": reason})
        _raise_first_error(results)
        return results[min(results)][1]["blocked"]

    def unblock(self, actor: str) -> bool:
        results = self.w.all("POST", "/v1/actors/unblock", {"actor": actor})
        if any(s == 200 for s, _ in results.values()):
            return True
        if all(s == 404 for s, _ in results.values()):
            return False
        _raise_first_error(results)
        return False


class _ListsProxy:
    def __init__(self, w: WorkerAdmin) -> None:
        self.w = w

    def get_lists(self) -> dict:
        return self.w.first("GET", "/v1/lists")

    def add_entries(self, name: str, entries: list[str], reason: str, seconds: float | None) -> list:
        body: dict[str, Any] = {"entries": entries, "reason": reason}
        if seconds is not None:
            body["seconds"] = seconds
        results = self.w.all("POST", f"/v1/lists/{name}/add", body)
        _raise_first_error(results)
        return results[min(results)][1]["added"]

    def remove_entries(self, name: str, entries: list[str]) -> int:
        results = self.w.all("POST", f"/v1/lists/{name}/remove", {"entries": entries})
        _raise_first_error(results)
        return max(obj["removed"] for _, obj in results.values())


class _ProfilesProxy:
    def __init__(self, w: WorkerAdmin) -> None:
        self.w = w

    def profile_services(self) -> list[str]:
        return self.w.first("GET", "/v1/profiles")["services"]

    def profile(self, service: str) -> dict | None:
        from urllib.parse import quote

        try:
            return self.w.first("GET", "/v1/profiles/" + quote(service, safe=""))
        except AdminError as exc:
            if exc.status == 404:
                return None
            raise


class FanOutBackend:
    def __init__(self, workers: WorkerAdmin, metrics_dir: str) -> None:
        self.w = workers
        self.metrics_dir = metrics_dir
        self.draining = False

    def ready(self) -> tuple[bool, str]:
        if self.draining:
            return False, "draining"
        results = self.w.all("GET", "/readyz")
        up = sum(1 for s, _ in results.values() if s == 200)
        if up == self.w.workers:
            return True, f"{up} of {self.w.workers} workers serving"
        return False, f"{up} of {self.w.workers} workers serving"

    def metrics(self) -> tuple[bytes, str]:
        from extauthz.metrics import exposition

        return exposition(self.metrics_dir)

    def events(self, flt: EventFilter) -> list[dict]:
        q = {k: v for k, v in (("service", flt.service), ("hop", flt.hop), ("decision", flt.decision),
                               ("action", flt.action), ("class", flt.cls), ("rule", flt.rule),
                               ("request_id", flt.request_id), ("trace_id", flt.trace_id),
                               ("event_id", flt.event_id)) if v}
        if flt.since:
            q["since"] = repr(flt.since)
        q["limit"] = str(flt.limit)
        results = self.w.all("GET", "/v1/events?" + urlencode(q))
        _raise_first_error(results)
        merged = [e for _, (_, obj) in results.items() for e in obj["events"]]
        merged.sort(key=lambda e: e["time"], reverse=True)
        return merged[: flt.limit]

    def reload(self) -> tuple[bool, str]:
        results = self.w.all("POST", "/v1/reload")
        if not results:
            return False, "no worker is up"
        failed = {i: obj for i, (s, obj) in results.items() if s != 200}
        if failed:
            i, obj = min(failed.items())
            msg = obj.get("error", str(obj)) if isinstance(obj, dict) else str(obj)
            return False, f"{len(failed)} of {len(results)} workers rejected the reload; worker {i}: {msg}"
        return True, f"reloaded in {len(results)} workers"

    def effective_config(self) -> dict:
        return self.w.first("GET", "/v1/config")

    def actor_admin(self):
        return _ActorsProxy(self.w)

    def list_admin(self):
        return _ListsProxy(self.w)

    def profile_admin(self):
        return _ProfilesProxy(self.w)
