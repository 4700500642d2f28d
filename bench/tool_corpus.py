"""Build an attack corpus from the payload data of real attack tools (sqlmap, wfuzz, wapiti).

    sudo apt-get install -y sqlmap wfuzz wapiti   # Debian packages; their data only, nothing is run
    python bench/tool_corpus.py --out /tmp/tools.jsonl.gz \\
        [--tamper /tmp/tools-tamper.jsonl.gz] [--fragments /tmp/tools-fragments.jsonl.gz] \\
        [--agents /tmp/tools-agents.jsonl.gz]
    extauthz eval /tmp/tools.jsonl.gz /tmp/tools-tamper.jsonl.gz --split dev -j 1 --errors /tmp/tools-err.jsonl
    extauthz eval /tmp/tools.jsonl.gz /tmp/tools-tamper.jsonl.gz --split holdout -j 1   # the reported figure only

The corpus follows the installed packages' data: README's figures are for Debian 12's sqlmap
1.7.2-1, wfuzz 3.1.0-2 and wapiti 3.0.4+dfsg-2 (same versions: byte-identical files).

Why: the shared corpora are what detection was tuned on; attacks from another source
show where it does not generalise. Scanners are what a WAF meets most, and their
payloads are generated from templates, not written by hand.

sqlmap (/usr/share/sqlmap/data/xml): each <test> of payloads/*.xml is rendered the way
sqlmap's checks send it: a <boundary> whose clause and where match the test, its prefix,
a space (none before ';' or between brackets, as agent.prefixQuery does), the test's
request payload, then the test's comment or else the boundary suffix. where=1 keeps an
original value in front ("42 AND ..."), where=2 puts a negative number there, where=3
replaces the value. Placeholders get deterministic values from a seeded generator:
[RANDNUM*] four digits, [RANDSTR*] four letters, [SLEEPTIME] 5, [DELIMITER_*] sqlmap's
q???q markers, [GENERIC_SQL_COMMENT] '-- xxxx', [ORIGVALUE] the original value. Besides
the detection payload, the test's exploitation <vector> is rendered too, with
[INFERENCE] and [QUERY] filled from queries.xml (the DBMS's inference template around
its banner / current user / schema queries): that is what the bulk of an sqlmap run
sends once a parameter is found injectable. Quoted literals are escaped per DBMS as
sqlmap's unescaper does (MySQL 0x hex, PostgreSQL/Oracle CHR()||, SQL Server CHAR()+,
SQLite CHAR(a,b)) for half of the payloads. UNION tests become ORDER BY probes and
UNION ALL SELECT with NULL / number columns and one delimiter column. At most
--per-test boundaries per test (seeded choice), duplicates removed.

--tamper writes a second file: sqlmap payloads rewritten as its --tamper scripts do, the
evasions its users reach for against a WAF (our own code after each script's documented
before/after; see _tampers): blanks as comments, control characters, '#x\n' or '--x\n';
keyword case, comments and MySQL versioned comments; BETWEEN/GREATEST/LIKE for '>' and '=';
&& and ||; and URL-level encodings (charencode, chardoubleencode, %u, ASP's %S%E%L, overlong
UTF-8, fullwidth or NUL-prefixed apostrophes, a trailing %00) which only a query or a form
carries, so those get no JSON request. Up to 60 payloads per script; the source names the
script (`sqlmap-space2hash`), so per-script figures can be read from --errors ids.

--agents writes a benign corpus: each User-Agent of sqlmap's --random-agent list
(data/txt/user-agents.txt, 4,254 real browser and crawler strings) in an ordinary GET.

wfuzz (/usr/share/wfuzz/wordlist): Injections/*.txt, vulns/sql_inj.txt and (sampled)
vulns/dirTraversal*.txt with {FILE} filled. The lines are wire text (wfuzz substitutes
them raw into the URL: '%20' means a space), so in the query and the form body they are
sent as they are with only characters that cannot be raw percent-encoded; the JSON
member gets the line percent-decoded once (what an attacker would type; kept as it is when
the decoded bytes are not UTF-8, e.g. overlong '%c0%af'). Each line is
categorised by what it is (an XXE document in XML.txt is xxe, an LDAP filter in SQL.txt
is ldapi; `categorise`). Lines that are not an attack on their own are *fragments* and
are left out of --out: lines with no recognisable attack shape (no SQL condition or
statement, markup, traversal or file name, command, entity; e.g. "'test", 'now()',
'exec xp', '\\x27'), and after decoding 2 characters or fewer, only punctuation
(`<>"'%;)(&+`), or one bare word or number ('select', '@variable', '0xfffffff',
'prueba'); the whole of bad_chars.txt is single characters. --fragments writes them (labelled attack) to a
separate file so they can be counted. The server-product path lists in vulns/ (cgis,
iis, tomcat, ...) are left out: requesting /server-status is a probe, not a payload.

wapiti (/usr/lib/python3/dist-packages/wapitiCore/data/attacks, `apt-get install wapiti`; used
when present): blindSQLPayloads.txt (sqli; its JavaScript busy loop for MongoDB is nosqli),
execPayloads.txt (rce), fileHandlingPayloads.ini (lfi, rfi), xssPayloads.ini, xxePayloads.ini,
and the two payloads its modules write in code (mod_sql's error probe, mod_crlf's header). Its
placeholders are filled as its attack code does ([TIME] 7, [LF], [TAB], [VALUE] an original
value, __XSS__ a taint id, [ATTR_SEP] a quote or a blank, ...). Bare words ('env', 'set',
'index.php') are fragments. Its backup, buster, password and user lists are not payloads;
mod_ssrf and mod_redirect send plain external URLs, which no WAF can tell from a link.

Each payload becomes three requests: a query parameter, a form field and a JSON member
of an endpoint that fits the category (/products?id= for sqli, /download?file= for lfi,
...). Ids are `sqlmap:<sha1>.q|f|j` / `wfuzz:<sha1>.q|f|j`; the split (extauthz.corpus
in_split) is made by template (sqlmap test title, wfuzz line), and ids are salted so all
renderings of one template fall on the same side: holdout has templates never seen in dev.
"""
from __future__ import annotations

import argparse
import configparser
import gzip
import hashlib
import html
import json
import random
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from extauthz.corpus import in_split

SQLMAP_XML = Path("/usr/share/sqlmap/data/xml")
SQLMAP_AGENTS = Path("/usr/share/sqlmap/data/txt/user-agents.txt")
WFUZZ_LISTS = Path("/usr/share/wfuzz/wordlist")
WAPITI_ATTACKS = Path("/usr/lib/python3/dist-packages/wapitiCore/data/attacks")
SEED = 20261124
SLEEPTIME = "5"
GENERIC_COMMENT = "-- [RANDSTR]"
TRAVERSAL_FILES = ("etc/passwd", "etc/shadow", "boot.ini", "windows/win.ini", "etc/hosts",
                   "proc/self/environ", "windows/system32/drivers/etc/hosts")
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@dataclass(frozen=True)
class Payload:
    """One attack string, its category and the template it came from (the split key)."""
    source: str      # "sqlmap" | "wfuzz"
    text: str        # as the attacker means it (decoded)
    category: str
    template: str
    wire: str | None = None  # wfuzz: the line as sent in a URL (may hold %xx)
    wire_only: bool = False  # an encoding only a URL carries (sqlmap tampers such as charencode): no JSON request


# ---------------------------------------------------------------- sqlmap

@dataclass(frozen=True)
class Boundary:
    level: int
    clause: frozenset[int]
    where: frozenset[int]
    ptype: int
    prefix: str
    suffix: str


@dataclass(frozen=True)
class SqlTest:
    title: str
    stype: int
    clause: frozenset[int]
    where: tuple[int, ...]
    vector: str
    payload: str
    comment: str
    dbms: str
    char: str = ""


def _ints(text: str | None) -> frozenset[int]:
    """'1,2,3' or '1-8' (sqlmap writes both)."""
    out: set[int] = set()
    for part in (text or "0").split(","):
        lo, _, hi = part.strip().partition("-")
        if lo:
            out.update(range(int(lo), int(hi or lo) + 1))
    return frozenset(out)


def _text(el: ET.Element, path: str) -> str:
    found = el.find(path)
    return (found.text or "") if found is not None else ""


def load_boundaries(xml_text: str) -> list[Boundary]:
    out = []
    for b in ET.fromstring(xml_text).iter("boundary"):
        out.append(Boundary(int(_text(b, "level") or 1), _ints(_text(b, "clause")), _ints(_text(b, "where")),
                            int(_text(b, "ptype") or 1), _text(b, "prefix"), _text(b, "suffix")))
    return out


def load_tests(xml_text: str) -> list[SqlTest]:
    out = []
    for t in ET.fromstring(xml_text).iter("test"):
        out.append(SqlTest(
            title=_text(t, "title"), stype=int(_text(t, "stype") or 0), clause=_ints(_text(t, "clause")),
            where=tuple(sorted(_ints(_text(t, "where")))), vector=_text(t, "vector"),
            payload=_text(t, "request/payload"), comment=_text(t, "request/comment"),
            dbms=_text(t, "details/dbms"), char=_text(t, "request/char")))
    return out


def load_queries(xml_text: str) -> dict[str, dict[str, list[str]]]:
    """Per DBMS: its inference template and a few data queries (banner, user, schemas)."""
    out: dict[str, dict[str, list[str]]] = {}
    for d in ET.fromstring(xml_text).iter("dbms"):
        inference = [e.get("query") for e in d.findall("inference") if e.get("query")]
        queries = [e.get("query") for tag in ("banner", "current_user", "current_db", "hostname")
                   for e in d.findall(tag) if e.get("query")]
        for tag in ("dbs", "users", "tables"):
            for e in d.findall(f"{tag}/blind"):
                q = e.get("query") or ""
                if q.count("%d") == 1 and "%s" not in q:
                    queries.append(q.replace("%d", "0"))
        out[d.get("value", "")] = {"inference": inference, "queries": queries}
    return out


class Filler:
    """Deterministic stand-ins for sqlmap's random values."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.start = "q" + "".join(rng.choice("zqxjkvbp") for _ in range(3)) + "q"
        self.stop = "q" + "".join(rng.choice("zqxjkvbp") for _ in range(3)) + "q"
        self.marks = ["q" + c + "q" for c in rng.sample("abcdefghijklmnopqrstuvwxyz", 4)]

    def randstr(self) -> str:
        return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))

    def fill(self, s: str, orig: str, inference: str = "", query: str = "") -> str:
        s = s.replace("[GENERIC_SQL_COMMENT]", GENERIC_COMMENT)
        fixed = {"[DELIMITER_START]": self.start, "[DELIMITER_STOP]": self.stop, "[SLEEPTIME]": SLEEPTIME,
                 "[DELAYED]": SLEEPTIME, "[AT_REPLACE]": self.marks[0], "[SPACE_REPLACE]": self.marks[1],
                 "[DOLLAR_REPLACE]": self.marks[2], "[HASH_REPLACE]": self.marks[3],
                 "[INFERENCE]": inference, "[QUERY]": query, "[ORIGINAL]": orig,
                 "[ORIGVALUE]": orig if orig.isdigit() else f"'{orig}'"}
        for k, v in fixed.items():
            s = s.replace(k, v)
        for mark in sorted(set(re.findall(r"\[RANDNUM\d*\]", s))):
            s = s.replace(mark, str(self.rng.randint(1000, 9999)))
        for mark in sorted(set(re.findall(r"\[RANDSTR\d*\]", s))):
            s = s.replace(mark, self.randstr())
        return s


_QUOTED = re.compile(r"'([A-Za-z0-9]{1,40})'")


def escape_literals(sql: str, dbms: str) -> str:
    """Quoted literals in the DBMS's no-quote spelling, as sqlmap's unescaper writes them."""
    def one(m: re.Match[str]) -> str:
        codes = [ord(c) for c in m.group(1)]
        if dbms == "MySQL":
            return "0x" + m.group(1).encode().hex()
        if dbms in ("PostgreSQL", "Oracle"):
            return "(" + "||".join(f"CHR({c})" for c in codes) + ")"
        if dbms in ("Microsoft SQL Server", "Sybase"):
            return "+".join(f"CHAR({c})" for c in codes)
        if dbms == "SQLite":
            return "CHAR(" + ",".join(str(c) for c in codes) + ")"
        return m.group(0)
    return _QUOTED.sub(one, sql)


def bind(prefix: str, body: str, comment: str, suffix: str, where: int, stype: int, clause: frozenset[int]) -> str:
    """prefix + payload + comment-or-suffix, spaced as agent.prefixQuery / suffixQuery do."""
    if where == 3:
        head = ""
    elif stype == 4 or clause in (frozenset({2, 3}), frozenset({2}), frozenset({3})):
        head = prefix
    else:
        head = prefix
        if not (body.startswith(";") or (head and head[-1] in "()" and body[:1] in "()") or head.endswith("(")):
            head += " "
    out = head + body
    if comment:
        out += comment
    elif suffix and where != 3:
        if out[-1:].isalnum() and suffix[:1].isalnum():
            out += " "
        out += suffix
    return re.sub(r";\W*;", ";", out)


_CATEGORY_BY_STYPE = {1: "boolean", 2: "error", 3: "inline", 4: "stacked", 5: "time", 6: "union"}


def _orig_value(ptype: int, rng: random.Random) -> str:
    return str(rng.randint(1, 200)) if ptype == 1 else rng.choice(["books", "admin", "blue", "smith"])


def _union_bodies(test: SqlTest, f: Filler, rng: random.Random, dbms: str) -> list[str]:
    col_char = {"[CHAR]": "NULL", "NULL": "NULL"}.get(test.char, str(rng.randint(1000, 9999)))
    bodies = [f"ORDER BY {rng.randint(1, 12)}"]
    for count in rng.sample(range(1, 11), 2):
        pos = rng.randrange(count)
        marker = f"CONCAT('{f.start}','{f.randstr()}{f.randstr()}','{f.stop}')"
        if dbms in ("PostgreSQL", "Oracle"):
            marker = f"'{f.start}'||'{f.randstr()}'||'{f.stop}'"
        elif dbms == "Microsoft SQL Server":
            marker = f"'{f.start}'+'{f.randstr()}'+'{f.stop}'"
        cols = ",".join(marker if i == pos else col_char for i in range(count))
        tail = " FROM DUAL" if dbms == "Oracle" else ""
        bodies.append(f"UNION ALL SELECT {cols}{tail}")
    return bodies


def sqlmap_payloads(xml_dir: Path = SQLMAP_XML, per_test: int = 3, seed: int = SEED) -> list[Payload]:
    rng = random.Random(seed)
    f = Filler(rng)
    boundaries = load_boundaries((xml_dir / "boundaries.xml").read_text())
    queries = load_queries((xml_dir / "queries.xml").read_text()) if (xml_dir / "queries.xml").exists() else {}
    dbms_names = sorted(q for q in queries if queries[q]["inference"]) or ["MySQL"]
    out: dict[str, Payload] = {}
    for xml in sorted((xml_dir / "payloads").glob("*.xml")):
        for test in load_tests(xml.read_text()):
            fits = [b for b in boundaries
                    if (test.clause == {0} or b.clause == {0} or test.clause & b.clause)
                    and set(test.where) & b.where]
            if test.where == (3,) or not fits:
                fits = [Boundary(1, frozenset({0}), frozenset({3}), 1, "", "")]
            chosen = rng.sample(fits, min(per_test, len(fits)))
            dbms = test.dbms or rng.choice(dbms_names)
            info = queries.get(dbms) or queries.get("MySQL") or {"inference": [], "queries": []}
            for i, b in enumerate(chosen):
                where = rng.choice([w for w in test.where if w in b.where] or list(test.where))
                orig = _orig_value(b.ptype, rng)
                bodies = []
                if test.stype == 6:
                    bodies = _union_bodies(test, f, rng, dbms)
                else:
                    if test.payload:
                        bodies.append(f.fill(test.payload, orig))
                    if i == 0 and test.vector and ("[INFERENCE]" in test.vector or "[QUERY]" in test.vector):
                        query = rng.choice(info["queries"] or ["SELECT 1"])
                        inference = ""
                        if info["inference"]:
                            inference = (info["inference"][0].replace("%s", query)
                                         .replace("%d", str(rng.randint(1, 12)), 1)
                                         .replace("%d", str(rng.choice((64, 96, 112))))
                                         .replace("%c", rng.choice("eimr")))
                        bodies.append(f.fill(test.vector, orig, inference, query))
                for body in bodies:
                    if rng.random() < 0.5:
                        body = escape_literals(body, dbms)
                    comment = f.fill(test.comment, orig) if test.comment else ""
                    bound = bind(f.fill(b.prefix, orig), body, comment, f.fill(b.suffix, orig), where,
                                 test.stype, test.clause)
                    lead = orig if where == 1 else f"-{rng.randint(1000, 9999)}" if where == 2 else ""
                    text = lead + bound
                    out.setdefault(text, Payload("sqlmap", text, "sqli", f"{xml.stem}/{test.title}"))
    return list(out.values())


# ---------------------------------------------------------------- sqlmap --tamper

# Upper-case words of a rendered payload are its SQL keywords and function names (sqlmap
# writes them so); quoted literals and the delimiters are lower or mixed case.
_KEYWORD = re.compile(r"\b[A-Z][A-Z_]{1,}\b")
_SIMPLE = r"(?:[\w.]+(?:\(\))?)"


def _blanks(text: str, make) -> str:
    return re.sub(" ", lambda _m: make(), text)


def _versioned(text: str, rng: random.Random, version: str | None) -> str:
    """modsecurityversioned: what follows the first blank, up to a trailing comment, in /*!NNNNN ... */."""
    body, comment = text, ""
    for marker in ("-- ", "#", "--"):
        k = text.rfind(marker)
        if k > 0 and (marker != "--" or k == len(text) - 2):
            body, comment = text[:k], text[k:]
            break
    head, sep, rest = body.partition(" ")
    if not sep:
        return text
    return f"{head} /*!{version or rng.randint(30000, 50000)}{rest}*/{comment}"


def _url_all(text: str, fmt: str) -> str:
    return "".join(fmt % ord(c) if ord(c) < 128 else urllib.parse.quote(c) for c in text)


def _overlong(text: str) -> str:
    """overlongutf8: characters other than letters and digits as two-byte overlong UTF-8."""
    return "".join(c if c.isalnum() or ord(c) > 127 else f"%{0xc0 | (ord(c) >> 6):02X}%{0x80 | (ord(c) & 0x3f):02X}"
                   for c in text)


def _tampers(rng: random.Random, f: "Filler") -> dict[str, tuple]:
    """name -> (function(text) -> text, wire_only). Our own rendering of what each sqlmap tamper
    script does (their docstrings give the before/after); wire_only: the result is URL text."""
    return {
        "space2comment": (lambda t: t.replace(" ", "/**/"), False),
        "space2randomblank": (lambda t: _blanks(t, lambda: rng.choice("\t\n\x0c\r")), False),
        "space2mssqlblank": (lambda t: _blanks(t, lambda: rng.choice("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0b\x0c\x0e\x0f")), False),
        "space2hash": (lambda t: _blanks(t, lambda: "#" + f.randstr() + "\n"), False),
        "space2dash": (lambda t: _blanks(t, lambda: "--" + f.randstr() + "\n"), False),
        "multiplespaces": (lambda t: _blanks(t, lambda: " " * rng.randint(1, 4)), False),
        "randomcase": (lambda t: _KEYWORD.sub(lambda m: "".join(rng.choice((c.lower(), c)) for c in m.group(0)), t), False),
        "lowercase": (lambda t: _KEYWORD.sub(lambda m: m.group(0).lower(), t), False),
        "randomcomments": (lambda t: _KEYWORD.sub(
            lambda m: m.group(0) if len(m.group(0)) < 3 else (lambda w, k: w[:k] + "/**/" + w[k:])(
                m.group(0), rng.randint(1, len(m.group(0)) - 1)), t), False),
        "versionedkeywords": (lambda t: re.sub(r"\b([A-Z][A-Z_]{1,})\b(?!\s*\()", r"/*!\1*/", t), False),
        "halfversionedmorekeywords": (lambda t: re.sub(r" ([A-Z][A-Z_]{1,})\b", r"/*!0\1", t), False),
        "modsecurityversioned": (lambda t: _versioned(t, rng, None), False),
        "modsecurityzeroversioned": (lambda t: _versioned(t, rng, "00000"), False),
        "between": (lambda t: re.sub(rf"({_SIMPLE})\s*=\s*({_SIMPLE})", r"\1 BETWEEN \2 AND \2",
                                     re.sub(rf"({_SIMPLE})\s*>\s*({_SIMPLE})", r"\1 NOT BETWEEN 0 AND \2", t)), False),
        "greatest": (lambda t: re.sub(rf"({_SIMPLE})\s*>\s*({_SIMPLE})", r"GREATEST(\1,\2+1)=\1", t), False),
        "equaltolike": (lambda t: re.sub(r"\s*=\s*", " LIKE ", t), False),
        "symboliclogical": (lambda t: t.replace(" AND ", " && ").replace(" OR ", " || "), False),
        "commentbeforeparentheses": (lambda t: re.sub(r"\b(\w+)\(", r"\1/**/(", t), False),
        "informationschemacomment": (lambda t: re.sub(r"(?i)information_schema\.", "INFORMATION_SCHEMA/**/.", t), False),
        "0eunion": (lambda t: re.sub(r"(\d+)\s+UNION\b", r"\1e0UNION", t), False),
        "sleep2getlock": (lambda t: re.sub(r"(?<![.\w])SLEEP\((\d+)\)", lambda m: f"GET_LOCK('{f.randstr()}',{m.group(1)})", t), False),
        "charencode": (lambda t: _url_all(t, "%%%02X"), True),
        "chardoubleencode": (lambda t: _url_all(t, "%%25%02X"), True),
        "charunicodeencode": (lambda t: _url_all(t, "%%u%04X"), True),
        "percentage": (lambda t: "".join("%" + c if c.isalpha() else urllib.parse.quote(c, safe="") for c in t), True),
        "apostrophemask": (lambda t: urllib.parse.quote(t, safe="-_.~()*,=:").replace("%27", "%EF%BC%87"), True),
        "apostrophenullencode": (lambda t: urllib.parse.quote(t, safe="-_.~()*,=:").replace("%27", "%00%27"), True),
        "overlongutf8": (_overlong, True),
        "appendnullbyte": (lambda t: urllib.parse.quote(t, safe="-_.~()*,'=:") + "%00", True),
    }


def tampered_payloads(base: list[Payload], per_tamper: int = 60, seed: int = SEED) -> list[Payload]:
    """sqlmap payloads as `--tamper=<name>` sends them: a seeded sample per tamper script, only
    where the script changes the payload. Source `sqlmap-<tamper>`; the template stays the sqlmap
    test, so the split keeps each test on one side whatever the tamper."""
    rng = random.Random(seed + 1)
    f = Filler(rng)
    out: dict[tuple[str, str], Payload] = {}
    for name, (fn, wire_only) in _tampers(rng, f).items():
        taken = 0
        for p in rng.sample(base, len(base)):
            if taken >= per_tamper:
                break
            if name.startswith("apostrophe") and "'" not in p.text:
                continue
            text = fn(p.text)
            if text == p.text or (name, text) in out:
                continue
            if wire_only:
                out[(name, text)] = Payload(f"sqlmap-{name}", urllib.parse.unquote(text, errors="replace"), "sqli",
                                            p.template, text, wire_only=True)
            else:
                out[(name, text)] = Payload(f"sqlmap-{name}", text, "sqli", p.template)
            taken += 1
    return list(out.values())


# ---------------------------------------------------------------- wfuzz

_WORD = re.compile(r"[\w@.+\-]+")


def unquote_once(line: str) -> str:
    return urllib.parse.unquote(line, errors="replace")


def json_value(line: str) -> str:
    """The line percent-decoded once, or as it is when that is not UTF-8 (JSON cannot carry %c0%af)."""
    try:
        return urllib.parse.unquote_to_bytes(line).decode("utf-8")
    except UnicodeDecodeError:
        return line


def is_fragment(line: str) -> bool:
    """Not an attack on its own: tiny, only punctuation, or one bare word or number."""
    text = html.unescape(unquote_once(line)).strip()
    if len(text) <= 2:
        return True
    if not any(c.isalnum() for c in text):
        return True
    return _WORD.fullmatch(text) is not None


_KINDS = (  # trusted data (the tool's own lists), so Python re is fine here
    ("xxe", re.compile(r"<!ENTITY|<!DOCTYPE", re.I)),
    ("rce", re.compile(r"<!--#exec|\$\(|`\w+`|[|;]\s*(?:id|ls|dir|cat|read|netstat|/bin/)\b"
                       r"|/bin/(?:cat|ls|id|sh)\b|phpinfo\(", re.I)),
    ("xss", re.compile(r"script|<img|<iframe|<xss|<xml|<html|alert|<p>|&lt;|&#0*60|&#x0*3c|\\x3c", re.I)),
    ("ldapi", re.compile(r"\*\(\||\(\|\(|\(&\(", re.I)),
    ("lfi", re.compile(r"\.\.[/\\]|%2e%2e|%c0%af|%5c\.\.|/etc/(?:passwd|shadow|hosts)|boot\.ini|win\.ini"
                       r"|global\.asa|\.\.%|%c0%ae|%c0%2e|%25c0%25ae|%uff0e|etc/(?:passwd|shadow|hosts)|proc/self/environ", re.I)),
    ("crlf", re.compile(r"%0d%0a[\w-]+:", re.I)),
    ("sqli", re.compile(r"\b(?:or|and)\b\s*\(?\s*['\"\w]+(?:\(\))?\s*(?:=|like)|union\s+(?:all\s+)?select|select\s*(?:\*|top\b)"
                        r"|;\s*select\b|exec\s+(?:master\.\.|xp_|sp_)|xp_cmdshell|order\s+by\s+\d|'\s*(?:--|#|;)"
                        r"|utl_http|\bor\s+\(?exists", re.I)),
    ("other", re.compile(r"%\d*\.?\d*x\||name\(\)|child::", re.I)),  # format string, XPath
)


def categorise(line: str) -> str | None:
    """What the line is an attack on, or None when nothing in it says."""
    text = re.sub(r"/\*.*?\*/", " ", unquote_once(line))  # SQL comments as whitespace
    for cat, pattern in _KINDS:
        if pattern.search(text) or pattern.search(line):
            return cat
    return None


def wire_form(line: str) -> str:
    """The line as wfuzz puts it in a URL: %xx kept, characters that cannot be raw encoded."""
    out = []
    for i, c in enumerate(line):
        if c == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", line[i + 1:i + 3] or ""):
            out.append(c)
        elif c.isascii() and (c.isalnum() or c in "-._~!$'()*,;:@/?"):
            out.append(c)
        else:
            out.append(urllib.parse.quote(c, safe=""))
    return "".join(out)


def wfuzz_lines(root: Path = WFUZZ_LISTS, traversal_sample: int = 300, seed: int = SEED) -> Iterator[tuple[str, str]]:
    """(line, list name) from the injection lists."""
    rng = random.Random(seed)
    for path in sorted((root / "Injections").glob("*.txt")):
        for line in path.read_text(errors="replace").splitlines():
            yield line, path.name
    sql = root / "vulns" / "sql_inj.txt"
    if sql.exists():
        for line in sql.read_text(errors="replace").splitlines():
            yield line, sql.name
    traversal = []
    for path in sorted((root / "vulns").glob("dirTraversal*.txt")):
        for line in path.read_text(errors="replace").splitlines():
            if line and not line.startswith("#") and "{FILE}" in line:
                traversal.append((line, path.name))
    for line, name in rng.sample(traversal, min(traversal_sample, len(traversal))):
        yield line.replace("{FILE}", rng.choice(TRAVERSAL_FILES)), name


def wfuzz_payloads(root: Path = WFUZZ_LISTS, traversal_sample: int = 300, seed: int = SEED) -> tuple[list[Payload], list[Payload]]:
    """(attacks, fragments), deduplicated by line."""
    attacks: dict[str, Payload] = {}
    fragments: dict[str, Payload] = {}
    for line, _name in wfuzz_lines(root, traversal_sample, seed):
        line = line.rstrip("\r\n")
        if not line.strip() or line in attacks or line in fragments:
            continue
        category = categorise(line)
        p = Payload("wfuzz", json_value(line), category or "other", line, wire_form(line))
        (fragments if category is None or is_fragment(line) else attacks)[line] = p
    return list(attacks.values()), list(fragments.values())


# ---------------------------------------------------------------- wapiti

_WAPITI_FILES = {  # payload file -> category of its lines
    "blindSQLPayloads.txt": "sqli", "execPayloads.txt": "rce", "fileHandlingPayloads.ini": "lfi",
    "xssPayloads.ini": "xss", "xxePayloads.ini": "xxe",
}
_WAPITI_IN_CODE = (  # payloads written in wapiti's attack modules, not in data files
    ("[VALUE]\\xBF'\"(", "sqli"),  # mod_sql's error probe (a latin-1 0xBF, quotes, a bracket)
    ("http://www.google.fr\r\nwapiti: 3.0.4 version", "crlf"),  # mod_crlf
)


def _wapiti_fill(line: str, rng: random.Random) -> str:
    """wapiti's placeholders (attack.process_line, xss_utils, Attack.attack) with plausible values."""
    sep = rng.choice(['"', "'", " "])
    taint = "w" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(9))
    for k, v in (("[TAB]", "\t"), ("[LF]", "\n"), ("[FF]", "\f"), ("[TIME]", "7"), ("[TIMEOUT]", ""),
                 ("[EXTERNAL_ENDPOINT]", "https://wapiti3.ovh/"), ("[VALUE]", "report.pdf"), ("[DIRVALUE]", "docs"),
                 ("[EXTVALUE]", "pdf"), ("[FILE_NAME]", "index.php"), ("[FILE_NOEXT]", "index"),
                 ("[SESSION_ID]", taint), ("[PATH_ID]", str(rng.randint(1, 40))), ("[PARAM_AS_HEX]", "66696c65"),
                 ("[ATTR_SEP]", sep), ("[VALUE_SEP]", "" if sep == " " else sep), ("__XSS__", taint),
                 ("\\0", "\0"), ("\\xBF", "\xbf")):
        line = line.replace(k, v)
    return line


def wapiti_payloads(root: Path = WAPITI_ATTACKS, seed: int = SEED) -> tuple[list[Payload], list[Payload]]:
    """(attacks, fragments) from wapiti's payload files; the template is the raw line."""
    rng = random.Random(seed + 2)
    raw: list[tuple[str, str]] = []
    for name, category in _WAPITI_FILES.items():
        path = root / name
        if not path.exists():
            continue
        if name.endswith(".ini"):
            ini = configparser.ConfigParser(interpolation=None)
            ini.read_string(path.read_text(errors="replace"))
            raw += [(ini[sec]["payload"].strip(" \n"), category) for sec in ini.sections() if "payload" in ini[sec]]
        else:
            raw += [(line.strip(" \n"), category) for line in path.read_text(errors="replace").splitlines()]
    raw += list(_WAPITI_IN_CODE)
    attacks: dict[str, Payload] = {}
    fragments: dict[str, Payload] = {}
    for line, category in raw:
        if not line or line in attacks or line in fragments:
            continue
        text = _wapiti_fill(line, rng)
        if category == "lfi" and text.startswith("https://"):
            category = "rfi"
        elif category == "sqli" and "new Date()" in text:
            category = "nosqli"  # a JavaScript busy loop for MongoDB's $where, in the blind SQL list
        p = Payload("wapiti", text, category, line)
        (fragments if is_fragment(text) else attacks)[line] = p
    return list(attacks.values()), list(fragments.values())


# ---------------------------------------------------------------- requests

_ENDPOINTS = {  # category -> (GET path, query parameter, form path, form field, JSON path, JSON member)
    "sqli": ("/products", "id", "/login", "username", "/api/orders/search", "customer"),
    "xss": ("/search", "q", "/comments", "comment", "/api/profile", "bio"),
    "lfi": ("/download", "file", "/reports/render", "template", "/api/export", "path"),
    "rce": ("/tools/ping", "host", "/admin/diagnostics", "target", "/api/jobs", "command"),
    "xxe": ("/import", "data", "/import", "document", "/api/import", "xml"),
    "ldapi": ("/directory", "user", "/directory/search", "filter", "/api/users/lookup", "name"),
    "rfi": ("/download", "file", "/reports/render", "template", "/api/export", "path"),
    "crlf": ("/redirect", "next", "/account/redirect", "url", "/api/links", "target"),
}


def split_id(source: str, text: str, template: str, placement: str) -> str:
    """`source:<sha1 of text>.<placement>`, salted until it lands on its template's side of the split."""
    digest = hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:16]
    want = in_split(f"{source.split('-')[0]}-template:{template}", "holdout")
    for salt in range(200):
        rid = f"{source}:{digest}.{placement}" + (str(salt) if salt else "")
        if in_split(rid, "holdout") == want:
            return rid
    raise AssertionError("no salt found")  # 200 tries at p=0.2/0.8 do not all fail


def requests_for(p: Payload) -> list[dict]:
    get_path, qname, form_path, field, json_path, member = _ENDPOINTS.get(p.category, _ENDPOINTS["xss"])
    wire = p.wire if p.wire is not None else urllib.parse.quote(p.text, safe="-_.~()*,'=:")
    form_value = p.wire if p.wire is not None else urllib.parse.quote_plus(p.text, safe="-_.~()*,'")
    host = ["Host", "shop.example.com"]
    agent = ["User-Agent", UA]
    common = {"source": p.source, "label": "attack", "category": p.category}
    out = [
        dict(common, id=split_id(p.source, p.text, p.template, "q"), method="GET",
             uri=f"{get_path}?{qname}={wire}&lang=en", headers=[host, agent], body="", placement="query"),
        dict(common, id=split_id(p.source, p.text, p.template, "f"), method="POST", uri=form_path,
             headers=[host, agent, ["Content-Type", "application/x-www-form-urlencoded"]],
             body=f"{field}={form_value}&submit=Send", placement="form"),
    ]
    if not p.wire_only:
        out.append(dict(common, id=split_id(p.source, p.text, p.template, "j"), method="POST", uri=json_path,
                        headers=[host, agent, ["Content-Type", "application/json"]],
                        body=json.dumps({"page": 1, member: p.text}), placement="json"))
    return out


def write(path: str, payloads: Iterable[Payload]) -> int:
    n = 0
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for p in payloads:
            for r in requests_for(p):
                fh.write(json.dumps(r) + "\n")
                n += 1
    return n


def agent_requests(path: Path = SQLMAP_AGENTS) -> Iterator[dict]:
    """Benign: each User-Agent of sqlmap's --random-agent list (real browsers and crawlers, many
    from the 2000s) in an ordinary GET: the false positives header readers would meet."""
    for line in path.read_text(errors="replace").splitlines():
        agent = line.strip()
        if agent and not agent.startswith("#"):
            digest = hashlib.sha1(agent.encode("utf-8", "replace")).hexdigest()[:16]
            yield {"id": f"agent:{digest}", "source": "sqlmap-agents", "label": "benign", "category": "benign",
                   "method": "GET", "uri": "/products?id=42&lang=en", "body": "",
                   "headers": [["Host", "shop.example.com"], ["User-Agent", agent], ["Accept", "text/html"]]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="/tmp/tools.jsonl.gz")
    ap.add_argument("--fragments", help="also write the wfuzz lines that are not attacks on their own here")
    ap.add_argument("--tamper", help="also write sqlmap payloads rewritten by its tamper scripts here")
    ap.add_argument("--agents", help="also write a benign corpus of sqlmap's User-Agent list here")
    ap.add_argument("--per-test", type=int, default=3, help="sqlmap boundaries per test")
    ap.add_argument("--sqlmap", type=Path, default=SQLMAP_XML)
    ap.add_argument("--wfuzz", type=Path, default=WFUZZ_LISTS)
    ap.add_argument("--wapiti", type=Path, default=WAPITI_ATTACKS, help="used when present (apt-get install wapiti)")
    args = ap.parse_args()
    if not (args.sqlmap / "boundaries.xml").exists() or not (args.wfuzz / "Injections").is_dir():
        print("sqlmap or wfuzz data not found (apt-get install sqlmap wfuzz)", file=sys.stderr)
        return 1
    sql = sqlmap_payloads(args.sqlmap, args.per_test)
    attacks, fragments = wfuzz_payloads(args.wfuzz)
    if args.wapiti.is_dir():
        more, more_fragments = wapiti_payloads(args.wapiti)
        attacks, fragments = attacks + more, fragments + more_fragments
    n = write(args.out, sql + attacks)
    counts: dict[str, int] = {}
    for p in sql + attacks:
        counts[f"{p.source}/{p.category}"] = counts.get(f"{p.source}/{p.category}", 0) + 1
    print(f"{n} requests ({len(sql)} sqlmap + {len(attacks)} wfuzz/wapiti payloads x 3) in {args.out}: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if args.tamper:
        tampered = tampered_payloads(sql)
        m = write(args.tamper, tampered)
        print(f"{m} requests ({len(tampered)} tampered sqlmap payloads; wire-only encodings without JSON) in {args.tamper}")
    if args.agents and SQLMAP_AGENTS.exists():
        with gzip.open(args.agents, "wt", encoding="utf-8") as fh:
            m = sum(fh.write(json.dumps(r) + "\n") > 0 for r in agent_requests())
        print(f"{m} benign requests (sqlmap's User-Agent list) in {args.agents}")
    if args.fragments:
        m = write(args.fragments, fragments)
        print(f"{m} requests ({len(fragments)} wfuzz/wapiti fragments x 3) in {args.fragments}")
    else:
        print(f"{len(fragments)} wfuzz/wapiti fragments left out (--fragments to write them)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
