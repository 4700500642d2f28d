"""`extauthz actors`: what the shared store knows about actors, and blocking by hand.

It reads the store the config names. With Redis that is the state every
worker and replica shares, read directly. The in-process store lives inside
each serving process, so the command asks that process's admin API
(`admin.listen`, or --admin HOST:PORT; the token from `admin.token_file` /
`admin.token_env`): what it shows is that one process's actors (with
--workers N, each worker has its own).
"""
from __future__ import annotations

import argparse
import json

from extauthz.config import Config
from extauthz.store.base import StoreError

MEMORY_EXPLANATION = (
    "store.backend is memory: actor state lives inside each serving process (each --workers process "
    "has its own), reachable only through that process's admin API; set store.backend: redis so that "
    "every process and this command share one state.")


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


def _print_table(items: list[dict]) -> None:
    print(f"{'actor':20} {'risk':>6} {'blocked':>8} {'off':>3} {'cause':8} {'ip':39} {'principal / user agent'}")
    for r in items:
        who = r.get("principal") or r.get("user_agent") or ""
        if r.get("credential"):
            who = f"{who} [{r['credential']}]".strip()
        remaining = r.get("block_remaining_s") or 0.0
        print(f"{r['id']:20} {r['risk']:6.1f} {_fmt_time(remaining):>8} {r.get('offences', 0):3d} "
              f"{_printable(r.get('cause') or '', 8):8} {_printable(r.get('ip') or '', 39):39} {_printable(who, 60)}")
    if not items:
        print("(no actors with risk)")


def _via_admin(config: Config, args: argparse.Namespace, usage_error: type[Exception]) -> int:
    import urllib.error
    import urllib.request

    from extauthz.admin.api import load_token

    listen = args.admin or config.admin.listen
    if listen == "off":
        raise usage_error(MEMORY_EXPLANATION + " (admin.listen is off)")
    base = listen if listen.startswith("http") else f"http://{listen}"
    token = load_token(config.admin)

    def call(method: str, path: str, body: dict | None = None) -> dict:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        req = urllib.request.Request(base + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            raise usage_error(f"admin API at {base}: {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise usage_error(f"cannot reach the admin API at {base} ({getattr(exc, 'reason', exc)}). "
                              + MEMORY_EXPLANATION) from None

    if args.unblock:
        call("POST", "/v1/actors/unblock", {"actor": args.unblock})
        print(f"{args.unblock}: unblocked")
        return 0
    if args.block or args.block_ip:
        body: dict = {"actor": args.block or args.block_ip}
        if args.seconds is not None:
            body["seconds"] = args.seconds
        entry = call("POST", "/v1/actors/block", body)["blocked"]
        print(f"{entry['id']}: blocked for {_fmt_time(entry['block_remaining_s'])} (offence {entry['offences']})")
        return 0
    items = call("GET", f"/v1/actors?limit={max(1, min(args.limit, 1000))}")["actors"]
    if args.json:
        print(json.dumps({"store": "memory", "admin": base, "actors": items}, indent=2))
    else:
        print(f"(one serving process's actors, from its admin API at {base})")
        _print_table(items)
    return 0


def run_actors(config: Config, args: argparse.Namespace, usage_error: type[Exception]) -> int:
    if config.store.backend != "redis":
        return _via_admin(config, args, usage_error)
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
        else:
            _print_table(admin.as_json(records))
        return 0
    finally:
        store.close()
