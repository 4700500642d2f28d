"""The forms a value may take between the request and the page that shows it.

The XSS detector reads each form (xss.analyse). Two families:

Plain forms, read with full severity — what common stacks do to a value:
- NUL bytes dropped (old browsers and C libraries skip them);
- full-width ＜script＞ folded to ASCII (compatibility normalisation);
- "+" read as a blank when there is no other (a form-encoded space decoded once too few);
- typographic quotes folded to ASCII;
- JavaScript escapes \\x3c / \\u003c / octal \\74 decoded (a value written into a JS string, then the page);
- UTF-7 decoded when the value carries UTF-7 markup ("+ADw-script+AD4-").

Lenient forms, read with findings capped at HIGH — what a specific parser, filter
or legacy charset makes of it, so the attack works only on some stacks:
- CSV-doubled quotes undone: `"<div onmouseover=""alert(1)"">"` (a value exported
  through a spreadsheet or CSV field and pasted back);
- backslash-escaped quotes undone: `<img style=\\"x:expression(alert(1))\\">`
  (magic quotes / JSON escaping that a later stripslashes removes);
- XML data islands read as an XML parser does: CDATA sections joined and comments
  dropped (`javas]]><![CDATA[cript:`, `javas<!-- -->cript:`), as old IE did with
  <xml> islands bound into the page;
- filler that filters strip removed: `<s[NULL]cript>`, `<scr\\0ipt>`, `<scr/**/ipt>`,
  `<s"+"cript>`, `< s c r i p t >`;
- legacy charsets narrowed: a page served as US-ASCII with the high bit stripped
  (IE: `¼script¾` = 0xBC 0xBE = `<script>`), code points truncated to a byte
  (`мscriptо`: U+043C → 0x3C) or read as the wrong UTF-16 half (`㰀script㸀`);
- the long s and dotless i upper-cased (`<ſcript>` becomes <SCRIPT> in code that
  upper-cases markup).

All bounded: each transformation is one pass over at most MAX_TEXT characters.
"""
from __future__ import annotations

from typing import NamedTuple

from extauthz.detect.js_tokens import js_string_value
from extauthz.detect.pieces import PIECE_MIN, changed_pieces

MAX_TEXT = 8192
MAX_ESCAPED = 2048  # characters of escaped markup (&lt;...&gt;) read unescaped

_SMART_QUOTES = frozenset("\u2018\u2019\u201c\u201d\u00b4\u2032\u2033")
_FOLD_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u00b4": "'", "\u2032": "'",
                              "\u201c": '"', "\u201d": '"', "\u2033": '"'})
# NFKC (the decode layer) turns ¼ ½ ¾ into "1⁄4" "1⁄2" "3⁄4"; the narrowing reads the originals.
_FRACTIONS = (("1\u20444", "\u00bc"), ("1\u20442", "\u00bd"), ("3\u20444", "\u00be"))
_UPPER_TRAPS = frozenset("\u017f\u0131\u212a")  # ſ ı K: upper-case to S I K
_NUL_NAMES = ("[null]", "[nul]", "[0x00]", "[\\x00]", "[%00]", "\\\\0", "\\0", "[\x00]")


class Form(NamedTuple):
    text: str
    lenient: bool  # read by a specific parser, filter or charset only: findings capped at HIGH
    # a stretch of a long value's form: the stretch of the value it stands for (extauthz.detect.pieces)
    original: str | None = None


def variants(value: str) -> list[Form]:
    """The value and the forms it may take (see module docstring); the value first."""
    v = value.replace("\x00", "") if "\x00" in value else value
    out = [Form(v, False)]
    if any("\uff01" <= c <= "\uff5e" for c in v[:4096] if c > "\u3000"):
        out.append(Form("".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else c for c in v), False))
    if "+" in v and " " not in v:
        out.append(Form(v.replace("+", " "), False))
    if not _SMART_QUOTES.isdisjoint(v):
        out.append(Form(v.translate(_FOLD_QUOTES), False))  # ‘-alert(1)-’: quotes some stacks fold to ASCII
    low = v.lower()
    if "\\x3c" in low or "\\u003c" in low or "\\u00" in low or "\\74" in low or "\\074" in low:
        out.append(Form(js_string_value(v), False))
    if "+adw-" in low:  # UTF-7 "+ADw-script+AD4-" under a page declared (or sniffed) as UTF-7
        try:
            out.append(Form(v[:MAX_TEXT].encode("ascii", "replace").decode("utf-7", "replace"), False))
        except (UnicodeError, ValueError):
            pass
    _lenient(value, v, low, out)
    if len(v) >= PIECE_MIN and len(out) > 1:
        return _around_changes(v, out)
    return out


def _around_changes(v: str, forms: list[Form]) -> list[Form]:
    """A long value's other forms as the stretches around what each changed (extauthz.detect.pieces):
    a document's bullets, typographic quotes and [1] references are not worth reading it again."""
    out = [forms[0]]
    seen = {v}
    for f in forms[1:]:
        for text, original in changed_pieces(v, f.text) or ((f.text, None),):
            if text not in seen:
                seen.add(text)
                out.append(Form(text, f.lenient, original))
    return out


def _lenient(value: str, v: str, low: str, out: list[Form]) -> None:
    seen = {f.text for f in out}

    def add(text: str) -> None:
        if text and text not in seen and len(out) < 12:
            seen.add(text)
            out.append(Form(text, True))

    text = v[:MAX_TEXT]
    if text[:1] == '"' and '""' in text[1:]:
        text = undouble_csv(text)
        add(text)
    if "\\'" in text or '\\"' in text:
        text = unescape_quotes(text)
        add(text)
    if "&" in text and _ESCAPED_TAG_OPENERS.intersection(_reference_heads(low)):
        unescaped = unescape_markup(text[:MAX_ESCAPED])  # escaped payloads are short; bounds a third read
        if unescaped != text:
            add(unescape_quotes(unescaped) if "\\" in unescaped else unescaped)
    xml = ("<![cdata[" in low or "<xml" in low or "<?xml" in low) and "<" in text
    if xml:
        add(join_xml_text(text))
    if "<" in v or "\uff1c" in v:
        stripped = strip_filler(text)
        if stripped != text:
            add(stripped)
            if xml:
                add(join_xml_text(stripped))
    spaced = unspace_letters(text)
    if spaced:
        add(spaced)
    quotes = text.count("'") + text.count('"')
    if quotes >= 6 and quotes * 5 >= len(text) and "<" in text:
        add(text.replace("'", "").replace('"', ""))  # '<'s'v'g' o'n'l'o'a'd'=...: a filter that drops quotes
    unnested = unnest_keywords(low)
    if unnested:
        add(unnested)
    if "\x0b" in text and "<" in text:
        add(text.replace("\x0b", " "))  # <script\x0b...>: old IE took a vertical tab for a blank in tags
    if text.count("% ") >= 4:
        joined = join_spaced_percent(text)
        if joined:
            add(joined)
            narrowed = narrow_legacy(joined)
            if narrowed:
                add(narrowed)
    if not text.isascii():
        repaired = unmojibake(text)
        for t in (text, repaired) if repaired else (text,):
            narrowed = narrow_legacy(value[:MAX_TEXT] if t is text else t)
            if narrowed:
                add(narrowed)
            if not _UPPER_TRAPS.isdisjoint(t):
                add(t.upper())
        if repaired:
            add(repaired)


# What NFKC (the decode layer) made of the Latin-1 spacing marks that mojibake is full of
# (`ã¸€` is U+3E00 read as Windows-1252; NFKC turns its `¸` into a blank and a combining cedilla).
_NFKC_SPACING = (("\u0020\u0327", "\u00b8"), ("\u0020\u0301", "\u00b4"), ("\u0020\u0308", "\u00a8"),
                 ("\u0020\u0304", "\u00af"))


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def join_spaced_percent(text: str) -> str:
    """`% E3% B0% 80script`: UTF-8 percent escapes with a blank after each `%` (a layer that
    spaced them out, a filter that looks for `%E3` only), joined and decoded as UTF-8; '' when
    fewer than four such escapes make bytes."""
    out = bytearray()
    escapes = 0
    i, n = 0, min(len(text), MAX_TEXT)
    while i < n:
        c = text[i]
        if c == "%":
            j = i + 1
            while j < n and j - i <= 2 and text[j] == " ":
                j += 1
            h = text[j:j + 2]
            if len(h) == 2 and h[0] in _HEX_DIGITS and h[1] in _HEX_DIGITS:
                out.append(int(h, 16))
                escapes += 1
                i = j + 2
                continue
        out.extend(c.encode("utf-8", "replace"))
        i += 1
    if escapes < 4:
        return ""
    return out.decode("utf-8", "replace")


def unmojibake(text: str) -> str:
    """UTF-8 that a layer read as Windows-1252 and encoded again (`<Å¿cript>` for `<ſcript>`,
    `ã°€` for `㰀`), read back; '' when the text is not such a double encoding."""
    for nfkc, mark in _NFKC_SPACING:
        if nfkc in text:
            text = text.replace(nfkc, mark)
    try:
        repaired = text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return ""
    return repaired if repaired != text else ""


# References to the characters that make markup: `&lt;A HREF=...&gt;` read by a layer that
# decodes them once more (a template that unescapes, a second HTML parse, innerHTML of text)
_MARKUP_REFERENCES = {"lt": "<", "gt": ">", "quot": '"', "apos": "'", "#60": "<", "#62": ">", "#34": '"',
                      "#39": "'", "#x3c": "<", "#x3e": ">", "#x22": '"', "#x27": "'"}
_ESCAPED_TAG_OPENERS = frozenset({"lt", "#60", "#x3c"})
_MAX_REFERENCE = 10


def _reference_heads(low: str) -> set[str]:
    """Names of the markup references in `low` that are followed by a tag's first character."""
    heads: set[str] = set()
    i = low.find("&")
    while 0 <= i < MAX_TEXT and len(heads) < 4:
        name, end = _markup_reference(low, i)
        if name in _ESCAPED_TAG_OPENERS and end < len(low) and (low[end].isalpha() or low[end] in "/!"):
            heads.add(name)
        i = low.find("&", i + 1)
    return heads


def _markup_reference(low: str, i: int) -> tuple[str, int]:
    """The markup reference at low[i] == "&" (leading zeros dropped, `;` optional) and the index after
    it; ("", i) when there is none."""
    j = i + 1
    while j < len(low) and j - i <= _MAX_REFERENCE and (low[j].isalnum() or low[j] == "#"):
        j += 1
    name = low[i + 1:j]
    if name.startswith("#x"):
        name = "#x" + name[2:].lstrip("0")
    elif name.startswith("#"):
        name = "#" + name[1:].lstrip("0")
    if name not in _MARKUP_REFERENCES:
        return "", i
    return name, j + 1 if low[j:j + 1] == ";" else j


def unescape_markup(text: str) -> str:
    """`&lt;A HREF=&quot;...&quot;&gt;` with the references to < > " ' decoded, every other
    reference kept as written (`http&#58;//` stays for the URL reader to judge)."""
    text = text[:MAX_TEXT]
    low = text.lower()
    out: list[str] = []
    i = 0
    k = low.find("&")
    while k >= 0:
        name, end = _markup_reference(low, k)
        if name:
            out.append(text[i:k])
            out.append(_MARKUP_REFERENCES[name])
            i = end
        k = low.find("&", max(end, k + 1))
    out.append(text[i:])
    return "".join(out)


def undouble_csv(text: str) -> str:
    """`"<a b=""c"">"` as a CSV field holds it: outer quotes off, doubled quotes single."""
    inner = text[1:-1] if text.endswith('"') and not text.endswith('""') or text.endswith('"""') else text[1:]
    return inner.replace('""', '"')


def unescape_quotes(text: str) -> str:
    """Backslash escapes of quotes and backslashes undone, at most three levels (`\\\\\\"` → `"`)."""
    for _ in range(3):
        if "\\" not in text:
            break
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c == "\\" and i + 1 < n and text[i + 1] in "\\\"'/":
                out.append(text[i + 1])
                i += 2
                continue
            out.append(c)
            i += 1
        new = "".join(out)
        if new == text:
            break
        text = new
        if "\\'" not in text and '\\"' not in text:
            break
    return text


def join_xml_text(text: str) -> str:
    """The text an XML parser hands on: CDATA sections unwrapped and joined, comments dropped."""
    out: list[str] = []
    i, n = 0, len(text)
    low = text.lower()
    while i < n and len(out) < 4096:
        if low.startswith("<![cdata[", i):
            i += 9
            continue
        if low.startswith("]]>", i):
            i += 3
            continue
        if low.startswith("]]<![cdata[", i):
            i += 11  # a section end whose ">" a filter took, glued to the next section
            continue
        if low.startswith("<!--", i):
            j = low.find("-->", i + 4)
            i = i + 4 if j < 0 else j + 3
            continue
        j = min((k for k in (low.find("<![cdata[", i), low.find("]]>", i), low.find("]]<![cdata[", i),
                             low.find("<!--", i)) if k >= 0), default=n)
        out.append(text[i:max(j, i + 1)])
        i = max(j, i + 1)
    return "".join(out)


def strip_filler(text: str) -> str:
    """Filler that filters strip or old parsers skip, inside markup: NUL placeholders,
    empty comments, string joins, short bracketed placeholders ([a], [\\r], [U+2028]) and
    <wbr> (a line-break hint old IE dropped even inside a reference: `&<WBR>#106;`)."""
    low = text.lower()
    if not any(m in low for m in ("[", "\\0", "/**/", '"+"', "'+'", "/*", "<wbr>")):
        return text
    if "<wbr>" in low:
        text = _replace_ci(text, "<wbr>", "")
        low = text.lower()
    for name in _NUL_NAMES:
        if name in low:
            text = _replace_ci(text, name, "")
            low = text.lower()
    for joint in ("/**/", '"+"', "'+'"):
        text = text.replace(joint, "")
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "[":
            j = text.find("]", i + 1, i + 12)
            if j > i and "[" not in text[i + 1:j]:
                i = j + 1  # a placeholder where a fuzzer puts a character: [a], [\r], [U+2028]
                continue
        out.append(c)
        i += 1
    return "".join(out)


def _replace_ci(text: str, old: str, new: str) -> str:
    low = text.lower()
    out: list[str] = []
    i = 0
    while True:
        j = low.find(old, i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        out.append(new)
        i = j + len(old)


_NESTABLE = ("javascript", "script", "onerror", "onload", "alert", "iframe", "expression")


def unnest_keywords(low: str) -> str:
    """`javascrscriptipt:` / `<scrscriptipt>`: a keyword hidden inside itself for a filter that
    deletes it once; the text after that deletion ('' when there is no such nesting)."""
    out = low
    for kw in _NESTABLE:
        if kw not in out:
            continue
        for k in range(1, len(kw)):
            nested = kw[:k] + kw + kw[k:]
            if nested in out:
                out = out.replace(nested, kw)
                break
    return out if out != low else ""


def unspace_letters(text: str) -> str:
    """`< s c r i p t >`: markup spelt with a blank between characters, closed up ('' when not)."""
    if len(text) < 12 or text.count(" ") * 3 < len(text):
        return ""
    words = text.split()
    singles = sum(1 for w in words if len(w) == 1)
    if singles < 8 or singles * 10 < len(words) * 8:
        return ""
    return "".join(words)


def narrow_legacy(text: str) -> str:
    """The text under a legacy charset that narrows code points ('' when nothing changes markup).

    U+0080..U+00FF lose the high bit (US-ASCII pages in IE: ¼ = 0xBC → 0x3C "<");
    higher code points keep their low byte (мscriptо: U+043C → "<"), or their high byte
    when the low byte is zero (㰀 U+3C00: UTF-16 read with the wrong byte order).
    Only for mostly-ASCII text: a value written in another script is not an attack.
    """
    for nfkc, original in _FRACTIONS:
        if nfkc in text:
            text = text.replace(nfkc, original)
    out: list[str] = []
    wide = 0
    made_markup = False
    for c in text:
        o = ord(c)
        if o < 0x80:
            out.append(c)
            continue
        wide += 1
        if o <= 0xFF:
            b = o & 0x7F
        elif o & 0xFF == 0:
            b = o >> 8
        else:
            b = o & 0xFF
        if b >= 0x80 or b < 0x20:
            out.append(" ")
            continue
        ch = chr(b)
        made_markup |= ch in "<>\"'"
        out.append(ch)
    if not made_markup or wide * 3 > len(text):
        return ""
    return "".join(out)
