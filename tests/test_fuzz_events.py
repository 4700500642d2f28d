"""Every denied request leaves its security event, whatever bytes the request carried.

The event log (events.output: a file) writes JSON lines in batches from a
background thread; a line that cannot be written loses its batch. Hostile
requests carry text that is not valid Unicode once decoded (a lone surrogate
from a JSON `\\udcff` escape in a member name or value), so every field of an
event must be writable, or an attacker can keep its attacks out of the log.
"""
from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from extauthz.config import TracingSettings, parse_config
from extauthz.engine import Engine
from extauthz.events import EventLog, StreamSink, event_record
from extauthz.finding import writable
from extauthz.request import Request
from extauthz.server.service import CheckService
from extauthz.telemetry import CheckTelemetry
from extauthz.telemetry.tracing import CheckTracer

from fuzz_helpers import check_request_message, requests

ENGINE = Engine(parse_config("risk: {enabled: false}\n"))
SQLI = b"admin' OR '1'='1' -- "


def written_line(record: dict) -> bytes:
    """What the file sink writes for one event (extauthz.events: json.dumps, ensure_ascii off, UTF-8)."""
    return (json.dumps({"type": "security_event", **record}, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests())
def test_every_event_record_is_writable(request):
    verdict = ENGINE.check(request)
    record = event_record(request, verdict, 0.001)
    written_line(record)  # raises UnicodeEncodeError when a field is not writable
    # the admin API's /v1/events answers with the same record (json.dumps, ensure_ascii off, UTF-8)
    json.dumps(record, ensure_ascii=False).encode()


HOSTILE_BODIES = [
    b'{"user\\udcff": "%s", "password": "x"}' % SQLI,  # lone low surrogate in a member name
    b'{"a": {"\\ud800x": "%s"}}' % SQLI,  # lone high surrogate, nested
    b'{"q": "\\udcff%s"}' % SQLI,  # in the value: reaches excerpts
    b'{"q": "\\\\udcff%s"}' % SQLI,  # in a JavaScript escape inside the value (decoded by a layer)
]


def login(body: bytes) -> Request:
    return Request(method="POST", path="/api/login", body=body, body_size=len(body),
                   headers={"content-type": ("application/json",)}, service="shop")


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_locations_and_excerpts_of_hostile_json_are_writable(body):
    verdict = ENGINE.check(login(body))
    assert verdict.decision.value == "deny"
    for f in verdict.findings:  # safe where they are built, not only on the way out
        f.location.encode()
        f.excerpt.encode()
        f.detail.encode()


def test_a_json_member_name_with_a_lone_surrogate_keeps_a_readable_escaped_location():
    verdict = ENGINE.check(login(HOSTILE_BODIES[0]))
    locations = {f.location for f in verdict.findings}
    assert "json:$.user\\udcff" in locations, locations


def test_writable_escapes_only_lone_surrogates():
    assert writable("abc") == "abc"
    assert writable("caf\u00e9 \U0001F600") == "caf\u00e9 \U0001F600"  # valid non-ASCII text is kept
    assert writable("a\udcffb\ud800") == "a\\udcffb\\ud800"
    # a lone surrogate written into a JSON line becomes a JSON escape of the same code point
    line = writable(json.dumps({"k": "x\udcff"}, ensure_ascii=False))
    assert json.loads(line) == {"k": "x\udcff"}


def test_an_attack_with_a_lone_surrogate_in_a_json_key_is_logged(tmp_path):
    path = tmp_path / "events.jsonl"
    service = CheckService(ENGINE)
    log = EventLog.open(str(path))
    service.observers.append(CheckTelemetry(None, None, log))
    bodies = [b'{"user": "%s", "password": "x"}' % SQLI, *HOSTILE_BODIES]
    for body in bodies:
        service.check_bytes(check_request_message(login(body)).SerializeToString())
        time.sleep(0.3)  # separate batches: only the hostile line's own batch may be at stake
    log.close()
    lines = Path(path).read_text().splitlines() if path.exists() else []
    assert len(lines) == len(bodies), f"{len(lines)} of {len(bodies)} denied requests were logged"
    assert "json:$.user\\udcff" in {f["location"] for f in json.loads(lines[1])["findings"]}


def test_the_stream_sink_writes_a_lone_surrogate_on_a_strict_utf8_stream():
    out = io.BytesIO()
    stream = io.TextIOWrapper(out, encoding="utf-8", errors="strict", write_through=True)
    log = EventLog(StreamSink(stream))
    log.record(login(HOSTILE_BODIES[0]), ENGINE.check(login(HOSTILE_BODIES[0])), 0.001)
    log.close()
    lines = out.getvalue().decode("utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["decision"] == "deny"


def test_spans_of_an_attack_with_a_lone_surrogate_can_be_exported():
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracer = CheckTracer(TracingSettings(enabled=True), exporter)
    try:
        for body in HOSTILE_BODIES:
            service = CheckService(ENGINE)
            service.observers.append(CheckTelemetry(None, tracer, None))
            service.check_bytes(check_request_message(login(body)).SerializeToString())
        tracer.flush()
        spans = exporter.get_finished_spans()
        assert len(spans) == len(HOSTILE_BODIES)
        assert all(any(e.name == "finding" for e in s.events) for s in spans)
        # what the OTLP exporter sends: an attribute it cannot encode is dropped with a logged error
        sent = encode_spans(spans)
        sent.SerializeToString()
        events = [e for rs in sent.resource_spans for ss in rs.scope_spans for s in ss.spans for e in s.events]
        locations = [kv.value.string_value for e in events for kv in e.attributes
                     if kv.key == "extauthz.finding.location"]
        assert len(locations) == len(events) and "json:$.user\\udcff" in locations
    finally:
        tracer.shutdown()
