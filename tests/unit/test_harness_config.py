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
    load_config,
    parse_hostport,
)

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
    ({"references": [{"kind": "kresd", "listen": "10.0.0.1:53"}]},
     "references[0].listen: 10.0.0.1 is outside 127.0.0.0/8"),
    ({"references": [{"kind": "address", "listen": "127.0.0.1:53"}]},
     "references[0].name: required"),
    ({"intake": [{"kind": "udp_mirror", "listen": "127.0.0.1:99999"}]},
     "intake[0].listen: '127.0.0.1:99999' is not ADDRESS:PORT"),
    ({"intake": [{"kind": "udp_mirror", "listen": "127.0.0.1:53", "allow": ["0.0.0.0/0"]}]},
     "intake[0].allow: 0.0.0.0/0 is outside 127.0.0.0/8"),
    ({"intake": [{"kind": "dnstap"}]}, "intake[0]: a dnstap intake needs exactly one of"),
    ({"intake": [{"kind": "pcap", "file": "a", "speed": -1}]}, "intake[0].speed: -1"),
    ({"intake": [{"kind": "tap"}]}, "intake[0].kind: 'tap' is not one of"),
    ({"intake": {"kind": "pcap"}}, "intake: expected a list, got a mapping"),
    ({"store": {"batch": "many"}}, "store.batch: 'many' is not an integer"),
    ({"live": "tv"}, "live: 'tv' is not one of auto"),
    ({"candidate": {"egress": "8.8.8.8"}}, "candidate.egress: 8.8.8.8 is outside"),
    ({"duration": True}, "duration: True is not a number"),
    ({"bogus": 1}, "x.yaml: bogus: unknown key"),
])
def test_bad_configs_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as error:
        config_from_mapping(data, source="x.yaml")
    assert message in str(error.value)


def test_yaml_off_is_off() -> None:
    assert config_from_mapping({"live": False}).live == "off"


def test_yaml_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sampler: [unclosed")
    with pytest.raises(ValueError, match="bad.yaml: not valid YAML"):
        load_config(bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_hostport() -> None:
    assert parse_hostport("127.0.0.1:53") == ("127.0.0.1", 53)
    for text in ("127.0.0.1", "localhost:53", "192.168.1.1:53", "127.0.0.1:0"):
        with pytest.raises(ValueError):
            parse_hostport(text)


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
    with pytest.raises(ValueError, match=r"shadow.yaml: sampler.probability: 7"):
        harness_cli.config_from_args(_args("--config", str(path), "--sample", "7"))
    with pytest.raises(ValueError, match="--reference"):
        harness_cli.config_from_args(_args("--reference", "kresd"))


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
    with pytest.raises(ValueError, match=r"differ.floor_references\[0\]: 'nope' is not a "
                                         "reference"):
        config_from_mapping({"references": [{"name": "u", "kind": "address",
                                              "listen": "127.0.0.1:53"}],
                             "differ": {"floor_references": ["nope"]}}, source="x.yaml")
    with pytest.raises(ValueError, match="differ.requery_rate: -1"):
        config_from_mapping({"differ": {"requery_rate": -1}})
