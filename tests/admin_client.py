"""A tiny client for the admin API in tests: (status, JSON object or text)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request


def admin_call(url: str, path: str, method: str = "GET", token: str | None = None, body: bytes | None = None):
    data = body if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(url + path, method=method, data=data,
                                 headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            raw, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        raw, status = e.read(), e.code
    return status, json.loads(raw) if raw[:1] == b"{" else raw.decode()
