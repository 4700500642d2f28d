"""The learned model of one service: endpoints, their parameters, callers, client shares.

Everything here is a mergeable summary, so that two workers (or a worker and
the store) can add up what each learned: counts add, ranges widen, class masks
and types join, bounded value tables add and overflow to "too many". Merging
is how learning happens at all: checks read an immutable *live* profile, and
each worker collects what it learns in a small *delta* of the same shape,
merged into the live profile (and the store) in the background.

A new feature of a value (a character class, a type, an enum value, a shape)
becomes part of a parameter's model only once two different clients sent it,
when the endpoint has more than one client: one client alone cannot teach the
profile its payloads. Until then it waits in `pending` (bounded).

Memory bounds (LearnLimits) cap every table; what does not fit is counted, not
kept, and the checks that would need the missing part are switched off for that
endpoint or service rather than made noisy.
"""
from __future__ import annotations

from dataclasses import dataclass

from extauthz.profile.features import CLASS_BITS, NO_TYPE, PUNCTUATION, join
from extauthz.profile.paths import crowded_prefixes, retemplate, template

LENGTH_NONE = 1 << 30
ALL_CLASSES = (1 << CLASS_BITS) - 1
# A value or shape set counts as closed (and is checked) only from this many samples on.
CHECK_MIN_SAMPLES = 20
# A value or shape set is open when more than 1 in OPEN_RATIO samples brought something new.
OPEN_RATIO = 500


@dataclass(frozen=True)
class LearnLimits:
    """Cardinality caps: how much one service's profile may hold (see README, behaviour learning)."""

    max_endpoints: int = 200  # per service, (method, template) pairs
    max_params: int = 64  # per endpoint
    max_headers: int = 48  # per service: header and cookie names modelled service-wide
    max_values: int = 16  # distinct values remembered per parameter (enum detection)
    value_max_len: int = 40  # longer values are never enum members
    max_shapes: int = 8  # distinct shapes remembered per parameter
    max_literals: int = 50  # distinct literal path segments under one prefix before it collapses
    max_callers: int = 32  # per endpoint; per service twice that
    max_ctypes: int = 8  # content types per endpoint
    max_pending: int = 16  # features awaiting a second client, per parameter
    max_clients: int = 16  # heavy-hitter table per endpoint (training share cap)


DEFAULT_LIMITS = LearnLimits()


def _add_bounded(table: dict | None, key, count: int, cap: int) -> dict | None:
    """Count `key` in a bounded table; None once it would overflow (the table stops meaning much)."""
    if table is None:
        return None
    if key in table:
        table[key] += count
    elif len(table) >= cap:
        return None
    else:
        table[key] = count
    return table


def _merge_bounded(table: dict | None, other: dict | None, cap: int) -> tuple[dict | None, bool]:
    """Add a bounded table into another: (the result, whether it gained a key or overflowed)."""
    if table is None:
        return None, False
    if other is None:
        return None, True
    grew = False
    for key, count in other.items():
        grew = grew or key not in table
        table = _add_bounded(table, key, count, cap)
        if table is None:
            return None, True
    return table, grew


def _merge_members(table: dict, other: dict, cap: int, limits: "LearnLimits") -> tuple[bool, bool, int]:
    """Merge summaries keyed alike (parameters, endpoints): (one grew, one was added, samples over the cap)."""
    grew = added = False
    dropped = 0
    for key, item in other.items():
        mine = table.get(key)
        if mine is not None:
            grew = bool(mine.merge(item, limits)) or grew
        elif len(table) < cap:
            table[key] = item
            added = True
        else:
            dropped += item.n
    return grew, added, dropped


class ParamStats:
    """One parameter of one endpoint (or one header/cookie of a service)."""

    __slots__ = ("n", "present", "lmin", "lmax", "mask", "mask2", "always", "punct", "encs", "type", "values",
                 "shapes", "vnew", "snew", "newby", "pending", "_closure")

    def __init__(self) -> None:
        self.n = 0  # values learned
        self.present = 0  # requests it was present in
        self.lmin = LENGTH_NONE
        self.lmax = 0
        self.mask = 0  # character classes seen
        self.mask2 = 0  # ... seen in at least two values (mask & ~mask2: seen once, Good-Turing's N1)
        self.always = ALL_CLASSES  # ... present in every value (the @ of an e-mail, the - of a date)
        self.punct: bytearray | None = None  # most occurrences of each punctuation character in one value
        self.encs = 0  # decoding layers seen (features.ENCODING_BITS)
        self.type = NO_TYPE
        self.values: dict[str, int] | None = {}
        self.shapes: dict[str, int] | None = {}
        # new values and shapes not (yet) confirmed by a second client: evidence that the set
        # is open though none of them made it in. Counted once per change of client (`newby`,
        # the last one to bring one), so one client cannot make a closed set look open.
        self.vnew = 0
        self.snew = 0
        self.newby = 0
        self.pending: dict[str, int] | None = None  # feature key -> first client
        self._closure: tuple | None = None

    # ------------------------------------------------------------ learning

    def _confirmed(self, key: str, client: int | None, limits: LearnLimits) -> bool:
        if client is None:
            return True
        pending = self.pending
        if pending is None:
            self.pending = {key: client}
            return False
        first = pending.get(key)
        if first is None:
            if len(pending) < limits.max_pending:
                pending[key] = client
            return False
        if first != client:
            del pending[key]
            return True
        return False

    def learn(self, value: str, feats: tuple, shape: str | None, enc: int,
              client: int | None, limits: LearnLimits, live: "ParamStats | None" = None) -> bool:
        """Add one value; True when the checks would now accept something neither it nor `live` did.

        New characters and types always count; a new value or shape counts only
        when the set was closed (checked), so free text that keeps showing new
        names does not keep its endpoint from settling.

        `client` is None when any client may teach new features at once;
        `live` is the same parameter in the live profile (features it already
        has need no confirmation).
        """
        length, mask, vtype, punct = feats
        self.n += 1
        if length < self.lmin:
            self.lmin = length
        if length > self.lmax:
            self.lmax = length
        self.mask2 |= self.mask & mask
        self.always &= mask
        if punct:
            most = self.punct
            if most is None:
                most = self.punct = bytearray(len(PUNCTUATION))
            for i, c in punct:
                if c > most[i]:
                    most[i] = min(c, 255)
        grew = False
        new_bits = mask & ~self.mask
        if new_bits:
            if live is not None:
                self.mask |= new_bits & live.mask
                new_bits &= ~live.mask
            while new_bits:
                bit = new_bits & -new_bits
                new_bits ^= bit
                if self._confirmed(f"m{bit.bit_length() - 1}", client, limits):
                    self.mask |= bit
                    if client is not None:  # confirmed: two values had it
                        self.mask2 |= bit
                    grew = True
        new_enc = enc & ~self.encs
        if new_enc:
            if live is not None:
                self.encs |= new_enc & live.encs
                new_enc &= ~live.encs
            if new_enc and self._confirmed(f"e{new_enc}", client, limits):
                self.encs |= new_enc
                grew = True
        if vtype != NO_TYPE:
            joined = join(self.type, vtype)
            if joined != self.type:
                if live is not None and join(live.type, vtype) == live.type:
                    self.type = joined
                elif self._confirmed(f"t{vtype}", client, limits):
                    self.type = joined
                    grew = True
        novel = False
        values = self.values
        if values is not None:
            if value in values:
                values[value] += 1
            elif live is not None and live.values is not None and value in live.values:
                self.values = _add_bounded(values, value, 1, limits.max_values)
            elif len(value) > limits.value_max_len or self._confirmed("v" + value, client, limits):
                closed = self.enum_values() is not None
                self.values = None if len(value) > limits.value_max_len else \
                    _add_bounded(values, value, 1 if client is None else 2, limits.max_values)
                grew = grew or closed
                if client is not None and self.vnew:
                    self.vnew -= 1  # its first sighting was counted as new
            elif client != self.newby:
                novel = True
                self.vnew += 1
                if self.vnew > 2 * limits.max_values:  # new values keep coming: not an enumeration
                    self.values = None
                    self._forget_pending("v")
        shapes = self.shapes
        if shapes is not None and shape is not None:
            if shape in shapes:
                shapes[shape] += 1
            elif live is not None and live.shapes is not None and shape in live.shapes:
                self.shapes = _add_bounded(shapes, shape, 1, limits.max_shapes)
            elif self._confirmed("s" + shape, client, limits):
                closed = self.closed_shapes() is not None
                self.shapes = _add_bounded(shapes, shape, 1 if client is None else 2, limits.max_shapes)
                grew = grew or closed
                if client is not None and self.snew:
                    self.snew -= 1
            elif client != self.newby:
                novel = True
                self.snew += 1
                if self.snew > 2 * limits.max_shapes:
                    self.shapes = None
                    self._forget_pending("s")
        if novel:
            self.newby = client
        return grew

    def _forget_pending(self, kind: str) -> None:
        if self.pending:
            self.pending = {k: c for k, c in self.pending.items() if k[0] != kind} or None

    def _apply(self, key: str, limits: LearnLimits) -> None:
        """A pending feature confirmed while merging."""
        kind, rest = key[0], key[1:]
        if kind == "m":
            self.mask |= 1 << int(rest)
            self.mask2 |= 1 << int(rest)
        elif kind == "t":
            self.type = join(self.type, int(rest))
        elif kind == "e":
            self.encs |= int(rest)
        elif kind == "v":
            self.values = _add_bounded(self.values, rest, 2, limits.max_values)
            self.vnew = max(0, self.vnew - 1)
        elif kind == "s":
            self.shapes = _add_bounded(self.shapes, rest, 2, limits.max_shapes)
            self.snew = max(0, self.snew - 1)

    # ------------------------------------------------------------ merging

    def merge(self, other: "ParamStats", limits: LearnLimits) -> bool:
        """Add another summary of the same parameter; True when the checks now accept more."""
        mask0, type0, encs0 = self.mask, self.type, self.encs
        values0 = self.enum_values()
        shapes0 = self.closed_shapes()
        nvalues0 = len(values0) if values0 is not None else 0
        nshapes0 = len(shapes0) if shapes0 is not None else 0
        self.n += other.n
        self.present += other.present
        self.vnew += other.vnew
        self.snew += other.snew
        self.lmin = min(self.lmin, other.lmin)
        self.lmax = max(self.lmax, other.lmax)
        self.mask2 |= other.mask2 | (self.mask & other.mask)
        self.mask |= other.mask
        self.always &= other.always
        self.encs |= other.encs
        if other.punct is not None:
            if self.punct is None:
                self.punct = bytearray(other.punct)
            else:
                self.punct = bytearray(max(a, b) for a, b in zip(self.punct, other.punct))
        self.type = join(self.type, other.type)
        self.values, _ = _merge_bounded(self.values, other.values, limits.max_values)
        self.shapes, _ = _merge_bounded(self.shapes, other.shapes, limits.max_shapes)
        if other.pending:
            mine = self.pending or {}
            for key, client in other.pending.items():
                first = mine.get(key)
                if first is None:
                    if len(mine) < limits.max_pending:
                        mine[key] = client
                elif first != client:
                    del mine[key]
                    self._apply(key, limits)
            self.pending = mine or None
        if self.pending:  # drop what the merge made redundant
            self.pending = {k: c for k, c in self.pending.items() if not self._known(k)} or None
        return (self.mask != mask0 or self.type != type0 or self.encs != encs0
                or (values0 is not None and (self.values is None or len(self.values) != nvalues0))
                or (shapes0 is not None and (self.shapes is None or len(self.shapes) != nshapes0)))

    def _known(self, key: str) -> bool:
        kind, rest = key[0], key[1:]
        if kind == "m":
            return bool(self.mask >> int(rest) & 1)
        if kind == "t":
            return join(self.type, int(rest)) == self.type
        if kind == "e":
            return not int(rest) & ~self.encs
        if kind == "v":
            return self.values is None or rest in self.values
        return self.shapes is None or rest in self.shapes

    # ------------------------------------------------------------ reading

    def closure(self) -> tuple[dict[str, int] | None, dict[str, int] | None]:
        """(enum_values(), closed_shapes()), remembered: for live profiles, which never change."""
        c = self._closure
        if c is None:
            c = self._closure = (self.enum_values(), self.closed_shapes())
        return c

    def enum_values(self, min_samples: int = CHECK_MIN_SAMPLES) -> dict[str, int] | None:
        """The closed set of values, when the parameter is an enumeration.

        Closed means: few values, each seen more than once, over enough samples
        (a Good-Turing view: no singletons, so the chance of an unseen value is
        small), and nothing new waiting to be confirmed.
        """
        values = self.values
        if not values or self.n < max(min_samples, 10 * len(values)) or self.vnew * OPEN_RATIO > self.n:
            return None
        if any(c < 2 for c in values.values()):
            return None
        if self.pending and any(k[0] == "v" for k in self.pending):
            return None
        return values

    def closed_shapes(self, min_samples: int = CHECK_MIN_SAMPLES) -> dict[str, int] | None:
        shapes = self.shapes
        if not shapes or self.n < max(min_samples, 25 * len(shapes)) or self.snew * OPEN_RATIO > self.n:
            return None
        if any(c < 3 for c in shapes.values()):
            return None
        return shapes


class EndpointStats:
    """One (method, path template) of a service."""

    __slots__ = ("n", "changed", "params", "param_overflow", "ctypes", "bmin", "bmax", "callers",
                 "clients", "refused")

    def __init__(self) -> None:
        self.n = 0  # requests learned
        self.changed = 0  # value of n when the model last gained something (0 = never since creation)
        self.params: dict[str, ParamStats] = {}
        self.param_overflow = 0  # parameter occurrences not modelled (max_params reached)
        self.ctypes: dict[str, int] | None = {}
        self.bmin = LENGTH_NONE
        self.bmax = 0
        self.callers: dict[str, int] | None = {}
        self.clients: dict[int, int] = {}  # client hash -> requests (space-saving heavy hitters)
        self.refused = 0  # requests not learned: their client had used up its share

    def count_client(self, client: int, limits: LearnLimits) -> None:
        clients = self.clients
        if client in clients:
            clients[client] += 1
        elif len(clients) < limits.max_clients:
            clients[client] = 1
        else:  # space-saving: the newcomer inherits the smallest count
            low = min(clients, key=clients.__getitem__)
            clients[client] = clients.pop(low) + 1

    def merge(self, other: "EndpointStats", limits: LearnLimits) -> None:
        """Add another summary of the endpoint. `changed` moves only when the checks now accept more
        than before (the other side's `changed` says where in its requests that happened)."""
        before = self.n
        self.n += other.n
        grew, added, dropped = _merge_members(self.params, other.params, limits.max_params, limits)
        self.param_overflow += other.param_overflow + dropped
        self.ctypes, new_ctype = _merge_bounded(self.ctypes, other.ctypes, limits.max_ctypes)
        self.callers, new_caller = _merge_bounded(self.callers, other.callers, limits.max_callers)
        self.bmin = min(self.bmin, other.bmin)
        self.bmax = max(self.bmax, other.bmax)
        if grew or added or new_ctype or new_caller:
            self.changed = before + (other.changed or other.n)
        if other.clients:
            merged = dict(self.clients)
            for client, c in other.clients.items():
                merged[client] = merged.get(client, 0) + c
            if len(merged) > limits.max_clients:
                merged = dict(sorted(merged.items(), key=lambda kv: -kv[1])[:limits.max_clients])
            self.clients = merged
        self.refused += other.refused


class ServiceProfile:
    """Everything learned about one service."""

    __slots__ = ("service", "n", "new_endpoint_at", "endpoints", "endpoint_overflow", "collapsed",
                 "headers", "header_overflow", "callers", "new_caller_at", "rates", "updated",
                 "_methods", "_tpl_cache")

    def __init__(self, service: str) -> None:
        self.service = service
        self.n = 0  # requests learned
        self.new_endpoint_at = 0  # value of n when the last new endpoint appeared
        self.endpoints: dict[tuple[str, str], EndpointStats] = {}
        self.endpoint_overflow = 0  # requests to endpoints not modelled (max_endpoints reached)
        self.collapsed: frozenset[str] = frozenset()
        self.headers: dict[str, ParamStats] = {}  # header:* and cookie:*, service-wide
        self.header_overflow = 0
        self.callers: dict[str, int] | None = {}
        self.new_caller_at = 0
        self.rates: dict[tuple[str, str], tuple[float, float, float, int]] = {}  # see extauthz.profile.rates
        self.updated = 0.0  # unix time of the last merge
        self._methods: dict[str, tuple[str, ...]] | None = None
        self._tpl_cache: dict[str, str] = {}

    # ------------------------------------------------------------ reading (live profile)

    def template_of(self, path: str) -> str:
        cache = self._tpl_cache
        tpl = cache.get(path)
        if tpl is None:
            tpl = template(path, self.collapsed)
            if len(cache) < 2048 and len(path) <= 256:
                cache[path] = tpl
        return tpl

    def methods_of(self, tpl: str) -> tuple[str, ...]:
        """Methods learned for a template (empty: the template is unknown)."""
        if self._methods is None:
            methods: dict[str, list[str]] = {}
            for method, t in self.endpoints:
                methods.setdefault(t, []).append(method)
            self._methods = {t: tuple(sorted(ms)) for t, ms in methods.items()}
        return self._methods.get(tpl, ())

    # ------------------------------------------------------------ merging (background)

    def merge(self, delta: "ServiceProfile", limits: LearnLimits) -> None:
        """Add what a delta learned. Mutates self: call it on a private copy, never on a live profile."""
        before = self.n
        self.n += delta.n
        if delta.collapsed - self.collapsed:
            self.collapsed = self.collapsed | delta.collapsed
        _, added, dropped = _merge_members(self.endpoints, delta.endpoints, limits.max_endpoints, limits)
        if added:
            self.new_endpoint_at = before + (delta.new_endpoint_at or delta.n)
        self.endpoint_overflow += delta.endpoint_overflow + dropped
        _, _, dropped = _merge_members(self.headers, delta.headers, limits.max_headers, limits)
        self.header_overflow += delta.header_overflow + dropped
        self.callers, new_caller = _merge_bounded(self.callers, delta.callers, 2 * limits.max_callers)
        if new_caller:
            self.new_caller_at = before + (delta.new_caller_at or delta.n)
        for key, rate in delta.rates.items():
            self.rates[key] = _merge_rate(self.rates.get(key), rate)
        self.updated = max(self.updated, delta.updated)
        self._collapse(limits)
        self._methods = None
        self._tpl_cache = {}

    def _collapse(self, limits: LearnLimits) -> None:
        """Collapse crowded path prefixes and re-key their endpoints (merging those that now coincide)."""
        for _ in range(12):
            crowded = crowded_prefixes((t for _, t in self.endpoints), limits.max_literals)
            if not crowded - self.collapsed:
                return
            self.collapsed = self.collapsed | crowded
            rekeyed: dict[tuple[str, str], EndpointStats] = {}
            for (method, tpl), ep in self.endpoints.items():
                key = (method, retemplate(tpl, self.collapsed))
                if key in rekeyed:
                    rekeyed[key].merge(ep, limits)
                else:
                    rekeyed[key] = ep
            self.endpoints = rekeyed
            self.rates = {k: v for k, v in self.rates.items() if k in rekeyed}


RATE_HISTORY_MINUTES = 7 * 24 * 60


def _merge_rate(a: tuple | None, b: tuple) -> tuple:
    """Rate baselines (median rpm, p90 rpm, total rpm, minutes): means over active minutes.

    The history's weight is capped at a week of minutes, so the baseline
    follows a slow change in traffic instead of averaging over all time.
    """
    if a is None:
        return b
    wa, wb = min(a[3], RATE_HISTORY_MINUTES), b[3]
    if wa + wb == 0:
        return b
    mix = lambda i: (a[i] * wa + b[i] * wb) / (wa + wb)  # noqa: E731
    return (mix(0), mix(1), mix(2), a[3] + wb)
