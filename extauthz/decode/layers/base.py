"""Layer: one decoding transformation, registered by name (like Coraza's transformations).

A layer takes text and returns the text with one layer of encoding undone, or
None when the layer does not apply (nothing to undo). The Collector applies the
registered layers repeatedly, in `order`, until none applies or
limits.max_layers is reached, and records each one undone on Input.chain.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple


class Decoded(NamedTuple):
    value: str
    # decode.* anomaly rules seen while decoding (see extauthz.decode.anomalies)
    anomalies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    decode: Callable[[str], Decoded | None]
    order: int
    # The text before this layer is also handed to detectors: for speculative
    # layers (base64: the value may just happen to be valid base64) and for
    # layers whose undoing changes meaning by context (HTML entities matter in
    # an attribute, not in a JSON API).
    keep_before: bool = False


LAYERS: dict[str, Layer] = {}


def register(name: str, order: int, keep_before: bool = False) -> Callable:
    """Decorator: make `decode(text) -> Decoded | None` a layer named `name`."""
    def wrap(fn: Callable[[str], Decoded | None]) -> Callable[[str], Decoded | None]:
        if name in LAYERS:
            raise TypeError(f"two decoding layers named {name!r}")
        LAYERS[name] = Layer(name, fn, order, keep_before)
        return fn
    return wrap


def ordered() -> tuple[Layer, ...]:
    return tuple(sorted(LAYERS.values(), key=lambda layer: layer.order))
