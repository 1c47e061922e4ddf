"""The lab's held-out noise kinds: each varies the way its real counterpart does, and stays
valid DNSSEC while it varies.  Driven in process through ``LabServer.answer`` (no sockets)."""

from __future__ import annotations

import functools
from pathlib import Path

import dns.dnssec
import dns.message
import dns.name
import dns.node
import dns.rcode
import dns.rdataset
import dns.rdatatype
import dns.rrset
import pytest
import yaml

from lab.authserver import LabServer
from lab.manifest import manifest
from lab.world import WorldDef, WorldError, default_world_path, load_world
from lab.zones import LabZone, build_zones

T = dns.rdatatype
N = dns.name.from_text


@functools.cache
def built() -> tuple[WorldDef, dict[dns.name.Name, LabZone]]:
    """The default world and its zones, keys made once for the module."""
    world = load_world()
    return world, build_zones(world)


@pytest.fixture()
def world() -> WorldDef:
    return built()[0]


@pytest.fixture()
def zones() -> dict[dns.name.Name, LabZone]:
    return built()[1]


@pytest.fixture()
def server() -> LabServer:
    """A fresh server (its reply cache and counters empty) over the module's zones."""
    return LabServer(*built(), seed=3)


def ask(server: LabServer, sid: str, qname: str, qtype: str, *,
        source: str = "127.54.1.1") -> dns.message.Message:
    q = dns.message.make_query(qname, qtype, want_dnssec=True)
    wire = server.answer(server.world.servers[sid], q.to_wire(), source, False)
    assert wire is not None
    return dns.message.from_wire(wire)


def rrset_of(section: list[dns.rrset.RRset], rdtype: int,
             covers: int = T.NONE) -> dns.rrset.RRset:
    return next(r for r in section if r.rdtype == rdtype and r.covers == covers)


def validate(zones: dict[dns.name.Name, LabZone], origin: str,
             section: list[dns.rrset.RRset]) -> int:
    """Validate every signed RRset of a section with the zone's DNSKEYs; return the count."""
    zone = zones[N(origin)]
    keys: dict[dns.name.Name, dns.node.Node | dns.rdataset.Rdataset] = {
        zone.origin: zone.nodes[zone.origin][T.DNSKEY]}
    checked = 0
    for rrset in section:
        if rrset.rdtype == T.RRSIG:
            continue
        sig = next((r for r in section if r.rdtype == T.RRSIG and r.name == rrset.name
                    and r.covers == rrset.rdtype), None)
        if sig is not None:
            dns.dnssec.validate(rrset, sig, keys)
            checked += 1
    return checked


class FakeTime:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_the_world_has_six_held_out_noise_kinds(world) -> None:  # type: ignore[no-untyped-def]
    held = [e for e in manifest(world) if e.held_out]
    kinds = {e.kind for e in held}
    assert {"whoami", "nonce", "instance", "ttl_jitter", "serial", "online_signer",
            "cname_steering", "lb_count", "edge_ttl", "secondary_lag"} <= kinds
    assert all(e.category == "noise" for e in held)
    named = {e.kind for e in manifest(world) if e.category == "noise" and not e.held_out}
    assert named == {"rotation", "pool", "geo", "cdn", "flap"}
    assert not kinds & named


def test_whoami_echoes_the_querier_address_as_a_and_txt(server, zones) -> None:  # type: ignore[no-untyped-def]
    eu = ask(server, "svc-1", "whoami.svc.lab.", "A", source="127.54.1.1")
    ap = ask(server, "svc-1", "whoami.svc.lab.", "A", source="127.54.3.1")
    assert rrset_of(eu.answer, T.A)[0].address == "127.54.1.1"
    assert rrset_of(ap.answer, T.A)[0].address == "127.54.3.1"
    txt = ask(server, "svc-2", "myaddr.svc.lab.", "TXT", source="127.54.2.7")
    assert rrset_of(txt.answer, T.TXT)[0].strings == (b"127.54.2.7",)
    for r in (eu, ap, txt):
        assert validate(zones, "svc.lab.", r.answer) == 1


def test_nonce_differs_on_every_answer_and_validates(server, zones) -> None:  # type: ignore[no-untyped-def]
    tokens = set()
    for _ in range(5):
        r = ask(server, "svc-1", "nonce.svc.lab.", "TXT")
        tokens.add(rrset_of(r.answer, T.TXT)[0].strings)
        assert validate(zones, "svc.lab.", r.answer) == 1
    assert len(tokens) == 5


def test_instance_names_the_answering_server(server) -> None:  # type: ignore[no-untyped-def]
    one = ask(server, "edge-1", "instance.edge.plain.", "TXT")
    two = ask(server, "edge-2", "instance.edge.plain.", "TXT")
    assert rrset_of(one.answer, T.TXT)[0].strings == (b"instance-1",)
    assert rrset_of(two.answer, T.TXT)[0].strings == (b"instance-2",)
    assert ask(server, "edge-1", "instance.edge.plain.", "TXT").answer == one.answer


def test_jittered_ttl_varies_under_the_signed_original_ttl(server, zones) -> None:  # type: ignore[no-untyped-def]
    ttls = set()
    for _ in range(30):
        r = ask(server, "svc-2", "jitter.svc.lab.", "A")
        a = rrset_of(r.answer, T.A)
        sig = rrset_of(r.answer, T.RRSIG, T.A)
        assert [rd.address for rd in a] == ["127.100.11.1"]
        assert 150 <= a.ttl <= 300 and sig.ttl == a.ttl
        assert sig[0].original_ttl == 300
        ttls.add(a.ttl)
        assert validate(zones, "svc.lab.", r.answer) == 1
    assert len(ttls) > 5
    unsigned = {rrset_of(ask(server, "edge-1", "jitter.edge.plain.", "A").answer, T.A).ttl
                for _ in range(30)}
    assert len(unsigned) > 5 and all(150 <= ttl <= 300 for ttl in unsigned)


def test_soa_serial_counts_up_with_time_in_negative_answers(zones) -> None:  # type: ignore[no-untyped-def]
    clock = FakeTime(1_800_000_000.0)
    server = LabServer(*built(), seed=3, clock=clock.time)  # the lab's time is the clock's
    first = ask(server, "svc-1", "missing.svc.lab.", "A")
    assert first.rcode() == dns.rcode.NXDOMAIN
    same = ask(server, "svc-1", "missing.svc.lab.", "A")
    clock.now += 3
    later = ask(server, "svc-1", "missing.svc.lab.", "A")
    apex = ask(server, "svc-2", "svc.lab.", "SOA")
    s0, s1, s2 = (rrset_of(r.authority, T.SOA) for r in (first, same, later))
    assert s0[0].serial == s1[0].serial
    assert s2[0].serial == s0[0].serial + 1
    assert rrset_of(apex.answer, T.SOA)[0].serial == s2[0].serial
    assert s0.ttl == 10
    assert validate(zones, "svc.lab.", later.authority) >= 2  # SOA and NSEC


def test_online_signer_signs_each_answer_with_the_same_key_and_window(server, zones) -> None:  # type: ignore[no-untyped-def]
    answers = [ask(server, "live-1", "www.live.lab.", "A") for _ in range(3)]
    sigs = [rrset_of(r.answer, T.RRSIG, T.A)[0] for r in answers]
    assert len({s.signature for s in sigs}) == 3  # ECDSA: random per signature
    assert len({(s.key_tag, s.algorithm, s.inception, s.expiration, s.signer,
                 s.original_ttl) for s in sigs}) == 1
    for r in answers:
        assert rrset_of(r.answer, T.A) == rrset_of(answers[0].answer, T.A)
        assert validate(zones, "live.lab.", r.answer) == 1
    neg = [ask(server, "live-1", "nothere.live.lab.", "A") for _ in range(2)]
    nsec_sigs = [bytes(rrset_of(r.authority, T.RRSIG, T.NSEC)[0].signature) for r in neg]
    assert nsec_sigs[0] != nsec_sigs[1]
    for r in neg:
        assert validate(zones, "live.lab.", r.authority) >= 2
    assert server.stats["answered_from_bytes"] == 0  # never replayed from the reply cache


def test_cname_steering_picks_one_edge_per_answer(server, zones) -> None:  # type: ignore[no-untyped-def]
    targets = set()
    for _ in range(30):
        r = ask(server, "svc-1", "steer.svc.lab.", "A")
        cname = rrset_of(r.answer, T.CNAME)
        assert len(cname) == 1
        targets.add(cname[0].target.to_text())
        assert validate(zones, "svc.lab.", r.answer) == 1
    assert targets == {"a.steer.cdnprov.ed.", "b.steer.cdnprov.ed.", "c.steer.cdnprov.ed."}


def test_load_balancer_varies_the_number_of_members_per_answer(server, zones) -> None:  # type: ignore[no-untyped-def]
    pool = {f"127.100.11.{i}" for i in range(21, 27)}
    counts = set()
    for _ in range(40):
        r = ask(server, "svc-2", "lb.svc.lab.", "A")
        got = {rd.address for rd in rrset_of(r.answer, T.A)}
        assert got <= pool
        counts.add(len(got))
        assert validate(zones, "svc.lab.", r.answer) == 1
    assert counts == {1, 2, 3, 4}


def test_each_server_gives_its_own_ttl(server) -> None:  # type: ignore[no-untyped-def]
    for sid, ttl in (("edge-1", 300), ("edge-2", 30)):
        for _ in range(3):
            a = rrset_of(ask(server, sid, "cache.edge.plain.", "A").answer, T.A)
            assert a.ttl == ttl and [rd.address for rd in a] == ["127.100.13.5"]


def test_a_lagging_secondary_serves_an_older_version_of_the_zone() -> None:
    clock = FakeTime(1_800_000_000.0)
    server = LabServer(*built(), seed=3, clock=clock.time)
    soa = {sid: rrset_of(ask(server, sid, "lag.plain.", "SOA").answer, T.SOA)[0].serial
           for sid in ("lag-1", "lag-2")}
    assert soa["lag-1"] - soa["lag-2"] == 3  # 900 s behind, a version every 300 s
    neg = ask(server, "lag-2", "nothere.lag.plain.", "A")
    assert neg.rcode() == dns.rcode.NXDOMAIN
    assert rrset_of(neg.authority, T.SOA)[0].serial == soa["lag-2"]
    www = {sid: rrset_of(ask(server, sid, "www.lag.plain.", "A").answer, T.A)[0].address
           for sid in ("lag-1", "lag-2")}
    assert www["lag-1"] != www["lag-2"]
    clock.now += 900  # the secondary now serves what the primary served 900 s ago
    assert rrset_of(ask(server, "lag-2", "www.lag.plain.", "A").answer,
                    T.A)[0].address == www["lag-1"]


def _world_with(tmp_path: Path, zone: str, key: str, value: object) -> Path:
    data = yaml.safe_load(default_world_path().read_text())
    if key == "names":
        data["zones"][zone]["names"] = value
    else:
        data["zones"][zone]["noise"][key] = value
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("whoami", {"type": "MX", "kind": "whoami"},
     "noise.whoami.type: a whoami name has type A, TXT"),
    ("jitter", {"type": "A", "kind": "jitter", "ttl": 60, "spread": 60,
                "values": ["127.100.11.1"]},
     "noise.jitter.spread: spread must be between 1 and 59"),
    ("nonce", {"type": "SOA", "kind": "serial", "period": 3}, "a serial name is the zone's apex"),
    ("lb", {"type": "A", "kind": "lb", "pick": 1, "values": ["127.100.11.1", "127.100.11.2"]},
     "noise.lb.pick: pick (the most records per answer) must be between 2 and 2"),
    ("x", {"type": "A", "kind": "server_ttl", "ttls": [60], "values": ["127.100.11.1"]},
     "noise.x.ttls: a server_ttl name needs ttls"),
    ("x", {"type": "A", "kind": "server_ttl", "ttls": [60, 30, 10], "values": ["127.100.11.1"]},
     "noise.x.ttls: 3 ttls for 2 servers"),
    ("x", {"type": "A", "kind": "pool", "pick": 1, "ttls": [60, 30],
           "values": ["127.100.11.1", "127.100.11.2"]},
     "noise.x.ttls: ttls applies to server_ttl names only"),
])
def test_bad_noise_definitions_name_the_key(tmp_path: Path, key: str, value: object,
                                            problem: str) -> None:
    with pytest.raises(WorldError) as e:
        load_world(_world_with(tmp_path, "svc.lab.", key, value))
    assert problem in str(e.value)


def test_lagging_names_a_server_of_the_zone(tmp_path: Path) -> None:
    data = yaml.safe_load(default_world_path().read_text())
    data["zones"]["lag.plain."]["lagging"] = {"edge-1": 60}
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(WorldError, match=r"lagging\.edge-1: 'edge-1' is not one of the zone"):
        load_world(path)


def test_held_out_is_for_noise_names_only(tmp_path: Path) -> None:
    path = _world_with(tmp_path, "svc.lab.", "names",
                       [{"name": "whoami", "type": "A", "held_out": True}])
    with pytest.raises(WorldError, match=r"names\[0\]\.held_out: held_out applies to noise"):
        load_world(path)
