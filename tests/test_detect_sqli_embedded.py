"""SQL injection inside long text: read from where the payload breaks out, not only from the value's start."""
from __future__ import annotations

import time

import pytest

from extauthz.detect import sqli
from extauthz.detect.sqli import analyse
from extauthz.finding import Severity

# Prose whose own quotes flip every quote context before the payload is reached, and that the
# readings from the value's start stop at.
PROSE = ("We'll ship the customer's order on Monday; the 'express' option costs more. "
         "Please don't forget the invoice, and O'Brien's team will review the draft. ") * 3

EMBEDDED = [
    "' UNION SELECT card_number, cvv FROM payments--",
    "x\"; DELETE FROM sessions; --",
    "7 OR 4=4#",
    "5) OR 3=3-- -",
    "' AND SLEEP(3)-- ",
    "9 UNION ALL SELECT NULL,version()#",
    "abc' OR 'q'='q",
]


@pytest.mark.parametrize("payload", EMBEDDED)
@pytest.mark.parametrize("where", ["middle", "end"])
def test_a_payload_inside_prose_is_found(payload: str, where: str) -> None:
    value = PROSE + payload + (" " + PROSE if where == "middle" else "")
    v = analyse(value)
    assert v is not None and v.severity >= Severity.HIGH, (payload, v)


PROSE_ONLY = [
    'He said "yes" and 5 minutes later left.',
    "press 'Enter' or 1 of the keys",
    "It's \"a\" or \"b\" as before",
    "x = 'a'; if (y) { z(); }",
    "(see above) and 5 more",
    "chapters 2 and 3 = 5 pages",
    'why is it "stable" and not "testing/unstable" as it used to be?',
    "the 'first' or the 'second' one",
    "in 2019 union members went on strike; select your delegate",
    "Step 2; select File, then Open",
]


@pytest.mark.parametrize("text", PROSE_ONLY)
def test_prose_with_quotes_numbers_and_connectives_passes(text: str) -> None:
    v = analyse(PROSE + text + " " + PROSE)
    assert v is None or v.severity < Severity.HIGH, (text, v)


def test_the_inside_readings_are_bounded(monkeypatch) -> None:
    # every place looks like a break-out; only EMBED_READINGS of them are read, each a bounded span
    value = ("' or x " * 4000)[:24000]
    assert sum(1 for _ in sqli._EMBED_GATE.finditer(value)) > sqli.EMBED_READINGS
    reads: list[tuple[int, int]] = []
    tokenize = sqli.tokenize

    def counted(text, quote=None, limit=sqli.T.MAX_TOKENS):
        reads.append((len(text), limit))
        return tokenize(text, quote, limit)

    monkeypatch.setattr(sqli, "tokenize", counted)
    t0 = time.thread_time()
    sqli.embedded(value)
    assert time.thread_time() - t0 < 1.0
    assert 0 < len(reads) <= sqli.EMBED_READINGS
    assert all(n <= sqli.EMBED_SPAN and limit <= sqli.EMBED_TOKENS for n, limit in reads)


def test_lone_surrogates_and_astral_characters_keep_their_places() -> None:
    """RE2 reads UTF-8: a lone surrogate (a JSON "\\udcff" decoded alone) cannot be encoded and once
    made the engine fail; an emoji before the payload must not move where it is read from."""
    for filler in ("\udcff" * 3 + PROSE, "\U0001F600" * 70 + PROSE):
        v = analyse(filler + "' UNION SELECT card_number, cvv FROM payments-- " + PROSE)
        assert v is not None and v.severity >= Severity.HIGH and v.form.startswith("' UNION SELECT")
