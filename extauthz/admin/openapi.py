"""The OpenAPI 3.0 document of the admin API, served at /openapi.json.

tests/test_ops_admin.py checks every documented route against the running
server with schemathesis (responses must match these schemas, and bad input
must get a documented 4xx), and checks that every route in the code is here.
"""
from __future__ import annotations

from typing import Any

from extauthz import __version__ as VERSION


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERR = _ref("Error")
_ERRORS = {
    "400": _json(_ERR, "bad input: the message says which parameter or field"),
    "401": _json(_ERR, "missing or wrong bearer token (or none configured)"),
}
_NOT_YET = {"501": _json(_ERR, "the part behind this endpoint is not in this build")}


def _op(summary: str, responses: dict, *, protected: bool = True, params: list | None = None,
        body: dict | None = None, tag: str = "") -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": dict(responses)}
    if tag:
        op["tags"] = [tag]
    if protected:
        op["responses"].update(_ERRORS)
    else:
        op["security"] = []
        op["responses"]["400"] = _json(_ERR, "unknown query parameter")
    if params:
        op["parameters"] = params
    if body is not None:
        op["responses"]["413"] = _json(_ERR, "body larger than 1 MiB")
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def _q(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_STR256 = {"type": "string", "maxLength": 256}

_SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "status"], "properties": {
        "error": {"type": "string"}, "status": {"type": "integer"}}},
    "Health": {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "enum": ["ok"]}, "uptime_seconds": {"type": "number"}}},
    "Ready": {"type": "object", "required": ["status", "reason"], "properties": {
        "status": {"type": "string", "enum": ["ready", "not ready"]}, "reason": {"type": "string"}}},
    "Finding": {"type": "object", "required": ["class", "rule", "severity", "points", "location", "source"],
                "properties": {
                    "class": {"type": "string"}, "rule": {"type": "string"},
                    "severity": {"type": "string", "enum": ["info", "low", "medium", "high", "critical"]},
                    "points": {"type": "integer"}, "location": {"type": "string"},
                    "source": {"type": "string"}, "excerpt": {"type": "string"},
                    "chain": {"type": "array", "items": {"type": "string"}}, "detail": {"type": "string"}}},
    "Event": {"type": "object",
              "required": ["event_id", "time", "request_id", "trace_id", "service", "hop", "decision", "action",
                           "score", "threshold", "findings", "actor", "source", "destination"],
              "properties": {
                  "event_id": {"type": "string"}, "time": {"type": "string", "format": "date-time"},
                  "request_id": {"type": "string"}, "trace_id": {"type": "string"},
                  "span_id": {"type": "string"}, "parent_span_id": {"type": "string"},
                  "service": {"type": "string"}, "policy": {"type": "string"},
                  "hop": {"type": "string", "enum": ["edge", "gateway", "sidecar-inbound", "sidecar-outbound",
                                                     "unknown"]},
                  "direction": {"type": "string"}, "method": {"type": "string"}, "path": {"type": "string"},
                  "source": {"type": "object", "properties": {
                      "address": {"type": "string"}, "principal": {"type": "string"}, "service": {"type": "string"}}},
                  "destination": {"type": "object", "properties": {"principal": {"type": "string"}}},
                  "actor": {"type": "string"}, "actor_hash": {"type": "string"},
                  "decision": {"type": "string", "enum": ["allow", "deny"]},
                  "action": {"type": "string"}, "mode": {"type": "string"},
                  "score": {"type": "integer"}, "threshold": {"type": "integer"}, "reason": {"type": "string"},
                  "findings": {"type": "array", "items": _ref("Finding")}, "check_ms": {"type": "number"}}},
    "EventList": {"type": "object", "required": ["events", "count"], "properties": {
        "events": {"type": "array", "items": _ref("Event")}, "count": {"type": "integer"}}},
    "ReloadApplied": {"type": "object", "required": ["applied", "message"], "properties": {
        "applied": {"type": "boolean", "enum": [True]}, "message": {"type": "string"},
        "workers": {"type": "array", "items": {"type": "object"}}}},
    "ReloadRejected": {"type": "object", "required": ["applied", "error", "status"], "properties": {
        "applied": {"type": "boolean", "enum": [False]}, "error": {"type": "string"}, "status": {"type": "integer"}}},
    "Config": {"type": "object", "description": "the running configuration, every key (secrets redacted)",
               "required": ["version", "server", "defaults", "services", "events"]},
    "ProfileList": {"type": "object", "required": ["services"], "properties": {
        "services": {"type": "array", "items": {"type": "string"}}}},
    "Profile": {"type": "object", "description": "a learned behaviour profile (format owned by extauthz.profile)"},
    "Actor": {"type": "object", "required": ["actor"], "properties": {
        "actor": {"type": "string"}, "risk": {"type": "number"},
        "blocked_until": {"type": "number", "nullable": True}, "reason": {"type": "string"}}},
    "ActorList": {"type": "object", "required": ["actors", "count"], "properties": {
        "actors": {"type": "array", "items": _ref("Actor")}, "count": {"type": "integer"}}},
    "BlockRequest": {"type": "object", "required": ["actor"], "additionalProperties": False, "properties": {
        "actor": {"type": "string", "minLength": 1, "maxLength": 512, "pattern": "\\S",
                  "description": "client address, SPIFFE id or other actor key, as in events' `actor`"},
        "seconds": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 31622400, "default": 3600},
        "reason": {"type": "string", "maxLength": 512}}},
    "UnblockRequest": {"type": "object", "required": ["actor"], "additionalProperties": False, "properties": {
        "actor": {"type": "string", "minLength": 1, "maxLength": 512, "pattern": "\\S"}}},
    "Lists": {"type": "object", "properties": {
        "allow": {"type": "array", "items": {"type": "object"}}, "deny": {"type": "array", "items": {"type": "object"}}}},
    "ListAddRequest": {"type": "object", "required": ["entries"], "additionalProperties": False, "properties": {
        "entries": {"type": "array", "minItems": 1, "maxItems": 1000,
                    "items": {"type": "string", "minLength": 1, "maxLength": 512, "pattern": "\\S"}},
        "reason": {"type": "string", "maxLength": 512},
        "seconds": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 31622400,
                    "description": "expire after this long; absent = until removed"}}},
    "ListRemoveRequest": {"type": "object", "required": ["entries"], "additionalProperties": False, "properties": {
        "entries": {"type": "array", "minItems": 1, "maxItems": 1000,
                    "items": {"type": "string", "minLength": 1, "maxLength": 512, "pattern": "\\S"}}}},
}

_LIST_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "enum": ["allow", "deny"]}}


def document() -> dict:
    paths = {
        "/healthz": {"get": _op("liveness: the process answers", {"200": _json(_ref("Health"), "alive")},
                                protected=False, tag="health")},
        "/readyz": {"get": _op("readiness: serving checks (not starting, not draining)", {
            "200": _json(_ref("Ready"), "ready"), "503": _json(_ref("Ready"), "not ready")},
            protected=False, tag="health")},
        "/metrics": {"get": _op("Prometheus metrics (text exposition format)", {
            "200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}},
            protected=False, tag="health")},
        "/openapi.json": {"get": _op("this document", {"200": _json({"type": "object"}, "OpenAPI 3.0")},
                                     protected=False, tag="health")},
        "/v1/events": {"get": _op("recent security events, newest first, filtered", {
            "200": _json(_ref("EventList"), "events")}, tag="events", params=[
            _q("service", _STR256, "resolved service name"),
            _q("hop", _STR256, "edge, gateway, sidecar-inbound, sidecar-outbound"),
            _q("decision", _STR256, "allow or deny"),
            _q("action", _STR256, "deny, monitor, failure, actor-blocked, listed-deny, ..."),
            _q("class", _STR256, "events with a finding of this attack class"),
            _q("rule", _STR256, "events with a finding of this rule id"),
            _q("request_id", _STR256, "x-request-id"), _q("trace_id", _STR256, "32 hex digits"),
            _q("event_id", _STR256, "the id a blocked user quotes"),
            _q("since", {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "format": "date-time"}]},
               "unix seconds or an RFC 3339 time (2025-01-31T12:00:00Z)"),
            _q("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "at most this many"),
        ])},
        "/v1/reload": {"post": _op("reload the config file now (as SIGHUP); an invalid file is rejected, "
                                   "the running config stays", {
                                       "200": _json(_ref("ReloadApplied"), "the new config is running"),
                                       "422": _json(_ref("ReloadRejected"), "rejected; the error says why")},
                                   tag="config")},
        "/v1/config": {"get": _op("the effective configuration (secrets redacted)", {
            "200": _json(_ref("Config"), "config")}, tag="config")},
        "/v1/profiles": {"get": _op("services with a learned behaviour profile", {
            "200": _json(_ref("ProfileList"), "services"), **_NOT_YET}, tag="profiles")},
        "/v1/profiles/{service}": {"get": _op("one service's learned profile", {
            "200": _json(_ref("Profile"), "profile"), "404": _json(_ERR, "no profile for that service"),
            **_NOT_YET}, tag="profiles", params=[
            {"name": "service", "in": "path", "required": True, "schema": {"type": "string"}}])},
        "/v1/actors": {"get": _op("actors by risk", {"200": _json(_ref("ActorList"), "actors"), **_NOT_YET},
                                  tag="actors", params=[
            _q("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "at most this many"),
            _q("blocked", {"type": "string", "enum": ["true", "false"]}, "only blocked actors")])},
        "/v1/actors/block": {"post": _op("block an actor for a while", {
            "200": _json({"type": "object", "required": ["blocked"], "properties": {"blocked": _ref("Actor")}},
                         "blocked"), **_NOT_YET}, tag="actors", body=_ref("BlockRequest"))},
        "/v1/actors/unblock": {"post": _op("lift an actor's block", {
            "200": _json({"type": "object", "required": ["unblocked"], "properties": {
                "unblocked": {"type": "string"}}}, "unblocked"),
            "404": _json(_ERR, "the actor was not blocked"), **_NOT_YET}, tag="actors",
            body=_ref("UnblockRequest"))},
        "/v1/lists": {"get": _op("the allow and deny lists", {"200": _json(_ref("Lists"), "lists"), **_NOT_YET},
                                 tag="lists")},
        "/v1/lists/{name}/add": {"post": _op("add entries (actors, CIDRs, principals) to a list", {
            "200": _json({"type": "object", "required": ["list", "added"]}, "added"),
            "404": _json(_ERR, "no such list"), **_NOT_YET}, tag="lists", params=[_LIST_NAME],
            body=_ref("ListAddRequest"))},
        "/v1/lists/{name}/remove": {"post": _op("remove entries from a list", {
            "200": _json({"type": "object", "required": ["list", "removed"]}, "removed"),
            "404": _json(_ERR, "no such list"), **_NOT_YET}, tag="lists", params=[_LIST_NAME],
            body=_ref("ListRemoveRequest"))},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "extauthz admin API", "version": VERSION,
                 "description": "Health, metrics, security events, reload, effective config, actors, lists and "
                                "profiles. Everything under /v1/ needs `Authorization: Bearer <token>`."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": _SCHEMAS},
        "paths": paths,
    }
