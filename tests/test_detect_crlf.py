from hypothesis import given, settings, strategies as st

from detect_helpers import request, rule_set
from extauthz.decode import Input
from extauthz.detect.crlf import Crlf
from extauthz.detect.urlparts import percent_once
from extauthz.finding import Severity

DET = Crlf()


def rules(value, kind="query", name="q"):
    return {(f.rule, f.severity) for f in DET.scan_input(Input(kind, name, value))}


def test_header_injection_and_response_splitting():
    assert rules("foobar\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK") >= {("crlf.header", Severity.HIGH)} or \
        ("crlf.response-splitting", Severity.HIGH) in rules("foobar\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK")
    assert ("crlf.header", Severity.HIGH) in rules("x\r\nSet-Cookie: a=b")
    assert ("crlf.header", Severity.HIGH) in rules("\r\nRemote-addr\r\r\r: foo.bar.com")
    assert ("crlf.response-splitting", Severity.HIGH) in rules("munch\r\n\r\n<HTML><title></title></HTML>")
    assert ("crlf.request-line", Severity.HIGH) in rules("aaa\nGET / HTTP/1.1")
    assert ("crlf.request-line", Severity.HIGH) in rules("GET http://www.foo.bar HTTP/1.2")


def test_double_encoded_payload_is_seen():
    assert ("crlf.header", Severity.HIGH) in rules("any%3F%0ASet-cookie%3A+Tamper%3D1")
    assert percent_once("a%0D%0Ab%3a%zz%") == "a\r\nb:%zz%"


def test_mail_header_injection():
    assert ("crlf.mail-header", Severity.HIGH) in rules("me@example.com\nBcc: victim@example.org")
    assert ("crlf.mail-header", Severity.HIGH) in rules("hello\r\nTo: x@y.z")


def test_multiline_text_passes():
    for v in ("soundtrack Gympl\r\nanything", "budget foo)</bar>\n", "get it\n", "aaa\r\nGet /foo\r",
              "Dear team,\nthanks for the parcel.\nRegards", "line one\r\nline two: details follow"):
        assert rules(v, kind="form") == set(), v
    assert {s for _, s in rules("\n\rlocation:\n\r")} <= {Severity.MEDIUM}


def test_path_and_names():
    assert rules("/foo\nbar", kind="path") == {("crlf.path", Severity.HIGH)}
    assert rule_set(DET, request("/x?parameter%0d%0a=test")) == {("crlf.name", "HIGH")}
    assert rule_set(DET, request("/x", "POST", {"content-type": "application/x-www-form-urlencoded"},
                                 "a%0Ab=1")) == {("crlf.name", "HIGH")}
    assert not rule_set(DET, request("/x?parameter=test%0d%0a"))
    assert ("crlf.parameter", Severity.HIGH) in rules("test\rnext=more")
    # a line of code quoted in a text field is no parameter line
    assert "crlf.parameter" not in {r for r, _ in rules("the grammar reads:\n greet = Word(alphas) + ','\n")}
    assert "crlf.parameter" not in {r for r, _ in rules("then\ntotal = price * 2")}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("\r\n%0aAdD:Set-Cookie HTTP/1.1<GET x=")), max_size=400))
def test_never_raises_deterministic(s):
    assert list(DET.scan_input(Input("query", "q", s))) == list(DET.scan_input(Input("query", "q", s)))


def test_blank_line_then_markup_inside_a_document_is_weak():
    # a README, an XML file, rich-text HTML: paragraphs, then markup after a blank line
    for doc in ("# Assert\n\n<!--introduced_in=v0.1.21-->\n\n> Stability: 2",
                '<?xml version="1.0"?>\n<!-- licence -->\n\n<feature name="x"/>',
                "<h2>Usage</h2>\n<p>Basic usage:</p>\n\n<div class=\"example\"><pre>x</pre></div>",
                "Everything is at:\n\n<https://docs.sympy.org/>\n\nYou can generate the docs"):
        assert all(sev < Severity.MEDIUM for rule, sev in rules(doc) if rule == "crlf.response-splitting"), doc
    # a split response still is one: the expected value or injected headers before the blank line
    for payload in ("munch\r\n\r\n<HTML><title></title></HTML>", "en\n\n<script>alert(1)</script>",
                    "\r\n\r\n<html>x</html>", "x\r\nContent-Length: 0\r\n\r\n<html>",
                    "foo\r\nContent-Type: text/html\r\nX-A: b\r\n\r\n<h1>x</h1>"):
        assert any(sev >= Severity.HIGH for rule, sev in rules(payload) if rule.startswith("crlf.")), payload
