"""TokenStreams: tokenize_js of one text from several starting points, each stretch read once.

The XSS detector reads a value as code from several places (its start, after the first
quote of each kind, after line ends, after the first `;` ...), up to MAX_TOKENS tokens
each. On a long document these streams cover mostly the same text, and tokenizing it
again for every start was most of the detector's cost.

Two streams of the same text meet when one reads a token equal to a token of the other
(same kind, text, span and newline before it): the tokenizer's state after a token is a
function of that token alone (see tokenize_js `after`), so from there on both read the
same tokens. A new stream is read token by token (in doubling chunks) only until it meets
a stream read before; the rest is the other stream's suffix, topped up past that stream's
token limit by continuing after its last token. Where a new start lies inside another
stream's token (a string, a comment) the two read the text differently; they may never
meet, and the new stream is then read in full, as before.
"""
from __future__ import annotations

from extauthz.detect.js_tokens import MAX_TOKENS, JsToken, tokenize_js


class TokenStreams:
    """tokenize_js(text, start, limit) for any start, equal to it token for token."""

    def __init__(self, text: str, limit: int = MAX_TOKENS) -> None:
        self.text = text
        self.limit = limit
        self._by_start: dict[int, list[JsToken]] = {}
        # each token read so far, with a stream that has it and its index there (tokens a stream
        # took over from another are found in that other one)
        self._known: dict[JsToken, tuple[list[JsToken], int]] = {}

    def at(self, start: int) -> list[JsToken]:
        """The tokens of the text from `start` (the same list for the same start: do not modify)."""
        got = self._by_start.get(start)
        if got is None:
            got = self._by_start[start] = self._stream(start)
        return got

    def _stream(self, start: int) -> list[JsToken]:
        out: list[JsToken] = []
        known = self._known
        i, prev, chunk = start, None, 1
        while len(out) < self.limit:
            fresh = tokenize_js(self.text, i, min(chunk, self.limit - len(out)), prev)
            for token in fresh:
                met = known.get(token)
                if met is not None:
                    out.append(token)
                    return self._follow(out, *met)
                known[token] = (out, len(out))
                out.append(token)
            if len(fresh) < chunk:
                break  # the text ended
            prev = fresh[-1]
            i, chunk = prev.end, chunk * 2
        return out

    def _follow(self, out: list[JsToken], stream: list[JsToken], k: int) -> list[JsToken]:
        """`out` (ending with stream[k]) continued as `stream` reads on, up to the limit."""
        out.extend(stream[k + 1:k + 1 + self.limit - len(out)])
        if len(out) < self.limit and len(stream) == self.limit:
            # `stream` stopped at its token limit, not at the text's end: read on after its last token
            last = out[-1]
            for token in tokenize_js(self.text, last.end, self.limit - len(out), last):
                self._known.setdefault(token, (out, len(out)))
                out.append(token)
        return out
