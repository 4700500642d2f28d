"""SSRF and remote file inclusion: URLs in values, judged by what they point at.

One parse (urlparts.find_urls) serves both classes:

- ssrf: the URL's host, as *any* lenient parser would read it, is internal
  (loopback in all its spellings, private and link-local ranges, cloud
  metadata, *.internal / *.svc.cluster.local, DNS-rebinding names), or is an
  IP written in a spelling nobody uses honestly (decimal, hex, octal, mapped
  IPv6, lookalike digits);
- rfi: a scheme a fetcher should never follow (file, gopher, dict, php, jar,
  expect, ...), a `?` that swallows the suffix the app appends, a remote
  script, an IP-literal host, `@`/backslash tricks that make parsers disagree,
  or a remote URL in a parameter that a server includes (`page`, `file`,
  `template`, ...). A plain off-site URL elsewhere is common and benign
  (links, redirects) and is not reported.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from extauthz.decode import Input
from extauthz.decode.inputs import leaf_name
from extauthz.detect.base import Detector, from_mesh_workload, register
from extauthz.detect.raw_markers import raw_markers
from extauthz.detect.urlparts import (DANGEROUS_SCHEMES, FETCH_SCHEMES, INTERNAL_KINDS, KNOWN_SCHEMES,
                                      BareHost, HostInfo, HostKind, UrlRef, bare_host, classify_host, find_urls)
from extauthz.finding import Finding, Severity, excerpt
from extauthz.lang.commands import path_list
from extauthz.request import Request
from extauthz.rules import rule_yaml

_DATA = rule_yaml("urls.yaml")
INCLUDE_PARAMS = frozenset(_DATA["include_params"])
REDIRECT_PARAMS = frozenset(_DATA["redirect_params"])
FETCH_PARAMS = frozenset(_DATA["fetch_params"])
# Where a bare internal host name (no scheme) is judged: parameters, bodies and cookies;
# not headers (in a mesh they name internal hosts legitimately) nor the path.
MAX_INNER_SCHEME = 16
# The mesh's own address space: private addresses and cluster names (`orders.prod.svc`).
# In an east-west call from an identified workload (callbacks, service URLs, connection
# strings) they are ordinary; loopback, link-local and rebinding names are not.
MESH_SPACE_KINDS = frozenset({HostKind.PRIVATE, HostKind.INTERNAL_NAME})
BARE_HOST_KINDS = frozenset({"query", "form", "json", "xml", "multipart", "graphql", "cookie"})
# Kinds of internal *names* a bare value may name (bare private IPs are common in benign forms).
_BARE_NAME_KINDS = frozenset({HostKind.LOOPBACK, HostKind.INTERNAL_NAME, HostKind.REBINDING})
# Headers that carry the client's or the site's own URLs (in a mesh these name
# internal hosts legitimately): not a place a fetcher takes URLs from.
SELF_URL_HEADERS = frozenset({"referer", "origin", "host", ":authority", "x-forwarded-host", "forwarded",
                              "x-forwarded-for", "x-forwarded-proto", "via", "location", "x-envoy-original-path"})
# Where a whole-value off-site URL is noted: parameters and bodies, not the path,
# headers or cookies (a site's own cookies carry its return URLs).
OFFSITE_KINDS = frozenset({"query", "form", "json", "xml", "multipart", "graphql", "body"})
SCRIPT_EXTENSIONS = (".php", ".php3", ".php4", ".php5", ".php7", ".phtml", ".phar", ".inc", ".txt",
                     ".pl", ".py", ".sh", ".cgi", ".jsp", ".jspx", ".asp", ".aspx", ".cfm", ".rb")


def _internal_severity(kind: HostKind, suspect: bool) -> tuple[Severity, str]:
    """HIGH, or MEDIUM with a note for the mesh's own address space in a call between workloads."""
    if kind in MESH_SPACE_KINDS and not suspect and from_mesh_workload():
        return Severity.MEDIUM, " (east-west call from a mesh workload)"
    return Severity.HIGH, ""


def _inner_scheme(path: str) -> str:
    """The scheme a wrapped URL starts with (`https` of `url:https://x`), or ""."""
    head, colon, _ = path[:MAX_INNER_SCHEME].partition(":")
    return head if colon and head.isalnum() else ""


def _internal_name_trigger() -> str:
    """Internal host names and suffixes, for values that name a host without a scheme."""
    words = set(_DATA["loopback_names"]) | set(_DATA["internal_names"]) | set(_DATA["rebinding_names"]) \
        | {str(h) for h in _DATA["metadata_hosts"]} | set(_DATA["internal_suffixes"]) | set(_DATA["rebinding_suffixes"])
    names = sorted((w.lower() for w in words), key=lambda n: (-len(n), n))
    return "(?:" + "|".join(n.replace(".", r"\.") for n in names) + ")"


def _scheme_trigger() -> str:
    names = sorted(KNOWN_SCHEMES, key=lambda n: (-len(n), n))
    alt = "|".join(n.replace(".", r"\.").replace("+", r"\+") for n in names)
    return rf"(?:^|[^a-z0-9+.\-])(?:{alt})\s*:"



TEXT_VALUE = 1024  # a value this long that only mentions a URL is text (a page, a build log)
_SYSTEM_DIRS = ("/etc", "/proc", "/sys", "/dev", "/root", "/boot", "/var", "/run", "/tmp", "/usr/local/etc")


def _local_file_in_text(value: str, ref: UrlRef) -> bool:
    """`file:///projects/app` in a build log or a page: a file: URL of this machine's own
    files, inside a long text, to no sensitive or system path. What a payload sends
    (the URL as the value: `url=file:///etc/passwd`, an entity's SYSTEM
    `file:///etc/passwd`, `file://attacker/share`) stays HIGH."""
    if ref.scheme != "file" or len(value) < TEXT_VALUE:
        return False
    raw = value[ref.start:ref.end]
    rest = raw[5:]
    if rest.startswith("///"):
        path = rest[2:]
    elif rest[:12].lower() == "//localhost/":
        path = rest[11:]
    elif rest[:1] == "/" and rest[1:2] != "/":
        path = rest
    else:
        return False  # a host: file://server/share
    low = path.lower().rstrip(").,;:'\"")
    if ".." in low or "%" in low or "\\" in low or low[2:3] == ":" or low.startswith(_SYSTEM_DIRS):
        return False
    return not path_list().sensitive(low)

@register
class SsrfRfi(Detector):
    name = "ssrf_rfi"
    triggers = (r"://", r"%3a%2f%2f", _scheme_trigger(), r"^\s*(?:file|ftps?|https?)\?+\s*$",
                _internal_name_trigger(), r"^\s*(?:\d|0x|\[)[0-9a-fx.:\[\]]{0,64}[:/]")
    kinds = None

    def scan_input(self, inp: Input) -> Iterable[Finding]:
        if inp.kind == "header" and inp.name.lower() in SELF_URL_HEADERS:
            return ()
        value = inp.value
        bare = value.strip().rstrip("?").lower()
        if bare != value.strip().lower() and bare in FETCH_SCHEMES | {"file"}:
            # `file?`, `http?`: the start of an RFI payload whose `?` cuts off the app's suffix
            return (Finding("rfi", "rfi.trailing-question", Severity.HIGH, inp.location,
                            excerpt(value, 0, len(value), inp.location), inp.chain,
                            detail="scheme followed by `?`"),)
        lead = len(value) - len(value.lstrip())
        best: Finding | None = None
        for ref in find_urls(value):
            whole = ref.start <= lead
            f = self._judge(inp, ref, whole)
            if f is not None and (best is None or f.severity > best.severity):
                best = f
        if best is None and inp.kind in BARE_HOST_KINDS:
            bare = bare_host(value)
            if bare is not None:
                best = self._judge_bare(inp, bare)
        return (best,) if best is not None else ()

    def _judge_bare(self, inp: Input, bare: BareHost) -> Finding | None:
        """`url=localhost/`, `endpoint=kubernetes.default.svc:443/api`, `169.254.169.254/latest`,
        `url=127.0.0.1:6379/`:
        an internal host named without a scheme (the app prepends one). A lone name
        (`localhost` as a search word) counts only in a parameter that takes a URL."""
        leaf = leaf_name(inp.name)
        info = classify_host(bare.host)
        if info.ip_literal and info.kind is not HostKind.METADATA:
            # `url=127.0.0.1:6379/`, `target=0x7f000001/admin`: an address with a port or path in a
            # parameter that takes a URL (elsewhere `10.0.0.1/24` or `1/2` is ordinary text)
            if info.kind in INTERNAL_KINDS and leaf in FETCH_PARAMS and (bare.path or bare.port):
                sev, note = _internal_severity(info.kind, info.obfuscated)
                return self._bare_f(inp, "ssrf.internal-host", sev,
                                    f"{info.kind.value} address {info.name} named without a scheme{note}")
            return None
        if info.kind not in _BARE_NAME_KINDS and info.kind is not HostKind.METADATA:
            return None
        # `localhost4/` or `host.docker.internal/` read as URLs; `kubernetes/deploy.yaml` or
        # `metadata/x.json` as relative file paths, and `localhost/phpmyadmin` or `localhost:3000`
        # typed into a search box as words: a one-word name (plain localhost included) needs a URL
        # parameter; a dotted name or a localhost variant needs a path.
        url_like = bool(bare.path) and ("." in info.name or "localhost" in info.name and info.name != "localhost")
        if not (url_like or leaf in FETCH_PARAMS):
            return None
        if info.kind is HostKind.METADATA:
            return self._bare_f(inp, "ssrf.metadata", Severity.CRITICAL, f"cloud metadata service {info.name}")
        if leaf in REDIRECT_PARAMS and info.kind is HostKind.LOOPBACK:
            return self._bare_f(inp, "ssrf.internal-redirect", Severity.LOW, "redirect back to a loopback name")
        sev, note = _internal_severity(info.kind, info.obfuscated)
        return self._bare_f(inp, "ssrf.internal-host", sev, f"{info.kind.value} host {info.name} named without a scheme{note}")

    @staticmethod
    def _bare_f(inp: Input, rule: str, sev: Severity, detail: str) -> Finding:
        return Finding("ssrf", rule, sev, inp.location, excerpt(inp.value, 0, len(inp.value), inp.location),
                       inp.chain, detail=detail)

    def _judge(self, inp: Input, ref: UrlRef, whole: bool) -> Finding | None:
        is_path = inp.kind == "path"
        leaf = leaf_name(inp.name)
        hosts = ((ref.host,) if ref.host else ()) + ref.other_hosts
        infos = [classify_host(h) for h in hosts[:5]]
        internal = _worst_internal(infos)
        if internal is not None:
            if internal.kind is HostKind.METADATA:
                return self._f(inp, ref, "ssrf", "ssrf.metadata", Severity.CRITICAL,
                               f"cloud metadata service {internal.name}")
            if leaf in REDIRECT_PARAMS and internal.kind in (HostKind.LOOPBACK, HostKind.PRIVATE) \
                    and not internal.obfuscated and not ref.confused:
                return self._f(inp, ref, "ssrf", "ssrf.internal-redirect", Severity.LOW,
                               f"redirect back to {internal.kind.value} host")
            suspect = internal.obfuscated or ref.confused or ref.scheme in DANGEROUS_SCHEMES
            sev, note = _internal_severity(internal.kind, suspect)
            return self._f(inp, ref, "ssrf", "ssrf.internal-host", sev, f"{internal.kind.value} host {internal.name}{note}")
        if any(i.obfuscated and i.ip_literal for i in infos):
            return self._f(inp, ref, "ssrf", "ssrf.obfuscated-ip", Severity.HIGH, "IP address in an unusual spelling")
        # Not a URL of that scheme: `File::Find`, `URL::Encode` (a Perl, Ruby or C++ name whose
        # first part spells a scheme), "startup file::" (reStructuredText's literal-block marker
        # ending a sentence), and `<URL:https://example.org>` (RFC 1738's way to quote a
        # URL in text: the `url:` prefix only matters around a dangerous scheme,
        # `url:file:///etc/passwd`; the inner URL is found and judged on its own)
        not_a_url = (ref.path[:1] == ":" and (ref.path[1:2].isalpha() or ref.path[1:2].strip() == "")) or (
            ref.scheme == "url" and _inner_scheme(ref.path) in FETCH_SCHEMES)
        if ref.scheme in DANGEROUS_SCHEMES and not not_a_url and (
                ref.authority or ref.path[:1] in ("/", "\\") or ":" in ref.path):
            if not whole and _local_file_in_text(inp.value, ref):
                return self._f(inp, ref, "rfi", "rfi.dangerous-scheme", Severity.MEDIUM,
                               "file: URL of an ordinary local path, in text")
            return self._f(inp, ref, "rfi", "rfi.dangerous-scheme", Severity.HIGH, f"{ref.scheme}: URL")
        if ref.confused:
            return self._f(inp, ref, "rfi", "rfi.url-confusion", Severity.HIGH,
                           "userinfo or `@` placement that parsers read differently")
        if ref.scheme not in FETCH_SCHEMES or not (whole or is_path):
            return None
        if is_path:
            return self._f(inp, ref, "rfi", "rfi.url-in-path", Severity.MEDIUM, "a URL inside the request path")
        if ref.trailing_question:
            # `http://evil/shell.txt?`; ad-server URLs also end in `?` but name no script
            script = ref.path.strip("/") == "" or ref.path.endswith(SCRIPT_EXTENSIONS)
            return self._f(inp, ref, "rfi", "rfi.trailing-question", Severity.HIGH if script else Severity.MEDIUM,
                           "remote URL ending in `?` (cuts off what the app appends)")
        if ref.authority and infos and infos[0].ip_literal:
            return self._f(inp, ref, "rfi", "rfi.ip-host", Severity.HIGH, "remote URL to an IP address")
        if ref.authority and leaf in INCLUDE_PARAMS:
            if inp.kind == "xml" and not ref.path.endswith(SCRIPT_EXTENSIONS):
                # <bannerLeft><src>https://maven.apache.org/images/logo.png</src>: an element (or
                # attribute) of an XML document, not a parameter a PHP include reads
                return self._f(inp, ref, "rfi", "rfi.include-param", Severity.INFO,
                               f"remote URL in XML element {leaf!r}")
            return self._f(inp, ref, "rfi", "rfi.include-param", Severity.HIGH,
                           f"remote URL in include parameter {leaf!r}")
        if ref.path.endswith(SCRIPT_EXTENSIONS):
            return self._f(inp, ref, "rfi", "rfi.remote-script", Severity.MEDIUM, "remote URL to a script or text file")
        return None

    def __init__(self) -> None:
        self._markers = raw_markers()

    def scan_request(self, request: Request, inputs: Sequence[Input]) -> Iterable[Finding]:
        """Notes (LOW, for the analyst) a whole-value URL to another site than
        the request's own host: common in benign traffic (links, redirects), so
        it never blocks on its own. (URLs in parameter *names* are Inputs of
        their own, role "key", and go through scan_input.)
        """
        if "url" not in self._markers.of(request):
            return
        own = (request.authority or request.header("host") or "").lower().rsplit(":", 1)[0]
        if not own:
            return
        for inp in inputs:
            v = inp.value
            if v[:4] in ("http", "HTTP", "Http") and inp.kind in OFFSITE_KINDS and inp.role == "value" \
                    and v[:8].lower().startswith(("http://", "https://")):
                refs = find_urls(v)
                if refs and refs[0].authority and refs[0].host and refs[0].start == 0:
                    host = refs[0].host
                    if host != own and not host.endswith("." + own) and not own.endswith("." + host):
                        yield self._f(inp, refs[0], "rfi", "rfi.offsite-url", Severity.LOW,
                                      f"URL to another site ({host})")

    @staticmethod
    def _f(inp: Input, ref: UrlRef, cls: str, rule: str, sev: Severity, detail: str) -> Finding:
        return Finding(cls, rule, sev, inp.location, excerpt(inp.value, ref.start, ref.end, inp.location),
                       inp.chain, detail=detail)


def _worst_internal(infos: list[HostInfo]) -> HostInfo | None:
    best = None
    for i in infos:
        if i.kind in INTERNAL_KINDS:
            if best is None or (i.kind is HostKind.METADATA and best.kind is not HostKind.METADATA):
                best = i
    return best
