"""The server checks on a thread pool: one Engine must decide correctly from many threads at once.

Regressions: the Hyperscan prefilter shared one scratch space between threads, and
concurrent scans failed (ScratchInUseError) into the failure decision — benign
requests denied under load; the scanner detector's own database did the same and
swallowed the error — half the scanner user agents missed under load.
"""
from __future__ import annotations

import threading

from extauthz.config import Config
from extauthz.engine import Engine
from extauthz.request import Request
from extauthz.verdict import Action


def test_one_engine_many_threads():
    engine = Engine(Config())
    results: list[Action] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        mine = []
        for n in range(400):
            attack = (n + i) % 2 == 0
            q = "file=../../../../etc/passwd" if attack else "q=running+shoes&size=42&sort=price_asc"
            v = engine.check(Request(path="/catalog", query=q, service="shop"))
            mine.append((attack, v.action))
            if n % 4 == 1:
                ua = engine.check(Request(path="/", service="shop",
                                          headers={"user-agent": ("sqlmap/1.7.2#stable (https://sqlmap.org)",)}))
                mine.append(("scanner", any(f.cls == "scanner" for f in ua.findings)))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3000
    assert sum(engine.failures.values()) == 0
    checks = [(attack, action) for attack, action in results if attack != "scanner"]
    assert all(action is (Action.DENY if attack else Action.ALLOW) for attack, action in checks)
    assert all(found for kind, found in results if kind == "scanner")
