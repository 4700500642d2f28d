from hypothesis import given, settings, strategies as st

from decode_helpers import by_location, collector
from extauthz.decode import Extraction, extract
from extauthz.decode.parsers import PARSERS, Where
from extauthz.request import Request


def parse(text: str, **limits) -> Extraction:
    c = collector(**limits)
    PARSERS["cookies"].parse(c, text, Where("cookie"))
    return Extraction(c.inputs, c.findings())


def test_cookies_quotes_percent_and_plus():
    got = by_location(parse('sid=abc; theme="dark"; q=a%27b+c; empty=; =orphan'))
    assert got["cookie:sid"] == ["abc"]
    assert got["cookie:theme"] == ["dark"]
    assert got["cookie:q"] == ["a'b+c"]
    assert got["cookie"] == ["orphan"]


def test_notable_cookie_names_and_base64_json_cookie():
    got = by_location(parse("__proto__=1; session=eyJ1c2VyIjoiYWRtaW4nLS0ifQ=="))
    assert got["cookie:__proto__"] == ["__proto__", "1"]
    assert got["cookie:session$.user"] == ["admin'--"]


def test_bare_percent_in_cookie_is_not_an_anomaly():
    assert not parse("a=100%").findings


def test_all_cookie_headers_are_read():
    ex = extract(Request(headers={"cookie": ("a=1", "b=2")}))
    got = by_location(ex)
    assert got["cookie:a"] == ["1"] and got["cookie:b"] == ["2"]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_never_raises_deterministic(text):
    assert parse(text).inputs == parse(text).inputs
