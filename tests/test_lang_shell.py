"""The shell tokenizer: structure it reports, evasions it undoes, limits it keeps."""
from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.budget import request_cpu
from extauthz.lang.glob import glob_match
from extauthz.lang.shell import MAX_INPUT, expand_braces, tokenize


def commands(value: str, prefix: str = "") -> list[tuple[str, str, list[str]]]:
    script = tokenize(value, prefix)
    return [(c.context, c.sep, [w.text for w in c.words]) for c in sorted(script.commands, key=lambda c: c.start)]


def test_separators_start_new_commands():
    assert commands("a;id") == [("start", "", ["a"]), ("sep", ";", ["id"])]
    assert [c[1] for c in commands("x && y || z | w & v\nu")] == ["", "&&", "||", "|", "&", "\n"]


def test_substitutions_are_commands_in_subst_context():
    cmds = commands("echo $(cat /etc/passwd) `id`")
    assert ("subst", "$(", ["cat", "/etc/passwd"]) in cmds
    assert ("subst", "`", ["id"]) in cmds


def test_quotes_inside_a_word_are_removed_and_marked():
    script = tokenize("c'a't /e\"t\"c/pa\\sswd")
    first, second = script.commands[0].words
    assert (first.text, first.broken) == ("cat", True)
    assert (second.text, second.broken) == ("/etc/passwd", True)


def test_whole_quoted_word_is_not_broken():
    w = tokenize("'whoami'").commands[0].words[0]
    assert (w.text, w.whole_quoted, w.broken) == ("whoami", True, False)


def test_empty_expansions_vanish_from_the_text():
    w = tokenize("c$@at").commands[0].words[0]
    assert w.text == "cat" and w.broken and w.expansions == ["@"]


def test_ifs_splits_words():
    assert commands("cat${IFS}/etc/passwd") == [("start", "", ["cat", "/etc/passwd"])]
    assert commands("cat$IFS/etc/passwd") == [("start", "", ["cat", "/etc/passwd"])]


def test_assignments_and_redirections():
    script = tokenize("a=curl b='x y' cmd 2>&1 >/tmp/out")
    cmd = script.commands[0]
    assert cmd.assignments == [("a", "curl"), ("b", "x y")]
    assert [w.text for w in cmd.words] == ["cmd"]
    assert [(r.op, r.target.text) for r in cmd.redirects] == [(">&", "1"), (">", "/tmp/out")]


def test_ansi_c_quoting_is_decoded():
    assert tokenize("$'\\x77hoami'").commands[0].words[0].text == "whoami"


def test_quote_prefix_reads_after_the_closing_quote():
    cmds = commands("x'; id #", prefix="'")
    assert cmds[0] == ("start", "", ["x"])
    assert cmds[1] == ("sep", ";", ["id"])
    # offsets are in the value's coordinates
    script = tokenize("x'; id", prefix="'")
    assert script.source == "x'; id"
    assert script.source[script.commands[1].words[0].start:script.commands[1].words[0].end] == "id"


def test_groups_and_comments():
    assert commands("(id)") == [("group", "(", ["id"])]
    assert commands("echo hi # ; rm -rf /") == [("start", "", ["echo", "hi"])]
    assert commands("a#b;c")[0] == ("start", "", ["a#b"])  # '#' inside a word is not a comment


def test_empty_substitution_inside_a_word():
    assert tokenize("pi$()ng").commands[0].words[0].text == "ping"
    assert tokenize("pi``ng").commands[0].words[0].text == "ping"
    assert tokenize("pi<()ng").commands[0].words[0].text == "ping"


def test_brace_expansion():
    assert expand_braces("{cat,/etc/passwd}") == ["cat", "/etc/passwd"]
    assert expand_braces("c{a,oun}t") == ["cat", "count"]
    assert expand_braces("{,ifconfig}") == ["ifconfig"]
    assert expand_braces("{" * 50 + "a,b" + "}" * 50)  # bounded, terminates
    assert len(expand_braces("{a,b}{c,d}{e,f}{g,h}{i,j}", limit=16)) <= 16


def test_glob_match():
    assert glob_match("c?t", "cat")
    assert glob_match("/???/c?t", "/bin/cat")
    assert glob_match("pa[s]swd", "passwd") and not glob_match("pa[!s]swd", "passwd")
    assert glob_match("[m-z]asswd", "passwd")
    assert glob_match("wh*mi", "whoami") and not glob_match("wh*mx", "whoami")
    assert not glob_match("*" * 200, "a")  # over the length cap: no match, no work


def test_unterminated_constructs_end_at_the_end():
    for v in ["'abc", '"abc', "$(abc", "`abc", "${abc", "$((1+", "$[1", "a\\"]:
        tokenize(v)


def test_limits_mark_truncation():
    assert tokenize("a;" * 5000).truncated
    assert tokenize("x" * (MAX_INPUT + 10)).truncated
    deep = "$(" * 100 + "id" + ")" * 100
    tokenize(deep)  # depth capped: no recursion error


_shellish = st.text(alphabet=st.sampled_from(list("ab c;|&$(){}`'\"\\<>#=*?[]!^%\n/-~0")), max_size=300)


@given(_shellish, st.sampled_from(["", "'", '"']))
@settings(max_examples=400, deadline=None)
def test_property_never_raises_and_is_deterministic(value, prefix):
    a = tokenize(value, prefix)
    b = tokenize(value, prefix)
    assert [(c.context, c.sep, [w.text for w in c.words]) for c in a.commands] == \
        [(c.context, c.sep, [w.text for w in c.words]) for c in b.commands]
    for c in a.commands:
        for w in c.words:
            assert 0 <= w.start <= w.end <= len(value) + 1


@given(st.text(max_size=2000))
@settings(max_examples=200, deadline=None)
def test_property_any_text(value):
    tokenize(value)


def test_bounded_time_on_hostile_input():
    for v in ["$(" * 4000, "'" * 8000, "{a," * 2000, "\\" * 8000, "`" * 8000, "${" * 4000, "a;" * 4000]:
        t0 = time.perf_counter()
        tokenize(v)
        assert time.perf_counter() - t0 < 0.5, v[:10]


def test_non_ascii_digits_in_arithmetic_and_substrings_do_not_raise():
    # "²".isdigit() is True but int("²") raises: a detector must never raise on input
    for value in ("echo $((\u00b2))", ";cat $((1\u00b2))", "echo ${PATH:0:\u00b2}", "echo ${PATH:0:" + "9" * 5000 + "}"):
        tokenize(value)


def test_brace_expansion_lookahead_is_bounded():
    """Each "{" looks for its "}" a short way only: a run of them before one distant close
    was quadratic (8 KiB took ~30 ms per reading; the engine reads a value several times)."""
    value = ")(uid=*a*" + "*{" * 1000 + "x" * 6000 + ",}"
    best = min(_cpu(tokenize, value) for _ in range(3))
    assert best < 0.010, f"{best * 1000:.1f} ms"
    assert tokenize("{cat,/etc/passwd}").commands[0].words[0].brace  # a real expansion is still seen


def _cpu(fn, value) -> float:
    t0 = request_cpu()
    fn(value)
    return request_cpu() - t0


def test_a_group_after_a_word_and_a_space_is_a_parenthetical():
    cmds = {c.words[0].text: c for c in tokenize("library (openssl) tools").commands}
    assert cmds["openssl"].parenthetical and cmds["tools"].parenthetical and not cmds["library"].parenthetical
    for src in ("(id)", "a;(id)", "request(\"cmd\")", "x\n(id)"):
        group = next(c for c in tokenize(src).commands if c.context == "group")
        assert not group.parenthetical, src
    inner = [c for c in tokenize("x (a; id)").commands if c.words[0].text == "id"]
    assert inner and not inner[0].parenthetical  # a separator inside still starts a command
