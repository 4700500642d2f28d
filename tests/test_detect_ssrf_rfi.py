from hypothesis import given, settings, strategies as st

from extauthz.decode import Input
from extauthz.detect.ssrf_rfi import SsrfRfi
from extauthz.detect.urlparts import MAX_URLS, HostKind, classify_host, find_urls, parse_ipv4_loose
from extauthz.finding import Severity
from extauthz.request import Request

DET = SsrfRfi()


def rules(value, name="url", kind="query"):
    return {(f.rule, f.severity) for f in DET.scan_input(Input(kind, name, value))}


def test_loopback_in_all_spellings():
    for host in ("127.0.0.1", "0x7f000001", "2130706433", "0177.0.0.1", "0x7f.1", "127.1", "[::1]", "localhost",
                 "LOCALHOST.", "[::ffff:127.0.0.1]", "[0:0:0:0:0:ffff:7f00:1]", "①②⑦.⓪.⓪.①", "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ"):
        assert classify_host(host).kind is HostKind.LOOPBACK, host
    assert classify_host("0.0.0.0").kind is HostKind.UNSPECIFIED
    assert classify_host("[::]").kind is HostKind.UNSPECIFIED


def test_metadata_and_internal_hosts():
    for host in ("169.254.169.254", "2852039166", "0xA9FEA9FE", "0251.0376.0251.0376", "169.254.43518",
                 "0x41414141A9FEA9FE", "7147006462", "[::ffff:a9fe:a9fe]", "[fd00:ec2::254]",
                 "metadata.google.internal", "169。254。169。254"):
        assert classify_host(host).kind is HostKind.METADATA, host
    assert classify_host("10.1.2.3").kind is HostKind.PRIVATE
    assert classify_host("[fe80::1%eth0]").kind is HostKind.LINK_LOCAL
    assert classify_host("orders.shop.svc.cluster.local").kind is HostKind.INTERNAL_NAME
    assert classify_host("127.0.0.1.nip.io").kind is HostKind.REBINDING
    assert classify_host("example.com").kind is HostKind.NAME
    assert classify_host("8.8.8.8").kind is HostKind.PUBLIC_IP


def test_ipv4_loose_parser():
    assert parse_ipv4_loose("1.2.3.4") == (0x01020304, False)
    assert parse_ipv4_loose("1.2.772") == (0x01020304, True)
    assert parse_ipv4_loose("08.1.1.1") is None
    assert parse_ipv4_loose("256.1.1.1") is None


def test_ssrf_findings():
    assert ("ssrf.metadata", Severity.CRITICAL) in rules("http://169.254.169.254/latest/meta-data/")
    assert ("ssrf.internal-host", Severity.HIGH) in rules("gopher://0x7f000001:6379/_")
    assert ("ssrf.internal-host", Severity.HIGH) in rules("http:127.0.0.1")
    assert ("ssrf.internal-host", Severity.HIGH) in rules("http://google.com:80 &@google.com:80# @127.88.23.245:22/")
    assert ("ssrf.internal-host", Severity.HIGH) in rules("http://\\l\\o\\c\\a\\l\\h\\o\\s\\t/")
    assert rules("text mentioning http://10.0.0.5/admin inside")  # embedded URLs count for SSRF


def test_loopback_redirect_of_native_app_is_only_noted():
    assert rules("http://127.0.0.1:51234/callback", name="redirect_uri") == {("ssrf.internal-redirect", Severity.LOW)}


def test_rfi_findings():
    assert ("rfi.dangerous-scheme", Severity.HIGH) in rules("file:///etc/passwd")
    assert ("rfi.dangerous-scheme", Severity.HIGH) in rules("jar:http://evil.co/b.zip!a")
    assert ("rfi.dangerous-scheme", Severity.HIGH) in rules("php://filter/convert.base64-encode/resource=index")
    assert rules("http://evil.example/shell.txt?") == {("rfi.trailing-question", Severity.HIGH)}
    assert rules("https?") == {("rfi.trailing-question", Severity.HIGH)}
    assert rules("http://66.240.183.75/crash.php") == {("rfi.ip-host", Severity.HIGH)}
    assert rules("https://foo.bar", name="mosConfig_absolute_path") == {("rfi.include-param", Severity.HIGH)}
    assert rules("http://example.com%2f@evil.com/".replace("%2f", "/")) == {("rfi.url-confusion", Severity.HIGH)}


def test_scheme_spelled_by_a_module_name_or_a_quoted_url_is_not_one():
    """`File::Find` (Perl), `URL::Encode`, and RFC 1738's `<URL:https://...>` quoting in
    text; the `url:` prefix still counts around a dangerous scheme."""
    for v in ("File::Find for Raku", "Moo extension for File::ConfigDir", "XS implementation of URL::Encode",
              "more at:\n<URL:https://www.x.org>\n", "see URL:http://example.com/docs",
              # reStructuredText's literal-block marker after a word
              "Add this to your startup file::\n\n    eval x", "* zip::\n\n    wfuzz -z list", "the URL::\n\n  x"):
        assert not any(r == "rfi.dangerous-scheme" for r, _ in rules(v)), v
    for v in ("url:file:///etc/passwd", "URL:jar:http://evil.co/b.zip!a", "file:/etc/passwd", "file::/etc/passwd"):
        assert ("rfi.dangerous-scheme", Severity.HIGH) in rules(v), v


def test_a_local_project_file_url_in_a_long_text_is_weak():
    """`Compiling app v0.1.0 (file:///projects/app)` in a pasted build log: a file: URL of
    an ordinary local path, in text, needs company (MEDIUM); the URL as the value, a
    sensitive or system path, a climb, a host, or a short value stay HIGH."""
    log = "   Compiling no_type_annotations v0.1.0 (file:///projects/no_type_annotations)\n" + (
        "error[E0284]: type annotations needed for the value of this expression here\n" * 20)
    assert ("rfi.dangerous-scheme", Severity.MEDIUM) in rules(log, "body", "json")
    assert ("rfi.dangerous-scheme", Severity.HIGH) not in rules(log, "body", "json")
    for url in ("file:///etc/passwd", "file:///etc/app.conf", "file:///var/www/html/x", "file://evil.example/share",
                "file:///srv/../etc/passwd", "file:///C:/Windows/win.ini", "file:///proc/self/environ",
                "file:///home/u/.ssh/id_rsa"):
        text = log.replace("file:///projects/no_type_annotations", url)
        assert ("rfi.dangerous-scheme", Severity.HIGH) in rules(text, "body", "json"), url
    assert ("rfi.dangerous-scheme", Severity.HIGH) in rules("see (file:///projects/app) here", "q")  # short
    assert ("rfi.dangerous-scheme", Severity.HIGH) in rules("file:///projects/app" + " " * 1100, "url")  # the value


def test_ad_urls_ending_in_question_mark_are_weak_and_referers_are_ignored():
    assert rules("http://ad.doubleclick.net/ad/N5043.Yahoo/B3311270;sz=1x1;ord=123?") == \
        {("rfi.trailing-question", Severity.MEDIUM)}
    assert rules("http://frontend.shop.svc.cluster.local/cart", name="referer", kind="header") == set()


def test_benign_urls_pass():
    for v in ("https://example.com/", "http://www.example.com/some/path", "http://foo:bar@example.com/",
              "https://foo.bar?foo=bar", "https://medium.com/@user/post", "12:30:45", "note: see url: below",
              "redis: connection refused", "data://text/plain;base64,SSBsb3ZlIFBIUAo="):
        assert rules(v) == set(), v


def test_offsite_url_is_low():
    req = Request(authority="example.com", query="x=https%3A%2F%2Fevil.example%2F")
    found = list(DET.scan_request(req, [Input("query", "x", "https://evil.example/")]))
    assert {(f.rule, f.severity) for f in found} == {("rfi.offsite-url", Severity.LOW)}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("htpfile:/\\@[]%.0x7fa9:1;?# ①ⓛ")) , max_size=300) | st.text(max_size=300))
def test_parser_never_raises_bounded_deterministic(s):
    refs = find_urls(s)
    assert len(refs) <= MAX_URLS and refs == find_urls(s)
    for r in refs:
        classify_host(r.host)
        for h in r.other_hosts:
            classify_host(h)
    assert list(DET.scan_input(Input("query", "q", s))) == list(DET.scan_input(Input("query", "q", s)))


def test_names_and_offsite_urls_through_decode():
    from detect_helpers import request, rule_set
    assert rule_set(DET, request("/x?http://2852039166/=1")) == {("ssrf.metadata", "CRITICAL")}
    assert rule_set(DET, request("/x?u=https%3A%2F%2Fevil.example%2F")) == {("rfi.offsite-url", "LOW")}
    assert rule_set(DET, request("/x", "POST", {"content-type": "application/json"},
                                 '{"u": "https:\\/\\/evil.example\\/"}')) == {("rfi.offsite-url", "LOW")}
    assert not rule_set(DET, request("/x?u=https%3A%2F%2Fapp.example.com%2Fback"))
    assert not rule_set(DET, request("/x?u=plain"))


def test_internal_host_named_without_a_scheme():
    # apps that take a host or URL prepend the scheme themselves
    for v, name in (("localhost/", "url"), ("LOCALHOST/", "target"), ("localhost4/", "x"), ("ipv6-localhost/", "x"),
                    ("localhost4.localdomain4/", "x"), ("host.docker.internal/", "x"),
                    ("gateway.docker.internal/admin", "x"), ("host.containers.internal/", "x"),
                    ("kubernetes.default.svc.cluster.local/", "x"), ("kubernetes.default:443/api", "x"),
                    ("lvh.me/", "x"), ("127.0.0.1.nip.io/", "x"), ("localhost", "url"), ("localhost:8080", "target"),
                    ("kubernetes", "endpoint")):
        assert ("ssrf.internal-host", Severity.HIGH) in rules(v, name=name), v
    assert rules("169.254.169.254/latest/meta-data/", name="q") == {("ssrf.metadata", Severity.CRITICAL)}
    assert rules("host.docker.internal/", name="redirect", kind="cookie") == {("ssrf.internal-host", Severity.HIGH)}
    assert rules("localhost4/", name="redirect_uri") == {("ssrf.internal-redirect", Severity.LOW)}


def test_bare_names_that_are_words_or_relative_paths_pass():
    for v, name in (("localhost", "q"), ("localhost:3000", "q"), ("metadata", "q"), ("metadata/x.json", "file"),
                    ("kubernetes/deploy.yaml", "f"), ("vault/secrets.md", "doc"), ("printer.local", "name"),
                    ("example.com/", "url"), ("10.0.0.1/", "ip"), ("run it on localhost/ now", "q"),
                    ("localhost/", "q"), ("localhost/phpmyadmin", "q")):
        kind = "header" if v == "localhost/" else "query"
        assert rules(v, name=name, kind=kind) == set(), v


def test_internal_address_without_a_scheme_in_a_url_parameter():
    for v in ("127.0.0.1:6379/", "10.0.0.5/admin", "0x7f000001/", "[::1]:8080/", "192.168.1.1:22"):
        assert rules(v, name="url") == {("ssrf.internal-host", Severity.HIGH)}, v
    for v, name in (("10.0.0.1/24", "cidr"), ("1/2", "q"), ("127.0.0.1", "url"), ("8.8.8.8/", "url"),
                    ("12/05/2020", "date")):
        assert rules(v, name=name) == set(), v


def test_bare_internal_hosts_through_decode():
    from detect_helpers import request, rule_set
    assert rule_set(DET, request("/get/test?url=localhost4.localdomain4/")) == {("ssrf.internal-host", "HIGH")}
    assert rule_set(DET, request("/fetch?url=127.0.0.1%3A6379%2F")) == {("ssrf.internal-host", "HIGH")}
    assert not rule_set(DET, request("/x?q=12%2F05%2F2020"))


def test_mesh_address_space_in_an_east_west_call_needs_company():
    """Between workloads, cluster names and private addresses are the mesh's own (callbacks,
    connection strings); from outside, or loopback / metadata / disguised, they stay SSRF."""
    import json

    from extauthz.config import parse_config
    from extauthz.engine import Engine
    from extauthz.request import Hop, Peer

    engine = Engine(parse_config(""))
    caller = Peer("10.244.1.5", 40000, "spiffe://cluster.local/ns/prod/sa/checkout")

    def verdict(value, hop, source=caller):
        body = json.dumps({"endpoint": value}).encode()
        return engine.check(Request(method="POST", path="/api/hooks", headers={"content-type": ("application/json",)},
                                    body=body, hop=hop, service="orders", source=source))

    for value in ("http://orders.default.svc.cluster.local:8080/hooks/paid", "https://payments.prod.svc.cluster.local/v1/charge",
                  "http://10.0.3.7:9090/metrics"):
        east = verdict(value, Hop.SIDECAR_INBOUND)
        assert east.decision.value == "allow", value
        assert any(f.rule.startswith("ssrf.internal") for f in east.findings), value  # still recorded
        assert max(f.severity for f in east.findings) <= Severity.MEDIUM, value
        assert verdict(value, Hop.EDGE).decision.value == "deny", value  # the same value from outside
        assert verdict(value, Hop.SIDECAR_INBOUND, Peer("10.244.1.5", 40000)).decision.value == "deny", value
    for value in ("http://127.0.0.1:15000/quitquitquit", "http://169.254.169.254/latest/meta-data/",
                  "gopher://10.0.0.9:6379/_FLUSHALL", "redis://cache.prod.svc:6379/0", "http://0x0a000001/admin"):
        assert verdict(value, Hop.SIDECAR_INBOUND).decision.value == "deny", value


def test_remote_image_in_an_xml_attribute_is_no_include():
    assert rules("https://maven.apache.org/images/logo.png", name="/project/bannerLeft/src", kind="xml") == \
        {("rfi.include-param", Severity.INFO)}
    assert ("rfi.include-param", Severity.HIGH) in rules("https://evil.example/x", name="src")
    assert max(s for _, s in rules("http://evil.example/shell.txt", name="/a/src", kind="xml")) >= Severity.HIGH
