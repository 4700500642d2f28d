import base64

from hypothesis import given, settings, strategies as st

from extauthz.decode.layers.base64 import decode_base64, decode_data_uri, decode_text, is_candidate


def b64(text: str, url: bool = False) -> str:
    raw = text.encode()
    return (base64.urlsafe_b64encode(raw) if url else base64.b64encode(raw)).decode()


def test_payloads_decode():
    for payload in ("' or 1=1--", "<script>alert(1)</script>", "../../etc/passwd", "${jndi:ldap://x/a}"):
        assert decode_text(b64(payload)) == payload
        assert decode_text(b64(payload).rstrip("=")) == payload
    assert decode_text(b64("../../etc/passwd?>>", url=True)) == "../../etc/passwd?>>"


def test_ordinary_words_and_tokens_are_not_decoded():
    for token in ("admin", "test1234", "internationalization", "passwordpassword", "8f14e45fceea167a5a36dedd4bea2543",
                  "1234567890123456", "AbCdEfGhIjKlMnOp", "YWRtaW4="):  # last: "admin", too short to matter
        assert decode_text(token) is None, token


def test_mixed_alphabets_and_bad_padding_rejected():
    assert decode_text("PHNjcmlw+_dD4=") is None
    assert decode_text("PHNjcmlwdD4=x=") is None


@settings(deadline=None)
@given(st.text(max_size=120))
def test_never_raises_and_deterministic(text):
    assert decode_text(text) == decode_text(text)


@settings(deadline=None)
@given(st.binary(min_size=9, max_size=60))
def test_decoded_is_printable_ascii_or_nothing(raw):
    out = decode_text(base64.b64encode(raw).decode())
    if out is not None:
        assert out.isascii() and out.encode() == raw


@settings(deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=9, max_size=80))
def test_printable_text_always_roundtrips(text):
    encoded = b64(text)
    if is_candidate(encoded):
        assert decode_text(encoded) == text


def test_paths_words_and_single_case_tokens_are_not_candidates():
    for text in ("/catalog/search", "internationalization", "8f14e45fceea167a", "1234567890123456"):
        assert not is_candidate(text)


def test_data_uris():
    assert decode_data_uri("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==") == \
        "data:text/html,<script>alert(1)</script>"
    assert decode_data_uri('<a href="data:text/html;BASE64,PHN2Zz4=">x</a>') == '<a href="data:text/html,<svg>">x</a>'
    assert decode_data_uri("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA") is None  # binary stays
    assert decode_base64("x=data:text/html;base64,PHN2Zz4=").value == "x=data:text/html,<svg>"


@settings(deadline=None)
@given(st.text(max_size=120))
def test_data_uri_never_raises(text):
    decode_data_uri(text)
    decode_data_uri("data:x;base64," + text)
