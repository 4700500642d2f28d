"""Which resolved paths reach a restricted file (rules/lfi_files.yaml).

Entries are indexed by one concrete segment, so matching a resolved path costs
one dict lookup per segment plus a short suffix comparison for the few entries
that share it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from extauthz.finding import Severity
from extauthz.rules import rule_yaml

MAX_SEGMENTS_CHECKED = 64
# A copy of a restricted file is as secret as the file (`/etc/passwd-`, `.env.bak`).
BACKUP_SUFFIXES = ("-", "~", ".bak", ".old", ".orig", ".save", ".swp", ".backup", ".copy", ".tmp")


@dataclass(frozen=True, slots=True)
class RestrictedEntry:
    pattern: tuple[str, ...]  # segments, `*` = any one segment
    directory: bool  # the entry names a directory: anything below it matches
    prefix: bool  # the last segment ends with `*`: prefix match on it
    severity: Severity
    text: str


def _seg_eq(pat: str, seg: str) -> bool:
    return pat == "*" or pat == seg


def _ends_with(segs: Sequence[str], end: int, pattern: tuple[str, ...], prefix: bool) -> bool:
    """segs[:end] ends with `pattern` (the last pattern segment may be a prefix)."""
    n = len(pattern)
    if end < n:
        return False
    for k in range(n):
        pat, seg = pattern[n - 1 - k], segs[end - 1 - k]
        if k == 0 and prefix:
            if not seg.startswith(pat):
                return False
        elif not _seg_eq(pat, seg):
            return False
    return True


class RestrictedFiles:
    """Compiled restricted-file list; `match` finds the strongest entry reached."""

    def __init__(self, entries: Iterable[RestrictedEntry]) -> None:
        self._by_last: dict[str, list[RestrictedEntry]] = {}
        self._prefixed: list[RestrictedEntry] = []
        self._glued: dict[str, RestrictedEntry] = {}
        self._glued_dirs: list[tuple[str, RestrictedEntry]] = []
        for e in entries:
            if "*" not in e.pattern and not e.prefix and e.severity >= Severity.HIGH:
                glued = "".join(e.pattern)
                if e.directory and len(glued) >= 5 and any(c in glued for c in "-._"):
                    self._glued_dirs.append((glued, e))
                elif not e.directory and (len(e.pattern) >= 2 or "." in glued):
                    self._glued.setdefault(glued, e)
            if e.prefix:
                self._prefixed.append(e)
                continue
            key = e.pattern[-1]
            if key == "*":
                raise ValueError(f"restricted file entry {e.text!r} must end with a concrete segment")
            self._by_last.setdefault(key, []).append(e)

    @classmethod
    def from_data(cls, data: Mapping[str, list[str]]) -> "RestrictedFiles":
        entries = []
        for level, items in data.items():
            sev = Severity.parse(level)
            for text in items:
                t = text.strip().lower()
                directory = t.endswith("/")
                pattern = tuple(s for s in t.strip("/").split("/") if s)
                prefix = not directory and pattern[-1].endswith("*") and pattern[-1] != "*"
                if prefix:
                    pattern = pattern[:-1] + (pattern[-1][:-1],)
                entries.append(RestrictedEntry(pattern, directory, prefix, sev, text))
        return cls(entries)

    def match(self, segments: Sequence[str]) -> RestrictedEntry | None:
        """The strongest entry `segments` reaches, also through a backup copy's name."""
        if not segments:
            return None
        found = self._match(segments)
        if found is None or found.severity < Severity.HIGH:
            last = segments[-1]
            for suffix in BACKUP_SUFFIXES:
                if last.endswith(suffix) and len(last) > len(suffix):
                    copy = self._match((*segments[:-1], last[: -len(suffix)]))
                    if copy is not None and (found is None or copy.severity > found.severity):
                        found = copy
                    break
        return found

    def match_glued(self, segment: str) -> RestrictedEntry | None:
        """A single-segment entry at the end of a segment whose separators were lost."""
        for key, entries in self._by_last.items():
            if len(key) >= 7 and "." in key and segment.endswith(key):
                for e in entries:
                    if len(e.pattern) == 1 and not e.directory:
                        return e
        return None

    def match_glued_path(self, text: str) -> RestrictedEntry | None:
        """An entry whose segments, separators removed, make up `text`: the whole of
        it (`etcpasswd`), or its start for a directory with a distinctive name
        (`web-infweb.xml`). Only asked about text that followed dot-dot steps."""
        if len(text) < 5:
            return None
        found = self._glued.get(text)
        if found is not None:
            return found
        for name, entry in self._glued_dirs:
            if text.startswith(name):
                return entry
        return None

    def _match(self, segments: Sequence[str]) -> RestrictedEntry | None:
        best: RestrictedEntry | None = None
        segs = segments[:MAX_SEGMENTS_CHECKED]
        last = len(segs)
        for i, seg in enumerate(segs):
            for e in self._by_last.get(seg, ()):
                if e.directory or i == last - 1:
                    if _ends_with(segs, i + 1, e.pattern, False) and (best is None or e.severity > best.severity):
                        best = e
        for e in self._prefixed:
            if _ends_with(segs, last, e.pattern, True) and (best is None or e.severity > best.severity):
                best = e
        return best


_DEFAULT: RestrictedFiles | None = None


def restricted_files() -> RestrictedFiles:
    """The list from rules/lfi_files.yaml, compiled once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = RestrictedFiles.from_data(rule_yaml("lfi_files.yaml"))
    return _DEFAULT
