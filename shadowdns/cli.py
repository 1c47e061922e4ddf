"""The ``shadowdns`` command: one entry point, a subcommand per component.

Each component owns its own argument parsing (``register(subparsers)``) so that this module
stays a table of contents.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence

OWN_PACKAGES = r"(shadowdns|resolver|harness|legacy_adapter|deckard|reports|lab|netpolicy)(\.|$)"


def quiet_third_party_warnings() -> None:
    """Keep other packages' warnings (a dependency's deprecations) off the user's terminal.

    Our own packages' warnings still show. ``python -W ...`` or ``PYTHONWARNINGS`` set by the
    user win: then nothing is changed.
    """
    if sys.warnoptions:
        return
    warnings.filterwarnings("ignore")
    warnings.filterwarnings("default", module=OWN_PACKAGES)


def build_parser() -> argparse.ArgumentParser:
    from deckard import cli as deckard_cli
    from harness import cli as harness_cli
    from lab import cli as lab_cli
    from reports import cli as reports_cli
    from resolver import cli as resolver_cli
    from shadowdns import bench, demo

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
    bench.register(sub)
    reports_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    quiet_third_party_warnings()
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
