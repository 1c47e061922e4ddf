"""netpolicy: one address policy for every package (production: any address; lab: loopback)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from configfiles import ConfigError
from configfiles.roothints import read_root_hints
from lab.world import WorldError, default_world_path, parse_world
from netpolicy import (
    LAB,
    PRODUCTION,
    AddressError,
    AddressPolicy,
    format_hostport,
    is_documentation,
)
from resolver import cli as resolver_cli

PUBLIC = ["192.0.2.1", "198.51.100.200", "203.0.113.7", "2001:db8::1", "2001:db8:ffff::53"]


@pytest.mark.parametrize("address", PUBLIC)
def test_production_accepts_documentation_addresses_lab_refuses_them(address: str) -> None:
    assert PRODUCTION.address("k", address) == address
    assert is_documentation(PRODUCTION.ip("k", address))
    policy = AddressPolicy.lab_mode("--lab")
    with pytest.raises(AddressError, match=rf"^k: {address} is outside 127.0.0.0/8 and ::1: "
                                           r"loopback only \(lab mode, set by --lab\)$"):
        policy.address("k", address)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.255.1.2", "::1"])
def test_lab_accepts_loopback_v4_and_v6(address: str) -> None:
    assert LAB.address("k", address) == address


def test_what_never_works_is_refused_in_both_modes() -> None:
    for policy in (PRODUCTION, LAB):
        with pytest.raises(AddressError, match="not an IPv4 or IPv6 address"):
            policy.address("k", "localhost")
    with pytest.raises(AddressError, match="multicast"):
        PRODUCTION.address("k", "ff02::1")
    with pytest.raises(AddressError, match="unspecified: name the address to send to"):
        PRODUCTION.address("k", "0.0.0.0")
    assert PRODUCTION.address("k", "::", role="bind") == "::"
    with pytest.raises(AddressError, match="outside"):
        LAB.address("k", "0.0.0.0", role="bind")


def test_hostport_and_networks() -> None:
    assert PRODUCTION.hostport("k", "[2001:db8::1]:853") == ("2001:db8::1", 853)
    assert PRODUCTION.hostport("k", "192.0.2.1:53") == ("192.0.2.1", 53)
    with pytest.raises(AddressError, match=r"\[ADDRESS\]:PORT"):
        PRODUCTION.hostport("k", "2001:db8::1:53")
    with pytest.raises(AddressError, match="port 1..65535"):
        PRODUCTION.hostport("k", "192.0.2.1:0")
    assert str(PRODUCTION.network("k", "2001:db8::1/32")) == "2001:db8::/32"
    assert format_hostport("2001:db8::77", 40000) == "[2001:db8::77]:40000"
    assert format_hostport("192.0.2.7", 53) == "192.0.2.7:53"
    assert str(LAB.network("k", "127.1.0.0/16")) == "127.1.0.0/16"
    with pytest.raises(AddressError, match="outside"):
        LAB.network("k", "0.0.0.0/0")


def _serve_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    resolver_cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["resolver", "serve", *argv])


def test_resolver_flags_follow_the_policy(tmp_path: Path) -> None:
    hints = tmp_path / "root.hints"
    hints.write_text(". 3600000 NS a.root-servers.net.\n"
                     "a.root-servers.net. 3600000 A 198.51.100.4\n")
    config = resolver_cli.config_from(_serve_args(
        "--listen", "[2001:db8::53]:53", "--egress", "192.0.2.5", "--root-hints", str(hints)))
    assert (config.listen, config.port, config.egress) == ("2001:db8::53", 53, "192.0.2.5")
    assert config.root_hints == (("a.root-servers.net.", "198.51.100.4"),)
    with pytest.raises(ConfigError, match=r"^--listen: 192.0.2.1 is outside .*set by --lab"):
        resolver_cli.config_from(_serve_args("--lab", str(tmp_path), "--listen", "192.0.2.1:53",
                                             "--root-hints", str(hints)))
    with pytest.raises(ConfigError, match=r"root.hints:2: a.root-servers.net.: 198.51.100.4 is "
                                          "outside"):
        read_root_hints(hints, LAB)


def test_lab_world_stays_ipv4_loopback() -> None:
    import yaml

    data = yaml.safe_load(default_world_path().read_text())
    data["servers"]["root-a"]["address"] = "192.0.2.1"
    with pytest.raises(WorldError, match=r"servers\.root-a\.address: 192.0.2.1 is outside "
                                         r"127.0.0.0/8 and ::1.*the lab world"):
        parse_world(data, "w.yaml")
    data["servers"]["root-a"]["address"] = "::1"
    with pytest.raises(WorldError, match="is IPv6: the lab's servers are IPv4"):
        parse_world(data, "w.yaml")


def test_is_loopback_reads_text_and_refuses_what_is_no_address() -> None:
    from netpolicy import is_loopback

    assert is_loopback("127.53.0.1") and is_loopback("::1")
    assert not is_loopback("192.0.2.1") and not is_loopback("::2")
    assert not is_loopback("localhost") and not is_loopback("")
    assert not is_loopback("::ffff:127.0.0.1")  # mapped: not one of the two loopback nets
