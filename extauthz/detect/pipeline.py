"""DetectorSet: the enabled detectors of a policy, compiled for fast scanning."""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

from extauthz.budget import BudgetSpent, CpuBudget, bounded
from extauthz.decode import Input
from extauthz.decode.anomalies import LIMITS
from extauthz.detect.base import REGISTRY, Detector, set_scan_request
from extauthz.detect.prefilter import Prefilter
from extauthz.finding import Finding, Severity, Source
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

    def scan(self, request: Request, inputs: Sequence[Input], budget_ms: float = 0.0) -> list[Finding]:
        """Every detector on every Input it is triggered by, then the request-level checks.

        `budget_ms` > 0 bounds the detectors' CPU time on the values (checked between
        detector calls, and inside the costly ones through extauthz.budget.check_spent):
        once it is spent, the remaining values are skipped and limit.detect-time says
        where detection stopped. 0 means no bound."""
        findings: list[Finding] = []
        whole = inputs
        inputs = windowed(inputs)
        if len(inputs) > 1:
            # Shortest first: when a long, costly value uses up the budget, the short values
            # (where most injections sit) have been read already; padding one parameter
            # does not hide an attack in another.
            inputs = sorted(inputs, key=_value_length)
        # the prefilter is linear in the input (bounded by the decode limits), outside the budget
        candidates = self._prefilter.candidates_each([inp.value for inp in inputs])
        set_scan_request(request)
        try:
            if budget_ms <= 0:
                self._scan(request, inputs, whole, candidates, findings, _never)
                return findings
            # half the budget, counted lazily (no CPU clock read on a cheap request): between
            # half and all of budget_ms is spent, all of it when the thread is not kept waiting
            budget = CpuBudget(budget_ms / 2000.0)
            with bounded(budget):
                self._scan(request, inputs, whole, candidates, findings, budget.spent)
            return findings
        finally:
            set_scan_request(None)

    def _scan(self, request: Request, inputs: Sequence[Input], whole: Sequence[Input], candidates: list[set[int]],
              findings: list[Finding], spent: Callable[[], bool]) -> None:
        """`inputs` are what the detectors read value by value (long values as windows);
        `whole` the request's Inputs as extracted, for the request-level checks."""
        self._scan_inputs(inputs, candidates, findings, spent)
        # The request-level checks run even when the budget is spent on the values: each
        # reads a bounded head of the request (raw_markers.MAX_TARGET, MAX_BODY), and the
        # protocol anomalies they find need no value read to the end.
        for d in self._request_level:
            try:
                findings.extend(d.scan_request(request, whole))
            except BudgetSpent:
                pass

    def _scan_inputs(self, inputs: Sequence[Input], candidates: list[set[int]], findings: list[Finding],
                     spent: Callable[[], bool]) -> None:
        detectors = self.detectors
        for k, (inp, wanted) in enumerate(zip(inputs, candidates)):
            for i in wanted:
                d = detectors[i]
                if d.kinds is None or inp.kind in d.kinds:
                    try:
                        findings.extend(d.scan_input(inp))
                    except BudgetSpent:  # cut short inside the detector (see extauthz.budget.check_spent)
                        pass
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
# it. A window is short enough for every reader to reach its end, and the windows overlap
# by more than any payload is long, so a payload lies whole inside one window, at most
# WINDOW - WINDOW_OVERLAP characters from its start. The cost stays linear in the value
# (WINDOW / (WINDOW - WINDOW_OVERLAP) = 1.33 readings per character); each window gets its
# own prefilter pass, so a detector reads only the windows holding its triggers.
WINDOW = 2048
WINDOW_OVERLAP = 512
_SNAP = 64  # a window edge moves back to just after a blank this close, so words stay whole


def windowed(inputs: Sequence[Input]) -> Sequence[Input]:
    """`inputs`, with each value longer than WINDOW replaced by its windows (same location)."""
    for inp in inputs:
        if len(inp.value) > WINDOW:
            break
    else:
        return inputs  # the usual request: nothing to split, no copy
    out: list[Input] = []
    for inp in inputs:
        if len(inp.value) <= WINDOW:
            out.append(inp)
        else:
            out.extend(inp._replace(value=w) for w in windows(inp.value))
    return out


def _after_blank(value: str, at: int, floor: int) -> int:
    """Just after the last blank in value[at - _SNAP:at] when that is past `floor`, else `at`."""
    lo = max(floor + 1, at - _SNAP)
    b = max(value.rfind(" ", lo, at), value.rfind("\n", lo, at))
    return b + 1 if b >= 0 else at


def windows(value: str) -> list[str]:
    """Overlapping pieces of `value`, each at most WINDOW long, covering all of it; the first
    is its head (a value's start means something to some readers: a URL, a path)."""
    n = len(value)
    out: list[str] = []
    start = 0
    while True:
        end = min(n, start + WINDOW)
        if end < n:
            end = _after_blank(value, end, start + WINDOW_OVERLAP + _SNAP)
        out.append(value[start:end])
        if end >= n:
            return out
        start = _after_blank(value, end - WINDOW_OVERLAP, start)


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
    return Finding("protocol", "limit.detect-time", severity, location, "", (), Source.DECODER, text)
