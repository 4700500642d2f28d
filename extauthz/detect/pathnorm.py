"""Resolve a path-like string the way a file API would see it.

Path traversal is decided on what a value *resolves to*, not on how it is
spelled: `..%c0%af`, `0x2e0x2e/`, `..\\`, `....//`, `..;/`, fullwidth dots and a
NUL byte that truncates the name are all ways of writing the same climb. The
decode stage has already undone the request's own encoding layers; this module
undoes what is left at path level (residual `%2e`, `0x2e`, lookalike
characters, Windows separators and drive letters) and then walks the segments.

Everything is bounded (token length, segment count) and uses plain string
methods only: no regular expressions on request data.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_TOKEN = 2048
MAX_SEGMENTS = 256

# Residual encodings of the three path characters, in the order they must be
# undone (`%25` first so that one double encoding is seen through). Lower-case:
# the token is lower-cased before this runs.
_RESIDUAL = (
    ("%25", "%"),
    ("%2e", "."), ("%2f", "/"), ("%5c", "\\"),
    ("%c0%ae", "."), ("%c0%af", "/"), ("%c1%9c", "\\"), ("%c1%1c", "/"),
    ("%e0%80%ae", "."), ("%e0%80%af", "/"),
    ("%u002e", "."), ("%u002f", "/"), ("%u005c", "\\"),
    ("%u2215", "/"), ("%u2216", "\\"), ("%uff0e", "."), ("%uff0f", "/"),
    ("0x2e", "."), ("0x2f", "/"), ("0x5c", "\\"),
    ("%00", "\x00"),
)

# Characters that path APIs or normalising servers (IIS, Unicode-aware
# frameworks) treat as dots and separators.
_LOOKALIKES = str.maketrans({
    "\uff0e": ".", "\u2024": ".", "\ufe52": ".", "\u3002": ".",
    "\u2025": "..", "\u2026": "...",
    "\uff0f": "/", "\u2215": "/", "\u2044": "/", "\u29f8": "/",
    "\uff3c": "/", "\u2216": "/", "\ufe68": "/", "\u29f9": "/",  # backslash lookalikes: separators too
    "\\": "/",
})


@dataclass(frozen=True, slots=True)
class ResolvedPath:
    """Where a path-like token leads.

    `climb` counts the parent steps taken above the token's own starting point
    (for a request path: above the web root). `segments` is the resolved path,
    lower-cased. `obfuscated` says that residual encodings, lookalike
    characters, odd dot segments or path parameters were needed to get there.
    """

    segments: tuple[str, ...]
    climb: int
    parents: int
    absolute: bool
    nul: bool
    obfuscated: bool

    @property
    def text(self) -> str:
        return "/".join(self.segments)


def normalise(token: str) -> tuple[str, bool]:
    """Lower-case, undo residual encodings and lookalikes; forward slashes only."""
    t = token[:MAX_TOKEN].lower()
    original = t
    if "%" in t or "0x" in t:
        for _ in range(2):
            before = t
            for enc, rep in _RESIDUAL:
                if enc in t:
                    t = t.replace(enc, rep)
            if t == before:
                break
    t = t.translate(_LOOKALIKES)
    obfuscated = t != original.replace("\\", "/")
    return t, obfuscated


def _is_parent(seg: str) -> tuple[bool, bool]:
    """(is a parent step, was it spelled oddly).

    `..` is the parent; servers on Windows also strip trailing dots and spaces
    (`...`, `.. `), and Tomcat-style path parameters (`..;x`) are dropped by the
    container before it resolves the path.
    """
    odd = False
    if ";" in seg:
        seg = seg.split(";", 1)[0]
        odd = True
    stripped = seg.rstrip(" \t")
    if stripped != seg:
        odd = True
    if len(stripped) >= 2 and stripped.strip(".") == "":
        return True, odd or len(stripped) > 2
    return False, False


# Windows (and the servers on it: IIS, Tomcat, Apache for Windows) ignores trailing dots and
# blanks in a file name and reads `name::$DATA` as the file's main stream: `WEB-INF./web.xml`
# and `default.asp::$DATA` open the protected file under a name no filter lists. Not applied
# to the last segment (`... is in /etc/passwd.` ends a sentence), except for `::$DATA`.
_WINDOWS_IGNORED = frozenset(". \t")


def _windows_name(seg: str) -> str:
    if seg.endswith("::$data"):
        seg = seg[:-7]
    elif seg.endswith("::"):
        seg = seg[:-2]  # a `$` ends a path token in free text: `name::` is what is left of `name::$DATA`
    return seg.rstrip(". \t") if seg.strip(".") else seg


def resolve(token: str) -> ResolvedPath:
    """Walk a path-like token's segments; never raises, bounded by MAX_*."""
    t, obfuscated = normalise(token)
    nul = "\x00" in t
    if nul:
        t = t.split("\x00", 1)[0]
    absolute = False
    if t.startswith("file:"):
        t = t[5:]
        absolute = True
    if len(t) >= 2 and t[1] == ":" and t[0].isalpha() and t[0].isascii():
        t = t[2:]
        absolute = True
    if t.startswith("/"):
        absolute = True
    stack: list[str] = []
    climb = parents = 0
    segs = t.split("/", MAX_SEGMENTS)
    last = len(segs) - 1
    for i, seg in enumerate(segs):
        if i >= MAX_SEGMENTS:
            break
        if seg == "" or seg == ".":
            continue
        parent, odd = _is_parent(seg)
        if parent:
            parents += 1
            obfuscated = obfuscated or odd
            if stack:
                stack.pop()
            else:
                climb += 1
            continue
        if ";" in seg:
            seg = seg.split(";", 1)[0]
            if not seg:
                continue
        if seg.endswith(("::$data", "::")) or (seg[-1] in _WINDOWS_IGNORED and i < last):
            bare = _windows_name(seg)
            if bare != seg:
                obfuscated = True
                seg = bare
                if not seg:
                    continue
        stack.append(seg)
    return ResolvedPath(tuple(stack), climb, parents, absolute, nul, obfuscated)


def strip_once(token: str) -> str:
    """What a naive filter that deletes `../` once leaves (`....//` → `../`)."""
    t = token.replace("\\", "/")
    return t.replace("../", "") if "../" in t else t


# Characters that end a path inside free text (a shell command, a template, a
# JSON-ish blob). Not `;` (`..;/`), `:` (drive letters, `file:`), `@` (`/@fs/`).
_TOKEN_BREAKS = str.maketrans({c: " " for c in "\t\r\n\"'`<>|&(),={}[]*?!$^"})
MAX_TOKENS = 32


def path_tokens(value: str) -> list[str]:
    """Path-like tokens of a value: the pieces with a separator or a dot-dot.

    Free text rarely holds a path on its own (`cat /etc/passwd`,
    `include('../../x')`); splitting at characters that cannot be part of an
    unquoted path finds them. Bounded by MAX_TOKENS and MAX_TOKEN.
    """
    out: list[str] = []
    for tok in value[: MAX_TOKEN * 4].translate(_TOKEN_BREAKS).split():
        low = tok.lower()
        if "/" in tok or "\\" in tok or ".." in tok or "0x" in low or "%" in tok:
            out.append(tok)
            if len(out) >= MAX_TOKENS:
                break
    return out
