"""Mail protocol command injection: SMTP, IMAP and POP3 commands on injected lines.

Finding class: "rce" (commands smuggled to a mail server the application talks
to). Rule ids: mail.smtp-command, mail.imap-command, mail.pop3-command.

Only lines that follow a line break inside the value count (the first line is
the application's own field), and a line must have the exact shape of a
protocol command: MAIL FROM:<…>, RCPT TO:<…>, EHLO host, DATA or QUIT alone;
an IMAP tag (a counter like A001, or a single letter) then a command with
IMAP-looking arguments (A001 SELECT INBOX, d store 2 +FLAGS (\\Deleted));
RETR 1, TOP 1 2, APOP user digest. Prose that mentions these words ("data not
found.", "Seriously, noop") does not match.
"""
from __future__ import annotations

from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.detect.hits import Hit, finding
from extauthz.finding import Finding, Severity

MAX_LINES = 64
SMTP_ALONE = frozenset({"DATA", "QUIT", "RSET", "NOOP", "STARTTLS", "TURN"})
SMTP_ONE_ARG = frozenset({"EHLO", "HELO", "VRFY", "EXPN", "HELP", "AUTH"})
IMAP_COMMANDS = frozenset({"login", "authenticate", "select", "examine", "create", "delete", "rename", "subscribe",
                           "unsubscribe", "list", "lsub", "status", "append", "check", "close", "expunge", "search",
                           "fetch", "store", "copy", "move", "uid", "capability", "noop", "logout", "idle",
                           "starttls", "namespace", "getquota", "setacl", "quit"})
POP3_NUMERIC = {"retr": (1, 1), "list": (0, 1), "dele": (1, 1), "top": (2, 2), "uidl": (0, 1)}
POP3_WORDS = {"user": 1, "pass": 1, "apop": 2, "auth": 2}
POP3_ALONE = frozenset({"STAT", "UIDL", "QUIT", "RSET", "NOOP", "CAPA", "STLS", "LIST"})


def _injected_lines(value: str) -> Iterable[tuple[int, str]]:
    pos = 0
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n", MAX_LINES)
    for k, line in enumerate(lines):
        if k > 0:
            yield pos, line.strip()
        pos += len(line) + 1


def _smtp(line: str) -> bool:
    up = line.upper()
    if up.startswith(("MAIL FROM:", "RCPT TO:")):
        rest = line.split(":", 1)[1].strip()
        return rest.startswith("<") and ">" in rest
    words = line.split()
    if len(words) == 1 and words[0] in SMTP_ALONE:
        return True
    return len(words) == 2 and words[0] in SMTP_ONE_ARG


def _imap(line: str) -> bool:
    words = line.split()
    if len(words) < 2 or len(words[0]) > 8 or not words[0].isalnum():
        return False
    tag, command, args = words[0], words[1].lower(), " ".join(words[2:])
    if command not in IMAP_COMMANDS:
        return False
    counter = any(c.isdigit() for c in tag)
    if not (counter or len(tag) == 1 and tag.lower() not in "ai"):
        # a client's tag is a counter (A001, a1) or a single letter (d); a word is the start of
        # a sentence ("objects check the <a href=...>", "Please list: ...") in a document
        return False
    imapish = any(c in args for c in "(\\{\"*:+") or "inbox" in args.lower() or args.upper() == args and args
    return counter or bool(imapish)


def _pop3(line: str) -> bool:
    words = line.split()
    if not words:
        return False
    verb, args = words[0].lower(), words[1:]
    if verb in POP3_NUMERIC:
        lo, hi = POP3_NUMERIC[verb]
        return lo <= len(args) <= hi and all(a.isdigit() for a in args) and (args or words[0].isupper())
    if verb in POP3_WORDS:
        return 1 <= len(args) <= POP3_WORDS[verb] and words[0].isupper()
    return len(words) == 1 and words[0] in POP3_ALONE


def assess(value: str) -> Hit | None:
    for pos, line in _injected_lines(value):
        if not line:
            continue
        for check, rule, what in ((_smtp, "mail.smtp-command", "SMTP"), (_imap, "mail.imap-command", "IMAP"),
                                  (_pop3, "mail.pop3-command", "POP3")):
            if check(line):
                return Hit(Severity.HIGH, rule, pos, pos + len(line), f"{what} command on an injected line")
    return None


@register
class MailCommandInjection(Detector):
    name = "mailcmd"
    triggers = (r"[\r\n]\s*(?:mail\s+from|rcpt\s+to|ehlo|helo|data|quit|rset|noop|vrfy|expn|help|auth|starttls"
                r"|retr|list|dele|top|uidl|user|pass|apop|stat|capa|stls)",
                r"[\r\n]\s*[a-z0-9]{1,8}\s+(?:login|authenticate|select|examine|create|delete|rename|subscribe"
                r"|list|lsub|status|append|check|close|expunge|search|fetch|store|copy|move|uid|capability|noop"
                r"|logout|idle|starttls|namespace|getquota|setacl|quit)(?:\s|$)")

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        return finding("rce", assess(inp.value), inp)
