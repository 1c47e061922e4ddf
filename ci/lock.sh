#!/usr/bin/env bash
# Regenerates requirements.lock on purpose: resolves pyproject.toml's dependencies (with the
# dev extra) in a throw-away venv from today's PyPI and pins every package it brought.
# Run it, run the tests, commit the lock with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${PYTHON:-python3}" -m venv "$tmp/venv"
# setuptools too: ci/setup.sh installs the project with --no-build-isolation, which needs
# the build-system requirement (setuptools>=77) in the venv, so the lock must pin it
"$tmp/venv/bin/pip" install -q --upgrade pip "setuptools>=77"
"$tmp/venv/bin/pip" install -q '.[dev]'
{
  echo "# Pinned by ci/lock.sh on $(date -u +%Y-%m-%d) for Python $("$tmp/venv/bin/python" -c 'import sys; print(*sys.version_info[:2], sep=".")')."
  echo "# ci/setup.sh installs exactly this; regenerate on purpose, never by hand."
  "$tmp/venv/bin/pip" freeze --all --exclude shadowdns | LC_ALL=C sort -f
} > requirements.lock
echo "lock: $(grep -vc '^#' requirements.lock) packages pinned in requirements.lock"
