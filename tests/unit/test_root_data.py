"""The bundled IANA root data and the defaults built on it: the RFC 7958 parser, the hints, what
the candidate reports it loaded, and that it validates unless told not to.

Nothing here sends a packet anywhere: configs are built in process, the one ``resolver serve``
started is stopped before any client query (priming waits for the first resolution), and
resolution runs over a MockTransport (the lab answered in process).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import dns.dnssec
import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from configfiles import ConfigError
from configfiles.roothints import read_root_hints
from lab.authserver import LabServer
from lab.world import WorldDef, load_world
from lab.zones import LabZone, build_zones
from resolver import rootdata
from resolver.app import build, describe, host_has_global_ipv6, ip6_enabled, trust_anchors
from resolver.clock import ManualClock
from resolver.conductor import MockTransport
from resolver.config import ResolverConfig, bundled_root_hints
from resolver.dnssec.anchors import TrustAnchorError, TrustAnchors
from resolver.model import Request
from shadowdns.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
Zones = dict[dns.name.Name, LabZone]
ROOT_NAME = dns.name.root
NOW = datetime(2026, 12, 7, tzinfo=UTC)
LAB_TIME = 1_700_000_000  # the lab's signatures are made for this time; the clock says it


# -- the bundled files -----------------------------------------------------------------------


def test_bundled_anchor_is_the_two_current_root_ksks() -> None:
    anchors = TrustAnchors.from_file(rootdata.anchor_path(), now=NOW)
    ds = anchors.ds_for(ROOT_NAME)
    assert sorted(d.key_tag for d in ds) == [20326, 38696]
    assert {(d.algorithm, d.digest_type) for d in ds} == {(8, 2)}
    assert anchors.zones == {ROOT_NAME}
    # the DS form and the DNSKEY form shipped beside it say the same
    assert set(TrustAnchors.from_file(rootdata.data_path("root.ds")).ds_for(ROOT_NAME)) == set(ds)
    keys = TrustAnchors.from_file(rootdata.data_path("root.key")).keys_for(ROOT_NAME)
    made = {dns.dnssec.make_ds(ROOT_NAME, k, "SHA256") for k in keys}
    assert made == set(ds)


def test_bundled_hints_are_13_servers_with_ipv4_and_ipv6() -> None:
    hints = bundled_root_hints()
    names = {n.lower() for n, _ in hints}
    assert names == {f"{c}.root-servers.net." for c in "abcdefghijklm"}
    for name in names:
        versions = {":" in a for n, a in hints if n.lower() == name}
        assert versions == {False, True}, name
    assert ("A.ROOT-SERVERS.NET.", "198.41.0.4") in hints


def test_package_data_is_declared_and_in_the_wheel(tmp_path: Path) -> None:
    # built from a clean copy: a stale build/ in the checkout cannot stand in for package-data
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", "build", "*.egg-info", ".git", "run", ".*_cache", ".hypothesis",
        "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path), str(src)],
                   check=True, capture_output=True, timeout=300,
                   env={**os.environ, "PYTHONWARNINGS": "ignore"})
    (wheel,) = tmp_path.glob("shadowdns-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("root.hints", "root-anchors.xml", "root.ds", "root.key", "README.md",
              "plugins/blocklist.wat", "plugins/localzone.wat", "plugins/ede-annotator.wat",
              "plugins/noop.wat"):  # (the shipped example plugins, docs/PLUGINS.md)
        assert f"resolver/data/{f}" in names


# -- RFC 7958 ----------------------------------------------------------------------------------

XML = """<?xml version="1.0" encoding="UTF-8"?>
<TrustAnchor id="T" source="test">
  <Zone>example.</Zone>
  <KeyDigest id="old" validFrom="2010-07-15T00:00:00+00:00" validUntil="2019-01-11T00:00:00Z">
    <KeyTag>19036</KeyTag><Algorithm>8</Algorithm><DigestType>2</DigestType>
    <Digest>49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5</Digest>
  </KeyDigest>
  <KeyDigest id="now" validFrom="2017-02-02T00:00:00+00:00">
    <KeyTag>20326</KeyTag><Algorithm>8</Algorithm><DigestType>2</DigestType>
    <Digest>E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D</Digest>
    <PublicKey>ignored</PublicKey><Flags>257</Flags>
  </KeyDigest>
  <KeyDigest id="next" validFrom="2030-01-01T00:00:00">
    <KeyTag>11111</KeyTag><Algorithm>13</Algorithm><DigestType>2</DigestType>
    <Digest>683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16</Digest>
  </KeyDigest>
</TrustAnchor>
"""


@pytest.mark.parametrize("when, tags", [
    (datetime(2018, 6, 1, tzinfo=UTC), {19036, 20326}),
    (datetime(2019, 1, 11, tzinfo=UTC), {20326}),  # validUntil is exclusive
    (NOW, {20326}),
    (datetime(2030, 1, 1, tzinfo=UTC), {20326, 11111}),  # no zone: UTC
])
def test_only_key_digests_valid_at_the_time_are_anchors(when: datetime, tags: set[int]) -> None:
    anchors = TrustAnchors.from_xml(XML, "t.xml", now=when)
    assert anchors.key_tags(dns.name.from_text("example.")) == tags


def test_xml_and_zone_file_forms_are_both_read(tmp_path: Path) -> None:
    xml = tmp_path / "a.xml"
    xml.write_text(XML)
    text = tmp_path / "a.ds"
    text.write_text("example. IN DS 20326 8 2 "
                    "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n")
    assert (TrustAnchors.from_file(xml, now=NOW).ds
            == TrustAnchors.from_file(text).ds)


@pytest.mark.parametrize("text, error", [
    (XML.replace("<KeyTag>20326</KeyTag>", ""), "t.xml:8: KeyDigest without <KeyTag>"),
    (XML.replace("<Algorithm>8</Algorithm><DigestType>2</DigestType>\n    <Digest>E06D",
                 "<Algorithm>800</Algorithm><DigestType>2</DigestType>\n    <Digest>E06D"),
     "t.xml:9: <Algorithm> '800' is not a number in 0..255"),
    (XML.replace('validFrom="2017-02-02T00:00:00+00:00"', 'validFrom="yesterday"'),
     "t.xml:8: validFrom='yesterday' is not an xsd:dateTime"),
    (XML.replace("</TrustAnchor>", ""), "t.xml:18: not well-formed XML: no element found"),
    (XML.replace("<Zone>example.</Zone>", ""), "t.xml:2: <TrustAnchor> without <Zone>"),
    (XML.replace("TrustAnchor", "Anchors"), "t.xml:2: root element is <Anchors>"),
    ('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]><TrustAnchor/>',
     "entity declaration 'a' refused"),
    (XML.replace("E06D44B8", "XYZ"), "t.xml:10: bad <Digest>"),
])
def test_bad_xml_is_one_error_naming_file_and_line(text: str, error: str) -> None:
    with pytest.raises(TrustAnchorError) as e:
        TrustAnchors.from_xml(text, "t.xml", now=NOW)
    assert error in str(e.value)


def test_no_valid_key_digest_is_an_error() -> None:
    with pytest.raises(TrustAnchorError, match=r"t.xml: no KeyDigest valid at 2009.*3 listed"):
        TrustAnchors.from_xml(XML, "t.xml", now=datetime(2009, 1, 1, tzinfo=UTC))


def test_binary_files_are_named_not_a_traceback(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(TrustAnchorError, match="junk: not a text file"):
        TrustAnchors.from_file(junk)
    with pytest.raises(ConfigError, match="junk: not a text file"):
        read_root_hints(junk)


# -- what the candidate uses by default ------------------------------------------------------


def serve_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["resolver", "serve", *argv])


def config(*argv: str) -> ResolverConfig:
    from resolver.cli import config_from

    return config_from(serve_args(*argv))


def test_without_flags_the_candidate_uses_the_bundled_hints_and_anchor() -> None:
    c = config()
    assert c.root_hints == bundled_root_hints() and c.validation and c.priming
    assert c.trust_anchor_file == rootdata.anchor_path()
    assert trust_anchors(c).key_tags(ROOT_NAME) == {20326, 38696}
    hints, anchor = describe(c)
    assert hints.startswith(f"root hints: {rootdata.hints_path()} (13 servers, 13 IPv4 + 13 IPv6")
    assert anchor == (f"DNSSEC validation on: trust anchor {rootdata.anchor_path()} "
                      "(. key tags 20326 38696)")
    # the same defaults for a config built anywhere (harness, demo, tests)
    assert ResolverConfig() == ResolverConfig(root_hints=bundled_root_hints(),
                                              root_hints_source=str(rootdata.hints_path()),
                                              trust_anchor_file=rootdata.anchor_path())


def test_no_validation_is_explicit_and_said() -> None:
    c = config("--no-validation")
    assert not c.validation and not trust_anchors(c)
    assert describe(c)[-1] == "DNSSEC validation OFF (--no-validation)"
    with pytest.raises(ConfigError, match="--trust-anchor and --no-validation contradict"):
        config("--no-validation", "--trust-anchor", str(rootdata.anchor_path()))


@pytest.fixture(scope="module")
def lab_world() -> tuple[WorldDef, Zones]:
    world = load_world()
    return world, build_zones(world, now=LAB_TIME)


def write_lab_state(tmp_path: Path, lab_world: tuple[WorldDef, Zones]) -> Path:
    """The state directory `shadowdns lab up` writes (root.hints, trust-anchor.ds, lab.json)."""
    from lab.run import write_state

    write_state(tmp_path, *lab_world)
    return tmp_path


def test_lab_gives_the_lab_hints_and_anchor(tmp_path: Path,
                                            lab_world: tuple[WorldDef, Zones]) -> None:
    lab = write_lab_state(tmp_path, lab_world)
    c = config("--lab", str(lab))
    assert c.root_hints == read_root_hints(lab / "root.hints")
    assert c.root_hints_source == str(lab / "root.hints")
    assert c.trust_anchor_file == lab / "trust-anchor.ds" and c.do_ip6 is False
    assert "trust anchor " + str(lab / "trust-anchor.ds") in describe(c)[1]
    # explicit flags win over the lab's files
    assert config("--lab", str(lab), "--trust-anchor",
                  str(rootdata.anchor_path())).trust_anchor_file == rootdata.anchor_path()
    assert config("--lab", str(lab), "--ip6").do_ip6 is True
    with pytest.raises(ConfigError, match=r"--lab: .*nowhere/root.hints does not exist"):
        config("--lab", str(tmp_path / "nowhere"))
    # the lab's hints with the IANA anchor: said at start-up, not left to puzzle over
    mixed = describe(config("--root-hints", str(lab / "root.hints")))
    assert len(mixed) == 3 and mixed[2].startswith("note: loopback root hints (a lab?) with "
                                                   "the IANA root anchor")
    assert len(describe(config("--lab", str(lab)))) == 2


def test_help_shows_the_bundled_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per option
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    resolver = sub.choices["resolver"]
    rsub = next(a for a in resolver._actions if isinstance(a, argparse._SubParsersAction))
    text = rsub.choices["serve"].format_help()
    assert f"else the bundled IANA hints {rootdata.hints_path()})" in text
    assert f"else the bundled IANA root anchor {rootdata.anchor_path()})" in text


def test_serve_reports_what_it_loaded_and_stops_before_any_query(tmp_path: Path) -> None:
    """A real ``resolver serve`` with no hints, anchor or lab flag: its start-up lines, then
    SIGTERM before any client query (so before priming: nothing is sent upstream)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out_path = tmp_path / "serve.out"
    with out_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "shadowdns", "resolver", "serve", "--listen",
             f"127.0.0.1:{port}", "--workers", "1"],
            stdout=out, stderr=subprocess.PIPE, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 30
            while out_path.read_text().count("\n") < 3 and proc.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    lines = out_path.read_text().splitlines()
    assert lines[0].startswith("resolver: serving on 127.0.0.1:")
    assert lines[1].startswith(f"resolver: root hints: {rootdata.hints_path()} (13 servers")
    assert lines[2].strip() == (f"resolver: DNSSEC validation on: trust anchor "
                                f"{rootdata.anchor_path()} (. key tags 20326 38696)")


def test_ip6_follows_the_host_unless_configured(tmp_path: Path) -> None:
    table = tmp_path / "if_inet6"
    table.write_text("00000000000000000000000000000001 01 80 10 80 lo\n"
                     "fe8000000000000000fc00fffe000001 04 40 20 80 eth0\n"
                     "fd000000000000000000000000000002 04 40 00 82 eth0\n")
    assert not host_has_global_ipv6(table)  # loopback, link-local, ULA
    table.write_text(table.read_text() + "2a0100000000000000000000000000a1 04 40 00 80 eth0\n")
    assert host_has_global_ipv6(table)
    assert not host_has_global_ipv6(tmp_path / "missing")
    assert ip6_enabled(ResolverConfig(do_ip6=True))
    assert not ip6_enabled(ResolverConfig(do_ip6=False))
    assert ip6_enabled(ResolverConfig()) == host_has_global_ipv6()


# -- `resolver serve --lab` validates (the lab answered in process) ----------------------------


def lab_transport(world: WorldDef, zones: Zones) -> MockTransport:
    server = LabServer(world, zones, seed=5)
    by_addr = {s.address: s for s in world.servers.values()}

    def handler(address: str, query: dns.message.Message,
                tcp: bool) -> dns.message.Message | None:
        assert address.startswith("127."), f"sent to {address}"
        s = by_addr.get(address)
        wire = None if s is None else server.answer(s, query.to_wire(), "127.54.3.1", tcp)
        return None if wire is None else dns.message.from_wire(wire)

    return MockTransport(handler)


async def ask(c: ResolverConfig, transport: MockTransport, name: str) -> dns.message.Message:
    answerer = build(c, ManualClock(LAB_TIME), transport)
    qname = dns.name.from_text(name)
    query = dns.message.make_query(qname, "A", want_dnssec=True)
    return await answerer.answer(Request(qname, dns.rdatatype.A, do=True), query)


@pytest.mark.parametrize("flags, rcode", [((), dns.rcode.SERVFAIL),
                                          (("--no-validation",), dns.rcode.NOERROR)])
async def test_serve_with_lab_validates(tmp_path: Path, lab_world: tuple[WorldDef, Zones],
                                        flags: tuple[str, ...], rcode: int) -> None:
    lab = write_lab_state(tmp_path, lab_world)
    transport = lab_transport(*lab_world)
    c = config("--lab", str(lab), *flags)
    reply = await ask(c, transport, "www.nokey.broken.")
    assert reply.rcode() == rcode
    ede = [int(o.code) for o in reply.options if isinstance(o, dns.edns.EDEOption)]
    assert ede == ([9] if rcode == dns.rcode.SERVFAIL else [])  # DNSKEY missing
    secure = await ask(c, transport, "www.example.lab.")
    assert secure.rcode() == dns.rcode.NOERROR
    assert bool(secure.flags & dns.flags.AD) is (not flags)
    # primed from the lab's root before iterating
    assert transport.questions()[0][1:] == (".", "NS")


def test_lab_world_has_the_name_the_test_asks() -> None:
    from lab.manifest import manifest

    names = {e.name for e in manifest(load_world())}
    assert {"www.nokey.broken.", "www.example.lab."} <= {str(n) for n in names}

