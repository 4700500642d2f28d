"""DetectorSet: the enabled detectors of a policy, compiled for fast scanning."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Collection, Mapping, Sequence

from extauthz.budget import BudgetSpent, CpuBudget, bounded
from extauthz.decode import Input
from extauthz.decode.anomalies import LIMITS
from extauthz.detect.base import REGISTRY, Detector, set_scan_request
from extauthz.detect.prefilter import Prefilter
from extauthz.finding import Finding, Severity, Source
from extauthz.lang.markup import is_document, set_document_windows
from extauthz.request import Request


class DetectorSet:
    def __init__(self, detectors: Sequence[Detector]) -> None:
        self.detectors = list(detectors)
        self._prefilter = Prefilter(self.detectors)
        # Only detectors with request-level checks are called per request.
        self._request_level = [d for d in self.detectors if type(d).scan_request is not Detector.scan_request]

    @classmethod
    def from_toggles(cls, toggles: Mapping[str, bool]) -> "DetectorSet":
        unknown = sorted(set(toggles) - set(REGISTRY))
        if unknown:
            raise KeyError(unknown[0])
        return cls([REGISTRY[name]() for name in sorted(REGISTRY) if toggles.get(name, True)])

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.detectors]

    def scan(self, request: Request, inputs: Sequence[Input], budget_ms: float = 0.0,
             base_ms: float = 0.0, spare: Collection[str] = (), wall_ms: float = 0.0) -> list[Finding]:
        """Every detector on every Input it is triggered by, then the request-level checks.

        `budget_ms` > 0 bounds the detectors' CPU time on the values (checked between
        detector calls, and inside the costly ones through extauthz.budget.check_spent):
        once it is spent, the remaining values are skipped and limit.detect-time says
        where detection stopped. 0 means no bound. `base_ms` (0 < base_ms < budget_ms):
        the budget falls back to it once a detector finds something high or critical
        (the request is blocked anyway; what the long-text allowance of
        extauthz.engine.detect_budget added is for text that reads clean), except at
        the locations in `spare`, whose high findings the engine relaxes later. Such an
        extended budget is also spent after `wall_ms` of wall time (> 0)."""
        findings: list[Finding] = []
        whole = inputs
        if len(inputs) > 1:
            # Shortest first: when a long, costly value uses up the budget, the short values
            # (where most injections sit) have been read already; padding one parameter
            # does not hide an attack in another. (Windows of long values come last.)
            inputs = sorted(inputs, key=_value_length)
        # Half the budget, counted lazily (no CPU clock read on a cheap request): between half
        # and all of budget_ms is spent, all of it when the thread is not kept waiting. It starts
        # before the prefilter: a value dense with triggers ("&" × 64 KiB) costs the prefilter
        # milliseconds, which are detection's too (the prefilter itself is linear and always ends).
        # A budget with a long-text allowance (base_ms below it) is the thread's CPU time from
        # here, counted at once: such a request is long anyway, and waiting for the CPU (Envoy
        # and extauthz share the cores) must not halve what its text earned. Nor may it read on
        # past the proxy's patience while other checks hold the interpreter: after wall_ms it is
        # spent (limits.detect_wall_max_ms: a clean limit.detect-time, not Envoy's timeout and
        # CPU spent on a request nobody waits for).
        extended = 0 < base_ms < budget_ms
        budget = (CpuBudget(budget_ms / 1000.0, eager=True, wall=wall_ms / 1000.0) if extended
                  else CpuBudget(budget_ms / 2000.0) if budget_ms > 0 else None)
        candidates = self._prefilter.candidates_each([inp.value for inp in inputs])
        set_scan_request(request)
        try:
            groups: list[int] = []
            sources = inputs
            inputs, candidates = windowed(inputs, candidates, groups)
            values = _Values(sources, groups, inputs) if groups else None
            if budget is None:
                self._scan(request, inputs, whole, candidates, findings, _never, values, None)
                return findings
            high = None
            if extended:
                def high(found: Sequence[Finding], seconds: float = base_ms / 1000.0) -> bool:
                    if any(f.severity >= Severity.HIGH and f.location not in spare for f in found):
                        budget.shorten(seconds)
                        return True
                    return False
            with bounded(budget):
                self._scan(request, inputs, whole, candidates, findings, budget.spent, values, high)
            return findings
        finally:
            set_scan_request(None)
            set_document_windows(None)

    def _scan(self, request: Request, inputs: Sequence[Input], whole: Sequence[Input], candidates: list[set[int]],
              findings: list[Finding], spent: Callable[[], bool], values: "_Values | None",
              high: "Callable[[Sequence[Finding]], bool] | None") -> None:
        """`inputs` are what the detectors read value by value (long values as windows, `values`
        the whole value each is, or is a window of); `whole` the request's Inputs as extracted,
        for the request-level checks. `high` is shown new findings until it returns True."""
        at: list[int] = []
        self._scan_inputs(inputs, candidates, findings, spent, at, values, high)
        if findings:
            apart(findings, at, values.each() if values is not None else [inp.value for inp in inputs])
        # The request-level checks run even when the budget is spent on the values: each
        # reads a bounded head of the request (raw_markers.MAX_TARGET, MAX_BODY), and the
        # protocol anomalies they find need no value read to the end.
        for d in self._request_level:
            try:
                findings.extend(d.scan_request(request, whole))
            except BudgetSpent:
                pass

    def _scan_inputs(self, inputs: Sequence[Input], candidates: list[set[int]], findings: list[Finding],
                     spent: Callable[[], bool], at: list[int], values: "_Values | None",
                     high: "Callable[[Sequence[Finding]], bool] | None" = None) -> None:
        """Each detector on each Input it is triggered by; `at` gets, for every finding, the
        position of the Input it was found in. A window of a long value runs the detectors its
        own text triggers, among its value's: a document with one shell line wakes cmdi for that
        window only (screened when its turn comes, so that a value dense with triggers spends
        the budget after the short values are read, not before)."""
        detectors = self.detectors
        for k, (inp, wanted) in enumerate(zip(inputs, candidates)):
            if values is not None and values.window(k):
                wanted = candidates[k] = wanted & self._prefilter.candidates(inp.value)
            for i in wanted:
                d = detectors[i]
                if d.kinds is None or inp.kind in d.kinds:
                    try:
                        findings.extend(d.scan_input(inp))
                    except BudgetSpent:  # cut short inside the detector (see extauthz.budget.check_spent)
                        pass
                    if len(findings) > len(at):
                        if high is not None and high(findings[len(at):]):
                            high = None
                        at.extend([k] * (len(findings) - len(at)))
                    if spent():
                        findings.append(_budget_spent(f"{inp.location} ({d.name})",
                                                      self._unread(inputs, candidates, k, i)))
                        return

    def _unread(self, inputs: Sequence[Input], candidates: list[set[int]], k: int, after: int) -> int:
        """How many (value, detector) readings the prefilter asked for were never started:
        the rest of value k's detectors after `after` (in the loop's own order), and every
        later value's."""
        detectors = self.detectors
        n = 0
        for j in range(k, len(inputs)):
            kind = inputs[j].kind
            started = j > k
            for i in candidates[j]:
                if started and (detectors[i].kinds is None or kind in detectors[i].kinds):
                    n += 1
                started = started or i == after
        return n


# Long values are read in overlapping windows. Every reader has limits of its own (the SQL
# tokenizer's characters and tokens, the HTML reader's tags, the JS reader's tokens per
# stream), so text past them would never be read: 8 KiB of filler in front of a payload hid
# it. A window is short enough for the readers to reach its end (the SQL tokenizer reads
# 8 KiB; ordinary text has far fewer tokens than characters), and the windows overlap by
# more than any payload is long, so a payload lies whole inside one window, at most
# WINDOW - WINDOW_OVERLAP characters from its start. The cost stays linear in the value
# ((WINDOW + LEAD) / (WINDOW - WINDOW_OVERLAP) = 1.21 readings per character). 4 KiB rather
# than 2: on bench/document_corpus.py the default budget denied 30.5 % of the documents
# against 35.3 % with 2 KiB windows, for 0.8 points less on bench/padding_corpus.py.
WINDOW = 4096
WINDOW_OVERLAP = 512
_SNAP = 64  # a window edge moves back to just after a blank this close, so words stay whole
_MARK_SNAP = 256  # or its start, to just after a line end or `>` this close (see _window_start)
LEAD = 256  # characters of the value's start read before each later window (see windows)


def windowed(inputs: Sequence[Input], candidates: list[set[int]],
             groups: list[int] | None = None) -> tuple[Sequence[Input], list[set[int]]]:
    """`inputs` with each value longer than WINDOW replaced by its windows (same location),
    each window with its value's prefilter candidates (narrowed to its own when it is read:
    DetectorSet._scan_inputs). The windows of a document are registered as such
    (extauthz.lang.markup.set_document_windows) until the scan ends. `groups`, when given
    and some value is split, gets for each Input returned the position in `inputs` of the value
    it is (a window of)."""
    for inp in inputs:
        if len(inp.value) > WINDOW:
            break
    else:
        return inputs, candidates  # the usual request: nothing to split, no copy
    out: list[Input] = []
    wanted: list[set[int]] = []
    documents: set[str] = set()
    for j, (inp, c) in enumerate(zip(inputs, candidates)):
        if len(inp.value) <= WINDOW:
            out.append(inp)
            wanted.append(c)
            if groups is not None:
                groups.append(j)
        else:
            ws = windows(inp.value)
            if is_document(inp.value):
                documents.update(ws)
            for w in ws:
                out.append(inp._replace(value=w))
                wanted.append(c)
            if groups is not None:
                groups.extend([j] * len(ws))
    set_document_windows(frozenset(documents) if documents else None)
    return out, wanted


NEAR = 256  # weak findings of a long value this close (between their matches) are one payload's
APART_MIN = 1024  # values at least this long have their weak findings counted by where they lie


def apart(findings: list[Finding], at: list[int], sources: list[str]) -> None:
    """Weak signals need company nearby. Findings below HIGH block only together: a MEDIUM
    command-like line and a MEDIUM file path in one short parameter are one payload's two
    halves. In a long text they are usually two coincidences a page apart: joined package
    descriptions were blocked for mentioning /etc/passwd in one paragraph and "grep is a
    utility" in another. So in a value of APART_MIN characters or more, weak findings count
    together only where they lie within NEAR characters of each other (the match each was
    cut around: its excerpt, found in the value): the value's weak findings count from the
    cluster where they add up most (and still join the request's other values' findings);
    the others, of rules not in that cluster, are kept as INFO. HIGH and CRITICAL findings,
    and findings that cannot be placed (a redacted secret), count as before.

    `at[n]`: the position of the Input finding n was found in; `sources[k]`: the whole value
    that Input k is (a window of)."""
    placed: dict[int, list[tuple[int, int]]] = {}  # id of the value -> (position, finding index)
    for n, (f, k) in enumerate(zip(findings, at)):
        if Severity.INFO < f.severity < Severity.HIGH and f.source is Source.DETECTOR and len(sources[k]) >= APART_MIN:
            where = _place(sources[k], f.excerpt)
            if where >= 0:
                placed.setdefault(id(sources[k]), []).append((where, n))
    for spots in placed.values():
        if len(spots) < 2:
            continue
        spots.sort()
        clusters: list[list[int]] = [[spots[0][1]]]
        for (p, n), (q, _) in zip(spots[1:], spots):
            if p - q <= NEAR:
                clusters[-1].append(n)
            else:
                clusters.append([n])
        if len(clusters) < 2:
            continue
        top = max(clusters, key=lambda ns: _weak_points(findings, ns))
        counted = {findings[n].rule for n in top}
        for ns in clusters:
            if ns is top:
                continue
            for n in ns:
                f = findings[n]
                if f.rule not in counted:
                    findings[n] = replace(f, severity=Severity.INFO, detail=(f.detail + "; " if f.detail else "")
                                          + f"{f.severity.name.lower()}, not counted: the value's other weak "
                                          "signals lie elsewhere in it")


def _place(value: str, excerpt: str) -> int:
    """Where in `value` the text of a finding's excerpt (see extauthz.finding.excerpt) lies: the
    middle of its match, -1 when it cannot be told (redacted, escaped beyond recovery)."""
    text = excerpt.removeprefix("\u2026").removesuffix("\u2026")
    if len(text) < 8:
        return -1
    k = value.find(text)
    if k < 0 and "\\" in text:
        try:
            text = text.encode("ascii").decode("unicode_escape")
        except (UnicodeError, ValueError):
            return -1
        k = value.find(text)
    return k + len(text) // 2 if k >= 0 else -1


def _weak_points(findings: list[Finding], ns: list[int]) -> int:
    best: dict[str, int] = {}
    for n in ns:
        best[findings[n].rule] = max(best.get(findings[n].rule, 0), int(findings[n].severity))
    return sum(best.values())


def _after_blank(value: str, at: int, floor: int) -> int:
    """Just after the last blank in value[at - _SNAP:at] when that is past `floor`, else `at`."""
    lo = max(floor + 1, at - _SNAP)
    b = max(value.rfind(" ", lo, at), value.rfind("\n", lo, at))
    return b + 1 if b >= 0 else at


def _window_start(value: str, at: int, floor: int) -> int:
    """Where a window that should start near `at` starts: just after the last line end or `>`
    within _MARK_SNAP before it (text, not the inside of a tag: a window that opened inside
    `<a href="../../x.html">` read a relative link as a value climbing directories, and
    `x"><li>` as an attribute breakout), else just after a blank (_after_blank)."""
    lo = max(floor + 1, at - _MARK_SNAP)
    b = max(value.rfind("\n", lo, at), value.rfind(">", lo, at))
    return b + 1 if b >= 0 else _after_blank(value, at, floor)


def windows(value: str) -> list[str]:
    """Overlapping pieces of `value` covering all of it, the first its head (at most WINDOW
    long). Every later window is read after the value's lead (its first LEAD characters, up to
    a line end, `>` or blank), joined by the character the window follows in the value: what
    the readers judge by a value's start (a URL, a path, a document's first lines, a
    breakout `">` opening the value) stays the value's own start, not a cut in its middle."""
    n = len(value)
    out: list[str] = []
    start = 0
    lead = ""
    while True:
        end = min(n, start + WINDOW)
        if end < n:
            end = _after_blank(value, end, start + WINDOW_OVERLAP + _SNAP)
        out.append(value[start:end] if not start else lead + value[start - 1:end])
        if end >= n:
            return out
        if not start:
            lead = value[:_window_start(value, LEAD, 0) - 1] if n > LEAD else ""
        start = _window_start(value, end - WINDOW_OVERLAP, start)


class _Values:
    """For a request with values read as windows: the whole value each Input read is, or is a
    window of."""

    __slots__ = ("sources", "groups", "inputs")

    def __init__(self, sources: Sequence[Input], groups: list[int], inputs: Sequence[Input]) -> None:
        self.sources, self.groups, self.inputs = sources, groups, inputs

    def window(self, k: int) -> bool:
        """Is Input k a window of a longer value?"""
        return self.inputs[k] is not self.sources[self.groups[k]]

    def each(self) -> list[str]:
        return [self.sources[j].value for j in self.groups]


def _value_length(inp: Input) -> int:
    return len(inp.value)


def _never() -> bool:
    return False


def _budget_spent(location: str, unread: int) -> Finding:
    """The budget ran out. When readings the prefilter asked for were never started, the
    request is blocked (HIGH): otherwise costly text in front would hide an attack behind it
    (an xss payload after 4 KiB that sqli reads slowly). When only the reading in progress
    was cut, the rest of the request was read: MEDIUM, a signal that needs company."""
    severity, text = LIMITS["limit.detect-time"]
    if unread:
        severity = Severity.HIGH
        text += f"; {unread} triggered reading{'s' if unread != 1 else ''} not done"
    text += " (a service that receives long text needs a budget of its own)"
    return Finding("protocol", "limit.detect-time", severity, location, "", (), Source.DECODER, text)
