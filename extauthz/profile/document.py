"""A ServiceProfile as bytes: what every ProfileStore keeps (SQLite, Redis).

    extauthz-profile <format>\\n<zlib-compressed JSON>

The first line is plain text so that a person (or an older extauthz) can tell
what a blob is and which format it has without decompressing it. A document
from a newer format, or one that does not decode, raises DocumentError: it is
reported and never silently replaced (a newer extauthz may have written it).
"""
from __future__ import annotations

import json
import sys
import zlib
from typing import Any

from extauthz.profile.features import NO_TYPE
from extauthz.profile.model import LENGTH_NONE, EndpointStats, ParamStats, ServiceProfile

MAGIC = b"extauthz-profile"
FORMAT = 1


class DocumentError(ValueError):
    """A stored profile that cannot be read; the message says which and why."""


def encode(profile: ServiceProfile) -> bytes:
    body = json.dumps(_profile_dict(profile), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return MAGIC + b" %d\n" % FORMAT + zlib.compress(body, 6)


def document_format(doc: bytes) -> int | None:
    """The format number of a document, or None when it is not a profile document at all."""
    head, nl, _ = doc[:64].partition(b"\n")
    magic, _, number = head.partition(b" ")
    if not nl or magic != MAGIC or not number.isdigit():
        return None
    return int(number)


def decode(doc: bytes, service: str = "") -> ServiceProfile:
    where = f"profile of service {service!r}" if service else "profile document"
    fmt = document_format(doc)
    if fmt is None:
        raise DocumentError(f"{where}: not an extauthz profile document (corrupt?)")
    if fmt > FORMAT:
        raise DocumentError(f"{where}: written in format {fmt} by a newer extauthz; this one reads "
                            f"format {FORMAT} (upgrade, or point state.dir elsewhere)")
    try:
        data = json.loads(zlib.decompress(doc.partition(b"\n")[2]))
        return _profile_from(data)
    except (zlib.error, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise DocumentError(f"{where}: format {fmt} document does not decode ({type(exc).__name__}: {exc})") from None


# ---------------------------------------------------------------- to JSON


def _length(v: int) -> int | None:
    return None if v == LENGTH_NONE else v


def _param_dict(p: ParamStats) -> dict:
    out: dict[str, Any] = {"n": p.n, "present": p.present, "len": [_length(p.lmin), p.lmax],
                           "mask": p.mask, "mask2": p.mask2, "always": p.always, "encs": p.encs, "type": p.type, "values": p.values, "shapes": p.shapes}
    if p.punct is not None:
        out["punct"] = p.punct.hex()
    if p.vnew or p.snew:
        out["new"] = [p.vnew, p.snew]
    if p.pending:
        out["pending"] = p.pending
    return out


def _endpoint_dict(method: str, tpl: str, ep: EndpointStats) -> dict:
    return {"method": method, "template": tpl, "n": ep.n, "changed": ep.changed,
            "params": {k: _param_dict(p) for k, p in ep.params.items()}, "param_overflow": ep.param_overflow,
            "ctypes": ep.ctypes, "body": [_length(ep.bmin), ep.bmax], "callers": ep.callers,
            "clients": [[c, n] for c, n in ep.clients.items()], "refused": ep.refused}


def _profile_dict(p: ServiceProfile) -> dict:
    return {
        "service": p.service, "n": p.n, "new_endpoint_at": p.new_endpoint_at,
        "endpoint_overflow": p.endpoint_overflow, "collapsed": sorted(p.collapsed),
        "endpoints": [_endpoint_dict(m, t, ep) for (m, t), ep in p.endpoints.items()],
        "headers": {k: _param_dict(h) for k, h in p.headers.items()}, "header_overflow": p.header_overflow,
        "callers": p.callers, "new_caller_at": p.new_caller_at,
        "rates": [[m, t, *r] for (m, t), r in p.rates.items()], "updated": p.updated,
    }


# ---------------------------------------------------------------- from JSON

_intern = sys.intern


def _table(d: dict | None) -> dict | None:
    return None if d is None else {_intern(str(k)): int(v) for k, v in d.items()}


def _param_from(d: dict) -> ParamStats:
    p = ParamStats()
    p.n, p.present = int(d["n"]), int(d["present"])
    lo, hi = d["len"]
    p.lmin, p.lmax = (LENGTH_NONE if lo is None else int(lo)), int(hi)
    p.mask, p.mask2, p.always, p.encs = int(d["mask"]), int(d["mask2"]), int(d["always"]), int(d["encs"])
    p.punct = bytearray.fromhex(d["punct"]) if d.get("punct") else None
    p.type = int(d["type"]) if d["type"] is not None else NO_TYPE
    p.values, p.shapes = _table(d["values"]), _table(d["shapes"])
    p.vnew, p.snew = (int(x) for x in d.get("new", (0, 0)))
    pending = d.get("pending")
    p.pending = {str(k): int(v) for k, v in pending.items()} if pending else None
    return p


def _endpoint_from(d: dict) -> tuple[tuple[str, str], EndpointStats]:
    ep = EndpointStats()
    ep.n, ep.changed = int(d["n"]), int(d["changed"])
    ep.params = {_intern(k): _param_from(v) for k, v in d["params"].items()}
    ep.param_overflow = int(d["param_overflow"])
    ep.ctypes = _table(d["ctypes"])
    lo, hi = d["body"]
    ep.bmin, ep.bmax = (LENGTH_NONE if lo is None else int(lo)), int(hi)
    ep.callers = _table(d["callers"])
    ep.clients = {int(c): int(n) for c, n in d["clients"]}
    ep.refused = int(d["refused"])
    return (_intern(d["method"]), _intern(d["template"])), ep


def _profile_from(d: dict) -> ServiceProfile:
    p = ServiceProfile(str(d["service"]))
    p.n, p.new_endpoint_at = int(d["n"]), int(d["new_endpoint_at"])
    p.endpoint_overflow = int(d["endpoint_overflow"])
    p.collapsed = frozenset(str(x) for x in d["collapsed"])
    p.endpoints = dict(_endpoint_from(e) for e in d["endpoints"])
    p.headers = {_intern(k): _param_from(v) for k, v in d["headers"].items()}
    p.header_overflow = int(d["header_overflow"])
    p.callers = _table(d["callers"])
    p.new_caller_at = int(d["new_caller_at"])
    p.rates = {(_intern(r[0]), _intern(r[1])): (float(r[2]), float(r[3]), float(r[4]), int(r[5]))
               for r in d["rates"]}
    p.updated = float(d["updated"])
    return p
