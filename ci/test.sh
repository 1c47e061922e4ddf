#!/usr/bin/env bash
# The whole test gate: lint, types, unit and integration tests (the integration tests start
# the lab, Unbound and Knot Resolver themselves, on loopback only).
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/setup.sh
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; .venv/bin/python -m pytest -q -ra "$@"
echo "== campaign (short)"; ./ci/campaign.sh
