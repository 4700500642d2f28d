"""The pathological corpus through the whole engine: decode, every detector, actor risk, behaviour profile.

Each request gets a decision (never the failure decision) within 20 ms of engine
time, with the limit it hit recorded as a finding. Engine time is this thread's
CPU time (time.thread_time), best of three, so a busy machine or a garbage
collection of the test process does not fail a test; a case over 20 ms is judged
against 20 ms times how much slower than the development machine a fixed piece of
Python work runs right now (never less than 20 ms; tests/timing.py). The engine is the one the
server builds: production limits (time budget included), the process runtime
(in-memory actor store, behaviour profile learning).

Two corpora:
- structural: the issue's list (JSON nested 10k deep, XML entity expansion, 1 MB
  of `%` or `'`, 100k tiny parameters, invalid UTF-8 everywhere, 10k multipart
  parts, header floods) and their relatives;
- detector-targeted: 8 KiB of one attack token repeated, for tokens of every family,
  as a query parameter (bench/detector_stress.py runs the full sweep and finds
  new ones). Known budget breaches are listed in tests/data/known_slow.yaml: their
  tests are strict xfails that start failing (as a reminder to drop the entry)
  once the detector is fixed.
"""
from __future__ import annotations

import dataclasses
import gc
import itertools
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from extauthz.budget import request_cpu
from extauthz.config import Config
from extauthz.engine import Engine
from extauthz.request import Hop, Peer, Request
from extauthz.runtime import build_runtime

from timing import within

BUDGET_S = 0.020
MB = 1 << 20
KNOWN = yaml.safe_load((Path(__file__).parent / "data" / "known_slow.yaml").read_text())

FORM = {"content-type": ("application/x-www-form-urlencoded",)}
JSON = {"content-type": ("application/json",)}
XML = {"content-type": ("application/xml",)}
MULTIPART = {"content-type": ("multipart/form-data; boundary=B",)}


def req(path: str = "/api", query: str = "", headers=None, body: bytes = b"", method: str = "GET", **kw) -> Request:
    return Request(method=method, path=path, query=query, headers=headers or {}, body=body, body_size=len(body),
                   authority="shop.example.com", hop=Hop.EDGE, service="shop", source=Peer("203.0.113.9", 4444), **kw)


def post(headers, body: bytes) -> Request:
    return req(headers=headers, body=body, method="POST")


def _billion_laughs() -> bytes:
    ents = b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10))
    return b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">' + ents + b"]><lolz>&lol9;</lolz>"


STRUCTURAL = {
    "json nested 10k deep": (post(JSON, b"[" * 10000 + b"]" * 10000), "limit.depth"),
    "json objects nested 10k deep": (post(JSON, b'{"a":' * 10000 + b"1" + b"}" * 10000), "limit.depth"),
    "json string 1 MB": (post(JSON, b'{"a":"' + b"x" * MB + b'"}'), "limit.body"),
    "xml entity expansion (billion laughs)": (post(XML, _billion_laughs()), "xxe.entity-expansion"),
    "xml entity expansion + 20k elements": (post(XML, _billion_laughs()[:-8] + b"<a>x</a>" * 20000 + b"</lolz>"),
                                            "limit.inputs"),
    "xml quadratic blowup (one 50 KiB entity, 2k refs)": (
        post(XML, b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + b"x" * 50000 + b'">]><r>'
             + b"&a;" * 2000 + b"</r>"), "limit.value-bytes"),  # entities are never expanded
    "xml nested 50k deep": (post(XML, b"<a>" * 50000), "limit.depth"),
    "1 MB of % in the query": (req(query="q=" + "%" * MB), "limit.value-bytes"),
    "1 MB of ' in the query": (req(query="q=" + "'" * MB), "limit.value-bytes"),
    "1 MB of ' in a form": (post(FORM, b"q=" + b"'" * MB), "limit.body"),
    "1 MB of % in a form": (post(FORM, b"q=" + b"%" * MB), "limit.body"),
    "1 MB of %25 chains": (req(query="q=" + "%25" * (MB // 3)), "limit.value-bytes"),
    "1 MB of &#": (req(query="q=" + "%26%23" * (MB // 6)), "limit.value-bytes"),
    "100k tiny parameters": (req(query="&".join(f"a{i}=1" for i in range(100_000))), "limit.inputs"),
    "100k tiny form fields": (post(FORM, b"&".join(b"a=%d" % i for i in range(100_000))), "limit.inputs"),
    "100k empty parameters": (req(query="&" * 100_000), ("limit.inputs", "limit.value-bytes")),
    "invalid utf-8 everywhere": (req(path="/" + "%ff%c0" * 20000, query="a=" + "%fe%80" * 20000,
                                     headers={"cookie": ("c=" + "%ff" * 20000,), "x-a": ("\udcff" * 20000,),
                                              "content-type": ("application/json",)},
                                     body=b"\xff\xfe" * 30000, method="POST",
                                     invalid_utf8=("path", "header:x-a")), "limit.value-bytes"),
    "multipart with 10k parts": (post(MULTIPART, b"".join(b'--B\r\nContent-Disposition: form-data; name="p"\r\n\r\nv\r\n'
                                                          for _ in range(10000))), "limit.inputs"),
    "header flood (50k names)": (req(headers={f"x-h{i}": ("v",) for i in range(50_000)}), "limit.inputs"),
    "one header repeated 50k times": (req(headers={"x-a": ("v",) * 50_000}), "limit.inputs"),
    "cookie flood": (req(headers={"cookie": ("; ".join(f"c{i}=v" for i in range(100_000)),)}), "limit.inputs"),
    "many tiny json members": (post(JSON, b"{" + b",".join(b'"k%d":"v"' % i for i in range(10_000)) + b"}"),
                               "limit.inputs"),
    "deep percent layers": (req(query="q=" + "%2525252525252525252527" * 300), "limit.layers"),
    "path of 100k segments": (req(path="/a" * 100_000), "limit.value-bytes"),
    # what the default body limit lets through: decoding and detection share one bound
    "128 KiB form of %26 fields": (post(FORM, b"&".join(b"f%d=" % i + b"%26" * 5400 for i in range(8))),
                                   "limit.detect-time"),
    "128 KiB form of & runs": (post(FORM, b"f0=" + b"&" * 130_000), ("limit.detect-time", "limit.inputs")),
}


_ACTORS = itertools.count(1)


def fresh_actor(request: Request) -> Request:
    """The request from a client never seen before: actor risk must not settle it early
    (a blocked actor costs no detection), so every run measures the whole engine."""
    n = next(_ACTORS)
    return dataclasses.replace(request, source=Peer(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", 4444))


def _budget_case(request: Request, engine: Engine, tries: int = 3, warm: bool = True) -> tuple[float, object]:
    if warm:
        engine.check(fresh_actor(request))  # warm caches
    # The test process holds far more objects than a server (hypothesis, other modules'
    # corpora); a garbage collection walking them all is not this request's cost.
    gc.collect()
    gc.freeze()
    try:
        best, verdict = float("inf"), None
        for _ in range(tries):
            r = fresh_actor(request)
            t0 = request_cpu()
            verdict = engine.check(r)
            best = min(best, request_cpu() - t0)
            if best < BUDGET_S:
                break
    finally:
        gc.unfreeze()
    return best, verdict


@pytest.fixture(scope="module")
def engine():
    config = Config()
    runtime = build_runtime(config, state_dir="")
    eng = Engine(config, runtime=runtime)
    assert [s.name for s in eng.stages] == ["risk", "detect", "profile"], "the whole engine, as the server runs it"
    yield eng
    runtime.close()


@pytest.mark.parametrize("name", list(STRUCTURAL))
def test_structural_case_is_decided_within_budget_with_the_limit_recorded(engine, name):
    request, rule = STRUCTURAL[name]
    spent, verdict = _budget_case(request, engine)
    assert verdict.action.value != "failure", verdict.reason
    rules = {f.rule for f in verdict.findings}
    assert rules & ({rule} if isinstance(rule, str) else set(rule)), sorted(rules)
    ok, why = within(spent, BUDGET_S)
    assert ok, f"{name}: {why}"


# ----------------------------------------------------------------- detector-targeted, 8 KiB

TOKENS_8K = [
    "'", "%", "\\", "<", "<a ", "<script>", "<svg/onload=", "javascript:", "union select ", "/*", "' or '1'='1",
    "((((", "select(", "${", "${jndi:", "{{", "{%", "$(", "`", ";", "|", "&&", "../", "..%2f", "/etc/passwd",
    "http://", "file://", "<!DOCTYPE x [", "<!ENTITY ", "$ne", "__proto__[", "*)(", ")(uid=*", "%0d%0a", "() { :; };",
    "<?php ", "eval(", "Runtime.getRuntime()", "require('", "<!--#", "&#x3c;", "\\u003c", "QUFB", "%c0%af",
    "'%'+'`id`'",  # every SQL reading costly: bounded by limits.detect_budget_ms
    "\ufdfa<", "\ufdfa\\u003c",  # NFKC spells the ligature as four words: no long text, no allowance
]


def eight_kib(unit: str) -> Request:
    return req(path="/s", query="q=" + quote((unit * (8192 // len(unit) + 1))[:8192], safe=""))


KNOWN_UNITS = {entry["unit"]: entry for entry in KNOWN}


@pytest.mark.parametrize("unit", TOKENS_8K + [u for u in KNOWN_UNITS if u not in TOKENS_8K])
def test_8k_of_one_attack_token_is_decided_within_budget(engine, unit):
    known = KNOWN_UNITS.get(unit)
    # a known breach can cost a second per run: one cold run, then the full measurement only if it looks fixed
    spent, verdict = _budget_case(eight_kib(unit), engine, tries=1, warm=False) if known else (0.0, None)
    if known is None or spent < BUDGET_S / 2:
        spent, verdict = _budget_case(eight_kib(unit), engine)
    if known is not None:
        # clearly fixed (well within budget, so a borderline case does not flip back and forth)
        if verdict.action.value != "failure" and spent < BUDGET_S / 2:
            pytest.fail(f"{unit!r} is listed in tests/data/known_slow.yaml ({known['detector']}) but is now decided "
                        f"in {spent * 1000:.1f} ms: remove the entry")
        pytest.xfail(f"known: {known['detector']}: {known['issue']}")
    assert verdict.action.value != "failure", verdict.reason
    ok, why = within(spent, BUDGET_S)
    assert ok, f"8 KiB of {unit!r}: {why}"
