"""Parse and decode a Request into Inputs: every value an attacker controls.

Contract (the rest of the engine depends only on this):
    extract(request, limits) -> Extraction(inputs, findings)

Each Input carries its location (`query:id`, `json:$.a[2].b`, `header:user-agent`),
its value after the decoding layers were undone, and the chain of layers. Every
decoder is bounded by DecodeLimits; a limit hit becomes a Finding in
`Extraction.findings`, never an exception or a silent skip.
"""
from __future__ import annotations

from extauthz.decode.inputs import DecodeLimits, Extraction, Input, extract

__all__ = ["DecodeLimits", "Extraction", "Input", "extract"]
