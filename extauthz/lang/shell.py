"""A small, lenient POSIX-sh/bash (and Windows cmd) tokenizer for injection analysis.

It reads a value the way a shell would if the value were spliced into a command
line, and reports the *simple commands* it finds: their words, how each command
was reached (start of the value, after a separator, inside a substitution or a
group) and the evasions seen inside words (quotes splitting a word as in
c'a't, backslashes, empty expansions as in c$@at, ${IFS}, globs, brace
expansion, cmd's ^ escapes). The detector in extauthz.detect.cmdi decides what
is hostile; this module only describes structure.

Lenient on purpose: an unterminated quote or substitution ends at the end of
the input, an unmatched `)` ends the current command. Bounded on purpose:
input length, nesting depth, word and command counts are capped, and every
loop advances the position, so the cost is linear in the (capped) input.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from extauthz.lang.escapes import numeric_escape

MAX_INPUT = 4096  # characters read; the rest of a value is ignored
MAX_DEPTH = 6  # nested substitutions / groups
MAX_COMMANDS = 256
MAX_WORDS = 1024

# Characters that end an unquoted word.
_METACHARS = frozenset(" \t\n\r;&|<>()")
# Characters that end a run of plain characters inside a word (metacharacters, quotes,
# escapes, expansions, globs, braces, carets). _Lexer marks them once per source with
# str.translate, so a run's end is one str.find instead of a loop over its characters.
_RUN_STOPS = "".join(sorted(_METACHARS)) + "'\"\\`${*?[^"
_RUN_MARK = "\x00"
_MARKS = {ord(ch): _RUN_MARK for ch in _RUN_STOPS} | {ord(_RUN_MARK): "\x01"}
# The same without the blanks, and with "#" (a comment where a word starts): what ends
# a stretch of plain words that _Lexer._plain_words reads in one go.
_WORDS_MARKS = {k: v for k, v in _MARKS.items() if chr(k) not in " \t"} | {ord("#"): _RUN_MARK}
_BRACE_BREAKERS = frozenset(" \t\n;|&<>")  # a brace expansion is one word
_MAX_BRACE = 256
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_SPECIAL_PARAMS = frozenset("@*#?-$!_0123456789")
# Variables whose value always starts with "/" (an absolute path).
_SLASH_VARIABLES = frozenset({"PATH", "HOME", "PWD", "OLDPWD", "SHELL", "TMPDIR"})
_ANSI_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "f": "\f",
                 "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


@dataclass(slots=True)
class Word:
    """One shell word after quote removal.

    `text` is what the shell would pass on when expansions are empty (an
    attacker's unset `$u`, `$@`, `$()` contribute nothing), which is how these
    evasions are meant to work.
    """

    text: str = ""
    start: int = 0
    end: int = 0
    quoted: bool = False  # some part was quoted
    whole_quoted: bool = False  # the entire word is one quoted string
    broken: bool = False  # quotes, escapes or empty expansions inside a run of letters
    expansions: list[str] = field(default_factory=list)  # names of $var / ${var} / specials
    substitution: bool = False  # contains $(...), `...` or <(...)
    glob: bool = False  # unquoted * ? [
    brace: bool = False  # unquoted {a,b} or {a..b}
    carets: bool = False  # cmd.exe ^ escapes between characters
    ifs: bool = False  # split by $IFS / ${IFS}
    # (kind, text): "l" literal, "q" quoted, "e" backslash-escaped character,
    # "z" empty quotes, "x" an expansion or substitution (text = variable name),
    # "v" an expansion with a known value ($((7)))
    pieces: list[tuple[str, str]] = field(default_factory=list)

    def with_variables(self, values: dict[str, str]) -> str:
        """The text with known variables substituted (unknown ones stay empty)."""
        return "".join(values.get(t, "") if k == "x" else t for k, t in self.pieces)

    def special_underscore(self) -> str:
        """The text reading `$_at` as the special `$_` followed by "at" (c$_at → cat)."""
        return "".join((t[1:] if t.startswith("_") else "") if k == "x" else t for k, t in self.pieces)


@dataclass(slots=True)
class Redirect:
    op: str
    target: Word | None
    start: int


@dataclass(slots=True)
class Command:
    """A simple command: assignments, words, redirections.

    `context` is how the command position was reached: "start" (beginning of
    the value), "sep" (after ; | || && & or a newline), "subst" (inside $( ),
    backticks, <( ) or >( )) or "group" (inside ( ) or { }). `sep` is the
    token that opened the position. `parenthetical` marks the first command of a
    "(" group that followed a word of the same command and a space (`word (…)`),
    and what follows the ")" of any group opened after a word: sh rejects that as
    a syntax error, and prose writes its asides so ("library (openssl)",
    "sftp(1)/scp(1)"); code glues a call's "(" to its name (`request("cmd")`,
    `system(id)`), and that group's own command stays one.
    """

    context: str
    sep: str
    start: int
    depth: int
    words: list[Word] = field(default_factory=list)
    assignments: list[tuple[str, str]] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    end: int = 0
    parenthetical: bool = False


@dataclass(slots=True)
class Script:
    source: str
    commands: list[Command] = field(default_factory=list)
    truncated: bool = False
    ifs: bool = False
    substitutions: int = 0
    empty_quotes: int = 0  # '' or "" pairs: pure evasion in a command line


class _Budget(Exception):
    """Raised internally when a count limit is reached; parsing then stops."""


class _Lexer:
    def __init__(self, src: str) -> None:
        self.s = src
        self.n = len(src)
        self.marks = src.translate(_MARKS)  # _RUN_MARK where src has a run stop
        self.words_marks = src.translate(_WORDS_MARKS)
        self.i = 0
        self.script = Script(src)
        self.words = 0

    # ------------------------------------------------------------ commands

    def parse_list(self, context: str, sep: str, depth: int, closer: str) -> None:
        """Read commands until `closer` (")" or "}" or "") or the end."""
        s, n = self.s, self.n
        cmd = self._new(context, sep, depth)
        pending_redirect: Redirect | None = None
        while self.i < n:
            c = s[self.i]
            if c == " " or c == "\t":
                self.i += 1
                continue
            if closer and c == closer and (closer == ")" or self._at_command_start(cmd)):
                self.i += 1
                self._finish(cmd)
                return
            if c == "\n" or c == "\r":
                self.i += 1
                cmd = self._next(cmd, "sep", "\n", depth)
                continue
            if c == ";":
                self.i += 2 if s.startswith(";;", self.i) else 1
                cmd = self._next(cmd, "sep", ";", depth)
                continue
            if c == "&":
                if s.startswith("&&", self.i):
                    self.i += 2
                    cmd = self._next(cmd, "sep", "&&", depth)
                    continue
                if s.startswith("&>", self.i):
                    pending_redirect = self._redirect(cmd)
                    continue
                self.i += 1
                cmd = self._next(cmd, "sep", "&", depth)
                continue
            if c == "|":
                if s.startswith("||", self.i):
                    self.i += 2
                    cmd = self._next(cmd, "sep", "||", depth)
                    continue
                self.i += 2 if s.startswith("|&", self.i) else 1
                cmd = self._next(cmd, "sep", "|", depth)
                continue
            if c == "(":
                if s.startswith("((", self.i):  # arithmetic command (( ... ))
                    self.i = self._skip_balanced(self.i + 2, "(", ")", 2)
                    continue
                after_word = bool(cmd.words)
                aside = cmd.parenthetical or after_word and s[self.i - 1] in " \t"
                self.i += 1
                if depth < MAX_DEPTH:
                    self._finish(cmd)
                    first = len(self.script.commands)
                    self.parse_list("group", "(", depth + 1, ")")
                    for inner in self.script.commands[first:] if aside else ():
                        if inner.context == "group" and inner.depth == depth + 1:
                            inner.parenthetical = True  # the group's own first command; ";" inside still separates
                    cmd = self._new("sep", ")", depth)
                    cmd.parenthetical = aside or after_word  # "sftp(1)/scp(1)": no command follows a call's ")"
                continue
            if c == ")":  # unmatched: a stray closer ends the command (as in "a);id")
                self.i += 1
                cmd = self._next(cmd, "sep", ")", depth)
                continue
            if c == "{" and self._at_command_start(cmd) and (self.i + 1 >= n or s[self.i + 1] in " \t\n"):
                self.i += 1
                if depth < MAX_DEPTH:
                    self._finish(cmd)
                    self.parse_list("group", "{", depth + 1, "}")
                    cmd = self._new("sep", "}", depth)
                continue
            if c == "<" or c == ">" or (c.isdigit() and self.i + 1 < n and s[self.i + 1] in "<>"
                                        and self._word_start(cmd)):
                if (c == "<" or c == ">") and s.startswith("(", self.i + 1):  # process substitution
                    start = self.i
                    self.i += 2
                    self.script.substitutions += 1
                    if depth < MAX_DEPTH:
                        self.parse_list("subst", c + "(", depth + 1, ")")
                    w = Word(start=start, end=self.i, substitution=True)
                    self._add_word(cmd, w, pending_redirect)
                    pending_redirect = None
                    continue
                pending_redirect = self._redirect(cmd)
                continue
            if c == "#" and self._word_start(cmd):  # comment to end of line
                nl = s.find("\n", self.i)
                self.i = n if nl < 0 else nl
                continue
            if pending_redirect is None and self.words_marks[self.i] != _RUN_MARK:
                at = self._plain_words(cmd)
                if at > self.i:
                    self.i = at
                    continue
            w = self.read_word(depth)
            if w is None:  # no progress possible: skip one character
                self.i += 1
                continue
            if not (w.pieces or w.substitution):
                continue  # only an $IFS: a word separator
            self._add_word(cmd, w, pending_redirect)
            pending_redirect = None
        self._finish(cmd)

    def _new(self, context: str, sep: str, depth: int) -> Command:
        if len(self.script.commands) >= MAX_COMMANDS:
            raise _Budget
        return Command(context, sep, self.i, depth)

    def _next(self, cmd: Command, context: str, sep: str, depth: int) -> Command:
        self._finish(cmd)
        return self._new(context, sep, depth)

    def _finish(self, cmd: Command) -> None:
        if cmd.words or cmd.assignments or cmd.redirects:
            cmd.end = self.i
            self.script.commands.append(cmd)

    @staticmethod
    def _at_command_start(cmd: Command) -> bool:
        return not cmd.words

    @staticmethod
    def _word_start(cmd: Command) -> bool:
        return True

    def _add_word(self, cmd: Command, w: Word, redirect: Redirect | None) -> None:
        self.words += 1
        if self.words > MAX_WORDS:
            raise _Budget
        if redirect is not None:
            redirect.target = w
            return
        if not cmd.words and w.pieces and w.pieces[0][0] == "l":
            name, eq, _ = w.pieces[0][1].partition("=")
            if eq and name and name[0] in _NAME_START and all(ch in _NAME_CHARS for ch in name):
                cmd.assignments.append((name, w.text[len(name) + 1:]))
                return
        cmd.words.append(w)

    def _plain_words(self, cmd: Command) -> int:
        """Add the words of plain characters between blanks from self.i, as read_word would
        read them one at a time (prose is mostly such words); return where reading goes on.

        A word glued to what ends the stretch (a quote, `$`, a redirection) is left
        for read_word to read whole, and so is everything after an assignment."""
        s, n, start = self.s, self.n, self.i
        end = self.words_marks.find(_RUN_MARK, start)
        if end < 0:
            end = n
        seg = s[start:end]
        parts = (seg.replace("\t", " ") if "\t" in seg else seg).split(" ")
        glued = end < n and (s[end] not in _METACHARS or s[end] == "<" or s[end] == ">")
        last = len(parts) - 1
        words = cmd.words
        pos = start
        for k, part in enumerate(parts):
            if part:
                if k == last and glued:
                    return pos
                w = Word(part, pos, pos + len(part), pieces=[("l", part)])
                if words:
                    self.words += 1
                    if self.words > MAX_WORDS:
                        raise _Budget
                    words.append(w)
                else:
                    self._add_word(cmd, w, None)
                    if not words:  # an assignment: a "}" after it may close a group
                        return pos + len(part)
            pos += len(part) + 1
        return end

    def _redirect(self, cmd: Command) -> Redirect:
        s, n = self.s, self.n
        start = self.i
        while self.i < n and s[self.i].isdigit():
            self.i += 1
        for op in ("<<<", "&>>", "<<-", ">>", "<<", "<>", ">|", ">&", "<&", "&>", "<", ">"):
            if s.startswith(op, self.i):
                self.i += len(op)
                break
        else:
            self.i += 1
            op = s[self.i - 1]
        r = Redirect(op, None, start)
        cmd.redirects.append(r)
        return r

    def _skip_balanced(self, i: int, opener: str, closer: str, need: int) -> int:
        """Skip to after `need` closers at nesting level 0 (for $(( )) and $[ ])."""
        s, n = self.s, self.n
        level = 0
        while i < n:
            c = s[i]
            if c == opener:
                level += 1
            elif c == closer:
                if level == 0:
                    if need == 2 and s.startswith(closer * 2, i):
                        return i + 2
                    if need == 1:
                        return i + 1
                else:
                    level -= 1
            i += 1
        return n

    # ------------------------------------------------------------ words

    def read_word(self, depth: int) -> Word | None:
        """Read one word at self.i; None when nothing could be consumed."""
        s, n = self.s, self.n
        start = self.i
        marks = self.marks
        if marks[start] != _RUN_MARK:
            # the common word: plain characters up to a metacharacter or the end
            j = marks.find(_RUN_MARK, start + 1)
            if j < 0:
                j = n
            c = s[j] if j < n else " "
            if c in _METACHARS and not ((c == "<" or c == ">") and s.startswith("()", j + 1)):
                self.i = j
                text = s[start:j]
                return Word(text, start, j, pieces=[("l", text)])
        w = Word(start=start)
        pieces = w.pieces
        while self.i < n:
            c = s[self.i]
            if c in _METACHARS:
                if (c == "<" or c == ">") and pieces and s.startswith("()", self.i + 1):
                    self.i += 3  # an empty process substitution inside a word: pi<()ng
                    pieces.append(("x", ""))
                    continue
                break
            if c == "'":
                end = s.find("'", self.i + 1)
                end = n if end < 0 else end
                chunk = s[self.i + 1:end]
                self.i = end + 1
                w.quoted = True
                if chunk:
                    pieces.append(("q", chunk))
                else:
                    self.script.empty_quotes += 1
                    pieces.append(("z", ""))
                continue
            if c == '"':
                before = len(w.expansions) + int(w.substitution)
                chunk, empty = self._double_quoted(w, depth)
                w.quoted = True
                if empty:
                    self.script.empty_quotes += 1
                    pieces.append(("z", ""))
                elif chunk:
                    pieces.append(("q", chunk))
                elif len(w.expansions) + int(w.substitution) > before:
                    pieces.append(("x", w.expansions[-1] if w.expansions else ""))
                continue
            if c == "\\":
                if self.i + 1 >= n:
                    self.i += 1
                    break
                nxt = s[self.i + 1]
                self.i += 2
                if nxt != "\n":
                    pieces.append(("e", nxt))
                continue
            if c == "`":
                end = self._backtick_end(self.i + 1)
                inner = s[self.i + 1:end]
                self.script.substitutions += 1
                w.substitution = True
                if depth < MAX_DEPTH and inner.strip():
                    self._sublex(inner, self.i + 1, "`", depth + 1)
                self.i = min(n, end + 1)
                pieces.append(("x", "`"))
                continue
            if c == "$":
                handled = self._dollar(w, pieces, depth)
                if handled == "ifs":
                    break
                if handled:
                    continue
                _literal(pieces, "$")
                self.i += 1
                continue
            if c == "{":
                # a brace expansion ({a,b} or {1..9}) is short; looking further for its
                # close would make a run of "{" quadratic
                close = s.find("}", self.i + 1, self.i + 2 + _MAX_BRACE)
                if close > 0:
                    inner = s[self.i + 1:close]
                    if ("," in inner or ".." in inner) and _BRACE_BREAKERS.isdisjoint(inner):
                        w.brace = True
            elif c in "*?[":
                w.glob = True
            elif c == "^" and pieces and self.i + 1 < n and s[self.i + 1] not in _METACHARS:
                w.carets = True
            # a run of plain characters
            j = marks.find(_RUN_MARK, self.i + 1)
            if j < 0:
                j = n
            _literal(pieces, s[self.i:j])
            self.i = j
        if self.i == start:
            return None
        w.end = self.i
        w.text = (pieces[0][1] if len(pieces) == 1 and pieces[0][0] != "x"
                  else "".join(t for k, t in pieces if k != "x"))
        w.whole_quoted = len(pieces) == 1 and pieces[0][0] == "q"
        w.broken = len(pieces) >= 2 and bool(w.text) and any(k != "l" for k, _ in pieces)
        return w

    def _double_quoted(self, w: Word, depth: int) -> tuple[str, bool]:
        s, n = self.s, self.n
        i = self.i + 1
        out: list[str] = []
        while i < n:
            c = s[i]
            if c == '"':
                i += 1
                break
            if c == "\\" and i + 1 < n and s[i + 1] in '"\\$`\n':
                if s[i + 1] != "\n":
                    out.append(s[i + 1])
                i += 2
                continue
            if c == "`":
                end = self._backtick_end(i + 1)
                self.script.substitutions += 1
                w.substitution = True
                if depth < MAX_DEPTH and s[i + 1:end].strip():
                    self._sublex(s[i + 1:end], i + 1, "`", depth + 1)
                i = min(n, end + 1)
                continue
            if c == "$":
                self.i = i
                inner: list[tuple[str, str]] = []
                handled = self._dollar(w, inner, depth, in_quotes=True)
                if handled:
                    out.extend(t for k, t in inner if k != "x")
                    i = self.i
                    continue
            out.append(c)
            i += 1
        empty = i == self.i + 2
        self.i = i
        return "".join(out), empty

    def _backtick_end(self, i: int) -> int:
        s, n = self.s, self.n
        while i < n:
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c == "`":
                return i
            i += 1
        return n

    def _sublex(self, text: str, offset: int, sep: str, depth: int) -> None:
        sub = _Lexer(text)
        sub.script = Script(text)
        sub.words = self.words
        try:
            sub.parse_list("subst", sep, depth, "")
        finally:
            for cmd in sub.script.commands:
                _shift(cmd, offset)
                self.script.commands.append(cmd)
            self.script.substitutions += sub.script.substitutions
            self.script.empty_quotes += sub.script.empty_quotes
            self.script.ifs = self.script.ifs or sub.script.ifs
            self.words = sub.words
        if len(self.script.commands) > MAX_COMMANDS:
            raise _Budget

    def _dollar(self, w: Word, pieces: list[tuple[str, str]], depth: int, in_quotes: bool = False) -> str | bool:
        """Handle a `$` at self.i; return False if it is a literal dollar."""
        s, n = self.s, self.n
        i = self.i
        nxt = s[i + 1] if i + 1 < n else ""
        if nxt == "(":
            if s.startswith("((", i + 1):  # arithmetic $(( ))
                self.i = self._skip_balanced(i + 3, "(", ")", 2)
                inner = s[i + 3:max(i + 3, self.i - 2)].strip()
                if inner.isascii() and inner.isdigit() and len(inner) <= 12:  # not "²": int() refuses it
                    pieces.append(("v", str(int(inner))))  # $((7)) is "7"
                else:
                    w.expansions.append("((")
                    pieces.append(("x", "(("))
                return True
            self.i = i + 2
            self.script.substitutions += 1
            w.substitution = True
            before = len(self.script.commands)
            if depth < MAX_DEPTH:
                self.parse_list("subst", "$(", depth + 1, ")")
            else:
                self.i = self._skip_balanced(self.i, "(", ")", 1)
            pieces.append(("x", "$(" if len(self.script.commands) > before else ""))
            return True
        if nxt == "{":
            close = self._skip_balanced(i + 2, "{", "}", 1)
            inner = s[i + 2:close - 1] if close <= n and s[close - 1:close] == "}" else s[i + 2:close]
            self.i = close
            name_end = 0
            while name_end < len(inner) and inner[name_end] in _NAME_CHARS:
                name_end += 1
            name = inner[:name_end] or inner[:1]
            if name == "IFS" and not in_quotes:
                return self._ifs(w)
            known = _known_substring(name, inner[name_end:])
            if known is not None:  # ${PATH:0:1} is "/": a slash spelled without one
                w.expansions.append(name)
                pieces.append(("v", known))
                return True
            w.expansions.append(name or "{}")
            pieces.append(("x", name))
            if ("$(" in inner or "`" in inner) and depth < MAX_DEPTH:
                self._sublex(inner, i + 2, "${", depth + 1)
            return True
        if nxt == "[":  # old arithmetic $[ ]
            self.i = self._skip_balanced(i + 2, "[", "]", 1)
            w.expansions.append("[")
            pieces.append(("x", "["))
            return True
        if nxt == "'" and not in_quotes:  # ANSI-C quoting $'...'
            text, end = _ansi_c(s, i + 2)
            pieces.append(("q", text) if text else ("z", ""))
            w.quoted = True
            self.i = end
            return True
        if nxt == '"' and not in_quotes:  # locale string $"..."
            self.i = i + 1
            chunk, _ = self._double_quoted(w, depth)
            pieces.append(("q", chunk) if chunk else ("z", ""))
            w.quoted = True
            return True
        if nxt and nxt in _NAME_START:
            j = i + 2
            while j < n and s[j] in _NAME_CHARS:
                j += 1
            name = s[i + 1:j]
            self.i = j
            if name == "IFS" and not in_quotes:
                return self._ifs(w)
            w.expansions.append(name)
            pieces.append(("x", name))
            return True
        if nxt and nxt in _SPECIAL_PARAMS:
            self.i = i + 2
            w.expansions.append(nxt)
            pieces.append(("x", nxt))
            return True
        return False

    def _ifs(self, w: Word) -> str:
        """$IFS splits words: end this word here; the next read starts fresh."""
        w.ifs = True
        self.script.ifs = True
        return "ifs"


def _known_substring(name: str, operator: str) -> str | None:
    """The value of `${NAME:0:N}` when NAME always holds an absolute path: "/".

    Payloads spell a slash this way (${PATH:0:1}bin${PATH:0:1}sh) so that no
    `/` appears in the request; the first character of these variables is
    always "/", so the word can be read as the shell will run it.
    """
    if name not in _SLASH_VARIABLES or not operator.startswith(":"):
        return None
    offset, colon, length = operator[1:].partition(":")
    if offset.strip() != "0" or not colon or not (length.strip().isascii() and length.strip().isdigit()) \
            or len(length) > 12 or int(length) < 1:
        return None
    return "/"


def _literal(pieces: list[tuple[str, str]], text: str) -> None:
    if pieces and pieces[-1][0] == "l":
        pieces[-1] = ("l", pieces[-1][1] + text)
    else:
        pieces.append(("l", text))


def _ansi_c(s: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    n = len(s)
    while i < n:
        c = s[i]
        if c == "'":
            return "".join(out), i + 1
        if c == "\\" and i + 1 < n:
            e = s[i + 1]
            if e in _ANSI_ESCAPES:
                out.append(_ANSI_ESCAPES[e])
                i += 2
                continue
            decoded = numeric_escape(s, i)
            if decoded is not None:
                out.append(decoded[0])
                i = decoded[1]
                continue
            out.append(e)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out), n


def _shift(cmd: Command, offset: int) -> None:
    """Move offsets by `offset`; never below 0 (the injected quote prefix sits before the value)."""
    cmd.start = max(0, cmd.start + offset)
    cmd.end = max(0, cmd.end + offset)
    for w in cmd.words:
        w.start = max(0, w.start + offset)
        w.end = max(0, w.end + offset)
    for r in cmd.redirects:
        r.start = max(0, r.start + offset)
        if r.target is not None:
            r.target.start = max(0, r.target.start + offset)
            r.target.end = max(0, r.target.end + offset)


def tokenize(value: str, prefix: str = "") -> Script:
    """Read `value` as a shell command line.

    `prefix` is prepended first: "'" or '"' reads the value as if it had been
    spliced inside a quoted string (the attacker's first quote then closes it).
    Never raises; a hit limit sets `Script.truncated`.
    """
    src = prefix + value[:MAX_INPUT]
    lx = _Lexer(src)
    lx.script.truncated = len(value) > MAX_INPUT
    try:
        lx.parse_list("start", "", 0, "")
    except _Budget:
        lx.script.truncated = True
    except RecursionError:  # pragma: no cover - depth is capped well below this
        lx.script.truncated = True
    if prefix:
        p = len(prefix)
        for cmd in lx.script.commands:
            _shift(cmd, -p)
        lx.script.source = src[p:]
    return lx.script


def expand_braces(text: str, limit: int = 16) -> list[str]:
    """Bash brace expansion of one word ({a,b}c → ac bc), bounded by `limit` results."""
    out: list[str] = []
    pending = [text]
    steps = 0
    while pending and len(out) < limit and steps < 64:
        steps += 1
        t = pending.pop(0)
        open_at = -1
        level = 0
        split_at: list[int] = []
        close_at = -1
        for k, ch in enumerate(t):
            if ch == "{":
                if level == 0:
                    open_at = k
                    split_at = []
                level += 1
            elif ch == "}" and level:
                level -= 1
                if level == 0:
                    if split_at:
                        close_at = k
                        break
                    open_at = -1
            elif ch == "," and level == 1:
                split_at.append(k)
        if close_at < 0:
            out.append(t)
            continue
        pre, post = t[:open_at], t[close_at + 1:]
        bounds = [open_at, *split_at, close_at]
        alts = [t[bounds[j] + 1:bounds[j + 1]] for j in range(len(bounds) - 1)]
        pending[0:0] = [pre + a + post for a in alts][: limit]
    return [t for t in out if t][:limit]
