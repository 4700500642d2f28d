"""`extauthz learn`: bootstrap profiles from recorded traffic (corpus format).

Every record goes through the same Engine as live traffic, with the profile in
`learn` mode: detectors still run, and a request with any detector finding is
not learned, exactly as in production. Records labelled `attack` are skipped.
A record that names its client (`source_ip` or `client`) is subject to the
per-client share cap; a record without one counts as vetted traffic from an
unknown client (the operator chose the corpus), so the cap does not apply.
What was learned is merged into the state directory's store, like a worker's
flush: learning twice adds up.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Iterable, TextIO

from extauthz.config import Config, ConfigError, ServicePolicy
from extauthz.corpus import read_corpus
from extauthz.request import EMPTY_PEER


def learning_config(config: Config) -> Config:
    """The config with every policy's profile in `learn` mode (those switched off stay off)."""
    def learn(pol: ServicePolicy) -> ServicePolicy:
        if pol.profile.mode == "off":
            return pol
        return dataclasses.replace(pol, profile=dataclasses.replace(pol.profile, mode="learn"))

    return dataclasses.replace(config, defaults=learn(config.defaults),
                               services={name: learn(pol) for name, pol in config.services.items()})


@dataclass
class LearnReport:
    records: int = 0
    attacks_skipped: int = 0  # labelled attack in the corpus
    flagged: int = 0  # a detector found something: not learned
    learned: int = 0
    refused: int = 0  # caps or client share
    services: dict[str, int] = field(default_factory=dict)  # service -> endpoints learned

    def lines(self) -> Iterable[str]:
        yield (f"{self.records} records: {self.learned} learned, {self.flagged} not learned (detector findings), "
               f"{self.attacks_skipped} labelled attack skipped, {self.refused} refused (caps, client share)")
        for service, endpoints in sorted(self.services.items()):
            yield f"  {service}: {endpoints} endpoints"


def learn_corpora(files: list[str], config: Config, state_dir: str, *, service: str | None = None,
                  split: str = "all", progress: TextIO | None = None) -> LearnReport:
    from extauthz.engine import Engine
    from extauthz.runtime import build_runtime

    config = learning_config(config)
    # no actor state: a corpus replayed from one address must not get that address blocked
    runtime = build_runtime(config, state_dir=state_dir, actor_state=False, learning=True)
    report = LearnReport()
    try:
        engine = Engine(config, runtime=runtime)
        book = runtime.profiles
        if book is None:
            raise ConfigError("profile.mode is off for every service: nothing would be learned", "defaults.profile.mode")
        book.sampling = book.background = False
        for path in files:
            for rec in read_corpus(path, service=service, split=split):
                report.records += 1
                if rec.label == "attack":
                    report.attacks_skipped += 1
                    continue
                request = rec.request
                if not (rec.raw.get("source_ip") or rec.raw.get("client")):
                    request = dataclasses.replace(request, source=EMPTY_PEER)
                before = book.learned
                verdict = engine.check(request)
                if book.learned > before:
                    report.learned += 1
                elif any(f.source.value != "profile" and f.severity > 0 for f in verdict.findings):
                    report.flagged += 1
                else:
                    report.refused += 1
            if progress is not None:
                progress.write(f"  {path}: {report.records} records\n")
        book.flush()
        report.services = {s: len(book.live(s).endpoints) for s in book.services()}
    finally:
        runtime.close()
    return report
