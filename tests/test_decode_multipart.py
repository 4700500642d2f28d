from hypothesis import given, settings, strategies as st

from decode_helpers import by_location, parse_twice, post, rules
from extauthz.decode.parsers import Where

BODY = (b'--XX\r\nContent-Disposition: form-data; name="comment"\r\n\r\nhello\'--\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.php"\r\nContent-Type: image/png\r\n\r\n'
        b'<?php system($_GET[1]); ?>\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="img"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n'
        b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="j"\r\nContent-Type: application/json\r\n\r\n{"a":"b"}\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="b64"\r\nContent-Transfer-Encoding: base64\r\n\r\nJyBvciAxPTEtLQ==\r\n'
        b"--XX\r\nContent-Disposition: form-data; name=\"f2\"; filename*=UTF-8''%E2%82%AC.txt\r\n\r\neuro\r\n"
        b'--XX--\r\n')


def test_parts_names_filenames_types_and_nested():
    got = by_location(post(BODY, "multipart/form-data; boundary=XX"))
    assert got["multipart:comment"] == ["hello'--"]
    assert got["multipart:file.filename"] == ["a.php"]
    assert got["multipart:file.content-type"] == ["image/png"]
    assert got["multipart:file"] == ["<?php system($_GET[1]); ?>"]
    assert "multipart:img" not in got  # binary content is not text
    assert got["multipart:j$.a"] == ["b"]
    assert got["multipart:b64"] == ["' or 1=1--"]
    assert got["multipart:f2.filename"] == ["\u20ac.txt"]


def test_part_charset_utf7_is_read_both_ways_and_plain_types_skipped():
    body = (b'--B\nContent-Disposition: form-data; name="x"\nContent-Type: text/plain; charset=utf-7\n\n'
            b'+ADw-script+AD4-\n--B\nContent-Disposition: form-data; name="y"\nContent-Type: text/plain\n\nplain\n--B--\n')
    got = by_location(post(body, "multipart/form-data; boundary=B"))
    assert got["multipart:x"] == ["<script>", "+ADw-script+AD4-"]
    assert "multipart:y.content-type" not in got and got["multipart:y"] == ["plain"]


def test_uploaded_svg_is_parsed_and_kept_as_markup():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    body = (b'--B\r\nContent-Disposition: form-data; name="f"; filename="x.svg"\r\nContent-Type: image/svg+xml\r\n\r\n'
            + svg + b'\r\n--B--\r\n')
    got = by_location(post(body, "multipart/form-data; boundary=B"))
    assert got["multipart:f/svg/script"] == ["alert(1)"] and got["multipart:f"] == [svg.decode()]


def test_bare_lf_and_sniffed_boundary():
    body = b'--0000\nContent-Disposition: form-data; name="name"\n\nJohn Smith\n--0000--\n'
    assert by_location(post(body, "multipart/form-data"))["multipart:name"] == ["John Smith"]


def test_unparseable_multipart_is_reported():
    ex = post("not multipart at all", "multipart/form-data; boundary=zz")
    assert "decode.malformed-body" in rules(ex)


def test_ten_thousand_parts_hit_the_limit():
    body = b"".join(b'--B\r\nContent-Disposition: form-data; name="p%d"\r\n\r\nv\r\n' % i for i in range(10000)) + b"--B--"
    ex = post(body, "multipart/form-data; boundary=B")
    assert "limit.inputs" in rules(ex)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("-B\r\n:;=\"abc xContent-Disposition")), max_size=300),
       st.integers(min_value=1, max_value=20))
def test_never_raises_respects_limits_deterministic(text, max_inputs):
    first, second = parse_twice("multipart", text, Where("multipart", params={"boundary": "B"}), max_inputs=max_inputs)
    assert first == second
    assert len(first[0]) <= 3 * max_inputs
