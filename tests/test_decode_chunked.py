from hypothesis import given, settings, strategies as st

from decode_helpers import by_location, post
from extauthz.decode.chunked import MAX_CHUNKS, dechunk


def chunk(parts, crlf=b"\r\n", ext=b"", trailer=b""):
    out = b"".join(b"%x%s%s%s%s" % (len(p), ext, crlf, p, crlf) for p in parts)
    return out + b"0" + crlf + trailer + crlf


def test_chunked_bodies_are_undone():
    assert dechunk(b"3\r\nHi \r\n3\r\nCRS\r\n0\r\n\r\n") == b"Hi CRS"
    assert dechunk(b"7\r\nfoo=bar\r\n0\r\n\r\n") == b"foo=bar"
    assert dechunk(chunk([b"a" * 300, b"b"], crlf=b"\n")) == b"a" * 300 + b"b"
    assert dechunk(chunk([b"x"], ext=b";name=v", trailer=b"X-Trailer: 1\r\n")) == b"x"
    assert dechunk(b"0\r\n\r\n") == b""


def test_what_is_not_chunked_is_left_alone():
    for body in (b"foo=bar", b"7\r\nfoo=ba\r\n0\r\n\r\n", b"3\r\nabc\r\n", b"zz\r\nab\r\n0\r\n\r\n",
                 b"3\r\nabcX0\r\n\r\n", b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", b""):
        assert dechunk(body) is None, body


def test_decode_reads_the_payload_only_when_declared_chunked():
    ex = post(b"7\r\nfoo=bar\r\n0\r\n\r\n", "application/x-www-form-urlencoded")
    assert "form:foo" not in by_location(ex)  # not declared: parsed as sent
    from extauthz.decode import extract
    from extauthz.request import Request
    req = Request(method="POST", path="/", body=b"7\r\nfoo=bar\r\n0\r\n\r\n",
                  headers={"content-type": ("application/x-www-form-urlencoded",),
                           "transfer-encoding": ("chunked",)})
    assert [(i.name, i.value) for i in extract(req).inputs if i.kind == "form"] == [("foo", "bar")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=64), max_size=20), st.booleans())
def test_round_trip(parts, lf):
    assert dechunk(chunk(parts, crlf=b"\n" if lf else b"\r\n")) == b"".join(parts)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_never_raises_and_never_grows(body):
    out = dechunk(body)
    assert out is None or len(out) <= len(body)


def test_chunk_count_is_bounded():
    assert dechunk(chunk([b"a"] * (MAX_CHUNKS + 5))) is None
