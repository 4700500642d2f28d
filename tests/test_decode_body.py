from decode_helpers import by_location, post, rules, values
from extauthz.decode import DecodeLimits, extract
from extauthz.finding import Severity
from extauthz.request import Request


def test_form_body():
    assert by_location(post("a=1&b=%27", "application/x-www-form-urlencoded"))["form:b"] == ["'"]


def test_missing_content_type_is_sniffed_silently():
    ex = post('{"a": "x"}')
    assert by_location(ex)["json:$.a"] == ["x"] and not ex.findings
    assert by_location(post("a=1&b=2"))["form:b"] == ["2"]
    assert by_location(post("<r><a>x</a></r>"))["xml:/r/a"] == ["x"]
    assert values(post("just some text"), "body") == ["just some text"]
    ex = post('--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\n<x>\r\n--zz--\r\n', "text/plain")
    assert by_location(ex)["multipart:a"] == ["<x>"]


def test_lying_content_type():
    ex = post('{"foo": ";cat /etc/passwd"}', "application/octet-stream")
    assert by_location(ex)["json:$.foo"] == [";cat /etc/passwd"]
    assert "decode.content-type-mismatch" in rules(ex)
    ex = post('{"foo": "x"}', "application/x-www-form-urlencoded")
    assert by_location(ex)["json:$.foo"] == ["x"]


def test_text_plain_json_is_not_a_mismatch():
    ex = post('{"a": "b"}', "text/plain")
    assert by_location(ex)["json:$.a"] == ["b"] and not ex.findings


def test_malformed_declared_body():
    ex = post("test", "application/json")
    assert "decode.malformed-body" in rules(ex) and values(ex, "body") == ["test"]


def test_conflicting_and_malformed_content_types():
    ex = extract(Request(method="POST", headers={"content-type": ("application/json", "application/xml")}, body=b"{}"))
    assert "decode.content-type-conflict" in rules(ex)
    assert "decode.content-type-malformed" in rules(post("x=1", "application"))


def test_binary_body_yields_nothing():
    ex = post(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x00", "image/png")
    assert values(ex) == ["/api"]


def test_body_limit_and_truncation_are_findings():
    body = b"a=1&" * 1000 + b"x=%27"
    ex = extract(Request(method="POST", headers={"content-type": ("application/x-www-form-urlencoded",)}, body=body),
                 DecodeLimits(), body_limit=100)
    (f,) = [f for f in ex.findings if f.rule == "limit.body"]
    assert f.severity == Severity.MEDIUM and "'" not in values(ex)
    ex = extract(Request(method="POST", headers={"content-type": ("multipart/form-data; boundary=B",)}, body=body),
                 DecodeLimits(), body_limit=100)
    assert [f.severity for f in ex.findings if f.rule == "limit.body"] == [Severity.LOW]
    ex = extract(Request(method="POST", headers={"content-type": ("application/json",)}, body=b'{"a": "x', body_truncated=True))
    assert "limit.body-truncated" in rules(ex) and "decode.malformed-body" not in rules(ex)
    assert values(ex, "body") == ['{"a": "x']


def test_ebcdic_and_utf7_bodies_are_read_as_declared_and_reported():
    ex = post("q=' or 1=1--".encode("cp037"), "application/x-www-form-urlencoded; charset=ibm037")
    assert by_location(ex)["form:q"] == ["' or 1=1--"] and "decode.evasive-charset" in rules(ex)
    ex = post(b'{"a": "+ADw-script+AD4-"}', "application/json; charset=utf-7")
    assert by_location(ex)["json:$.a"] == ["<script>"]


def test_charsets():
    ex = extract(Request(method="POST", headers={"content-type": ("application/json; charset=utf-16",)},
                         body='{"a": "<x>"}'.encode("utf-16")))
    assert by_location(ex)["json:$.a"] == ["<x>"]
    ex = post("a=caf\xe9".encode("latin-1"), "application/x-www-form-urlencoded; charset=iso-8859-1")
    assert by_location(ex)["form:a"] == ["café"]


def test_compressed_bodies_are_inflated_within_the_body_limit():
    import gzip
    import zlib

    def req(body, enc, ctype="application/json"):
        return Request(method="POST", headers={"content-type": (ctype,), "content-encoding": (enc,)}, body=body)

    ex = extract(req(gzip.compress(b'{"q": "\' or 1=1--"}'), "gzip"))
    (inp,) = [i for i in ex.inputs if i.location == "json:$.q"]
    assert inp.value == "' or 1=1--" and inp.chain == ("gzip",)
    raw_deflate = zlib.compressobj(wbits=-15)
    body = raw_deflate.compress(b"a=%3Cscript%3E") + raw_deflate.flush()
    assert by_location(extract(req(body, "deflate", "application/x-www-form-urlencoded")))["form:a"] == ["<script>"]
    bomb = gzip.compress(b"0" * (10 << 20))  # 10 MiB of zeros in about 10 KiB
    ex = extract(req(bomb, "gzip", "text/plain"), DecodeLimits(), body_limit=65536)
    assert "limit.body" in rules(ex) and all(len(i.value) <= 65536 for i in ex.inputs)
    ex = extract(req(b"\x0b\x02\x80hello\x03", "br", "text/plain"))
    assert "decode.content-encoding" in rules(ex)
    assert "decode.malformed-body" in rules(extract(req(b"not gzip at all", "gzip")))


def _severity(ex, rule: str) -> Severity | None:
    found = [f.severity for f in ex.findings if f.rule == rule]
    return max(found) if found else None


def test_evasive_charsets_block_on_their_own_and_ordinary_charsets_say_nothing():
    """No browser or API client sends a body in UTF-7 or EBCDIC: the declaration alone is evasion (HIGH)."""
    for ctype in ("application/x-www-form-urlencoded; charset=ibm037", "application/x-www-form-urlencoded;charset=cp500",
                  "application/json; charset=utf-7", "application/json; charset=IBM037"):
        assert _severity(post(b"test=value", ctype), "decode.evasive-charset") == Severity.HIGH, ctype
    part = ('--B\r\nContent-Disposition: form-data; name="u"\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n'
            '+ADw-img+AD4-\r\n--B--\r\n')
    assert _severity(post(part, "multipart/form-data; boundary=B"), "decode.evasive-charset") == Severity.HIGH
    for ctype in ("application/x-www-form-urlencoded; charset=utf-8", "application/json; charset=UTF-8",
                  "application/x-www-form-urlencoded; charset=iso-8859-1", "text/plain; charset=windows-1252"):
        assert _severity(post(b"test=value", ctype), "decode.evasive-charset") is None, ctype


def test_overlong_utf8_blocks_on_its_own_and_latin1_bytes_do_not():
    """Every UTF-8 encoder writes the shortest form: an overlong sequence only exists to get past a filter."""
    for q in ("p=%c0%af", "p=%C0%AE%C0%AE", "p=%e0%80%af", "p=%f0%80%80%af", "p=a%c1%9cb"):
        ex = extract(Request(method="GET", path="/", query=q))
        assert _severity(ex, "decode.overlong-utf8") == Severity.HIGH, q
    # latin-1 text (CSIC's shop: `%C0` is À) and valid UTF-8 are no evasion
    for q in ("p=%C0la", "p=%C1rbol", "p=caf%C3%A9", "p=%E0%A4%85", "p=%F0%9F%98%80"):
        ex = extract(Request(method="GET", path="/", query=q))
        assert _severity(ex, "decode.overlong-utf8") is None, q


def test_overlong_bytes_in_a_raw_body_need_company():
    """Raw C0 AF in a body is what binary data sent as text (curl --data-binary, an untyped PUT) holds by
    chance; spelled-out escapes are deliberate. One request with both is reported at the stronger severity."""
    blob = bytes(range(256)) + b"\xc0\xaf\xc1\x9c\xe0\x80\xaf" * 3
    assert _severity(post(blob, "application/x-www-form-urlencoded"), "decode.overlong-utf8") == Severity.MEDIUM
    for ctype in ("application/octet-stream", None):  # binary, not read as text at all: nothing to say
        assert _severity(post(blob, ctype), "decode.overlong-utf8") is None, ctype
    text = b"../../\xc0\xaf../etc/passwd and more text " * 4  # raw overlong bytes in a text body
    for ctype in ("application/octet-stream", None):
        assert _severity(post(text, ctype), "decode.overlong-utf8") == Severity.MEDIUM, ctype
    headers = {"content-type": ("application/x-www-form-urlencoded",)}
    both = extract(Request(method="POST", path="/", query="p=%c0%af", headers=headers, body=blob))
    assert _severity(both, "decode.overlong-utf8") == Severity.HIGH
    body_first = extract(Request(method="POST", path="/", headers=headers, body=blob + b"&p=%c0%af"))
    assert _severity(body_first, "decode.overlong-utf8") == Severity.HIGH


def test_a_binary_body_is_judged_by_its_head_and_not_decoded_whole():
    """An image or archive upload yields no Input; a body that only starts like binary
    but is UTF-16 (BOM) or declared/sniffed as a format is still read."""
    import os

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(60 * 1024)  # within the test body limit
    for ctype in ("image/png", "application/octet-stream", None):
        ex = post(png, ctype)
        assert not [i for i in ex.inputs if i.kind != "path"] and not ex.findings, ctype
    utf16 = "q=<script>alert(1)</script>".encode("utf-16")  # BOM first; NULs everywhere
    assert any("<script>" in i.value for i in post(utf16, None).inputs)
    form_as_image = b"q=%3Cscript%3E&bin=" + b"\x00\x01\x02" * 100  # binary-looking, but a form
    assert "<script>" in [i.value for i in post(form_as_image, "image/png").inputs]
