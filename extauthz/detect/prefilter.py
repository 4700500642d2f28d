"""One Hyperscan pass per Input tells which detectors need to look at it."""
from __future__ import annotations

import hashlib
import os
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


# A directory of serialized databases shared by processes: the --workers
# supervisor compiles once into its private run directory and its workers load
# (milliseconds instead of seconds each). Set it yourself for restarts too.
PATTERN_CACHE_ENV = "EXTAUTHZ_PATTERN_CACHE"


def _disk_path(expressions: tuple[bytes, ...]) -> Path | None:
    folder = os.environ.get(PATTERN_CACHE_ENV)
    if not folder:
        return None
    h = hashlib.sha256(f"{hyperscan.__version__}|{_FLAGS}|{len(expressions)}".encode())
    for e in expressions:
        h.update(len(e).to_bytes(4, "big") + e)
    return Path(folder) / f"triggers-{h.hexdigest()[:32]}.hsdb"


def _load(path: Path | None) -> "hyperscan.Database | None":
    if path is None or not path.is_file():
        return None
    try:
        return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
    except (OSError, hyperscan.error):  # unreadable, or from another Hyperscan/CPU: compile instead
        return None


def _store(path: Path | None, db: "hyperscan.Database") -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(hyperscan.dumpb(db))
        tmp.replace(path)
    except OSError:
        pass  # a cache that cannot be written only costs time


def _compiled(expressions: tuple[bytes, ...]) -> "hyperscan.Database":
    with _CACHE_LOCK:
        db = _CACHE.get(expressions)
    if db is not None:
        return db
    path = _disk_path(expressions)
    db = _load(path)
    if db is None:
        db = hyperscan.Database()
        try:
            db.compile(expressions=list(expressions), ids=list(range(len(expressions))),
                       elements=len(expressions), flags=[_FLAGS] * len(expressions))
        except hyperscan.error as exc:
            raise ValueError(f"a detector trigger does not compile: {exc}") from None
        _store(path, db)
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
        # A stable order (some detectors keep triggers in sets): equal pattern sets
        # give equal cache keys, also in another process (see PATTERN_CACHE_ENV).
        pairs = sorted(zip(expressions, owners))
        expressions, owners = [e for e, _ in pairs], [o for _, o in pairs]
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
