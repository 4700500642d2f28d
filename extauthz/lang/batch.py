"""cmd.exe control statements: FOR … %x IN (…) DO … and IF … .

Batch syntax does not survive a POSIX tokenizer (backslashes are path
separators, `%x` is a loop variable), so these statements are read from the raw
text: the value is cut at cmd's separators (& && | || newline) and each piece
is split on whitespace and parentheses.
"""
from __future__ import annotations

MAX_STATEMENTS = 64
MAX_TOKENS = 48

_COMPARE_OPS = frozenset({"equ", "neq", "lss", "leq", "gtr", "geq"})
_CONDITIONS = frozenset({"exist", "defined", "errorlevel", "cmdextversion"})
_BUILTINS = frozenset({"echo", "set", "goto", "call", "exit", "del", "copy", "move", "type", "dir", "cd",
                       "md", "rd", "start", "cmd", "ren", "pushd", "popd", "shift", "setlocal", "endlocal",
                       "powershell", "pause", "cls", "for", "if", "@echo", "rem"})


def _statements(value: str) -> list[tuple[int, str]]:
    """(offset, text) of each stretch between cmd's separators in the first 4096 characters, at
    most MAX_STATEMENTS (cut at C speed: a long text has many)."""
    head = value[:4096]
    if "\x00" in head:
        return _statements_walk(head)
    out: list[tuple[int, str]] = []
    at = 0
    cut = head.replace("&", "\x00").replace("|", "\x00").replace("\n", "\x00").replace("\r", "\x00")
    for piece in cut.split("\x00"):
        if piece:
            out.append((at, head[at:at + len(piece)]))
            if len(out) >= MAX_STATEMENTS:
                # the rest, from its first character that is no separator, as one more statement
                rest = at + len(piece)
                while rest < len(head) and head[rest] in "&|\n\r":
                    rest += 1
                if rest < len(head):
                    out.append((rest, head[rest:]))
                break
        at += len(piece) + 1
    return out


def _statements_walk(value: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    start = 0
    i = 0
    n = len(value)
    while i < n and len(out) < MAX_STATEMENTS:
        c = value[i]
        if c in "&|\n\r":
            if i > start:
                out.append((start, value[start:i]))
            while i < n and value[i] in "&|\n\r":
                i += 1
            start = i
            continue
        i += 1
    if start < n:
        out.append((start, value[start:n]))
    return out


def _tokens(text: str) -> list[str]:
    spaced = text.replace("(", " ( ").replace(")", " ) ")
    return spaced.split()[:MAX_TOKENS]


def _loop_variable(tok: str) -> bool:
    """`%i`, `%%a`, or a bare `%%` (the letter lost on the way, still a FOR variable slot);
    not `%VAR%`, which is an environment variable."""
    if tok == "%%":
        return True
    body = tok[2:] if tok.startswith("%%") else tok[1:] if tok.startswith("%") else ""
    return bool(body) and not body.endswith("%") and len(body) <= 24


def find_statement(value: str, is_command) -> tuple[int, int, str] | None:
    """(start, end, description) of the first FOR or IF statement, else None.

    `is_command(word)` tells whether a word names a known command.
    """
    for start, text in _statements(value):
        toks = _tokens(text)
        if not toks:
            continue
        # cmd.exe reads `;`, `,` and `=` before a command as blanks (`;for /f …`)
        lows = [t.lower().lstrip("@") for t in toks]
        lows[0] = lows[0].lstrip(";,=@")
        head = lows[0]
        if head == "for":
            var_at = next((k for k, t in enumerate(toks[1:8], 1) if _loop_variable(t)), 0)
            if var_at and var_at + 2 < len(lows) and lows[var_at + 1] == "in" and lows[var_at + 2] == "(" \
                    and "do" in lows[var_at + 3:]:
                return start, start + len(text), "cmd.exe FOR loop"
            continue
        if head not in ("if", "if/i"):
            continue
        rest = lows[1:] if head == "if" else ["/i", *lows[1:]]
        if rest[:1] == ["/i"]:
            rest = rest[1:]
        if rest[:1] == ["not"]:
            rest = rest[1:]
        if len(rest) < 2:
            continue
        if rest[0] in _CONDITIONS:
            tail = rest[2:]
            if rest[1] == "(":  # IF EXIST (C:\x) ECHO …
                close = rest.index(")") if ")" in rest else len(rest)
                tail = rest[close + 1:]
            if rest[0] in ("errorlevel", "cmdextversion") or not tail or tail[0] == "(" \
                    or tail[0] in _BUILTINS or is_command(tail[0]):
                return start, start + len(text), "cmd.exe IF " + rest[0].upper()
            continue
        compare = "==" in "".join(rest[:4]) or any(t in _COMPARE_OPS for t in rest[1:5])
        if compare:
            return start, start + len(text), "cmd.exe IF comparison"
    return None
