import base64
from urllib.parse import quote_plus, unquote_plus

from hypothesis import given, settings, strategies as st

from decode_helpers import collector
from extauthz.decode.collector import MAX_PIECES, Collector, _pieces
from extauthz.decode.limits import DecodeLimits
from extauthz.decode.wire import FORM
from extauthz.finding import Severity, Source


def inputs(c: Collector):
    return [(i.value, i.chain) for i in c.inputs]


def test_plain_value_fast_path():
    c = collector()
    c.add("query", "q", "shoes")
    assert inputs(c) == [("shoes", ())]


def test_variants_before_entities_and_base64_are_kept():
    c = collector()
    c.add("query", "h", "%26lt%3Bb%26gt%3B", wire=FORM)
    assert inputs(c) == [("&lt;b&gt;", ("percent",)), ("<b>", ("percent", "html"))]
    c = collector()
    token = base64.b64encode(b"<script>alert(1)</script>").decode()
    c.add("cookie", "t", token)
    assert inputs(c) == [(token, ()), ("<script>alert(1)</script>", ("base64",))]


def test_layer_limit():
    c = collector(max_layers=2)
    c.add("query", "x", "%25252527")
    assert c.inputs[-1].chain == ("percent", "percent") and c.inputs[-1].value == "%2527"
    (f,) = c.findings()
    assert f.rule == "limit.layers" and f.severity == Severity.MEDIUM and f.source == Source.DECODER
    assert f.cls == "protocol" and f.location == "query:x"


def test_long_value_inspected_whole_in_overlapping_pieces():
    c = collector(max_value_bytes=200)
    c.add("form", "comment", "a" * 500 + "' or 1=1--")
    assert all(len(i.value) <= 200 for i in c.inputs) and len(c.inputs) > 2
    assert c.inputs[-1].value.endswith("' or 1=1--")
    assert [f.rule for f in c.findings()] == ["limit.value-bytes"]


def test_long_value_middle_is_inspected():
    # 8 KiB of filler on both sides hid a payload in the middle when only a head and a tail were read
    payload = "<script>alert(1)</script>"
    c = collector(max_value_bytes=3000)
    c.add("json", "$.body", "x " * 2000 + payload + " y" * 2000)
    assert any(payload in i.value for i in c.inputs)


def test_a_value_longer_than_its_pieces_reach_says_so():
    c = collector(max_value_bytes=100)
    c.add("form", "comment", "a" * 5000 + "' or 1=1--")
    assert len(c.inputs) == MAX_PIECES and c.inputs[0].value == "a" * 100
    assert c.inputs[-1].value.endswith("' or 1=1--")  # the tail is always read
    assert [(f.rule, f.severity) for f in c.findings()] == [("limit.value-bytes", Severity.MEDIUM)]
    c.add("form", "next", "' or 1=1--")  # extraction goes on with the other values
    assert c.inputs[-1].value == "' or 1=1--"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab %4F1", min_size=65, max_size=400), st.integers(48, 96))
def test_pieces_cover_the_whole_value(raw, size):
    ps, whole = _pieces(raw, size)
    assert len(ps) <= MAX_PIECES and raw.endswith(ps[-1])
    if not whole:
        return
    assert all(len(p) <= size for p in ps) and raw.startswith(ps[0]) and raw.endswith(ps[-1])
    overlap = size // 4 - 2  # less the at most two characters a cut moves to keep %XX whole
    for i in range(len(raw) - overlap + 1):  # every stretch as long as the overlap lies whole in a piece
        assert any(raw[i:i + overlap] in p for p in ps)


def test_total_bytes_and_item_limits_stop_extraction():
    c = collector(max_total_bytes=100)
    for i in range(10):
        c.add("query", f"a{i}", "x" * 30)
    assert len(c.inputs) == 3 and c.stopped == "total-bytes"
    c = collector(max_inputs=3)
    for i in range(10):
        c.add("query", f"a{i}", "x")
    assert len(c.inputs) == 3 and c.stopped == "inputs"
    assert [f.rule for f in c.findings()] == ["limit.inputs"]


def test_time_limit_is_on_cpu_time_not_wall_time():
    wall, cpu = [0.0], [0.0]
    c = Collector(DecodeLimits(time_budget_ms=5), clock=lambda: wall[0], cpu_clock=lambda: cpu[0])
    c.add("query", "a", "1")
    wall[0] = 1.0  # a second of waiting (GIL, load): not the request's doing
    c.add("query", "b", "2")
    assert [i.name for i in c.inputs] == ["a", "b"] and not c.findings()
    cpu[0] += 0.004
    wall[0] += 0.004
    c.add("query", "c", "3")
    cpu[0] += 0.002  # now past one budget of CPU since the wall deadline passed
    wall[0] += 0.002
    c.add("query", "d", "4")
    assert [i.name for i in c.inputs] == ["a", "b", "c"]
    assert [f.rule for f in c.findings()] == ["limit.time"] and c.findings()[0].severity == Severity.MEDIUM


def test_null_byte_found_after_decoding():
    c = collector()
    c.add("query", "f", "x.php%00.jpg", wire=FORM)
    assert c.inputs[0].value == "x.php\x00.jpg"
    assert [f.rule for f in c.findings()] == ["decode.null-byte"]


def test_anomalies_once_per_rule_with_count_and_excerpt_redacted_for_secrets():
    c = collector()
    c.add("query", "password", "%c0%af", wire=FORM)
    c.add("query", "b", "%c0%ae", wire=FORM)
    (f,) = c.findings()
    assert f.rule == "decode.overlong-utf8" and "2 times" in f.detail and f.excerpt == "[redacted]"


def test_nested_depth_limit():
    c = collector(max_depth=2)
    inner = base64.b64encode(b'{"a": "x"}').decode()
    c.add("query", "d", '{"b": {"c": {"d": "%s"}}}' % inner, depth=0)
    assert any(f.rule == "limit.depth" for f in c.findings())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.integers(min_value=0, max_value=8), st.integers(min_value=16, max_value=200))
def test_any_value_never_raises_bounded_and_deterministic(text, layers, max_value):
    runs = []
    for _ in range(2):
        c = collector(max_layers=layers, max_value_bytes=max_value)
        c.add("query", "q", text, wire=FORM)
        runs.append((c.inputs, [(f.rule, f.location) for f in c.findings()]))
        for inp in c.inputs:
            assert len(inp.chain) <= layers + 2  # + the wire's plus and percent
    assert runs[0] == runs[1]
    assert len(runs[0][0]) <= 6  # ≤ 3 variants of each of head and tail


def test_a_nul_cutting_a_file_name_from_its_extension_is_high():
    """`shell.php\x00.jpg`: the upload/include truncation, in a JSON member as in a query."""
    for v in ("shell.php\x00.jpg", "../../etc/passwd\x00.png", "report.pdf\x00.txt"):
        c = collector()
        c.add("json", "$.file", v)
        assert [(f.rule, f.severity) for f in c.findings()] == [("decode.null-byte", Severity.HIGH)], v
    for v in ("abc\x00", "x\x00y", "\x00\x01\x02\x03", "a\x00.toolongext", "\x00.jpg"):
        c = collector()
        c.add("json", "$.data", v)
        assert [(f.rule, f.severity) for f in c.findings()] == [("decode.null-byte", Severity.MEDIUM)], v


def test_pieces_start_after_a_tag_a_line_or_a_blank():
    """A piece that starts inside a tag shows its attributes without their element: the
    `href="../../core/x.html"` of a page read as a climb. Pieces start after a tag end or
    a line break within reach (as sent or percent-encoded), else after a blank."""
    row = '<li><a class="enum" href="../../core/option/enum.Option.html" title="enum core">Option</a></li>\n'
    for raw in (row * 400, quote_plus(row * 400)):
        ps, whole = _pieces(raw, 16384)
        assert whole and len(ps) > 1
        for p in ps[1:]:
            # after a tag end: the next tag or the link's text; after a line break: the next row
            assert unquote_plus(p).startswith(("<", "Option")), p[:40]
    words = "word " * 5000
    assert all(p.startswith("word") for p in _pieces(words, 4096)[0])
