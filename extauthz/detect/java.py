"""Java code injection: class references, gadgets, reflection, EL/OGNL, deserialization.

Finding class: "rce". Rule ids:
  java.gadget             a deserialization gadget class (InvokerTransformer,
                          ChainedTransformer, AnnotationInvocationHandler …)
  java.class-reference    a fully qualified class that runs commands, loads code
                          or reflects (java.lang.Runtime, javax.script.ScriptEngineManager);
                          other JDK/framework classes (java.lang.String, java.io.File)
                          count when the value is little more than the name, else MEDIUM
  java.runtime-exec       Runtime.getRuntime().exec(…), new ProcessBuilder(…).start(), Groovy's
                          "id".execute() / ['sh','-c','id'].execute() (a string or list run as a process)
  java.reflection         Class.forName(…), .getMethod(…).invoke(…) chains
  java.expression         Spring/Java EL or OGNL reaching Java: T(java.lang.Runtime),
                          ${…getClass()…}, #{…}, %{(#_memberAccess…)}, @class@method()
  java.spring4shell       class.module.classLoader… / class.classLoader… property paths
  java.deserialization    a serialized Java object: AC ED 00 05 as bytes, hex
                          (aced0005) or base64 at any alignment (rO0AB, KztAAU, Cs7QAF)
  java.base64-class       a dangerous class or gadget name hidden in base64 at any alignment

Dotted names are read component-wise (java.evil.Runtime is a java.* name that
reaches Runtime); Java stack-trace frames ("at java.lang.Thread.run(Thread.java:750)")
are not references. Vocabulary: extauthz/rules/java.txt.
"""
from __future__ import annotations

import binascii
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.hits import Hit, finding
from extauthz.detect.prefilter import Prefilter
from extauthz.finding import Finding, Severity
from extauthz.request import Request
from extauthz.rules import rule_lines

MAX_SCAN = 16384
MAX_NAMES = 256
MAX_BASE64_RUNS = 64
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")
SERIAL_BASE64 = ("rO0AB", "KztAAU", "Cs7QAF")
SPRING4SHELL = ("class.module.classloader", "class.classloader", "class.protectiondomain",
                "classloader.resources.context", "module.classloader.")
MAX_MARKERS = 4096
# what makes a ${…} / #{…} / %{…} / *{…} expression reach Java
EXPRESSION_REACH = ("getclass", "forname", "getruntime", ".exec(", "processbuilder", "classloader", "getmethod",
                    "newinstance", "scriptengine", "java.lang", "javax.")
OGNL_MARKERS = ("#_memberaccess", "@ognl.", "default_member_access", "#context[", "#context.get",
                "ognlcontext", "#attr[", "#request[", "#application[", "#session[", "#parameters[",
                "excludedclasses", "excludedpackagenames")



class Vocabulary:
    def __init__(self) -> None:
        groups: dict[str, list[str]] = {}
        for line in rule_lines("java.txt"):
            kind, _, name = line.partition(" ")
            groups.setdefault(kind, []).append(name.strip().lower())
        self.packages = tuple(tuple(p.split(".")) for p in groups.get("package", []))
        self.danger = frozenset(groups.get("danger", []))
        self.sensitive = tuple(tuple(p.split(".")) for p in groups.get("sensitive", []))
        self.gadgets = frozenset(groups.get("gadget", []))
        self.methods = frozenset(groups.get("method", []))
        self.base64_words = tuple(sorted(self.gadgets | {"runtime", "processbuilder", "getruntime",
                                                          "java.lang", "scriptenginemanager"}))

    def rooted(self, parts: tuple[str, ...]) -> bool:
        return any(parts[:len(p)] == p and len(parts) > len(p) for p in self.packages)

    def is_sensitive(self, parts: tuple[str, ...]) -> bool:
        return any(parts[:len(p)] == p for p in self.sensitive)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return Vocabulary()


@dataclass(frozen=True, slots=True)
class DottedName:
    start: int
    end: int
    parts: tuple[str, ...]  # lower-cased components


def dotted_names(value: str) -> list[DottedName]:
    """Identifier chains (a.b.C) and single identifiers, in order, bounded."""
    out: list[DottedName] = []
    s = value[:MAX_SCAN]
    n = len(s)
    i = 0
    while i < n and len(out) < MAX_NAMES:
        if s[i] not in _NAME_START or (i > 0 and s[i - 1] in _NAME_CHARS):
            i += 1
            continue
        start = i
        parts: list[str] = []
        while True:
            j = i
            while j < n and s[j] in _NAME_CHARS:
                j += 1
            parts.append(s[i:j].lower())
            if j + 1 < n and s[j] == "." and s[j + 1] in _NAME_START:
                i = j + 1
                continue
            i = j
            break
        out.append(DottedName(start, i, tuple(parts)))
    return out


def _is_stack_frame(value: str, name: DottedName) -> bool:
    """`at a.b.C.m(C.java:12)`, `(Native Method)`, `(Unknown Source)`."""
    tail = value[name.end:name.end + 64]
    if not tail.startswith("("):
        return False
    close = tail.find(")")
    inner = tail[1:close] if close > 0 else ""
    return ".java:" in inner or inner in ("Native Method", "Unknown Source") or inner.endswith(".java")


def _class_hits(value: str, names: list[DottedName]) -> Hit | None:
    vocab = vocabulary()
    best: Hit | None = None
    stripped = value.strip().strip("\"'")
    for k, name in enumerate(names):
        parts = name.parts
        gadget = next((p for p in parts if p in vocab.gadgets), None)
        if gadget is not None:
            return Hit(Severity.HIGH, "java.gadget", name.start, name.end, f"deserialization gadget {gadget}")
        if len(parts) < 2 or _is_stack_frame(value, name):
            continue
        rooted = vocab.rooted(parts)
        danger = next((p for p in parts if p in vocab.danger), None)
        after = value[name.end:name.end + 2].lstrip()
        calls = after.startswith("(") or any(p in vocab.methods for p in parts[1:])
        if danger and (rooted or calls or len(parts) >= 3 and parts[0] in ("java", "javax")):
            return Hit(Severity.HIGH, "java.class-reference", name.start, name.end,
                       f"reference to {'.'.join(parts)[:60]}")
        # Runtime.getRuntime, not a file named libpam-runtime.postrm or lib/runtime.js
        if danger and parts[0] in ("processbuilder", "runtime") and len(parts) >= 2 \
                and value[name.start - 1:name.start] not in ("-", "/", "\\"):
            return Hit(Severity.HIGH, "java.class-reference", name.start, name.end,
                       f"reference to {'.'.join(parts)[:60]}")
        if rooted and vocab.is_sensitive(parts):
            focused = len(stripped) <= (name.end - name.start) + 8
            construct = _construct_before(value, name.start) or after.startswith("(") or after.startswith("@")
            sev = Severity.HIGH if focused or construct else Severity.MEDIUM
            hit = Hit(sev, "java.class-reference", name.start, name.end, f"reference to {'.'.join(parts)[:60]}")
            if best is None or hit.severity > best.severity:
                best = hit
    return best


def _construct_before(value: str, start: int) -> bool:
    before = value[max(0, start - 12):start].rstrip().lower()
    return before.endswith(("t(", "new", "@", '"@class":"', "@type\":\"", "class=", "forname(\"", "forname('"))


def _calls(value: str, names: list[DottedName]) -> Hit | None:
    low = value[:MAX_SCAN].lower()
    vocab = vocabulary()
    if "getruntime" in low and ".exec" in low or "processbuilder(" in low.replace(" ", ""):
        at = max(low.find("getruntime"), low.find("processbuilder"))
        return Hit(Severity.HIGH, "java.runtime-exec", at, at + 40, "command run through Runtime/ProcessBuilder")
    squashed = "".join(low.split())
    for run in ('".execute(', "'.execute(", "'].execute(", '"].execute('):  # not handlers[i].execute(…)
        at = squashed.find(run)
        if at >= 0:
            return Hit(Severity.HIGH, "java.runtime-exec", 0, min(len(value), 64), "Groovy String/List.execute()")
    reflect = ("forname(", "getmethod(", "getdeclaredmethod(", "newinstance(", "getconstructor(", "defineclass(",
               "loadclass(", "getclassloader(", "getenginebyname(")
    found = [r for r in reflect if r in low]
    if len(found) >= 2 or (found and (".invoke(" in low or "getclass(" in low)):
        at = low.find(found[0])
        return Hit(Severity.HIGH, "java.reflection", at, at + 40, "reflection chain " + ", ".join(f[:-1] for f in found[:3]))
    for name in names:
        if len(name.parts) >= 2 and name.parts[-1] in vocab.methods and name.parts[0] in vocab.danger \
                and value[name.end:name.end + 1] == "(":
            return Hit(Severity.HIGH, "java.runtime-exec", name.start, name.end + 1, f"{'.'.join(name.parts)}()")
    return None


def _expressions(value: str, names: list[DottedName]) -> Hit | None:
    low = value[:MAX_SCAN].lower()
    vocab = vocabulary()
    for marker in OGNL_MARKERS:
        at = low.find(marker)
        if at >= 0:
            return Hit(Severity.HIGH, "java.expression", at, at + 40, f"OGNL {marker}")
    for name in names:
        before = value[max(0, name.start - 3):name.start].replace(" ", "")
        if before.endswith(("T(", "t(")) and _type_operator(value, name.start) \
                and (vocab.rooted(name.parts) or name.parts[0] in vocab.danger):
            return Hit(Severity.HIGH, "java.expression", name.start - 2, name.end, "SpEL type reference T(…)")
        if before.endswith("@") and vocab.rooted(name.parts) and value[name.end:name.end + 1] == "@":
            return Hit(Severity.HIGH, "java.expression", name.start - 1, name.end, "OGNL static member @class@")
    reach = _marker_spans(low, EXPRESSION_REACH)
    if not reach:
        return None
    starts = [a for a, _ in reach]
    for opener in ("${", "#{", "%{", "*{"):
        at = low.find(opener)
        close = low.find("}", at)
        while 0 <= at < MAX_SCAN:
            if 0 <= close < at:  # the next "}" is searched again only once passed (no rescans to the end)
                close = low.find("}", at)
            end = close if close > 0 else at + 512
            # the first Java marker inside the block (markers found once: a value of `${` repeated
            # without a "}" must not have each 512-character block searched again)
            k = bisect_left(starts, at)
            while k < len(reach) and reach[k][0] < end:
                if reach[k][1] <= end:
                    return Hit(Severity.HIGH, "java.expression", at, end, f"expression {opener}…}} reaching Java")
                k += 1
            at = low.find(opener, at + 2)
    return None


def _type_operator(value: str, start: int) -> bool:
    """Whether the T before "(" at a name is SpEL's type operator: a word of its own
    (T(Runtime), #{T(java.lang.Runtime)}), not a word's last letter ("toolkit (runtime files)")."""
    k = value.rfind("(", max(0, start - 3), start)
    k -= 1
    while k >= 0 and value[k] == " ":
        k -= 1
    return k >= 0 and value[k] in "Tt" and (k == 0 or value[k - 1] not in _NAME_CHARS)


def _marker_spans(low: str, markers: tuple[str, ...]) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of the markers in low, by start (at most MAX_MARKERS)."""
    spans: list[tuple[int, int]] = []
    for m in markers:
        at = low.find(m)
        while at >= 0 and len(spans) < MAX_MARKERS:
            spans.append((at, at + len(m)))
            at = low.find(m, at + 1)
    spans.sort()
    return spans


def _spring4shell(value: str) -> Hit | None:
    low = value[:MAX_SCAN].lower()
    for marker in SPRING4SHELL:
        at = low.find(marker)
        if at >= 0:
            return Hit(Severity.HIGH, "java.spring4shell", at, at + len(marker), "class loader property path")
    return None


def _base64_runs(value: str) -> Iterable[tuple[int, int]]:
    s = value[:MAX_SCAN]
    n = len(s)
    i = 0
    count = 0
    while i < n and count < MAX_BASE64_RUNS:
        if s[i] not in _B64:
            i += 1
            continue
        j = i
        while j < n and s[j] in _B64:
            j += 1
        if j - i >= 6:
            count += 1
            yield i, j
        i = j + 1


def _serialized(value: str) -> Hit | None:
    if "\xac\xed\x00\x05" in value or value.lstrip().startswith("\xac\xed"):
        return Hit(Severity.HIGH, "java.deserialization", 0, 8, "serialized Java object (raw bytes)")
    low = value[:MAX_SCAN].lower()
    at = low.find("aced0005")
    if at >= 0:
        return Hit(Severity.HIGH, "java.deserialization", at, at + 8, "serialized Java object (hex)")
    for start, end in _base64_runs(value):
        run = value[start:end]
        for magic in SERIAL_BASE64:
            k = run.find(magic)
            if k >= 0 and (k == 0 or magic != "rO0AB" or run[k - 1] in "=/"):
                return Hit(Severity.HIGH, "java.deserialization", start + k, start + k + len(magic),
                           "serialized Java object (base64)")
    return None


def _base64_words(value: str) -> Hit | None:
    vocab = vocabulary()
    for start, end in _base64_runs(value):
        run = value[start:end].replace("-", "+").replace("_", "/")
        for pad in ("", "A", "AA"):
            text = pad + run
            text = text[: len(text) - len(text) % 4] if len(text) % 4 == 1 else text + "=" * (-len(text) % 4)
            try:
                raw = binascii.a2b_base64(text)
            except (binascii.Error, ValueError):
                continue
            decoded = raw.decode("latin-1").lower()
            for word in vocab.base64_words:
                k = decoded.find(word)
                if k < 0:
                    continue
                junk = len(decoded) - len(word)
                alone = junk <= 4
                if word in vocab.gadgets or alone or "java" in decoded or "exec" in decoded:
                    return Hit(Severity.HIGH, "java.base64-class", start, end, f"{word} in base64")
                return Hit(Severity.MEDIUM, "java.base64-class", start, end, f"{word} in base64")
    return None


def assess(value: str) -> Hit | None:
    best: Hit | None = None
    for check in (_serialized, _spring4shell):
        h = check(value)
        if h is not None:
            return h
    names = dotted_names(value)
    for ncheck in (_expressions, _calls, _class_hits):
        h = ncheck(value, names)
        if h is not None and (best is None or h.severity > best.severity):
            best = h
            if best.severity >= Severity.HIGH:
                return best
    h = _base64_words(value)
    if h is not None and (best is None or h.severity > best.severity):
        best = h
    return best


def _base64_fragments(word: str) -> list[str]:
    """The base64 characters fully determined by `word` at each of the three alignments."""
    out = []
    b = word.encode()
    for off in range(3):
        enc = binascii.b2a_base64(b"\0" * off + b + b"\0\0", newline=False).decode()
        first, last = -(-off * 8 // 6), (off + len(b)) * 8 // 6
        frag = enc[first:last]
        if len(frag) >= 6:
            out.append(frag)
    return out


def _trigger_patterns() -> tuple[str, ...]:
    vocab = vocabulary()
    words = sorted(vocab.danger | vocab.gadgets)
    frags: set[str] = set()
    for w in vocab.base64_words:
        for variant in {w, w.title().replace(".", "."), w[:1].upper() + w[1:]}:
            frags.update(_base64_fragments(variant))
    frag_alt = "|".join(sorted(frags))
    return (
        r"(?:java|javax|jdk|sun|com|org|net|ognl|bsh|groovy|freemarker|weblogic|oracle)\.[a-z_$]",
        "(?:" + "|".join(words) + ")", r"[t@]\s*\(", r"%\{", r"#_memberaccess", r"ro0ab", r"kztaau", r"cs7qaf",
        r"aced0005", "\xac\xed", r"class\.(?:module|classloader|protectiondomain)", r"getruntime", r"forname",
        r"['\"\]]\s*\.\s*execute\s*\(",
        "(?:" + frag_alt + ")",
    )


NAME_KINDS = frozenset({"query", "form", "cookie", "json", "multipart", "xml"})
MAX_NAMES_CHECKED = 512


def member_name(inp: Input) -> str:
    """The parameter, cookie or member name an Input was found under ($['a.b'] → a.b, $.x.y → y)."""
    name = inp.name
    if inp.kind == "json":
        if name.endswith("']") and "['" in name:
            return name[name.rfind("['") + 2:-2]
        return name.rsplit(".", 1)[-1].split("[", 1)[0]
    if inp.kind == "xml":
        return ""  # element and attribute names are markup, not data
    return name


@register
class JavaInjection(Detector):
    name = "java"
    triggers = _trigger_patterns()

    def __init__(self) -> None:
        # built with the engine, not on the first request: compiling takes a while
        self._names = Prefilter([self])
        vocabulary()

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        return finding("rce", assess(inp.value), inp)

    def scan_request(self, request: Request, inputs: Sequence[Input]) -> Iterable[Finding]:
        """Class names and serialized objects used as parameter names (java.lang.Runtime=x).

        Plain names are not Inputs of their own (decode keeps only unusual ones),
        so they are screened here: one trigger scan over all names joined, and a
        closer look only at names when it fires.
        """
        # one trigger scan over the raw names first: most requests stop here
        if not self._names.candidates("\n".join([i.name for i in inputs[:MAX_NAMES_CHECKED]])):
            return ()
        keys = {i.value for i in inputs if i.role == "key"}
        names: list[tuple[str, Input]] = []
        for inp in inputs[:MAX_NAMES_CHECKED]:
            if inp.role != "value" or inp.kind not in NAME_KINDS:
                continue
            n = member_name(inp)
            if len(n) >= 6 and n not in keys:
                names.append((n, inp))
        if not names:
            return ()
        out: list[Finding] = []
        for n, inp in names:
            hit = assess(n)
            if hit is not None:
                key = Input(inp.kind, inp.name, n, inp.chain, n, "key")
                out.extend(finding("rce", hit, key))
                break
        return out
