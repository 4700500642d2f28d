"""Path traversal and local file inclusion, decided on where a path resolves.

A value is split into path-like tokens (pathnorm.path_tokens), each token is
resolved (pathnorm.resolve: residual encodings, lookalikes, `\\`, `....//`,
`..;/`, NUL truncation undone), and the verdict depends on the result:

- climbing above the token's starting point (`../` that has nothing left to
  pop) is traversal: no benign corpus we have carries it in a parameter, and a
  client never sends it in a request path (they normalise);
- reaching a restricted file (rules/lfi_files.yaml) is a file read, whether by
  climbing (critical), by an absolute path, or by naming it; Windows spellings of
  a name (`WEB-INF./web.xml`, `web.config::$DATA`) reach it too (pathnorm);
- a file name with the NTFS `::$DATA` stream suffix asks IIS for a script's source.

Also applies to the request path itself, where climbing above the web root is
traversal and a restricted file is a restricted-file probe.
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.decode.inputs import leaf_name
from extauthz.detect.base import Detector, register
from extauthz.detect.literals import hyperscan_literal
from extauthz.detect.pathnorm import ResolvedPath, path_tokens, resolve, strip_once
from extauthz.detect.restricted_files import RestrictedEntry, restricted_files
from extauthz.finding import Finding, Severity, excerpt
from extauthz.rules import rule_yaml


# Prefilter, part 1: a parent step in any spelling pathnorm undoes (`..`, residual
# %2e / overlong / %u escapes, 0x2e, lookalike dots). Separators alone are not
# enough: a climb needs a dot-dot.
STRUCTURAL_TRIGGERS = (
    r"\.\.",
    r"%(?:2e|c0%a[ef]|c1%[19]c|e0%80%a[ef]|u002e|uff0e)",
    r"0x(?:2e|2f|5c)",
    "[\uff0e\u2024\ufe52\u3002\u2025\u2026]",
    r"::\$data",
)
# Top directories of system paths: any entry below them wakes the detector.
SYSTEM_ROOTS = frozenset({"etc", "proc", "sys", "var", "run", "usr", "root", "windows", "winnt"})


def _triggers() -> tuple[str, ...]:
    """Prefilter: the structural signals, plus literals naming each restricted entry
    (rules/lfi_files.yaml): `etc/`, `proc\\`, ... for system roots, the last two
    segments of other paths (`config/database.yml`), the name itself otherwise
    (`.htaccess`, `win.ini`, `.git`). Literals only, so Hyperscan's literal
    matcher serves them at almost no cost; the detector decides exactly."""
    out = set(STRUCTURAL_TRIGGERS)
    for items in rule_yaml("lfi_files.yaml").values():
        for text in items:
            segs = [seg for seg in text.strip().lower().strip("/").split("/") if seg and seg != "*"]
            last = segs[-1].rstrip("*")
            if segs[0] in SYSTEM_ROOTS:
                out.update(hyperscan_literal(segs[0] + sep) for sep in "/\\")
            elif len(segs) >= 2:
                out.update(hyperscan_literal(segs[-2] + sep + last) for sep in "/\\")
            else:
                out.add(hyperscan_literal(last))
    return tuple(sorted(out))


_OPENERS = "([{\"'`<"
_CLOSERS = ")]}\"'`>,.;:!?"
_PROSE_WORDS = 6  # alphabetic words that make a value read as text about files, not a file name


def _alpha_word(text: str) -> bool:
    return len(text) >= 2 and text.isalpha()


def _named_in_prose(value: str, tok: str) -> bool:
    """The path is mentioned in text ("read GECOS entries from /etc/passwd programmatically",
    a search for "/etc/hosts file"), not given as a value: a word follows it, or the value
    reads as prose around it (_PROSE_WORDS; a list of files inside a text). A file include
    reads the whole value as the name, so a word after the path would break it; a shell or
    SQL payload that names the file is the cmdi and sqli detectors' to judge. The finding
    stays, one step weaker (it needs company)."""
    start = value.find(tok)
    if start < 0:
        return False
    tail = value[start + len(tok):start + len(tok) + 64].lstrip(_CLOSERS)
    following = tail.split()[:1]
    if following and tail[:1].isspace() and _alpha_word(following[0].strip(_CLOSERS)):
        return True
    if start == 0 or not value[max(0, start - 64):start].rstrip(_OPENERS)[-1:].isspace():
        return False
    return sum(1 for w in value[:1024].split() if _alpha_word(w.strip(_CLOSERS + _OPENERS))) >= _PROSE_WORDS


_LINK_ATTRIBUTES = ("href", "src", "srcset", "action", "poster", "background", "cite", "data")


MAX_LINK_LOOKUPS = 16


def _link_target(value: str, tok: str) -> bool:
    """The path is a link of a document: an HTML/SVG attribute that holds a URL
    (`href="../x.html"`, `xlink:href='../a.svg'`) or a markdown link (`[text](../x.md)`,
    `![img](../a.png)`). A relative URL climbs within the site, resolved by whoever
    follows it; a file include reads a whole value as the name, never an attribute
    of markup inside it."""
    # the token itself, not the tail of a longer path ("../index.html" inside "../../index.html"):
    # where a quote, `(` or `=` opens it (a page that links "../../../x.html" a hundred times
    # before its first "../../x.html" is found at C speed, not past a lookup cap)
    opened = [k + 1 for k in (value.find(q + tok) for q in "\"'(=") if k >= 0]
    start = min(opened) if opened else value.find(tok)
    for _ in range(MAX_LINK_LOOKUPS):
        if start <= 0 or value[start - 1] not in "./\\":
            break
        start = value.find(tok, start + 1)
    if start <= 0:
        return False
    before = value[max(0, start - 24):start]
    if before.endswith("]("):
        return "[" in value[max(0, start - 512):start]
    low = before.lower()
    if low.endswith("url=") and "refresh" in value[max(0, start - 64):start].lower():
        return True  # <meta http-equiv="refresh" content="3; url=../../cli/">, reST's `.. meta::` too
    if before.endswith("`") and _role_before(before[:-1]):
        return True  # Sphinx's :doc:`../reference/x`, :download:`../a.zip`
    quoted = before[-1:] in "\"'"
    name_end = len(before) - (2 if quoted else 1)
    if name_end < 0 or before[name_end:name_end + 1] != "=":
        return False
    name = before[:name_end].rstrip().lower()
    return name.endswith(_LINK_ATTRIBUTES) and "<" in value[max(0, start - 512):start]


def _role_before(text: str) -> bool:
    """`text` ends with a reStructuredText role (`:doc:`, `:ref:`, `:download:`, `:py:mod:`)."""
    if not text.endswith(":"):
        return False
    name = text[:-1].rsplit(":", 2)
    role = name[-1]
    return len(name) >= 2 and 2 <= len(role) <= 16 and role.isalpha() and role.islower()


def _link_attribute(inp: Input) -> bool:
    """An XML document's URL attribute (`<use xlink:href="../icons.svg#a"/>`, `<img src=...>`),
    which the XML decoder hands over as an Input of its own: a link, resolved like one."""
    if inp.kind != "xml" and not (inp.kind == "multipart" and "/@" in inp.name):
        return False
    leaf = leaf_name(inp.name)
    return leaf[:1] == "@" and leaf[1:].rsplit(":", 1)[-1] in _LINK_ATTRIBUTES


def _weaker(sev: Severity) -> Severity:
    return Severity.MEDIUM if sev >= Severity.HIGH else Severity.LOW


@register
class PathTraversal(Detector):
    name = "path_traversal"
    triggers = _triggers()
    kinds = None

    def __init__(self) -> None:
        self.files = restricted_files()

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        value = inp.value
        tokens = [value] if inp.kind == "path" else path_tokens(value)
        if inp.kind != "path" and not tokens and value:
            # a bare name (`.htaccess`, `win.ini`) has no separator to find it by
            tokens = [value.strip()]
        if "\x00" in value:
            # resolve() reads a NUL as C does (the name ends there: `../../boot.ini%00.html`);
            # an app or filter that deletes NULs reads `%00../../etc/shadow` as the climb
            tokens += [t.replace("\x00", "") for t in tokens if "\x00" in t][:4]
        best: Finding | None = None
        stream = value.lower().find("::$data")
        name_start = max(value.rfind(c, 0, stream) for c in "/\\ \t=") + 1 if stream > 0 else 0
        if stream > 0 and "." in value[name_start:stream].strip("."):  # a file name (PHP's self::$data is not)
            # `default.asp::$DATA`: NTFS's name for the file's main stream; IIS serves the script's
            # source instead of running it (and filters matching `.asp$` miss it)
            best = Finding("lfi", "lfi.ntfs-stream", Severity.HIGH, inp.location,
                           excerpt(value, max(0, stream - 24), stream + 7, inp.location), inp.chain,
                           detail="file name with the NTFS ::$DATA stream suffix (source disclosure)")
        for tok in tokens:
            f = self._judge(inp, tok)
            if f is not None and (best is None or f.severity > best.severity):
                best = f
                if f.severity >= Severity.CRITICAL:
                    break
        return (best,) if best is not None else ()

    def _judge(self, inp: Input, tok: str) -> Finding | None:
        if tok.strip(".") == "" and len(tok) > 2:
            return None  # an ellipsis, not a path
        r = resolve(tok)
        if "../" in tok or "..\\" in tok:
            alt = resolve(strip_once(tok))
            if alt.climb > r.climb:
                r = ResolvedPath(alt.segments, alt.climb, alt.parents, alt.absolute, alt.nul, True)
        target = self.files.match(r.segments)
        is_path = inp.kind == "path"
        if r.climb > 0 and target is not None:
            return self._finding(inp, tok, "lfi.traversal.restricted-file", Severity.CRITICAL,
                                 f"climbs {r.climb} level(s) and reaches {target.text}")
        if r.climb > 0:
            where = "the web root" if is_path else "its starting directory"
            # `'.' and '..' entries`, `"../../" workaround`: text about paths (_named_in_prose);
            # a lone `..` inside longer text climbs to nothing (`the trunk)..`)
            lone = "/" not in tok and "\\" not in tok and inp.value.strip() != tok
            if not is_path and not r.nul and (lone or _link_target(inp.value, tok) or _link_attribute(inp)):
                # `.. note::` in reStructuredText; `href="../../std/index.html"`, `[doc](../cli/x.md)`:
                # a relative link is resolved by the browser against the page's URL, it reads no file
                return self._finding(inp, tok, "lfi.traversal", Severity.INFO,
                                     f"climbs {r.climb} level(s): a relative link or a lone '..' in text")
            sev = Severity.MEDIUM if not is_path and not r.nul and _named_in_prose(inp.value, tok) else Severity.HIGH
            return self._finding(inp, tok, "lfi.traversal", sev, f"climbs {r.climb} level(s) above {where}")
        if target is not None:
            return self._restricted(inp, tok, r, target)
        if r.absolute and len(r.segments) == 1 and not is_path:
            # `c:windowswin.ini`: separators lost on the way, the file name is still there
            glued = self.files.match_glued(r.segments[0])
            if glued is not None:
                return self._finding(inp, tok, "lfi.restricted-file", glued.severity, f"ends with {glued.text}")
        if not is_path and r.segments and r.segments[0].startswith(".."):
            glued = self._glued(r.segments)
            if glued is not None:
                return self._finding(inp, tok, "lfi.traversal.glued", Severity.HIGH,
                                     f"dot-dot steps glued to {glued.text} (separators stripped)")
        if r.parents and (r.obfuscated or r.nul) and not is_path:
            return self._finding(inp, tok, "lfi.traversal.obfuscated", Severity.MEDIUM,
                                 "encoded or odd parent steps")
        return None

    def _glued(self, segments: tuple[str, ...]) -> RestrictedEntry | None:
        """`....etcpasswd`, `..web-infweb.xml`, `....web-inf/web.xml`, `..htaccess`:
        parent steps run into a restricted path whose separators were stripped
        (by a filter that deletes them, or a wordlist that lost its backslashes)."""
        rest = segments[0].lstrip(".")
        if not rest:
            return None
        for first in (rest, "." + rest):
            found = self.files.match((first, *segments[1:]))
            if found is None and len(segments) == 1:
                found = self.files.match_glued_path(first)
            if found is not None and found.severity >= Severity.HIGH:
                return found
        return None

    def _restricted(self, inp: Input, tok: str, r: ResolvedPath, target: RestrictedEntry) -> Finding:
        """Naming a restricted file without climbing to it.

        In a parameter, a bare name (`.htpasswd`) or a directory with nothing
        below it (`c:\\inetpub`) reads no file by itself: search boxes see
        such text. One step weaker than a path to the file (tech-support
        searches name `/etc/ssh` and `c:\\windows\\system32` too).
        """
        sev = target.severity
        if inp.kind == "path":
            rule = "lfi.restricted-file.path"
        elif len(r.segments) > 1 or (r.absolute and not target.directory):
            rule = "lfi.restricted-file"
            if target.directory and r.segments[-1] == target.pattern[-1]:
                sev = _weaker(sev)
        else:
            rule = "lfi.restricted-file.name"
            sev = _weaker(sev)
        if sev >= Severity.HIGH and not r.nul and _named_in_prose(inp.value, tok):
            sev = _weaker(sev)
        if r.nul and sev < Severity.HIGH:
            sev = Severity.HIGH
        return self._finding(inp, tok, rule, sev, f"reaches {target.text}")

    @staticmethod
    def _finding(inp: Input, tok: str, rule: str, sev: Severity, detail: str) -> Finding:
        start = inp.value.find(tok)
        start = max(start, 0)
        return Finding("lfi", rule, sev, inp.location, excerpt(inp.value, start, start + len(tok), inp.location),
                       inp.chain, detail=detail)
