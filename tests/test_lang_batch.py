"""cmd.exe statements (extauthz.lang.batch): the C-speed cut equals the character walk."""
from hypothesis import given, settings, strategies as st

from extauthz.lang.batch import MAX_STATEMENTS, _statements, _statements_walk, find_statement


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab &|\n\r(x%", max_size=600))
def test_cut_equals_walk(text):
    assert _statements(text) == _statements_walk(text)


def test_cut_equals_walk_past_the_statement_limit_and_length():
    for text in ("a&" * 3000, "a & b\n" * (MAX_STATEMENTS + 5), "x" * 5000 + "&y", "&&&" + "z|" * 70 + "|||"):
        assert _statements(text) == _statements_walk(text[:4096])
        assert len(_statements(text)) <= MAX_STATEMENTS + 1


def test_a_nul_is_read_by_the_walk():
    text = "a\x00b & for %i in (x) do y"
    assert _statements(text) == _statements_walk(text) == [(0, "a\x00b "), (5, " for %i in (x) do y")]
    assert find_statement(text, lambda w: False) is not None
