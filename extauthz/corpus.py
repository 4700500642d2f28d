"""Labelled request corpora (JSON Lines, optionally gzip): read them as Requests.

Format: ../shared/corpus/README.md. One object per line with id, label
(attack|benign), category, method, uri (as sent, still encoded), headers
([[name, value], ...]), body. Malformed lines raise CorpusError naming file and line.
"""
from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from extauthz.request import Hop, Peer, Request, split_uri


class CorpusError(ValueError):
    """A corpus file or line that cannot be read; the message says where."""


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    label: str  # attack | benign
    category: str
    request: Request
    raw: dict


def _headers(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise CorpusError(f"{where}: headers must be a list of [name, value] pairs")
    out: dict[str, list[str]] = {}
    for pair in value:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise CorpusError(f"{where}: each header must be a [name, value] pair, got {pair!r:.60}")
        name, val = pair
        out.setdefault(str(name).strip().lower(), []).append(str(val))
    return {k: tuple(v) for k, v in out.items()}


def request_from_record(obj: dict, where: str = "<record>", service: str | None = None) -> Request:
    """A corpus object (or any dict of its shape) as the engine's Request."""
    if not isinstance(obj, dict):
        raise CorpusError(f"{where}: expected a JSON object")
    uri = obj.get("uri", "/")
    if not isinstance(uri, str) or not uri:
        raise CorpusError(f"{where}: uri must be a non-empty string")
    headers = _headers(obj.get("headers"), where)
    body = obj.get("body") or ""
    if not isinstance(body, str):
        raise CorpusError(f"{where}: body must be a string")
    path, query = split_uri(uri)
    host = (headers.get("host") or ("",))[0]
    authority = host or "localhost"
    raw_body = body.encode("utf-8", "surrogatepass")
    hop = obj.get("hop")
    source = obj.get("source_ip") or obj.get("client") or "192.0.2.10"
    return Request(
        method=str(obj.get("method") or "GET").upper(),
        path=path,
        query=query,
        headers=headers,
        body=raw_body,
        body_size=len(raw_body),
        authority=authority,
        hop=Hop(hop) if hop in {h.value for h in Hop} else Hop.EDGE,
        service=service or obj.get("service") or authority.rsplit(":", 1)[0].lower(),
        source=Peer(address=str(source), principal=str(obj.get("source_principal") or "")),
        destination=Peer(principal=str(obj.get("destination_principal") or "")),
        request_id=str(obj.get("id") or ""),
    )


SPLITS = ("all", "dev", "holdout")


def in_split(record_id: str, split: str) -> bool:
    """Deterministic 80/20 split by record id: tune on `dev`, report on `holdout`.

    The hold-out fifth is never looked at while tuning detectors, so the figure
    reported on it measures generalisation, not memory of corpus lines.
    """
    if split == "all":
        return True
    holdout = zlib.crc32(record_id.encode("utf-8")) % 5 == 0
    return holdout if split == "holdout" else not holdout


def _open(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def read_corpus(path: str | Path, service: str | None = None, split: str = "all") -> Iterator[Record]:
    p = Path(path)
    if not p.exists():
        raise CorpusError(f"{p}: no such file")
    try:
        with _open(p) as fh:
            for n, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                where = f"{p}:{n}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CorpusError(f"{where}: not JSON ({exc.msg})") from None
                if not isinstance(obj, dict):
                    raise CorpusError(f"{where}: expected a JSON object")
                rid = str(obj.get("id") or where)
                if not in_split(rid, split):
                    continue
                label = obj.get("label", "benign")
                if label not in ("attack", "benign"):
                    raise CorpusError(f"{where}: label must be attack or benign, got {label!r}")
                req = request_from_record(obj, where, service)
                yield Record(rid, label, str(obj.get("category") or label), req, obj)
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise CorpusError(f"{p}: cannot read: {exc}") from None
