"""The Authorization/Check handler: bytes in, bytes out, never an exception.

Messages are (de)serialized inside the handler rather than by gRPC, so that a
CheckRequest that does not even parse still gets a clean decision (the default
policy's failure decision) instead of a gRPC error.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Protocol

from extauthz import envoy_api
from extauthz.engine import Engine
from extauthz.request import Request
from extauthz.verdict import Verdict

log = logging.getLogger("extauthz.server")

SERVICE_NAME = "envoy.service.auth.v3.Authorization"
CHECK_METHOD = f"/{SERVICE_NAME}/Check"


class CheckObserver(Protocol):
    """Sees every decision after it is made (metrics, events, traces)."""

    def __call__(self, request: Request, verdict: Verdict, seconds: float, metadata: dict[str, str]) -> None: ...


class CheckService:
    """Holds the current Engine; `swap` replaces it in one step (hot reload)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.observers: list[CheckObserver] = []

    @property
    def engine(self) -> Engine:
        return self._engine

    def swap(self, engine: Engine) -> Engine:
        old, self._engine = self._engine, engine
        return old

    def check_bytes(self, raw: bytes, metadata: dict[str, str] | None = None) -> bytes:
        t0 = time.perf_counter()
        engine = self._engine  # one engine for the whole check, even across a reload
        try:
            request = envoy_api.to_request(envoy_api.parse_check_request(raw))
        except Exception as exc:  # unparsable or absurd input: a clean decision
            request = Request()
            verdict = engine.failure_verdict(request, None, exc, kind="adapter")
        else:
            verdict = engine.check(request)
        try:
            upstream = engine.decider_for(request.service).policy.upstream_headers
            out = envoy_api.response_bytes(verdict, upstream)
        except Exception as exc:
            verdict = engine.failure_verdict(request, None, exc, kind="response")
            out = envoy_api.to_response(verdict).SerializeToString()
        seconds = time.perf_counter() - t0
        for observe in self.observers:
            try:
                observe(request, verdict, seconds, metadata or {})
            except Exception:  # an observer must not change the decision
                log.exception("observer %r failed", observe)
        return out


def grpc_handler(service: CheckService) -> Callable:
    import grpc

    def check(raw: bytes, context: grpc.ServicerContext) -> bytes:
        return service.check_bytes(raw, dict(context.invocation_metadata()))

    identity = lambda b: b  # noqa: E731 - bytes pass through; CheckService parses
    return grpc.method_handlers_generic_handler(SERVICE_NAME, {
        "Check": grpc.unary_unary_rpc_method_handler(check, request_deserializer=identity, response_serializer=identity),
    })
