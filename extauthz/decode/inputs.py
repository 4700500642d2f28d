"""Input and Extraction: what the decode stage hands to the detectors."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from extauthz.finding import Finding


class Input(NamedTuple):
    """One attacker-controlled value, decoded.

    Immutable like a frozen dataclass, but a NamedTuple: a request yields
    dozens of Inputs and building a frozen dataclass costs four times as much
    (about 1.3 µs against 0.3 µs), a quarter of the decode budget of a GET.

    `kind` is the part of the request it came from (path, query, header, cookie,
    form, json, xml, multipart, graphql, body); `location` is `kind:name`.
    `value` is the text after the decoding layers in `chain` were undone,
    outermost first, e.g. ("percent", "base64"); `raw` is the value as sent.

    `role` says what the value is: "value" (the usual), or "key" for a name an
    attacker chose that may carry an attack itself: a JSON member name
    (`$gt`, `__proto__`), an unusual parameter or cookie name (`a[$ne]`).
    """

    kind: str
    name: str
    value: str
    chain: tuple[str, ...] = ()
    raw: str = ""
    role: str = "value"

    @property
    def location(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind


def leaf_name(name: str) -> str:
    """Last component of an Input name (`$.a.file` → file, `x[page]` → page, `/order/note` → note), lower-case."""
    leaf = name.rsplit(".", 1)[-1].rsplit("/", 1)[-1].lower()
    if leaf.endswith("]") and "[" in leaf:
        inner = leaf[leaf.rfind("[") + 1:-1]
        if inner and not inner.isdigit():
            return inner
    return leaf


def location_of(kind: str, name: str) -> str:
    """The location string of an Input of this kind and name."""
    return f"{kind}:{name}" if name else kind


@dataclass(slots=True)
class Extraction:
    inputs: list[Input] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
