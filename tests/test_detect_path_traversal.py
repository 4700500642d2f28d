from hypothesis import given, settings, strategies as st

from detect_helpers import findings, request
from extauthz.decode import Input
from extauthz.detect.path_traversal import PathTraversal
from extauthz.detect.pathnorm import MAX_SEGMENTS, path_tokens, resolve
from extauthz.detect.restricted_files import restricted_files
from extauthz.finding import Severity

DET = PathTraversal()


def scan(value, kind="query", name="file"):
    return list(DET.scan_input(Input(kind, name, value)))


def rules(value, kind="query"):
    return {(f.rule, f.severity) for f in scan(value, kind)}


def test_resolve_sees_through_spellings():
    for tok in ("../../etc/passwd", "..\\..\\etc\\passwd", "....//....//etc/passwd",
                "..;/..;/etc/passwd", "0x2e0x2e/0x2e0x2e/etc/passwd", "%2e%2e/%2e%2e/etc/passwd",
                "\uff0e\uff0e/\uff0e\uff0e/etc/passwd", "..%c0%af..%c0%afetc/passwd"):
        r = resolve(tok)
        assert r.climb == 2 and r.segments == ("etc", "passwd"), tok


def test_nul_truncates_and_drive_letters_are_absolute():
    r = resolve("../../boot.ini\x00.html")
    assert r.nul and r.segments == ("boot.ini",)
    assert resolve("C:\\Windows\\win.ini").absolute


def test_climbing_with_restricted_target_is_critical():
    assert ("lfi.traversal.restricted-file", Severity.CRITICAL) in rules("../../../etc/passwd")
    assert ("lfi.traversal.restricted-file", Severity.CRITICAL) in rules("x/../../WEB-INF/web.xml")


def test_climbing_alone_is_high_and_staying_inside_is_not():
    assert rules("..\\pineapple") == {("lfi.traversal", Severity.HIGH)}
    assert rules("a/b/../c") == set()
    assert rules("see ... for details") == set()


def test_restricted_files_named_in_text():
    assert ("lfi.restricted-file", Severity.HIGH) in rules("cat /etc/passwd")
    assert ("lfi.restricted-file", Severity.HIGH) in rules("cat /etc/subuid-")  # backup copy
    assert rules("/path/to/.docker/secrets")
    assert rules(".htaccess") == {("lfi.restricted-file.name", Severity.MEDIUM)}
    assert {sev for _, sev in rules("c:\\inetpub")} == {Severity.MEDIUM}
    assert rules("c:windowswin.ini")


def test_a_file_named_inside_a_sentence_needs_company():
    """Text about files (package descriptions, support tickets) names them mid-sentence;
    an include reads the whole value as the name, so the words around would break it."""
    for v in ("read GECOS entries from /etc/passwd programmatically",
              "Package to read /proc/self/mounts entries (library)",
              "the user database files\n(/etc/passwd and /etc/group), containing",
              "miscellaneous files, such as /etc/debian_version,\n/etc/host.conf, /etc/issue, and more",
              "/etc/hosts file", "/etc/passwd format explained"):
        assert {sev for _, sev in rules(v)} == {Severity.MEDIUM}, v
    # given as the value, or after a command word only: still a probe
    for v in ("/etc/passwd", "cat /etc/passwd", "please show me /etc/passwd", "file=/etc/shadow"):
        assert max(sev for _, sev in rules(v)) >= Severity.HIGH, v
    # climbing to it, or cutting the name with a NUL, is never prose
    assert ("lfi.traversal.restricted-file", Severity.CRITICAL) in rules("go to ../../etc/passwd and read it")
    assert max(sev for _, sev in rules("from /etc/passwd\x00 programmatically")) >= Severity.HIGH


def test_climbing_mentioned_in_text_needs_company():
    for v in ('debian/*.symbols.*: Remove "../../" workaround now that dh_make handles it',
              "../ means parent folder"):
        assert rules(v) == {("lfi.traversal", Severity.MEDIUM)}, v
    # a lone '..' in longer text climbs to nothing: reStructuredText writes every directive so
    for v in ("When e2fsck repairs '.' and '..' entries in corrupted directories",
              'folded comparison for "." and ".."', "the upload was taken from the trunk)..",
              ".. note::\n\n   This section is about pip.", "Intro\n\n.. image:: https://img.shields.io/x.svg"):
        assert rules(v) == {("lfi.traversal", Severity.INFO)}, v
    for v in ("..", "%2e%2e", "..%00", "..\\", "../", "x/../..", "foo ../../../x", "0x2e0x2e"):
        assert rules(v) == {("lfi.traversal", Severity.HIGH)}, v


def test_benign_lookalikes_pass():
    for v in ("firstname.dockery@host.tld", ">/test.environment", "history.history", "/get/foo../1234",
              "https://example.com/a/b.html", "etc.", "1/2/3", "jquery.history.min.js"):
        assert rules(v) == set(), v


def test_request_path():
    assert rules("/../../etc/passwd", "path") == {("lfi.traversal.restricted-file", Severity.CRITICAL)}
    assert rules("/get/..", "path") == set()
    assert rules("/.env", "path") == {("lfi.restricted-file.path", Severity.HIGH)}
    assert rules("/.git/config", "path") == {("lfi.restricted-file.path", Severity.HIGH)}
    assert rules("/api/continue/session", "path") == set()


def test_parameter_names_are_checked():
    found = findings(DET, request("/x?/sys/class=test"))
    assert found and found[0].cls == "lfi"
    assert findings(DET, request("/x?..%2F..%2Fetc%2Fpasswd=1"))[0].severity is Severity.CRITICAL


def test_restricted_list_wildcards():
    files = restricted_files()
    assert files.match(("proc", "1234", "environ")).text == "proc/*/environ"
    assert files.match(("x", ".env.production")) is not None
    assert files.match(("x", ".environment")) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_resolve_never_raises_bounded_deterministic(s):
    r1, r2 = resolve(s), resolve(s)
    assert r1 == r2
    assert len(r1.segments) <= MAX_SEGMENTS and r1.climb <= MAX_SEGMENTS
    assert len(path_tokens(s)) <= 32
    assert list(DET.scan_input(Input("query", "q", s))) == list(DET.scan_input(Input("query", "q", s)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["..", ".", "a", "", "%2e%2e", "0x2e0x2e", "..;", "\\", "etc", "passwd"]), max_size=40))
def test_resolve_on_path_alphabet(parts):
    r = resolve("/".join(parts))
    assert r.climb <= r.parents


def test_parent_steps_glued_to_a_stripped_path():
    for v in ("........................etcpasswd", "file:....etcpasswd", "..web-infweb.xml", "....web-inf/web.xml",
              "..htaccess"):
        assert rules(v) == {("lfi.traversal.glued", Severity.HIGH)}, v
    for v in ("...etcetera", "and so on...etc", "...and more", "wait...passwd", "...the web.config file"):
        assert rules(v) == set(), v


def test_directories_named_with_nothing_below_are_medium():
    for v in ("/sys/class", "/etc/ssh", "x/.git", "c:\\windows\\system32\\config"):
        assert {sev for _, sev in rules(v)} == {Severity.MEDIUM}, v
    assert {sev for _, sev in rules("c:\\windows\\system32")} == {Severity.LOW}


def test_below_system32_only_the_secrets_are_high():
    for v in ("c:\\windows\\system32\\config\\SAM", "C:/Windows/System32/drivers/etc/hosts",
              "c:\\winnt\\system32\\inetsrv\\config\\applicationHost.config",
              "c:\\windows\\system32\\config\\systemprofile\\appdata"):
        assert {sev for _, sev in rules(v)} == {Severity.HIGH}, v
    # binaries and other files below the system directory: named in support texts, no secret
    for v in ("C:\\Windows\\System32\\ls", "c:\\windows\\system32\\notepad.exe",
              "C:\\WINDOWS\\system32\\msiexec.exe /i setup.msi"):
        assert {sev for _, sev in rules(v)} == {Severity.MEDIUM}, v
    # climbing to them is still traversal to a restricted file
    assert rules("..\\..\\..\\windows\\system32\\cmd.exe") == {("lfi.traversal.restricted-file", Severity.CRITICAL)}


def test_nul_before_the_climb_does_not_hide_it():
    # C truncation reads "" or "x"; an app or filter that deletes NULs reads the climb
    for v in ("\x00../../../../../../etc/shadow", "a.txt\x00/../../../etc/passwd", "..\x00/..\x00/etc/passwd"):
        assert ("lfi.traversal.restricted-file", Severity.CRITICAL) in rules(v), v
    assert rules("../../boot.ini\x00.html")  # the truncation reading still counts
    assert rules("report\x00.pdf") == set()


def test_windows_spellings_of_a_name_reach_the_file():
    """Windows ignores trailing dots and blanks in a name and reads `name::$DATA` as the file."""
    for v in ("/webapp/WEB-INF./web.xml", "x/WEB-INF../web.xml", "c:\\windows.\\win.ini", "/web.config::$DATA",
              "c:\\boot.ini::$DATA"):
        assert {sev for _, sev in rules(v)} & {Severity.HIGH, Severity.CRITICAL}, v
    assert resolve("a/WEB-INF./web.xml").segments == ("a", "web-inf", "web.xml")
    assert resolve("a/WEB-INF./web.xml").obfuscated
    # the last segment keeps its dot: a sentence may end with a path
    assert {sev for _, sev in rules("the file is /etc/passwd.")} == {Severity.MEDIUM}
    for v in ("/docs/chapter 1./intro", "version 1.2. released", "see WEB-INF. folder"):
        assert rules(v) == set(), v


def test_ntfs_stream_suffix_on_a_file_name():
    for v, kind in (("/default.asp::$DATA", "path"), ("index.php::$DATA", "query"),
                    ("c:\\inetpub\\wwwroot\\global.asa::$DATA", "query")):
        assert ("lfi.ntfs-stream", Severity.HIGH) in rules(v, kind), v
    for v in ("self::$data", "return static::$data;", "$x = Foo::$data"):  # PHP static properties
        assert not any(r == "lfi.ntfs-stream" for r, _ in rules(v)), v


def test_relative_links_of_a_document_are_weak():
    for v in ('<nav><a class="logo" href="../../../../std/index.html"><img src="../../static.files/rust-logo.svg"></a>',
              "See [Building Node.js](../../../BUILDING.md) first.", "![diagram](../img/arch.png)",
              "<svg><use xlink:href='../../icons.svg#x'/></svg>", "<form action=../../submit>",
              # a link whose path is also the tail of an earlier, longer one is still a link
              '<a href="../../index.html">alloc</a> <a href="../index.html">map</a>'):
        assert rules(v) == {("lfi.traversal", Severity.INFO)}, v
    # a link to a system file is still a file read, and a bare climb in a parameter still blocks
    assert ("lfi.traversal.restricted-file", Severity.CRITICAL) in rules('<img src="../../../../etc/passwd">')
    assert ("lfi.traversal.restricted-file", Severity.CRITICAL) in rules("[x](../../../../etc/shadow)")
    for v in ("../../../../x/index.html", 'title="../../../x"', "href=../../../x", "see (../../../x)"):
        assert max(sev for _, sev in rules(v)) >= Severity.HIGH, v


def test_a_relative_link_after_many_longer_ones_is_still_a_link():
    """A generated API page (rustdoc) links `../../../core/x.html` dozens of times before its first
    `../../core/x.html`: the shorter link is found where its quote opens it, not past a lookup cap
    (a window of such a page scored the link HIGH)."""
    from extauthz.detect.path_traversal import _link_target
    page = ("<div>" + '<a href="../../../core/option/enum.Option.html">x</a> ' * 40
            + '<a class="enum" href="../../core/option/enum.Option.html" title="e">y</a></div>')
    assert _link_target(page, "../../core/option/enum.Option.html")
    assert not _link_target(page.replace('href="../../core', 'x ../../core'), "../../core/option/enum.Option.html")
    bare = list(PathTraversal().scan_input(Input("form", "content", "x ../../../../tmp/a.sh")))
    assert any(f.rule == "lfi.traversal" and f.severity >= Severity.MEDIUM for f in bare)


def test_meta_refresh_urls_and_sphinx_roles_are_links():
    """`url=../../cli/pip_wheel/` in a refresh, `:doc:`../reference/x`` in reStructuredText: links
    resolved against the page, like href; a sensitive target stays critical."""
    for text in (".. meta::\n   :http-equiv=refresh: 3; url=../../cli/pip_wheel/\n\nThis page has moved\n",
                 '<meta http-equiv="refresh" content="0; url=../../guide/index.html">',
                 "This is covered in :doc:`../reference/build-system/index`.\n\nMore text.",
                 "Get it with :download:`../../examples/demo.zip` first."):
        found = [f for f in DET.scan_input(Input("json", "t", text)) if f.rule == "lfi.traversal"]
        assert found and all(f.severity == Severity.INFO for f in found), text
    assert ("lfi.traversal.restricted-file", Severity.CRITICAL) in rules("x :download:`../../../../etc/passwd` y")
    assert any(s >= Severity.MEDIUM for r, s in rules("url=../../../../tmp/x then") if r == "lfi.traversal")
