"""The admin API without HTTP: (method, path, query, headers, body) → (status, headers, body).

Kept apart from the HTTP server (extauthz.admin.http) so that the same routing
serves a single process, the --workers supervisor (which fans out to its
workers, extauthz.admin.fanout) and unit tests.

Open endpoints: /healthz, /readyz, /metrics, /openapi.json. Everything under
/v1/ needs `Authorization: Bearer <token>` (admin.token_file, else the variable
named by admin.token_env); with no token configured they all answer 401.
Errors are JSON: {"error": "...", "status": N}.
"""
from __future__ import annotations

import hmac
import json
import math
import os
import time
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Callable, Mapping, Protocol
from urllib.parse import parse_qsl

from extauthz.admin.providers import ActorAdmin, AdminError, ListAdmin, ProfileAdmin
from extauthz.config import AdminSettings
from extauthz.events import EventFilter

MAX_BODY = 1024 * 1024  # a full list change (1000 entries of 512 characters) fits
MAX_EVENTS = 1000
LIST_NAMES = ("allow", "deny")
JSON_TYPE = "application/json"


class AdminBackend(Protocol):
    def ready(self) -> tuple[bool, str]: ...

    def metrics(self) -> tuple[bytes, str]: ...

    def events(self, flt: EventFilter) -> list[dict]: ...

    def reload(self) -> tuple[bool, str]: ...

    def effective_config(self) -> dict: ...

    def actor_admin(self) -> ActorAdmin | None: ...

    def list_admin(self) -> ListAdmin | None: ...

    def profile_admin(self) -> ProfileAdmin | None: ...


def load_token(settings: AdminSettings, environ: Mapping[str, str] = os.environ) -> str | None:
    """The bearer token, or None when none is configured (then /v1/ answers 401)."""
    if settings.token_file:
        try:
            with open(settings.token_file, encoding="utf-8") as fh:
                token = fh.read().strip()
        except OSError as exc:
            raise OSError(f"admin.token_file: cannot read {settings.token_file}: {exc.strerror or exc}") from None
    else:
        token = environ.get(settings.token_env, "").strip() if settings.token_env else ""
    return token or None


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()


def json_response(status: int, obj: Any, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n",
                    JSON_TYPE, headers)


def error(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return json_response(status, {"error": message, "status": status}, headers)


# ---------------------------------------------------------------- input checks


def _query(raw: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=False, max_num_fields=50)
    except ValueError as exc:
        raise AdminError(400, f"bad query string: {exc}") from None
    out: dict[str, str] = {}
    for k, v in pairs:
        if k in out:
            raise AdminError(400, f"query parameter {k!r} given twice")
        out[k] = v
    return out


def _allowed_params(q: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    for k in q:
        if k not in allowed:
            raise AdminError(400, f"unknown query parameter {k!r} (known: {', '.join(allowed)})")


def _int_param(q: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    if name not in q:
        return default
    v = q[name].strip()
    if not (v.isascii() and v.isdigit()) or not lo <= int(v) <= hi:
        raise AdminError(400, f"{name}: expected an integer from {lo} to {hi}, got {q[name]!r}")
    return int(v)


def _time_param(q: Mapping[str, str], name: str) -> float:
    """Unix seconds or an ISO 8601 time (2025-01-31T12:00:00Z)."""
    if name not in q:
        return 0.0
    v = q[name].strip()
    try:
        t = float(v)
        if math.isfinite(t) and t >= 0:
            return t
    except ValueError:
        try:
            dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
            if dt.tzinfo is not None:
                return dt.timestamp()
        except ValueError:
            pass
    raise AdminError(400, f"{name}: expected unix seconds or an ISO 8601 time with a zone, got {q[name]!r}")


def _body_object(body: bytes, required: tuple[str, ...], optional: tuple[str, ...]) -> dict:
    if not body.strip():
        raise AdminError(400, f"expected a JSON object with {', '.join(required)}")
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AdminError(400, f"body is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise AdminError(400, "body must be a JSON object")
    for k in obj:
        if k not in required + optional:
            raise AdminError(400, f"unknown field {k!r} (known: {', '.join(required + optional)})")
    for k in required:
        if k not in obj:
            raise AdminError(400, f"missing field {k!r}")
    return obj


_BLANK = " \t\r\n\f\v"  # what the OpenAPI document's `\S` treats as blank (not Python's wider isspace)


def _string(obj: dict, name: str, max_len: int = 512, required: bool = True) -> str:
    v = obj.get(name, "")
    if not isinstance(v, str) or (required and not v.strip(_BLANK)) or len(v) > max_len:
        raise AdminError(400, f"{name}: expected a non-empty string of at most {max_len} characters"
                         if required else f"{name}: expected a string of at most {max_len} characters")
    return v.strip(_BLANK)


def _seconds(obj: dict, name: str, default: float | None) -> float | None:
    if name not in obj:
        return default
    v = obj[name]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 < v <= 366 * 86400:
        raise AdminError(400, f"{name}: expected a number of seconds, more than 0 and at most a year")
    return float(v)


# ---------------------------------------------------------------- the API

Handler = Callable[[Mapping[str, str], bytes, list[str]], Response]


class AdminAPI:
    def __init__(self, backend: AdminBackend, token: str | None, started: float | None = None) -> None:
        self.backend = backend
        self.token = token
        self.started = started or time.time()
        # (method, path pattern) → handler; `{x}` is one path segment.
        self.routes: list[tuple[str, list[str], bool, Handler]] = []
        r = self._route
        r("GET", "/healthz", False, self.healthz)
        r("GET", "/readyz", False, self.readyz)
        r("GET", "/metrics", False, self.metrics)
        r("GET", "/openapi.json", False, self.openapi)
        r("GET", "/v1/events", True, self.events)
        r("POST", "/v1/reload", True, self.reload)
        r("GET", "/v1/config", True, self.config)
        r("GET", "/v1/profiles", True, self.profiles)
        r("GET", "/v1/profiles/{service}", True, self.profile)
        r("GET", "/v1/actors", True, self.actors)
        r("POST", "/v1/actors/block", True, self.block)
        r("POST", "/v1/actors/unblock", True, self.unblock)
        r("GET", "/v1/lists", True, self.lists)
        r("POST", "/v1/lists/{name}/add", True, self.list_add)
        r("POST", "/v1/lists/{name}/remove", True, self.list_remove)

    def _route(self, method: str, pattern: str, protected: bool, handler: Handler) -> None:
        self.routes.append((method, pattern.strip("/").split("/"), protected, handler))

    @staticmethod
    def _match(pattern: list[str], segments: list[str]) -> list[str] | None:
        if len(pattern) != len(segments):
            return None
        args = []
        for p, s in zip(pattern, segments):
            if p.startswith("{"):
                if not s:
                    return None
                args.append(s)
            elif p != s:
                return None
        return args

    def authorized(self, headers: Mapping[str, str]) -> bool:
        if not self.token:
            return False
        value = headers.get("authorization", "")
        scheme, _, given = value.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode())

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        """headers: lower-case names."""
        from urllib.parse import unquote

        path, _, raw_query = target.partition("?")
        segments = [unquote(s) for s in path.strip("/").split("/")]
        allowed = []
        for m, pattern, protected, handler in self.routes:
            args = self._match(pattern, segments)
            if args is None:
                continue
            if m != method:
                allowed.append(m)
                continue
            if protected and not self.authorized(headers):
                why = "missing or wrong bearer token" if self.token else \
                    "no admin token is configured (admin.token_file or the admin.token_env variable)"
                return error(401, why, (("WWW-Authenticate", 'Bearer realm="extauthz"'),))
            try:
                return handler(_query(raw_query), body, args)
            except AdminError as exc:
                return error(exc.status, exc.message)
        if allowed:
            return error(405, f"method {method} not allowed here (allowed: {', '.join(sorted(set(allowed)))})",
                         (("Allow", ", ".join(sorted(set(allowed)))),))
        return error(404, f"no such endpoint: {path} (see /openapi.json)")

    # ------------------------------------------------------------ open endpoints

    def healthz(self, q, body, args) -> Response:
        _allowed_params(q, ())
        return json_response(200, {"status": "ok", "uptime_seconds": round(time.time() - self.started, 3)})

    def readyz(self, q, body, args) -> Response:
        _allowed_params(q, ())
        ok, why = self.backend.ready()
        return json_response(200 if ok else 503, {"status": "ready" if ok else "not ready", "reason": why})

    def metrics(self, q, body, args) -> Response:
        _allowed_params(q, ())
        data, ctype = self.backend.metrics()
        return Response(200, data, ctype)

    def openapi(self, q, body, args) -> Response:
        _allowed_params(q, ())
        from extauthz.admin.openapi import document

        return json_response(200, document())

    # ------------------------------------------------------------ protected

    EVENT_PARAMS = ("service", "hop", "decision", "action", "class", "rule", "request_id", "trace_id",
                    "event_id", "since", "limit")

    def events(self, q, body, args) -> Response:
        _allowed_params(q, self.EVENT_PARAMS)
        for name in ("service", "hop", "decision", "action", "class", "rule", "request_id", "trace_id", "event_id"):
            if len(q.get(name, "")) > 256:
                raise AdminError(400, f"{name}: at most 256 characters")
        flt = EventFilter(
            service=q.get("service", ""), hop=q.get("hop", ""), decision=q.get("decision", ""),
            action=q.get("action", ""), cls=q.get("class", ""), rule=q.get("rule", ""),
            request_id=q.get("request_id", ""), trace_id=q.get("trace_id", ""), event_id=q.get("event_id", ""),
            since=_time_param(q, "since"), limit=_int_param(q, "limit", 100, 1, MAX_EVENTS))
        events = self.backend.events(flt)
        return json_response(200, {"events": events, "count": len(events)})

    def reload(self, q, body, args) -> Response:
        _allowed_params(q, ())
        ok, message = self.backend.reload()
        if ok:
            return json_response(200, {"applied": True, "message": message})
        return json_response(422, {"applied": False, "error": message, "status": 422})

    def config(self, q, body, args) -> Response:
        _allowed_params(q, ())
        return json_response(200, self.backend.effective_config())

    def _need(self, provider: Any, what: str, issue: str) -> Any:
        if provider is None:
            raise AdminError(501, f"{what} are not available in this build yet ({issue})")
        return provider

    def profiles(self, q, body, args) -> Response:
        _allowed_params(q, ())
        p = self._need(self.backend.profile_admin(), "behaviour profiles", "issue 4")
        return json_response(200, {"services": sorted(p.profile_services())})

    def profile(self, q, body, args) -> Response:
        _allowed_params(q, ())
        p = self._need(self.backend.profile_admin(), "behaviour profiles", "issue 4")
        found = p.profile(args[0])
        if found is None:
            raise AdminError(404, f"no learned profile for service {args[0]!r}")
        return json_response(200, found)

    def actors(self, q, body, args) -> Response:
        _allowed_params(q, ("limit", "blocked"))
        blocked = q.get("blocked", "false").lower()
        if blocked not in ("true", "false"):
            raise AdminError(400, f"blocked: expected true or false, got {q['blocked']!r}")
        a = self._need(self.backend.actor_admin(), "actors", "issue 5")
        items = a.list_actors(_int_param(q, "limit", 100, 1, 1000), blocked == "true")
        return json_response(200, {"actors": items, "count": len(items)})

    def block(self, q, body, args) -> Response:
        _allowed_params(q, ())
        obj = _body_object(body, ("actor",), ("seconds", "reason"))
        actor = _string(obj, "actor")
        seconds = _seconds(obj, "seconds", 3600.0)
        reason = _string(obj, "reason", 512, required=False)
        a = self._need(self.backend.actor_admin(), "actors", "issue 5")
        try:
            entry = a.block(actor, seconds, reason)
        except ValueError as exc:
            raise AdminError(400, str(exc)) from None
        return json_response(200, {"blocked": entry})

    def unblock(self, q, body, args) -> Response:
        _allowed_params(q, ())
        obj = _body_object(body, ("actor",), ())
        actor = _string(obj, "actor")
        a = self._need(self.backend.actor_admin(), "actors", "issue 5")
        if not a.unblock(actor):
            raise AdminError(404, f"actor {actor!r} is not blocked")
        return json_response(200, {"unblocked": actor})

    def lists(self, q, body, args) -> Response:
        _allowed_params(q, ())
        lst = self._need(self.backend.list_admin(), "allow/deny lists", "issue 5")
        return json_response(200, lst.get_lists())

    def _list_name(self, name: str) -> str:
        if name not in LIST_NAMES:
            raise AdminError(404, f"no list named {name!r} (lists: {', '.join(LIST_NAMES)})")
        return name

    def _entries(self, obj: dict) -> list[str]:
        entries = obj["entries"]
        if not isinstance(entries, list) or not entries or len(entries) > 1000 \
                or not all(isinstance(e, str) and e.strip(_BLANK) and len(e) <= 512 for e in entries):
            raise AdminError(400, "entries: expected a list of 1 to 1000 non-empty strings (at most 512 characters)")
        return [e.strip(_BLANK) for e in entries]

    def list_add(self, q, body, args) -> Response:
        _allowed_params(q, ())
        name = self._list_name(args[0])
        obj = _body_object(body, ("entries",), ("reason", "seconds"))
        entries = self._entries(obj)
        reason = _string(obj, "reason", 512, required=False)
        seconds = _seconds(obj, "seconds", None)
        lst = self._need(self.backend.list_admin(), "allow/deny lists", "issue 5")
        try:
            added = lst.add_entries(name, entries, reason, seconds)
        except ValueError as exc:
            raise AdminError(400, str(exc)) from None
        return json_response(200, {"list": name, "added": added})

    def list_remove(self, q, body, args) -> Response:
        _allowed_params(q, ())
        name = self._list_name(args[0])
        obj = _body_object(body, ("entries",), ())
        entries = self._entries(obj)
        lst = self._need(self.backend.list_admin(), "allow/deny lists", "issue 5")
        return json_response(200, {"list": name, "removed": lst.remove_entries(name, entries)})


# ---------------------------------------------------------------- effective config

_SECRET_KEY_WORDS = ("password", "secret", "token", "credential", "apikey", "api_key")
_NOT_SECRET_SUFFIXES = ("_file", "_env", "_keys")


def _secret_key(key: str) -> bool:
    k = key.lower()
    return any(w in k for w in _SECRET_KEY_WORDS) and not k.endswith(_NOT_SECRET_SUFFIXES)


def _redact_url(value: str) -> str:
    """scheme://user:password@host → scheme://user:[redacted]@host"""
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value
    userinfo, at, host = rest.partition("@")
    if not at or "/" in userinfo or ":" not in userinfo:
        return value
    return f"{scheme}://{userinfo.split(':', 1)[0]}:[redacted]@{host}"


def redact_config(value: Any, key: str = "") -> Any:
    """A config (as plain data) with secret values replaced: safe to show over the admin API."""
    if isinstance(value, Mapping):
        return {k: redact_config(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_config(v, key) for v in value]
    if isinstance(value, str):
        if value and _secret_key(key):
            return "[redacted]"
        return _redact_url(value)
    return value


def config_as_data(config: Any) -> Any:
    """A Config dataclass as plain JSON-able data (mappings, lists, scalars)."""
    import dataclasses

    if dataclasses.is_dataclass(config):
        return {f.name: config_as_data(getattr(config, f.name)) for f in fields(config)}
    if isinstance(config, Mapping):
        return {str(k): config_as_data(v) for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [config_as_data(v) for v in config]
    return config
