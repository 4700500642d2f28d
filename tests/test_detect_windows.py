"""Long values are read in overlapping windows (extauthz.detect.pipeline.windows)."""
from hypothesis import given, settings, strategies as st

from extauthz.decode import Input
from extauthz.detect.pipeline import WINDOW, WINDOW_OVERLAP, windowed, windows


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="ab \n'<", min_size=WINDOW + 1, max_size=4 * WINDOW), st.data())
def test_windows_cover_every_stretch_as_long_as_the_overlap(value, data):
    ws = windows(value)
    assert ws[0] == value[:len(ws[0])] and value.endswith(ws[-1])
    assert all(0 < len(w) <= WINDOW for w in ws)
    for _ in range(20):
        i = data.draw(st.integers(0, len(value) - WINDOW_OVERLAP))
        assert any(value[i:i + WINDOW_OVERLAP] in w for w in ws)


def test_windows_are_linear_in_the_value():
    value = "word " * 20_000  # 100 KB
    ws = windows(value)
    assert sum(map(len, ws)) <= len(value) * WINDOW / (WINDOW - WINDOW_OVERLAP) * 1.1


def test_windows_start_after_a_blank_so_words_stay_whole():
    value = "alpha beta gamma delta " * 400
    assert all(w.split(" ", 1)[0] in ("alpha", "beta", "gamma", "delta") for w in windows(value))


def test_short_values_are_passed_through_untouched():
    inputs = [Input("query", "q", "x" * WINDOW), Input("json", "$.a", "y")]
    assert windowed(inputs) is inputs
    long = Input("json", "$.body", "z " * WINDOW, ("percent",), "raw", "value")
    out = windowed([long, inputs[1]])
    assert all(i.location == "json:$.body" and i.chain == ("percent",) for i in out[:-1])
    assert out[-1] is inputs[1] and len(out) > 2
