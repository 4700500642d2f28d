"""`extauthz profile show`: what was learned, in a form a person can review.

For each service: its endpoints (method + template) with their status under
the service's policy (learning, or enforced), content types, body sizes,
callers, request rates, and per parameter the learned type, lengths,
characters, values (when few) and shapes; then the service-wide headers and
cookies. `--json` prints the same as one object.
"""
from __future__ import annotations

from typing import Any

from extauthz.config import ProfilePolicy
from extauthz.finding import is_secret_location
from extauthz.profile.features import TYPE_NAMES, class_names
from extauthz.profile.model import LENGTH_NONE, EndpointStats, ParamStats, ServiceProfile

MAX_VALUES_SHOWN = 12


def _status(n: int, since: int, pol: ProfilePolicy) -> str:
    if pol.mode in ("off", "learn"):
        return pol.mode
    if n < pol.min_samples:
        return f"learning ({n}/{pol.min_samples} requests)"
    if pol.mode == "auto" and since < pol.stable_samples:
        return f"learning (changed {since} requests ago; settles at {pol.stable_samples})"
    return "enforced"


def describe_param(key: str, p: ParamStats) -> dict[str, Any]:
    secret = is_secret_location(key)
    out: dict[str, Any] = {
        "name": key, "samples": p.n, "present": p.present,
        "type": TYPE_NAMES[p.type] if p.type >= 0 else "empty",
        "length": [None if p.lmin == LENGTH_NONE else p.lmin, p.lmax],
        "characters": class_names(p.mask),
    }
    always = class_names(p.always & p.mask) if p.n else []
    if always:
        out["in_every_value"] = always
    enum = p.enum_values()
    if enum is not None:
        out["values"] = "(secret)" if secret else sorted(enum)[:MAX_VALUES_SHOWN]
    elif p.values is not None and not secret:
        out["values_seen"] = sorted(p.values)[:MAX_VALUES_SHOWN]
    shapes = p.closed_shapes()
    if shapes is not None:
        out["shapes"] = sorted(shapes)
    if p.pending:
        out["awaiting_second_client"] = len(p.pending)
    return out


def describe_endpoint(method: str, tpl: str, ep: EndpointStats, pol: ProfilePolicy,
                      rate: tuple | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "method": method, "template": tpl, "requests": ep.n,
        "status": _status(ep.n, ep.n - ep.changed, pol),
        "content_types": sorted(ep.ctypes) if ep.ctypes is not None else "(too many)",
        "body_bytes": [None if ep.bmin == LENGTH_NONE else ep.bmin, ep.bmax],
        "callers": dict(sorted(ep.callers.items())) if ep.callers is not None else "(too many)",
        "params": [describe_param(k, p) for k, p in sorted(ep.params.items())],
    }
    required = [k for k, p in sorted(ep.params.items()) if p.present == ep.n and ep.n]
    out["required"] = required
    if ep.param_overflow:
        out["params_not_modelled"] = ep.param_overflow
    if ep.refused:
        out["refused_over_client_share"] = ep.refused
    if rate is not None:
        out["rate_per_minute"] = {"client_median": round(rate[0], 2), "client_p90": round(rate[1], 2),
                                  "total": round(rate[2], 2), "minutes": rate[3]}
    return out


def describe(profile: ServiceProfile, pol: ProfilePolicy) -> dict[str, Any]:
    return {
        "service": profile.service, "requests": profile.n,
        "mode": pol.mode,
        "endpoints_status": _status(profile.n, profile.n - profile.new_endpoint_at, pol),
        "callers": dict(sorted(profile.callers.items())) if profile.callers is not None else "(too many)",
        "collapsed_prefixes": sorted(profile.collapsed),
        "endpoints_not_modelled": profile.endpoint_overflow,
        "endpoints": [describe_endpoint(m, t, ep, pol, profile.rates.get((m, t)))
                      for (m, t), ep in sorted(profile.endpoints.items(), key=lambda kv: (kv[0][1], kv[0][0]))],
        "headers": [describe_param(k, p) for k, p in sorted(profile.headers.items())],
    }


def _param_line(p: dict) -> str:
    lo, hi = p["length"]
    parts = [f"{p['name']:<28}", f"{p['type']:<8}", f"len {lo}..{hi}" if lo != hi else f"len {hi}"]
    if "values" in p:
        vals = p["values"]
        parts.append("one of " + (vals if isinstance(vals, str) else "{" + ", ".join(map(repr, vals)) + "}"))
    else:
        parts.append("chars " + " ".join(p["characters"]))
    if "shapes" in p:
        parts.append("shapes " + " ".join(p["shapes"]))
    parts.append(f"({p['samples']} seen)")
    return "  ".join(parts)


def format_text(desc: dict) -> str:
    lines = [f"service {desc['service']}: {desc['requests']} requests learned, {len(desc['endpoints'])} endpoints, "
             f"profile mode {desc['mode']}; set of endpoints: {desc['endpoints_status']}"]
    if desc["callers"]:
        lines.append("  callers: " + ", ".join(f"{c} ({n})" for c, n in desc["callers"].items()))
    if desc["collapsed_prefixes"]:
        lines.append("  collapsed (too many distinct segments): " + ", ".join(desc["collapsed_prefixes"]))
    if desc["endpoints_not_modelled"]:
        lines.append(f"  requests to endpoints beyond the cap: {desc['endpoints_not_modelled']}")
    for ep in desc["endpoints"]:
        lo, hi = ep["body_bytes"]
        extra = []
        if ep["content_types"] and ep["content_types"] != [""]:
            extra.append("content " + ", ".join(ct or "(none)" for ct in ep["content_types"])
                         if isinstance(ep["content_types"], list) else "content " + ep["content_types"])
        if hi:
            extra.append(f"body {lo}..{hi} B")
        if ep["callers"]:
            extra.append("callers " + (", ".join(ep["callers"]) if isinstance(ep["callers"], dict) else ep["callers"]))
        if "rate_per_minute" in ep:
            r = ep["rate_per_minute"]
            extra.append(f"rate/min client {r['client_median']} (p90 {r['client_p90']}), total {r['total']}")
        lines.append(f"\n  {ep['method']} {ep['template']}  {ep['requests']} requests  [{ep['status']}]")
        if extra:
            lines.append("    " + "; ".join(extra))
        for p in ep["params"]:
            req = " required" if p["name"] in ep["required"] else ""
            lines.append(f"    {_param_line(p)}{req}")
    if desc["headers"]:
        lines.append("\n  headers and cookies (service-wide):")
        for p in desc["headers"]:
            lines.append(f"    {_param_line(p)}")
    return "\n".join(lines)
