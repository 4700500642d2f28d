"""Shared helpers for the profile tests: requests, engines over a state dir, training loops."""
from __future__ import annotations

import random
from pathlib import Path

from extauthz.config import Config, parse_config
from extauthz.engine import Engine
from extauthz.finding import Source
from extauthz.request import Hop, Peer, Request, split_uri
from extauthz.runtime import build_runtime

CONFIG = """
state: {flush_seconds: 3600}
defaults:
  profile: {mode: auto, min_samples: 40, stable_samples: 20}
"""


def config(text: str = CONFIG) -> Config:
    return parse_config(text)


def req(uri: str, *, method: str = "GET", client: str = "198.51.100.1", principal: str = "", service: str = "shop",
        body: str = "", ctype: str = "", hop: Hop = Hop.EDGE, source_service: str = "",
        destination: str = "", now: float = 1_700_000_000.0) -> Request:
    path, query = split_uri(uri)
    headers = {"host": (service,)}
    if ctype:
        headers["content-type"] = (ctype,)
    raw = body.encode()
    return Request(method=method, path=path, query=query, headers=headers, body=raw, body_size=len(raw),
                   authority=service, hop=hop, service=service,
                   source=Peer(address=client, principal=principal, service=source_service),
                   destination=Peer(principal=destination), received_at=now)


class Shop:
    """An Engine over a state dir, with the profile book at hand."""

    def __init__(self, state_dir: Path | str | None, cfg: Config | None = None, learning: bool = True) -> None:
        self.config = cfg or config()
        self.runtime = build_runtime(self.config, state_dir=str(state_dir) if state_dir else "", actor_state=False,
                                     learning=learning)
        self.engine = Engine(self.config, runtime=self.runtime)
        self.book = self.runtime.profiles

    def check(self, request: Request):
        return self.engine.check(request)

    def profile_findings(self, request: Request) -> dict[str, str]:
        v = self.engine.check(request)
        return {f.rule: f.severity.name for f in v.findings if f.source is Source.PROFILE}

    def flush(self) -> None:
        self.book.flush()

    def close(self) -> None:
        self.runtime.close()


NAMES = ["ana", "luis", "marta", "jon", "iker", "sara", "pablo", "nerea", "olga", "tomas", "eva", "raul"]


def normal_item_request(rng: random.Random, client: str | None = None, **kw) -> Request:
    item = rng.randint(1, 5000)
    sort = rng.choice(["asc", "desc"])
    name = rng.choice(NAMES)
    return req(f"/items/{item}?id={rng.randint(1, 999)}&sort={sort}&user={name}",
               client=client or f"198.51.100.{rng.randint(1, 50)}", **kw)


def train(shop: Shop, n: int = 200, seed: int = 7, **kw) -> None:
    rng = random.Random(seed)
    for _ in range(n):
        v = shop.check(normal_item_request(rng, **kw))
        assert not v.denied, v.as_dict()
    shop.flush()
