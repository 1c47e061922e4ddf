"""Lua string literals: quoting values into kresd configs, reading kresd's replies.

kresd's configuration and its control socket are Lua. Anything we put inside a
Lua string (paths, names, trust anchors) goes through :func:`quote`, so a quote
or backslash in a path cannot change the program. kresd prints string results
the way its ``krprint`` module does: single quotes, printable ASCII as is,
everything else (including ``'`` and ``\\``) as a three-digit decimal escape
``\\ddd``; :func:`unquote_printed` reverses exactly that.
"""

from __future__ import annotations

import re

__all__ = ["quote", "unquote_printed"]

_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_DECIMAL_ESCAPE = re.compile(r"\\(\d{3})")


def quote(value: str) -> str:
    """Return ``value`` as a single-quoted Lua string literal."""
    out = ["'"]
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif " " <= char < "\x7f":
            out.append(char)
        else:
            out.extend(f"\\{byte:03d}" for byte in char.encode("utf-8"))
    out.append("'")
    return "".join(out)


def unquote_printed(text: str) -> str:
    """Decode a string as printed by kresd (``'...'`` with ``\\ddd`` escapes).

    Raises ``ValueError`` if ``text`` is not such a string, for example when
    kresd printed an error message instead.
    """
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        raise ValueError(f"not a printed Lua string: {text[:80]!r}")
    body = text[1:-1]
    if "'" in body or "\\" in _DECIMAL_ESCAPE.sub("", body):
        raise ValueError(f"not a printed Lua string: {text[:80]!r}")
    raw = _DECIMAL_ESCAPE.sub(lambda m: chr(int(m.group(1))), body)
    return raw.encode("latin-1").decode("utf-8", errors="replace")
