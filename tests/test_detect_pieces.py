"""A long value's forms are read around what they changed (extauthz.detect.pieces)."""
from __future__ import annotations

from extauthz.detect import sqli, xss
from extauthz.detect.pieces import PIECE_MIN, RADIUS, changed_pieces
from extauthz.detect.xss_variants import variants as xss_variants
from extauthz.finding import Severity

PROSE = ("The committee reviewed the quarterly figures and agreed that the build should move "
         "to the new runners, as it was planned in spring. ") * 40


def test_short_values_keep_their_forms_whole():
    v = "a+b " * 100
    assert len(v) < PIECE_MIN and changed_pieces(v, v.replace("+", " ")) is None


def test_a_replaced_character_gives_one_stretch_around_it():
    v = PROSE[:2000] + " C++ " + PROSE[:2000]
    form = v.replace("+", " ")
    got = changed_pieces(v, form)
    assert got is not None and len(got) == 1
    piece, original = got[0]
    assert "C   " in piece and "C++" in original and len(piece) == len(original)
    assert RADIUS < len(piece) <= 2 * RADIUS + 64 + 2
    start = form.find(piece)
    assert start == v.find(original) and form[start - 1] == " "  # edges at blanks: words stay whole
    assert form[start + len(piece)] == " "


def test_removed_text_maps_back_to_the_value():
    v = PROSE[:1500] + " un/**/ion sel/**/ect " + PROSE[:1500]
    form = v.replace("/**/", "")
    (piece, original), = changed_pieces(v, form)
    assert "union select" in piece and "un/**/ion sel/**/ect" in original
    assert original.replace("/**/", "") == piece


def test_separate_changes_give_separate_stretches():
    v = PROSE[:1200] + " a+b " + PROSE[:1500] + " c+d " + PROSE[:1200]
    got = changed_pieces(v, v.replace("+", " "))
    assert got is not None and [("a b" in p, "c d" in p) for p, _ in got] == [(True, False), (False, True)]


def test_changes_over_most_of_the_form_read_it_whole():
    v = "a+b c+d " * 400
    assert changed_pieces(v, v.replace("+", " ")) is None


def test_a_form_that_is_not_the_value_with_characters_removed_is_read_whole():
    v = PROSE[:3000]
    assert changed_pieces(v, v[:100] + "\u2603" + v[200:]) is None
    assert changed_pieces(v, v + "x") is None


def test_a_long_values_sql_forms_are_short_stretches():
    doc = PROSE[:1500] + " in C++ and a + b " + PROSE[:1500]
    originals: dict[str, str] = {}
    forms = sqli.variants(doc, None, originals)
    assert forms[0] == doc and len(forms) == 2 and len(forms[1]) < 400
    assert originals[forms[1]] in doc and "C++" in originals[forms[1]]


def test_sql_injection_spelt_with_plus_blanks_inside_a_long_text():
    doc = PROSE[:3000] + " 1'+and+'1'='1 " + PROSE[:1500]
    got = sqli.analyse(doc)
    assert got is not None and got.severity >= Severity.HIGH and len(got.form) < 400
    assert "1' and '1'='1" in got.form


def test_a_stretch_that_reads_so_without_the_change_counts_as_the_value_read():
    """A tutorial quoting payloads: a stretch around its `+` (string concatenation in a code
    line) holds the quoted payload lines, which read as an injection on their own, `+` or not.
    The value's own reading judged that text; the "+" form adds only what "+" changed."""
    intro = ("A query built by pasting strings together takes whatever the user typed as part of its "
             "own text, and the database cannot tell the two apart. ") * 9
    mid = ("Imagine that instead of entering 'susan' the attacker entered ' or 1=1; --.\n\n"
           "The statement is now select * from person where name='' or 1=1; and it returns every row.\n\n"
           "A program may build the statement like this:\n\n"
           "var statement = \"SELECT * FROM users WHERE name = '\" + userName + \"'\";\n\n"
           "Setting the userName variable as:\n\n' OR '1'='1\nor ending the query with a comment. "
           "Each line has a blank at its end:\n\n' OR '1'='1' --\n' OR '1'='1' /* \nreturns all rows. ")
    doc = intro + mid + intro
    originals: dict[str, str] = {}
    pieces = sqli.variants(doc, None, originals)[1:]
    # a stretch alone reads as injection, as its text does without the "+" form's change
    found = [sqli._grades(p) for p in pieces]
    assert any(g.get("tautology", -1) >= Severity.HIGH for g in found)
    assert any(sqli._grades(originals[p]).get("tautology", -1) >= Severity.HIGH for p in pieces)
    assert not sqli._grades(doc)
    # What finds the quoted payloads is the text as sent, read from where they break out
    # (sqli.embedded: a working payload quoted in prose is one), not the "+" form's change.
    got = sqli.analyse(doc)
    assert got is not None and got.severity >= Severity.HIGH and got.form in doc and got.form[:1] == "'"


def test_xss_forms_of_a_long_value_are_stretches_with_their_originals():
    doc = PROSE[:2000] + " it\u2019s the team\u2019s call. " + PROSE[:2000]
    forms = xss_variants(doc)
    assert forms[0].text == doc and forms[0].original is None
    assert len(forms) >= 2 and all(len(f.text) < 600 and f.original in doc for f in forms[1:])


def test_filler_stripped_markup_inside_a_long_text_is_found_in_its_stretch():
    for payload, stripped in (("<scr[x]ipt>alert(1)</scr[x]ipt>", "<script>alert(1)</script>"),
                              ('<a href="java[\\r]script:alert(1)">x</a>', '<a href="javascript:alert(1)">x</a>'),
                              ("<scr/**/ipt>alert(1)</scr/**/ipt>", "<script>alert(1)</script>")):
        got = xss.analyse(PROSE[:3000] + " " + payload + " " + PROSE[:1500])
        assert got is not None and got.severity == Severity.HIGH and got.rule == "script-tag" or \
            got.rule == "script-url", (payload, got)
        assert len(got.form) < 600 and stripped in got.form
