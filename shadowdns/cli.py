"""The ``shadowdns`` command: one entry point, a subcommand per component.

Each component owns its own argument parsing (``register(subparsers)``) so that this module
stays a table of contents.  Subcommands that are not built yet say so and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

NOT_BUILT = {
    "run": "the shadow harness (issue 6)",
    "report": "divergence reports (issue 8)",
}


def _not_built(what: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        print(f"shadowdns {args.command}: not built yet — {what}.", file=sys.stderr)
        return 2

    return run


def build_parser() -> argparse.ArgumentParser:
    from deckard import cli as deckard_cli
    from lab import cli as lab_cli
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
    bench.register(sub)
    for name, what in NOT_BUILT.items():
        p = sub.add_parser(name, help=f"{what} (not built yet)")
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=_not_built(what))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
