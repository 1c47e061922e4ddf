"""The ``shadowdns`` command: one entry point, a subcommand per component.

Each component owns its own argument parsing (``register(subparsers)``) so that this module
stays a table of contents.

No Python traceback reaches the user.  A bad input that a component reports as its own
error type (a bad config key, an unreadable file, a store that is not one) is one line naming
the flag or the file, exit status 2; so is an OSError about a path.  Another OSError (a port
in use) is one line, exit status 1.  Anything else is a bug: one line saying so and where the
full traceback was written, exit status 70 (``SHADOWDNS_DEBUG=1`` prints the traceback
instead).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Sequence

EXIT_USAGE = 2
EXIT_INTERNAL = 70  # sysexits.h EX_SOFTWARE

OWN_PACKAGES = r"(shadowdns|resolver|harness|legacy_adapter|deckard|reports|lab|netpolicy)(\.|$)"


CHILD_WARNINGS = "ignore:DSA is deprecated"
"""Handed to our own child processes (``PYTHONWARNINGS``): a spawned worker imports dnspython's
DSA support (``CryptographyDeprecationWarning`` at import) before any of our code can set a
filter, so the filter has to come with the interpreter's start."""


def quiet_third_party_warnings() -> None:
    """Keep other packages' warnings (a dependency's deprecations) off the user's terminal.

    Our own packages' warnings still show. ``python -W ...`` or ``PYTHONWARNINGS`` set by the
    user win: then nothing is changed.
    """
    if any(option != CHILD_WARNINGS for option in sys.warnoptions):
        return
    warnings.filterwarnings("ignore")
    warnings.filterwarnings("default", module=OWN_PACKAGES)
    os.environ.setdefault("PYTHONWARNINGS", CHILD_WARNINGS)


_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]+\.)?([^`]+)`")


def plain_text(text: str) -> str:
    """Help text from a docstring: reST roles, ``literals`` and `refs` as plain words."""
    text = _ROLE.sub(r"\1", text)
    text = text.replace("``", "")
    text = re.sub(r"`([^`]+)`", r"\1", text)
    return re.sub(r"::$", ":", text, flags=re.MULTILINE)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """One style for every command: descriptions as written (plain text), and every option
    with a default shows it as ``(default: X)`` unless its help already says ``(default: ...)``
    in words."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if ("(default: " in text or default is None or default is False or default == []
                or default is argparse.SUPPRESS or action.nargs == 0 and default is True):
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return f"{text} (default: %(default)s)"
        return text


def all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and every parser under it (subcommands, and the help-only parsers a
    command keeps in ``subcommand_help``)."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += all_parsers(sub)
    for sub in getattr(parser, "subcommand_help", {}).values():
        found += all_parsers(sub)
    return found


def _one_style(parser: argparse.ArgumentParser) -> None:
    for p in all_parsers(parser):
        p.formatter_class = HelpFormatter
        if p.description:
            p.description = plain_text(p.description)
        for action in p._actions:
            if action.help:
                action.help = plain_text(action.help)


def build_parser() -> argparse.ArgumentParser:
    from deckard import cli as deckard_cli
    from harness import cli as harness_cli
    from harness.bus import cli as bus_cli
    from lab import cli as lab_cli
    from reports import bench as bench_report
    from reports import cli as reports_cli
    from resolver import cli as resolver_cli
    from shadowdns import demo
    from shadowdns.bench import (
        amplification,
        chaos,
        differ,
        differ_live,
        fairness,
        fuzz,
        harness,
        peers,
        plugin_swap,
        plugins,
        profile,
        recording,
    )
    from shadowdns.bench import resolver as bench_resolver

    parser = argparse.ArgumentParser(
        prog="shadowdns",
        description="Shadow-mode differential testing of DNS recursive resolvers.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    lab_cli.register(sub)
    demo.register(sub)
    deckard_cli.register(sub)
    resolver_cli.register(sub)
    harness_cli.register(sub)
    benches = sub.add_parser("bench", help="benchmarks against Unbound on the lab")
    bsub = benches.add_subparsers(dest="bench_command", required=True, metavar="WHAT")
    bench_resolver.register(bsub)
    harness.register(bsub)
    differ.register(bsub, live=differ_live.run_live)
    for module in (amplification, chaos, fairness, fuzz, peers, plugin_swap, plugins, profile,
                   recording, bench_report):
        module.register(bsub)
    bus_cli.register(sub)
    reports_cli.register(sub)
    _one_style(parser)
    return parser


class UserError(Exception):
    """A bad input, said in one line (the flag or file:line and what is wrong): exit 2."""


def user_errors() -> tuple[type[BaseException], ...]:
    """The components' own error types for bad input (each message names what and where)."""
    from configfiles import ConfigError  # harness, resolver, lab worlds, known failures
    from legacy_adapter.errors import LabFileError
    from reports.tables import StoreError
    from resolver.dnssec.anchors import TrustAnchorError

    return (UserError, ConfigError, TrustAnchorError, StoreError, LabFileError)


def main(argv: Sequence[str] | None = None) -> int:
    quiet_third_party_warnings()
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    where = f"{parser.prog} {args.command}"
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
    except user_errors() as e:
        print(f"{where}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:  # a path the user gave (exit 2), or the machine (a port in use)
        if e.filename is None:
            print(f"{where}: {e.strerror or e}", file=sys.stderr)
            return 1
        print(f"{where}: {e.filename}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:
        return _internal_error(where, e)


def _internal_error(where: str, error: BaseException) -> int:
    """One line for a bug; the traceback goes to a file (or to stderr with SHADOWDNS_DEBUG=1)."""
    text = "".join(traceback.format_exception(error))
    if os.environ.get("SHADOWDNS_DEBUG", "") not in ("", "0"):
        sys.stderr.write(text)
        return EXIT_INTERNAL
    summary = f"{type(error).__name__}: {error}".splitlines()[0]
    try:
        fd, name = tempfile.mkstemp(prefix="shadowdns-traceback-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        saved = f"the traceback is in {name}"
    except OSError:
        saved = "set SHADOWDNS_DEBUG=1 to see the traceback"
    print(f"{where}: internal error: {summary} ({saved}; please report it)", file=sys.stderr)
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
