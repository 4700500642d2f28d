from hypothesis import given, settings, strategies as st

from extauthz.decode.utf8 import bytes_to_text


def test_valid_utf8_fast_path():
    assert bytes_to_text("café".encode()) == ("café", False, False)


def test_overlong_forms():
    t = bytes_to_text(b"..\xc0\xaf..\xe0\x80\xaf\xc1\x9c")
    assert t.text == "../../\\" and t.overlong


def test_valid_three_byte_after_e0_is_not_overlong():
    t = bytes_to_text("\u0800".encode() + b"\xff")
    assert t.text == "\u0800\xff" and not t.overlong and t.invalid


def test_stray_bytes_are_latin1():
    assert bytes_to_text(b"Bel\xe9n").text == "Belén"


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_never_raises_deterministic_and_bounded(raw):
    t = bytes_to_text(raw)
    assert t == bytes_to_text(raw)
    assert len(t.text) <= len(raw)
