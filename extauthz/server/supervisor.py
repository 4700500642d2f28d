"""--workers N: N serving processes on one port, kept alive, drained together.

Each worker is a fresh interpreter (not a fork: gRPC state must not cross a
fork) that binds the shared port with SO_REUSEPORT; the kernel spreads
connections over them. The supervisor forwards SIGTERM (drain) and SIGHUP
(reload), restarts a worker that dies, and arranges that workers die with it.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time

log = logging.getLogger("extauthz.supervisor")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def supervise(child_argv: list[str], workers: int, drain_seconds: float) -> int:
    stopping = False
    children: dict[int, subprocess.Popen] = {}
    restarts: list[float] = []

    def spawn(index: int) -> subprocess.Popen:
        env = dict(os.environ, EXTAUTHZ_WORKER_INDEX=str(index))
        return subprocess.Popen([sys.executable, "-m", "extauthz", *child_argv], env=env,
                                preexec_fn=_die_with_parent)

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
            children[i] = spawn(i)

    deadline = time.monotonic() + drain_seconds + 5
    worst = 0
    for p in children.values():
        try:
            code = p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            code = p.wait()
        worst = worst or (code if code not in (0, -signal.SIGTERM) else 0)
    return worst
