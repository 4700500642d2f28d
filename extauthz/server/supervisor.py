"""--workers N: N serving processes on one port, kept alive, drained together.

Each worker is a fresh interpreter (not a fork: gRPC state must not cross a
fork) that binds the shared port with SO_REUSEPORT; the kernel spreads
connections over them. The supervisor forwards SIGTERM (drain) and SIGHUP
(reload), restarts a worker that dies, and arranges that workers die with it.

Before the workers start, the supervisor compiles the detectors' patterns once
into the disk cache (extauthz.detect.prefilter; EXTAUTHZ_CACHE_DIR), so N
workers load them in milliseconds instead of each compiling for seconds.

It also serves the admin API on `admin.listen` for all workers together
(extauthz.server.fanout): metrics summed through prometheus_client's
multiprocess files, events merged, reloads sent to every worker.
"""
from __future__ import annotations

import ctypes
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger("extauthz.supervisor")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def supervise(child_argv: list[str], workers: int, drain_seconds: float,
              admin_listen: str = "off", admin_token: str | None = None,
              prepare: Callable[[Path], None] | None = None) -> int:
    """Run `workers` serving processes; `prepare(run_dir)` runs once before they start."""
    from extauthz.server.grpc_server import WORKER_ADMIN_DIR_ENV, WORKER_INDEX_ENV, WORKER_TOKEN_ENV

    stopping = False
    children: dict[int, subprocess.Popen] = {}
    restarts: list[float] = []
    run_dir = Path(tempfile.mkdtemp(prefix="extauthz-run-"))
    metrics_dir, admin_dir = run_dir / "metrics", run_dir / "admin"
    metrics_dir.mkdir()
    admin_dir.mkdir()
    internal_token = secrets.token_urlsafe(32)
    if prepare is not None:
        try:
            prepare(run_dir)
        except BaseException:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
    admin, backend = None, None
    if admin_listen != "off":
        from extauthz.admin.api import AdminAPI
        from extauthz.admin.http import AdminServer
        from extauthz.server.fanout import FanOutBackend, WorkerAdmin

        backend = FanOutBackend(WorkerAdmin(admin_dir, internal_token, workers), str(metrics_dir))
        try:
            admin = AdminServer(AdminAPI(backend, admin_token), admin_listen)
        except OSError:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
        admin.start()

    def spawn(index: int) -> subprocess.Popen:
        env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
        env[WORKER_INDEX_ENV] = str(index)
        env[WORKER_ADMIN_DIR_ENV] = str(admin_dir)
        env[WORKER_TOKEN_ENV] = internal_token
        return subprocess.Popen([sys.executable, "-m", "extauthz", *child_argv], env=env,
                                preexec_fn=_die_with_parent)

    def reap(index: int, pid: int) -> None:
        """A dead worker's live gauges and admin port go; its counters stay in the sum."""
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, str(metrics_dir))
        (admin_dir / f"worker-{index}.admin").unlink(missing_ok=True)

    def forward(sig: int) -> None:
        for p in children.values():
            if p.poll() is None:
                p.send_signal(sig)

    def on_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        forward(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, lambda *_: forward(signal.SIGHUP))

    for i in range(workers):
        children[i] = spawn(i)
    log.info("supervising %d workers", workers)

    while not stopping:
        time.sleep(0.2)
        for i, p in list(children.items()):
            code = p.poll()
            if code is None or stopping:
                continue
            now = time.monotonic()
            restarts[:] = [t for t in restarts if now - t < 60] + [now]
            if len(restarts) > 5 * workers:
                log.error("workers keep dying (last exit code %s); giving up", code)
                stopping = True
                forward(signal.SIGTERM)
                break
            log.warning("worker %d exited with code %s; restarting", i, code)
            reap(i, p.pid)
            children[i] = spawn(i)

    if backend is not None:
        backend.draining = True
    deadline = time.monotonic() + drain_seconds + 5
    worst = 0
    for p in children.values():
        try:
            code = p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            code = p.wait()
        worst = worst or (code if code not in (0, -signal.SIGTERM) else 0)
    if admin is not None:
        admin.stop()
    shutil.rmtree(run_dir, ignore_errors=True)
    return worst
