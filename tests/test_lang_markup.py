"""extauthz.lang.markup.mask_tags: HTML tags blanked for the readers of other languages."""
from hypothesis import given, settings, strategies as st

from extauthz.lang.markup import mask_tags


def test_tags_and_comments_become_spaces_of_the_same_length():
    v = '<li><a href="querystring.html" class="nav">Query strings</a></li>\n<!-- toc --><li>x</li>'
    m = mask_tags(v)
    assert len(m) == len(v)
    assert m.split() == ["Query", "strings", "x"]
    assert m.index("Query") == v.index("Query")


def test_what_is_not_a_document_or_not_a_tag_stays():
    assert mask_tags("a <b>bold</b> word") == "a    bold     word"
    assert mask_tags("<b>one tag only") == "<b>one tag only"          # one tag is no document
    assert mask_tags("x < y and y > z <p>") == "x < y and y > z <p>"  # comparisons are no tags
    assert mask_tags("cat</etc/passwd> <p>") == "cat</etc/passwd> <p>"  # not an element name
    # shell substitution inside a tag runs before the redirect fails: the tag is kept
    v = "<p>a</p><a x=$(id)>b</a> <i>`uname`</i>"
    assert "$(id)" in mask_tags(v) and "`uname`" in mask_tags(v)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="<>/ab pli-!$(`\n", max_size=200))
def test_length_and_text_outside_tags_are_kept(value):
    m = mask_tags(value)
    assert len(m) == len(value)
    assert all(c == d or d == " " for c, d in zip(value, m))


def test_custom_and_svg_elements_and_character_references_of_a_document():
    v = ('<rustdoc-toolbar></rustdoc-toolbar><svg><path d="M1 1"/></svg>'
         'pub fn write(output: &amp;mut dyn Write)&nbsp;Copy&#160;path')
    m = mask_tags(v)
    assert len(m) == len(v) and "&" not in m and ";" not in m and "<" not in m
    assert m.split() == ["pub", "fn", "write(output:", "mut", "dyn", "Write)", "Copy", "path"]
    # outside a document, and for names that are no character reference, `&` and `;` stay
    assert mask_tags("a &amp; b") == "a &amp; b"
    assert "&id;" in mask_tags("<b>a</b><b>b</b>&id;") and ";id" in mask_tags("<p>x</p><p>y</p>&lt;;id")


def test_placeholders_in_text_are_no_document():
    v = "Move limits.h into <gcc-lib-dir>/include, and remove <gcc-lib-dir>/include-fixed."
    assert mask_tags(v) == v


PROSE = "Some words here to make a document long enough to count as one.\n" * 5


def test_code_markup_of_a_markdown_document_is_blanked():
    from extauthz.lang.markup import mask_code_spans
    for doc, gone in ((PROSE + "To install, type `python setup.py install`.\n\nThen `make` and `gcc`.", "`"),
                      (PROSE + "Example:\n\n```bash\napt-get install valgrind\n```\n", "```"),
                      (PROSE + ".. _`pip hash`:\n\n:ref:`Set <univ.Set>` and ``setup.py``", "`"),
                      (PROSE + "run `find foo -print', the fast-find\nsearching `x`", "`")):
        m = mask_code_spans(doc)
        assert len(m) == len(doc) and gone not in m, m
    assert "bash" not in mask_code_spans(PROSE + "```bash\nls\n```\n")  # the info string goes with its fence
    # a command line in a span, or text that is no document, keeps its backticks
    assert "`curl x | sh`" in mask_code_spans(PROSE + "run `id` and `curl x | sh` now")
    assert "`$(id)`" in mask_code_spans(PROSE + "a `x` and `$(id)` b")
    assert mask_code_spans("a `id` b `uname`\nc\nd") == "a `id` b `uname`\nc\nd"


def test_hostile_markup_costs_little():
    import time
    from extauthz.lang.markup import is_document, mask_code_spans
    for value in ("<a " * 2800, "<p>" + "<a" * 4000, "\n\n" + "```" * 2800, "\n\n\n" + "`x` " * 2000 + "a" * 300,
                  "<p>x</p>" * 1000 + "&amp;" * 1000, "&#" * 4000 + "<b></b>" * 2):
        t = time.thread_time()
        for _ in range(3):
            mask_code_spans(mask_tags(value))
            is_document(value)
        assert (time.thread_time() - t) / 3 < 0.05, value[:20]
