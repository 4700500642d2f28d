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
