"""HTML tags blanked out of a document, for the readers of other languages.

A rich-text field, a README with inline HTML or a page fragment is text between
tags. The shell reader sees `<li>` as a redirect from a file `li`, `</a>` as
one from `/a`, and `Query strings</a></li>\\n<li>` as the command `strings`
after a line break; the text between the tags is what a shell, SQL or PHP
payload would have to be written in. `mask_tags` replaces each tag of a known
HTML, SVG or custom element (and each comment) with spaces of the same length,
so offsets and excerpts stay those of the value; in such a document, character
references (`&amp;`, `&nbsp;`, `&#160;`: shell separators otherwise) too. A tag that carries shell substitution
(`<a x=$(id)>`, backticks, `${`) is kept: the shell expands those words before
it fails on the redirect. One pass, bounded by the value's length.
"""
from __future__ import annotations

import threading

from functools import lru_cache

from extauthz.rules import rule_words

MAX_TAG = 1024          # a tag longer than this is left alone (no `>` near: not a tag)
MIN_TAGS = 2            # one `<b>` is no document; two tags are
_KEEP = ("$(", "`", "${")


@lru_cache(maxsize=1)
def _elements() -> frozenset[str]:
    return rule_words("xss.yaml", "html_elements") | rule_words("html_markup.yaml", "foreign_elements")


@lru_cache(maxsize=1)
def _entities() -> frozenset[str]:
    return rule_words("html_markup.yaml", "entities")


def _element_name(name: str) -> bool:
    """A known element, or a custom element (`rustdoc-toolbar`: a hyphen in its name)."""
    low = name.lower()
    return low in _elements() or ("-" in low[1:] and low[:1].isalpha())


def _known(value: str, i: int) -> bool:
    """The tag at value[i] names an HTML/SVG element (not a custom one)."""
    j = i + 1 + (value[i + 1:i + 2] == "/")
    k = j
    while k < len(value) and k - j < 32 and value[k].isalnum():
        k += 1
    return value[j:k].lower() in _elements() and value[k:k + 1] != "-"


def _entity_end(value: str, i: int) -> int:
    """Index after a character reference at value[i] == '&' (`&nbsp;`, `&#160;`, `&#x27;`), or -1."""
    end = value.find(";", i + 2, i + 12)
    if end < 0:
        return -1
    name = value[i + 1:end]
    if name[:1] == "#":
        digits = name[2:] if name[1:2] in "xX" else name[1:]
        ok = digits.isalnum() and all(c in "0123456789abcdefABCDEF" for c in digits)
    else:
        ok = name.lower() in _entities()
    return end + 1 if ok else -1


def _tag_end(value: str, i: int) -> int:
    """Index after the tag or comment starting at value[i] == '<', or -1."""
    n = len(value)
    if value.startswith("<!--", i):
        end = value.find("-->", i + 4, i + 4 * MAX_TAG)
        return end + 3 if end >= 0 else -1
    j = i + 1 + (value[i + 1:i + 2] == "/")
    k = j
    while k < n and k - j < 32 and (value[k].isalnum() or value[k] == "-"):
        k += 1
    if k == j or not _element_name(value[j:k]) or (k < n and value[k] not in " \t\r\n/>"):
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
            # a custom element counts only in company: `<gcc-lib-dir>` in text is a placeholder
            tags += value[i + 1:i + 4] == "!--" or _known(value, i)
        i = value.find("<", end)
    if tags < MIN_TAGS:
        return value
    out.append(value[last:])
    return _mask_entities("".join(out))


def _mask_entities(value: str) -> str:
    """The character references of a markup document blanked (same length)."""
    out: list[str] = []
    last = 0
    i = value.find("&")
    while i >= 0:
        end = _entity_end(value, i)
        if end > 0:
            out.append(value[last:i])
            out.append(" " * (end - i))
            last = end
            i = value.find("&", end)
        else:
            i = value.find("&", i + 1)
    out.append(value[last:])
    return "".join(out)


MIN_DOCUMENT_WORDS = 24  # words of two or more letters in the first MAX_WORD_SCAN characters
MAX_WORD_SCAN = 4096


_windows = threading.local()


def set_document_windows(windows: "frozenset[str] | None") -> None:
    """The windows (extauthz.detect.pipeline.windows) of the values being read that are
    documents as a whole: a window of a minified page may hold no line break, and
    is_document must judge it as the page it comes from. None clears."""
    _windows.current = windows


def is_document(value: str) -> bool:
    """A document (a README, a page, a description): at least MIN_DOCUMENT characters over
    MIN_LINES lines with MIN_DOCUMENT_WORDS words of text. Code examples in one are
    quoted, not run: what would be an injection's call in a short value is documentation
    here, unless it is dangerous on its own (the detectors decide which)."""
    windows = getattr(_windows, "current", None)
    if windows and value in windows:
        return True
    if len(value) < MIN_DOCUMENT or value.count("\n", 0, MAX_WORD_SCAN) < MIN_LINES - 1:
        return False
    words = 0
    for w in value[:MAX_WORD_SCAN].split():
        w = w.strip(".,;:!?()[]{}\"'`*_<>")
        if len(w) >= 2 and w.isalpha():
            words += 1
            if words >= MIN_DOCUMENT_WORDS:
                return True
    return False


# Markdown / reStructuredText code spans: `pip install x`, ``setup.py``.
MIN_SPANS = 2
MIN_LINES = 3
MIN_DOCUMENT = 256
MAX_SPAN = 200
_SPAN_KEEP = frozenset(";|&$<>\n")  # separators, substitution or redirects inside: a command line


def mask_code_spans(value: str) -> str:
    """`value` with the backticks of its code markup blanked, when it is a markdown or
    reStructuredText document (at least MIN_DOCUMENT characters, MIN_LINES lines and
    MIN_SPANS pieces of code markup). In such a document "type `python setup.py install`"
    quotes a command as text, and "```bash" opens a code block; in shell the backticks
    would run a command. Blanked (same length):
    - fences: a run of three or more backticks opening a line, with its info string;
    - inline spans (one or two backticks) on one line, opening after a blank, a line start,
      an opening bracket or quote, `_` or `:` (reStructuredText labels and roles), closing
      before a blank or punctuation, with no separator, substitution or redirect inside
      (`` `curl x | sh` `` stays as it is: a command line) except reStructuredText's link
      target (`` :ref:`Set <univ.Set>` ``, `` `text <url>`_ ``);
    - GNU-style quotations (`find foo -print'), opened by a backtick, closed by an
      apostrophe on the same line."""
    if len(value) < MIN_DOCUMENT or value.count("\n") < MIN_LINES - 1 or value.count("`") < MIN_SPANS:
        return value
    out = list(value)
    pieces = _fences(value, out)
    n = len(value)
    i = value.find("`")
    while i >= 0 and pieces < 4096:
        if out[i] != "`":  # part of a fence already blanked
            i = value.find("`", i + 1)
            continue
        k = i
        while k < n and value[k] == "`":
            k += 1
        ticks = k - i
        line_end = value.find("\n", k, k + MAX_SPAN)
        line_end = line_end if line_end >= 0 else min(n, k + MAX_SPAN)
        close = value.find("`" * ticks, k, line_end)
        before = value[i - 1:i] if i > 0 else "\n"
        opens = before.isspace() or before in "([{\"'*_:/"
        if ticks > 2 or not opens:
            i = value.find("`", k)
            continue
        if close < 0:
            quote = value.find("'", k, line_end)
            if ticks == 1 and quote > k and not any(c in _SPAN_KEEP for c in value[k:quote]):
                out[i] = " "  # `find foo -print': a GNU-style quotation
                pieces += 1
            i = value.find("`", k)
            continue
        after = value[close + ticks:close + ticks + 1]
        inner = value[k:close]
        rst_link = (before == ":" or after == "_") and inner.endswith(">") and "<" in inner
        keep = any(c in _SPAN_KEEP for c in (inner[:inner.rfind("<")] if rst_link else inner))
        if (after == "`" or not (after == "" or after.isspace() or after in ".,;:!?)]}\"'*_/-s")
                or not inner.strip() or keep):
            i = value.find("`", close + ticks)
            continue
        for j in list(range(i, k)) + list(range(close, close + ticks)):
            out[j] = " "
        pieces += 1
        i = value.find("`", close + ticks)
    if pieces < MIN_SPANS:
        return value
    return "".join(out)


def _fences(value: str, out: list[str]) -> int:
    """Blank the code fences (```bash, ~~~ is no shell) of a markdown document in `out`;
    how many there were."""
    count = 0
    i = value.find("```")
    while i >= 0 and count < 4096:
        j = i
        while j > 0 and value[j - 1] == " " and i - j < 3:
            j -= 1
        if j == 0 or value[j - 1] == "\n":  # opens a line (up to three spaces of indent)
            end = value.find("\n", i)
            end = end if end >= 0 else len(value)
            info = value[i:end].strip("`").strip()
            if not info or (len(info) <= 32 and all(c.isalnum() or c in "+-_.{}=# " for c in info)):
                for j in range(i, end):
                    out[j] = " "
                count += 1
                i = value.find("```", end)
                continue
        i = value.find("```", i + 3)
    return count
