"""SQL injection families recognised in session 5 (dev split misses), each with benign look-alikes."""
from __future__ import annotations

import pytest

from extauthz.decode import Input
from extauthz.detect import REGISTRY, DetectorSet
from extauthz.detect.sql_tokens import NAME, F_QUOTED_NAME, tokenize
from extauthz.detect.sqli import analyse
from extauthz.finding import Severity


@pytest.fixture(scope="module")
def ds() -> DetectorSet:
    return DetectorSet([REGISTRY["sqli"]()])


def blocks(value: str) -> bool:
    v = analyse(value)
    return v is not None and v.severity >= Severity.HIGH


def severity(value: str) -> Severity | None:
    v = analyse(value)
    return None if v is None else v.severity


ATTACKS = [
    # back-quoted qualified names in clauses: MySQL reads `db`.`tbl` as one name
    "from `db_miwf`.`sys_refindex` limit", "from `shop`.`orders` where id=1",
    "FROM `oxattribute` WHERE CONVERT(`oxattribute`.`OXID` USING utf8) = 1",
    "1' union select 1 from `information_schema`.`tables`--",
    # keywords split by comments (a filter that deletes comments joins them), with another joint
    "DR/**/OP/*bypass deny listing*/sampletable", "SEL/*x*/ECT/**/password", "de/**/lete/**/from users",
    # the branches of a CASE after the value closed its operand
    ") when 234 then", ")when 1 then 2 else 3 end--", "x' when 1=1 then 1 else 0 end--",
    "1) when 1 then sleep(5) end--",
    # a condition opened with AND/OR that closes the application's group or opens one
    "AND uid!=(", "AND deleted = 0)", "or id=(", "or role in (", "or price < (10",
    # C1 control characters (what is left of a mangled quote) separate tokens
    "a\x80\x98 or 1=1 --",
    # PostgreSQL COPY to a file or program (unquoted path after a query)
    "copy users to '/tmp/x'", "1; copy users to stdout", "select * from myfile;copy myfile to /tmp/test;",
    # after the quote a connective, then a group that opens with SELECT or a comparison word, then a comment
    "'or(glob 1)--", "1'or(regexp 1)#", "admin@juice-sh.op' and email ! all (select email)--",
    "x' or ! (select 1)--",
    # a VALUES list completed by the value, with a tautology in it
    "'admin', '1'='1'", "'x', 'a'='a'--",
    # the shapes those prose fixes must keep
    "create user name identified by pass123 temporary tablespace temp", "1 create table x (a int)",
    "1; set @x = 1", "1; set x = 1", "1' limit 1--", "1 limit ?", "1' limit @x--", "' limit (select 1)--",
    "select * from sys.dba_users", "1' union select name from sys.objects--", "sysusers where 1=1",
    # the probes those documentation fixes must keep
    "'--", "'#", "' -- -", "'-- abcd", "'+'", "x'+'y", "'abc'::int", "function(foo)::text", "version()::int",
    # NULL as SQL's literal
    "x' or null--", "admin' or null#", "some text here' or null--", "1' and null is null--",
    # catalogue column names with a catalogue
    "table_name FROM all_tables", "1' union select table_name from information_schema.tables--",
]

BENIGN = [
    # back ticks in Markdown and shell snippets
    "use `git log` to list", "from `README.md`", "Use `git`.`log` limit", "run `make` from `src`",
    # comments without a split keyword; split words that are not SQL
    "foo/**/bar/**/baz", "a/* comment */b", "/* see */ select a size", "ma/**/ke",
    # CASE words in prose
    "(see above) when 5 then", ") when you are ready then go", "He said 'stop' when 5 then", ") when",
    "when 234 then",
    # AND/OR in prose with parentheses and equals signs
    "and we are happy (very)", "and x = 1 (see above)", "and the result = (a+b)", "or (maybe) not",
    "Tom and Jerry (cartoon)", "and (x)", "and so on)",
    # package descriptions (bench/prose_corpus.py): COPY in English, shebangs and Rust attributes
    # in back ticks, the catalogue's column names as words and field lists
    "Copy websites to your computer (Offline browser)", "copy files to remote hosts using WinRM (Go library)",
    "Copy files to /tmp first", "Done; copy files to /tmp", "`#![no_std]` compatibility layer",
    "`#!/bin/sh` scripts", "'#[derive]' macros", "schemata and defaults for the INSDC Sequence",
    "column_name, table_name", "table_name and more",
    # Debian changelog lines (bench/prose_corpus.py --source changelogs): statements, catalogues and
    # LIMIT in English
    "Prevent CREATE SCHEMA from defeating changes in search_path (Report and fix by Alexander Lakhin)",
    "kernel/sys.c: fix and improve control flow in __sys_setres[ug]id()", "mysql.h: fix and clean up",
    "sysusers: split up systemd.conf (Closes: #990349)", "Set ABI to 1", "Set x = 5",
    "Set branch to `experimental' in Vcs-Git.", "portable LIMIT emulation",
    "net: core: reduce recursion limit value", "Accept only offset channels",
    # quotes, connectives, parentheses and dashes in prose
    "Jones' and Smith's (eds.) work -- see", "He said 'no' or (select one) --", "O'Neil or (like me) --",
    "Jones' or (maybe) not --", "'a', 'b'='c'", "'x', 'y'", "'key', 'value'", "cats' or (like dogs) --",
    "user's (select) -- list", "Mc'Donald or (someone) --",
    # code snippets and notes that name SQL
    "// TODO: read `users`.`id` from the cache", "see `db`.`table` in the docs", "/* select */ x",
    "SQL: SELECT name FROM users WHERE id = ?", "Tip: use ORDER BY with LIMIT 10", "the `from` and `limit` options",
    "It's a case when 1 then 2", "(optional) when ready then go", "and/or (optional)", "and price != (see list)",
    "Don't DR/**/OP it", "a/**/b/**/c", "sys.conf and more", "mysql.cnf or my.cnf",
    # documentation quoting symbols and comment markers (Python docstrings, /usr/share/doc)
    "'# of frames cannot be negative'", '" -- " is omitted when lsof finds all the path name components',
    "'-- this is a comment'", '"-" means the transformation is not supported.', '"+" identifies entries where',
    "'and *other*", "'   or *sequence*.  When indexed by a Unicode ordinal",
    "sym1='print-file-var-main.c'::this_version_id", "'abc'::text",
    # "None" is a word, not SQL's NULL (the rule file's null was read by YAML as None); a NULL in prose
    "cursor: CURSOR or None", "atom: ATOM or None", "focus: WINDOW or PointerRoot or None",
    "the file descriptor `fd' or NULL if `fd' does not refer",
]


@pytest.mark.parametrize("value", ATTACKS)
def test_session5_families_block(value: str) -> None:
    assert blocks(value), analyse(value)


@pytest.mark.parametrize("value", BENIGN)
def test_session5_look_alikes_pass(value: str) -> None:
    assert not blocks(value), analyse(value)


@pytest.mark.parametrize("value", ["UN/**/ION", "or/**/der", "and x != y", "and (x = 1)"])
def test_one_evasive_joint_or_a_bare_condition_is_only_suggestive(value: str) -> None:
    assert severity(value) is Severity.MEDIUM, analyse(value)


def test_rule_words_that_yaml_reads_as_values_stay_words() -> None:
    kinds = {t.text: t.kind for t in tokenize("null on none true")}
    assert kinds == {"null": "L", "on": "k", "none": NAME, "true": "L"}


def test_back_quoted_parts_read_as_one_qualified_name() -> None:
    toks = tokenize("from `db`.`tbl`.col limit 1")
    assert (toks[1].kind, toks[1].text) == (NAME, "db.tbl.col") and toks[1].flags & F_QUOTED_NAME
    assert toks[2].text == "limit"
    # an unclosed part stays outside the name
    toks = tokenize("`a`.`b")
    assert toks[0].text == "a" and toks[0].end == 3


@pytest.mark.parametrize("key", ["' union/", "; select", "'alter a", "\" UNION A"])
def test_statement_fragments_in_member_names_block(ds: DetectorSet, key: str) -> None:
    as_key = ds.scan(None, [Input("json", f"$['{key}']", key, (), key, role="key")])
    as_value = ds.scan(None, [Input("json", "$.q", key, (), key)])
    assert [f.severity for f in as_key if f.cls == "sqli"] == [Severity.HIGH]
    assert [f.severity for f in as_value if f.cls == "sqli"] == [Severity.MEDIUM]


@pytest.mark.parametrize("key", ["O'Brien", "it's; select one", "'quoted'", "; sort", "user's choice"])
def test_member_names_with_quotes_pass(ds: DetectorSet, key: str) -> None:
    found = ds.scan(None, [Input("json", f"$['{key}']", key, (), key, role="key")])
    assert not [f for f in found if f.cls == "sqli" and f.severity >= Severity.HIGH]


@pytest.mark.parametrize("value", ATTACKS)
def test_session5_families_pass_the_trigger_prefilter(ds: DetectorSet, value: str) -> None:
    found = ds.scan(None, [Input("query", "q", value, (), value)])
    assert [f for f in found if f.cls == "sqli" and f.severity >= Severity.HIGH], found
