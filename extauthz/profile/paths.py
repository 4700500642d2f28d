"""Endpoint templates: `/users/123` and `/users/456` are one endpoint, `/users/{int}`.

A path segment that is an id by its form (digits, uuid, long hex, a date, a
long random token) becomes a placeholder at once. Segments that are ids only
by their number (slugs, names) are found by cardinality: when one position
under a prefix has had more than `max_literals` distinct literal segments, the
prefix is *collapsed* and every segment there becomes `{slug}` (or `{str}` for
one outside the slug alphabet). That guard is also what keeps random paths
from growing a service's endpoint table without bound.

Templates are plain strings; placeholders are the only segments in braces.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

MAX_SEGMENTS = 12  # deeper paths end in `{rest}`
MAX_LITERAL = 100  # a longer literal segment is `{str}`
PLACEHOLDERS = ("{int}", "{uuid}", "{hex}", "{date}", "{token}", "{slug}", "{str}", "{rest}")

_HEX = "0123456789abcdefABCDEF"
_SLUG = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~%"
_TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


def _typed(seg: str) -> str | None:
    """The placeholder of a segment that is an id by its form, else None."""
    n = len(seg)
    if seg.isdigit():
        return "{int}"
    if n == 36 and seg[8] == seg[13] == seg[18] == seg[23] == "-" and not seg.replace("-", "").strip(_HEX):
        return "{uuid}"
    if n >= 8 and not seg.strip(_HEX):
        has_digit = not seg.isalpha()
        has_letter = not seg.isdigit()
        if (has_digit and has_letter and (seg.islower() or seg.isupper())) or n >= 16:
            return "{hex}"
    if n == 10 and seg[4] == seg[7] == "-" and seg[:4].isdigit() and seg[5:7].isdigit() and seg[8:].isdigit():
        return "{date}"
    if n >= 20 and not seg.strip(_TOKEN) and not seg.isalpha() and not seg.replace("-", "").replace("_", "").isdigit():
        # long, mixed letters and digits, no separators a word would have: a generated id
        if sum(1 for ch in seg if ch.isdigit()) * 8 >= n:
            return "{token}"
    return None


def segment_placeholder(seg: str) -> str | None:
    """Placeholder for a segment, looking through one file extension (`123.json` -> `{int}.json`)."""
    typed = _typed(seg)
    if typed is not None:
        return typed
    base, dot, ext = seg.rpartition(".")
    if dot and base and 0 < len(ext) <= 5 and ext.isalnum():
        typed = _typed(base)
        if typed is not None:
            return f"{typed}.{ext}"
    return None


def _collapsed_placeholder(seg: str) -> str:
    return "{slug}" if seg and not seg.strip(_SLUG) else "{str}"


def template(path: str, collapsed: frozenset[str] = frozenset()) -> str:
    """The endpoint template of a raw request path (query already removed)."""
    segs = path.split("/")
    out: list[str] = []
    prefix = ""
    for i, seg in enumerate(segs[1:] if segs and segs[0] == "" else segs):
        if i >= MAX_SEGMENTS:
            out.append("{rest}")
            break
        ph = segment_placeholder(seg) if seg else None
        if ph is None:
            if collapsed and prefix in collapsed:
                ph = _collapsed_placeholder(seg)
            elif len(seg) > MAX_LITERAL or "{" in seg:
                ph = "{str}"
        part = ph or seg
        out.append(part)
        if collapsed:
            prefix = f"{prefix}/{part}"
    return "/" + "/".join(out)


def is_placeholder(seg: str) -> bool:
    return seg.startswith("{")  # template() never keeps a literal segment with a brace


def retemplate(tpl: str, collapsed: frozenset[str]) -> str:
    """A learned template re-keyed after more prefixes collapsed (placeholders stay)."""
    segs = tpl.split("/")[1:]
    out: list[str] = []
    prefix = ""
    for seg in segs:
        if not is_placeholder(seg) and prefix in collapsed:
            seg = _collapsed_placeholder(seg)
        out.append(seg)
        prefix = f"{prefix}/{seg}"
    return "/" + "/".join(out)


def crowded_prefixes(templates: Iterable[str], max_literals: int) -> set[str]:
    """Prefixes under which more than `max_literals` distinct literal segments were seen."""
    children: dict[str, set[str]] = defaultdict(set)
    for tpl in templates:
        prefix = ""
        for seg in tpl.split("/")[1:]:
            if not is_placeholder(seg):
                children[prefix].add(seg)
            prefix = f"{prefix}/{seg}"
    return {p for p, segs in children.items() if len(segs) > max_literals}


def normalize_name(name: str) -> str:
    """A parameter name with array indices and id-like keys generalized.

    `$.items[2].sku` -> `$.items[*].sku`, `$.prices.12345` -> `$.prices.{int}`,
    `ids[0]` -> `ids[*]`, so arrays and maps keyed by ids stay one parameter.
    """
    if "[" in name:
        parts = []
        i = 0
        n = len(name)
        while i < n:
            j = name.find("[", i)
            if j < 0:
                parts.append(name[i:])
                break
            k = name.find("]", j)
            if k < 0:
                parts.append(name[i:])
                break
            inner = name[j + 1:k]
            parts.append(name[i:j])
            parts.append("[*]" if inner.isdigit() else name[j:k + 1])
            i = k + 1
        name = "".join(parts)
    if "." in name or "/" in name:
        sep = "." if "." in name else "/"
        segs = name.split(sep)
        changed = False
        for idx, seg in enumerate(segs):
            if seg and idx and (ph := _typed(seg)) is not None:
                segs[idx] = ph
                changed = True
        if changed:
            name = sep.join(segs)
    elif name.isdigit():
        name = "{int}"
    return name
