.PHONY: demo test setup lint clean

# Sets everything up on a fresh Debian 12 machine, then runs the main job on the lab.
demo: setup
	.venv/bin/shadowdns demo

# Lint, types, unit and integration tests.
test:
	./ci/test.sh

setup:
	./ci/setup.sh
	@echo "setup: done. Run shadowdns as .venv/bin/shadowdns, or '. .venv/bin/activate' first and then as shadowdns"

lint: setup
	.venv/bin/ruff check . && .venv/bin/mypy

clean:
	rm -rf .venv run .pytest_cache .mypy_cache .ruff_cache
