"""Attack families that bench/tool_corpus.py (sqlmap templates, wfuzz lists) showed missed, with look-alikes."""
from __future__ import annotations

import pytest

from extauthz.decode import Input
from extauthz.detect.path_traversal import PathTraversal
from extauthz.detect.pathnorm import resolve
from extauthz.detect.sql_tokens import NAME, tokenize
from extauthz.detect.sqli import analyse, looks_binary
from extauthz.finding import Severity


def blocks(value: str) -> bool:
    v = analyse(value)
    return v is not None and v.severity >= Severity.HIGH


SQLI = [
    # Informix database:table names (sqlmap's Informix payloads read sysmaster:sysdual)
    "(SELECT COUNT(*) FROM SYSMASTER:SYSPAGHDR)",
    "(SELECT (CASE WHEN (2537=2537) THEN 96 ELSE 2537 END) FROM SYSMASTER:SYSDUAL)",
    "1 AND 3=(SELECT COUNT(*) FROM sysmaster:informix.systables)",
    "x' AND 1=(SELECT 1 FROM sysmaster:sysdual)--",
    # a value inside an SQL Server / Access [bracketed name] that closes it and goes on as SQL
    "books]-(SELECT 0 WHERE 3087=3087 AND ELT(9342=9342,SLEEP(5)))|[books",
    "books]-(SELECT 0 WHERE 6266=6266;CALL REGEXP_SUBSTRING(REPEAT(RIGHT(CHAR(1183),0),500000000),NULL))|[books",
    "name] FROM users; DROP TABLE users--",
    "col] = 1 UNION SELECT password FROM users--",
    # Firebird / Informix SELECT FIRST n SKIP m
    "(SELECT FIRST 1 SKIP 0 DISTINCT(RDB$USER) FROM RDB$USER_PRIVILEGES)",
    "IIF((ASCII_VAL(SUBSTRING((SELECT FIRST 1 SKIP 0 DISTINCT(RDB$USER) FROM RDB$USER_PRIVILEGES) FROM 4 FOR 1))>112),"
    "(SELECT COUNT(*) FROM RDB$FIELDS AS T1,RDB$TYPES AS T2,RDB$COLLATIONS AS T3),0)",
    "1 AND (SELECT FIRST 1 name FROM users)='a'",
    "(SELECT LIMIT 0 1 DISTINCT(user) FROM INFORMATION_SCHEMA.SYSTEM_USERS ORDER BY user)",  # HSQLDB
    "1 AND (SELECT SKIP 0 LIMIT 1 USERNAME FROM SYSUSERS ORDER BY USERNAME)='a'",  # Informix
    # sqlmap --tamper=modsecurityversioned: MySQL reads five version digits, the rest is code ("/*!30274" "6561")
    "blue',(SELECT /*!340173847 FROM (SELECT EXP(~(SELECT * FROM (SELECT CONCAT('qxzzq',(SELECT DISTINCT(grantee) "
    "FROM INFORMATION_SCHEMA.USER_PRIVILEGES LIMIT 0,1),'qxppq','x'))x)))s)*/-- fBxy",
    # --tamper=between on a boolean used as a number ("(8362=9139)*9139")
    "(1274 BETWEEN 1274 AND 1274)*106", "(1274 NOT BETWEEN 0 AND 1274)*106",
    # a value between two concatenations the application's query completes ("'x'+<value>+'y'")
    "smith+(SELECT 'pHHu' WHERE 7972=7972 AND 1328 IN (SELECT ('qxzzq'+(SELECT (CASE WHEN (1328=1328) THEN '1' ELSE "
    "'0' END))+'qxppq')))+",
    # sqlmap --tamper=space2hash: "#" + random letters + newline as the blank (MySQL comment to end of line)
    "admin')))#gLKY\nUNION#Oewz\nALL#ncIl\nSELECT#FSeR\nNULL,NULL,CONCAT('qxzzq','ilvEnZwW','qxppq')#",
    "blue')#rILf\nAND#PgsP\n5366=5366#x\nAND#y\n('a'#z\nLIKE#w\n'a",
    "1#abc\nAND#def\nSLEEP(5)",
    # --tamper=space2mssqlblank: control characters \x01-\x1f as blanks (SQL Server reads them so)
    "admin'))\x04OR\x02(SELECT\x055557\x03FROM\x0e(SELECT(SLEEP(5)))GxrS)\x08AND\x04(('uxJz'\x08LIKE\x08'uxJz",
    "1\x01UNION\x02ALL\x03SELECT\x04NULL,NULL,password\x05FROM\x06users--",
    # sqlmap's "-- <random word>" comment after a blank tamper turned its blank into a line break
    "admin'\nORDER\nBY\n7--\naPIP", "125\x0cORDER\rBY\n4--\nZplD", "196)--czyI\nORDER--tHCj\nBY--vkxN\n10----EWWv\nwBxu",
]

BENIGN = [
    "note:this is fine, select:all", "time: 10:30 from: home", "Re: meeting at 5:30 (room A)",
    "[link] (see notes) select the best", "[x] done; [ ] select a size", "see [1] and [2] for details",
    "see [docs] or [faq]; (select one)", "[WIP] drop the old table format (follow-up)",
    "the first 1 skip 2 select", "select first 10 results", "first 3 skip 1 then select",
    "#include\nint main() { return 0; }", "#hashtag\nselect your size", "tags: #summer\n#beach\nand more",
    "#todo\nupdate the docs and select a theme",
    "(5 between 1 and 10)*2 apples", "pages (10 between 5 and 20) - 3 more",
    "Google+", "I love C++", "version 2.0 -", "tea and cake +", "1 or 2 +", "select limit 10 items",
    "see the docs --\nthanks", "it's fine --\nJohn", "sorted, order by price --\nthanks a lot",
]


@pytest.mark.parametrize("value", SQLI)
def test_tool_sqli_families_block(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", BENIGN)
def test_tool_sqli_look_alikes_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


def test_informix_database_qualified_name_is_one_name() -> None:
    toks = tokenize("from sysmaster:sysdual where")
    assert [(t.kind, t.text) for t in toks[1:2]] == [(NAME, "sysmaster:sysdual")]
    # a keyword before the colon, a digit after it, a bind parameter: not a qualified name
    assert [t.text for t in tokenize("select:all")][:1] == ["select"]
    assert "10" in [t.text for t in tokenize("at 10:30")]
    assert [t.text for t in tokenize("where id = :id")][-1] == "id"


def test_bracketed_name_context_needs_its_closing_bracket() -> None:
    assert not blocks("books-(SELECT 0 WHERE 1=1 AND ELT(1=1,SLEEP(5)))|[books") or blocks(
        "books]-(SELECT 0 WHERE 1=1 AND ELT(1=1,SLEEP(5)))|[books")
    toks = tokenize("a]]b] or 1=1", "[")
    assert toks[0].kind == NAME and toks[0].text == "a]]b"


DET = PathTraversal()


@pytest.mark.parametrize("value", [
    "..%u2216..%u2216etc/passwd", "..\u2216..\u2216..\u2216etc/passwd", "..\uff3c..\uff3cwindows\uff3cwin.ini",
    "..\ufe68..\ufe68boot.ini",
])
def test_backslash_lookalikes_separate_like_a_backslash(value: str) -> None:
    findings = list(DET.scan_input(Input("query", "file", value)))
    assert any(f.severity >= Severity.HIGH for f in findings), findings


def test_backslash_lookalike_resolves_to_segments() -> None:
    r = resolve("..\u2216..\u2216etc/passwd")
    assert r.climb == 2 and r.segments == ("etc", "passwd")
    assert resolve("set\u2216subset").climb == 0  # a set difference in text climbs nowhere


@pytest.mark.parametrize("value", [
    "\x08\x96\x01\x12\x05hi\x1a\x03ab\x10\x01 or 1=1",  # protobuf: control characters side by side
    "\x00\x01\x02 union select \x03\x04",
])
def test_binary_data_stays_binary(value: str) -> None:
    assert looks_binary(value)


def test_hash_comment_needs_letters_then_a_newline() -> None:
    assert [t.kind for t in tokenize("a#Bltk\nb")] == [NAME, "c", NAME]
    assert "c" not in [t.kind for t in tokenize("#include <stdio.h>")]
    assert "c" not in [t.kind for t in tokenize("ITS#12\nx")]


@pytest.mark.parametrize("value", [
    "142%2C%28%S%E%L%E%C%T%20%28%C%A%S%E%20%W%H%E%N%20%281=1%29%20%T%H%E%N%20%S%L%E%E%P%285%29%20%E%N%D%29%29",
    "1%20%U%N%I%O%N%20%S%E%L%E%C%T%20password%20%F%R%O%M%20users",
])
def test_asp_percent_stripping_reaches_the_detector(value: str) -> None:
    """--tamper=percentage: no SQL word is visible before the lenient decoding, so the prefilter must pass it."""
    from extauthz.detect import REGISTRY, DetectorSet
    found = DetectorSet([REGISTRY["sqli"]()]).scan(None, [Input("query", "id", value, (), value)])
    assert any(f.severity >= Severity.HIGH for f in found), found


@pytest.mark.parametrize("value", ["%s%s%s", "100%s%d%x done", "%A%B%C", "50%off%now%ok"])
def test_format_strings_pass(value: str) -> None:
    assert not blocks(value)


def test_user_agent_language_items_are_no_commands() -> None:
    from extauthz.detect.cmdi import assess, user_agent_locales
    for ua in ("Opera/9.02 (Windows; U; nl)", "Opera/9.20 (X11; Linux i686; U; tr)",
               "Opera/9.80 (X11; Linux i686; U; tr-TR) Presto/2.2.15 Version/10.10", "Opera/9.00 (Windows NT 5.1; U; id)"):
        masked = user_agent_locales(ua)
        assert len(masked) == len(ua) and assess(masked, "header") is None, ua
    # only an item that is nothing but a code: a command line in a comment stays one
    for ua in ("Mozilla/5.0 (X11; nl /etc/passwd)", "Mozilla/5.0; nl /etc/passwd", "x (a; cat /etc/passwd)"):
        v = assess(user_agent_locales(ua), "header")
        assert v is not None and v.severity >= Severity.HIGH, ua
