"""Scanners and probing tools: who is asking, and for what.

- A scanner's User-Agent (rules/scanner_agents.txt) or its marker headers:
  tools announce themselves, and nobody else does (HIGH).
- Out-of-band testing domains (Burp Collaborator, interactsh, dnslog, ...) in
  any value: only a tester plants those (HIGH).
- Probe paths (rules/probe_paths.yaml): backup copies, editor swap files,
  database dumps and keys left in the web root, web-root archives, and the
  well-known paths of exploits and admin consoles. Backups and exploit paths
  are HIGH; configuration/log extensions and consoles that some sites really
  run are MEDIUM (they need company).

Restricted files (`/.env`, `/.git/config`) are the path_traversal detector's:
they are reported there once, not twice.
"""
from __future__ import annotations

import threading
from typing import Callable, Iterable, Sequence

import hyperscan

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.literals import hyperscan_literal
from extauthz.finding import Finding, Severity, excerpt
from extauthz.request import Request
from extauthz.rules import rule_lines, rule_yaml

MAX_PATH = 2048
MAX_SEGMENTS = 32
MAX_UA = 1024

SCANNER_HEADERS = frozenset({
    "acunetix-product", "acunetix-scanning-agreement", "acunetix-user-agreement", "acunetix-aspect",
    "x-wipp", "x-scan-memo", "x-request-memo", "x-scanner", "x-arachni-scan-seed", "x-netsparker",
})

# Out-of-band interaction domains of testing tools (hyperscan, caseless).
# (the prefilter compiles with UCP, where `\b` is unsupported: spell boundaries out)
_END = r"(?:[^a-z0-9.\-]|$)"
OAST_PATTERNS = (
    r"burpcollaborator\.net", r"oastify\.com", r"\.oast\.(?:pro|live|site|online|fun|me)" + _END,
    r"interact\.sh" + _END, r"interactsh", r"dnslog\.(?:cn|link)" + _END, r"ceye\.io" + _END,
    r"canarytokens\.com", r"bxss\.me" + _END, r"[./]xss\.ht" + _END, r"requestrepo\.com",
)


class _Patterns:
    """Caseless Hyperscan expressions in one database; `first` names the one found."""

    def __init__(self, names: Sequence[str], expressions: Sequence[str]) -> None:
        db = hyperscan.Database()
        exprs = [e.encode() for e in expressions]
        db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs),
                   flags=[hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH] * len(exprs))
        self._db = db
        self.literals = tuple(names)
        self._local = threading.local()  # scratch space is per scan: one per handler thread

    @classmethod
    def of_literals(cls, literals: Sequence[str]) -> "_Patterns":
        return cls(literals, [hyperscan_literal(s) for s in literals])

    def first(self, text: str) -> str | None:
        found: list[int] = []

        def on_match(pid: int, start: int, end: int, flags: int, ctx: None) -> bool:
            found.append(pid)
            return True  # stop at the first match

        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        try:
            self._db.scan(text.encode("utf-8", "surrogatepass"), match_event_handler=on_match, scratch=scratch)
        except hyperscan.error:
            pass  # scan terminated by the callback
        return self.literals[found[0]] if found else None


class ProbePaths:
    """Compiled rules/probe_paths.yaml."""

    def __init__(self, data: dict) -> None:
        self.ext: dict[str, Severity] = {}
        for level, items in data["extensions"].items():
            for e in items:
                self.ext[e.lower()] = Severity.parse(level)
        self.double = frozenset(e.lower() for e in data["double_extensions"])
        self.bare = frozenset(e.lower() for e in data["bare_suffix_segments"])
        self.archive = frozenset(e.lower() for e in data["archive_extensions"])
        self.stems = frozenset(str(s).lower() for s in data["archive_stems"])
        self.name_ext: dict[str, Severity] = {}
        for level, items in (data.get("names_extensions") or {}).items():
            for e in items:
                self.name_ext[e.lower()] = Severity.parse(level)
        self.paths: dict[str, list[tuple[tuple[str, ...], bool, Severity, str]]] = {}
        for level, items in data["paths"].items():
            for p in items:
                t = p.lower()
                segs = tuple(s for s in t.strip("/").split("/") if s)
                self.paths.setdefault(segs[0], []).append((segs, t.endswith("/"), Severity.parse(level), t))

    def match(self, path: str, host: str | Callable[[], str]) -> tuple[str, Severity, str] | None:
        """(rule, severity, what) for the strongest probe signal in `path`, or None.

        `host` (the site's own name, for `<host>.zip` backups) may be a function,
        called only when an archive name needs it."""
        low = path[:MAX_PATH].lower()
        segs = [s for s in low.split("/", MAX_SEGMENTS) if s][:MAX_SEGMENTS]
        if not segs:
            return None
        best: tuple[str, Severity, str] | None = None
        for pat, directory, sev, text in self.paths.get(segs[0], ()):
            n = len(pat)
            if len(segs) >= n and tuple(segs[:n]) == pat and (not directory or len(segs) >= n or low.endswith("/")):
                if best is None or sev > best[1]:
                    best = ("scanner.probe-path", sev, text)
        directory = low.endswith("/")
        # Inner segments only matter with a `~` or a bare suffix segment, the last
        # one only with a dot or those: most paths skip the loop.
        inner = segs if directory else segs[:-1]
        if "~" in low or not self.bare.isdisjoint(inner):
            for seg in inner:
                found = self._inner_segment(seg)
                if found is not None and (best is None or found[1] > best[1]):
                    best = found
        if not directory:
            seg = segs[-1]
            if "." in seg or "~" in seg or seg in self.bare:
                found = self._segment(seg, host)
                if found is not None and (best is None or found[1] > best[1]):
                    best = found
        return best

    def _inner_segment(self, seg: str) -> tuple[str, Severity, str] | None:
        # `/index.php~/foo`: a backup file used as a directory (PATH_INFO)
        if seg.endswith("~") and "." in seg:
            return ("scanner.backup-file", Severity.HIGH, seg)
        if seg in self.bare:
            return ("scanner.backup-file", Severity.HIGH, seg)
        return None

    def _segment(self, seg: str, host: str | Callable[[], str]) -> tuple[str, Severity, str] | None:
        if seg in self.bare:
            return ("scanner.backup-file", Severity.HIGH, seg)
        if len(seg) > 1 and seg.endswith("~"):
            return ("scanner.backup-file", Severity.HIGH, seg)
        dot = seg.rfind(".")
        if dot < 0:
            return None
        ext = seg[dot:]
        prev = seg.rfind(".", 0, dot)
        ext2 = seg[prev:] if prev >= 0 else ""
        if ext2 and ext2 in self.ext:
            return ("scanner.backup-file", self.ext[ext2], seg)
        if ext2 in self.archive or ext in self.archive:
            stem = seg[: prev if ext2 in self.archive else dot]
            if not isinstance(host, str):
                host = host()
            if stem in self.stems or (host and stem in (host, host.split(".", 1)[0])):
                return ("scanner.backup-archive", Severity.HIGH, seg)
        if prev > 0 and ext in self.double:
            return ("scanner.backup-file", Severity.HIGH, seg)
        if ext in self.ext:
            return ("scanner.backup-file", self.ext[ext], seg)
        if ext in self.name_ext:
            return ("scanner.probe-path", self.name_ext[ext], seg)
        return None


AGENTS = rule_lines("scanner_agents.txt")


@register
class Scanner(Detector):
    """The User-Agent and OAST domains are found by the shared prefilter (the
    agent names are literal triggers, so the header:user-agent Input costs
    nothing extra); marker headers and probe paths are request-level."""

    name = "scanner"
    triggers = OAST_PATTERNS + tuple(hyperscan_literal(a) for a in AGENTS)
    kinds = None

    _agents: _Patterns | None = None
    _oast: _Patterns | None = None
    _probes: ProbePaths | None = None

    def __init__(self) -> None:
        cls = type(self)
        if cls._agents is None:
            cls._agents = _Patterns.of_literals(AGENTS)
            cls._oast = _Patterns(OAST_PATTERNS, OAST_PATTERNS)
            cls._probes = ProbePaths(rule_yaml("probe_paths.yaml"))

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        if inp.kind == "header":
            if inp.name == "user-agent":
                tool = self._agents.first(inp.value[:MAX_UA])
                if tool is not None:
                    return (Finding("scanner", "scanner.user-agent", Severity.HIGH, inp.location,
                                    excerpt(inp.value, 0, 64, inp.location), inp.chain,
                                    detail=f"scanner user agent ({tool})"),)
            elif inp.name in ("referer", "origin"):
                return ()
        if self._oast.first(inp.value) is None:
            return ()
        return (Finding("scanner", "scanner.oast-domain", Severity.HIGH, inp.location,
                        excerpt(inp.value, 0, 64, inp.location), inp.chain,
                        detail="out-of-band testing domain"),)

    def scan_request(self, request: Request, inputs: Sequence[Input]) -> Iterable[Finding]:
        if not SCANNER_HEADERS.isdisjoint(request.headers):
            name = next(n for n in request.headers if n in SCANNER_HEADERS)
            yield Finding("scanner", "scanner.marker-header", Severity.HIGH, f"header:{name}",
                          detail="header sent by a vulnerability scanner")
        path = next((i.value for i in inputs if i.kind == "path"), request.path)
        found = self._probes.match(path, lambda: (request.authority or request.header("host") or "")
                                   .lower().rsplit(":", 1)[0])
        if found is not None:
            rule, sev, what = found
            yield Finding("scanner", rule, sev, "path", excerpt(path, 0, len(path), "path"), detail=f"probe for {what}")
