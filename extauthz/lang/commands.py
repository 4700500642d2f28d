"""The command and path vocabulary of the shell injection detector.

Loaded once from extauthz/rules/shell_commands.txt and shell_paths.txt. A
command word from a request is first de-obfuscated by the tokenizer; here it
is reduced to a name (basename, lower case, no .exe, no version suffix as in
python3.10) and looked up, by glob when it contains * ? [ ].
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from extauthz.lang.glob import glob_match, has_magic
from extauthz.rules import rule_lines

# Directories whose presence before a command name is evidence by itself
# (/bin/ls, /usr/bin/id, C:\Windows\System32\cmd.exe).
BIN_DIRS = ("/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin",
            "bin", "usr/bin", "sbin", "/opt/bin", "/system/bin",
            "c:\\windows\\system32", "c:\\windows", "c:/windows/system32", "%systemroot%\\system32",
            "%windir%\\system32", "c:\\windows\\syswow64")


GLOB_CACHE = 1024  # glob patterns whose match is remembered (process-wide)


@dataclass(frozen=True, slots=True)
class CommandInfo:
    name: str
    weak: bool  # an everyday word: needs company
    wrapper: bool  # runs its arguments as a command
    shell: bool
    interpreter: bool
    recon: bool
    powershell: bool
    english: bool = False  # also an English word ("curl hair", "bash party"): plain words after it are text


# two-letter commands that do ship with a version number in their name
VERSIONED_SHORT = frozenset({"nc"})


class CommandTable:
    def __init__(self, lines: tuple[str, ...], subcommand_lines: tuple[str, ...] = ()) -> None:
        self.by_name: dict[str, CommandInfo] = {}
        for line in lines:
            name, _, flags = line.partition(" ")
            name = name.lower()
            flags = flags.strip()
            self.by_name[name] = CommandInfo(
                name=name, weak="w" in flags, wrapper="x" in flags, shell="s" in flags,
                interpreter="i" in flags, recon="r" in flags, powershell="p" in flags, english="e" in flags)
        self._by_len: dict[int, list[str]] = {}
        for name in self.by_name:
            self._by_len.setdefault(len(name), []).append(name)
        self._globs: dict[str, CommandInfo | None] = {}
        self._subcommands: dict[str, frozenset[str]] = {}
        for line in subcommand_lines:
            name, *subs = line.lower().split()
            self._subcommands[name] = frozenset(subs)

    def is_subcommand(self, name: str, word: str) -> bool:
        """Whether `word` is a subcommand of the command `name` (net localgroup, reg query)."""
        subs = self._subcommands.get(name)
        return subs is not None and word.lower() in subs

    def lookup(self, name: str) -> CommandInfo | None:
        """Find a command by its (already lower-cased) basename, with suffix variants."""
        info = self.by_name.get(name)
        if info is not None:
            return info
        for suffix in (".exe", ".com", ".bat", ".cmd", ".ps1"):
            if name.endswith(suffix):
                return self.by_name.get(name[: -len(suffix)])
        stripped = name.rstrip("0123456789.")
        # python3.10, gcc7.4, php7, nc6; a two-letter stem with a number glued on is rather a
        # code (SG8 8UR is a postcode, ps2 a console, tr8 a product) than a versioned binary
        if stripped and stripped != name and len(name) - len(stripped) <= 5 \
                and (len(stripped) >= 3 or stripped in VERSIONED_SHORT):
            return self.by_name.get(stripped)
        return None

    def glob_known(self, pattern: str) -> bool:
        """Whether match_glob(pattern) is remembered (free; a new pattern walks the vocabulary)."""
        return pattern in self._globs

    def match_glob(self, pattern: str) -> CommandInfo | None:
        """The first known command a glob basename (c?t, wh*mi) expands to (memoised)."""
        if pattern in self._globs:
            return self._globs[pattern]
        info = self._match_glob(pattern)
        if len(self._globs) >= GLOB_CACHE:
            self._globs.clear()
        self._globs[pattern] = info
        return info

    def _match_glob(self, pattern: str) -> CommandInfo | None:
        if not pattern or len(pattern) > 40:
            return None
        if "*" in pattern:
            head = pattern.split("*", 1)[0]
            candidates = [n for n in self.by_name if not head or (not has_magic(head) and n.startswith(head))
                          or has_magic(head)]
        else:
            candidates = self._by_len.get(_glob_width(pattern), [])
        best: CommandInfo | None = None
        for name in candidates[:2000]:
            if glob_match(pattern, name):
                info = self.by_name[name]
                if best is None or (best.weak and not info.weak):
                    best = info
        return best


def _glob_width(pattern: str) -> int:
    """How many characters a pattern without * matches ([...] counts once)."""
    width = 0
    i = 0
    while i < len(pattern):
        if pattern[i] == "[":
            close = pattern.find("]", i + 2)
            if close > 0:
                i = close + 1
                width += 1
                continue
        width += 1
        i += 1
    return width


class PathList:
    """Sensitive paths; entries ending in a separator are prefixes."""

    def __init__(self, lines: tuple[str, ...]) -> None:
        self.exact: set[str] = set()
        self.prefixes: list[str] = []
        for raw in lines:
            line = raw.lower()
            if line.endswith("/") or line.endswith("\\"):
                self.prefixes.append(line)
            else:
                self.exact.add(line)
        self._split = [(e, e.strip("/\\").split("/")) for e in [*self.exact, *self.prefixes] if e.startswith("/")]
        # tuples for str.startswith: one C call screens every entry (a value of thousands of words is common)
        self._prefix_tuple = tuple(self.prefixes)
        self._prefix_set = frozenset(self.prefixes)
        self._exact_tuple = tuple(sorted(self.exact))
        # no entry is a bare word of letters: such a word is never sensitive (cmdi skips the
        # words of prose on that)
        self.words_safe = not any(e.rstrip("/").isalpha() for e in (*self.exact, *self.prefixes))

    def sensitive(self, text: str) -> bool:
        t = text.lower().replace("\\\\", "\\")
        if t in self.exact:
            return True
        t_dir = t if t.endswith("/") else t + "/"
        if t.startswith(self._prefix_tuple) or t_dir in self._prefix_set:
            return True
        if not t.startswith(self._exact_tuple):
            return False
        for e in self.exact:
            if t.startswith(e) and len(t) > len(e) and t[len(e)] in "/.%\x00":
                return True
        return False

    def sensitive_glob(self, text: str) -> bool:
        """A path with glob characters that matches a sensitive entry (/e??/p?ss*)."""
        t = text.lower()
        if not t.startswith("/") or not has_magic(t) or len(t) > 96:
            return False
        segs = t.strip("/").split("/")
        for entry, esegs in self._split:
            prefix = entry.endswith("/")
            if len(segs) < len(esegs) or (not prefix and len(segs) != len(esegs)):
                continue
            if all(glob_match(ps, es) for ps, es in zip(segs, esegs)):
                return True
        return False


def split_command_word(text: str) -> tuple[str, str]:
    """(directory, basename) of a command word, lower-cased."""
    t = text.strip().lower()
    cut = max(t.rfind("/"), t.rfind("\\"))
    if cut < 0:
        return "", t
    return t[:cut], t[cut + 1:]


def is_bin_dir(directory: str) -> bool:
    if not directory:
        return False
    d = directory.rstrip("/\\")
    if d in BIN_DIRS:
        return True
    if has_magic(d) and d.startswith("/"):
        return any(glob_match(d, b) for b in BIN_DIRS if b.startswith("/"))
    return False


@lru_cache(maxsize=1)
def command_table() -> CommandTable:
    return CommandTable(rule_lines("shell_commands.txt"), rule_lines("shell_subcommands.txt"))


@lru_cache(maxsize=1)
def path_list() -> PathList:
    return PathList(rule_lines("shell_paths.txt"))
