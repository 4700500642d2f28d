"""Parser: one request format, registered by name (like Coraza's body processors).

A parser finds the values in a piece of text of its format and hands each to
the Collector (`c.add(kind, name, value, ...)`), which decodes and counts
them. Parsers loop only as long as `c.room()` allows, never recurse on input
structure with the Python stack, and return False when the text is not of
their format (so the caller can fall back to sniffing).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, NamedTuple

if TYPE_CHECKING:
    from extauthz.decode.collector import Collector


NO_PARAMS: Mapping[str, str] = {}


class Where(NamedTuple):
    """Where the text being parsed sits: the Input kind, the name prefix of its
    values (e.g. the parameter holding a JSON document), the layers already
    undone, the nesting depth so far, and content-type parameters (boundary, charset).
    (A NamedTuple because one is built per nested document: cheap to make.)"""

    kind: str
    prefix: str = ""
    chain: tuple[str, ...] = ()
    depth: int = 0
    params: Mapping[str, str] = NO_PARAMS


ParseFn = Callable[["Collector", str, Where], bool]


@dataclass(frozen=True, slots=True)
class Parser:
    name: str
    parse: ParseFn
    kind: str  # Input kind of values found in a request body of this format


PARSERS: dict[str, Parser] = {}


def register(name: str, kind: str) -> Callable[[ParseFn], ParseFn]:
    def wrap(fn: ParseFn) -> ParseFn:
        if name in PARSERS:
            raise TypeError(f"two parsers named {name!r}")
        PARSERS[name] = Parser(name, fn, kind)
        return fn
    return wrap
