"""Parsers, one small module per format, registered by name.

Adding a format: write extauthz/decode/parsers/<name>.py with a `@register`ed
parse function and add one import line below.
"""
from __future__ import annotations

from extauthz.decode.parsers.base import PARSERS, Parser, Where, register

# Registry: one line per parser module.
from extauthz.decode.parsers import urlencoded  # noqa: E402,F401
from extauthz.decode.parsers import jsondoc  # noqa: E402,F401
from extauthz.decode.parsers import xmldoc  # noqa: E402,F401
from extauthz.decode.parsers import multipart  # noqa: E402,F401
from extauthz.decode.parsers import graphql  # noqa: E402,F401
from extauthz.decode.parsers import text  # noqa: E402,F401
from extauthz.decode.parsers import cookies  # noqa: E402,F401
from extauthz.decode.parsers import path  # noqa: E402,F401

__all__ = ["PARSERS", "Parser", "Where", "register"]
