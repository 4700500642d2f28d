"""Attack detectors, one small module each, registered by name.

Adding a detector: write extauthz/detect/<name>.py with a `@register`ed
Detector subclass and add one import line below.
"""
from __future__ import annotations

from extauthz.detect.base import REGISTRY, Detector, register
from extauthz.detect.pipeline import DetectorSet

# Registry: one line per detector module.
from extauthz.detect import cmdi  # noqa: E402,F401
from extauthz.detect import crlf  # noqa: F401,E402
from extauthz.detect import java  # noqa: E402,F401
from extauthz.detect import ldapi  # noqa: F401,E402
from extauthz.detect import log4shell  # noqa: E402,F401
from extauthz.detect import mailcmd  # noqa: E402,F401
from extauthz.detect import node  # noqa: E402,F401
from extauthz.detect import nosqli  # noqa: F401,E402
from extauthz.detect import orm  # noqa: E402,F401
from extauthz.detect import path_traversal  # noqa: F401,E402
from extauthz.detect import perlruby  # noqa: E402,F401
from extauthz.detect import php  # noqa: E402,F401
from extauthz.detect import protocol  # noqa: F401,E402
from extauthz.detect import python  # noqa: E402,F401
from extauthz.detect import scanner  # noqa: F401,E402
from extauthz.detect import session_fixation  # noqa: F401,E402
from extauthz.detect import shellshock  # noqa: E402,F401
from extauthz.detect import sqli  # noqa: F401,E402
from extauthz.detect import ssi  # noqa: E402,F401
from extauthz.detect import ssti  # noqa: E402,F401
from extauthz.detect import ssrf_rfi  # noqa: F401,E402
from extauthz.detect import upload  # noqa: E402,F401
from extauthz.detect import xslt  # noqa: F401,E402
from extauthz.detect import xss  # noqa: F401,E402
from extauthz.detect import xpath  # noqa: F401,E402
from extauthz.detect import xxe  # noqa: F401,E402

__all__ = ["REGISTRY", "Detector", "DetectorSet", "register"]
