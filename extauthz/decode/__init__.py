"""Parse and decode a Request into Inputs: every value an attacker controls.

Contract (the rest of the engine depends only on this):
    extract(request, limits, body_limit) -> Extraction(inputs, findings)

Each Input carries its location (`query:id`, `json:$.a[2].b`, `header:user-agent`),
its value after the decoding layers were undone, and the chain of layers. Every
decoder is bounded by DecodeLimits; a limit hit becomes a Finding in
`Extraction.findings`, never an exception or a silent skip.

Layout: layers/ (one decoding per module: percent, js, html, nfkc, base64),
parsers/ (one format per module: urlencoded, json, xml, multipart, graphql,
cookies, path, text), collector.py (limits, peeling, variants, anomalies),
body.py (content type and sniffing), headers.py (which headers), extract.py.
"""
from __future__ import annotations

from extauthz.decode.extract import extract
from extauthz.decode.inputs import Extraction, Input, location_of
from extauthz.decode.layers import LAYERS
from extauthz.decode.limits import DecodeLimits
from extauthz.decode.parsers import PARSERS

__all__ = ["LAYERS", "PARSERS", "DecodeLimits", "Extraction", "Input", "extract", "location_of"]
