"""Reading what an operator hands shadowdns in files: one reader of each kind for every package.

* :class:`ConfigError`: bad input, said in one line that names the file (and line or key)
  and what is wrong; every package's own error for a bad file derives from it.
* :func:`read_text`, :func:`parse_yaml`, :func:`read_yaml`: a configuration file's text and
  its YAML, with the file and line of a syntax error.
* :mod:`configfiles.roothints`: root hints in zone-file format, every address checked by an
  :class:`~netpolicy.AddressPolicy`.
* :mod:`configfiles.psl`: registered domains by the public suffix list shipped with the
  ``publicsuffixlist`` package (the differ and the peer ring key by them alike).

Like :mod:`netpolicy` (which it uses for addresses), this package imports nothing else of
ours, so ``resolver``, ``lab``, ``legacy_adapter``, ``harness``, ``deckard`` and the command
line all read the same files by the same rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["ConfigError", "parse_yaml", "read_text", "read_yaml"]


class ConfigError(ValueError):
    """A bad configuration; the message names the file, the key (or line) and the problem.

    Made with ``source`` and ``key``, the message is ``source: key: detail`` (with ``line``,
    ``source:line: ...``, as editors jump to) and the parts stay readable (``.source``,
    ``.line``, ``.key``, ``.detail``), so that a command line can name the flag that set a
    key instead.
    """

    def __init__(self, detail: str, *, source: str | None = None, key: str | None = None,
                 line: int | None = None) -> None:
        where = source if source is None or line is None else f"{source}:{line}"
        super().__init__(": ".join(p for p in (where, key, detail) if p is not None))
        self.source = source
        self.line = line
        self.key = key
        self.detail = detail


def read_text(path: Path | str) -> str:
    """A configuration file's text (UTF-8); :class:`ConfigError` naming the file when it
    cannot be read or is not text."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror or e}", source=str(path)) from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"not a text file ({e.reason} at byte {e.start})",
                          source=str(path)) from None


def parse_yaml(text: str, source: str) -> Any:
    """``text`` as YAML (safe types only); a syntax error is one :class:`ConfigError` line
    naming ``source`` and the line (``.line``)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"not valid YAML: {problem}", source=source, line=line) from None


def read_yaml(path: Path | str) -> tuple[Any, str]:
    """The YAML document in ``path`` and the file's text (for errors that quote lines)."""
    text = read_text(path)
    return parse_yaml(text, str(path)), text
