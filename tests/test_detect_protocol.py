from hypothesis import given, settings, strategies as st

from detect_helpers import request, rule_set
from extauthz.budget import request_cpu
from extauthz.detect.charsets import charset_risk, normalise_charset
from extauthz.detect.multipart_parts import MAX_PARAMS, MAX_PARTS, part_heads, split_params
from extauthz.detect.protocol import Protocol
from extauthz.detect.ranges import MAX_RANGES, parse_range
from extauthz.finding import Severity
from extauthz.request import Hop, Request

DET = Protocol()
FORM = {"content-type": "application/x-www-form-urlencoded"}


def rules(req):
    return rule_set(DET, req)


def names(req):
    return {r for r, _ in rules(req)}


def multipart(parts: str, boundary="b", ctype=None):
    return request("/upload", "POST", {"content-type": ctype or f"multipart/form-data; boundary={boundary}"},
                   parts.replace("{b}", "--" + boundary))


# ---------------------------------------------------------------- framing


def test_smuggling_signals():
    assert ("protocol.smuggling.cl-te", "HIGH") in rules(request(
        "/", "POST", {"transfer-encoding": "chunked", "content-length": "7", **FORM}, "7\r\nfoo=bar\r\n0\r\n\r\n"))
    for te in ("chunked, chunked", "xchunked", " chunked", "gzip, chunked", ("chunked", "chunked")):
        assert "protocol.smuggling.te" in names(request("/", "POST", {"transfer-encoding": te}, "0\r\n\r\n")), te
    assert "protocol.smuggling.te-get" in names(request("/", "GET", {"transfer-encoding": "chunked"}, "0\r\n\r\n"))
    for cl in ("abc", "3, 4", ("3", "4"), "+3"):
        assert ("protocol.smuggling.cl", "HIGH") in rules(request("/", "POST", {"content-length": cl, **FORM},
                                                                  "abc")), cl
    assert not rules(request("/", "POST", {"content-length": "7", **FORM}, "foo=bar"))
    assert not rules(request("/", "POST", {"transfer-encoding": "chunked", **FORM}, "7\r\nfoo=bar\r\n0\r\n\r\n"))


def test_bodies_on_get():
    assert rules(request("/", "GET", FORM, "hi=test")) == {("protocol.body-on-get", "HIGH")}
    assert rules(request("/", "GET", {"content-type": "application/json"}, '{"q": 1}')) == \
        {("protocol.body-on-get", "MEDIUM")}
    assert not rules(request("/", "GET", {"content-length": "0", **FORM}, "hi=test\r\n"))  # not part of it
    assert rules(request("/", "POST", {}, "data")) == {("protocol.body-without-type", "LOW")}


# ---------------------------------------------------------------- host, method, headers


def test_host_header():
    assert rules(request("/", headers={"host": ""}, host="")) == {("protocol.host.empty", "HIGH")}
    for bad in ("evil.com/x", "good.com@evil.com", "a b", "x<y"):
        assert ("protocol.host.invalid", "HIGH") in rules(request("/", host=bad)), bad
    assert "protocol.host.multiple" in names(request("/", headers={"host": ("a.com", "b.com")}))
    assert "protocol.host.invalid" in names(request("/", headers={"x-forwarded-host": "evil.com/reset"}))
    edge_ip = Request(path="/", headers={"host": ("93.184.216.34:8080",)}, authority="93.184.216.34:8080", hop=Hop.EDGE)
    assert rules(edge_ip) == {("protocol.host.ip", "LOW")}
    local = Request(path="/", headers={"host": ("127.0.0.1:8080",)}, authority="127.0.0.1:8080", hop=Hop.EDGE)
    assert not rules(local)
    probe = Request(path="/healthz", headers={"host": ("10.0.0.7:8080",)}, hop=Hop.SIDECAR_INBOUND)
    assert not rules(probe)  # kubelet probes and mesh calls by IP are normal inside
    for ok in ("shop.example.com", "shop.example.com:8443", "[::1]:80", "under_score.internal", "%00"):
        assert not rules(request("/", host=ok)), ok


def test_methods_and_overrides():
    assert rules(Request(method="TRACE", headers={"host": ("a",)})) == {("protocol.method.debug", "HIGH")}
    assert rules(Request(method="PROPFIND", headers={"host": ("a",)})) == {("protocol.method.unusual", "LOW")}
    assert rules(Request(method="GE T", headers={"host": ("a",)})) == {("protocol.method.invalid", "HIGH")}
    assert not rules(Request(method="", headers={"host": ("a",)}))  # nothing said: nothing to judge
    assert rules(request("/transfer?amount=1000&_method=POST")) == {("protocol.method-override", "HIGH")}
    assert rules(request("/api/r?_method=TRACE", "POST")) == {("protocol.method-override", "HIGH")}
    assert rules(request("/r", "POST", {"x-http-method-override": "DELETE"})) == \
        {("protocol.method-override", "LOW")}
    assert rules(request("/r", "POST", FORM, "_method=delete&id=3")) == {("protocol.method-override", "LOW")}
    assert rules(request("/r", "GET", {"x-http-method-override": "PUT"})) == {("protocol.method-override", "HIGH")}
    for v in ("X", "DELETE1", "", "12345", "POST"):
        assert not rules(request(f"/r?_method={v}", "POST", FORM, "a=1")), v


def test_restricted_and_abused_headers():
    assert rules(request("/", headers={"proxy": "http://evil:8080"})) == {("protocol.header.proxy", "HIGH")}
    assert rules(request("/x.asp", headers={"translate": "f"})) == {("protocol.header.translate", "HIGH")}
    assert rules(request("/f.pdf", headers={"request-range": "bytes=0-1"})) == \
        {("protocol.header.request-range", "HIGH")}
    assert rules(request("/", headers={"connection": "close, X-Forwarded-For"})) == \
        {("protocol.connection.hop-by-hop", "HIGH")}
    assert rules(request("/", headers={"connection": "keep-alive, close"})) == \
        {("protocol.connection.conflict", "HIGH")}
    assert not rules(request("/", headers={"connection": "keep-alive, Upgrade", "upgrade": "websocket"}))
    assert rules(request("/", headers={"cookie": "$Version=1; session=\"a; PHPSESSID=b\""})) == \
        {("protocol.cookie.v1", "HIGH")}
    assert not rules(request("/", headers={"cookie": "price=$5; theme=dark"}))


def test_ranges():
    assert rules(request("/", headers={"range": "bytes=0-,5-0,5-1"})) == {("protocol.range.invalid", "HIGH")}
    assert rules(request("/", headers={"range": "bytes=1-,11-20,21-30"})) == {("protocol.range.overlapping", "HIGH")}
    assert rules(request("/", headers={"range": "bytes=0-1,3-4,6-7,9-10,12-13,15-16"})) == \
        {("protocol.range.many", "MEDIUM")}
    for ok in ("bytes=0-1023", "bytes=-500", "bytes=100-", "0-1", "items=1-5", "bytes=0-0"):
        assert not rules(request("/", headers={"range": ok})), ok
    assert parse_range("bytes=0-99, 200-").count == 2
    assert parse_range("bytes=5-1").invalid


# ---------------------------------------------------------------- content types and charsets


def test_charsets():
    assert charset_risk("UTF-8") is None and charset_risk('"utf-8"') is None and charset_risk("iso-8859-15") is None
    assert charset_risk("windows-1252") is None and charset_risk("euc-jp") is None
    for bad in ("utf-7", "ibm037", "IBM500", "utf-16", "cp1026", "garbage", "utf-88", "utf-"):
        assert charset_risk(bad)[0] is Severity.HIGH, bad
    assert charset_risk("shift_jis")[0] is Severity.MEDIUM
    assert normalise_charset(" 'UTF_8' ") == "utf8"


def test_content_type_tricks():
    def ct(value, body="a=1"):
        return rules(request("/", "POST", {"content-type": value}, body))
    assert ct("application/x-www-form-urlencoded; charset=ibm038") == {("protocol.charset", "HIGH")}
    assert ct("application/x-www-form-urlencoded; charset=utf-16") == {("protocol.charset", "HIGH")}
    assert "protocol.charset" not in {r for r, _ in ct("application/x-www-form-urlencoded; charset=ibm037")}  # decode
    assert ct("application/x-www-form-urlencoded; charset=utf-8; CHARSET=utf-7") >= \
        {("protocol.content-type.repeated-param", "HIGH")}
    assert ct('application/x-www-form-urlencoded;boundary="application/json"') == \
        {("protocol.content-type.smuggled-param", "HIGH")}
    assert ct('application/x-www-form-urlencoded; charset=utf-8; boundary="charset=utf-7"') == \
        {("protocol.content-type.smuggled-param", "HIGH")}
    assert ct("%{(#nike='multipart/form-data').(#dm=@ognl") >= {("protocol.content-type.invalid", "HIGH")}
    for ok in ("application/x-www-form-urlencoded; charset=UTF-8", "application/json",
               'application/soap+xml; action="urn:hl7-org:v3:PRPA_IN201305UV02"; charset=UTF-8',
               'multipart/related; type="application/xop+xml"; start="<a@b>"; start-info="text/xml"; boundary=x',
               "application/vnd.mycompany.myapp.customer-v2+json", "text/plain;charset=UTF-8"):
        assert not ct(ok, "") and not {r for r in names(request("/", "POST", {"content-type": ok}, "x=1"))
                                       if r.startswith("protocol.content-type")}, ok


def test_response_charsets():
    assert rules(request("/", headers={"accept": 'text/html;q=0.9;charset="CP1026",*/*;q=0.8'})) == \
        {("protocol.charset.response", "HIGH")}
    assert not rules(request("/", headers={"accept": 'text/html;q=0.9;charset="utf-8";,*/*;q=.8'}))
    assert rules(request("/", "POST", {"user-agent": "UP.Browser/6", "x-up-devcap-post-charset": "ibm500", **FORM},
                         "a=1")) == {("protocol.charset.devcap", "HIGH")}


# ---------------------------------------------------------------- multipart


def test_multipart_part_headers():
    part = '{b}\r\nContent-Disposition: form-data; name="%s"%s\r\n%s\r\nvalue\r\n{b}--\r\n'

    def mp(name="f", extra="", headers=""):
        return rules(multipart(part % (name, extra, headers)))
    assert not mp()
    assert not mp("a&auml;b")  # characters the form's charset lacks, as entities
    for name in ("fi;le", "fi=le", "mp;zzz", "&amp;fi;zzz", 'a\\"b', "cv.p\\d\\f"):
        assert ("protocol.multipart.name", "HIGH") in mp(name), name
    assert ("protocol.multipart.filename", "HIGH") in mp(extra='; filename="te\\"st.txt"')
    assert ("protocol.multipart.filename", "HIGH") in mp(extra='; filename="1.j\\s\\p"')
    assert not mp(extra='; filename="C:\\Users\\me\\cv.pdf"')  # old IE sends whole paths
    assert not mp(extra="; filename=\"John's CV.pdf\"")
    assert ("protocol.multipart.filename", "MEDIUM") in mp(extra='; filename="a=b.txt"')
    assert ("protocol.multipart.repeated-param", "HIGH") in mp(extra='; filename="a.jpg"; filename="a.php"')
    assert ("protocol.multipart.header-name", "HIGH") in mp(headers="Content\x7f-Type: text/plain\r\n")
    assert ("protocol.multipart.repeated-header", "HIGH") in mp(
        headers='Content-Disposition: form-data; name="x"\r\n')
    assert ("protocol.charset", "HIGH") in mp(headers="Content-Type: text/plain; charset=utf-16\r\n")
    assert ("protocol.charset", "MEDIUM") in mp(headers="Content-Type: text/plain; charset=shift_jis\r\n")
    assert not mp(headers="Content-Type: text/plain; charset=utf-7\r\n")  # decode.evasive-charset says it
    assert ("protocol.multipart.transfer-encoding", "MEDIUM") in mp(headers="Content-Transfer-Encoding: base64\r\n")
    assert not mp(headers="Content-Transfer-Encoding: binary\r\n")
    assert ("protocol.charset", "HIGH") in rules(multipart((part % ("_charset_", "", "")).replace("value", "utf-7")))
    assert ("protocol.multipart.no-boundary", "MEDIUM") in rules(
        multipart(part % ("f", "", ""), ctype="multipart/form-data"))


def test_split_params_respects_quotes_and_escapes():
    head, params = split_params('form-data; name="a;b"; filename="x\\"y;z"; size=3')
    assert head == "form-data"
    assert [(p.name, p.value) for p in params] == [("name", "a;b"), ("filename", 'x\\"y;z'), ("size", "3")]


def _split_by_char(value: str) -> list[str]:
    """The plain definition split_params implements with find(): `;` splits outside quotes,
    a backslash inside quotes escapes the next character, an open quote runs to the end."""
    pieces, start, in_quote, i = [], 0, False, 0
    while i < len(value):
        c = value[i]
        if in_quote and c == "\\":
            i += 2
            continue
        if c == '"':
            in_quote = not in_quote
        elif c == ";" and not in_quote:
            pieces.append(value[start:i])
            start = i + 1
        i += 1
    return pieces + [value[start:]]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('"\\;a= n')), max_size=60))
def test_split_params_splits_like_the_character_definition(value):
    pieces = _split_by_char(value)
    head, params = split_params(value)
    assert head == pieces[0].strip()
    expected = [p.partition("=")[0].strip().lower() for p in pieces[1:MAX_PARAMS + 1] if "=" in p]
    assert [p.name for p in params] == expected[:len(params)]
    assert len(params) == len(expected) or len(pieces) > MAX_PARAMS + 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab;="\\ \r\n-:xyz')), max_size=300))
def test_multipart_scanner_never_raises_and_is_bounded(text):
    heads = list(part_heads("--b\n" + text, "b"))
    assert len(heads) <= MAX_PARTS
    split_params(text)
    list(DET.scan_request(multipart("{b}\n" + text), []))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("bytes=0123456789-, x")), max_size=300))
def test_range_parser_never_raises(value):
    spec = parse_range(value)
    assert spec is None or spec.count <= MAX_RANGES


# ---------------------------------------------------------------- spelling and names


def test_escapes_of_letters_and_digits():
    assert rules(request("/?parm=%25%37%33%25%36%46")) == {("protocol.escaped-alnum", "HIGH")}
    assert rules(request("/?parm=%2573")) == {("protocol.escaped-alnum", "HIGH")}
    assert rules(request("/", "POST", FORM, "testarg=%5Cu0061lert")) == {("protocol.escaped-alnum", "HIGH")}
    assert rules(request("/?q=%61dmin")) == {("protocol.escaped-alnum", "MEDIUM")}
    assert not rules(request("/?q=caf%C3%A9&r=a%2Fb&s=100%25&t=%3Cb%3E"))
    assert not rules(request("/", "POST", {"content-type": "application/json"}, '{"a": "\\u0041"}'))  # JSON's own
    assert not rules(request("/?q=%5Cu003c"))  # `\u003c` is `<`, escaped on purpose by JSON encoders


def test_fullwidth_percent_u_names_brackets_and_unix_sockets():
    assert rules(request("/get?test=%uff0F")) == {("protocol.fullwidth-escape", "HIGH")}
    assert rules(request("/?foo[1]a=bar")) == {("protocol.parameter-name.bracket", "HIGH")}
    assert not rules(request("/?foo[1][2]=bar&items[0].name=x&q=[x]y"))
    assert rules(request("/?unix:AAAAAAAAA|http://example.org/")) >= {("protocol.unix-socket-url", "HIGH")}
    assert not rules(request("/?os=unix:like"))


def test_ordinary_browser_requests_pass():
    browser = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "accept": "text/html,*/*;q=0.8",
               "accept-language": "en-US,en;q=0.5", "accept-encoding": "gzip, deflate, br",
               "cookie": "sid=abc; theme=dark", "connection": "keep-alive", "range": "bytes=0-",
               "cache-control": "no-cache", "sec-fetch-mode": "navigate"}
    assert not rules(request("/catalog/search?q=running+shoes&size=42&page=2", headers=browser))
    assert not rules(request("/api/orders", "POST", {**browser, "content-type": "application/json"}, '{"a": 1}'))
    assert not rules(multipart('{b}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
                               'Content-Type: image/jpeg\r\n\r\n\xff\xd8\r\n{b}--\r\n',
                               boundary="----WebKitFormBoundary7MA4YWxkTrZu0gW"))


def test_control_characters_in_url_parts():
    assert rules(request("/?test=test1%03")) == {("protocol.control-chars", "MEDIUM")}
    assert rules(request("/?q=%1b%5b31m")) == {("protocol.control-chars", "MEDIUM")}
    assert not rules(request("/?q=a%09b"))  # a tab
    assert not rules(request("/", "POST", {"content-type": "application/json"}, '{"a": "\\u0001"}'))


def test_nul_percent_encoded_into_url_parts_and_forms():
    for req in (request("/?param=foo%00"), request("/?test%00=test1"), request("/download?file=a.php%00.jpg"),
                request("/?q=%2500"), request("/login", "POST", FORM, "login=%00&password=x")):
        assert ("protocol.null-byte", "HIGH") in rules(req), req
    # JSON strings and file parts are decode.null-byte's (MEDIUM): binary-ish payloads carry NULs
    assert not rules(request("/", "POST", {"content-type": "application/json"}, '{"a": "x\\u0000y"}'))
    assert not rules(request("/?q=100%25"))  # an escaped percent sign is not a NUL
    assert not rules(request("/?q=a%2000"))  # a blank and two zeros
    # a URL header: the Referer a browser sends is the page's URL, which never holds a NUL
    for headers in ({"referer": "anything%00"}, {"referer": "https://example.com/a.php%00.jpg"},
                    {"origin": "https://example.com%00.evil.example"}):
        assert ("protocol.null-byte", "HIGH") in rules(request("/", "GET", headers)), headers
    assert not rules(request("/", "GET", {"referer": "https://example.com/?q=100%25"}))
    assert not rules(request("/", "GET", {"x-data": "a%00b"}))  # other headers: decode.null-byte's


def test_hostile_inputs_stay_cheap():
    from extauthz.decode import extract
    from extauthz.detect import DetectorSet
    from extauthz.detect.xpath import XPathInjection
    n = 8192
    mp = {"content-type": "multipart/form-data; boundary=b"}
    hostile = [
        request("/u", "POST", mp, (b'--b\r\nContent-Disposition: form-data; name="a;b"\r\n\r\nx\r\n' * 200)[:n]),
        request("/u", "POST", mp, b'--b\r\nContent-Disposition: form-data; name="' + b"&a" * (n // 2) + b'"\r\n\r\nx'),
        request("/f", headers={"range": "bytes=" + "1-2," * (n // 4)}),
        request("/s", "POST", {"content-type": "text/plain" + ';a="b\\"' * (n // 7)}, "x"),
        request("/s?q=" + "%2561" * (n // 5)),
        request("/s?q=" + "' " * (n // 2)),
        request("/s?q=" + "count(/" * (n // 7)),
        request("/s", headers={"connection": "a," * (n // 2), "cookie": "$a=1;" * (n // 5)}),
    ]
    ds = DetectorSet([DET, XPathInjection()])
    for req in hostile:
        inputs = extract(req).inputs
        t0 = request_cpu()
        ds.scan(req, inputs)
        assert request_cpu() - t0 < 0.05
