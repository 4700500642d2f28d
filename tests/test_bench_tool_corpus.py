"""bench/tool_corpus.py on a tiny fixture shaped like sqlmap's and wfuzz's data (neither package is needed)."""
from __future__ import annotations

import gzip
import json
import sys
import urllib.parse
from pathlib import Path

from extauthz.corpus import in_split, read_corpus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import tool_corpus as tc  # noqa: E402

BOUNDARIES = """<root>
<boundary><level>1</level><clause>1</clause><where>1,2</where><ptype>2</ptype>
  <prefix>'</prefix><suffix>AND '[RANDSTR]'='[RANDSTR]</suffix></boundary>
<boundary><level>1</level><clause>1-8</clause><where>1,2</where><ptype>1</ptype>
  <prefix>)</prefix><suffix>AND ([RANDNUM]=[RANDNUM]</suffix></boundary>
</root>"""

BOOLEAN = """<root><test>
  <title>AND boolean-based blind - WHERE or HAVING clause</title><stype>1</stype><level>1</level><risk>1</risk>
  <clause>1</clause><where>1</where><vector>AND [INFERENCE]</vector>
  <request><payload>AND [RANDNUM]=[RANDNUM]</payload></request>
  <response><comparison>AND [RANDNUM]=[RANDNUM1]</comparison></response>
  <details><dbms>MySQL</dbms></details>
</test>
<test>
  <title>MySQL time-based blind (comment)</title><stype>5</stype><level>1</level><risk>1</risk>
  <clause>1</clause><where>1</where><vector>AND SLEEP(IF([INFERENCE],[SLEEPTIME],0))</vector>
  <request><payload>AND SLEEP([SLEEPTIME])</payload><comment>#</comment></request>
  <response><time>[SLEEPTIME]</time></response><details><dbms>MySQL</dbms></details>
</test></root>"""

UNION = """<root><test>
  <title>Generic UNION query (NULL) - 1 to 10 columns</title><stype>6</stype><level>1</level><risk>1</risk>
  <clause>1,2,3</clause><where>1</where><vector>[UNION]</vector>
  <request><payload/><comment>[GENERIC_SQL_COMMENT]</comment><char>NULL</char><columns>1-10</columns></request>
  <response><union/></response>
</test></root>"""

QUERIES = """<root><dbms value="MySQL">
  <inference query="ORD(MID((%s),%d,1))>%d"/><banner query="VERSION()"/><current_user query="CURRENT_USER()"/>
</dbms></root>"""

SQL_TXT = "'\nselect\n' or 1=1--\nadmin'--\n' UNION ALL SELECT\n"
XSS_TXT = "<script>alert(1)</script>\n<IMG%20SRC=javascript:alert('X')>\n%3C\n"
TRAVERSAL_TXT = "../../../../etc/passwd%00\n..\\..\\boot.ini\n"
BAD_CHARS = "!\n'\n%0a\n<\n"
DIRTRAV = "# comment\n../{FILE}\n..%2f..%2f{FILE}\n"


def _fixture(tmp_path: Path) -> tuple[Path, Path]:
    sql = tmp_path / "sqlmap"
    (sql / "payloads").mkdir(parents=True)
    (sql / "boundaries.xml").write_text(BOUNDARIES)
    (sql / "queries.xml").write_text(QUERIES)
    (sql / "payloads" / "boolean_blind.xml").write_text(BOOLEAN)
    (sql / "payloads" / "union_query.xml").write_text(UNION)
    wf = tmp_path / "wfuzz"
    (wf / "Injections").mkdir(parents=True)
    (wf / "vulns").mkdir()
    (wf / "Injections" / "SQL.txt").write_text(SQL_TXT)
    (wf / "Injections" / "XSS.txt").write_text(XSS_TXT)
    (wf / "Injections" / "Traversal.txt").write_text(TRAVERSAL_TXT)
    (wf / "Injections" / "bad_chars.txt").write_text(BAD_CHARS)
    (wf / "Injections" / "All_attack.txt").write_text(SQL_TXT + XSS_TXT)  # duplicates of the others
    (wf / "vulns" / "dirTraversal.txt").write_text(DIRTRAV)
    return sql, wf


def test_sqlmap_templates_render_without_placeholders(tmp_path: Path) -> None:
    sql, _ = _fixture(tmp_path)
    payloads = tc.sqlmap_payloads(sql, per_test=2)
    texts = [p.text for p in payloads]
    assert texts and all("[" not in t for t in texts), texts
    assert len(texts) == len(set(texts))
    assert all(p.category == "sqli" for p in payloads)
    # the detection payload with a boundary: original value, prefix, payload, suffix
    assert any(t.startswith(("books' AND ", "admin' AND ", "blue' AND ", "smith' AND ")) or ") AND " in t for t in texts)
    # the comment replaces the suffix; the exploitation vector carries the DBMS's inference template
    assert any("SLEEP(5)#" in t for t in texts)
    assert any("ORD(MID((" in t for t in texts)
    assert any("UNION ALL SELECT" in t for t in texts) and any("ORDER BY" in t for t in texts)
    assert tc.sqlmap_payloads(sql, per_test=2) == payloads  # seeded: the same corpus on every run


def test_bind_spacing_follows_sqlmap() -> None:
    none: frozenset[int] = frozenset({1})
    assert tc.bind("'", "AND 1=1", "", "AND 'a'='a", 1, 1, none) == "' AND 1=1 AND 'a'='a"
    assert tc.bind("'", "AND 1=1", "-- x", "AND 'a'='a", 1, 1, none) == "' AND 1=1-- x"
    assert tc.bind("')", ";SELECT SLEEP(5)", "#", "", 1, 4, none) == "');SELECT SLEEP(5)#"
    assert tc.bind("'", "(SELECT 1)", "", "x", 3, 3, none) == "(SELECT 1)"


def test_escape_literals_per_dbms() -> None:
    assert tc.escape_literals("CONCAT('qzq','ab')", "MySQL") == "CONCAT(0x717a71,0x6162)"
    assert tc.escape_literals("'ab'", "PostgreSQL") == "(CHR(97)||CHR(98))"
    assert tc.escape_literals("'ab'", "Microsoft SQL Server") == "CHAR(97)+CHAR(98)"
    assert tc.escape_literals("'a b'", "MySQL") == "'a b'"


def test_wfuzz_fragments_are_kept_apart(tmp_path: Path) -> None:
    _, wf = _fixture(tmp_path)
    attacks, fragments = tc.wfuzz_payloads(wf, traversal_sample=10)
    lines = {p.template: p.category for p in attacks}
    assert lines["' or 1=1--"] == "sqli" and lines["admin'--"] == "sqli"
    assert lines["<script>alert(1)</script>"] == "xss"
    assert lines["../../../../etc/passwd%00"] == "lfi"
    assert any(t.startswith("../") and "{FILE}" not in t for t in lines)  # {FILE} filled
    frag = {p.template for p in fragments}
    assert {"'", "select", "%3C", "!", "%0a", "<"} <= frag
    assert not frag & set(lines)
    assert len(attacks) == len(lines)  # All_attack.txt duplicates dropped


def test_wire_form_keeps_encodings_and_json_gets_the_decoded_line() -> None:
    line = "<IMG%20SRC=javascript:alert('X')>"
    wire = tc.wire_form(line)
    assert "%20" in wire and " " not in wire and "<" not in wire
    assert urllib.parse.unquote(wire) == urllib.parse.unquote(line)
    assert tc.wire_form("' or username like '%") .endswith("%25")
    p = tc.Payload("wfuzz", tc.json_value(line), "xss", line, wire)
    body = json.loads(tc.requests_for(p)[2]["body"])
    assert "<IMG SRC=javascript:alert('X')>" in body.values()
    assert tc.json_value("..%c0%af..%c0%afetc/passwd") == "..%c0%af..%c0%afetc/passwd"  # not UTF-8: kept as sent


def test_corpus_file_reads_and_splits_by_template(tmp_path: Path) -> None:
    sql, wf = _fixture(tmp_path)
    payloads = tc.sqlmap_payloads(sql, per_test=2) + tc.wfuzz_payloads(wf, traversal_sample=10)[0]
    out = tmp_path / "tools.jsonl.gz"
    n = tc.write(str(out), payloads)
    assert n == 3 * len(payloads)
    records = list(read_corpus(out))
    assert len(records) == n and all(r.label == "attack" for r in records)
    assert {r.raw["placement"] for r in records} == {"query", "form", "json"}
    with gzip.open(out, "rt") as fh:
        ids = [json.loads(line)["id"] for line in fh]
    assert len(set(ids)) == n
    by_template: dict[str, set[bool]] = {}
    for p in payloads:
        for r in tc.requests_for(p):
            by_template.setdefault(p.template, set()).add(in_split(r["id"], "holdout"))
    assert all(len(sides) == 1 for sides in by_template.values())  # no template on both sides


def test_tampers_rewrite_as_sqlmap_documents(tmp_path: Path) -> None:
    import random
    rng = random.Random(1)
    tampers = tc._tampers(rng, tc.Filler(rng))
    assert tampers["space2comment"][0]("SELECT id FROM users") == "SELECT/**/id/**/FROM/**/users"
    assert tampers["between"][0]("1 AND A > B--") == "1 AND A NOT BETWEEN 0 AND B--"
    assert tampers["between"][0]("1 AND A = B--") == "1 AND A BETWEEN B AND B--"
    assert tampers["equaltolike"][0]("SELECT * FROM users WHERE id=1") == "SELECT * FROM users WHERE id LIKE 1"
    assert tampers["symboliclogical"][0]("1 AND '1'='1") == "1 && '1'='1"
    assert tampers["percentage"][0]("SELECT 1") == "%S%E%L%E%C%T%201"
    assert tampers["charunicodeencode"][0]("AB") == "%u0041%u0042" and tampers["charunicodeencode"][1]
    assert tampers["modsecurityzeroversioned"][0]("1 AND 2>1--") == "1 /*!00000AND 2>1*/--"
    assert tampers["sleep2getlock"][0]("AND SLEEP(5) OR DBMS_LOCK.SLEEP(5)").count("GET_LOCK") == 1
    sql, _ = _fixture(tmp_path)
    tampered = tc.tampered_payloads(tc.sqlmap_payloads(sql, per_test=2), per_tamper=2)
    assert {p.source for p in tampered} >= {"sqlmap-space2comment", "sqlmap-charencode"}
    wire_only = [p for p in tampered if p.wire_only]
    assert wire_only and all(len(tc.requests_for(p)) == 2 for p in wire_only)  # no JSON for URL encodings


def test_wapiti_placeholders_filled_and_bare_words_are_fragments(tmp_path: Path) -> None:
    root = tmp_path / "attacks"
    root.mkdir()
    (root / "blindSQLPayloads.txt").write_text("' or sleep([TIME])#1\n[VALUE] waitfor delay '0:0:[TIME]'--1\n")
    (root / "execPayloads.txt").write_text(";env;\nenv\na;sleep 60;[TIMEOUT]\n")
    (root / "xssPayloads.ini").write_text(
        "[a]\npayload = <SvG[LF]oNloAd=alert('__XSS__')>\ntag = svg\n"
        "[b]\npayload = [ATTR_SEP]autofocus[TAB]onfocus=[VALUE_SEP]alert(`__XSS__`)\ntag = x\n")
    attacks, fragments = tc.wapiti_payloads(root)
    texts = {p.text: p.category for p in attacks}
    assert "' or sleep(7)#1" in texts and "a;sleep 60;" in texts and ";env;" in texts
    assert all("[" not in t.replace("[ODBC", "") and "__XSS__" not in t for t in texts)
    assert any(t.startswith("<SvG\noNloAd=alert('w") for t in texts)
    assert {p.text for p in fragments} == {"env"}
    assert texts["' or sleep(7)#1"] == "sqli" and texts[";env;"] == "rce"
