"""Shared by the risk tests: a controllable clock and request builders."""
from __future__ import annotations

from extauthz.config import parse_config
from extauthz.engine import Engine
from extauthz.request import Hop, Peer, Request, split_uri
from extauthz.runtime import build_runtime

T0 = 1_700_000_000.0
ATTACK = "/download?file=../../../../etc/passwd"
CLEAN = "/download?file=report.pdf"


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


_DETECTION: dict[str, object] = {}


def engine(config_text: str = "", clock: Clock | None = None, runtime=None):
    """An Engine with the real stages from STAGE_FACTORIES; the detection stage (slow to
    compile, stateless) is shared between tests whose configs give it the same input."""
    from extauthz.engine import STAGE_FACTORIES
    if "limits:" not in config_text:  # a loaded machine must not cut detection short (limit.time)
        config_text += "\nlimits: {time_budget_ms: 2000}\n"
    cfg = parse_config(config_text)
    clock = clock or Clock()
    rt = runtime or build_runtime(cfg)
    stages = []
    for factory in STAGE_FACTORIES:
        if getattr(factory, "__name__", "") == "_detection":
            key = repr((cfg.defaults, cfg.services, getattr(cfg, "limits", None)))
            if key not in _DETECTION:
                _DETECTION[key] = factory(cfg, rt)
            stage = _DETECTION[key]
        else:
            stage = factory(cfg, rt)
        if stage is not None:
            stages.append(stage)
    return Engine(cfg, clock=clock, runtime=rt, stages=stages), clock, rt


def req(uri: str = CLEAN, ip: str = "198.51.100.9", ua: str = "Mozilla/5.0", hop: Hop = Hop.EDGE,
        principal: str = "", service: str = "shop", headers: dict | None = None, method: str = "GET") -> Request:
    path, query = split_uri(uri)
    h = {"user-agent": (ua,), **{k: (v,) if isinstance(v, str) else v for k, v in (headers or {}).items()}}
    return Request(method=method, path=path, query=query, headers=h, hop=hop, service=service,
                   source=Peer(ip, 40000, principal))
