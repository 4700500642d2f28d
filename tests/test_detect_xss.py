"""XSS detector: HTML tags, attribute injection, script URLs, JS break-outs, templates, CSS."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.decode import Input
from extauthz.detect import REGISTRY, DetectorSet
from extauthz.detect.html_tokens import decode_entities, scan_attributes, scan_tags, url_scheme
from extauthz.detect.js_tokens import read_js, tokenize_js
from extauthz.detect.xss import analyse, css_danger
from extauthz.finding import Severity
from extauthz.request import Request


def blocks(value: str) -> bool:
    v = analyse(value)
    return v is not None and v.severity >= Severity.HIGH


ATTACKS = [
    # elements
    "<script>alert(1)</script>",
    "<ScRiPt src=//evil.example/x.js></script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<svg/onload=alert(1)>",
    "<svg onload=alert(1)",  # unclosed
    "<img src=x onerror=alert(1)>",
    "<img/src=x/onerror=alert`1`>",
    "<body onpageshow=alert(1)>",
    "<details open ontoggle=confirm(1)>",
    "<x onclick=alert(1)>click",  # any tag, unknown events too
    "<iframe src=javascript:alert(1)>",
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">',
    "<object data=data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==></object>",
    "<embed src=//evil.example/x.swf>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<base href=//evil.example/>",
    "<form action=javascript:alert(1)><input type=submit>",
    "<button formaction=javascript:alert(1)>x</button>",
    '<math><a xlink:href="javascript:alert(1)">x</a></math>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    "<a href=' javascript:alert(1)'>x</a>",
    "<a href=vbscript:msgbox(1)>x</a>",
    "<link rel=stylesheet href=//evil.example/x.css>",
    "<style>@import 'http://evil.example/x.css';</style>",
    '<div style="width: expression(alert(1))">',
    '<div style="background:url(javascript:alert(1))">',
    '<div style="x:ex/**/pression(alert(1))">',
    '<div style="-moz-binding:url(//evil.example/x.xml#x)">',
    '<svg><set attributeName="onmouseover" to="alert(1)"/></svg>',
    "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",  # full-width
    "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",  # UTF-7
    # attribute injection
    '" onmouseover="alert(1)',
    "' onfocus=alert(1) autofocus '",
    '"onmouseover=alert(1)//',
    '" style="x:expression(alert(1))',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    # URLs
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "ja&Tab;vascript&colon;",
    # JavaScript contexts
    "';alert(1)//",
    '";alert(String.fromCharCode(88,83,83))//',
    "'-alert(1)-'",
    "\\';alert(1);//",
    "'});alert(1);//",
    '"]);}catch(e){}if(!self.a)self.a=!alert(1);//',
    "</script><script>alert(1)</script>",
    "top['al\\x65rt'](1)",
    "[].constructor.constructor('alert(1)')()",
    "window['alert'](document['cookie'])",
    "document /*x*/ . cookie",
    "[].sort.call`${alert}1337`",
    "\u2018-prompt(1)-\u2019",
    # templates
    "{{constructor.constructor('alert(1)')()}}",
    "{{$on.constructor('alert(1)')()}}",
    "{{_c.constructor('alert(1)')()}}",
]

BENIGN = [
    "<b>bold</b>",
    "<i>x</i>",
    "a < b",
    "x<3",
    "i <3 you",
    "2<5>1",
    "<p>Hello <strong>world</strong></p>",
    '<a href="https://example.com/page?x=1">link</a>',
    '<img src="/images/cat.png" alt="cat">',
    "He said: 'alert the team (now)!'",
    "Please confirm (yes/no)",
    "call prompt() later",
    "Use document.getElementById('x') to find it",
    "set online=true for the feature",
    "{{ user.name }}",
    "Hello {{name}}, your order {{order.id}} shipped",
    "style: color red; background: url(/img/bg.png)",
    "javascript: the good parts (2008)",
    "Learn JavaScript: variables, functions (and more)",
    "AT&T",
    "O'Reilly's \"Learning SQL\" (3rd ed.)",
    "It's 5 o'clock somewhere; let's go",
    "https://example.com/?q=javascript+tutorial",
    "Temperature < 0 tonight",
    "user's choice: \"yes\" or \"no\"",
    ":-) ;-) <:-)",
    "price<=100 & size>=10",
    # developer prose
    "* testsuite/testutils.c (print_hex): New function (moved from",
    "function (LP: #1829401)",
    "Allow /etc/default/<script> re-define DAEMON variable",
    "use <object> instead of <img> to embed svg",
    "submodule URL, the url.<base>.insteadOf configuration option can be used.",
    "      Data:",
    "",
]


@pytest.mark.parametrize("value", ATTACKS)
def test_attacks_block(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", BENIGN)
def test_benign_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


def test_script_tag_is_critical() -> None:
    v = analyse("<script>alert(1)</script>")
    assert v.severity is Severity.CRITICAL and v.rule == "script-tag"


def test_tag_scanner_reads_like_a_browser() -> None:
    tags = scan_tags("<img/src=x/onerror=alert(1)><scr<script>x")
    names = [t.name for t in tags]
    assert names[0] == "img" and "script" in names
    attrs = {a.name: a.value for a in tags[0].attrs}
    assert attrs == {"src": "x/onerror=alert(1)"}  # "/" inside an unquoted value belongs to it
    attrs, end, closed = scan_attributes('x onclick="a b" y=1>', 0)
    assert [(a.name, a.value) for a in attrs] == [("x", ""), ("onclick", "a b"), ("y", "1")] and closed


def test_entities_and_url_schemes() -> None:
    assert decode_entities("&lt;a&gt; &#x6A;&#0000097; &colon;&Tab;&amp") == "<a> ja :\t&"
    assert url_scheme("jav&#x09;ascript&colon;alert(1)") == ("javascript", "alert(1)")
    assert url_scheme("\x01 JAVA\nSCRIPT:x") == ("javascript", "x")
    assert url_scheme("https://x")[0] == "https"
    assert url_scheme("no scheme here")[0] == ""


def test_js_reader_rejects_prose_after_a_quote() -> None:
    toks = tokenize_js("s alert(1)")
    js = read_js(toks)
    assert js.sink == "alert()" and js.valid_until <= js.sink_index  # "s alert" is not code
    js = read_js(tokenize_js(";alert(1)//"))
    assert js.sink == "alert()" and js.valid_until == len(tokenize_js(";alert(1)//"))
    assert read_js(tokenize_js("\\u0061lert(1)")).sink == "alert()"


def test_css_normalisation() -> None:
    assert css_danger("x:\\65 xpression(alert(1))") == "expression()"
    assert css_danger("background:url( 'javascript:alert(1)' )").startswith("url(javascript:")
    assert css_danger("color:red; background:url(/x.png)") == ""


def test_detector_finding_fields() -> None:
    ds = DetectorSet([REGISTRY["xss"]()])
    findings = ds.scan(Request(), [Input("query", "q", "<svg onload=alert(1)>")])
    assert len(findings) == 1
    f = findings[0]
    assert f.cls == "xss" and f.rule == "xss.event-handler" and f.location == "query:q"
    assert "onload" in f.excerpt


def test_prefilter_skips_plain_text() -> None:
    ds = DetectorSet([REGISTRY["xss"]()])
    assert ds._prefilter.candidates("hello world, 42 items") == set()
    assert ds._prefilter.candidates("<svg onload=x>") == {0}


def test_long_hostile_input_is_bounded() -> None:
    for value in ("<a " * 4000, "<" * 8000, "'" + "-alert(1)" * 900, "{{" * 4000, "&#" * 4000,
                  '<x y="' * 2000, "javascript:" * 700, "<iframe srcdoc='" * 500, "<a href=`" * 900,
                  "`${" * 2700, "{{`${" * 1600):
        t0 = time.thread_time()
        analyse(value)
        assert time.thread_time() - t0 < 0.5, value[:20]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_tokenizers_never_raise(text: str) -> None:
    for t in scan_tags(text):
        assert 0 <= t.start < t.end <= len(text)
    scan_attributes(text, 0)
    decode_entities(text)
    url_scheme(text)
    read_js(tokenize_js(text))
    analyse(text)


HTML_ALPHABET = st.sampled_from(["<", ">", "/", " ", "=", '"', "'", "`", "script", "img", "svg", "on", "load",
                                 "onerror", "alert(1)", "javascript:", "&#", "x6a;", "&colon;", "{{", "}}",
                                 "style", "expression(", "url(", "\\", ";", "//", "constructor", "[", "]", "\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(HTML_ALPHABET, max_size=200))
def test_markup_shaped_noise_never_raises_and_is_fast(parts: list[str]) -> None:
    value = "".join(parts)
    t0 = time.thread_time()
    analyse(value)
    assert time.thread_time() - t0 < 0.25


def test_dangling_event_handler_at_the_end() -> None:
    assert blocks("<x onend=")
    assert not blocks("<a title=>x</a>")


def test_plain_property_paths_are_not_code() -> None:
    assert not blocks("/get/javascript-manual/document.cookie")
    assert not blocks("/get/eval(")
    assert blocks("(document)['cookie']")
