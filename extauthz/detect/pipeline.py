"""DetectorSet: the enabled detectors of a policy, compiled for fast scanning."""
from __future__ import annotations

from typing import Mapping, Sequence

from extauthz.decode import Input
from extauthz.detect.base import REGISTRY, Detector
from extauthz.detect.prefilter import Prefilter
from extauthz.finding import Finding
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

    def scan(self, request: Request, inputs: Sequence[Input]) -> list[Finding]:
        findings: list[Finding] = []
        detectors = self.detectors
        for inp, candidates in zip(inputs, self._prefilter.candidates_each([inp.value for inp in inputs])):
            for i in candidates:
                d = detectors[i]
                if d.kinds is None or inp.kind in d.kinds:
                    findings.extend(d.scan_input(inp))
        for d in self._request_level:
            findings.extend(d.scan_request(request, inputs))
        return findings
