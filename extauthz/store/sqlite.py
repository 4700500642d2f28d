"""SqliteProfileStore: learned profiles in one SQLite file of the state directory.

Crash-safe by SQLite's own means: WAL journal, synchronous=FULL, every write a
transaction; a process killed mid-write leaves the previous document. Several
worker processes share the file: `update` is one read-merge-write inside
BEGIN IMMEDIATE (SQLite's write lock), so merges from different workers
serialize instead of overwriting each other.

Opening checks the file: not a database, failing integrity check, or a schema
from a newer extauthz raise StoreError naming the file; it is never replaced.
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from extauthz.store.base import StoreError

SCHEMA = 1
FILENAME = "profiles.sqlite3"


class SqliteProfileStore:
    def __init__(self, path: str | Path, *, read_only: bool = False, timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._lock = threading.Lock()
        if read_only and not self.path.exists():
            self._db = None  # nothing learned yet: an empty store
            return
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            uri = f"file:{self.path}?mode={'ro' if read_only else 'rwc'}"
            self._db = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None,
                                       check_same_thread=False)
            self._open()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable profile store ({exc}); it is left as it is: "
                             f"move it aside to start without learned profiles") from None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open the profile store: {exc}") from None

    @classmethod
    def in_dir(cls, state_dir: str | Path, *, read_only: bool = False) -> "SqliteProfileStore":
        return cls(Path(state_dir) / FILENAME, read_only=read_only)

    def _open(self) -> None:
        db = self._db
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"integrity check failed: {check}")
        if not self.read_only:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" in tables:
            row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            schema = int(row[0]) if row and str(row[0]).isdigit() else None
            if schema is None:
                raise sqlite3.DatabaseError("no schema version in its meta table")
            if schema > SCHEMA:
                raise StoreError(f"{self.path}: written by a newer extauthz (store schema {schema}; this one "
                                 f"reads {SCHEMA}); upgrade, or point state.dir elsewhere")
        elif tables:
            raise sqlite3.DatabaseError(f"unexpected tables {sorted(tables)}")
        elif not self.read_only:
            with self._transaction():
                db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
                db.execute("CREATE TABLE profiles (service TEXT PRIMARY KEY, document BLOB NOT NULL, "
                           "version INTEGER NOT NULL, updated REAL NOT NULL)")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")  # takes the write lock now: no lost update between workers
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _writable(self) -> sqlite3.Connection:
        if self.read_only or self._db is None:
            raise StoreError(f"{self.path}: opened read-only")
        return self._db

    # ------------------------------------------------------------ ProfileStore

    def load(self, service: str) -> bytes | None:
        if self._db is None:
            return None
        with self._lock:
            row = self._db.execute("SELECT document FROM profiles WHERE service=?", (service,)).fetchone()
        return bytes(row[0]) if row else None

    def save(self, service: str, document: bytes) -> None:
        self.update(service, lambda _old: document)

    def update(self, service: str, merge: Callable[[bytes | None], bytes]) -> bytes:
        """Atomically replace the document with merge(current document or None); returns what was written."""
        db = self._writable()
        with self._lock:
            try:
                with self._transaction():
                    row = db.execute("SELECT document, version FROM profiles WHERE service=?", (service,)).fetchone()
                    doc = merge(bytes(row[0]) if row else None)
                    db.execute("INSERT INTO profiles (service, document, version, updated) VALUES (?, ?, 1, ?) "
                               "ON CONFLICT(service) DO UPDATE SET document=excluded.document, "
                               "version=profiles.version+1, updated=excluded.updated",
                               (service, sqlite3.Binary(doc), time.time()))
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot write the profile of {service!r}: {exc}") from None
        return doc

    def services(self) -> list[str]:
        if self._db is None:
            return []
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT service FROM profiles ORDER BY service")]

    def versions(self) -> dict[str, int]:
        """service -> write counter, so readers can tell which documents changed."""
        if self._db is None:
            return {}
        with self._lock:
            return dict(self._db.execute("SELECT service, version FROM profiles"))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
