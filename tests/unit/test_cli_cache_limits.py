"""`resolver serve`'s cache TTL bounds and recursion limits (Unbound's cache-min-ttl,
cache-max-ttl, cache-max-negative-ttl, cache-min-negative-ttl, max-query-restarts,
prefetch) reach the recursor, and bad values are one-line errors naming the flag."""

from __future__ import annotations

import pytest

from configfiles import ConfigError
from resolver.app import build
from resolver.clock import ManualClock
from resolver.conductor import MockTransport
from resolver.recursor import Recursor, RecursorConfig
from tests.unit.test_serve_stale import serve_config


def recursor_config(*argv: str) -> RecursorConfig:
    answerer = build(serve_config(*argv), ManualClock(), MockTransport(lambda a, q, tcp: None))
    assert isinstance(answerer.recursor, Recursor)
    return answerer.recursor.config


def test_defaults_are_unbounds() -> None:
    c = recursor_config()
    assert (c.cache_min_ttl, c.cache_max_ttl, c.cache_max_negative_ttl,
            c.cache_min_negative_ttl, c.max_query_restarts, c.prefetch) == (
        0, 86_400, 3_600, 0, 11, False)


def test_flags_reach_the_recursor() -> None:
    c = recursor_config("--cache-min-ttl", "30", "--cache-max-ttl", "600",
                        "--cache-max-negative-ttl", "60", "--cache-min-negative-ttl", "5",
                        "--max-query-restarts", "3", "--prefetch")
    assert (c.cache_min_ttl, c.cache_max_ttl, c.cache_max_negative_ttl,
            c.cache_min_negative_ttl, c.max_query_restarts, c.prefetch) == (
        30, 600, 60, 5, 3, True)


def test_the_cache_keeps_data_within_the_bounds() -> None:
    """--cache-max-ttl and --cache-max-negative-ttl bound what the cache keeps, not only the
    TTLs answered (unbound.conf(5): "When the TTL expires, the cache item has expired")."""
    answerer = build(serve_config("--cache-max-ttl", "600", "--cache-max-negative-ttl", "60"),
                     ManualClock(), MockTransport(lambda a, q, tcp: None))
    assert isinstance(answerer.recursor, Recursor)
    cache = answerer.recursor.cache
    assert (cache.rrsets.max_ttl, cache.negative.max_ttl) == (600, 60)


@pytest.mark.parametrize(("argv", "message"), [
    (["--cache-min-ttl", "-1"], "^--cache-min-ttl: expected 0 to 2147483647 seconds, got -1$"),
    (["--cache-max-ttl", "2147483648"], "^--cache-max-ttl: expected 0 to 2147483647"),
    (["--cache-min-ttl", "700", "--cache-max-ttl", "600"],
     "^--cache-min-ttl: 700 is above --cache-max-ttl 600$"),
    (["--cache-min-negative-ttl", "7200"],
     "^--cache-min-negative-ttl: 7200 is above --cache-max-negative-ttl 3600$"),
    (["--max-query-restarts", "0"], "^--max-query-restarts: expected 1 or more, got 0$"),
])
def test_bad_values_are_one_line_errors(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        serve_config(*argv)
