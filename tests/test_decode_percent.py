from hypothesis import given, settings, strategies as st

from extauthz.decode.layers.percent import decode_percent, decode_url


def test_plus_and_escapes():
    p = decode_url("running+shoes%21", plus=True)
    assert p.value == "running shoes!" and p.plus and p.escapes == 1 and not p.invalid


def test_plus_is_literal_outside_forms():
    assert decode_url("a+b%20c").value == "a+b c"


def test_invalid_escapes_are_kept_and_counted():
    p = decode_url("100% sure %zz %4")
    assert p.value == "100% sure %zz %4" and p.invalid == 3 and p.escapes == 0


def test_overlong_utf8_decodes_to_the_character():
    for raw in ("%c0%af", "%C0%AF", "%e0%80%af", "%f0%80%80%af"):
        p = decode_url(raw)
        assert p.value == "/" and p.overlong, raw
    assert decode_url("..%c0%af..%c0%afetc").value == "../../etc"


def test_latin1_bytes_read_as_latin1_not_replacement():
    p = decode_url("Bel%E9n+Mart%EDnez", plus=True)
    assert p.value == "Belén Martínez" and p.invalid_utf8 and not p.overlong


def test_utf8_sequences_across_escapes():
    assert decode_url("caf%C3%A9").value == "café"
    assert decode_url("é%20").value == "é "


def test_percent_u():
    p = decode_url("%u003Cscript%u003E")
    assert p.value == "<script>" and p.percent_u


def test_double_encoding_layer_needs_a_valid_escape():
    assert decode_percent("%27").value == "'"
    assert decode_percent("50% off") is None
    assert decode_percent("plain") is None
    assert decode_percent("a+b%41").value == "a+bA"  # + stays + in later layers


@settings(deadline=None)
@given(st.text(max_size=200), st.booleans())
def test_never_raises_and_is_deterministic(text, plus):
    a = decode_url(text, plus)
    assert a == decode_url(text, plus)
    assert isinstance(a.value, str)
    if "%" not in text:
        assert a.escapes == 0 and a.invalid == 0


@settings(deadline=None)
@given(st.binary(max_size=100))
def test_any_escaped_bytes_decode(raw):
    text = "".join(f"%{b:02x}" for b in raw)
    p = decode_url(text)
    assert p.escapes == len(raw) and p.invalid == 0
    assert len(p.value) <= len(raw)


def test_fully_escaped_fast_path_agrees_with_the_general_loop():
    assert decode_url("%27%20%6F%72").value == "' or"
    assert decode_url("% 4%1 ").value == "% 4%1 "  # not hex: no fast path, two invalid escapes
    assert decode_url("% 4%1 ").invalid == 2


@settings(deadline=None)
@given(st.text(alphabet="%0123456789abcdefABCDEFxyz ", max_size=60))
def test_fast_path_is_only_a_shortcut(text):
    # the same text with one extra literal character takes the general loop
    a = decode_url(text)
    b = decode_url(text + "!")
    assert b.value == a.value + "!" and b.escapes == a.escapes and b.invalid == a.invalid
