"""The CLI reads as one tool: every flag of every command has help, defaults are shown one
way, metavars follow one style, help is plain text (no reST), and each subcommand has its
own help."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from shadowdns.cli import all_parsers, build_parser, main

METAVAR_WORDS = {
    "ADDR", "PORT", "NAME", "KIND", "NET", "FILE", "DIR", "PATH", "N", "SECONDS", "X", "MB",
    "QPS", "RATE", "TYPE", "SUFFIX", "PATTERN", "CATEGORY", "ID", "RUN", "RUN_A", "RUN_B",
    "COMMAND", "ACTION", "WHAT", "SPEED", "P", "ARG", "URL",
}
"""Words a metavar may be made of (``ADDR:PORT``, ``[NAME=]KIND@ADDR:PORT``, ``FILE``)."""


def parsers() -> list[argparse.ArgumentParser]:
    return all_parsers(build_parser())


def actions() -> Iterator[tuple[str, argparse.Action, argparse.ArgumentParser]]:
    for parser in parsers():
        for action in parser._actions:  # noqa: SLF001
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):  # noqa: SLF001
                continue
            yield f"{parser.prog} {'/'.join(action.option_strings) or action.dest}", action, parser


def expanded_help(action: argparse.Action, parser: argparse.ArgumentParser) -> str:
    return parser._get_formatter()._expand_help(action)  # noqa: SLF001


def test_every_flag_has_help() -> None:
    missing = [name for name, action, _ in actions() if not (action.help or "").strip()]
    assert not missing, missing


def test_no_rest_markup_in_any_help() -> None:
    bad = [p.prog for p in parsers() if "``" in p.format_help() or ":func:" in p.format_help()
           or re.search(r":(class|mod|data|attr):`", p.format_help())]
    assert not bad, bad


def test_defaults_are_shown_one_way() -> None:
    wrong = []
    for name, action, parser in actions():
        text = expanded_help(action, parser)
        # every "default" reads "(default: ...)"; no "(default 10)", "(10)", "text (default)"
        for m in re.finditer(r"\bdefault\b", text):
            if text[max(0, m.start() - 1):m.end() + 2] != "(default: ":
                wrong.append(f"{name}: {text!r}")
        d = action.default
        shown = not (d is None or d is False or d == [] or d is argparse.SUPPRESS)
        if shown and "(default: " not in text:
            wrong.append(f"{name}: default {action.default!r} not shown: {text!r}")
    assert not wrong, "\n".join(wrong)


def test_one_metavar_style() -> None:
    wrong = []
    for name, action, _ in actions():
        if action.nargs == 0 or action.choices is not None:
            continue  # a switch, or {a,b,c}
        metavar = action.metavar
        if metavar is None:
            wrong.append(f"{name}: no metavar (argparse would print {action.dest.upper()})")
            continue
        for text in (metavar,) if isinstance(metavar, str) else metavar:
            words = set(re.findall(r"[A-Za-z_]+", text))
            if not words <= METAVAR_WORDS or text != text.upper():
                wrong.append(f"{name}: {text}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("argv", "usage", "absent"), [
    (["report", "explain", "--help"], "shadowdns report explain", "--max-new-real"),
    (["report", "compare", "--help"], "shadowdns report compare", "--examples"),
    (["report", "--help"], "shadowdns report [RUN]", "xx-nothing-xx"),
])
def test_each_report_subcommand_has_its_own_help(
        argv: list[str], usage: str, absent: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {usage}"), out[:200]
    assert absent not in out
    assert "``" not in out
