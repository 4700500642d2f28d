"""CRLF injection: header injection, response splitting, request smuggling in
values, and mail (SMTP/IMAP) header injection.

A line break in a value only matters when what follows would be read as
protocol: a header (`Set-Cookie: ...`, `Bcc: ...`), a status or request line
(`HTTP/1.1 200 OK`, `GET / HTTP/1.1`), or a body after a blank line
(`\\r\\n\\r\\n<html>`). Multi-line text in a form field is normal, so a bare
line break is not reported, except where no client puts one: the request path
and parameter names (which decode hands over as Inputs of role "key" whenever
they hold anything but letters, digits and `_-.[]`). Residual `%0d`/`%0a` (a double-encoded payload that the
decode stage left one layer of) count as line breaks.
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.urlparts import percent_once
from extauthz.finding import Finding, Severity, excerpt

MAX_VALUE = 16384
MAX_BREAKS = 64
MAX_NAME = 64
NAME_KINDS = frozenset({"query", "form", "multipart", "cookie"})

HTTP_METHODS = frozenset({"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
                          "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK"})
# Headers whose injection changes what the client or a proxy does.
HTTP_HEADERS = frozenset({
    "set-cookie", "set-cookie2", "location", "refresh", "content-length", "content-type", "content-disposition",
    "content-encoding", "transfer-encoding", "connection", "host", "cookie", "authorization", "x-forwarded-for",
    "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "x-original-url", "x-rewrite-url", "remote-addr",
    "access-control-allow-origin", "access-control-allow-credentials", "content-security-policy",
    "x-xss-protection", "x-frame-options", "cache-control", "expires", "pragma", "last-modified", "etag",
    "vary", "link", "server", "status", "upgrade", "proxy-authorization", "x-http-method-override", "user-agent",
    "referer", "origin", "accept", "range", "keep-alive", "te", "trailer", "via", "www-authenticate",
    "strict-transport-security", "x-content-type-options", "x-accel-redirect", "x-sendfile",
})
MAIL_HEADERS = frozenset({"bcc", "cc", "to", "from", "subject", "reply-to", "sender", "return-path",
                          "mime-version", "x-mailer", "message-id", "in-reply-to", "references",
                          "disposition-notification-to", "errors-to"})
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _with_residual_breaks(value: str) -> str:
    """A payload encoded once more than the rest (`%250D%250ASet-cookie%253A`) keeps `%0d`."""
    if "%0d" in value or "%0a" in value or "%0D" in value or "%0A" in value:
        return percent_once(value)
    return value


def _request_line(line: str) -> bool:
    """`GET /x HTTP/1.1`, `HEAD http://h/ HTTP/1.1`: METHOD SP target SP HTTP/d."""
    parts = line.strip().split(" ")
    parts = [p for p in parts if p]
    return (len(parts) >= 3 and parts[0].upper() in HTTP_METHODS and parts[-1][:5].upper() == "HTTP/"
            and parts[-1][5:6].isdigit())


def _status_line(line: str) -> bool:
    s = line.lstrip()
    return s[:5].upper() == "HTTP/" and s[5:6].isdigit()


def _header_after(text: str, i: int) -> tuple[str, bool] | None:
    """Header-like `Name: value` at text[i:] (CRs and spaces allowed before the colon)."""
    n = len(text)
    j = i
    while j < n and j - i < MAX_NAME and text[j] in _NAME_CHARS:
        j += 1
    if j == i or j - i >= MAX_NAME:
        return None
    name = text[i:j]
    k = j
    while k < n and k - j < 16 and text[k] in " \t\r":
        k += 1
    if k >= n or text[k] != ":":
        return None
    rest = text[k + 1:k + 200].strip(" \t\r\n")
    return name.lower(), bool(rest)


def _document_before(value: str, pos: int) -> bool:
    """The text before a blank line at `pos` is document text, not what a response split
    puts there. An injected body follows the value the application expected (one short
    token: `en`, `munch`, `/home`) or injected header lines (`Content-Length: 0`); a
    document has prose, markup or several lines of anything else there (`# Title`,
    `<?xml version="1.0"?>`, `</p>`, a paragraph). Reads at most the MAX_BREAKS lines
    before `pos`."""
    head = value[max(0, pos - 4096):pos]
    lines = [ln for ln in head.replace("\r", "\n").split("\n") if ln.strip()][-MAX_BREAKS:]
    if not lines:
        return False
    if len(lines) == 1 and len(lines[0]) <= MAX_NAME and not any(c.isspace() for c in lines[0].strip()):
        return False  # `munch\r\n\r\n<html>`: the expected value, then the injected body
    if all(_header_after(ln.strip(), 0) is not None for ln in lines[1:] or lines):
        return False  # the expected value, then injected header lines
    return True


@register
class Crlf(Detector):
    name = "crlf"
    triggers = (r"[\r\n]", r"%0[ad]", r"HTTP/\d")
    kinds = None

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        value = _with_residual_breaks(inp.value[:MAX_VALUE])
        if inp.role == "key":
            # a parameter name (an Input of its own when not plain) never holds a line break
            i = min((p for p in (value.find("\r"), value.find("\n")) if p >= 0), default=-1)
            if i >= 0 and inp.kind in NAME_KINDS:
                return (self._f(inp, "crlf.name", Severity.HIGH, i, i + 1, "line break in a parameter name"),)
            return ()
        if "\r" not in value and "\n" not in value:
            if _request_line(value) and inp.kind != "header":
                return (self._f(inp, "crlf.request-line", Severity.HIGH, 0, len(value),
                                "an HTTP request line inside a value (request smuggling)"),)
            return ()
        if inp.kind == "path":
            i = min((p for p in (value.find("\r"), value.find("\n")) if p >= 0), default=0)
            return (self._f(inp, "crlf.path", Severity.HIGH, i, i + 1, "line break in the request path"),)
        best: Finding | None = None
        i = 0
        breaks = 0
        n = len(value)
        while breaks < MAX_BREAKS:
            cr, lf = value.find("\r", i), value.find("\n", i)
            pos = min(p for p in (cr, lf) if p >= 0) if (cr >= 0 or lf >= 0) else -1
            if pos < 0:
                break
            breaks += 1
            j = pos
            blank = False
            newlines = 0
            while j < n and value[j] in "\r\n":
                newlines += value[j] == "\n"
                j += 1
            blank = newlines >= 2 or value[pos:j].count("\r") >= 2
            f = self._after_break(inp, value, pos, j, blank)
            if f is not None and (best is None or f.severity > best.severity):
                best = f
            i = j
        return (best,) if best is not None else ()

    def _after_break(self, inp: Input, value: str, pos: int, j: int, blank: bool) -> Finding | None:
        line_end = value.find("\n", j)
        line = value[j: line_end if line_end >= 0 else j + 256]
        if _status_line(line):
            return self._f(inp, "crlf.response-splitting", Severity.HIGH, pos, j + 16, "injected status line")
        if _request_line(line):
            return self._f(inp, "crlf.request-line", Severity.HIGH, pos, j + 16, "injected request line")
        if blank and line.lstrip()[:1] == "<":
            if _document_before(value, pos):
                # a paragraph of a multi-line document, then markup: what READMEs, XML files and
                # rich-text HTML hold; a split response has headers (or nothing) before the blank line
                return self._f(inp, "crlf.response-splitting", Severity.INFO, pos, j + 16,
                               "blank line then markup, inside a document")
            return self._f(inp, "crlf.response-splitting", Severity.HIGH, pos, j + 16, "blank line then markup")
        header = _header_after(value, j)
        if header is not None and inp.kind == "header":
            # a header value that decodes to another header line (`X: a%0dInjected: b`)
            return self._f(inp, "crlf.header", Severity.HIGH if header[1] else Severity.MEDIUM, pos, j + 16,
                           f"header value carries another header line ({header[0]})")
        if header is None:
            if inp.kind == "query" and "=" in line[:MAX_NAME] and line.split("=", 1)[0].isidentifier():
                # `x%0d%0aadmin=1`: a name glued to its `=` at the line's start; an indented
                # `greet = Word(alphas)` is a line of code quoted in text
                return self._f(inp, "crlf.parameter", Severity.HIGH, pos, j + 16,
                               "line break followed by another parameter")
            return None
        name, has_value = header
        if name in MAIL_HEADERS:
            sev = Severity.HIGH if has_value else Severity.MEDIUM
            return self._f(inp, "crlf.mail-header", sev, pos, j + 16, f"injected mail header {name}")
        if name in HTTP_HEADERS or name.startswith("x-"):
            sev = Severity.HIGH if has_value else Severity.MEDIUM
            return self._f(inp, "crlf.header", sev, pos, j + 16, f"injected header {name}")
        if "-" in name:
            return self._f(inp, "crlf.header-like", Severity.MEDIUM, pos, j + 16, f"header-like line {name}")
        return None

    @staticmethod
    def _f(inp: Input, rule: str, sev: Severity, start: int, end: int, detail: str) -> Finding:
        return Finding("crlf", rule, sev, inp.location, excerpt(inp.value, start, end, inp.location), inp.chain,
                       detail=detail)
