import json

import pytest
from hypothesis import given, settings, strategies as st

from decode_helpers import by_location
from extauthz.config import ConfigError, parse_config
from extauthz.decode import DecodeLimits, Input, extract
from extauthz.engine import DetectionStage, Engine
from extauthz.request import Request


def test_input_contract():
    inp = Input("query", "id", "1")
    assert inp.location == "query:id" and inp.chain == () and inp.raw == "" and inp.role == "value"
    assert Input("path", "", "/").location == "path"
    with pytest.raises(AttributeError):
        inp.value = "2"  # immutable


def test_whole_request():
    body = json.dumps({"items": [{"name": "x"}]}).encode()
    r = Request(method="POST", path="/api/orders", query="debug=1",
                headers={"content-type": ("application/json",), "user-agent": ("curl/8",), "cookie": ("sid=1",)},
                body=body)
    got = by_location(extract(r))
    assert got == {"path": ["/api/orders"], "query:debug": ["1"], "json:$.items[0].name": ["x"],
                   "cookie:sid": ["1"], "header:user-agent": ["curl/8"]}


def test_invalid_utf8_parts_from_the_adapter_are_recorded():
    ex = extract(Request(invalid_utf8=("header:x-a", "path")))
    assert [(f.rule, f.location) for f in ex.findings] == [("decode.invalid-utf8", "header:x-a")]


def test_limits_config_section():
    cfg = parse_config("limits:\n  max_inputs: 50\n  max_depth: 8\n")
    assert cfg.limits == DecodeLimits(max_inputs=50, max_depth=8)
    assert DetectionStage(cfg).limits.max_inputs == 50
    with pytest.raises(ConfigError, match="limits.max_inputs"):
        parse_config("limits:\n  max_inputs: 0\n")
    with pytest.raises(ConfigError, match="limits.nope"):
        parse_config("limits:\n  nope: 1\n")


def test_engine_reports_decoder_findings_and_honours_body_limit():
    cfg = parse_config("defaults:\n  body_limit: 10\n")
    v = Engine(cfg).check(Request(method="POST", headers={"content-type": ("application/x-www-form-urlencoded",)},
                                  body=b"a=" + b"x" * 100))
    assert any(f.rule == "limit.body" for f in v.findings)


_headers = st.dictionaries(st.sampled_from(["user-agent", "cookie", "content-type", "referer", "x-a", "accept", "host"]),
                           st.lists(st.text(max_size=40), min_size=1, max_size=3).map(tuple), max_size=6)
_types = st.sampled_from(["application/json", "application/xml", "multipart/form-data; boundary=B", "text/plain",
                          "application/x-www-form-urlencoded", "application/graphql", "image/png", "", "multipart/x"])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.text(max_size=80), _headers, _types, st.binary(max_size=200),
       st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=100), st.booleans())
def test_any_request_never_raises_is_deterministic_and_bounded(path, query, headers, ctype, body, max_inputs,
                                                               body_limit, truncated):
    if ctype:
        headers = {**headers, "content-type": (ctype,)}
    r = Request(method="POST", path=path, query=query, headers=headers, body=body, body_truncated=truncated)
    limits = DecodeLimits(max_inputs=max_inputs, time_budget_ms=60_000)
    a = extract(r, limits, body_limit)
    b = extract(r, limits, body_limit)
    assert a == b
    # each value examined yields at most 3 Inputs for each of its head and tail
    assert len(a.inputs) <= 6 * max_inputs + 6
    assert all(f.cls == "protocol" and f.rule.split(".")[0] in ("decode", "limit") for f in a.findings)
    if len(body) > body_limit:
        assert any(f.rule == "limit.body" for f in a.findings)
