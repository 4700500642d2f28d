"""Shared token streams and the folder's shortcuts give exactly what reading from scratch gives.

TokenStreams and _Folder.empty_statement / lone_operand only make the XSS detector's script readings
cheaper on long text; a difference in any token or any trick would change verdicts. The
properties run over text made of what the tokenizer's context decisions turn on: quotes,
slashes (regex or division), `-->` and `<!--`, line ends, escapes.
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.detect import js_fold
from extauthz.detect.js_fold import fold_js
from extauthz.detect.js_streams import TokenStreams
from extauthz.detect.js_tokens import tokenize_js

PIECES = ["a", "x ", "alert", "eval", "(", ")", "1", " ", "\n", "\r\n", "\u2028", "'", '"', "`", "/", "//", "/*",
          "*/", "-->", "<!--", "\\", "\\u0061", "+", "=", ";", ",", ".", "[", "]", "{", "}", "!", "<", ">", "in ",
          "if", "var ", "top", "name", "location", "'al'+'ert'", "$", "/x/", "-", "\u00e9", "@", "*"]
texts = st.lists(st.sampled_from(PIECES), max_size=80).map("".join)


@given(texts, st.lists(st.integers(min_value=0, max_value=200), max_size=8), st.integers(min_value=1, max_value=40))
@settings(max_examples=400, deadline=None)
def test_streams_equal_tokenizing_from_each_start(text: str, starts: list[int], limit: int) -> None:
    streams = TokenStreams(text, limit)
    for start in starts:
        start = min(start, len(text))
        assert streams.at(start) == tokenize_js(text, start, limit)


@given(texts, st.integers(min_value=0, max_value=60))
@settings(max_examples=300, deadline=None)
def test_continuing_after_a_token_is_reading_on(text: str, cut: int) -> None:
    whole = tokenize_js(text)
    head = whole[:cut]
    if head:
        assert head + tokenize_js(text, head[-1].end, len(whole), head[-1]) == whole


def test_a_stream_starting_inside_a_string_is_read_in_full() -> None:
    text = "it's a dog's life; alert(1)//'"
    streams = TokenStreams(text, 64)
    streams.at(0)
    assert streams.at(3) == tokenize_js(text, 3, 64)  # the apostrophe changes every later string


def test_streams_past_the_token_limit_are_topped_up() -> None:
    text = "a " * 100
    streams = TokenStreams(text, 16)
    streams.at(0)
    assert streams.at(6) == tokenize_js(text, 6, 16)
    assert len(streams.at(6)) == 16


def test_division_and_regex_decided_by_the_token_before() -> None:
    text = "x /a/ 1 ( /a/ 2"
    assert tokenize_js(text, 2)[0].kind == "r"  # at a stream's start "/" opens a regex
    x = tokenize_js(text)[0]
    assert tokenize_js(text, x.end, 1, x)[0].kind == "p"  # after a name it divides


def test_strings_with_escaped_quotes_end_at_the_real_quote() -> None:
    toks = tokenize_js("'a\\'b\\\\' c")
    assert toks[0].text == "a\\'b\\\\" and toks[1].text == "c"
    assert tokenize_js("'a\\")[0].text == "a\\"  # unclosed, a backslash last


def _fold_without_shortcut(tokens):
    folder = js_fold._Folder
    saved = folder.empty_statement, folder.lone_operand
    folder.empty_statement = lambda self, t: False
    folder.lone_operand = lambda self, t: js_fold._NOT_LONE
    try:
        return fold_js(tokens)
    finally:
        folder.empty_statement, folder.lone_operand = saved


FOLD_PIECES = PIECES + ["x=alert;x(1)", " the ", "word ", "a=", "'ev'", "[1].find(alert)", "location.hash",
                        "onerror=eval", "new ", "typeof ", "class ", "?", ":", "&&", "in", "instanceof ",
                        "'x'", "2 ", "`t`", "#"]


@given(st.lists(st.sampled_from(FOLD_PIECES), max_size=120).map("".join))
@settings(max_examples=400, deadline=None)
def test_folding_with_the_shortcut_finds_the_same(text: str) -> None:
    toks = tokenize_js(text)
    assert fold_js(toks) == _fold_without_shortcut(toks)


@given(st.lists(st.sampled_from(FOLD_PIECES), max_size=120).map("".join), st.integers(min_value=1, max_value=200))
@settings(max_examples=300, deadline=None)
def test_folding_with_the_shortcut_spends_the_same_steps(text: str, budget: int) -> None:
    toks = tokenize_js(text)
    saved = js_fold.MAX_STEPS
    js_fold.MAX_STEPS = budget  # the budget runs out inside statements the shortcut steps over
    try:
        assert fold_js(toks) == _fold_without_shortcut(toks)
    finally:
        js_fold.MAX_STEPS = saved


def test_folding_prose_stops_at_the_same_step_budget() -> None:
    toks = tokenize_js("the quick brown fox jumps over the lazy dog, " * 200 + "a=alert;a(1)", 0, 4096)
    assert fold_js(toks) == _fold_without_shortcut(toks) == []
    toks = tokenize_js("the quick brown fox " * 20 + "a=alert;a(1)")
    assert fold_js(toks) == _fold_without_shortcut(toks) != []
