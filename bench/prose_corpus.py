"""Build a benign corpus of real English prose from this machine's Debian package texts.

    python bench/prose_corpus.py [--out /tmp/prose.jsonl.gz]
    python bench/prose_corpus.py --source changelogs --out /tmp/changelogs.jsonl.gz
    python bench/prose_corpus.py --source articles --out /tmp/articles.jsonl.gz
    extauthz eval /tmp/prose.jsonl.gz --split dev      # tune on dev, report holdout

Why: the shared corpora's benign values are mostly short words, numbers and
browser traffic. What users put in comment, description and search fields is
prose, and technical prose is where a WAF that reads syntax goes wrong: "CURL
module for PHP", "Common UNIX Printing System(tm)", "(MySQL backend)",
"File::Find for Raku", "read GECOS entries from /etc/passwd". Debian's package
descriptions are ~60,000 such sentences written by people, and the installed
packages' long descriptions add multi-line text with bullet lists and code.

`--source changelogs` takes instead the entries of the installed packages'
Debian changelogs (/usr/share/doc/*/changelog.Debian.gz): developers' notes
about code ("Fix crash in parse_args() when HOME is unset", "d/rules: use
dh_auto_configure -- --with-ssl"), what an issue tracker, a code review or a
commit message field holds. Text about code is harder than descriptions: some
entries quote real attack strings from security fixes, so read its flagged
lines before calling them false positives.

`--source articles` joins the long descriptions (as dpkg's status file holds them)
into texts of 2, 4, 6, 8 and 12 KiB, the length of a blog post, a review or a wiki
page: what a long text field holds. Each text on its own is a description the
prose corpus already has; together they bring weak signals from different
paragraphs into one value (a path in one, a command name in another), which the
scoring must not take for one payload (extauthz.detect.pipeline.apart). Seeded:
the same package lists give the same articles.

Each text becomes one request, placed in turn in a query parameter, a form
field and a JSON member (the three places user text arrives). Every request is
benign; the corpus format is ../shared/corpus/README.md's. Ids are stable
(`prose:<sha1 of the text>`), so `--split dev|holdout` keeps the same 20 % unseen
across machines that have the same package lists.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import json
import random
import subprocess
import sys
import urllib.parse
from pathlib import Path

PACKAGE_LISTS = "/var/lib/apt/lists/*_Packages*"
DPKG_STATUS = "/var/lib/dpkg/status"
CHANGELOGS = "/usr/share/doc/*/changelog.Debian.gz"
MAX_TEXT = 4000  # long descriptions beyond this are cut (a form field, not a document)


def _read_list(path: str) -> str:
    if path.endswith(".lz4"):
        out = subprocess.run(["lz4cat", path], capture_output=True, check=False)
        return out.stdout.decode("utf-8", "replace")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace").read()
    if path.endswith((".xz", ".diff")) or "/" not in path:
        return ""
    return Path(path).read_text(encoding="utf-8", errors="replace")


def short_descriptions() -> set[str]:
    """The one-line summaries of every package in the apt lists."""
    out: set[str] = set()
    for path in sorted(glob.glob(PACKAGE_LISTS)):
        for line in _read_list(path).splitlines():
            if line.startswith("Description: "):
                out.add(line[len("Description: "):].strip())
    return out


def long_descriptions() -> set[str]:
    """The multi-line descriptions of the installed packages (dpkg's status file)."""
    try:
        text = Path(DPKG_STATUS).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    out: set[str] = set()
    for block in text.split("\n\n"):
        lines: list[str] | None = None
        for line in block.splitlines():
            if line.startswith("Description:"):
                lines = [line[len("Description:"):].strip()]
            elif lines is not None and line.startswith(" "):
                lines.append("" if line.strip() == "." else line[1:])
            elif lines is not None:
                break
        if lines and len(lines) > 1:
            out.add("\n".join(lines)[:MAX_TEXT])
    return out


def changelog_entries() -> set[str]:
    """Each `  * entry` of the installed packages' Debian changelogs, continuation lines joined."""
    out: set[str] = set()
    for path in sorted(glob.glob(CHANGELOGS)):
        try:
            text = gzip.open(path, "rt", encoding="utf-8", errors="replace").read()
        except (OSError, EOFError):
            continue
        entry: list[str] = []
        for line in text.splitlines() + [""]:
            body = line.strip()
            if line.startswith("  ") and body[:2] in ("* ", "- ", "+ "):
                if entry:
                    out.add(" ".join(entry)[:MAX_TEXT])
                entry = [body[2:].strip()]
            elif entry and line.startswith("    ") and body:
                entry.append(body)
            elif entry:
                out.add(" ".join(entry)[:MAX_TEXT])
                entry = []
    out.discard("")
    return out


ARTICLE_SIZES = (2048, 4096, 6144, 8192, 12288)
ARTICLES = 3000


def articles(texts: list[str], count: int = ARTICLES) -> list[str]:
    """`count` texts of ARTICLE_SIZES characters, each long descriptions joined by blank lines."""
    rng = random.Random(2026)
    out = []
    for _ in range(count):
        size = rng.choice(ARTICLE_SIZES)
        parts: list[str] = []
        while sum(map(len, parts)) < size:
            parts.append(rng.choice(texts))
        out.append("\n\n".join(parts)[:size])
    return out


def request(text: str, i: int) -> dict:
    host = ["Host", "shop.example.com"]
    if i % 3 == 0 and len(text) <= MAX_TEXT:
        r = {"method": "GET", "uri": "/search?q=" + urllib.parse.quote_plus(text), "headers": [host], "body": ""}
    elif i % 3 == 1:
        r = {"method": "POST", "uri": "/comments", "body": "author=alice&comment=" + urllib.parse.quote_plus(text),
             "headers": [host, ["Content-Type", "application/x-www-form-urlencoded"]]}
    else:
        r = {"method": "POST", "uri": "/api/notes", "body": json.dumps({"title": "note", "text": text}),
             "headers": [host, ["Content-Type", "application/json"]]}
    digest = hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:16]
    return dict(r, id=f"prose:{digest}", source="debian-text", label="benign", category="benign")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="/tmp/prose.jsonl.gz")
    ap.add_argument("--source", choices=("descriptions", "changelogs", "articles"), default="descriptions")
    args = ap.parse_args()
    if args.source == "changelogs":
        texts = sorted(changelog_entries())
    elif args.source == "articles":
        texts = sorted(long_descriptions())
        texts = articles(texts) if texts else []
    else:
        texts = sorted(short_descriptions() | long_descriptions())
    if not texts:
        print("no package lists found (run apt-get update first)", file=sys.stderr)
        return 1
    with gzip.open(args.out, "wt", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps(request(text, i)) + "\n")
    print(f"{len(texts)} benign requests in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
