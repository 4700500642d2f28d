"""Where a form of a long value differs from it: the form read around its changes.

Detectors read a value in several forms (sqli.variants, xss_variants.variants): "+" as
a blank, comments or filler stripped, quotes folded, a legacy charset's narrowing. On a
short value every form is read whole. On a long one (a document, or a window of one) a
form usually changes a few characters: "C++" and "a + b" in a README, a bullet, a
[1] reference, and reading the whole form again cost as much as reading the value,
about a third of the SQL and XSS detectors' time on documents. Only text near a change
can read differently in the form, so a long value's form is read as the stretches
within RADIUS characters of its changes, merged, with their edges moved to a blank so
that no word is cut into another (`brand` into `and`). An injection that relies on a
form lies around the characters the form changed (`'+or+1=1--`, `un/**/ion`), and a
stretch is read in every context, like a value of its own. When the changes spread over
most of the form, it is read whole, as before.

Linear in the value: blocks are compared at C speed, a character walk runs only inside
differing blocks, and the stretches are bounded in number.
"""
from __future__ import annotations

PIECE_MIN = 1024  # values at least this long have their forms read around the changes
RADIUS = 128  # characters kept on each side of a change
_SNAP = 32  # an edge moves to a blank this close
_BLOCK = 64
_MAX_PIECES = 24
_WHOLE_SHARE = 0.6  # stretches covering more of the form than this: read it whole


def changed_pieces(value: str, form: str) -> list[tuple[str, str]] | None:
    """The stretches of `form` around where it differs from `value`, each with the stretch of
    `value` it stands for; None when the form should be read whole (a short value, changes
    over most of it, or a form that is not the value with characters replaced or removed)."""
    if len(value) < PIECE_MIN or form == value:
        return None
    if len(form) == len(value):
        changes = _replaced(value, form)
    elif len(form) < len(value):
        changes = _removed(value, form)
    else:
        return None
    n = len(form)
    spans: list[list[int]] = []
    shifts: list[tuple[int, int]] = [(0, 0)]  # (form position, value index - form index from there on)
    covered = 0
    for p, shift in changes:
        if p < 0:
            return None  # not the value with characters removed
        if shift != shifts[-1][1]:
            shifts.append((p, shift))
        a, b = p - RADIUS, p + RADIUS + 1
        if spans and a <= spans[-1][1]:
            covered += b - spans[-1][1]
            spans[-1][1] = b
        else:
            spans.append([a, b])
            covered += b - a
            if len(spans) > _MAX_PIECES:
                return None
        if covered > _WHOLE_SHARE * n:
            return None  # changes over most of the form: read it whole
    out: list[tuple[str, str]] = []
    for a, b in spans:
        a, b = _start(form, max(a, 0)), _end(form, min(b, n))
        va = a + _shift_at(shifts, a)
        vb = len(value) if b >= n else b + _shift_at(shifts, b - 1)
        out.append((form[a:b], value[va:vb]))
    return out


def _shift_at(shifts: list[tuple[int, int]], x: int) -> int:
    """The value-minus-form offset at form position x."""
    shift = 0
    for p, s in shifts:
        if p > x:
            break
        shift = s
    return shift


def _replaced(value: str, form: str):
    """(position, 0) where two strings of one length differ, in order."""
    n = len(value)
    for b in range(0, n, _BLOCK):
        if value[b:b + _BLOCK] != form[b:b + _BLOCK]:
            for i in range(b, min(n, b + _BLOCK)):
                if value[i] != form[i]:
                    yield i, 0


def _removed(value: str, form: str):
    """(position in `form`, value index - form index after it) where characters of `value` were
    left out (`form` matched in `value` greedily, as a subsequence), in order; (-1, 0) when
    `form` is no subsequence of `value`."""
    i = j = 0
    n, m = len(value), len(form)
    while j < m:
        if j + _BLOCK <= m and value[i:i + _BLOCK] == form[j:j + _BLOCK]:
            i += _BLOCK
            j += _BLOCK
        elif i < n and value[i] == form[j]:
            i += 1
            j += 1
        else:
            k = value.find(form[j], i)
            if k < 0:
                yield -1, 0
                return
            i = k
            yield j, i - j
    if i < n:
        yield m - 1, n - m


def _start(text: str, a: int) -> int:
    """Just after the last blank at most _SNAP before a (or a itself at a blank or the start)."""
    if a <= 0:
        return 0
    k = max(text.rfind(" ", a - _SNAP, a + 1), text.rfind("\n", a - _SNAP, a + 1))
    return k + 1 if k >= 0 else a


def _end(text: str, b: int) -> int:
    """The first blank at most _SNAP after b (or b)."""
    if b >= len(text):
        return len(text)
    hits = [k for k in (text.find(" ", b, b + _SNAP), text.find("\n", b, b + _SNAP)) if k >= 0]
    return min(hits) if hits else b
