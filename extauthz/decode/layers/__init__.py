"""Decoding layers, one small module each, registered by name.

Adding a layer: write extauthz/decode/layers/<name>.py with a `@register`ed
function and add one import line below.
"""
from __future__ import annotations

from extauthz.decode.layers.base import LAYERS, Decoded, Layer, ordered, register

# Registry: one line per layer module.
from extauthz.decode.layers import percent  # noqa: E402,F401
from extauthz.decode.layers import jsescape  # noqa: E402,F401
from extauthz.decode.layers import entities  # noqa: E402,F401
from extauthz.decode.layers import unicode  # noqa: E402,F401
from extauthz.decode.layers import jwt  # noqa: E402,F401
from extauthz.decode.layers import base64  # noqa: E402,F401

__all__ = ["LAYERS", "Decoded", "Layer", "ordered", "register"]
