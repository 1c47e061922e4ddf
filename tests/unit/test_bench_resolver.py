"""The pure parts of ``shadowdns bench resolver``: dnsperf -v parsing and percentiles."""

from __future__ import annotations

import os

import pytest

from shadowdns.bench.resolver import (
    _rss_mb,
    extra_lines,
    latency_summary,
    parse_verbose,
    percentile,
)

VERBOSE = """\
DNS Performance Testing Tool
[Status] Sending queries (to 127.0.0.99:5399)
> NOERROR a.example. A 0.000200
> NXDOMAIN b.example. AAAA 0.000100
> T c.example. A
> SERVFAIL d.example. A 0.002000
> T e.example. MX
  Queries sent:         5
  Average Latency (s):  0.000112 (min 0.000020, max 0.000536)
"""


def test_parse_verbose_takes_latencies_of_any_rcode_and_counts_timeouts() -> None:
    latencies, timeouts = parse_verbose(VERBOSE)
    assert latencies == [0.0002, 0.0001, 0.002]
    assert timeouts == 2


def test_percentile_is_nearest_rank() -> None:
    values = [float(i) for i in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 99) == 0.0
    assert percentile([1.0, 2.0, 3.0], 99) == 3.0


def test_latency_summary_in_milliseconds() -> None:
    s = latency_summary([0.003, 0.001, 0.002], timeouts=1)
    assert s["answered"] == 3 and s["lost"] == 1
    assert s["p50_ms"] == pytest.approx(2.0)
    assert s["p99_ms"] == pytest.approx(3.0)
    assert s["max_ms"] == pytest.approx(3.0)
    assert s["mean_ms"] == pytest.approx(2.0)
    assert latency_summary([], 0)["p99_ms"] == 0.0


def test_rss_of_this_process_is_counted() -> None:
    mb, procs = _rss_mb(os.getpid())
    assert procs >= 1 and mb > 1.0


def test_extra_lines_name_every_figure() -> None:
    one = {"latency": {"target_qps": 5000, "qps": 4999.0, "p50_ms": 0.1, "p99_ms": 0.5,
                       "max_ms": 2.0, "answered": 100.0, "lost": 0.0},
           "upstream": {"source": "127.54.3.1", "queries": 120, "client_queries": 100,
                        "per_client_query": 1.2},
           "upstream_cold": {"source": "127.54.3.1", "queries": 310, "client_queries": 100,
                             "per_client_query": 3.1},
           "memory": {"processes": 2, "rss_start_mb": 50.0, "rss_after_cached_mb": 51.0,
                      "rss_after_uncached_mb": 60.0, "cache_budget_mb": 128}}
    text = "\n".join(extra_lines({"candidate": one, "unbound": {**one, "latency": {}}}))
    assert "latency candidate" in text and "latency unbound" not in text
    assert "1.20 per query" in text
    assert "(cold, *.optout.rsa.): 310 lab queries" in text and "3.10 per query" in text
    assert "growth +10.0 MB" in text and "budget 128 MB" in text


def test_plugin_runs_flag_and_lines() -> None:
    from shadowdns.bench.plugins import cached_run_lines
    from shadowdns.cli import build_parser

    parse = build_parser().parse_args
    assert parse(["bench", "resolver"]).plugin_runs is False
    assert parse(["bench", "resolver", "--plugin-runs"]).plugin_runs is True
    runs = {"none": {"qps": 40000.0, "lost": 0, "cpu_us_per_query": 20.0, "phase_call_us": 0.0},
            "noop": {"qps": 2000.0, "lost": 3, "cpu_us_per_query": 420.0,
                     "phase_call_us": 5.0},
            "blocklist": {"qps": 1900.0, "lost": 0, "cpu_us_per_query": 440.0,
                          "phase_call_us": 15.5}}
    lines = cached_run_lines(runs)
    assert len(lines) == 4 and "cached with plugins" in lines[0]
    assert "none" in lines[1] and "40000 QPS" in lines[1] and "20.0 us CPU" in lines[1]
    assert "lost 3" in lines[2] and "+400.0 us" in lines[2] and "QPS -95%" in lines[2]
    assert "pre_cache call 5.0 us" in lines[2] and "pre_cache call 15.5 us" in lines[3]
    assert cached_run_lines(None) == [] and cached_run_lines({}) == []


def test_cached_runs_change_the_set_on_every_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each set in place on every control API before its run; nothing loaded at the end."""
    from shadowdns.bench import plugins as bench_plugins
    from shadowdns.bench.plugins import PLUGIN_SETS, cached_runs
    from shadowdns.bench.resolver import Perf

    requests: list[tuple[str, str, str]] = []
    seen: list[list[str]] = []
    loaded: dict[str, set[str]] = {"a": set(), "b": set()}

    def fake(base: str, method: str, name: str, arg: str = "",
             source: bytes | None = None) -> tuple[int, str]:
        requests.append((base, method, name))
        (loaded[base].add if method == "PUT" else loaded[base].discard)(name)
        return 200, "{}"

    def run() -> Perf:
        seen.append(sorted(loaded["a"]))
        assert loaded["a"] == loaded["b"]
        return Perf(qps=1000.0, sent=10, completed=10, lost=0, cpu_per_kq=0.5)

    monkeypatch.setattr(bench_plugins, "control_request", fake)
    out = cached_runs(["a", "b"], run, calls=10, rounds=1)
    assert seen == [[], ["noop"], ["blocklist"]] and list(out) == list(PLUGIN_SETS)
    assert loaded == {"a": set(), "b": set()}
    assert out["noop"]["cpu_us_per_query"] == 500.0 and out["none"]["phase_call_us"] == 0.0
