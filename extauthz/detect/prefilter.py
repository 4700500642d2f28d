"""One Hyperscan pass per Input tells which detectors need to look at it."""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Sequence

import hyperscan

from extauthz.detect.base import Detector


_FLAGS = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_UCP
# Compiled databases by pattern list. Compiling all triggers takes seconds of CPU,
# and a config reload rebuilds every Prefilter: with the same detectors it gets
# the same (read-only, thread-safe) database back instead of compiling again.
_CACHE: dict[tuple[bytes, ...], "hyperscan.Database"] = {}
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


def _disk_key(expressions: tuple[bytes, ...]) -> str:
    h = hashlib.sha256(f"{getattr(hyperscan, '__version__', '?')}:{_FLAGS}".encode())
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


def _compiled(expressions: tuple[bytes, ...]) -> "hyperscan.Database":
    """The database for these patterns: from memory, from the disk cache, or compiled.

    Compiling every detector's triggers takes seconds of CPU; the serialized
    database (keyed by the patterns, flags and Hyperscan version) loads in
    milliseconds, which keeps server start, `check` and reloads fast.
    """
    with _CACHE_LOCK:
        db = _CACHE.get(expressions)
    if db is not None:
        return db
    cache = _cache_dir()
    path = cache / f"hs-{_disk_key(expressions)}.db" if cache is not None else None
    db = _load_from_disk(path) if path is not None else None
    if db is None:
        db = hyperscan.Database()
        try:
            db.compile(expressions=list(expressions), ids=list(range(len(expressions))),
                       elements=len(expressions), flags=[_FLAGS] * len(expressions))
        except hyperscan.error as exc:
            raise ValueError(f"a detector trigger does not compile: {exc}") from None
        if path is not None:
            _save_to_disk(path, db)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[expressions] = db
    return db


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
        # Hyperscan scratch space may be used by one scan at a time, and scans run
        # without the GIL on the server's handler threads: one scratch per thread.
        self._local = threading.local()
        if expressions:
            self._db = _compiled(tuple(expressions))

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

    def candidates(self, value: str) -> set[int]:
        hits = set(self.always)
        if self._db is not None and value:
            owners = self._owners

            def on_match(pattern_id: int, start: int, end: int, flags: int, ctx: None) -> None:
                hits.add(owners[pattern_id])

            self._db.scan(value.encode("utf-8", "surrogatepass"), match_event_handler=on_match, scratch=self._scratch())
        return hits
