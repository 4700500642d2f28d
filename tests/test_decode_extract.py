import json

from decode_helpers import by_location
from extauthz.config import ConfigError, parse_config
from extauthz.decode import DecodeLimits, Input, extract
from extauthz.engine import DetectionStage, Engine
from extauthz.request import Request

import pytest


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
