"""`python -m extauthz.healthcheck [HOST:PORT]`: exit 0 when extauthz's gRPC health
service answers SERVING, 1 otherwise (NOT_SERVING while draining, unreachable).

The container HEALTHCHECK (Dockerfile) and docker-compose use it. Without an
argument it checks $EXTAUTHZ_LISTEN (default 127.0.0.1:9001); a wildcard listen
host (0.0.0.0, ::) is checked on loopback.
"""
from __future__ import annotations

import os
import sys

from extauthz.mesh import grpc_health

WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}


def probe_address(listen: str) -> str:
    host, sep, port = listen.rpartition(":")
    if not sep:
        raise ValueError(f"{listen!r}: expected HOST:PORT")
    return f"127.0.0.1:{port}" if host in WILDCARD_HOSTS else listen


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    listen = args[0] if args else os.environ.get("EXTAUTHZ_LISTEN") or "127.0.0.1:9001"
    try:
        address = probe_address(listen)
    except ValueError as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 2
    status = grpc_health(address, timeout=float(os.environ.get("EXTAUTHZ_HEALTHCHECK_TIMEOUT", "2")))
    print(f"{address} {status}")
    return 0 if status == "SERVING" else 1


if __name__ == "__main__":
    sys.exit(main())
