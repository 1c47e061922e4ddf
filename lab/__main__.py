"""``python -m lab serve ...``: how :class:`lab.run.LabProcess` starts the lab process."""

import argparse
import sys

from lab import cli

parser = argparse.ArgumentParser(prog="python -m lab")
cli.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(["lab", *sys.argv[1:]])
sys.exit(args.func(args))
