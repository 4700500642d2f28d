"""One Hyperscan pass over a request's Inputs tells which detectors need to look at which Input.

The Inputs' values are scanned as one buffer, joined by a separator byte
(U+001F, which no trigger matches and request values rarely hold), with
start and end anchors rewritten to also match at a separator: one scan call
per request instead of one per Input (a 45-field JSON POST: 73 -> 15 µs).
That database reports every match (no SINGLEMATCH), so a hostile request with
thousands of trigger hits is capped: past JOINED_MATCH_CAP matches the scan
stops and each Input is scanned on its own with the single-match database.
A match may span a separator; it then only adds a candidate, which costs a
detector call, never a miss.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from bisect import bisect_left
from pathlib import Path
from typing import Sequence

import hyperscan

from extauthz.detect.base import Detector


_JOINED_FLAGS = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_UCP
_FLAGS = _JOINED_FLAGS | hyperscan.HS_FLAG_SINGLEMATCH
SEPARATOR = "\x1f"
_SEPARATOR_BYTES = SEPARATOR.encode()
JOINED_MATCH_CAP = 512
# Compiled databases by pattern list. Compiling all triggers takes seconds of CPU,
# and a config reload rebuilds every Prefilter: with the same detectors it gets
# the same (read-only, thread-safe) database back instead of compiling again.
_CACHE: dict[tuple[int, tuple[bytes, ...]], "hyperscan.Database"] = {}
_CACHE_MAX = 16
_CACHE_LOCK = threading.Lock()


log = logging.getLogger("extauthz.prefilter")


def _cache_dir() -> Path | None:
    """Where compiled databases are kept between runs: $EXTAUTHZ_CACHE_DIR, else
    $XDG_CACHE_HOME/extauthz or ~/.cache/extauthz; `off` disables the disk cache."""
    configured = os.environ.get("EXTAUTHZ_CACHE_DIR")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "extauthz"


def _disk_key(expressions: tuple[bytes, ...], flags: int) -> str:
    h = hashlib.sha256(f"{getattr(hyperscan, '__version__', '?')}:{flags}".encode())
    for e in expressions:
        h.update(len(e).to_bytes(4, "big"))
        h.update(e)
    return h.hexdigest()[:32]


def _load_from_disk(path: Path) -> "hyperscan.Database | None":
    try:
        return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
    except FileNotFoundError:
        return None
    except (OSError, hyperscan.error, ValueError, TypeError) as exc:
        log.warning("ignoring unreadable pattern cache %s: %s", path, exc)
        return None


def _save_to_disk(path: Path, db: "hyperscan.Database") -> None:
    """Atomic write (temp file + rename), so concurrent workers never read half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".hs-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(hyperscan.dumpb(db))
        os.replace(tmp, path)
    except OSError as exc:
        log.info("pattern cache not written (%s); compiling at each start", exc)


def _compiled(expressions: tuple[bytes, ...], flags: int = _FLAGS) -> "hyperscan.Database":
    """The database for these patterns: from memory, from the disk cache, or compiled.

    Compiling every detector's triggers takes seconds of CPU; the serialized
    database (keyed by the patterns, flags and Hyperscan version) loads in
    milliseconds, which keeps server start, `check` and reloads fast.
    """
    key = (flags, expressions)
    with _CACHE_LOCK:
        db = _CACHE.get(key)
    if db is not None:
        return db
    cache = _cache_dir()
    path = cache / f"hs-{_disk_key(expressions, flags)}.db" if cache is not None else None
    db = _load_from_disk(path) if path is not None else None
    if db is None:
        db = hyperscan.Database()
        try:
            db.compile(expressions=list(expressions), ids=list(range(len(expressions))),
                       elements=len(expressions), flags=[flags] * len(expressions))
        except hyperscan.error as exc:
            raise ValueError(f"a detector trigger does not compile: {exc}") from None
        if path is not None:
            _save_to_disk(path, db)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = db
    return db


# UCP's Unicode word classes cost megabytes of database: the sqli triggers' `\W` and `\w+`
# alone made 2.2 of the joined database's 4.3 MB, and a third of its compile time at start.
# These classes hold every character UCP's do (a letter or digit beyond ASCII counts as a word
# character and as a non-word one alike), so a trigger matches wherever it did and at most
# around a few more non-ASCII letters: a detector call more, never a miss.
_WORD = "[a-z0-9_\\x{80}-\\x{10ffff}]"
_NON_WORD = "[^a-z0-9_]"


def widened(pattern: str, anchors: bool = False) -> str:
    """`pattern` with `\\w` and `\\W` outside character classes read as the wider classes above;
    with `anchors`, each `^` and `$` (outside character classes) also matches at SEPARATOR.

    Patterns are trusted (our rule data), so this reads them with a plain loop;
    `\\A`, `\\z` and `\\Z` are refused, as no trigger needs them.
    """
    out: list[str] = []
    i, class_from = 0, -1  # class_from: where the open character class's members start, -1 outside one
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            esc = pattern[i + 1:i + 2]
            if esc in ("A", "z", "Z"):
                raise ValueError(f"trigger {pattern!r}: use ^ and $, not \\{esc}")
            out.append(_WORD if esc == "w" and class_from < 0 else _NON_WORD if esc == "W" and class_from < 0
                       else pattern[i:i + 2])
            i += 2
            continue
        if class_from >= 0:
            if ch == "]" and i > class_from:  # a `]` first in the class is a member
                class_from = -1
        elif ch == "[":
            class_from = i + 2 if pattern[i + 1:i + 2] == "^" else i + 1
        elif ch == "^" and anchors:
            ch = "(?:^|\\x1f)"
        elif ch == "$" and anchors:  # `$` also matches before a final newline
            ch = "(?:$|\\n?\\x1f)"
        out.append(ch)
        i += 1
    return "".join(out)


def anchored_at_separator(pattern: str) -> str:
    """`pattern` (widened) with each `^` and `$` anchor also matching at SEPARATOR."""
    return widened(pattern, anchors=True)


class Prefilter:
    """Compiled trigger patterns of a set of detectors.

    `candidates(value)` returns the indexes (into the detector list given at
    construction) of detectors whose triggers occur in `value`, plus those that
    have no triggers and so always run.
    """

    def __init__(self, detectors: Sequence[Detector]) -> None:
        self.always = frozenset(i for i, d in enumerate(detectors) if d.triggers is None)
        # Sorted, so the same detectors give the same database (and disk cache key)
        # whatever order their trigger collections iterate in.
        pairs = sorted({(pattern.encode("utf-8"), i) for i, d in enumerate(detectors) for pattern in d.triggers or ()})
        expressions = [p for p, _ in pairs]
        self._owners = [i for _, i in pairs]
        self._db = None
        self._expressions = tuple(expressions)
        self._joined_db = None
        self._joined_lock = threading.Lock()
        # Hyperscan scratch space may be used by one scan at a time, and scans run
        # without the GIL on the server's handler threads: one scratch per thread.
        self._local = threading.local()
        if expressions:
            self._db = _compiled(tuple(widened(e.decode("utf-8")).encode("utf-8") for e in expressions))

    def occurs_in(self, data: bytes) -> bool:
        """Whether any trigger occurs in raw bytes (a request-level screen before a closer look)."""
        if self._db is None or not data:
            return False
        found: list[int] = []

        def on_match(pattern_id: int, start: int, end: int, flags: int, ctx: None) -> None:
            found.append(pattern_id)

        self._db.scan(data, match_event_handler=on_match, scratch=self._scratch())
        return bool(found)

    def _scratch(self) -> "hyperscan.Scratch":
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        return scratch

    def _joined(self) -> tuple["hyperscan.Database", "hyperscan.Scratch"]:
        """The every-match database for joined scans, compiled at first use (Engine.warm_up)."""
        db = self._joined_db
        if db is None:
            with self._joined_lock:
                if self._joined_db is None:
                    rewritten = tuple(anchored_at_separator(e.decode("utf-8")).encode("utf-8") for e in self._expressions)
                    self._joined_db = _compiled(rewritten, _JOINED_FLAGS)
                db = self._joined_db
        scratch = getattr(self._local, "joined_scratch", None)
        if scratch is None:
            scratch = self._local.joined_scratch = hyperscan.Scratch(db)
        return db, scratch

    def candidates_each(self, values: Sequence[str]) -> list[set[int]]:
        """`candidates(v)` for every value, from one scan of the values joined (a superset at worst)."""
        hits = [set(self.always) for _ in values]
        if self._db is None or not values:
            return hits
        parts: list[bytes] = []
        ends: list[int] = []  # exclusive end of value k's slot, its separator included
        alone: list[int] = []  # values that cannot share the buffer: scanned on their own
        pos = 0
        for k, value in enumerate(values):
            try:
                data = value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: not UTF-8, kept out of the others' scan
                alone.append(k)
                data = b""
            parts.append(data)
            pos += len(data) + 1
            ends.append(pos)
        owners, count = self._owners, len(values)
        matches = 0

        def on_match(pattern_id: int, start: int, end: int, flags: int, ctx: None) -> bool:
            nonlocal matches
            k = bisect_left(ends, end)
            if k < count:
                hits[k].add(owners[pattern_id])
            matches += 1
            return matches >= JOINED_MATCH_CAP  # True stops the scan

        db, scratch = self._joined()
        try:
            db.scan(_SEPARATOR_BYTES.join(parts), match_event_handler=on_match, scratch=scratch)
        except hyperscan.ScanTerminated:
            pass
        if matches >= JOINED_MATCH_CAP:  # a flood of hits: per value, each pattern reported once
            return [self.candidates(v) for v in values]
        for k in alone:
            hits[k] = self.candidates(values[k])
        return hits

    def candidates(self, value: str) -> set[int]:
        hits = set(self.always)
        if self._db is not None and value:
            owners = self._owners

            def on_match(pattern_id: int, start: int, end: int, flags: int, ctx: None) -> None:
                hits.add(owners[pattern_id])

            self._db.scan(value.encode("utf-8", "surrogatepass"), match_event_handler=on_match, scratch=self._scratch())
        return hits
