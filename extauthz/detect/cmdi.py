"""OS command injection, recognised by reading the value as a shell command line.

Finding class: "rce". Rule ids:
  cmdi.reverse-shell        a connection back to the attacker (/dev/tcp/…, nc -e)
  cmdi.obfuscated-command   a command word hidden by quotes, escapes, empty
                            expansions, ${IFS}, globs, braces or ^ (c'a't, /???/c?t),
                            or run from a variable the value sets (X=…;$X)
  cmdi.chained-command      a separator (; | || && & newline) followed by a command
  cmdi.substitution         a command inside $( ), backticks or <( )
  cmdi.command-line         the value is itself a hostile command line
                            (cat /etc/passwd, ping -n 30 127.0.0.1)
  cmdi.command-chain        several commands joined by separators
  cmdi.windows-batch        cmd.exe FOR /F … DO and IF EXIST/ERRORLEVEL/== statements
  cmdi.glob-path            a sensitive path spelled with globs (/etc/pa[s]swd)
  cmdi.fork-bomb            a shell function that calls itself through a pipe (:(){ :|:& };:)
  cmdi.alias                an alias defined for a command (alias a=curl), or any
                            `alias NAME=VALUE` in a short value
  cmdi.shell-syntax         shell-only syntax without a recognised command (MEDIUM)
  cmdi.arithmetic-probe     constant shell arithmetic ($((7*7)), $[2+2]): a blind probe
  cmdi.template             a scanner's injection template whose command is still the
                            placeholder (`;{cmd}`, `|{cmd}|`, `$({cmd})`)

The decision is structural: a command position (the start of the value, after
a separator, inside a substitution or a group) must hold a plausible command
word from extauthz/rules/shell_commands.txt, and everyday words ("cat", "time",
"find") need company (arguments that look like a command line, obfuscation, a
pipe into a shell, a value that is nothing but the command). So prose with
"&", ";" or "|", URLs with "&", and "cat" or "id" alone pass. The value is read
as-is, and as if it had been spliced inside a single- or double-quoted string
(after the attacker's closing quote only commands after a separator count);
also with `+` read as a space and a literal backslash-n as a line break (how
a payload reads to an application that decodes it once more).
Wrappers are followed to the command they run (time, nohup, sudo, env … and
the sqlite3 shell's `.shell`/`.system` lines).

Text that names programs stays at most MEDIUM (needs company) unless the
arguments carry strong evidence: a command whose arguments read as a sentence
or a title ("rsync for commercial cloud storage", "tmux session manager"; a
capitalised Unix name as in "CURL module for PHP" after one plain word: the
shell is case-sensitive, cmd.exe is not), a group opened by " (" after a word
("library (openssl)": sh rejects `word (…)`, prose writes asides so), and a
Markdown code span around an everyday command with no arguments ("colorful
`cat`"). Options, subcommand verbs (pip3 install x) and paths keep a command
line a command line; vocabulary in extauthz/rules/shell_prose.yaml.
"""
from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from dataclasses import dataclass, replace
from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.finding import Finding, Severity, excerpt
from extauthz.lang.batch import find_statement
from extauthz.lang.commands import (CommandInfo, command_table, is_bin_dir, path_list,
                                    split_command_word)
from extauthz.lang.glob import has_magic
from extauthz.lang.markup import is_document, mask_code_spans, mask_tags
from extauthz.lang.shell import Command, Redirect, Script, Word, expand_braces, tokenize
from extauthz.rules import rule_lines, rule_words

MAX_WRAPPER_HOPS = 3
MAX_REREAD = 1024  # longest value also read with `+` as a space and `\\n` as a line break
MAX_VARIABLES = 64
MAX_GLOB_MATCHES = 16  # glob patterns matched against the vocabularies per value (all readings)
_GLOB_BUDGET: ContextVar[list[int]] = ContextVar("cmdi_glob_budget")
_IN_DOCUMENT: ContextVar[bool] = ContextVar("cmdi_in_document")  # set by assess: extauthz.lang.markup.is_document
_DOCUMENT_LINE = "a line of a document's code example"
_FROM_VARIABLE = "variable holding a command"

# Variables every shell has that hold a command.
_WELL_KNOWN_VARIABLES = {"SHELL": "sh", "BASH": "bash", "COMSPEC": "cmd", "comspec": "cmd", "ZSH_NAME": "zsh"}
_CODE_OPTIONS = frozenset({"-c", "-e", "-r", "-i", "/c", "/k", "-command", "-enc", "-encodedcommand",
                           "-exec", "-ex", "-eval", "-wrapper", "-m", "-x", "-nop", "-noprofile",
                           "-windowstyle", "-w", "-executionpolicy", "-ep"})
# Modules that `python -m` turns into a shell, a server or a listener (everything else: a module by name)
_RISKY_MODULES = frozenset({"pty", "http.server", "simplehttpserver", "cgihttpserver", "smtpd", "aiosmtpd",
                            "pyftpdlib", "code", "idlelib.idle", "pdb", "timeit", "trace", "cprofile", "profile",
                            "runpy", "webbrowser", "telnetlib", "xmlrpc.server", "socketserver"})
_SHELL_ESCAPES = frozenset({"vi", "vim", "ex", "view", "gdb", "less", "more", "man", "ftp", "ed"})
# cmd.exe variables that hold a command (%COMSPEC% /c whoami)
_WINDOWS_VARIABLES = {"%comspec%": "cmd", "%comspec:~0%": "cmd"}
_CHAIN_OPERATORS = frozenset({";", "|", "&", "&&", "||"})
_DASHES = frozenset({"-", "--", "/", "&", "\u2013", "\u2014"})  # punctuation between words of text ("Go / Python")
# Evasions are deliberate: a sentence or a parenthetical does not hide its words.
_DELIBERATE = frozenset({"cmdi.obfuscated-command", "cmdi.reverse-shell", "cmdi.glob-path", "cmdi.alias"})
_DOT_COMMANDS = frozenset({".shell", ".system"})
_NETCAT = frozenset({"nc", "ncat", "netcat", "nc.traditional", "nc.openbsd", "socat"})
_WINDOWS_STYLE = frozenset({
    "cmd", "dir", "del", "copy", "xcopy", "robocopy", "type", "findstr", "tasklist", "taskkill", "net",
    "netsh", "reg", "regedit", "schtasks", "sc", "wmic", "certutil", "bitsadmin", "attrib", "icacls",
    "systeminfo", "ipconfig", "bcdboot", "bcdedit", "md", "rd", "move", "ren", "erase", "start", "call",
    "runas", "forfiles", "powershell", "pwsh", "msiexec", "rundll32", "regsvr32", "mshta", "cscript",
    "wscript", "tracert", "pathping", "vssadmin", "wevtutil", "fsutil", "notepad", "calc", "explorer"})


@dataclass(frozen=True, slots=True)
class Verdict:
    severity: Severity
    rule: str
    start: int
    end: int
    detail: str


@dataclass(slots=True)
class Resolved:
    """A command with its command word looked up."""

    cmd: Command
    word: Word
    info: CommandInfo | None
    args: list[str]
    arg_words: list[Word]
    obfuscated: str  # why the command word counts as hidden, "" if not
    binary_path: bool = False  # written with a bin directory: /usr/bin/id
    wrapped_by: str = ""


# ---------------------------------------------------------------- arguments


def _is_option(t: str, windows: bool) -> bool:
    if len(t) >= 2 and t[0] == "-":
        if t[1] == "-":
            return len(t) > 2 and t[2].isalpha()
        return t[1].isalpha() or (t[1].isdigit() and len(t) <= 3)
    return windows and 2 <= len(t) <= 12 and t[0] == "/" and t[1:].replace(":", "").replace("-", "").isalnum()


def _looks_ip(t: str) -> bool:
    host = t.split("/", 1)[0].split(":", 1)[0].rsplit("@", 1)[-1]
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() and len(p) <= 3 for p in parts)


def _looks_url(t: str) -> bool:
    head, sep, _ = t.partition("://")
    return bool(sep) and head.isalpha() and len(head) <= 10


def _looks_path(t: str) -> bool:
    if t == "/" or len(t) >= 2 and t[0] == "/" and t[1] != "/":
        return True
    if t.startswith(("~/", "./", "../", "\\\\")) and len(t) > 2:
        return True
    if t.startswith("%") and t.find("%", 2) > 0 and t[1:t.find("%", 2)].replace("_", "").isalpha():
        return True  # %SYSTEMROOT%\…
    return len(t) >= 2 and t[0].isalpha() and t[1] == ":" and (len(t) == 2 or t[2] in "\\/")


def _looks_filename(t: str) -> bool:
    stem, dot, ext = t.rpartition(".")
    return bool(dot) and bool(stem) and 1 <= len(ext) <= 4 and ext.isalnum() and not ext.isdigit() \
        and stem.replace("-", "").replace("_", "").replace("/", "").replace(".", "").isalnum()


class _Evidence:
    """What the arguments and redirections of one command say."""

    __slots__ = ("strong", "weak", "reason")

    def __init__(self) -> None:
        self.strong = ""
        self.weak = 0
        self.reason = ""

    def note_strong(self, why: str) -> None:
        if not self.strong or why == "reverse-shell":
            self.strong = why

    def note_weak(self, why: str) -> None:
        self.weak += 1
        if not self.reason:
            self.reason = why


def _arg_evidence(r: Resolved, source: str) -> _Evidence:
    ev = _Evidence()
    paths = path_list()
    info = r.info
    windows = info is not None and (info.name in _WINDOWS_STYLE or info.powershell)
    words_safe = paths.words_safe and not windows
    for i, (t, w) in enumerate(zip(r.args, r.arg_words)):
        if words_safe and t.isalpha():
            continue  # a word of letters is no option, path, file, address or escape (prose's arguments)
        if windows and not w.expansions and w.end <= len(source):
            t = source[w.start:w.end]  # backslashes are path separators in cmd.exe
        low = t.lower()
        value = low.split("=", 1)[1] if "=" in low and not low.startswith(("-", "/")) else low
        if value.startswith(("/dev/tcp/", "/dev/udp/")):
            ev.note_strong("reverse-shell")
        elif paths.sensitive(value):
            ev.note_strong("sensitive path " + t[:40])
        elif w.glob and _glob_allowed() and paths.sensitive_glob(value):
            ev.note_strong("globbed path " + t[:40])
        elif _is_option(t, windows):
            if info is not None and info.name in _NETCAT and low in ("-e", "-c"):
                ev.note_strong("reverse-shell")
            elif low == "-m" and info is not None and info.interpreter and i + 1 < len(r.args) \
                    and r.args[i + 1].lower() not in _RISKY_MODULES and _IN_DOCUMENT.get(False):
                # `python -m pip install x`, `python -m venv .venv` on a line of a README: a module
                # run by name, as every install section says; a shell, a server or a listener by
                # -m stays strong, and so does -m in a short value (`; python -m pip install evil`)
                ev.note_weak("module run by -m")
            elif info is not None and (info.interpreter or info.shell) and low in _CODE_OPTIONS \
                    and (i + 1 < len(r.args) or low in ("-enc", "-encodedcommand")):
                ev.note_strong("code run by " + low)
            else:
                ev.note_weak("option " + t[:20])
        elif _looks_url(low) or _looks_ip(low):
            ev.note_weak("network address")
        elif _looks_path(t):
            ev.note_weak("path " + t[:40])
        elif _looks_filename(t) and info is not None:
            ev.note_weak("file " + t[:40])
        elif info is not None and info.name in _SHELL_ESCAPES and "!" in t[:4] and len(t) > 2:
            ev.note_strong("shell escape " + t[:20])  # vim +silent\ !whoami, gdb -ex !id
    for rd in r.cmd.redirects:
        target = rd.target.text if rd.target is not None else ""
        low = target.lower()
        if _end_tag(rd, source):
            continue
        if low.startswith(("/dev/tcp/", "/dev/udp/")):
            ev.note_strong("reverse-shell")
        elif rd.op in (">&", "<&") and target.isdigit():
            ev.note_weak("descriptor redirect")
        elif rd.op == "<<<":
            ev.note_weak("here-string")
        elif paths.sensitive(low) or _looks_path(target) or _looks_filename(target):
            ev.note_weak("redirect to " + target[:30])
    return ev


# ---------------------------------------------------------------- command words


def _command_dir(directory: str) -> bool:
    """Whether a command word's directory can hold programs (/bin, ./, C:\\Windows)."""
    if not directory or directory in (".", "~", "..") or is_bin_dir(directory) or has_magic(directory):
        return True
    segments = directory.replace("\\", "/").rstrip("/").split("/")
    return any(s.endswith("bin") or s in ("system32", "syswow64", "windows") for s in segments)


def _lookup(text: str, w: Word) -> tuple[CommandInfo | None, str, bool]:
    """(command, why hidden, written with a bin directory) for one candidate word text."""
    table = command_table()
    if w.carets:
        text = text.replace("^", "")
    directory, base = split_command_word(text)
    if not base or not _command_dir(directory):
        return None, "", False
    info = table.lookup(base)
    why = ""
    # a glob written in the word, or one an unquoted expansion brings in (g=adduse[r];$g)
    # a glob of nothing but wildcards and bracket expressions (a bullet "\n * item", a tag
    # "[powerpc*]") names no command: it expands to whatever the directory holds; /???/c?t, wh*mi
    # and /*/id spell one out
    if info is None and (w.glob or (w.expansions and not w.quoted)) and has_magic(base) \
            and (directory or _glob_literal(base) and not _emphasis(base)) \
            and (table.glob_known(base) or _glob_allowed()):
        info = table.match_glob(base)
        why = "glob"
    bin_path = bool(directory) and is_bin_dir(directory)
    if bin_path and has_magic(directory):
        why = why or "globbed directory"
    return info, why, bin_path


def _emphasis(word: str) -> bool:
    """`**Note:**`, `*SYSTEM`, `**c.**`, `*not*` in a markdown or reST document: emphasis,
    stars at a word's edges around letters, not a glob spelling a command (`wh*mi`, `c?t`,
    `/???/c?t` keep theirs; outside documents nothing changes)."""
    if not _IN_DOCUMENT.get(False):
        return False
    core = word.lstrip("*")
    if len(word) - len(core) > 3 or not core[:1].isalpha():
        return False
    core = core.rstrip(".,:;!?)").rstrip("*").rstrip(".,:;!?)")
    return "*" not in core and "?" not in core and "[" not in core


def _glob_literal(pattern: str) -> bool:
    """Whether a glob spells part of a name (c?t, w[h]oami, wh*mi, [c][a]t): a letter or digit
    outside the wildcards, or a bracket expression of one character. One that fixes none
    ("(???)", "[powerpc*]") runs whatever file of that length the directory holds first."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "[":
            close = pattern.find("]", i + 2)
            if close < 0:
                return True  # an unclosed [ is a literal
            if close - i == 2:
                return True  # [c]: one character
            i = close + 1
            continue
        if c.isalnum():
            return True
        i += 1
    return False


def _first_command(words: list[Word], variables: dict[str, str]) -> tuple[list[str], list[Word], str]:
    """Candidate texts for each word after variable substitution, brace expansion, word splitting."""
    texts: list[str] = []
    out_words: list[Word] = []
    why = ""
    for idx, w in enumerate(words):
        if w.expansions and not w.quoted:
            if not w.text and all(k == "x" and t not in variables for k, t in w.pieces):
                if not out_words:
                    continue  # an empty unquoted expansion vanishes: "$u wget" runs wget
            substituted = w.with_variables(variables)
            if substituted != w.text and substituted.strip():
                parts = substituted.split()
                if not out_words and not w.text:
                    why = _FROM_VARIABLE
                texts.extend(parts)
                out_words.extend([w] * len(parts))
                continue
        if w.brace and not out_words:
            expanded = expand_braces(w.text)
            if expanded and expanded != [w.text]:
                why = "brace expansion"
                texts.extend(expanded)
                out_words.extend([w] * len(expanded))
                continue
        texts.append(w.text)
        out_words.append(w)
    return texts, out_words, why


def _resolve(cmd: Command, variables: dict[str, str], aliases: dict[str, str]) -> Resolved | None:
    texts, words, why0 = _first_command(cmd.words, variables)
    if not texts:
        return None
    hops = 0
    wrapped_by = ""
    k = 0
    while True:
        w, text = words[k], texts[k]
        if text.lower() in aliases:
            text = aliases[text.lower()]
            why0 = why0 or "alias"
        elif text.lower() in _WINDOWS_VARIABLES:
            text = _WINDOWS_VARIABLES[text.lower()]
            why0 = why0 or "a variable holding a command"
        dot = _dot_command(texts, k)
        if dot and hops < MAX_WRAPPER_HOPS:
            wrapped_by, hops, k = "sqlite3 ." + texts[dot - 1].strip("\"'.").lower(), hops + 1, dot
            continue
        info, why, bin_path = _lookup(text, w)
        if info is None and w.expansions and "_" in "".join(t for _, t in w.pieces):
            info, why, bin_path = _lookup(w.special_underscore(), w)  # c$_at
        if info is None:
            return Resolved(cmd, w, None, texts[k + 1:], words[k + 1:], why0 or why, bin_path, wrapped_by)
        why = why0 or why
        if not why:
            if w.broken:
                why = ("a variable's known value" if any(k == "v" for k, _ in w.pieces) and w.expansions
                       else "empty expansion" if w.expansions else "quotes or escapes inside the word")
            elif w.carets:
                why = "caret escapes"
            elif w.ifs:
                why = "$IFS"
        if info.wrapper and hops < MAX_WRAPPER_HOPS and k + 1 < len(texts):
            j = k + 1  # time/nohup/sudo/env …: the real command follows its options
            while j < len(texts) and (texts[j].startswith("-") or (info.name == "env" and "=" in texts[j])
                                      or texts[j].isdigit()):
                j += 1
            if j < len(texts):
                inner, _, _ = _lookup(texts[j], words[j])
                if inner is not None:
                    wrapped_by, hops, k, why0 = info.name, hops + 1, j, why
                    continue
        return Resolved(cmd, w, info, texts[k + 1:], words[k + 1:], why, bin_path, wrapped_by)


def _capitalised(r: Resolved) -> bool:
    """A Unix command word written capitalised (Axel Smith, Finger Food): a name or prose.

    Unix commands are lower case; cmd.exe ignores case, so Windows commands are exempt.
    """
    t = r.word.text
    return len(t) >= 2 and t[0].isupper() and t[1:].islower() and r.info is not None \
        and r.info.name not in _WINDOWS_STYLE and not r.info.powershell


def _foreign_case(r: Resolved) -> bool:
    """A Unix command word with capitals (MySQL, OpenSSL, CURL): a name in text.

    The shell looks commands up case-sensitively and Unix command names are
    lower case, so `MySQL backend` runs nothing on Linux; cmd.exe and
    PowerShell ignore case, so their commands are exempt.
    """
    t = r.word.text
    return r.info is not None and any(c.isupper() for c in t) and r.info.name not in _WINDOWS_STYLE \
        and not r.info.powershell


_REGEX_FLAGS = frozenset("aiLmsux")


def _regex_flag_group(word: Word, source: str) -> bool:
    """`(?i)` or `(?s:` in a regular expression (a validation pattern, a log filter): `?` and one
    to three flag letters right after `(` and right before `)` or `:`. A shell would expand the
    glob against the current directory's file names, not run a command; the value is a regex."""
    t = word.text
    if not (2 <= len(t) <= 4 and t[0] == "?" and all(c in _REGEX_FLAGS for c in t[1:]) and word.start > 0
            and source[word.start - 1] == "(" and source[word.end:word.end + 1] in (")", ":")):
        return False
    # `$(?s)`, `<(?s)`, `;(?s)`: a substitution or a subshell after a separator stays shell
    return word.start < 2 or source[word.start - 2] not in "$<>;|&`\n"


def _upper_case_code(r: Resolved) -> bool:
    """The whole value is an upper-case word and one or two upper-case codes holding three digits
    or more: a licence plate, a state and zip code, a model or a form number (GSV 505,
    SG 4289 TH, NC 8X699, NC 27601), not a command line; such codes are no arguments that make
    a command do harm (`SLEEP 5`, with one digit, stays a probe; an address has dots, an option
    a dash first)."""
    t = r.word.text
    if not (len(t) >= 2 and t.isalpha() and t.isupper() and 1 <= len(r.args) <= 2) \
            or r.obfuscated or r.wrapped_by or r.binary_path:
        return False
    return all(a[:1].isalnum() and all(c.isdigit() or "A" <= c <= "Z" or c in "-/" for c in a) for a in r.args) \
        and sum(c.isdigit() for a in r.args for c in a) >= 3


def _plain_word(t: str) -> bool:
    """A word of text ("library", "sh-compatible", "Python3,", "to/from"): letters first, no path,
    option or address."""
    w = t.strip(".,:;!?\"'")
    return all(len(p) >= 2 and p[0].isalpha() and p[1].isalpha() and p.replace("-", "").isalnum()
               for p in w.split("/", 1))


def _before_aside(cmds: list[Command], idx: int) -> bool:
    """Whether a parenthetical aside follows the command's words ("GPS mapping (GeoTiff) and …"):
    `word (…)` does not parse in sh, so neither side of it runs."""
    return idx + 1 < len(cmds) and cmds[idx + 1].parenthetical and cmds[idx + 1].context == "group" \
        and cmds[idx + 1].depth == cmds[idx].depth + 1


def _code_span(source: str, cmd: Command) -> bool:
    """A Markdown code span: backticks around the command, set off from the text by spaces or
    punctuation ("a colorful `cat`", "(see `less`)"), not glued to a word as `x`id`` is."""
    i, j = cmd.start - 1, cmd.end  # (walks over blanks only: no copy of the value per command)
    while i >= 0 and source[i] in " \t":
        i -= 1
    while j < len(source) and source[j] in " \t":
        j += 1
    if i < 0 or source[i] != "`" or source[j:j + 1] != "`":
        return False
    outer_before, outer_after = source[i - 1:i] if i else "", source[j + 1:j + 2]
    return outer_before in ("", " ", "\t", "\n", "(", "[", '"', "'") \
        and outer_after in ("", " ", "\t", "\n", ")", "]", ".", ",", ":", "!", "?", '"', "'")


def _reads_as_sentence(r: Resolved) -> bool:
    """Whether a command's arguments are words of text ("telnet client with SSL support",
    "bzip2 is a freely available data compressor"): a description of the program, not a run
    of it. A command line's arguments are options, paths, files, addresses, numbers and
    verbs (pip3 install x); a sentence's are mostly plain words: one after a capitalised
    name, two with a function word of English, else three (extauthz/rules/shell_prose.yaml).
    Connectives no command takes as an argument (to, with, the, when) make a sentence even
    around options and paths it names ("Set CFLAGS to -g -O2 for build", "Mount /proc with
    -o compatible on HURD only")."""
    if not r.args or r.cmd.context == "sep" and r.cmd.sep in _CHAIN_OPERATORS:
        return False  # after ; | & && || a command is what an injection writes, words or not
    if any(_looks_url(t.lower()) or _looks_ip(t.lower()) for t in r.args):
        return False  # a fetch from an address is the payload, however many words pad it
    if _connected(r.args):
        return True  # "Call python with -S when checking …": a wrapper's too
    if r.wrapped_by:
        return False
    if any(_is_option(t, False) for t in r.args):
        return False
    verbs = rule_words("shell_prose.yaml", "verbs")
    if any(t.lower() in verbs for t in r.args[:2]):
        return False
    args = [t for t in r.args if t not in _DASHES]
    plain = [t.strip(".,:;!?\"'").lower() for t in args if _plain_word(t) or t.lower() in ("a", "i")]
    if len(plain) <= len(args) - len(plain):
        return False
    if _foreign_case(r):
        return len(plain) >= 1
    glue = rule_words("shell_prose.yaml", "glue")
    return len(plain) >= 3 or len(plain) >= 2 and (any(t in glue for t in plain) or _noun_head(plain[-1]))


def _connected(args: list[str]) -> bool:
    """Connectives of English among mostly plain words (the options and paths are named)."""
    connectives = rule_words("shell_prose.yaml", "connectives")
    found = sum(1 for t in args if t.strip(".,:;!?\"'()").lower() in connectives)
    plain = sum(1 for t in args if _plain_word(t))
    return found >= 1 and plain > len(args) - plain


def _noun_head(word: str) -> bool:
    """A noun closing a title ("session manager", "client library", "recovery toolkit"): a
    program named, as in a package's one-line description, rather than an argument given."""
    return len(word) >= 5 and word.endswith(_noun_endings())


@lru_cache(maxsize=1)
def _noun_endings() -> tuple[str, ...]:
    return tuple(sorted(rule_words("shell_prose.yaml", "noun_endings")))


def _program_name(text: str) -> bool:
    """Whether a word written with a bin directory (/usr/bin/xyz) names a program, not a file."""
    directory, base = split_command_word(text)
    if not directory.startswith(("/", "c:", "%")) or has_magic(directory):
        return False  # bin/setup is a relative download path more often than a program
    stem = base[:-4] if base.endswith((".exe", ".com")) else base
    return 1 <= len(stem) <= 32 and stem[:1].isalpha() and stem.replace("-", "").replace("_", "").isalnum()


def _dot_command(texts: list[str], k: int) -> int:
    """Index of the command an sqlite3 `.shell`/`.system` at texts[k] runs, else 0.

    The sqlite3 shell runs the rest of such a line as an OS command; an
    application that pipes input into sqlite3 is injected this way
    (`1;.shell id`, also written `."shell` or `. shell`).
    """
    word = texts[k].replace('"', "").replace("'", "").lower()
    if word in _DOT_COMMANDS and k + 1 < len(texts):
        return k + 1
    if word == "." and k + 2 < len(texts) and texts[k + 1].lower() in ("shell", "system"):
        return k + 2
    return 0


def _prose_words(script: Script) -> int:
    """Ordinary words in the value: many of them mean text, not a command line.

    Everyday words that are also commands ("Java", "more") count as prose too;
    only unambiguous command names do not.
    """
    table = command_table()
    count = 0
    for cmd in script.commands:
        for w in cmd.words:
            t = w.text.strip(".,!?:;'\"()")
            if len(t) >= 2 and t.isalpha():
                info = table.lookup(t.lower())
                if info is None or info.weak:
                    count += 1
    return count


def _inner_script(r: Resolved) -> str:
    """The script a shell runs with -c (sh -c '…', cmd /c "…"), if short enough to read."""
    for i, t in enumerate(r.args[:-1]):
        if t.lower() in ("-c", "/c", "/k", "-command"):
            inner = r.args[i + 1]
            return inner if len(inner) <= 1024 else ""
    return ""


def _word_chars(cmd: Command) -> int:
    return sum(len(w.text) for w in cmd.words)


def _split_inside(w: Word) -> bool:
    """Whether an evasion sits between two literal parts (c$@at), not just at an end (ar$a)."""
    kinds = [k for k, _ in w.pieces]
    return any(k != "l" for k in kinds[1:-1]) or (len(kinds) >= 2 and "l" not in kinds)


_ARITHMETIC = frozenset("0123456789+-*/%() \t")
_OPERATORS = frozenset("+-*/%")


def _arithmetic_probe(value: str) -> Verdict | None:
    """$((7*7)) or $[2+2]: constant arithmetic that only a shell evaluates.

    A blind probe, like {{7*7}} for templates: the attacker looks for the
    result in the page. Only constant expressions (digits and operators).
    """
    for opener, closer in (("$((", "))"), ("$[", "]")):
        at = value.find(opener)
        tries = 0
        while at >= 0 and tries < 16:
            tries += 1
            lo = at + len(opener)
            end = value.find(closer, lo, lo + 64)
            inner = value[lo:end] if end > lo else ""
            if inner and all(c in _ARITHMETIC for c in inner) and any(c.isdigit() for c in inner) \
                    and any(c in _OPERATORS for c in inner.strip().lstrip("+-")):
                return Verdict(Severity.HIGH, "cmdi.arithmetic-probe", at, end + len(closer),
                               f"shell arithmetic {opener}{inner[:20]}{closer}")
            at = value.find(opener, at + len(opener))
    return None


_PLACEHOLDER = "{cmd}"
# What puts the placeholder in a command position: separators, substitutions, redirections, a
# cmd.exe caret, a variable assignment run later (`CMD=$'{cmd}';$CMD`)
_BEFORE_PLACEHOLDER = frozenset(";|&\n\r`(<>^=")


def _template(value: str) -> Verdict | None:
    """`;{cmd}`, `&&{cmd}&&`, `\n{cmd}\n`, `$({cmd})`: a command-injection template from a
    scanner's payload list (fuzzdb writes the command as {cmd}) sent with the placeholder unfilled:
    the frames around it are the probe. The placeholder must sit where a shell reads a command
    (after a separator, inside a substitution, or as the whole value); "{cmd}" in prose or in a
    code sample's format string has words around it."""
    low = value[:1024].lower()
    at = low.find(_PLACEHOLDER)
    tries = 0
    while at >= 0 and tries < 8:
        tries += 1
        k = at
        while k > 0 and low[k - 1] in "'\"$ \t\\":
            k -= 1  # quotes (also escaped), ANSI-C quoting and blanks between the frame and the placeholder
        before = low[k - 1] if k > 0 else ""
        escaped_break = k >= 2 and low[k - 2] == "\\" and before in "nr"  # a literal \n, expanded later
        after = low[at + len(_PLACEHOLDER):]
        alone = not low[:at].strip() and not any(c.isalnum() for c in after)
        framed = before in _BEFORE_PLACEHOLDER and before != ""
        if before == "(":  # $(…), <(…), a subshell; not a function call's argument list
            framed = k < 2 or low[k - 2] in "$<>;|&` \t"
        elif before == "=":  # a variable the value then runs
            framed = "$" in after
        if framed or escaped_break or alone:
            return Verdict(Severity.HIGH, "cmdi.template", k, at + len(_PLACEHOLDER),
                           "command-injection template with its {cmd} placeholder")
        at = low.find(_PLACEHOLDER, at + 1)
    return None


def _fork_bomb(value: str) -> Verdict | None:
    """NAME(){ NAME|NAME& }: a function that pipes into itself."""
    at = value.find("()")
    while 0 <= at < 2048:
        name_start = at
        while name_start > 0 and (value[name_start - 1].isalnum() or value[name_start - 1] in "_:.-"):
            name_start -= 1
        name = value[name_start:at]
        brace = value.find("{", at + 2, at + 8)
        close = value.find("}", brace + 1) if brace >= 0 else -1
        if name and close > 0:
            body = value[brace + 1:close].replace(" ", "").replace("()", "")
            if (name + "|" + name in body or name + "&" + name in body) and len(body) <= 4 * len(name) + 16:
                return Verdict(Severity.HIGH, "cmdi.fork-bomb", name_start, close + 1,
                               f"function {name} calls itself through a pipe")
        at = value.find("()", at + 2)
    return None


# ---------------------------------------------------------------- judging


def _judge(script: Script, kind: str, quoted_mode: bool, nested: int = 0) -> Verdict | None:
    cmds = sorted(script.commands, key=lambda c: c.start)
    if not cmds:
        return None
    variables: dict[str, str] = dict(_WELL_KNOWN_VARIABLES)
    aliases: dict[str, str] = {}
    for c in cmds[:MAX_VARIABLES]:
        for name, value in c.assignments[:8]:
            variables[name] = value[:64]
        if c.words and c.words[0].text == "alias":
            for w in c.words[1:4]:
                name, eq, target = w.text.partition("=")
                if eq and name and target:
                    aliases[name.lower()] = target.strip("'\"")[:64]
    table = command_table()
    resolved = [_resolve(c, variables, aliases) for c in cmds]
    prose = _prose_words(script)
    all_chars = sum(_word_chars(c) for c in cmds)
    source = script.source
    best: Verdict | None = None

    # why the command being judged reads as text, not a command line, and how far its verdicts may go
    cap, ceiling = "", Severity.MEDIUM

    def consider(v: Verdict | None) -> None:
        nonlocal best
        if v is not None and cap and v.severity > ceiling and v.rule not in _DELIBERATE:
            v = replace(v, severity=ceiling, detail=f"{v.detail} ({cap})")
        if v is not None and (best is None or v.severity > best.severity):
            best = v

    for target in aliases.values():
        info = table.lookup(split_command_word(target.split(" ", 1)[0])[1])
        if info is not None:
            consider(Verdict(Severity.HIGH, "cmdi.alias", cmds[0].start, cmds[0].end,
                             f"alias for {info.name}"))
            break
    else:
        if aliases and sum(len(c.words) for c in cmds) <= 6:
            # `alias NAME=VALUE` is shell syntax through and through; in a short value it is the payload
            consider(Verdict(Severity.HIGH, "cmdi.alias", cmds[0].start, cmds[-1].end, "alias defined"))
    separators = sum(1 for c in cmds if c.context != "start")
    sentences = [False] * len(cmds)
    word_pair = _word_pair(cmds, resolved, source)
    for idx, r in enumerate(resolved):
        cmd = cmds[idx]
        span = (cmd.start, max(cmd.end, cmd.start + 1))
        cap, ceiling = ("words joined by ' & ' (head & shoulders)", Severity.MEDIUM) if word_pair \
            else ("", Severity.MEDIUM)
        for w in cmd.words:  # /etc/pa[s]swd anywhere is a spelled-out evasion
            if w.glob and ("[" in w.text or "?" in w.text) and _glob_allowed() and path_list().sensitive_glob(w.text):
                consider(Verdict(Severity.HIGH, "cmdi.glob-path", w.start, w.end, "sensitive path written as a glob"))
                break
        if r is None:
            continue
        if quoted_mode and cmd.context == "start" and cmd.depth == 0:
            continue  # the tail of the string the value was spliced into
        if kind == "path" and cmd.context == "start":
            continue
        ev = _arg_evidence(r, source)
        info = r.info
        if ev.strong == "reverse-shell":
            consider(Verdict(Severity.CRITICAL, "cmdi.reverse-shell", *span, "connection to a remote shell"))
            continue
        if cmd.parenthetical and not ev.strong:
            cap = "a parenthetical after a word, not a subshell"
        elif ev.strong and _foreign_case(r) and _reads_as_sentence(r):
            # "Puppet module for managing /etc/hosts file": the path is the path rules' business
            cap, ceiling = "a capitalised name opening a sentence", Severity.LOW
        elif not ev.strong and cmd.context == "sep" and cmd.sep in ("\n", "\r", "\r\n") and _IN_DOCUMENT.get(False):
            # `apt-get install valgrind`, `make -f build.mk` on a line of a README's code block:
            # installation instructions quoted in a document; a separator, a substitution, a
            # sensitive path or code handed to an interpreter on that line keeps its weight
            cap = _DOCUMENT_LINE
        if info is None:
            if r.obfuscated == _FROM_VARIABLE and cmd.context != "start" and cmd.words[0].expansions:
                # X=…;$X: whatever X holds, running a variable the value itself just set is the evasion
                consider(Verdict(Severity.HIGH, "cmdi.obfuscated-command", *span,
                                 f"command run from ${cmd.words[0].expansions[0]}, set in the value"))
            elif r.binary_path and cmd.context != "start" and _program_name(r.word.text):
                consider(Verdict(Severity.HIGH, "cmdi.chained-command", *span,
                                 f"program {r.word.text[:40]} run after {cmd.sep!r}"))
            elif cmd.context != "start" and ev.strong and not _reads_as_sentence(r) and \
                    not path_list().sensitive(r.word.text.lower()):
                # (not "(/etc/passwd and /etc/group)": a data file is no command, but a list of files
                # named in text; the path rules weigh the paths)
                consider(Verdict(Severity.MEDIUM, "cmdi.shell-syntax", *span, f"unknown command with {ev.strong}"))
            elif cmd.context == "subst" and cmd.sep in ("$(", "<(", ">(") and r.word.text.isalnum() and \
                    len(r.word.text) <= 16 and not _markup_paren(source, cmd):
                consider(Verdict(Severity.MEDIUM, "cmdi.shell-syntax", *span, "command substitution"))
            continue
        name = info.name
        subcommand = info.weak and bool(r.args) and table.is_subcommand(name, r.args[0]) \
            and (len(r.args) >= 2 or cmd.context != "start")  # a value of just "Net Share" is a label
        if subcommand:
            ev.note_weak(f"{name} {r.args[0].lower()[:16]}")  # net localgroup, reg query: the command is meant
        where = name + (f" after {cmd.sep!r}" if cmd.context == "sep" else
                        f" in {cmd.sep}" if cmd.context in ("subst", "group") else " at the start")
        weak = info.weak
        own = 1 if (weak and len(r.word.text) >= 2 and r.word.text.isalpha()) else 0
        if subcommand and r.args[0].isalpha():
            own += 1  # the subcommand is not prose either
        # characters of the words outside this command: a payload has little around it
        payload_shaped = prose - own <= 1 and all_chars - _word_chars(cmd) <= 24
        if r.obfuscated == "glob" and _regex_flag_group(r.word, source):
            continue  # `(?i)`, `(?s)`: a regular expression's inline flags, not a subshell running `vi`, `ls`
        if r.obfuscated and (not weak or r.args or cmd.context != "start"
                             or r.obfuscated not in ("glob", "empty expansion") or _split_inside(r.word)):
            # "sh*t happens": a starred word opening text, with words after it and nothing a
            # command line has (no directory, option, path or separator), is censored prose
            censored = (r.obfuscated == "glob" and cmd.context == "start" and len(cmds) == 1 and "/" not in r.word.text
                        and not ev.weak and r.args and all(_plain_word(t) for t in r.args))
            consider(Verdict(Severity.MEDIUM if censored else Severity.HIGH, "cmdi.obfuscated-command", *span,
                             f"{where}, hidden by {r.obfuscated}"))
            continue
        if nested < 1 and (info.shell or info.name in ("su", "busybox")):
            inner = _inner_script(r)
            if inner:
                v = _judge(tokenize(inner), "query", False, nested + 1)
                if v is not None and v.severity >= Severity.CRITICAL:
                    consider(Verdict(v.severity, v.rule, *span, f"{name} -c: {v.detail}"))
                    continue
        if ev.strong:
            sev = Severity.CRITICAL if cmd.context != "start" or not weak else Severity.HIGH
            consider(Verdict(sev, "cmdi.command-line", *span, f"{where} with {ev.strong}"))
            continue
        if cap in ("", _DOCUMENT_LINE) and not subcommand and (_reads_as_sentence(r) or _before_aside(cmds, idx) and not ev.weak
                                                  and (r.args or _foreign_case(r))):
            cap, sentences[idx] = "its words read as a sentence", True
            # an everyday word opening a sentence ("file and the package …") is just text
            ceiling = Severity.LOW if info.weak else Severity.MEDIUM
        if r.binary_path:
            # a whole value that is only an interpreter's or a shell's path is a setting
            # (interpreter: /usr/local/bin/python3, login shell: /bin/bash), not yet a command
            setting = (cmd.context == "start" and len(cmds) == 1 and not r.args and not ev.weak
                       and (info.interpreter or info.shell))
            consider(Verdict(Severity.MEDIUM if setting else Severity.HIGH, "cmdi.command-line", *span,
                             f"{where}, written with its directory"))
            continue
        if cmd.context == "subst":
            if weak and not r.args and not info.recon and prose - own >= 1 and _code_span(source, cmd):
                consider(Verdict(Severity.MEDIUM, "cmdi.substitution", *span, f"{where}, a code span in text"))
            elif not r.args and not info.recon and cmd.sep == "$(" and _foreign_case(r) and r.word.text.isupper():
                # $(MAKE), $(CC): a Makefile variable; the shell would look for a command named MAKE
                consider(Verdict(Severity.MEDIUM, "cmdi.substitution", *span, f"{where}, a make variable"))
            elif not weak or ev.weak or cmd.sep != "`" or payload_shaped:
                consider(Verdict(Severity.HIGH, "cmdi.substitution", *span, where))
            else:
                consider(Verdict(Severity.MEDIUM, "cmdi.substitution", *span, where))
            continue
        if cmd.context in ("sep", "group"):
            piped_shell = cmd.sep == "|" and info.shell
            if piped_shell and (not weak or payload_shaped):
                consider(Verdict(Severity.HIGH, "cmdi.chained-command", *span, f"{where}: piped into a shell"))
            elif not weak and (payload_shaped or ev.weak or not info.interpreter):
                consider(Verdict(Severity.HIGH, "cmdi.chained-command", *span, where))
            elif ev.weak and (payload_shaped or ev.weak >= 2 or info.powershell):
                consider(Verdict(Severity.HIGH, "cmdi.chained-command", *span, f"{where} with {ev.reason}"))
            elif payload_shaped and cmd.context == "sep" and len(name) >= 2:
                consider(Verdict(Severity.HIGH, "cmdi.chained-command", *span, where))
            elif ev.weak or payload_shaped:
                consider(Verdict(Severity.MEDIUM, "cmdi.chained-command", *span, where))
            continue
        # the value starts with the command
        followed = idx + 1 < len(cmds) and cmds[idx + 1].context == "sep" and not _abbreviation(cmds, resolved, idx, source)
        # `id;`, `whoami|`: the command, then a separator that ends the value (the rest of
        # the application's command line is meant to follow)
        trailing = len(cmds) == 1 and not r.args and source.rstrip(" \t")[-1:] in (";", "|", "&") \
            and (info.recon or not weak) and len(name) >= 2
        if not weak and len(cmds) == 1 and _upper_case_code(r):
            consider(Verdict(Severity.MEDIUM, "cmdi.command-line", *span, f"{where}: upper-case codes (a plate, a zip, a model number)"))
        elif r.wrapped_by and (not weak or ev.weak or not r.args):
            consider(Verdict(Severity.HIGH, "cmdi.command-line", *span, f"{name} run through {r.wrapped_by}"))
        elif not weak and (ev.weak and (not info.interpreter or ev.weak >= 2 or payload_shaped)
                           or info.recon and not r.args and (len(cmds) == 1 or followed)
                           or info.powershell and r.args):
            consider(Verdict(Severity.HIGH, "cmdi.command-line", *span, f"{where} with {ev.reason or 'nothing else'}"))
        elif weak and ev.weak and (payload_shaped or ev.weak >= 2):
            consider(Verdict(Severity.HIGH, "cmdi.command-line", *span, f"{where} with {ev.reason}"))
        elif trailing and not _foreign_case(r):
            consider(Verdict(Severity.HIGH, "cmdi.command-line", *span, f"{where}, then a separator"))
        elif weak and followed and not r.args and payload_shaped and len(name) >= 2 and not _foreign_case(r):
            # `id;`, `cat&`, but not "Fish & Chips": a capitalised Unix name runs nothing
            consider(Verdict(Severity.HIGH, "cmdi.command-line", *span, f"{where}, then a separator"))
        elif not weak and not info.interpreter and r.args and sum(len(c.words) for c in cmds) <= 6 \
                and not _capitalised(r) and not (info.english and len(cmds) == 1 and all(_plain_word(t) for t in r.args)):
            # an unambiguous command with a few arguments is the whole value: a command line
            consider(Verdict(Severity.HIGH, "cmdi.command-line", *span, f"{where} with arguments"))
        elif not weak and not info.interpreter and (r.args or info.recon):
            consider(Verdict(Severity.MEDIUM, "cmdi.command-line", *span, where))
    cap = ""
    if (best is None or best.severity < Severity.HIGH) and separators >= 1 and not word_pair:
        consider(_chain(cmds, resolved, source, sentences))
    if best is None or best.severity < Severity.HIGH:
        found = find_statement(source, lambda word: table.lookup(word) is not None)
        if found is not None:
            consider(Verdict(Severity.HIGH, "cmdi.windows-batch", *found))
    return best


# Commands that tell an attacker something run alone (`x & ls`): never half of a word pair.
_LEAK_ALONE = frozenset({"ls", "dir", "pwd", "env", "printenv", "set", "ps", "w", "who", "top", "history",
                         "hostname", "users", "groups", "last", "netstat", "ifconfig", "ip"})


def _word_pair(cmds: list[Command], resolved: list[Resolved | None], source: str) -> bool:
    """Text that joins two words with a spaced `&` ("head & shoulders", "find & replace", "date &
    time", "yes & no?"): the value is only letters, blanks and one ` & `, the word before it an
    everyday-word command with nothing after it, the words after it no command, or one more
    everyday word that reveals nothing run alone. Its findings are capped at MEDIUM."""
    text = source.strip().rstrip("?!.")
    if len(cmds) != 2 or cmds[1].sep != "&" or text.count("&") != 1 or " & " not in text \
            or not all(c.isalpha() or c in " &'" for c in text):
        return False
    first, second = resolved
    if first is None or first.info is None or not first.info.weak or first.args or first.obfuscated:
        return False
    if second is None or second.info is None:
        return True
    info = second.info
    return info.weak and not info.recon and info.name not in _LEAK_ALONE and not second.obfuscated


def _abbreviation(cmds: list[Command], resolved: list[Resolved | None], idx: int, source: str) -> bool:
    """AT&T, at&t wireless: a single `&` glued between two words, and no known command after it."""
    nxt, r = cmds[idx + 1], resolved[idx + 1]
    amp = cmds[idx].end - 1
    return nxt.sep == "&" and (r is None or r.info is None) and nxt.start == cmds[idx].end \
        and 0 < amp < len(source) - 1 and source[amp] == "&" and source[amp - 1].isalnum() and source[amp + 1].isalnum()


def _chain(cmds: list[Command], resolved: list[Resolved | None], source: str,
           sentences: list[bool]) -> Verdict | None:
    """Several short commands joined by separators make up most of the value (cd /;cd etc;comm passwd).

    Parentheticals after a word and sentences are not commands of a chain
    ("Python client library (Python3)").
    """
    chained = [r for r, c, text in zip(resolved, cmds, sentences)
               if r is not None and r.info is not None and len(r.args) <= 4 and not c.parenthetical and not text
               and not (r.info.powershell and r.info.weak) and len(r.info.name) >= 2]
    if len(chained) < 2:
        return None
    if not any(not r.info.weak or r.info.recon or _arg_evidence(r, source).weak for r in chained if r.info):
        return None
    words_in_chain = sum(1 + len(r.args) for r in chained)
    words_total = sum(len(c.words) for c in cmds)
    if 2 * words_in_chain < words_total:
        return None
    return Verdict(Severity.HIGH, "cmdi.command-chain", cmds[0].start, cmds[-1].end,
                   f"{len(chained)} commands chained: " + ", ".join(r.info.name for r in chained[:4] if r.info))


def _readings(value: str) -> list[tuple[str, str]]:
    """(quote prefix, text) pairs to tokenise: the value as sent and as the application may read it.

    Texts: the value; with `+` as a space (a form-encoded payload decoded once
    more by the application, PHP's urldecode, or sent pre-encoded:
    `;+cat+/etc/passwd`); with a literal backslash-n as a line break (what an
    application that processes escapes, echo -e or printf, runs:
    `\\n/usr/bin/id\\n`). Each text is read as is and, when it has quotes, as
    if spliced inside a quoted string; a dangling opening quote is also skipped.
    """
    texts = [value]
    if len(value) <= MAX_REREAD:  # payloads are short: a long value is read as sent only (bounds the work)
        if "+" in value:
            texts.append(value.replace("+", " "))
        if "\\n" in value or "\\r" in value:
            texts.append(value.replace("\\r", "\r").replace("\\n", "\n"))
    out: list[tuple[str, str]] = []
    for text in texts:
        out.append(("", text))
        if "'" in text:
            out.append(("'", text))
        if '"' in text:
            out.append(('"', text))
        head = text.lstrip()
        if head[:1] in ("'", '"') and head.count(head[0]) == 1:
            out.append(("", head[1:]))  # a dangling opening quote: read what follows it
    return out


def _glob_allowed() -> bool:
    """Whether this assessment may still afford a glob match (each walks a vocabulary: a value
    of hundreds of `;[a-z]*` commands must not cost hundreds of walks)."""
    left = _GLOB_BUDGET.get(None)
    if left is None:
        return True
    left[0] -= 1
    return left[0] >= 0


def assess(value: str, kind: str = "query") -> Verdict | None:
    """The strongest command-injection reading of `value`, or None."""
    token = _GLOB_BUDGET.set([MAX_GLOB_MATCHES])
    document = _IN_DOCUMENT.set(kind not in ("path", "header", "cookie") and is_document(value))
    try:
        return _assess(value, kind)
    finally:
        _IN_DOCUMENT.reset(document)
        _GLOB_BUDGET.reset(token)


def _assess(value: str, kind: str) -> Verdict | None:
    # a rich-text or markdown document: its text is what a payload would be written in,
    # and `code` in it quotes a command (extauthz.lang.markup)
    value = mask_code_spans(mask_tags(value))
    best = _fork_bomb(value) if "()" in value else None
    if "$((" in value or "$[" in value:
        probe = _arithmetic_probe(value)
        if probe is not None and (best is None or probe.severity > best.severity):
            best = probe
    for prefix, text in _readings(value):
        v = _judge(tokenize(text, prefix), kind, bool(prefix))
        if v is not None and (best is None or v.severity > best.severity):
            best = v
            if best.severity >= Severity.CRITICAL:
                break
    if (best is None or best.severity < Severity.HIGH) and "{" in value:
        best = _template(value) or best
    return best


# ---------------------------------------------------------------- detector


_LANGUAGE_CODES = frozenset(w for line in rule_lines("language_codes.txt") for w in line.split())
MAX_UA_COMMENTS = 16


def user_agent_locales(value: str) -> str:
    """A User-Agent with the language items of its product comments blanked ("Opera/9.02 (Windows;
    U; nl)", "(X11; U; tr-TR)"): a locale, not a subshell running nl or tr. Same length, so the
    offsets of what is left still point into the value. Only items that are nothing but a code."""
    out: list[str] | None = None
    start = 0
    for _ in range(MAX_UA_COMMENTS):
        i = value.find("(", start)
        j = value.find(")", i + 1) if i >= 0 else -1
        if j < 0:
            break
        pos = i + 1
        for item in value[i + 1:j].split(";"):
            code = item.strip()
            if len(code) == 5 and code[2] in "-_" and code[3:].isalpha():
                code = code[:2]
            if len(code) == 2 and code.isalpha() and code.islower() and code in _LANGUAGE_CODES:
                if out is None:
                    out = list(value)
                out[pos:pos + len(item)] = " " * len(item)
            pos += len(item) + 1
        start = j + 1
    return value if out is None else "".join(out)


def _trigger_patterns() -> tuple[str, ...]:
    table = command_table()
    names = sorted({n for n in table.by_name if len(n) >= 2 or n == "w"}, key=lambda n: (-len(n), n))
    words = "|".join(_hs_escape(n) for n in names)
    lead = r"[ \t'\"\\({+]*(?:[a-z0-9_./?*\[\]~%:\\-]*[/\\])?"
    tail = r"[0-9.]*(?:[^a-z0-9_-]|$)"
    return (
        # a separator, substitution or group, then a known command
        # (also after a literal backslash-n: see _readings)
        rf"(?:[;|&\n\r`(]|\$\(|[<>]\(|\{{|\\[nr])[ \t]*{lead}(?:{words}){tail}",
        # the value starts with a known command
        rf"^[ \t]*{lead}(?:{words}){tail}",
        # evasions inside words and shell-only syntax
        r"\$\{?IFS", r"\$[@*!?_$#1-9-]", r"\$\(\(", r"\$\[", r"\$\{[^}]{0,64}\}", r"`[^`]{0,256}`", r"\$\(", r"[<>]\(",
        r"[a-z0-9_]['\"]{1,2}[a-z0-9_]+['\"]{0,2}(?:[\s;|&]|$)", r"^['\"][a-z0-9_]{1,3}['\"][a-z0-9_]",
        r"(?:[;|&\n\r`(]|\$\()[ \t]*['\"][a-z0-9_]{1,12}['\"][a-z0-9_]",
        r"[a-z0-9_]\\[a-z0-9_]", r"[a-z0-9_]\^[a-z0-9_]",
        r"/[a-z0-9_?*\[\]!-]*[?*\[][a-z0-9_?*\[\]!-]*/", r"\?\?", r"/[a-z]+/[a-z]*\[[!^a-z-]+\]",
        r"\{[a-z0-9_/$'\"\\.-]*,[a-z0-9_/$'\"\\.,#-]*\}",
        r"/dev/(?:tcp|udp)/", r"%[a-z0-9_]+%", r"\{cmd\}", r"%%?[a-z0-9_~@/\[\]-]{0,24}[ \t]+in[ \t]*\(", r"^\s*if[\s/]",
        r"(?:^|[;&|\n(])\s*for[\s/]", r"(?:^|[;|&\n`(])[ \t]*\$[a-z_{]",
        r"\(\)\s*\{", r"\.[\\'\" \t]*(?:shell|system)[ \t'\"]",
        r"(?:[;|&\n\r`(]|\$\()[ \t]*/(?:usr/(?:local/)?)?s?bin/[a-z]",
        # a command word globbed inside after a separator (`;c?t x`, `&&una?e -a`, `|w[h]oami`); a
        # wildcard only at a word's end is text's (`yes & no?`, `5 & up*`), at its start code's (`(*args)`)
        r"(?:[;|&\n\r`(]|\$\()[ \t]*[a-z0-9_]+[?*\[][a-z0-9_?*\[\]!-]*[a-z0-9_]",
        r"/(?:usr/(?:local/)?)?s?bin/[a-z0-9_.-]*[?*\[]", r"/(?:etc|proc|dev|root|bin|sbin|boot|usr|var|tmp)/[a-z0-9_.-]*[?*\[]",
    )


def _hs_escape(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "\\" + ch for ch in name)


def _end_tag(rd: Redirect, source: str) -> bool:
    """`Query strings</a>`, `type</span>`: an HTML end tag after a word of text, not a
    redirect from a file named /a. The target is one name glued to `</` and closed by `>`
    (a path to read has more to it: `cat</etc/passwd`)."""
    w = rd.target
    if rd.op != "<" or w is None or not w.text.startswith("/") or w.end >= len(source):
        return False
    name = w.text[1:]
    return 0 < len(name) <= 16 and name.isalnum() and source[w.end:w.end + 1] == ">" and \
        source[w.start - 1:w.start] == "<"


def _markup_paren(source: str, cmd: Command) -> bool:
    """`<div class="version">(e50aa6fba 2026-05-19)</div>`: a `>(` glued to a tag's end is
    text in parentheses after markup, not process substitution (which opens a word:
    `tee >(cmd)`, `diff <(a) <(b)`)."""
    if cmd.sep == "$(":
        return False
    at = source.rfind(cmd.sep, max(0, cmd.start - 8), cmd.start + 2)
    before = source[at - 1:at] if at > 0 else ""
    return bool(before) and not before.isspace() and before not in ";|&" and \
        _tag_before(source, at)


def _tag_before(source: str, at: int) -> bool:
    """A tag (`<name`) opens in the 256 characters before `at`."""
    lt = source.rfind("<", max(0, at - 256), at)
    return lt >= 0 and source[lt + 1:lt + 2].isalpha()


@register
class CommandInjection(Detector):
    name = "cmdi"
    triggers = _trigger_patterns()

    def __init__(self) -> None:
        command_table()  # rule files load with the engine, not on the first request
        path_list()
        for key in ("glue", "verbs", "connectives"):
            rule_words("shell_prose.yaml", key)
        mask_tags("<p>a</p><i>b</i>&amp;")  # markup's element and entity lists load here too
        _noun_endings()

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        value = inp.value
        if inp.kind == "header" and inp.name == "user-agent" and "(" in value:
            value = user_agent_locales(value)
        v = assess(value, inp.kind)
        if v is None or v.severity < Severity.MEDIUM:
            return ()
        return (Finding("rce", v.rule, v.severity, inp.location,
                        excerpt(inp.value, v.start, v.end, inp.location), inp.chain, detail=v.detail),)
