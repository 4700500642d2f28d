"""Decoder findings: encoding anomalies and limit hits, with their severities.

All are class `protocol`, source DECODER. The severities are deliberately low:
benign traffic has odd encodings too (latin-1 `%F3` in CSIC's shop, a literal
`100%` in a query, a client that double-encodes a return URL), so an anomaly
is a signal that needs company (a detector finding) to block. Only what is
hardly ever benign gets MEDIUM. HIGH is kept for encodings that no client
produces except to get past a filter: overlong UTF-8 (every encoder writes the
shortest form), character references padded with zeros past any encoder's width
(`&#0000060;`: the same trick one layer up) and a body declared in UTF-7 or EBCDIC (no browser or API
client sends one; servers that honour it read text a WAF reading ASCII misses).
None of them occurs in any benign dev corpus.

Limits. Padding a request beyond a WAF's inspection limits is a known bypass,
so a limit hit is never silent; but large legitimate requests exist (uploads,
bulk JSON), so most limit hits are MEDIUM (block in company) rather than
HIGH. The exceptions are LOW where benign causes dominate: one very long value,
a multipart or binary body over `body_limit` (uploads), and Envoy truncating
the body (its max_request_bytes is a deployment choice). The time budget is
on the thread's CPU time, so machine load does not trip it; only a request
that is expensive to decode does (MEDIUM).
"""
from __future__ import annotations

from extauthz.finding import Severity

INFO, LOW, MEDIUM, HIGH = Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH

# rule -> (severity, one sentence for the analyst)
ANOMALIES: dict[str, tuple[Severity, str]] = {
    "decode.invalid-percent": (LOW, "a `%` not followed by two hex digits in a URL-encoded part"),
    "decode.percent-u": (LOW, "IIS-style %uXXXX escapes, rarely used by real clients"),
    "decode.overlong-utf8": (HIGH, "overlong UTF-8 (e.g. %c0%af for `/`), a classic filter evasion; decoded to the character"),
    "decode.padded-charref": (HIGH, "an ASCII character as a character reference padded to six digits or more "
                                    "(&#0000060;), wider than encoders write: a classic filter evasion; decoded"),
    # INFO: on the dev corpora it marks 4.9% of benign and 5.9% of attack
    # requests (latin-1 shops): no signal, but worth showing an analyst.
    "decode.invalid-utf8": (INFO, "bytes that are not UTF-8; decoded as latin-1"),
    "decode.null-byte": (MEDIUM, "a NUL character in a text value (truncation tricks; HIGH between a file name "
                                 "and an extension: `shell.php\\x00.jpg`)"),
    "decode.content-type-mismatch": (LOW, "the body is not what its content type says; parsed as what it is"),
    "decode.content-type-conflict": (MEDIUM, "several different content types for one body"),
    "decode.content-type-malformed": (LOW, "a content type that is not type/subtype with parameters"),
    "decode.malformed-body": (LOW, "the body does not parse as its content type"),
    "decode.evasive-charset": (HIGH, "a body or part in UTF-7 or EBCDIC (ibm037, ...): no ordinary client sends it, "
                                       "some servers honour it; decoded as declared"),
    "decode.content-encoding": (LOW, "a body content-encoding that is not gzip or deflate; the body was read as sent"),
}

LIMITS: dict[str, tuple[Severity, str]] = {
    "limit.inputs": (MEDIUM, "more values than limits.max_inputs; the rest was not inspected"),
    "limit.depth": (MEDIUM, "nesting deeper than limits.max_depth; deeper parts were not descended into"),
    "limit.layers": (MEDIUM, "more decoding layers than limits.max_layers; the rest were not undone"),
    "limit.value-bytes": (LOW, "a value longer than limits.max_value_bytes; inspected in overlapping pieces of that "
                                "size, at most 4 (MEDIUM when the value is longer than those reach: 3 from its start and "
                                "its tail were inspected, not the middle)"),
    "limit.total-bytes": (MEDIUM, "more value text than limits.max_total_bytes; the rest was not inspected"),
    "limit.time": (MEDIUM, "decoding used more CPU than limits.time_budget_ms; the rest was not inspected"),
    "limit.detect-time": (MEDIUM, "the detectors used more CPU than the detector budget (limits.detect_budget_ms "
                                  "with its long-text allowance, or the service policy's detect_budget_ms); the "
                                  "remaining values were not inspected"),
    "limit.body": (MEDIUM, "a body longer than the policy's body_limit; the rest was not inspected"),
    "limit.body-truncated": (LOW, "Envoy forwarded only part of the body (max_request_bytes)"),
}
