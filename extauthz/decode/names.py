"""Which parameter, cookie and JSON member names are worth inspecting themselves.

Names are chosen by the client, and some attacks live there: NoSQL operators
(`password[$ne]=`, `{"$where": ...}`), prototype pollution (`__proto__[x]`,
`constructor[prototype]`), injections into a name an application echoes.
Turning every name into an Input would double the work on benign requests, so
a name becomes an Input (role "key") only when it is not plain: it has a
character outside letters, digits and `_-.[]`, is long, or contains one of the
notable words from extauthz/rules/decode.yaml.
"""
from __future__ import annotations

import functools
import string

from extauthz.decode.policy import POLICY

_PLAIN = string.ascii_letters + string.digits + "_-.[]"
MAX_PLAIN_LENGTH = 64


_WORDS = POLICY.notable_name_words


def is_plain_name(name: str) -> bool:
    if not name or len(name) > MAX_PLAIN_LENGTH:
        return False
    return _short_name_is_plain(name)


@functools.lru_cache(maxsize=4096)  # an API's member and parameter names repeat request after request
def _short_name_is_plain(name: str) -> bool:
    if name.strip(_PLAIN):
        return False
    lowered = name.lower()
    for word in _WORDS:
        if word in lowered:
            return False
    return True
