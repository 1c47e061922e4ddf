"""The pure parts of ``shadowdns bench plugin-swap``: parsing what dnsperf, the server, the
kernel and /metrics say, the stub's answers, the report, and the flags (no timing)."""

from __future__ import annotations

from pathlib import Path

import dns.message
import dns.rcode
import pytest

from shadowdns.bench.plugin_swap import (
    kernel_drops,
    parse_dnsperf,
    plugins_in_metrics,
    report_lines,
    server_udp_counts,
    stub_reply,
)
from shadowdns.cli import build_parser

DNSPERF = """\
Statistics:

  Queries sent:         20000
  Queries completed:    19990 (99.95%)
  Queries lost:         10 (0.05%)

  Response codes:       NOERROR 10000 (50.03%), NXDOMAIN 9990 (49.97%)
  Average packet size:  request 33, response 70
  Run time (s):         10.000834
  Queries per second:   1998.833
"""


def test_dnsperf_counts_and_rcodes() -> None:
    load = parse_dnsperf(DNSPERF)
    assert (load.sent, load.answered, load.lost) == (20000, 19990, 10)
    assert load.qps == pytest.approx(1998.833)
    assert load.rcodes == {"NOERROR": 10000, "NXDOMAIN": 9990}
    assert parse_dnsperf("").sent == 0


def test_server_exit_lines_are_summed_over_processes() -> None:
    log = ("resolver: pid 1 UDP: 100 datagrams, 98 replies (5 from bytes), shed 1 per client "
           "and 0 full, queue dropped 1 per client and 0 full\n"
           "resolver: pid 2 UDP: 50 datagrams, 50 replies (0 from bytes), shed 0 per client "
           "and 0 full, queue dropped 0 per client and 0 full\n")
    counts = server_udp_counts(log)
    assert counts["datagrams"] == 150 and counts["replies"] == 148
    assert counts["fast_replies"] == 5 and counts["queue_dropped_client"] == 1


def test_kernel_drops_of_the_sockets_on_one_port(tmp_path: Path) -> None:
    table = tmp_path / "udp"
    head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  " \
           "timeout inode ref pointer drops\n"
    row = "  {sl}: 0100007F:{port:04X} 00000000:0000 07 00000000:00000000 00:00000000 " \
          "00000000     0        0 1234 2 0000000000000000 {drops}\n"
    table.write_text(head + row.format(sl=1, port=5353, drops=7)
                     + row.format(sl=2, port=5353, drops=3) + row.format(sl=3, port=53, drops=9))
    assert kernel_drops(5353, str(table)) == 10
    assert kernel_drops(5353, str(tmp_path / "none")) == 0


def test_plugin_versions_and_swaps_from_metrics() -> None:
    text = ('shadowdns_resolver_plugin_info{plugin="blocklist",version="3",sha256="ab",'
            'policy="open",position="0"} 1\n'
            'shadowdns_resolver_plugin_info{plugin="noop",version="1",sha256="cd",'
            'policy="open",position="1"} 1\n'
            "shadowdns_resolver_plugin_swaps_total 7\n"
            'shadowdns_resolver_plugin_failures_total{plugin="blocklist",version="3",'
            'kind="trap"} 0\n'
            'shadowdns_resolver_plugin_failures_total{plugin="blocklist",version="3",'
            'kind="budget"} 2\n')
    assert plugins_in_metrics(text) == {"plugins": ["blocklist v3", "noop v1"], "swaps": 7,
                                        "failures": 2}
    assert plugins_in_metrics("") == {"plugins": [], "swaps": 0, "failures": 0}


def test_stub_answers_every_name_and_delegates_the_root_to_itself() -> None:
    a = stub_reply(dns.message.make_query("q1.fine.example.", "A"))
    assert a.rcode() == dns.rcode.NOERROR and str(a.answer[0][0]) == "192.0.2.1"
    root = stub_reply(dns.message.make_query(".", "NS"))
    assert str(root.answer[0][0]) == "a.root.test." and str(root.additional[0][0]) == "127.0.0.1"
    nodata = stub_reply(dns.message.make_query("example.", "NS"))
    assert not nodata.answer and nodata.authority[0].rdtype == dns.rdatatype.SOA


def test_report_names_every_figure() -> None:
    figures = {"qps_target": 2000, "seconds": 10, "server_processes": 1, "cycle": "full",
               "load": parse_dnsperf(DNSPERF).__dict__, "server_cpu_us_per_query": 420.0,
               "swaps": 40, "swap_ms": {"median": 6.5, "max": 50.0},
               "before": [{"plugins": ["blocklist v2"], "swaps": 3}],
               "after": [{"plugins": ["blocklist v22"], "swaps": 43}],
               "server": {"datagrams": 21001, "replies": 21001}, "kernel_drops": 0,
               "stub_queries": 3002}
    text = "\n".join(report_lines(figures))
    for part in ("sent 20000, answered 19990, lost 10", "NOERROR 10000, NXDOMAIN 9990",
                 "420 us per answered query", "40 changes", "6.5 ms median",
                 "before (process 0): plugins blocklist v2; swaps_total 3",
                 "after (process 0): plugins blocklist v22; swaps_total 43; failures of "
                 "those plugins 0",
                 "read 21001 datagrams", "kernel dropped 0"):
        assert part in text, part


@pytest.mark.parametrize(("argv", "message"), [
    (["--qps", "0"], "--qps: expected a positive number, got 0"),
    (["--server-processes", "-1"], "--server-processes: expected a positive number"),
    (["--swaps", "-1"], "--swaps: expected 0 or more, got -1"),
])
def test_bad_flags_are_one_line_errors(argv: list[str], message: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["bench", "plugin-swap", *argv])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
