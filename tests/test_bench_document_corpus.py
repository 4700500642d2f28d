"""bench/document_corpus.py on a tiny fixture tree (nothing from the machine it runs on).

The builder must find each kind of document, keep near-identical versions once,
place each where APIs receive it, and write records the corpus reader and the
decoders take: a JSON document arrives as JSON Inputs, an SVG upload as a
multipart file, a README as one text field.
"""
import gzip
import json
import sys
from pathlib import Path

from extauthz.corpus import in_split, read_corpus, request_from_record
from extauthz.decode import extract

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import document_corpus as dc  # noqa: E402

README = "# Widget\n\nA widget.\n\n```sh\npip install widget\n```\n\n" + "Some words about it. " * 12
SVG = ('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16">'
       '<path d="M1 1h14v14H1z"/></svg>\n')
XML = '<?xml version="1.0"?>\n<config><item name="a">1</item></config>\n'
HTML = ("<html><head><script>var x = 1;</script></head><body><h1>Title</h1>"
        + "<p>Paragraph of text.</p>" * 12 + "<script>track()</script></body></html>")
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}}


def fixture(root: Path) -> None:
    files = {
        "site-packages/widget-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: widget\n\n" + README,
        "share/doc/widget/README.md": README.replace("Widget", "Widget docs"),
        "share/doc/widget/manual.html": HTML,
        "share/icons/a.svg": SVG,
        "share/xml/config.xml": XML,
        "share/xml/binary.xml": "\0\0\0",
        "share/xml/tests/torture.xml": XML.replace("a", "b"),  # test data: skipped
    }
    for version in ("v1.25.0", "v1.26.0", "v1.27.0"):  # near-identical versions: kept once
        files[f"site-packages/k8s/schemas/{version}/deployment.json"] = json.dumps(SCHEMA | {"title": version})
    files["site-packages/k8s/schemas/broken.json"] = "{not json"
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def test_collects_each_source_once_and_skips_copies(tmp_path):
    fixture(tmp_path)
    docs = dc.collect([str(tmp_path)])
    assert {s: len(v) for s, v in docs.items()} == {
        "metadata": 1, "markdown": 1, "json": 1, "xml": 1, "svg": 1, "html": 1}
    assert docs["metadata"][0].startswith("# Widget")
    html = docs["html"][0]
    assert html.startswith("<h1>Title</h1>") and "<script" not in html and "</body>" not in html


def test_records_parse_into_the_inputs_an_api_sees(tmp_path):
    fixture(tmp_path)
    out = tmp_path / "docs.jsonl.gz"
    assert dc.main(["--root", str(tmp_path), "--out", str(out)]) == 0
    lines = [json.loads(line) for line in gzip.open(out, "rt")]
    assert len(lines) == 6 and len({r["id"] for r in lines}) == 6
    assert all(r["id"].startswith("doc:") and r["label"] == "benign" for r in lines)
    records = list(read_corpus(out))
    assert sum(in_split(r.id, "dev") for r in records) + sum(in_split(r.id, "holdout") for r in records) == 6
    kinds = {}
    for rec in records:
        inputs = extract(request_from_record(rec.raw)).inputs
        kinds[rec.raw["placement"]] = {i.kind for i in inputs}
    assert "json" in kinds["json/put"]                     # first JSON document: PUT application/json
    assert "xml" in kinds["svg/body"]                      # first SVG: an application/xml body
    assert kinds["xml/body"] & {"xml"}
    assert "json" in kinds["html/json"]                    # rich-text field of a JSON document
    assert kinds["markdown/json"] & {"json"} and kinds["metadata/json"] & {"json"}


def test_placements_rotate_and_multipart_only_for_short_text():
    short, long_text = "x" * 300, "y" * (dc.MAX_MULTIPART_TEXT + 1)
    assert [dc.placements("markdown", short, i)[0] for i in range(3)] == ["json", "form", "multipart"]
    assert [dc.placements("markdown", long_text, i)[0] for i in range(3)] == ["json", "form", "json"]
    where, req = dc.placements("svg", SVG, 1)
    assert where == "upload" and "image/svg+xml" in req["body"] and 'filename="upload1.svg"' in req["body"]
    where, req = dc.placements("json", json.dumps(SCHEMA), 0)
    assert where == "put" and req["method"] == "PUT" and json.loads(req["body"]) == SCHEMA
