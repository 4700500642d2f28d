"""`extauthz actors`: what the shared store knows about actors, and blocking by hand.

It reads the store the config names. With Redis that is the state every
worker and replica shares. The in-process store lives inside each serving
process and dies with it, so the command cannot see it: it says so and points
at the server's admin API.
"""
from __future__ import annotations

import argparse
import json
import time

from extauthz.config import Config
from extauthz.store.base import StoreError

MEMORY_EXPLANATION = (
    "store.backend is memory: actor state lives inside each serving process (each --workers process "
    "has its own) and this command cannot reach it. Ask a running server's admin API, or set "
    "store.backend: redis so that every process and this command share one state.")


def _fmt_time(seconds: float) -> str:
    if seconds <= 0:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def _printable(text: str, width: int) -> str:
    text = text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= width else text[:width - 1] + "…"


def run_actors(config: Config, args: argparse.Namespace, usage_error: type[Exception]) -> int:
    if config.store.backend != "redis":
        raise usage_error(MEMORY_EXPLANATION)
    from extauthz.risk.admin import RiskAdmin
    from extauthz.store.redis import RedisStateStore, make_client

    store = RedisStateStore(make_client(config.store.redis), config.store.redis.namespace,
                            name=config.store.redis.url.split("@")[-1])
    try:
        if store.breaker.is_open:
            raise usage_error(f"cannot reach Redis at {config.store.redis.url.split('@')[-1]}")
        admin = RiskAdmin(config, store)
        try:
            if args.unblock:
                found = admin.unblock(args.unblock)
                print(f"{args.unblock}: {'unblocked' if found else 'no such actor'}")
                return 0 if found else 1
            if args.block or args.block_ip:
                rec = admin.block(args.block, args.seconds) if args.block else \
                    admin.block_identity(args.seconds, ip=args.block_ip)
                print(f"{rec.id}: blocked for {_fmt_time(rec.blocked_until - admin.clock())} (offence {rec.offences})")
                return 0
            records = admin.top(args.limit)
        except StoreError as exc:
            raise usage_error(str(exc)) from None
        if args.json:
            print(json.dumps({"store": "redis", "actors": admin.as_json(records)}, indent=2))
            return 0
        now = time.time()
        print(f"{'actor':20} {'risk':>6} {'blocked':>8} {'off':>3} {'cause':8} {'ip':39} {'principal / user agent'}")
        for r in records:
            who = r.label.principal or r.label.user_agent
            if r.label.credential:
                who = f"{who} [{r.label.credential}]".strip()
            print(f"{r.id:20} {r.risk:6.1f} {_fmt_time(r.blocked_until - now):>8} {r.offences:3d} "
                  f"{_printable(r.cause, 8):8} {_printable(r.label.ip, 39):39} {_printable(who, 60)}")
        if not records:
            print("(no actors with risk)")
        return 0
    finally:
        store.close()
