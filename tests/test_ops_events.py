"""Security events: what is written (and what never is), rotation (also with several
processes on one file), the bounded writer queue, and the metrics they feed."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from extauthz.config import Config, EventSettings, parse_config
from extauthz.engine import Engine
from extauthz.events import EventLog, RotatingFileSink, TraceIds, open_sink
from extauthz.finding import REDACTED, Finding, Severity, set_secret_names
from extauthz.metrics import CheckMetrics, exposition
from extauthz.request import Hop, Peer, Request
from extauthz.telemetry import CheckTelemetry


class ListSink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, lines):
        self.lines.extend(lines)

    def close(self):
        pass

    def records(self) -> list[dict]:
        return [json.loads(x) for x in self.lines]


@pytest.fixture(autouse=True)
def _reset_secret_names():
    yield
    set_secret_names(())


ATTACK = "..%2f..%2f..%2f..%2fetc%2fpasswd"


def decide(config: Config, request: Request):
    return Engine(config).check(request)


def test_event_fields_and_never_secrets():
    sink = ListSink()
    log = EventLog(sink)
    req = Request(path="/api/x", query=f"file={ATTACK}&password=hunter2", service="shop", hop=Hop.EDGE,
                  request_id="req-1", headers={"authorization": ("Bearer sk_live_abcdef",), "cookie": ("sid=s3cr3t",)},
                  source=Peer("203.0.113.9", 5555, "spiffe://cluster.local/ns/demo/sa/frontend"),
                  destination=Peer(principal="spiffe://cluster.local/ns/demo/sa/backend"))
    verdict = decide(Config(), req)
    assert verdict.denied
    log.record(req, verdict, 0.0012, TraceIds("ab" * 16, "cd" * 8, "ef" * 8))
    log.close()
    line = sink.lines[0]
    e = json.loads(line)
    assert e["type"] == "security_event" and e["event_id"] == verdict.event_id and e["request_id"] == "req-1"
    assert (e["trace_id"], e["span_id"], e["parent_span_id"]) == ("ab" * 16, "cd" * 8, "ef" * 8)
    assert e["service"] == "shop" and e["hop"] == "edge" and e["decision"] == "deny" and e["score"] >= 8
    assert e["source"]["principal"].endswith("/frontend") and e["destination"]["principal"].endswith("/backend")
    assert e["actor"] == "spiffe://cluster.local/ns/demo/sa/frontend" and len(e["actor_hash"]) == 16
    assert e["findings"][0]["class"] == "lfi" and e["findings"][0]["excerpt"]
    assert e["time"].endswith("Z") and e["check_ms"] == 1.2
    for secret in ("sk_live_abcdef", "s3cr3t", "hunter2"):
        assert secret not in line
    assert "query" not in e and "headers" not in e and "body" not in e


def test_a_finding_in_a_secret_location_is_redacted_whatever_the_detector_did():
    sink = ListSink()
    log = EventLog(sink)
    req = Request(service="shop")
    verdict = decide(Config(), req)
    leaky = [Finding("other", "t.leak", Severity.HIGH, "header:authorization", "Bearer sk_live_abcdef"),
             Finding("other", "t.leak2", Severity.LOW, "json:$.user.password", "hunter2"),
             Finding("other", "t.ok", Severity.LOW, "query:q", "visible")]
    from dataclasses import replace
    log.record(req, replace(verdict, findings=tuple(leaky)), 0.0)
    log.close()
    excerpts = {f["rule"]: f["excerpt"] for f in sink.records()[0]["findings"]}
    assert excerpts == {"t.leak": REDACTED, "t.leak2": REDACTED, "t.ok": "visible"}


def test_configured_redact_keys_flow_into_excerpts():
    config = parse_config("events:\n  redact_keys: [X-Tenant-Key, internal_blob]\n")
    set_secret_names(config.events.redact_keys)
    req = Request(path="/a", query=f"internal_blob={ATTACK}", service="shop")
    verdict = decide(config, req)
    assert verdict.denied and verdict.findings[0].location == "query:internal_blob"
    assert verdict.findings[0].excerpt == REDACTED  # redacted where the detector built it
    set_secret_names(())
    assert decide(config, req).findings[0].excerpt != REDACTED


def test_quiet_verdicts_write_nothing_and_monitor_hits_do():
    sink = ListSink()
    telemetry = CheckTelemetry(CheckMetrics(), None, EventLog(sink))
    config = parse_config("services:\n  mon:\n    mode: monitor\n  offsvc:\n    mode: 'off'\n")
    engine = Engine(config)
    for service, query in (("shop", "q=shoes"), ("offsvc", f"file={ATTACK}"), ("mon", f"file={ATTACK}")):
        req = Request(path="/p", query=query, service=service)
        telemetry(req, engine.check(req), 0.001, {})
    telemetry.events.close()
    assert [(e["service"], e["action"], e["decision"]) for e in sink.records()] == [("mon", "monitor", "allow")]
    from dataclasses import replace

    from extauthz.verdict import Action
    req = Request(path="/p", service="shop")
    listed = replace(engine.check(req), action=Action.LISTED_ALLOW)
    assert not telemetry.events.wants(listed)
    assert telemetry.events.wants(replace(listed, action=Action.LISTED_DENY))
    text = exposition()[0].decode()
    assert 'extauthz_security_events_total{action="monitor"}' in text
    assert 'extauthz_findings_total{class="lfi",source="detector"}' in text


def test_a_stuck_writer_drops_and_counts_instead_of_blocking_checks():
    gate = threading.Event()

    class SlowSink(ListSink):
        def write(self, lines):
            gate.wait(10)
            super().write(lines)

    def dropped() -> float:
        for line in exposition()[0].decode().splitlines():
            if line.startswith("extauthz_security_events_dropped_total "):
                return float(line.split()[1])
        return 0.0

    before = dropped()
    log = EventLog(SlowSink(), queue_size=5)
    req = Request(path="/p", query=f"file={ATTACK}", service="shop")
    verdict = decide(Config(), req)
    for _ in range(50):
        log.record(req, verdict, 0.0)  # must return at once even though the sink is stuck
    assert dropped() - before >= 40
    gate.set()
    log.close()
    assert len(log.recent()) == 50  # the admin API still sees them all


def test_rotation_keeps_whole_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = open_sink(EventSettings(output=str(path), max_bytes=2000, backups=3))
    assert isinstance(sink, RotatingFileSink)
    for i in range(100):
        sink.write([json.dumps({"n": i, "pad": "x" * 80}) + "\n"])
    sink.close()
    files = sorted(f for f in tmp_path.glob("events.jsonl*") if not f.name.endswith(".lock"))
    assert [f.name for f in files] == ["events.jsonl", "events.jsonl.1", "events.jsonl.2", "events.jsonl.3"]
    numbers = []
    for f in files:
        assert f.stat().st_size < 2000 + 200
        numbers += [json.loads(line)["n"] for line in f.read_text().splitlines()]
    assert sorted(numbers) == list(range(100 - len(numbers), 100))  # the newest, none torn


WRITER = """
import json, sys
from extauthz.events import RotatingFileSink
sink = RotatingFileSink(sys.argv[1], 4000, 50)
for i in range(300):
    sink.write([json.dumps({"w": sys.argv[2], "n": i, "pad": "y" * 60}) + "\\n"])
sink.close()
"""


def test_several_processes_rotate_one_file_safely(tmp_path):
    path = tmp_path / "events.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(w)]) for w in range(3)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    seen: set[tuple[str, int]] = set()
    for f in tmp_path.glob("events.jsonl*"):
        if f.name.endswith(".lock"):
            continue
        for line in f.read_text().splitlines():
            e = json.loads(line)  # every line whole
            seen.add((e["w"], e["n"]))
    assert len(seen) == 900  # nothing lost, nothing torn
    assert len(list(tmp_path.glob("events.jsonl.*"))) > 3


def test_reload_can_move_the_event_log(tmp_path, server):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    s = server(f"server:\n  watch_config: false\nevents:\n  output: {first}\n",
               env={"EXTAUTHZ_ADMIN_TOKEN": "t"})
    from test_tracing_context import _check

    _check(s.address, {})
    cfg = Path(s.proc.args[s.proc.args.index("--config") + 1])
    cfg.write_text(f"events:\n  output: {second}\n")
    import urllib.request
    req = urllib.request.Request(s.admin_url + "/v1/reload", method="POST", data=b"",
                                 headers={"Authorization": "Bearer t"})
    assert json.loads(urllib.request.urlopen(req, timeout=10).read())["applied"] is True
    _check(s.address, {})
    s.stop()
    assert len(first.read_text().splitlines()) == 1 and len(second.read_text().splitlines()) == 1
