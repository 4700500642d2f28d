"""Unicode compatibility normalisation (NFKC): fullwidth `＜` to `<`, `ｓｅｌｅｃｔ` to `select`.

Backends that normalise (many frameworks, databases' collations) turn such
look-alikes into the real characters after the WAF has looked; undo it first.
Only non-ASCII text can change, so ASCII skips the work.
"""
from __future__ import annotations

import unicodedata

from extauthz.decode.layers.base import Decoded, register


@register("nfkc", order=40)
def normalise_nfkc(text: str) -> Decoded | None:
    if text.isascii():
        return None
    out = unicodedata.normalize("NFKC", text)
    return Decoded(out) if out != text else None
