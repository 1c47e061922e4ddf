.PHONY: demo test setup lint clean chaos

# Sets everything up on a fresh Debian 12 machine, then runs the main job on the lab.
demo: setup
	.venv/bin/shadowdns demo

# Lint, types, unit and integration tests.
test:
	./ci/test.sh

# The reliability campaign at full length (docs/RELIABILITY.md; root, loopback, ~10 min).
chaos: setup
	./ci/campaign.sh --full

setup:
	./ci/setup.sh
	@echo "setup: done. Run shadowdns as .venv/bin/shadowdns, or '. .venv/bin/activate' first and then as shadowdns"

lint: setup
	.venv/bin/ruff check . && .venv/bin/mypy

clean:
	rm -rf .venv run .pytest_cache .mypy_cache .ruff_cache
