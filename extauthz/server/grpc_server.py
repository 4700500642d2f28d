"""One serving process: gRPC Authorization/Check + grpc.health.v1, reload, drain.

Server model (measured, see README "Why these dependencies"): synchronous grpcio
with a thread pool. The engine is CPU-bound Python, so threads only overlap the
gRPC I/O; parallelism comes from worker processes sharing the port
(SO_REUSEPORT), which extauthz.server.supervisor starts for --workers N.
"""
from __future__ import annotations

import logging
import signal
import threading
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from extauthz.config import Config, ConfigError, load_config
from extauthz.engine import Engine
from extauthz.events import EventLog
from extauthz.runtime import build_runtime
from extauthz.server.service import SERVICE_NAME, CheckService, grpc_handler

log = logging.getLogger("extauthz.server")


@dataclass
class ServeOptions:
    config_path: str | None
    listen: str
    threads: int
    drain_seconds: float
    max_message_bytes: int
    reuse_port: bool = False


class ServingProcess:
    """A running gRPC server around a swappable Engine."""

    def __init__(self, config: Config, options: ServeOptions,
                 engine_factory: Callable[[Config], Engine] | None = None) -> None:
        self.options = options
        # Long-lived state (stores) lives in the runtime, built once; reloads keep it.
        self.runtime = build_runtime(config)
        self.engine_factory = engine_factory or (lambda cfg: Engine(cfg, runtime=self.runtime))
        self.service = CheckService(self.engine_factory(config))
        events = EventLog.open(config.events.output)
        if events is not None:
            self.service.observers.append(events)
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=options.threads, thread_name_prefix="check"),
            options=[
                ("grpc.so_reuseport", 1 if options.reuse_port else 0),
                ("grpc.max_receive_message_length", options.max_message_bytes),
                ("grpc.max_send_message_length", 4 * 1024 * 1024),
            ],
        )
        self.server.add_generic_rpc_handlers([grpc_handler(self.service)])
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        try:
            self.port = self.server.add_insecure_port(options.listen)
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {options.listen}: {exc}") from None
        if self.port == 0:
            raise OSError(f"cannot listen on {options.listen}")
        self._stop = threading.Event()
        self._reload_lock = threading.Lock()

    def start(self) -> None:
        self.server.start()
        for name in ("", SERVICE_NAME):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        host = self.options.listen.rpartition(":")[0]
        log.info("extauthz listening on %s:%d", host, self.port)

    def reload(self) -> tuple[bool, str]:
        """Build a new engine from the config file and swap it in; keep the old on error."""
        if not self.options.config_path:
            return False, "no config file to reload (running on built-in defaults)"
        with self._reload_lock:
            try:
                config = load_config(self.options.config_path)
                engine = self.engine_factory(config)
            except (ConfigError, OSError) as exc:
                log.error("reload rejected, keeping the running config: %s", exc)
                return False, str(exc)
            self.service.swap(engine)
        if config.store != self.runtime.store_settings:
            log.warning("store settings changed: they take effect at the next restart")
        log.info("configuration reloaded from %s", self.options.config_path)
        return True, "reloaded"

    def request_stop(self) -> None:
        self._stop.set()

    def wait(self) -> None:
        while not self._stop.wait(0.5):
            pass

    def drain(self) -> None:
        """Health NOT_SERVING, let in-flight checks finish, then stop."""
        self.health.enter_graceful_shutdown()
        log.info("draining: up to %.1fs for in-flight checks", self.options.drain_seconds)
        self.server.stop(self.options.drain_seconds).wait()
        close = getattr(self.service.engine, "close", None)
        if close is not None:
            close()
        self.runtime.close()
        log.info("stopped")


def serve_forever(config: Config, options: ServeOptions) -> int:
    proc = ServingProcess(config, options)
    signal.signal(signal.SIGTERM, lambda *_: proc.request_stop())
    signal.signal(signal.SIGINT, lambda *_: proc.request_stop())
    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=proc.reload, daemon=True).start())
    proc.start()
    proc.wait()
    proc.drain()
    return 0


def options_from(config: Config, config_path: str | None, listen: str | None, reuse_port: bool) -> ServeOptions:
    s = config.server
    return ServeOptions(
        config_path=str(Path(config_path)) if config_path else None,
        listen=listen or s.listen,
        threads=s.threads,
        drain_seconds=s.drain_seconds,
        max_message_bytes=s.max_message_bytes,
        reuse_port=reuse_port,
    )
