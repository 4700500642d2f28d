"""Uploads of scripts, configuration files and PHP session files."""
from __future__ import annotations

import pytest

from extauthz.decode import Input
from extauthz.detect.upload import ScriptUpload, classify

DETECTOR = ScriptUpload()


@pytest.mark.parametrize("name,rule", [
    ("a.php", "upload.script"), ("shell.phtml", "upload.script"), ("fda.php5...", "upload.script"),
    ("photo. php", "upload.script"), ("photo.php ", "upload.script"), ("test.php.jpg", "upload.script"),
    ("dangerous.phar", "upload.script"), ("a.jsp..", "upload.script"), ("x.aspx", "upload.script"),
    (".htaccess", "upload.config-file"), ("wp-config-php.bak", "upload.config-file"),
    ("WEB.CONFIG", "upload.config-file"), ("sess_d8ew88tqmabdcokhumchy8htqm", "upload.php-session"),
    ("/var/lib/php/sessions/sess_attackervector1234567890", "upload.php-session"),
])
def test_dangerous_names(name, rule):
    assert classify(name)[0] == rule


@pytest.mark.parametrize("name", ["photo.jpg", "report.pdf", "safe.phpinfo", "session_report.txt",
                                  "sess_short", "mydata.sess", "abc.botox.jpg", "my_sess_data.txt"])
def test_safe_names(name):
    assert classify(name) is None


def test_only_filename_locations():
    assert list(DETECTOR.scan_input(Input("header", "x-filename", "a.php")))
    assert list(DETECTOR.scan_input(Input("multipart", "file.filename", "a.php")))
    assert not list(DETECTOR.scan_input(Input("header", "user-agent", "a.php")))
    assert not list(DETECTOR.scan_input(Input("multipart", "file", "a.php")))
