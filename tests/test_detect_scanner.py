from detect_helpers import findings
from extauthz.decode import Input
from extauthz.detect.scanner import Scanner
from extauthz.finding import Severity
from extauthz.request import Request

DET = Scanner()


def found(path="/", ua="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", headers=None, host="shop.example.com"):
    h = {"user-agent": (ua,), "host": (host,)}
    h.update(headers or {})
    req = Request(path=path, headers=h, authority=host)
    return {(f.rule, f.severity) for f in findings(DET, req)}


def test_scanner_user_agents_are_high():
    for ua in ("sqlmap/1.7#stable (https://sqlmap.org)", "Mozilla/5.0 (compatible; Nmap Scripting Engine)",
               "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1) Havij", "Arachni/0.2.1", "nuclei", "nessus",
               "Mozilla/5.0 zgrab/0.x", "Fuzz Faster U Fool v2.1.0 (ffuf)", "WPScan v3.8.22 (https://wpscan.com/)"):
        assert ("scanner.user-agent", Severity.HIGH) in found(ua=ua), ua


def test_ordinary_clients_pass():
    for ua in ("urlgrabber/3.10 yum/3.4.3", "mozilla/5.0 ecairn-grabber/1.0 (+http://ecairn.com/grabber)",
               "curl/8.5.0", "python-requests/2.31.0", "Googlebot/2.1 (+http://www.google.com/bot.html)"):
        assert found(ua=ua) == set(), ua


def test_marker_headers():
    assert ("scanner.marker-header", Severity.HIGH) in found(headers={"acunetix-product": ("WVS/5.0",)})


def test_backup_and_probe_paths():
    for path in ("/index.php.bak", "/tienda1/imagenes/1.gif.BAK", "/site/config.inc", "/x/logo.gif.java",
                 "/a/index.jsp/.old", "/a/~", "/index.php~", "/index.php~/foo/bar/", "/backup.sql.zip",
                 "/dump.rdb", "/www.tar.gz", "/shop.example.com.zip", "/_vti_bin/shtml.dll",
                 "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php"):
        assert any(sev == Severity.HIGH for _, sev in found(path)), path
    assert found("/server-status") == {("scanner.probe-path", Severity.MEDIUM)}
    assert found("/misc/sample.log") == {("scanner.backup-file", Severity.MEDIUM)}


def test_benign_paths_pass():
    for path in ("/", "/~user/", "/misc/client.java", "/files/xdotool/xdotool-2.20101014.3063.tar.gz",
                 "/data.zip", "/scripts/python/wrap.backup/", "/jquery-1.1.2.min.js", "/blog/tags/sysadmin",
                 "/administrator/index.php", "/index.html"):
        assert found(path) == set(), path


def test_oast_domains_in_values():
    assert list(DET.scan_input(Input("query", "q", "x.abcdef.oast.fun")))
    assert not list(DET.scan_input(Input("query", "q", "nikto")))  # an agent name outside the User-Agent
    assert not list(DET.scan_input(Input("header", "referer", "https://x.oast.fun/")))
    assert DET.triggers
