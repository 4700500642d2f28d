"""Every denied request leaves its security event, whatever bytes the request carried.

The event log (events.output: a file) writes JSON lines in batches from a
background thread; a line that cannot be written loses its batch. Hostile
requests carry text that is not valid Unicode once decoded (a lone surrogate
from a JSON `\\udcff` escape in a member name or value), so every field of an
event must be writable, or an attacker can keep its attacks out of the log.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from extauthz.config import parse_config
from extauthz.engine import Engine
from extauthz.events import EventLog, event_record
from extauthz.server.service import CheckService
from extauthz.telemetry import CheckTelemetry

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
    try:
        written_line(record)
    except UnicodeEncodeError as exc:
        pytest.xfail(f"open issue: an event field is not writable UTF-8 ({exc.reason} at {exc.start}); "
                     "see test_an_attack_with_a_lone_surrogate_in_a_json_key_is_logged")


@pytest.mark.xfail(strict=True, reason="open issue (events / decode): a lone surrogate from a JSON \\udcff escape "
                                       "reaches Finding.location; the file sink cannot encode it and drops the batch")
def test_an_attack_with_a_lone_surrogate_in_a_json_key_is_logged(tmp_path):
    path = tmp_path / "events.jsonl"
    service = CheckService(ENGINE)
    log = EventLog.open(str(path))
    service.observers.append(CheckTelemetry(None, None, log))
    bodies = [b'{"user": "%s", "password": "x"}' % SQLI, b'{"user\\udcff": "%s", "password": "x"}' % SQLI]
    for body in bodies:
        from extauthz.request import Request
        msg = check_request_message(Request(method="POST", path="/api/login", body=body, body_size=len(body),
                                            headers={"content-type": ("application/json",)}, service="shop"))
        service.check_bytes(msg.SerializeToString())
        time.sleep(0.3)  # separate batches: only the hostile line's own batch may be at stake
    log.close()
    lines = Path(path).read_text().splitlines() if path.exists() else []
    assert len(lines) == 2, f"{len(lines)} of 2 denied requests were logged"
