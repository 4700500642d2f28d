"""Build a benign corpus of real documents (markdown, JSON, XML, SVG, HTML) from this machine.

    python bench/document_corpus.py --out /tmp/docs.jsonl.gz
    nice -n 10 extauthz eval /tmp/docs.jsonl.gz --split dev -j 1 --errors /tmp/docs-err.jsonl
    python bench/family_report.py /tmp/docs.jsonl.gz --split dev -j 1 --fine   # per source/placement

Why: bench/prose_corpus.py measures sentences; APIs also receive whole
documents, and documents are where a WAF that reads syntax meets the most
syntax: a README with shell and SQL code blocks posted to an issue tracker or
a wiki, a JSON config, schema or dashboard PUT to an API, an XML document or an
SVG image uploaded, the HTML of a rich-text editor. Each is ordinary traffic
that a blocking WAF must let through.

Sources (all files already on the machine, read-only; test-data directories
are skipped because they hold deliberately odd inputs, e.g. parser torture
tests, and so are attack tools' data, e.g. sqlmap's payload XML):
- markdown: the long descriptions of installed Python packages (the body of
  `*.dist-info/METADATA`, markdown or reStructuredText), READMEs and `*.md`/
  `*.rst` under /usr/share/doc; posted as a JSON member
  (`{"title": ..., "body": text}`), a form field, and (up to 4 KiB) a
  multipart text part;
- json: `*.json` documents (schemas, configs, data), PUT or POST as
  `application/json`;
- xml: `*.xml` documents, as an `application/xml` body or a multipart upload;
- svg: `*.svg` images, as an `application/xml` body or a multipart upload
  (`image/svg+xml`);
- html: the `<body>` of HTML pages under /usr/share/doc (and other doc trees),
  `<script>` elements removed (a rich-text editor never keeps them), as a
  rich-text field of a JSON document or a form.

Bounded and deterministic: documents over 16 KiB are skipped (cut at a line
for markdown and HTML), identical texts are kept once, near-identical files
(the same path up to digits, e.g. the versions of one Kubernetes schema under
kubernetes_validate) once, at most 40 files per directory and 300 per
documentation tree or package, then the first `--per-source` by hash. Ids are `doc:<sha1>` of the
source and text, so `--split dev|holdout` keeps the same 20 % unseen on
machines that hold the same files. The placement field says
`<source>/<where>` (family_report.py groups by it).
"""
from __future__ import annotations

import argparse
import collections
import gzip
import hashlib
import json
import os
import re
import sys
import sysconfig
import urllib.parse
from pathlib import Path
from typing import Callable, Iterable, Iterator

MAX_DOC = 16 * 1024          # bytes: larger files are skipped (markdown/HTML are cut at a line)
MAX_MULTIPART_TEXT = 4096    # a multipart text part is a short field, not a document
PER_DIRECTORY = 40           # files taken from one directory, so no one package dominates
PER_TREE = 300               # files taken from one documentation tree or package
PER_SOURCE = 3000
DEFAULT_ROOTS = ("/usr", "/opt", "/root", "/var/lib")
SKIP_DIRS = {"test", "tests", "testdata", "test_data", "xmltestdata", "__pycache__", ".git", ".cache", "node_modules",
             "sqlmap", "wfuzz"}  # attack tools' payload data (bench/tool_corpus.py's sources) is no benign document
HOST = ["Host", "docs.example.com"]
BOUNDARY = "----extauthzDocBoundary7MA4YWxkTrZu0gW"


def roots_default() -> list[str]:
    """The usual system trees plus the site-packages this Python runs from (kubernetes_validate lives there)."""
    return [*DEFAULT_ROOTS, sysconfig.get_paths()["purelib"]]


def walk(roots: Iterable[str], accept: Callable[[str], bool]) -> list[Path]:
    """Files under the roots whose name `accept`s, sorted, skipping test-data and virtual trees."""
    out: set[Path] = set()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            if dirpath.startswith(("/proc", "/sys", "/dev")):
                dirnames[:] = []
                continue
            for name in filenames:
                if accept(name):
                    out.add(Path(dirpath, name))
    return sorted(out)


def read_text(path: Path, limit: int = MAX_DOC, cut: bool = False) -> str | None:
    """The file as UTF-8 text, None if unreadable, binary, or over `limit` bytes (unless `cut`)."""
    try:
        if path.stat().st_size > limit and not cut:
            return None
        data = gzip.open(path, "rb").read(4 * limit) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError):
        return None
    if b"\0" in data[:4096]:
        return None
    text = data.decode("utf-8", "replace")
    if len(text.encode("utf-8")) > limit:
        if not cut:
            return None
        text = text.encode("utf-8")[:limit].decode("utf-8", "ignore")
        text = text[: text.rfind("\n")] if "\n" in text else text
    return text.strip("\ufeff")


def near_key(path: Path) -> str:
    """Files with the same path up to digits are one document in several versions or copies
    (kubernetes-json-schema/v1.25.0-local/x.json and v1.30.0-local/x.json)."""
    return re.sub(r"\d+", "#", str(path).lower().removesuffix(".gz"))


def doc_tree(path: Path) -> str:
    """The documentation tree a file belongs to (/usr/share/doc/nodejs, .../share/doc/rust):
    one tree of thousands of generated pages must not make up the whole source."""
    parts = path.parts
    for k, part in enumerate(parts[:-1]):
        if part in ("doc", "docs", "site-packages", "dist-packages"):
            return "/".join(parts[:k + 2])
    return str(path.parent)


def pick(paths: Iterable[Path], load: Callable[[Path], str | None], per_source: int,
         key_of: Callable[[Path], str] = near_key) -> list[str]:
    """Distinct texts: one per near-identical path, PER_DIRECTORY per directory, PER_TREE per
    documentation tree or package, then `per_source` by hash."""
    seen_keys: set[str] = set()
    per_dir: collections.Counter[Path] = collections.Counter()
    per_tree: collections.Counter[str] = collections.Counter()
    texts: dict[str, str] = {}
    for path in paths:
        key = key_of(path)
        tree = doc_tree(path)
        if key in seen_keys or per_dir[path.parent] >= PER_DIRECTORY or per_tree[tree] >= PER_TREE:
            continue
        text = load(path)
        if not text or not text.strip():
            continue
        seen_keys.add(key)
        per_dir[path.parent] += 1
        per_tree[tree] += 1
        texts.setdefault(hashlib.sha1(text.encode("utf-8")).hexdigest(), text)
    return [texts[h] for h in sorted(texts)[:per_source]]


# -- loaders: what counts as a document of each source -------------------------------------------

def metadata_description(path: Path) -> str | None:
    """The long description of a Python package: METADATA's body after the headers (or its Description:)."""
    text = read_text(path, limit=4 * MAX_DOC)
    if text is None:
        return None
    head, sep, body = text.partition("\n\n")
    if not body.strip():
        lines: list[str] = []
        for line in head.splitlines():
            if line.startswith("Description:"):
                lines = [line[len("Description:"):].strip()]
            elif lines and line.startswith((" ", "\t", "|")):
                lines.append(line.lstrip(" \t").removeprefix("|"))
            elif lines:
                break
        body = "\n".join(lines)
    body = body.strip()
    if len(body) < 200 or body.upper() == "UNKNOWN":
        return None
    raw = body.encode("utf-8")
    if len(raw) > MAX_DOC:
        body = raw[:MAX_DOC].decode("utf-8", "ignore")
        body = body[: body.rfind("\n")]
    return body


def markdown_file(path: Path) -> str | None:
    text = read_text(path, cut=True)
    return text if text and len(text) >= 200 else None


def json_document(path: Path) -> str | None:
    text = read_text(path)
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return text if isinstance(doc, (dict, list)) and doc else None


def xml_document(path: Path) -> str | None:
    text = read_text(path)
    if text is None or not text.lstrip().startswith("<"):
        return None
    return text


_BODY = re.compile(r"<body\b[^>]*>(.*?)(?:</body\s*>|\Z)", re.I | re.S)
_SCRIPT = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>", re.I | re.S)


def html_fragment(path: Path) -> str | None:
    """The inner HTML of <body>, without <script>/<style> (what a rich-text editor would hold)."""
    text = read_text(path, limit=4 * MAX_DOC)
    if text is None:
        return None
    m = _BODY.search(text)
    if not m:
        return None
    frag = _SCRIPT.sub("", m.group(1)).strip()
    raw = frag.encode("utf-8")
    if len(raw) > MAX_DOC:
        frag = raw[:MAX_DOC].decode("utf-8", "ignore")
        frag = frag[: frag.rfind(">") + 1]
    return frag if len(frag) >= 200 else None


def _is_markdown(name: str) -> bool:
    n = name.lower().removesuffix(".gz")
    return n.endswith((".md", ".markdown", ".rst")) or n in ("readme", "readme.txt")


SOURCES: dict[str, tuple[Callable[[str], bool], Callable[[Path], str | None]]] = {
    "metadata": (lambda n: n == "METADATA", metadata_description),
    "markdown": (_is_markdown, markdown_file),
    "json": (lambda n: n.endswith(".json"), json_document),
    "xml": (lambda n: n.endswith(".xml"), xml_document),
    "svg": (lambda n: n.endswith(".svg"), xml_document),
    "html": (lambda n: n.endswith((".html", ".htm")), html_fragment),
}


def collect(roots: Iterable[str], per_source: int = PER_SOURCE,
            sources: Iterable[str] = tuple(SOURCES)) -> dict[str, list[str]]:
    """Each source's documents, bounded and deterministic. Markdown-ish docs only from doc trees."""
    roots = list(roots)
    out: dict[str, list[str]] = {}
    for source in sources:
        accept, load = SOURCES[source]
        paths = walk(roots, accept)
        if source == "metadata":
            paths = [p for p in paths if p.parent.name.endswith(".dist-info")]
            # one METADATA per package (its newest name-sorted version), whichever interpreter installed it
            out[source] = pick(sorted(paths, key=lambda p: (p.parent.name, str(p))), load, per_source,
                               key_of=lambda p: p.parent.name.split("-", 1)[0].lower())
            continue
        if source in ("markdown", "html"):
            paths = [p for p in paths if "/doc/" in str(p) or "/docs/" in str(p)]
        out[source] = pick(paths, load, per_source)
    return out


# -- placements: how a document reaches an API ---------------------------------------------------

def _multipart(parts: list[tuple[str, str | None, str, str]]) -> str:
    """A multipart/form-data body from (field, filename, content type, content)."""
    out = []
    for field, filename, ctype, content in parts:
        disp = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
        head = f"Content-Disposition: {disp}\r\n" + (f"Content-Type: {ctype}\r\n" if ctype else "")
        out.append(f"--{BOUNDARY}\r\n{head}\r\n{content}\r\n")
    return "".join(out) + f"--{BOUNDARY}--\r\n"


def _json_req(method: str, uri: str, doc: object) -> dict:
    return {"method": method, "uri": uri, "body": json.dumps(doc, ensure_ascii=False),
            "headers": [HOST, ["Content-Type", "application/json"]]}


def _form_req(uri: str, fields: list[tuple[str, str]]) -> dict:
    return {"method": "POST", "uri": uri, "body": urllib.parse.urlencode(fields),
            "headers": [HOST, ["Content-Type", "application/x-www-form-urlencoded"]]}


def _multipart_req(uri: str, parts: list[tuple[str, str | None, str, str]]) -> dict:
    return {"method": "POST", "uri": uri, "body": _multipart(parts),
            "headers": [HOST, ["Content-Type", f"multipart/form-data; boundary={BOUNDARY}"]]}


def _title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip(" #=*-`")
        if line:
            return line[:80]
    return "untitled"


def placements(source: str, text: str, i: int) -> tuple[str, dict]:
    """(where, request) for the i-th document of a source: the placements rotate by index."""
    if source in ("metadata", "markdown"):
        ways = ["json", "form"] + (["multipart"] if len(text.encode("utf-8")) <= MAX_MULTIPART_TEXT else [])
        where = ways[i % len(ways)]
        title = _title(text)
        if where == "json":
            return where, _json_req("POST", "/api/issues", {"title": title, "body": text, "labels": ["docs"]})
        if where == "form":
            return where, _form_req("/wiki/pages", [("title", title), ("body", text), ("commit", "Save page")])
        return where, _multipart_req("/api/posts", [("title", None, "", title), ("body", None, "text/markdown", text)])
    if source == "json":
        if i % 2 == 0:
            return "put", _json_req("PUT", f"/api/configs/{i}", None) | {"body": text}
        return "post", _json_req("POST", "/api/documents", None) | {"body": text}
    if source in ("xml", "svg"):
        ctype = "image/svg+xml" if source == "svg" else "application/xml"
        if i % 2 == 0:
            return "body", {"method": "POST", "uri": "/api/import", "body": text,
                            "headers": [HOST, ["Content-Type", "application/xml"]]}
        name = f"upload{i}.{source}"
        return "upload", _multipart_req("/api/files", [("description", None, "", "uploaded file"),
                                                       ("file", name, ctype, text)])
    if source == "html":
        if i % 2 == 0:
            return "json", _json_req("PUT", f"/api/pages/{i}", {"title": "Page", "content_html": text, "draft": False})
        return "form", _form_req("/cms/save", [("title", "Page"), ("content", text)])
    raise ValueError(source)


def records(docs: dict[str, list[str]]) -> Iterator[dict]:
    for source in sorted(docs):
        for i, text in enumerate(docs[source]):
            where, req = placements(source, text, i)
            digest = hashlib.sha1(f"{source}\0{text}".encode("utf-8", "replace")).hexdigest()[:16]
            yield dict(req, id=f"doc:{digest}", source=f"doc-{source}", label="benign", category="benign",
                       placement=f"{source}/{where}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="/tmp/docs.jsonl.gz")
    ap.add_argument("--root", action="append", help="directory to search (repeatable; default: system trees)")
    ap.add_argument("--per-source", type=int, default=PER_SOURCE)
    ap.add_argument("--source", action="append", choices=sorted(SOURCES), help="only these sources")
    args = ap.parse_args(argv)
    docs = collect(args.root or roots_default(), args.per_source, args.source or tuple(SOURCES))
    n = 0
    with gzip.open(args.out, "wt", encoding="utf-8") as f:
        for rec in records(docs):
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    counts = ", ".join(f"{s} {len(v)}" for s, v in sorted(docs.items()))
    print(f"{n} benign requests in {args.out} ({counts})", file=sys.stderr)
    return 0 if n else 1


if __name__ == "__main__":
    raise SystemExit(main())
