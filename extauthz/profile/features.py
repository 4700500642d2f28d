"""What the profile remembers about one value: length, character classes, type, shape.

All of it is computed with C-level string methods (translate, set, isdigit,
strip) and short loops over at most a few dozen distinct items, never with
regular expressions: values are untrusted. Only the first FEATURE_PREFIX and
last FEATURE_SUFFIX characters of a long value are looked at for classes and
type (its length is always exact), so the cost of a value is bounded.

Character classes are bits of an int: lower, upper, digit, space, non-ASCII
letter, other non-ASCII, control, and one bit per ASCII punctuation character,
because for tampering and injection *which* punctuation appears is the signal
(`'` in a name, `/` in an id).

Types form a small lattice (see JOIN): a parameter's learned type is the join
of every type it was seen with, and a value is acceptable when its type is
below that join (int fits a float parameter, text fits nothing narrower).
"""
from __future__ import annotations

import ipaddress
from itertools import groupby

FEATURE_PREFIX = 256
FEATURE_SUFFIX = 64
SHAPE_MAX_VALUE = 64  # values longer than this have no shape (too costly, never enum-like)
SHAPE_MAX = 24  # a collapsed shape longer than this is recorded as LONG_SHAPE

# ---------------------------------------------------------------- character classes

LOWER, UPPER, DIGIT, SPACE, ALPHA_NONASCII, OTHER_NONASCII, CONTROL = (1 << i for i in range(7))
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
PUNCT_BIT = {ch: 1 << (7 + i) for i, ch in enumerate(PUNCTUATION)}
CLASS_BITS = 7 + len(PUNCTUATION)

# One byte per ASCII character: its class representative. Letters map to
# 'a'/'A', digits to '0', controls to 0x01; punctuation and space to themselves.
_REPR = bytearray(range(256))
for _b in range(256):
    _c = chr(_b)
    if "a" <= _c <= "z":
        _REPR[_b] = ord("a")
    elif "A" <= _c <= "Z":
        _REPR[_b] = ord("A")
    elif "0" <= _c <= "9":
        _REPR[_b] = ord("0")
    elif _b < 0x20 or _b == 0x7F:
        _REPR[_b] = 0x01
ASCII_TABLE = bytes(_REPR)
_BIT_OF_BYTE = [0] * 256
_BIT_OF_BYTE[ord("a")], _BIT_OF_BYTE[ord("A")], _BIT_OF_BYTE[ord("0")] = LOWER, UPPER, DIGIT
_BIT_OF_BYTE[ord(" ")], _BIT_OF_BYTE[0x01] = SPACE, CONTROL
for _ch, _bit in PUNCT_BIT.items():
    _BIT_OF_BYTE[ord(_ch)] = _bit
# str.translate table for values with non-ASCII characters: ASCII as above,
# everything else left alone and classified one distinct character at a time.
_STR_TABLE = {b: chr(ASCII_TABLE[b]) for b in range(128)}

CLASS_NAMES = {LOWER: "a-z", UPPER: "A-Z", DIGIT: "0-9", SPACE: "space", ALPHA_NONASCII: "non-ASCII letter",
               OTHER_NONASCII: "other non-ASCII", CONTROL: "control", **{b: ch for ch, b in PUNCT_BIT.items()}}
# Classes whose first appearance in a parameter means more than a new letter would:
# the characters that open or close a syntax (quote, tag, statement, command, path).
SYNTAX_CLASSES = 0
for _ch in "'\"<>;|&`$(){}[]\\%":
    SYNTAX_CLASSES |= PUNCT_BIT[_ch]
SYNTAX_CLASSES |= CONTROL


def class_names(mask: int) -> list[str]:
    return [name for bit, name in CLASS_NAMES.items() if mask & bit]


def _bounded(value: str) -> str:
    if len(value) > FEATURE_PREFIX + FEATURE_SUFFIX:
        return value[:FEATURE_PREFIX] + value[-FEATURE_SUFFIX:]
    return value


def _repr_text(value: str) -> tuple[bytes | str, bool]:
    """The value with every ASCII character replaced by its class representative."""
    if value.isascii():
        return value.encode("ascii").translate(ASCII_TABLE), True
    return value.translate(_STR_TABLE), False


def _alnum_mask(value: str) -> int:
    """Classes of an ASCII letters-and-digits value, from str predicates alone (the common case)."""
    if value.isdigit():
        return DIGIT
    mask = 0 if value.isalpha() else DIGIT
    if value.islower():
        return mask | LOWER
    if value.isupper():
        return mask | UPPER
    return mask | LOWER | UPPER


# Every ASCII character's class bit, for the values that are not plain letters and digits.
_BIT_OF_CHAR = {chr(b): _BIT_OF_BYTE[ASCII_TABLE[b]] for b in range(128)}


def class_mask(value: str) -> int:
    if value.isascii() and value.isalnum():
        return _alnum_mask(value)
    mask = 0
    bit_of = _BIT_OF_CHAR
    for ch in set(_bounded(value)):
        bit = bit_of.get(ch)
        if bit is None:
            bit = ALPHA_NONASCII if ch.isalpha() else OTHER_NONASCII
        mask |= bit
    return mask


LONG_SHAPE = "~"


_ONE_CLASS_SHAPE = {LOWER: "a", UPPER: "A", DIGIT: "0"}


def shape(value: str, mask: int = 0) -> str:
    """Runs of one class collapsed: '09082221G' -> '0A', 'a@b.es' -> 'a@a.a'.

    Non-ASCII letters become 'L', other non-ASCII characters '?'. Stable shapes
    (a DNI, a postcode, a product code) catch values that keep the characters
    but break the structure ('5A958042P' -> '0A0A'). `mask` (its class_mask),
    when given, answers the common one-class values at once.
    """
    if len(value) > SHAPE_MAX_VALUE:
        return LONG_SHAPE
    one = _ONE_CLASS_SHAPE.get(mask)
    if one is not None:
        return one
    if mask == LOWER | UPPER and value[0].isupper() and value[1:].islower():
        return "Aa"  # a capitalised word
    text, ascii_only = _repr_text(value)
    if ascii_only:
        out = bytes(k for k, _ in groupby(text)).decode("ascii").replace("\x01", "^")
    else:
        out = "".join(k if ord(k) < 128 else ("L" if k.isalpha() else "?") for k, _ in groupby(text))
        out = "".join(k for k, _ in groupby(out)).replace("\x01", "^")
    return out if len(out) <= SHAPE_MAX else LONG_SHAPE


# ---------------------------------------------------------------- types

TYPE_NAMES = ("bool", "int", "hex", "uuid", "datetime", "email", "ip", "url", "base64", "float", "token", "text")
BOOL, INT, HEX, UUID, DATETIME, EMAIL, IP, URL, BASE64, FLOAT, TOKEN, TEXT = range(len(TYPE_NAMES))
TYPE_ID = {name: i for i, name in enumerate(TYPE_NAMES)}

# Each type with everything above it in the lattice. The join of two types is
# their most specific common ancestor (the one with the most ancestors of its own).
_ANCESTORS = {
    BOOL: {BOOL, TOKEN, TEXT}, INT: {INT, FLOAT, TOKEN, TEXT}, HEX: {HEX, TOKEN, TEXT},
    UUID: {UUID, TOKEN, TEXT}, DATETIME: {DATETIME, TEXT}, EMAIL: {EMAIL, TEXT}, IP: {IP, TEXT},
    URL: {URL, TEXT}, BASE64: {BASE64, TEXT}, FLOAT: {FLOAT, TEXT}, TOKEN: {TOKEN, TEXT}, TEXT: {TEXT},
}
NO_TYPE = -1  # a parameter seen only empty so far
JOIN: list[list[int]] = [
    [max(_ANCESTORS[a] & _ANCESTORS[b], key=lambda t: len(_ANCESTORS[t])) for b in range(len(TYPE_NAMES))]
    for a in range(len(TYPE_NAMES))
]


def join(a: int, b: int) -> int:
    if a == NO_TYPE:
        return b
    if b == NO_TYPE:
        return a
    return JOIN[a][b]


def accepts(learned: int, t: int) -> bool:
    """True when a value of type t fits a parameter whose learned type is `learned`."""
    return t == NO_TYPE or (learned != NO_TYPE and JOIN[learned][t] == learned)


_LETTERS = LOWER | UPPER
_ALNUM = LOWER | UPPER | DIGIT
_TOKEN_CLASSES = _ALNUM | ALPHA_NONASCII | PUNCT_BIT["_"] | PUNCT_BIT["-"] | PUNCT_BIT["."]
_EMAIL_CLASSES = _ALNUM | ALPHA_NONASCII | PUNCT_BIT["@"] | PUNCT_BIT["."] | PUNCT_BIT["_"] | PUNCT_BIT["-"] | PUNCT_BIT["+"] | PUNCT_BIT["%"]
_BASE64_CLASSES = _ALNUM | PUNCT_BIT["+"] | PUNCT_BIT["/"] | PUNCT_BIT["="] | PUNCT_BIT["-"] | PUNCT_BIT["_"]
_DATE_CLASSES = DIGIT | PUNCT_BIT["-"] | PUNCT_BIT[":"] | PUNCT_BIT["/"] | PUNCT_BIT["."] | PUNCT_BIT["+"] | SPACE | UPPER
_IP_CLASSES = DIGIT | LOWER | UPPER | PUNCT_BIT["."] | PUNCT_BIT[":"]
_HEXDIGITS = "0123456789abcdefABCDEF"
_BOOLS = frozenset({"true", "false", "on", "off", "yes", "no"})
_URL_SCHEMES = ("http://", "https://", "ftp://", "ftps://", "ws://", "wss://")


def value_type(value: str, mask: int) -> int:
    """The most specific type of a (non-empty) value, from cheap checks on its classes first."""
    n = len(value)
    if mask == DIGIT:
        return INT
    if mask & (CONTROL | OTHER_NONASCII) or (mask & SPACE and mask & ~_DATE_CLASSES):
        return TEXT  # only a date-time has a space among the typed values
    if not mask & ~(DIGIT | PUNCT_BIT["-"] | PUNCT_BIT["+"] | PUNCT_BIT["."]) and mask & DIGIT:
        if _is_number(value):
            return INT if "." not in value else FLOAT
    if not mask & ~_LETTERS and n <= 5 and value.lower() in _BOOLS:
        return BOOL
    if n == 36 and value[8] == value[13] == value[18] == value[23] == "-" \
            and not value.replace("-", "").strip(_HEXDIGITS):
        return UUID
    if not mask & ~_ALNUM and mask & DIGIT and mask & _LETTERS and n >= 8 and not value.strip(_HEXDIGITS) \
            and not (mask & LOWER and mask & UPPER):
        return HEX
    if not mask & ~_DATE_CLASSES and mask & DIGIT and 5 <= n <= 35 and _is_datetime(value):
        return DATETIME
    if mask & PUNCT_BIT["@"] and not mask & ~_EMAIL_CLASSES and _is_email(value):
        return EMAIL
    if not mask & ~_IP_CLASSES and 2 <= n <= 45 and (mask & PUNCT_BIT[":"] or mask == DIGIT | PUNCT_BIT["."]) \
            and _is_ip(value):
        return IP
    if mask & PUNCT_BIT[":"] and n < 2048 and value[:8].lower().startswith(_URL_SCHEMES) \
            and not mask & (SPACE | CONTROL):
        return URL
    if not mask & ~_TOKEN_CLASSES:
        return TOKEN
    if n >= 16 and not mask & ~_BASE64_CLASSES and mask & DIGIT and mask & LOWER and mask & UPPER \
            and _is_base64(value, mask):
        return BASE64
    return TEXT


def _is_number(v: str) -> bool:
    if v[:1] in "+-":
        v = v[1:]
    whole, dot, frac = v.partition(".")
    if not whole and not frac:
        return False
    return (not whole or whole.isdigit()) and (not dot or not frac or frac.isdigit()) and (whole or frac) != ""


def _digits(s: str, n: int) -> bool:
    return len(s) == n and s.isdigit()


def _is_date(s: str) -> bool:
    if len(s) == 10 and s[4] == s[7] and s[4] in "-/." and _digits(s[:4], 4) and _digits(s[5:7], 2) \
            and _digits(s[8:], 2):
        return 1 <= int(s[5:7]) <= 12 and 1 <= int(s[8:]) <= 31
    if len(s) == 10 and s[2] == s[5] and s[2] in "-/." and _digits(s[:2], 2) and _digits(s[3:5], 2) \
            and _digits(s[6:], 4):
        return 1 <= int(s[:2]) <= 31 and 1 <= int(s[3:5]) <= 31
    return False


def _is_time(s: str) -> bool:
    for suffix in ("Z", "z"):
        if s.endswith(suffix):
            s = s[:-1]
    for sign in "+-":
        head, sep, tz = s.rpartition(sign)
        if sep and head and (_digits(tz, 4) or (len(tz) == 5 and tz[2] == ":" and _digits(tz[:2] + tz[3:], 4))):
            s = head
            break
    s = s.partition(".")[0] if "." in s and _digits(s.rpartition(".")[2], len(s.rpartition(".")[2])) else s
    parts = s.split(":")
    return len(parts) in (2, 3) and all(_digits(p, 2) for p in parts) and int(parts[0]) < 24 and int(parts[1]) < 60


def _is_datetime(v: str) -> bool:
    if _is_date(v) or _is_time(v):
        return True
    if len(v) > 11 and v[10] in "T ":
        return _is_date(v[:10]) and _is_time(v[11:])
    return False


def _is_email(v: str) -> bool:
    local, at, domain = v.partition("@")
    if not at or not local or "@" in domain or len(v) > 254 or local[0] == "." or local[-1] == ".":
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not labels[-1].isalpha() or len(labels[-1]) < 2:
        return False
    return all(lab and lab.replace("-", "").isalnum() and lab[0] != "-" and lab[-1] != "-" for lab in labels)


def _is_ip(v: str) -> bool:
    try:
        ipaddress.ip_address(v)
    except ValueError:
        return False
    return True


def _is_base64(v: str, mask: int) -> bool:
    body = v.rstrip("=")
    if len(v) - len(body) > 2 or "=" in body:
        return False
    if mask & (PUNCT_BIT["-"] | PUNCT_BIT["_"]) and mask & (PUNCT_BIT["+"] | PUNCT_BIT["/"]):
        return False  # both alphabets at once: not base64
    return len(v) % 4 == 0 or v == body  # padded to 4, or unpadded (base64url)


# ---------------------------------------------------------------- encodings

# The decoding layers a value came through (Input.chain), as bits: a parameter
# whose values were never double percent-encoded (or JS-escaped) and suddenly
# are is being probed, even when the decoded value looks ordinary.
ENCODING_BITS = {"percent": 1, "js": 2, "html": 4, "nfkc": 8, "base64": 16}
ENC_OTHER = 32
ENC_DOUBLE = 64  # one layer applied more than once (%2520)
ENC_NAMES = {**{bit: name for name, bit in ENCODING_BITS.items()}, ENC_OTHER: "other", ENC_DOUBLE: "double"}
_ENC_CACHE: dict[tuple[str, ...], int] = {}


def encoding_bits(chain: tuple[str, ...]) -> int:
    if not chain:
        return 0
    bits = _ENC_CACHE.get(chain)
    if bits is None:
        bits = 0
        for layer in chain:
            bits |= ENCODING_BITS.get(layer, ENC_OTHER)
        if len(set(chain)) < len(chain):
            bits |= ENC_DOUBLE
        if len(_ENC_CACHE) < 256:
            _ENC_CACHE[chain] = bits
    return bits


def encoding_names(bits: int) -> list[str]:
    return [name for bit, name in ENC_NAMES.items() if bits & bit]


# ---------------------------------------------------------------- one value

# (length, class mask, type, punctuation counts); shape is computed on demand (it costs more).
# Punctuation counts: ((index in PUNCTUATION, occurrences), ...) for the punctuation present,
# so that "one @" and "three @" differ (a tampered e-mail keeps its classes).
Features = tuple[int, int, int, tuple[tuple[int, int], ...]]
NO_PUNCT: tuple[tuple[int, int], ...] = ()
_PUNCT_MASK = ((1 << len(PUNCTUATION)) - 1) << 7


def punctuation_counts(value: str, mask: int) -> tuple[tuple[int, int], ...]:
    bits = (mask & _PUNCT_MASK) >> 7
    if not bits:
        return NO_PUNCT
    text = _bounded(value)
    out = []
    while bits:
        low = bits & -bits
        i = low.bit_length() - 1
        out.append((i, text.count(PUNCTUATION[i])))
        bits ^= low
    return tuple(out)


def features(value: str) -> Features:
    if not value:
        return (0, 0, NO_TYPE, NO_PUNCT)
    mask = class_mask(value)
    return (len(value), mask, value_type(_bounded(value), mask), punctuation_counts(value, mask))


# Values repeat (enumerations, flags, a browser's headers): their features are
# remembered, bounded, as [features, shape or None (not computed yet)].
_FEATURES: dict[str, list] = {}
FEATURE_CACHE_SIZE = 8192
FEATURE_CACHE_VALUE = 256  # longer values are not remembered (a browser user-agent fits)


def value_features(value: str) -> list:
    entry = _FEATURES.get(value)
    if entry is None:
        entry = [features(value), None]
        if len(value) <= FEATURE_CACHE_VALUE:
            if len(_FEATURES) >= FEATURE_CACHE_SIZE:
                _FEATURES.clear()  # a stream of new values costs a rebuild, never memory
            _FEATURES[value] = entry
    return entry
