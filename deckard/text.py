"""Line-level helpers shared by the header and body parsers: comments, quotes, errors.

Every parse error is a :class:`ScenarioError` that names ``file:line`` and what is wrong,
so one broken scenario is reported precisely and the others still run.
"""

from __future__ import annotations

from pathlib import Path


class ScenarioError(ValueError):
    """A malformed scenario file: ``path:line: problem``."""

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


def strip_comment(line: str, markers: str = ";") -> str:
    """``line`` without a trailing comment that starts with any of ``markers``.

    A marker inside double quotes is data, not a comment (a trust anchor's DNSKEY may
    carry ``;{id = ...}`` inside its quotes).  A backslash escapes the next character.
    """
    quoted = False
    escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch in markers and not quoted:
            return line[:i]
    return line


def unquote(value: str) -> str:
    """``"text"`` → ``text``; anything else is returned stripped but unchanged."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].strip()
    return value
