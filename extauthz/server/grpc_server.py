"""One serving process: gRPC Authorization/Check + grpc.health.v1, reload, drain.

Server model (measured, see README "Why these dependencies"): synchronous grpcio
with a thread pool. The engine is CPU-bound Python, so threads only overlap the
gRPC I/O; parallelism comes from worker processes sharing the port
(SO_REUSEPORT), which extauthz.server.supervisor starts for --workers N.

Around the gRPC server, each process has: the telemetry observer (metrics,
spans, security events; extauthz.telemetry), the config watcher, and the admin
HTTP API (extauthz.admin) — on `admin.listen`, or, as a worker under the
supervisor, on an internal loopback port the supervisor fans out to.
"""
from __future__ import annotations

import gc
import hashlib
import logging
import os
import secrets
import signal
import threading
import time
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from extauthz import metrics
from extauthz.config import Config, ConfigError, parse_config
from extauthz.engine import FAILURE_LISTENERS, Engine
from extauthz.events import EventLog, adopt_recent
from extauthz.finding import set_secret_names
from extauthz.runtime import build_runtime
from extauthz.server.service import SERVICE_NAME, CheckService, grpc_handler
from extauthz.server.watch import ConfigWatcher
from extauthz.telemetry import CheckTelemetry, tracing_wanted

log = logging.getLogger("extauthz.server")

# Set by the supervisor for its workers (extauthz.server.supervisor).
WORKER_ADMIN_DIR_ENV = "EXTAUTHZ_WORKER_ADMIN_DIR"
WORKER_TOKEN_ENV = "EXTAUTHZ_WORKER_ADMIN_TOKEN"
WORKER_INDEX_ENV = "EXTAUTHZ_WORKER_INDEX"


@dataclass
class ServeOptions:
    config_path: str | None
    listen: str
    threads: int
    drain_seconds: float
    max_message_bytes: int
    reuse_port: bool = False
    admin_listen: str | None = None  # None: from the config


def _read_config(path: str) -> tuple[Config, str]:
    """The config and the digest of exactly the bytes it was parsed from."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror or exc}", source=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("config file is not UTF-8 text", source=path) from None
    return parse_config(text, source=path), hashlib.sha256(raw).hexdigest()


class ServingProcess:
    """A running gRPC server around a swappable Engine."""

    def __init__(self, config: Config, options: ServeOptions,
                 engine_factory: Callable[[Config], Engine] | None = None) -> None:
        self.options = options
        # Long-lived state (stores) lives in the runtime, built once; reloads keep it.
        self.runtime = build_runtime(config)
        # Engines are warmed up before they serve: nothing compiles on a first request.
        self.engine_factory = engine_factory or (lambda cfg: Engine(cfg, runtime=self.runtime).warm_up())
        self.config = config
        self.config_digest = None
        if options.config_path:
            from extauthz.server.watch import file_digest

            self.config_digest = file_digest(options.config_path)
        self.started = time.time()
        self.worker = os.environ.get(WORKER_INDEX_ENV, "")
        set_secret_names(config.events.redact_keys)
        if count_failure_once not in FAILURE_LISTENERS:
            FAILURE_LISTENERS.append(count_failure_once)
        metrics.init_process()
        self.service = CheckService(self.engine_factory(config))
        self.telemetry = CheckTelemetry(metrics.CheckMetrics(), self._tracer(config),
                                        EventLog.from_settings(config.events))
        self.service.observers.append(self.telemetry)
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
        self._ready = False
        self._draining = False
        self.admin = self._admin_server(config)
        from extauthz.server.sampler import RuntimeSampler

        self.sampler = RuntimeSampler(self.runtime)
        self.watcher = None
        if options.config_path and config.server.watch_config:
            self.watcher = ConfigWatcher(options.config_path, config.server.watch_seconds, self.reload,
                                         lambda: self.config_digest)

    # ------------------------------------------------------------ parts

    def _tracer(self, config: Config):
        if not tracing_wanted(config.tracing):
            return None
        from extauthz.telemetry.tracing import CheckTracer

        tracer = CheckTracer(config.tracing, worker=self.worker)
        log.info("tracing on: a span per check over OTLP/gRPC")
        return tracer

    def _admin_server(self, config: Config):
        from extauthz.admin.api import AdminAPI, load_token
        from extauthz.admin.http import AdminServer
        from extauthz.server.admin_backend import LocalBackend

        worker_dir = os.environ.get(WORKER_ADMIN_DIR_ENV)
        if worker_dir:  # a worker: internal port, the supervisor's token
            listen, token = "127.0.0.1:0", os.environ.get(WORKER_TOKEN_ENV) or secrets.token_urlsafe(32)
        else:
            listen = self.options.admin_listen or config.admin.listen
            if listen == "off":
                return None
            token = load_token(config.admin)
        return AdminServer(AdminAPI(LocalBackend(self), token, self.started), listen)

    # ------------------------------------------------------------ life

    @property
    def ready(self) -> bool:
        return self._ready and not self._draining

    def start(self) -> None:
        # The startup heap (modules, rule data, compiled detectors: ~100k objects) lives as
        # long as the process; out of the collector's way, a full collection walks only what
        # checks created (actors, profiles), which keeps its pauses short under load.
        gc.collect()
        gc.freeze()
        self.server.start()
        for name in ("", SERVICE_NAME):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        if self.admin is not None:
            self.admin.start()
            worker_dir = os.environ.get(WORKER_ADMIN_DIR_ENV)
            if worker_dir:
                tmp = Path(worker_dir) / f".worker-{self.worker}.tmp"
                tmp.write_text(f"{self.admin.port} {os.getpid()}\n")
                tmp.replace(Path(worker_dir) / f"worker-{self.worker}.admin")
        if self.watcher is not None:
            self.watcher.start()
        self.sampler.start()
        self._ready = True
        host = self.options.listen.rpartition(":")[0]
        log.info("extauthz listening on %s:%d", host, self.port)

    def reload(self) -> tuple[bool, str]:
        """Build a new engine from the config file and swap it in; keep the old on error.

        SIGHUP, the config watcher and the admin API all come here. Checks in
        flight finish on the engine they started with (CheckService.swap).
        """
        if not self.options.config_path:
            return False, "no config file to reload (running on built-in defaults)"
        with self._reload_lock:
            try:
                config, digest = _read_config(self.options.config_path)
                engine = self.engine_factory(config)
            except (ConfigError, OSError) as exc:
                metrics.count_reload(False)
                log.error("reload rejected, keeping the running config: %s", exc)
                return False, str(exc)
            except Exception as exc:  # a bug while compiling must not take the server down either
                metrics.count_reload(False)
                log.exception("reload failed, keeping the running config")
                return False, f"internal error while compiling the config: {type(exc).__name__}: {exc}"
            old_config, self.config, self.config_digest = self.config, config, digest
            set_secret_names(config.events.redact_keys)
            self.service.swap(engine)
            self._apply_settings(old_config, config)
            metrics.count_reload(True)
        log.info("configuration reloaded from %s", self.options.config_path)
        return True, "reloaded"

    def _apply_settings(self, old: Config, new: Config) -> None:
        if new.events != old.events:
            events = EventLog.from_settings(new.events)
            previous, self.telemetry.events = self.telemetry.events, events
            if previous is not None:
                adopt_recent(previous, events)
                previous.close()
        for section in ("server", "tracing", "admin", "store"):
            if getattr(new, section) != getattr(old, section):
                log.warning("config section %r changed: it takes effect at the next restart", section)

    def request_stop(self) -> None:
        self._stop.set()

    def wait(self) -> None:
        while not self._stop.wait(0.5):
            pass

    def drain(self) -> None:
        """Not ready, health NOT_SERVING, in-flight checks finish, state flushed, then stop."""
        self._draining = True
        self.health.enter_graceful_shutdown()
        if self.watcher is not None:
            self.watcher.stop()
        self.sampler.stop()
        log.info("draining: up to %.1fs for in-flight checks", self.options.drain_seconds)
        self.server.stop(self.options.drain_seconds).wait()
        with self._reload_lock:  # no reload half-done while we flush
            engine = self.service.engine
            close = getattr(engine, "close", None)
            if close is not None:
                close()
            runtime = getattr(engine, "runtime", None) or self.runtime
            if runtime is not None:
                runtime.close()
        if self.telemetry.events is not None:
            self.telemetry.events.close()
        if self.telemetry.tracer is not None:
            self.telemetry.tracer.shutdown()
        if self.admin is not None:
            self.admin.stop()
        log.info("stopped")


def count_failure_once(kind: str) -> None:
    metrics.count_failure(kind)


def serve_forever(config: Config, options: ServeOptions) -> int:
    proc = ServingProcess(config, options)
    signal.signal(signal.SIGTERM, lambda *_: proc.request_stop())
    signal.signal(signal.SIGINT, lambda *_: proc.request_stop())
    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=proc.reload, daemon=True).start())
    proc.start()
    proc.wait()
    proc.drain()
    return 0


def options_from(config: Config, config_path: str | None, listen: str | None, reuse_port: bool,
                 admin_listen: str | None = None) -> ServeOptions:
    s = config.server
    return ServeOptions(
        config_path=str(Path(config_path)) if config_path else None,
        listen=listen or s.listen,
        threads=s.threads,
        drain_seconds=s.drain_seconds,
        max_message_bytes=s.max_message_bytes,
        reuse_port=reuse_port,
        admin_listen=admin_listen,
    )
