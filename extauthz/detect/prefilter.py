"""One Hyperscan pass per Input tells which detectors need to look at it."""
from __future__ import annotations

import threading
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


def _compiled(expressions: tuple[bytes, ...]) -> "hyperscan.Database":
    with _CACHE_LOCK:
        db = _CACHE.get(expressions)
    if db is not None:
        return db
    db = hyperscan.Database()
    try:
        db.compile(expressions=list(expressions), ids=list(range(len(expressions))),
                   elements=len(expressions), flags=[_FLAGS] * len(expressions))
    except hyperscan.error as exc:
        raise ValueError(f"a detector trigger does not compile: {exc}") from None
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
        expressions: list[bytes] = []
        owners: list[int] = []
        for i, d in enumerate(detectors):
            for pattern in d.triggers or ():
                expressions.append(pattern.encode("utf-8"))
                owners.append(i)
        self._owners = owners
        self._db = None
        # Hyperscan scratch space may be used by one scan at a time, and scans run
        # without the GIL on the server's handler threads: one scratch per thread.
        self._local = threading.local()
        if expressions:
            self._db = _compiled(tuple(expressions))

    def candidates(self, value: str) -> set[int]:
        hits = set(self.always)
        if self._db is not None and value:
            owners = self._owners

            def on_match(pattern_id: int, start: int, end: int, flags: int, ctx: None) -> None:
                hits.add(owners[pattern_id])

            scratch = getattr(self._local, "scratch", None)
            if scratch is None:
                scratch = self._local.scratch = hyperscan.Scratch(self._db)
            self._db.scan(value.encode("utf-8", "surrogatepass"), match_event_handler=on_match, scratch=scratch)
        return hits
