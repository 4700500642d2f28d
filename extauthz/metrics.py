"""Prometheus metrics, served at the admin port's /metrics.

Names follow the Prometheus conventions (base units, `_total` counters). The
`service` label is the *policy* name (a service listed in the config, or
`defaults`), never the Host header or the SPIFFE id as sent: label values stay
bounded by the config, whatever clients put in their requests.

  extauthz_checks_total{service,hop,decision,action}
  extauthz_check_duration_seconds{service,hop}            histogram
  extauthz_findings_total{class,source}                   after exclusions
  extauthz_failures_total{kind}                           engine, adapter, response
  extauthz_config_reloads_total{result}                   applied, rejected
  extauthz_config_last_reload_success_timestamp_seconds
  extauthz_security_events_total{action}
  extauthz_security_events_dropped_total                  the writer could not keep up
  extauthz_store_errors_total{store,operation}
  extauthz_learned_endpoints{service}
  extauthz_blocked_actors

With --workers N the supervisor sets PROMETHEUS_MULTIPROC_DIR for its workers
before they import prometheus_client: every worker writes its samples to
memory-mapped files there, and the supervisor's admin port serves their sum
(MultiProcessCollector). Gauges then report the highest live worker's value.
"""
from __future__ import annotations

import os
import time

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from extauthz.request import Request
from extauthz.verdict import Verdict

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
_gauge_mode = {"multiprocess_mode": "livemax"} if MULTIPROCESS else {}

CHECKS = Counter("extauthz_checks", "Checks answered, by policy, hop, decision and action",
                 ["service", "hop", "decision", "action"])
CHECK_SECONDS = Histogram("extauthz_check_duration_seconds", "Time to answer a check, from bytes in to bytes out",
                          ["service", "hop"],
                          buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
FINDINGS = Counter("extauthz_findings", "Findings that counted towards a verdict, by attack class", ["class", "source"])
FAILURES = Counter("extauthz_failures", "Checks that failed internally and got the failure decision", ["kind"])
RELOADS = Counter("extauthz_config_reloads", "Configuration reloads by result", ["result"])
LAST_RELOAD = Gauge("extauthz_config_last_reload_success_timestamp_seconds",
                    "When the running configuration was loaded (unix time)", **_gauge_mode)
EVENTS = Counter("extauthz_security_events", "Security events written, by action", ["action"])
EVENTS_DROPPED = Counter("extauthz_security_events_dropped", "Security events dropped because the writer fell behind")
STORE_ERRORS = Counter("extauthz_store_errors", "Errors talking to a state or profile store", ["store", "operation"])
LEARNED_ENDPOINTS = Gauge("extauthz_learned_endpoints", "Endpoints in the learned behaviour profile", ["service"],
                          **_gauge_mode)
BLOCKED_ACTORS = Gauge("extauthz_blocked_actors",
                       "Actors this process holds as blocked (decided here or learned from the shared store)",
                       **_gauge_mode)


class CheckMetrics:
    """Counts one decided check. Label children are cached per label set (the hot path)."""

    def __init__(self) -> None:
        self._checks: dict[tuple[str, str, str, str], object] = {}
        self._seconds: dict[tuple[str, str], object] = {}
        self._findings: dict[tuple[str, str], object] = {}

    def __call__(self, request: Request, verdict: Verdict, seconds: float, metadata: dict[str, str]) -> None:
        hop = verdict.hop.value
        key = (verdict.policy, hop, verdict.decision.value, verdict.action.value)
        child = self._checks.get(key)
        if child is None:
            child = self._checks[key] = CHECKS.labels(*key)
        child.inc()
        skey = (verdict.policy, hop)
        hist = self._seconds.get(skey)
        if hist is None:
            hist = self._seconds[skey] = CHECK_SECONDS.labels(*skey)
        hist.observe(seconds)
        for f in verdict.findings:
            fkey = (f.cls, f.source.value)
            fc = self._findings.get(fkey)
            if fc is None:
                fc = self._findings[fkey] = FINDINGS.labels(*fkey)
            fc.inc()


def count_failure(kind: str) -> None:
    FAILURES.labels(kind).inc()


def count_reload(applied: bool) -> None:
    RELOADS.labels("applied" if applied else "rejected").inc()
    if applied:
        LAST_RELOAD.set(time.time())


def count_store_error(store: str, operation: str) -> None:
    """For store implementations: one failed operation (the caller goes on with local state)."""
    STORE_ERRORS.labels(store, operation).inc()


def set_learned_endpoints(service: str, count: int) -> None:
    LEARNED_ENDPOINTS.labels(service).set(count)


def set_blocked_actors(count: int) -> None:
    BLOCKED_ACTORS.set(count)


def exposition(multiprocess_dir: str | None = None) -> tuple[bytes, str]:
    """(body, content type) of /metrics; with a directory, the sum over all workers' files."""
    if multiprocess_dir:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiprocess_dir)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def init_process() -> None:
    """Make every metric family visible from the start (zero rather than absent)."""
    for kind in ("engine", "adapter", "response"):
        FAILURES.labels(kind)
    for result in ("applied", "rejected"):
        RELOADS.labels(result)
    LAST_RELOAD.set(time.time())
