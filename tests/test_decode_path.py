from hypothesis import given, settings, strategies as st

from decode_helpers import by_location, rules
from extauthz.decode import DecodeLimits, extract
from extauthz.request import Request


def test_whole_path_and_unusual_segments():
    got = by_location(extract(Request(path="/a/b%2Fc/1%27%20or%201=1/plain-seg.html")))
    assert got["path"] == ["/a/b/c/1' or 1=1/plain-seg.html"]
    assert got["path:[1]"] == ["b/c"]
    assert got["path:[2]"] == ["1' or 1=1"]
    assert "path:[0]" not in got and "path:[3]" not in got


def test_plus_is_literal_and_traversal_kept():
    got = by_location(extract(Request(path="/a+b/..%c0%af..%2f%2e%2e/etc")))
    assert got["path"] == ["/a+b/../../../etc"]


def test_overlong_and_invalid_percent_reported():
    ex = extract(Request(path="/..%c0%af..%c0%afetc/passwd%"))
    assert {"decode.overlong-utf8", "decode.invalid-percent"} <= rules(ex)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_never_raises_deterministic(path):
    limits = DecodeLimits(time_budget_ms=60_000)
    assert extract(Request(path=path), limits) == extract(Request(path=path), limits)
