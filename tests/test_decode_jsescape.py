from hypothesis import given, settings, strategies as st

from extauthz.decode.layers.jsescape import decode_js_escapes


def d(text):
    res = decode_js_escapes(text)
    return None if res is None else res.value


def test_unicode_and_hex_escapes():
    assert d(r"\u003cscript\x3ealert(1)") == "<script>alert(1)"
    assert d(r"\u{1F600}") == "\U0001F600"


def test_surrogate_pairs_join():
    assert d(r"\ud83d\ude00") == "\U0001F600"


def test_escaped_backslash_is_not_an_escape_but_escaped_escapes_unwrap():
    assert d(r"C:\\users\\admin") is None
    assert d(r"a\\u0041") == r"a\u0041"  # one level now, the next round gives `aA`
    assert d(d(r"a\\u0041")) == "aA"
    assert d(r"\\x41 \x41") == r"\x41 A"


def test_byte_runs_read_as_utf8():
    assert d(r"Wall Street\xe2\x80\x99s") == "Wall Street\u2019s"
    assert d(r"\xe9t\xe9") == "\xe9t\xe9"
    assert d(r"\x3cscript\x3e") == "<script>"


def test_windows_paths_and_other_escapes_stay():
    assert d(r"C:\users\admin") is None
    assert d(r"it\'s \n") is None


@settings(deadline=None)
@given(st.text(max_size=200))
def test_never_raises_and_deterministic(text):
    assert d(text) == d(text)


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=0xFFFF).filter(lambda c: not 0xD800 <= c <= 0xDFFF))
def test_roundtrip(cp):
    assert d(f"\\u{cp:04x}") == chr(cp)
