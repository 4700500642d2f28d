"""Mail protocol commands on injected lines."""
from __future__ import annotations

import pytest

from extauthz.detect.mailcmd import MailCommandInjection, assess
from extauthz.detect.prefilter import Prefilter

PREFILTER = Prefilter([MailCommandInjection()])


def hit(value: str):
    return assess(value) if PREFILTER.candidates(value) else None


@pytest.mark.parametrize("value,rule", [
    ("\r\nMAIL FROM:<a@b.com>", "mail.smtp-command"), ("x\nRCPT TO:<Postmaster>", "mail.smtp-command"),
    ("\r\nEHLO test.com", "mail.smtp-command"), ("\r\nDATA", "mail.smtp-command"), ("\r\nQUIT", "mail.smtp-command"),
    ("\r\na001 EXAMINE INBOX", "mail.imap-command"), ("\r\nd store 2 +FLAGS (\\Deleted)\n", "mail.imap-command"),
    ('\r\nA1 list "INBOX/" "*"', "mail.imap-command"), ("\r\nRETR 123", "mail.pop3-command"),
    ("\r\nlist 3", "mail.pop3-command"), ("\r\nTOP 1 2", "mail.pop3-command"),
    ("\r\nAPOP corerulest 7d0a3bd8e5b2abcfb3e256633c23b891", "mail.pop3-command"),
])
def test_commands(value, rule):
    h = hit(value)
    assert h is not None and h.rule == rule, (value, h)


@pytest.mark.parametrize("value", [
    "We received this mail from Mars", "Hello! World.\ndata not found.\n", "Hey please do not quit\n",
    "\nSeriously, noop", "\nLet's go to the store (sale time!)\n", "Just to remind you that I need to copy those\n",
    "MAIL FROM:<a@b.com>", "This text is a way of list 3 things\n", "We need the list \"ASAP\"\n",
    "Shopping\nlist 3 items\nmilk", "Dear team,\nI will check later\nThanks",
    # a line of a document opening with a word, then an IMAP-named verb and quotes or a colon
    'See the notes.\nobjects check the <a href="internals.html">library internals</a>',
    "The rules:\nplease list: the files \"a\" and \"b\"", "Notes\nI check (daily) the INBOX",
])
def test_prose_passes(value):
    assert hit(value) is None, value
