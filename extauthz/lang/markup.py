"""HTML tags blanked out of a document, for the readers of other languages.

A rich-text field, a README with inline HTML or a page fragment is text between
tags. The shell reader sees `<li>` as a redirect from a file `li`, `</a>` as
one from `/a`, and `Query strings</a></li>\\n<li>` as the command `strings`
after a line break; the text between the tags is what a shell, SQL or PHP
payload would have to be written in. `mask_tags` replaces each tag of a known
HTML element (and each comment) with spaces of the same length, so offsets and
excerpts stay those of the value. A tag that carries shell substitution
(`<a x=$(id)>`, backticks, `${`) is kept: the shell expands those words before
it fails on the redirect. One pass, bounded by the value's length.
"""
from __future__ import annotations

from functools import lru_cache

from extauthz.rules import rule_words

MAX_TAG = 1024          # a tag longer than this is left alone (no `>` near: not a tag)
MIN_TAGS = 2            # one `<b>` is no document; two tags are
_KEEP = ("$(", "`", "${")


@lru_cache(maxsize=1)
def _elements() -> frozenset[str]:
    return rule_words("xss.yaml", "html_elements")


def _tag_end(value: str, i: int) -> int:
    """Index after the tag or comment starting at value[i] == '<', or -1."""
    n = len(value)
    if value.startswith("<!--", i):
        end = value.find("-->", i + 4, i + 4 * MAX_TAG)
        return end + 3 if end >= 0 else -1
    j = i + 1 + (value[i + 1:i + 2] == "/")
    k = j
    while k < n and k - j < 16 and value[k].isalnum():
        k += 1
    if k == j or value[j:k].lower() not in _elements() or (k < n and value[k] not in " \t\r\n/>"):
        return -1
    end = value.find(">", k, i + MAX_TAG)
    if end < 0 or value.find("<", k, end) >= 0:
        return -1
    return end + 1


def mask_tags(value: str) -> str:
    """`value` with its HTML tags and comments blanked (see the module docstring); the value
    itself when it holds fewer than MIN_TAGS of them."""
    if value.count("<") < MIN_TAGS:
        return value
    out: list[str] = []
    last = 0
    tags = 0
    i = value.find("<")
    while i >= 0:
        end = _tag_end(value, i)
        if end < 0:
            i = value.find("<", i + 1)
            continue
        if not any(k in value[i:end] for k in _KEEP):
            out.append(value[last:i])
            out.append(" " * (end - i))
            last = end
            tags += 1
        i = value.find("<", end)
    if tags < MIN_TAGS:
        return value
    out.append(value[last:])
    return "".join(out)
