"""harness.config: the YAML format, strict keys and values, and flags read the same way."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from harness import cli as harness_cli
from harness.config import (
    DnstapConfig,
    PcapConfig,
    QueryListConfig,
    UdpMirrorConfig,
    config_from_mapping,
    key_line,
    load_config,
    parse_hostport,
)
from netpolicy import LAB

FULL = """
duration: 30
lab: run/lab
intake:
  - {kind: dnstap, socket: run/shadow/dnstap.sock}
  - {kind: dnstap, tcp: "127.0.0.1:6000"}
  - {kind: dnstap, file: capture.fstrm}
  - {kind: udp_mirror, listen: "127.0.0.1:5300", allow: [127.0.0.0/8]}
  - {kind: pcap, file: traffic.pcap, speed: 2}
  - {kind: query_list, file: names.txt, rate: 100, do: false, edns_payload: 0}
sampler:
  probability: 0.25
  per_name: true
  dedup_window: 2
  qtypes: [A, AAAA, 65]
  suffixes: [lab]
candidate:
  address: "127.0.0.12:5353"
  timeout: 2
references:
  - {name: kresd, kind: kresd, listen: "127.55.0.2:5053", egress: 127.54.2.1}
  - {name: mine, kind: address, listen: "127.0.0.1:53"}
dispatcher: {max_in_flight: 64}
store: {path: x.db, batch: 10, max_age_days: 7, max_mb: 100}
api: {listen: "127.0.0.1:8053"}
live: log
judge: exact
"""


def test_full_config(tmp_path: Path) -> None:
    path = tmp_path / "shadow.yaml"
    path.write_text(FULL)
    config = load_config(path)
    kinds = [type(i) for i in config.intakes]
    assert kinds == [DnstapConfig, DnstapConfig, DnstapConfig, UdpMirrorConfig, PcapConfig,
                     QueryListConfig]
    assert config.intakes[1] == DnstapConfig(tcp=("127.0.0.1", 6000))
    pcap = config.intakes[4]
    assert isinstance(pcap, PcapConfig) and pcap.speed == 2.0
    qlist = config.intakes[5]
    assert isinstance(qlist, QueryListConfig)
    assert qlist.edns_payload is None and qlist.do is False and qlist.rate == 100
    assert config.sampler.qtypes == frozenset({1, 28, 65})
    assert config.sampler.suffixes == ("lab.",)
    assert config.candidate.address == ("127.0.0.12", 5353)
    assert [r.name for r in config.references] == ["kresd", "mine"]
    assert config.references[0].egress == "127.54.2.1"
    assert config.store.max_mb == 100 and config.dispatcher.max_in_flight == 64
    assert config.api.listen == ("127.0.0.1", 8053)
    assert config.as_dict()["sampler"]["qtypes"] == [1, 28, 65]


@pytest.mark.parametrize(("data", "message"), [
    ({"sampler": {"probabilty": 0.5}}, "x.yaml: sampler.probabilty: unknown key"),
    ({"sampler": {"probability": 1.5}}, "sampler.probability: 1.5 must be <= 1"),
    ({"sampler": {"qtypes": ["NOPE"]}}, "sampler.qtypes: 'NOPE' is not a DNS record type"),
    ({"references": [{"kind": "kresd", "lisen": "127.0.0.1:1"}]},
     "references[0].lisen: unknown key"),
    ({"references": [{"kind": "bind", "listen": "127.0.0.1:1"}]},
     "references[0].kind: 'bind' is not one of"),
    ({"references": [{"kind": "address", "listen": "127.0.0.1:53"}]},
     "references[0].name: required"),
    ({"intake": [{"kind": "udp_mirror", "listen": "127.0.0.1:99999"}]},
     "intake[0].listen: '127.0.0.1:99999' is not ADDRESS:PORT"),
    ({"intake": [{"kind": "udp_mirror", "listen": "192.0.2.1:53"}]},
     "intake[0].allow: required when listening on 192.0.2.1 (not loopback)"),
    ({"intake": [{"kind": "dnstap", "tcp": "[2001:db8::10]:6000"}]},
     "intake[0].allow: required when listening on 2001:db8::10 (not loopback)"),
    ({"intake": [{"kind": "dnstap", "file": "a.fstrm", "allow": ["10.0.0.0/8"]}]},
     "intake[0].allow: only for a dnstap tcp intake"),
    ({"intake": [{"kind": "udp_mirror", "listen": "[2001:db8::1]:53", "allow": ["nope"]}]},
     "intake[0].allow: 'nope' is not an IPv4 or IPv6 network"),
    ({"intake": [{"kind": "dnstap", "tcp": "2001:db8::1:6000"}]},
     "intake[0].tcp: '2001:db8::1:6000': write an IPv6 address as [ADDRESS]:PORT"),
    ({"references": [{"kind": "kresd", "listen": "0.0.0.0:53"}]},
     "references[0].listen: 0.0.0.0 is unspecified"),
    ({"sampler": {"exclude_clients": ["10.0.0.0/33"]}},
     "sampler.exclude_clients: '10.0.0.0/33' is not an IPv4 or IPv6 network"),
    ({"intake": [{"kind": "dnstap"}]}, "intake[0]: a dnstap intake needs exactly one of"),
    ({"intake": [{"kind": "pcap", "file": "a", "speed": -1}]}, "intake[0].speed: -1"),
    ({"intake": [{"kind": "tap"}]}, "intake[0].kind: 'tap' is not one of"),
    ({"intake": {"kind": "pcap"}}, "intake: expected a list, got a mapping"),
    ({"store": {"batch": "many"}}, "store.batch: 'many' is not an integer"),
    ({"live": "tv"}, "live: 'tv' is not one of auto"),
    ({"duration": True}, "duration: True is not a number"),
    ({"bogus": 1}, "x.yaml: bogus: unknown key"),
])
def test_bad_configs_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as error:
        config_from_mapping(data, source="x.yaml")
    assert message in str(error.value)


LAB_MODE = "(lab mode, set by lab: run/lab)"


@pytest.mark.parametrize(("data", "message"), [
    ({"references": [{"kind": "kresd", "listen": "10.0.0.1:53"}]},
     "references[0].listen: 10.0.0.1 is outside 127.0.0.0/8 and ::1"),
    ({"references": [{"kind": "address", "name": "r", "listen": "[2001:db8::53]:53"}]},
     "references[0].listen: 2001:db8::53 is outside 127.0.0.0/8 and ::1"),
    ({"intake": [{"kind": "udp_mirror", "listen": "127.0.0.1:53", "allow": ["0.0.0.0/0"]}]},
     "intake[0].allow: 0.0.0.0/0 is outside 127.0.0.0/8"),
    ({"intake": [{"kind": "dnstap", "tcp": "198.51.100.7:6000"}]},
     "intake[0].tcp: 198.51.100.7 is outside 127.0.0.0/8"),
    ({"candidate": {"egress": "8.8.8.8"}}, "candidate.egress: 8.8.8.8 is outside"),
    ({"candidate": {"address": "203.0.113.9:53"}}, "candidate.address: 203.0.113.9 is outside"),
    ({"api": {"listen": "192.0.2.80:8053"}}, "api.listen: 192.0.2.80 is outside"),
    ({"sampler": {"exclude_clients": ["10.0.0.0/8"]}}, "sampler.exclude_clients: 10.0.0.0/8"),
])
def test_lab_mode_is_loopback_only_and_says_why(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as error:
        config_from_mapping({"lab": "run/lab", **data}, source="x.yaml")
    assert f"x.yaml: {message}" in str(error.value)
    assert LAB_MODE in str(error.value)


def test_production_mode_takes_any_address_ipv4_and_ipv6() -> None:
    config = config_from_mapping({
        "intake": [{"kind": "dnstap", "tcp": "[2001:db8::10]:6000", "allow": ["2001:db8::/64"]},
                   {"kind": "udp_mirror", "listen": "0.0.0.0:5300",
                    "allow": ["192.0.2.0/24", "2001:db8:1::/48"]},
                   {"kind": "udp_mirror", "listen": "[::1]:5301"}],
        "candidate": {"address": "198.51.100.53:53"},
        "references": [{"kind": "address", "name": "staging", "listen": "[2001:db8::53]:53"},
                       {"kind": "unbound", "listen": "203.0.113.5:5053",
                        "egress": "2001:db8::99"}],
        "sampler": {"exclude_clients": ["192.0.2.128/25", "2001:db8:bad::/48"]},
        "api": {"listen": "[::]:8053"},
    })
    assert not config.policy.lab
    dnstap = config.intakes[0]
    assert isinstance(dnstap, DnstapConfig) and dnstap.tcp == ("2001:db8::10", 6000)
    assert [str(n) for n in dnstap.allow] == ["2001:db8::/64"]
    mirror = config.intakes[1]
    assert isinstance(mirror, UdpMirrorConfig)
    assert [str(n) for n in mirror.allow] == ["192.0.2.0/24", "2001:db8:1::/48"]
    loopback_mirror = config.intakes[2]
    assert isinstance(loopback_mirror, UdpMirrorConfig)
    assert [str(n) for n in loopback_mirror.allow] == ["127.0.0.0/8", "::1/128"]
    assert config.candidate.address == ("198.51.100.53", 53)
    assert config.references[0].listen == ("2001:db8::53", 53)
    assert config.references[1].egress == "2001:db8::99"
    assert config.api.listen == ("::", 8053)
    assert [str(n) for n in config.sampler.exclude_clients] == ["192.0.2.128/25",
                                                                 "2001:db8:bad::/48"]
    assert config.as_dict()["policy"] == "production"


def test_yaml_off_is_off() -> None:
    assert config_from_mapping({"live": False}).live == "off"


def test_key_errors_name_the_line_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "shadow.yaml"
    path.write_text("# shadow\nlab: run/lab\nreferences:\n"
                    "  - {name: a, kind: address, listen: 127.0.0.1:53}\n"
                    "  - name: b\n    kind: address\n    listen: 10.0.0.1:53\n")
    with pytest.raises(ValueError, match=r"shadow.yaml:7: references\[1\].listen: "
                                         r"10.0.0.1 is outside"):
        load_config(path)
    assert key_line(path.read_text(), "references[1].name") == 5
    assert key_line(path.read_text(), "references[1].nothing") == 5  # deepest part written
    assert key_line(path.read_text(), "sampler.probability") is None


def test_yaml_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sampler: [unclosed")
    with pytest.raises(ValueError, match="bad.yaml:1: not valid YAML"):
        load_config(bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_hostport() -> None:
    assert parse_hostport("127.0.0.1:53") == ("127.0.0.1", 53)
    assert parse_hostport("[::1]:53") == ("::1", 53)
    assert parse_hostport("192.168.1.1:53") == ("192.168.1.1", 53)
    for text in ("127.0.0.1", "localhost:53", "127.0.0.1:0", "::1:53", "[::1]"):
        with pytest.raises(ValueError):
            parse_hostport(text)
    with pytest.raises(ValueError, match="outside 127.0.0.0/8"):
        parse_hostport("192.168.1.1:53", LAB)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    harness_cli.register(sub)
    return parser.parse_args(["run", *argv])


def test_flags_become_config(tmp_path: Path) -> None:
    args = _args("--dnstap-socket", "s.sock", "--udp-mirror", "127.0.0.1:5300", "--pcap", "a.pcap",
                 "--speed", "max", "--reference", "kresd@127.55.0.2:5053", "--reference",
                 "ub=unbound@127.55.0.1:5053", "--sample", "0.5", "--qtype", "A",
                 "--db", str(tmp_path / "s.db"), "--duration", "3", "--timeout", "2")
    config = harness_cli.config_from_args(args)
    assert [i.kind for i in config.intakes] == ["dnstap", "udp_mirror", "pcap"]
    assert [(r.name, r.kind, r.timeout) for r in config.references] == [
        ("kresd", "kresd", 2.0), ("ub", "unbound", 2.0)]
    assert config.sampler.probability == 0.5 and config.sampler.qtypes == frozenset({1})
    assert config.duration == 3 and config.candidate.timeout == 2


def test_flags_add_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "shadow.yaml"
    path.write_text("intake: [{kind: query_list, file: a.txt}]\nsampler: {probability: 0.1}\n")
    config = harness_cli.config_from_args(
        _args("--config", str(path), "--query-list", "b.txt", "--sample", "0.2",
              "--reference", "address@127.0.0.1:53"))
    assert len(config.intakes) == 2 and config.sampler.probability == 0.2
    assert config.references[0].name == "reference"
    with pytest.raises(ValueError, match=r"^--sample: 7.0 must be <= 1$"):
        harness_cli.config_from_args(_args("--config", str(path), "--sample", "7"))
    path.write_text("sampler: {probability: 7}\n")
    with pytest.raises(ValueError, match=r"shadow.yaml:1: sampler.probability: 7 must be"):
        harness_cli.config_from_args(_args("--config", str(path), "--sample", "0.5"))
    with pytest.raises(ValueError, match="--reference"):
        harness_cli.config_from_args(_args("--reference", "kresd"))


def test_operator_flags(tmp_path: Path) -> None:
    config = harness_cli.config_from_args(_args(
        "--udp-mirror", "[2001:db8::5]:5300", "--allow", "2001:db8:1::/48", "--allow",
        "192.0.2.0/24", "--exclude-client", "192.0.2.128/25", "--target-qps", "200",
        "--ignore-tc-only", "--reference", "address@[2001:db8::53]:53"))
    mirror = config.intakes[0]
    assert isinstance(mirror, UdpMirrorConfig) and mirror.listen == ("2001:db8::5", 5300)
    assert [str(n) for n in mirror.allow] == ["2001:db8:1::/48", "192.0.2.0/24"]
    assert [str(n) for n in config.sampler.exclude_clients] == ["192.0.2.128/25"]
    assert config.dispatcher.target_qps == 200 and config.ignore_tc_only
    with pytest.raises(ValueError, match=r"--allow: required when listening on "
                                         r"192.0.2.5 \(not loopback\)"):
        harness_cli.config_from_args(_args("--udp-mirror", "192.0.2.5:5300"))
    tapped = harness_cli.config_from_args(_args("--dnstap-tcp", "192.0.2.5:6000", "--allow",
                                                "192.0.2.0/28"))
    tap = tapped.intakes[0]
    assert isinstance(tap, DnstapConfig) and [str(n) for n in tap.allow] == ["192.0.2.0/28"]
    with pytest.raises(ValueError, match="--target-qps: -1.0 must be >= 0"):
        harness_cli.config_from_args(_args("--target-qps", "-1"))


def test_ignore_tc_only_adds_the_tc_normaliser() -> None:
    from harness.assemble import choose_judge
    from harness.differ import Differ

    plain = choose_judge("differ")
    tc = choose_judge("differ", ignore_tc_only=True)
    assert isinstance(plain, Differ) and isinstance(tc, Differ)
    assert "tc" not in [n.name for n in plain.normalisers]
    assert [n.name for n in tc.normalisers][-1] == "tc"


def test_dnstap_tls_flags(tls_files: dict[str, Path]) -> None:
    config = harness_cli.config_from_args(_args(
        "--dnstap-tcp", "[::1]:6001", "--dnstap-tls-cert", str(tls_files["cert"]),
        "--dnstap-tls-key", str(tls_files["key"]), "--dnstap-tls-client-ca",
        str(tls_files["ca"])))
    tap = config.intakes[0]
    assert isinstance(tap, DnstapConfig) and tap.tls is not None
    assert tap.tls.client_ca == tls_files["ca"] and tap.tcp == ("::1", 6001)
    with pytest.raises(ValueError, match="--dnstap-tls-\\*: only with --dnstap-tcp"):
        harness_cli.config_from_args(_args("--dnstap-tls-cert", str(tls_files["cert"])))
def test_differ_section_from_yaml_and_flags(tmp_path: Path) -> None:
    from harness.assemble import build_twins, choose_judge
    from harness.differ import Differ

    path = tmp_path / "shadow.yaml"
    (tmp_path / "hints").write_text(". 3600000 NS a.root.lab.\n"
                                    "a.root.lab. 3600000 A 127.53.0.1\n")
    path.write_text("references: [{name: unbound, kind: unbound, listen: '127.55.0.1:5053',"
                    " egress: 127.54.1.1}, {name: kresd, kind: kresd, listen: "
                    "'127.55.0.2:5053', egress: 127.54.2.1}]\n"
                    f"candidate: {{root_hints: {tmp_path / 'hints'}, egress: 127.54.3.1}}\n"
                    "differ: {requery_rate: 20, requery_concurrency: 4, floor_requeries: 5,"
                    " floor_references: [unbound], egress_swap: true}\n")
    config = harness_cli.config_from_args(_args("--config", str(path), "--requery-rate", "50",
                                                "--no-fresh-candidate"))
    d = config.differ
    assert (d.requery_rate, d.requery_concurrency, d.floor_requeries) == (50, 4, 5)
    assert d.floor_references == ("unbound",) and d.fresh_candidate is False and d.confirm
    judge = choose_judge("differ", config, {"candidate": "twin"})
    assert isinstance(judge, Differ)
    cfg = judge.config
    assert (cfg.requery_rate, cfg.floor_references, cfg.twins) == (50, ("unbound",),
                                                                    {"candidate": "twin"})
    assert cfg.references == ("unbound", "kresd") and judge.budget.rate == 50
    # the egress twin: the candidate again, asking from the primary reference's address
    twins, names = build_twins(config)
    assert names == {"candidate": "candidate@unbound-egress"}
    assert [t.name for t in twins] == ["candidate@unbound-egress"]
    off = harness_cli.config_from_args(_args("--config", str(path), "--no-egress-swap"))
    assert build_twins(off) == ([], {})
    # the authority sweep: on by default, asking on port 53; a YAML key and flags
    from harness.differ.sweep import UdpAuthorities
    assert cfg.authority_sweep and isinstance(judge.authorities, UdpAuthorities)
    assert judge.authorities.port == 53
    path.write_text(path.read_text().replace("egress_swap: true", "authority_port: 5300"))
    swept = choose_judge("differ", harness_cli.config_from_args(_args("--config", str(path))))
    assert isinstance(swept, Differ) and isinstance(swept.authorities, UdpAuthorities)
    assert swept.authorities.port == 5300 and swept.config.authority_port == 5300
    flagged = harness_cli.config_from_args(_args("--config", str(path), "--authority-port",
                                                 "5301", "--no-authority-sweep"))
    assert (flagged.differ.authority_port, flagged.differ.authority_sweep) == (5301, False)
    unswept = choose_judge("differ", flagged)
    assert isinstance(unswept, Differ) and unswept.authorities is None
    with pytest.raises(ValueError, match="differ.authority_port"):
        config_from_mapping({"differ": {"authority_port": 0}})
    with pytest.raises(ValueError, match=r"differ.floor_references\[0\]: 'nope' is not a "
                                         "reference"):
        config_from_mapping({"references": [{"name": "u", "kind": "address",
                                              "listen": "127.0.0.1:53"}],
                             "differ": {"floor_references": ["nope"]}}, source="x.yaml")
    with pytest.raises(ValueError, match="differ.requery_rate: -1"):
        config_from_mapping({"differ": {"requery_rate": -1}})
