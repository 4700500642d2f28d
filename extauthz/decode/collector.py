"""Collector: where parsers hand over values; it decodes them into Inputs within the limits.

Parsers (extauthz.decode.parsers) find values in the request's structure and
call `add()`. The collector counts every value against DecodeLimits, undoes
the wire encoding and then the registered decoding layers, emits the Inputs,
descends into formats found inside values (JSON or XML in a parameter, base64
of JSON in a cookie) and records encoding anomalies and limit hits, each rule
once per request with the first location and a count.

Variants: each value yields its fully decoded text. The text before a
`keep_before` layer is kept too (before base64: the value may be an ordinary
token; before HTML entities: whether `&lt;` counts depends on the context the
value lands in), so a value yields at most three Inputs. A value that is a
JSON container is replaced by its members (the JSON syntax itself is not a
value an application would use).
"""
from __future__ import annotations

import time
from typing import Callable

from extauthz.budget import CpuBudget
from extauthz.decode.anomalies import ANOMALIES, LIMITS
from extauthz.decode.inputs import Input, location_of
from extauthz.decode.layers import base64 as b64
from extauthz.decode.layers import ordered
from extauthz.decode.limits import DecodeLimits
from extauthz.decode.parsers.base import PARSERS, Where
from extauthz.decode.wire import Wire
from extauthz.finding import Finding, Severity, Source, excerpt

STRUCTURE_FACTOR = 4
_SPACE = frozenset(" \t\r\n")
_LAYERS = ordered()
_B64_MIN = b64.MIN_LENGTH
_b64_candidate = b64.is_candidate
_data_uri = b64.has_data_uri


def _cut(text: str, at: int) -> int:
    """A cut position near `at` that does not split a %XX escape."""
    if text[at - 1:at] == "%":
        return at - 1
    if text[at - 2:at - 1] == "%":
        return at - 2
    return at


PIECE_OVERLAP = 1024
MAX_PIECES = 4  # at most 4 × max_value_bytes (64 KiB by default) of one value is read, its tail among them
PIECE_SNAP = 256  # how far (at most size // 8) a piece's start moves to begin after a tag, a line or a blank
# What a piece best starts after, as sent or percent-encoded: the end of a tag, a line
# break; else a blank. A piece that starts inside a tag (`"enum" href="../../x.html"`)
# shows its attributes without the element they belong to.
_BOUNDARIES = (">", "%3E", "%3e", "\n", "%0A", "%0a")
_BLANKS = (" ", "+", "%20")


def _piece_start(raw: str, lo: int, hi: int, last: bool = True) -> int:
    """Where a piece starts in raw[lo:hi]: after its last (or first) tag end or line break,
    else after its last (or first) blank, else at hi (last) or lo (first), never inside a
    %XX escape."""
    lo = max(lo, 0)
    find = raw.rfind if last else raw.find
    for marks in (_BOUNDARIES, _BLANKS):
        found = [k + len(m) for m in marks if (k := find(m, lo, hi)) >= 0]
        if found:
            return max(found) if last else min(found)
    return _cut(raw, hi if last else lo)


def _pieces(raw: str, size: int) -> tuple[list[str], bool]:
    """A value longer than `size` as consecutive pieces of at most `size` that cover all of it,
    each overlapping the one before by PIECE_OVERLAP (so a payload up to that long lies whole
    in one piece), cut outside %XX escapes. Reading only a head and a tail let 8 KiB of
    filler on either side hide whatever sat in the middle. At most MAX_PIECES: a longer
    value is read as MAX_PIECES - 1 pieces from its start and one at its end, and its middle
    is not (the caller reports limit.value-bytes as MEDIUM). Returns the pieces and whether
    they cover the whole value."""
    overlap = min(PIECE_OVERLAP, size // 4)
    snap = min(PIECE_SNAP, size // 8)
    out: list[str] = []
    n = len(raw)
    start = 0
    while True:
        end = n if n - start <= size else _cut(raw, start + size)
        if end < n and len(out) == MAX_PIECES - 1:
            # the tail: where a payload after filler sits
            out.append(raw[_piece_start(raw, n - size, n - size + snap, last=False):])
            return out, False
        out.append(raw[start:end])
        if end >= n:
            return out, True
        start = _piece_start(raw, end - overlap - snap, end - overlap)


MAX_NUL_EXTENSION = 5


def truncating_nul(v: str) -> bool:
    """`shell.php\x00.jpg`, `../../etc/passwd\x00.png`: a NUL between a file name and the
    extension a filter checks, which a C-string API then cuts off. The classic upload and
    include evasion, whatever the carrier (a JSON member, a multipart filename): one or
    two NULs, the first right after a name character and right before `.` and an extension
    of 1 to MAX_NUL_EXTENSION letters or digits that ends the value or a word. A NUL in
    binary-ish text (`\x00\x01\x02`, `abc\x00`) is not this shape."""
    at = v.find("\x00")
    if at <= 0 or v.count("\x00", 0, 4096) > 2 or v[at + 1:at + 2] != ".":
        return False
    j = at + 2
    end = min(len(v), j + MAX_NUL_EXTENSION + 1)
    while j < end and v[j].isalnum():
        j += 1
    if j == at + 2 or j - (at + 2) > MAX_NUL_EXTENSION or (j < len(v) and (v[j].isalnum() or v[j] == "_")):
        return False
    before = v[at - 1]
    return before.isalnum() or before in "/._-"


class Collector:
    def __init__(self, limits: DecodeLimits, clock: Callable[[], float] = time.perf_counter,
                 cpu_clock: Callable[[], float] = time.thread_time) -> None:
        self.limits = limits
        self.inputs: list[Input] = []
        self.stopped = ""  # the limit that stopped extraction, if any
        # limits.time_budget_ms is on this thread's CPU time (see extauthz.budget)
        self._time_spent = CpuBudget(limits.time_budget_ms / 1000.0, clock, cpu_clock).spent
        self._items = 0
        self._ticks = 0
        self._bytes = 0
        # copied out of `limits` for the hot path
        self._max_items = limits.max_inputs
        self._max_ticks = STRUCTURE_FACTOR * limits.max_inputs
        self._max_bytes = limits.max_total_bytes
        self._max_value = limits.max_value_bytes
        self._events: dict[str, list] = {}  # rule -> [location, count, excerpt, severity]

    # ------------------------------------------------------------ findings

    def note(self, rule: str, location: str, sample: str = "", severity: Severity | None = None) -> None:
        """Record an anomaly or limit hit (reported once per rule, with a count, at the
        highest severity it was noted with; `severity` None is the rule's default)."""
        if severity is None:
            severity = (ANOMALIES.get(rule) or LIMITS[rule])[0]
        ev = self._events.get(rule)
        if ev is None:
            self._events[rule] = [location, 1, sample, severity]
        else:
            ev[1] += 1
            if severity > ev[3]:
                ev[3] = severity

    def stop(self, what: str, location: str) -> None:
        if not self.stopped:
            self.stopped = what
            self.note(f"limit.{what}", location)

    def findings(self) -> list[Finding]:
        out = []
        for rule, (location, count, sample, severity) in self._events.items():
            _, text = ANOMALIES.get(rule) or LIMITS[rule]
            detail = text if count == 1 else f"{text} ({count} times)"
            out.append(Finding("protocol", rule, severity, location,
                               excerpt(sample, 0, None, location) if sample else "", (), Source.DECODER, detail))
        return out

    def _null_byte(self, kind: str, name: str, v: str) -> None:
        """decode.null-byte: MEDIUM (binary-ish JSON strings and parts carry NULs), HIGH
        when the NUL cuts a file name from an extension (see truncating_nul)."""
        self.note("decode.null-byte", location_of(kind, name), v,
                  severity=Severity.HIGH if truncating_nul(v) else None)

    # ------------------------------------------------------------ limits

    def room(self, kind: str, name: str) -> bool:
        """Count one more item examined; False once a limit stops extraction."""
        if self.stopped:
            return False
        self._items += 1
        if self._items > self._max_items or self._time_spent():
            self._over(kind, name)
            return False
        return True

    def _over(self, kind: str, name: str) -> None:
        """Stop on whichever limit add()/room() found exceeded."""
        if self._items > self._max_items:
            self.stop("inputs", location_of(kind, name))
        elif self._bytes > self._max_bytes:
            self.stop("total-bytes", location_of(kind, name))
        else:
            self.stop("time", location_of(kind, name))

    def tick(self, kind: str, name: str) -> bool:
        """Count one structural token (element, comment, container, part): these
        cost work without being values, so they have a budget of their own,
        STRUCTURE_FACTOR times max_inputs, reported as limit.inputs too."""
        if self.stopped:
            return False
        self._ticks += 1
        if self._ticks > self._max_ticks:
            self.stop("inputs", location_of(kind, name))
            return False
        if not self._ticks & 15 and self._time_spent():
            self.stop("time", location_of(kind, name))
            return False
        return True

    def depth_ok(self, depth: int, kind: str, name: str) -> bool:
        if depth > self.limits.max_depth:
            self.note("limit.depth", location_of(kind, name))
            return False
        return True

    # ------------------------------------------------------------ values

    def add(self, kind: str, name: str, raw: str, wire: Wire | None = None, role: str = "value",
            chain: tuple[str, ...] = (), depth: int = 0, nest: bool = True) -> None:
        """One value found by a parser; it becomes one or more Inputs.

        `nest=False` for values that are markup themselves (an XML DOCTYPE),
        which must not be parsed again as a document inside a value."""
        if not raw or self.stopped:
            return
        n = len(raw)
        self._items += 1
        pieces: tuple[str, ...] | list[str] = (raw,)
        over = False
        if n <= self._max_value:
            self._bytes += n
        else:
            # every piece that fits in what is left of max_total_bytes; the rest is limit.total-bytes
            pieces, whole = _pieces(raw, self._max_value)
            for k, p in enumerate(pieces):
                if self._bytes + len(p) > self._max_bytes:
                    pieces, over = pieces[:k], True
                    break
                self._bytes += len(p)
            if pieces:
                # LOW: read whole, in pieces; MEDIUM: longer than MAX_PIECES reach, the rest unread
                self.note("limit.value-bytes", location_of(kind, name),
                          severity=None if whole else Severity.MEDIUM)
            else:
                self._bytes = self._max_bytes + 1
        if (self._items > self._max_items or self._bytes > self._max_bytes
                or self._time_spent()):
            self._over(kind, name)
            return
        for k, v in enumerate(pieces):
            if self.stopped:
                return
            if k and self._time_spent():
                self._over(kind, name)
                return
            ch = chain
            if wire is not None and ("%" in v or "+" in v):
                v, ch = wire(self, kind, name, v, ch)
            if ("%" in v or "&" in v or "\\" in v or not v.isascii()
                    or (len(v) >= _B64_MIN and (_b64_candidate(v) or _data_uri(v) or v.startswith("eyJ")))):
                self._peel(kind, name, v, raw, role, ch, depth, nest)
                continue
            if "\x00" in v:
                self._null_byte(kind, name, v)
            c = v[:1]
            if nest and (c == "{" or c == "[" or c == "<" or c in _SPACE) and self._nest(kind, name, v, ch, depth):
                continue
            self.inputs.append(Input(kind, name, v, ch, raw, role))
        if over:
            self._bytes = self._max_bytes + 1
            self._over(kind, name)

    def _peel(self, kind: str, name: str, v: str, raw: str, role: str, chain: tuple[str, ...],
              depth: int, nest: bool) -> None:
        before: list[tuple[str, tuple[str, ...]]] = []
        kept: set[str] = set()
        undone = 0
        max_layers = self.limits.max_layers
        while True:
            applied = res = None
            for layer in _LAYERS:
                res = layer.decode(v)
                if res is not None:
                    applied = layer
                    break
            if applied is None or res is None:
                break
            if undone >= max_layers:
                self.note("limit.layers", location_of(kind, name), raw)
                break
            if applied.keep_before and applied.name not in kept:
                kept.add(applied.name)
                before.append((v, chain))
            for rule in res.anomalies:
                self.note(rule, location_of(kind, name), raw)
            v = res.value
            chain = chain + (applied.name,)
            undone += 1
        if "\x00" in v:
            self._null_byte(kind, name, v)
        for text, ch in before:
            self.inputs.append(Input(kind, name, text, ch, raw, role))
        c = v.lstrip()[:1]
        if nest and (c == "{" or c == "[" or c == "<") and self._nest(kind, name, v, chain, depth):
            return
        self.inputs.append(Input(kind, name, v, chain, raw, role))

    # ------------------------------------------------------------ nested formats

    def _nest(self, kind: str, name: str, v: str, chain: tuple[str, ...], depth: int) -> bool:
        """Parse a JSON or XML document found inside a value; True if it replaces the value."""
        s = v.strip()
        c = s[:1]
        if (c == "{" and s[-1:] == "}") or (c == "[" and s[-1:] == "]"):
            if not self.depth_ok(depth + 1, kind, name):
                return False
            before = len(self.inputs)
            parsed = PARSERS["json"].parse(self, s, Where(kind, name, chain + ("json",), depth + 1))
            # a document of numbers, booleans and nulls yields no Input: the value stays one
            return parsed and len(self.inputs) > before
        if c == "<" and (s.startswith("<?xml") or s[:9].upper() == "<!DOCTYPE"):
            if self.depth_ok(depth + 1, kind, name):
                PARSERS["xml"].parse(self, s, Where(kind, name, chain + ("xml",), depth + 1))
        return False
