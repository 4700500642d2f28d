"""The raw-request screen shared by request-level checks (extauthz.detect.raw_markers)."""
from __future__ import annotations

from extauthz.detect.raw_markers import MAX_TARGET, RawMarkers, screened
from extauthz.request import Request


def test_markers_in_a_short_target_and_the_body_head():
    m = RawMarkers()
    assert "url" in m.of(Request(path="/a", query="next=http://x.example/"))
    assert "nul-escape" in m.of(Request(path="/a", query="f=a%2500b"))
    assert "session" in m.of(Request(method="POST", path="/login", body=b"user=a&PHPSESSID=abc"))
    assert m.of(Request(path="/a", query="q=shoes&page=2")) == frozenset()


def test_a_long_target_is_screened_by_its_head_and_tail():
    filler = "a" * (4 * MAX_TARGET)
    m = RawMarkers()
    assert "url" in m.of(Request(path="/a", query="next=http://x.example/&pad=" + filler))
    assert "nul-escape" in m.of(Request(path="/a", query="pad=" + filler + "&f=a%00"))
    assert [len(p) for p in screened("x" * (4 * MAX_TARGET))] == [MAX_TARGET // 2, MAX_TARGET // 2]
    assert screened("abc") == [b"abc"]
