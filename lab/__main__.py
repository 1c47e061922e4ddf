"""``python -m lab serve ...``: how :class:`lab.run.LabProcess` starts the lab process."""

import argparse
import sys
import warnings

if not sys.warnoptions:  # a dependency's deprecations stay off the lab's log (see shadowdns.cli)
    warnings.filterwarnings("ignore")
    warnings.filterwarnings("default", module=r"lab(\.|$)")

from lab import cli  # noqa: E402 (after the warning filters)

parser = argparse.ArgumentParser(prog="python -m lab")
cli.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(["lab", *sys.argv[1:]])
sys.exit(args.func(args))
