from hypothesis import given, settings, strategies as st

from extauthz.decode.layers.entities import decode_entities


def d(text):
    res = decode_entities(text)
    return None if res is None else res.value


def test_named_decimal_hex():
    assert d("&lt;script&gt;") == "<script>"
    assert d("&#60;&#x3C;&#X3c;") == "<<<"


def test_without_semicolons_like_browsers():
    assert d("&#60script&#62") == "<script>"
    assert d("&ltscript&gt") == "<script>"
    assert d("javascript&colon;alert(1)") == "javascript:alert(1)"


def test_leading_zeros_and_out_of_range():
    assert d("&#0000000000060;") == "<"
    assert d("&#99999999999999;") == "\ufffd"
    assert d("&#0;") == "\ufffd"
    assert d("&#150;") == "\u2013"  # windows-1252 as browsers do


def test_text_without_entities_is_untouched():
    assert d("AT&T fish & chips") is None
    assert d("no ampersand") is None
    assert d("&unknownentity;") is None


@settings(deadline=None)
@given(st.text(max_size=300))
def test_never_raises_deterministic_and_never_grows_much(text):
    a = d(text)
    assert a == d(text)
    if a is not None:
        assert "&" in text
        assert len(a) <= 2 * len(text)


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=0x10FFFF).filter(lambda c: not 0xD800 <= c <= 0xDFFF and not 0x80 <= c <= 0x9F))
def test_numeric_roundtrip(cp):
    assert d(f"&#{cp};") == chr(cp)
    assert d(f"&#x{cp:x};") == chr(cp)


def test_padding_past_any_encoders_width_is_reported():
    """&#0000060; (the cheat-sheet evasion) is flagged; the widths real encoders write are not
    (PHP's &#039;, &#0039;, the W3C tables' &#x00027; and feeds' &#00039;), nor padding of non-ASCII text."""
    for text in ("&#0000060;", "&#000060", "&#X00003E;", "&#x000003c;",
                 "<IMG SRC=&#0000106&#0000097&#0000118&#0000097>", "a &#000039; b"):
        res = decode_entities(text)
        assert res is not None and res.anomalies == ("decode.padded-charref",), text
    for text in ("&#60;", "&#060;", "&#039;", "&#0039;", "&#00039;", "&#x3c;", "&#x03c;", "&#x003C;", "&#x0027;",
                 "&#x00027;", "we&#0039;ll", "Dart&#00039;s report", "&lt;", "&#8217;",
                 "&#0000233;", "&#x00000e9;", "caf&#233;", "AT&T &#34;quoted&#34;"):
        res = decode_entities(text)
        assert res is not None and res.anomalies == (), text


def test_padded_reference_in_a_parameter_blocks_on_its_own():
    from extauthz.decode import extract
    from extauthz.finding import Severity
    from extauthz.request import Request
    for q in ("q=%26%230000060", "q=%26%23x00003C%3B", "q=%26%23000062"):
        ex = extract(Request(method="GET", path="/", query=q))
        assert [f.severity for f in ex.findings if f.rule == "decode.padded-charref"] == [Severity.HIGH], q
    for q in ("q=%26%2360%3B", "q=%26lt%3B", "q=it%26%23039%3Bs", "q=it%26%2300039%3Bs"):
        ex = extract(Request(method="GET", path="/", query=q))
        assert not [f for f in ex.findings if f.rule == "decode.padded-charref"], q
