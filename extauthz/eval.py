"""`extauthz eval`: replay labelled corpora and measure detection.

In-process (through the same Engine the server uses) or `--via` a running Envoy
over HTTP, where a 403 counts as blocked. Prints per file and overall: counts,
TPR, FPR, balanced accuracy and per-category tables; `--json` prints one object.
"""
from __future__ import annotations

import json
import multiprocessing
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, TextIO
from urllib.parse import urlsplit

from extauthz.config import Config
from extauthz.corpus import CorpusError, Record, read_corpus
from extauthz.verdict import Action

Judge = Callable[[Record], tuple[bool, dict | None]]


@dataclass
class Tally:
    attack: int = 0
    benign: int = 0
    tp: int = 0
    fp: int = 0
    envoy_rejected: int = 0  # --via only: answered 400/431/413 by Envoy before extauthz
    by_category: dict[str, list[int]] = field(default_factory=dict)  # cat -> [n, detected]

    def add(self, label: str, category: str, detected: bool) -> None:
        cell = self.by_category.setdefault(category, [0, 0])
        cell[0] += 1
        cell[1] += int(detected)
        if label == "attack":
            self.attack += 1
            self.tp += int(detected)
        else:
            self.benign += 1
            self.fp += int(detected)

    def merge(self, other: "Tally") -> None:
        self.attack += other.attack
        self.benign += other.benign
        self.tp += other.tp
        self.fp += other.fp
        self.envoy_rejected += other.envoy_rejected
        for cat, (n, d) in other.by_category.items():
            cell = self.by_category.setdefault(cat, [0, 0])
            cell[0] += n
            cell[1] += d

    def summary(self) -> dict:
        tpr = self.tp / self.attack if self.attack else None
        fpr = self.fp / self.benign if self.benign else None
        if tpr is not None and fpr is not None:
            bal = (tpr + (1 - fpr)) / 2
        else:
            bal = None
        out = {
            "attack": self.attack, "benign": self.benign,
            "detected_attacks": self.tp, "false_positives": self.fp,
            "tpr": tpr, "fpr": fpr, "balanced_accuracy": bal,
            "accuracy": (self.tp + self.benign - self.fp) / (self.attack + self.benign) if self.attack + self.benign else None,
            "by_category": {c: {"n": n, "detected": d} for c, (n, d) in sorted(self.by_category.items())},
        }
        if self.envoy_rejected:
            out["envoy_rejected"] = self.envoy_rejected
        return out


# ---------------------------------------------------------------- judges


def detected(action: Action) -> bool:
    return action not in (Action.ALLOW, Action.OFF, Action.LISTED_ALLOW)


def engine_judge(engine) -> Judge:
    def judge(rec: Record) -> tuple[bool, dict | None]:
        v = engine.check(rec.request)
        hit = detected(v.action)
        wrong = hit != (rec.label == "attack")
        return hit, (v.as_dict() if wrong else None)
    return judge


class _HttpClient:
    """One keep-alive HTTP/1.1 connection; sends a corpus request as-is."""

    def __init__(self, host: str, port: int) -> None:
        self.addr = (host, port)
        self.sock: socket.socket | None = None
        self.buf = b""

    def _connect(self) -> socket.socket:
        s = socket.create_connection(self.addr, timeout=30)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        return s

    def send(self, rec: Record) -> int:
        raw = rec.raw
        body = (raw.get("body") or "").encode("utf-8", "surrogatepass")
        lines = [f"{raw.get('method') or 'GET'} {raw.get('uri') or '/'} HTTP/1.1"]
        has_host = False
        for name, value in raw.get("headers") or []:
            lname = str(name).lower()
            if lname in ("content-length", "transfer-encoding", "connection"):
                continue
            has_host |= lname == "host"
            lines.append(f"{name}: {value}")
        if not has_host:
            lines.append("Host: localhost")
        lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass") + body
        for attempt in range(2):
            try:
                if self.sock is None:
                    self.sock = self._connect()
                self.sock.sendall(data)
                return self._read_status(head_only=lines[0].split(" ", 1)[0].upper() == "HEAD")
            except (OSError, ValueError):
                self.close()
                if attempt:
                    raise
        return 0

    def _read_status(self, head_only: bool = False) -> int:
        """The response's status; its body is read and dropped (none follows a HEAD, 204 or 304)."""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length, close, chunked = 0, False, False
        for line in lines[1:]:
            k, _, v = line.partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v.strip())
            elif k == "connection" and "close" in v.lower():
                close = True
            elif k == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
        if 100 <= status < 200:  # interim (100 Continue): the final response follows
            self.buf = rest
            return self._read_status(head_only)
        if head_only or status in (204, 304):
            self.buf = rest
        elif chunked:
            while not rest.endswith(b"0\r\n\r\n"):
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
            self.buf = b""
        else:
            while len(rest) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
            self.buf = rest[length:]
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = b""


ENVOY_REJECT_STATUSES = frozenset({400, 413, 414, 431})


def via_judge(url: str) -> tuple[Judge, Callable[[], None]]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    local = threading.local()
    clients: list[_HttpClient] = []

    def judge(rec: Record) -> tuple[bool, dict | None]:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = _HttpClient(host, port)
            clients.append(client)
        status = client.send(rec)
        hit = status == 403
        wrong = hit != (rec.label == "attack")
        info = {"status": status} if (wrong or status in ENVOY_REJECT_STATUSES) else None
        return hit, info

    def close() -> None:
        for c in clients:
            c.close()

    return judge, close


# ---------------------------------------------------------------- running

# Set in the parent before the pool forks: workers inherit the built engine
# (compiled once, shared copy-on-write), and a config that fails to build fails
# in the parent, once, instead of in every respawned worker.
_WORKER_JUDGE: Judge | None = None


def _worker_batch(batch: list[Record]) -> list[tuple[bool, dict | None]]:
    assert _WORKER_JUDGE is not None
    return [_WORKER_JUDGE(r) for r in batch]


def build_eval_engine(config: Config, state_dir: str | None = None):
    """The engine eval uses: learned profiles from `state_dir` (else state.dir), read-only.

    Eval never learns: a test corpus must not train the profile it is measured with.
    No actor state: a corpus comes from one address, and each request is judged
    alone (actor risk has its own replay: bench/risk_replay.py).
    """
    from extauthz.engine import Engine
    from extauthz.runtime import build_runtime
    return Engine(config, runtime=build_runtime(config, state_dir=state_dir, actor_state=False, learning=False))


def _batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for r in records:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def evaluate(files: list[str], config: Config, *, via: str | None = None, jobs: int = 1,
             errors: TextIO | None = None, state_dir: str | None = None,
             split: str = "all", progress: TextIO | None = None, service: str | None = None) -> dict:
    result: dict = {"files": {}}
    overall = Tally()
    pool = None
    closer: Callable[[], None] = lambda: None
    if via:
        judge, closer = via_judge(via)
        threads = ThreadPoolExecutor(max_workers=max(1, jobs))
        run = lambda batch: list(threads.map(judge, batch))  # noqa: E731
    elif jobs > 1:
        global _WORKER_JUDGE
        _WORKER_JUDGE = engine_judge(build_eval_engine(config, state_dir))
        pool = multiprocessing.get_context("fork").Pool(jobs)
        run = None
    else:
        judge = engine_judge(build_eval_engine(config, state_dir))
        run = lambda batch: [judge(r) for r in batch]  # noqa: E731
    t0 = time.monotonic()
    try:
        for path in files:
            tally = Tally()
            for batch, outs in _paired(path, split, pool, run, service):
                for rec, (hit, info) in zip(batch, outs):
                    if info and info.get("status") in ENVOY_REJECT_STATUSES:
                        tally.envoy_rejected += 1
                    tally.add(rec.label, rec.category, hit)
                    if errors is not None and hit != (rec.label == "attack"):
                        errors.write(json.dumps({"file": Path(path).name, "id": rec.id, "label": rec.label,
                                                 "category": rec.category, "method": rec.raw.get("method"),
                                                 "uri": rec.raw.get("uri"), "body": (rec.raw.get("body") or "")[:2000],
                                                 "verdict": info}, ensure_ascii=False) + "\n")
            result["files"][Path(path).name] = tally.summary()
            overall.merge(tally)
            if progress is not None:
                progress.write(f"  {Path(path).name}: {tally.attack + tally.benign} requests, "
                               f"{time.monotonic() - t0:.1f}s\n")
                progress.flush()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        closer()
    result["overall"] = overall.summary()
    result["seconds"] = round(time.monotonic() - t0, 2)
    result["mode"] = f"via {via}" if via else "in-process"
    result["split"] = split
    return result


def _paired(path: str, split: str, pool, run, service: str | None = None) -> Iterator[tuple[list[Record], list]]:
    if pool is None:
        for batch in _batches(read_corpus(path, service, split=split), 256):
            yield batch, run(batch)
        return
    batches = list(_batches(read_corpus(path, service, split=split), 256))
    yield from zip(batches, pool.imap(_worker_batch, batches))


def _pct(x: float | None) -> str:
    return "   -   " if x is None else f"{100 * x:6.2f}%"


def format_report(result: dict, out: TextIO = sys.stdout) -> None:
    def block(name: str, s: dict) -> None:
        out.write(f"\n{name}\n")
        out.write(f"  attacks {s['attack']:>7}  detected {s['detected_attacks']:>7}  TPR {_pct(s['tpr'])}\n")
        out.write(f"  benign  {s['benign']:>7}  flagged  {s['false_positives']:>7}  FPR {_pct(s['fpr'])}\n")
        if s["balanced_accuracy"] is not None:
            out.write(f"  balanced accuracy {_pct(s['balanced_accuracy'])}   accuracy {_pct(s['accuracy'])}\n")
        if s.get("envoy_rejected"):
            out.write(f"  answered 400/413/414/431 by Envoy itself: {s['envoy_rejected']}\n")
        out.write(f"  {'category':<14}{'n':>8}{'detected':>10}{'rate':>9}\n")
        for cat, c in s["by_category"].items():
            rate = c["detected"] / c["n"] if c["n"] else 0
            out.write(f"  {cat:<14}{c['n']:>8}{c['detected']:>10}{100 * rate:>8.2f}%\n")

    for name, s in result["files"].items():
        block(name, s)
    if len(result["files"]) > 1:
        block("overall", result["overall"])
    out.write(f"\n{result['mode']}, split {result['split']}, {result['seconds']}s\n")


__all__ = ["CorpusError", "evaluate", "format_report"]
