"""Uploads of files that run on the server or configure it.

Finding class: "rce" (a script uploaded into the web root is code execution).
Rule ids:
  upload.script       a file name whose extension the server executes (.php,
                      .phtml, .phar, .jsp, .aspx …), also hidden in a double
                      extension (shell.php.jpg), after a space (shell. php) or
                      before trailing dots or spaces (shell.php.., shell.php )
  upload.config-file  a configuration or credential file (.htaccess,
                      web.config, .user.ini, wp-config.php and its backups)
  upload.php-session  a PHP session file (sess_<id>): session fixation/poisoning

File names come from multipart parts (`multipart:<field>.filename`) and from
the headers upload clients use (X-Filename, X-File-Name …). Names and
extensions live in extauthz/rules/upload_files.txt.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable

from extauthz.decode import Input
from extauthz.detect.base import Detector, register
from extauthz.finding import Finding, Severity, excerpt
from extauthz.rules import rule_lines


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    exts: set[str] = set()
    files: set[str] = set()
    for line in rule_lines("upload_files.txt"):
        kind, _, name = line.partition(" ")
        (exts if kind == "ext" else files).add(name.strip().lower())
    return frozenset(exts), frozenset(files)


def is_filename_location(kind: str, name: str) -> bool:
    low = name.lower()
    if kind == "multipart":
        return low.endswith("filename") or low.endswith("filename*")
    if kind == "header":
        squashed = low.replace("-", "").replace("_", "").replace(".", "")
        return squashed in ("xfilename", "xfile", "filename", "xuploadfilename", "xfilenameencoded")
    return False


def classify(filename: str) -> tuple[str, str] | None:
    """(rule, detail) for a dangerous upload file name, else None."""
    exts, files = _vocabulary()
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip().lower()
    if not base:
        return None
    squashed = base.rstrip(". ")
    if squashed in files or base in files:
        return "upload.config-file", squashed
    stem = squashed.split(".", 1)[0]
    for f in files:  # wp-config.php.bak, wp-config-php.bak, wp-config_php.txt
        if "." in f and not f.startswith(".") and (squashed.startswith(f) or
                                                  squashed.startswith(f.replace(".", "-"))
                                                  or squashed.startswith(f.replace(".", "_"))):
            return "upload.config-file", squashed
    if stem.startswith("sess_") and len(stem) >= 25 and all(c.isalnum() or c in "_-," for c in stem):
        return "upload.php-session", stem
    parts = [p.strip() for p in squashed.split(".")[1:]]
    for k, ext in enumerate(parts):
        plain = ext.rstrip("0123456789") if ext.startswith("php") else ext
        if plain in exts or ext in exts:
            where = "extension" if k == len(parts) - 1 else "inner extension"
            return "upload.script", f"{where} .{ext}"
    return None


@register
class ScriptUpload(Detector):
    name = "upload"
    kinds = frozenset({"multipart", "header"})

    def __init__(self) -> None:
        _vocabulary()  # rule file loads with the engine, not on the first request

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        if not is_filename_location(inp.kind, inp.name):
            return ()
        found = classify(inp.value)
        if found is None:
            return ()
        rule, detail = found
        return (Finding("rce", rule, Severity.HIGH, inp.location, excerpt(inp.value, 0, 64, inp.location),
                        inp.chain, detail=f"uploaded file {detail}"),)
