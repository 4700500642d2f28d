from hypothesis import given, settings, strategies as st

from extauthz.decode.media import codec_for, format_of, header_params, parse_media_type


def test_media_type_and_parameters():
    m = parse_media_type('Multipart/Form-Data; boundary="a;b"; charset=UTF-8')
    assert m.mime == "multipart/form-data" and m.params == {"boundary": "a;b", "charset": "UTF-8"} and not m.malformed
    assert parse_media_type("application").malformed
    assert parse_media_type("multipart/").malformed
    assert not parse_media_type("").malformed


def test_rfc8187_parameters_win():
    _, params, _ = header_params("form-data; name=\"f\"; filename=\"a.txt\"; filename*=UTF-8''%E2%82%AC.txt")
    assert params["filename"] == "\u20ac.txt" and params["name"] == "f"


def test_formats():
    assert format_of("application/vnd.api+json") == "json"
    assert format_of("application/soap+xml") == "xml"
    assert format_of("multipart/related") == "multipart"
    assert format_of("text/plain") == "text"
    assert format_of("image/png") is None
    assert codec_for('"UTF-7"') == "utf-7" and codec_for("utf-8") is None


@settings(deadline=None)
@given(st.text(max_size=200))
def test_never_raises_and_deterministic(text):
    assert header_params(text) == header_params(text)
    assert parse_media_type(text) == parse_media_type(text)
    assert len(header_params(text)[1]) <= 32
