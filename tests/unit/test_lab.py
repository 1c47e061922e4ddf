"""The lab's world parsing, zone data, proofs and server behaviours, without sockets."""

from __future__ import annotations

import struct
from pathlib import Path

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
import yaml

from lab.authserver import LabServer
from lab.manifest import manifest, select
from lab.world import WorldError, default_world_path, load_world, parse_world
from lab.zones import LabZone, build_zones

T = dns.rdatatype
N = dns.name.from_text


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return load_world()


@pytest.fixture(scope="module")
def zones(world):  # type: ignore[no-untyped-def]
    return build_zones(world)


@pytest.fixture(scope="module")
def server(world, zones):  # type: ignore[no-untyped-def]
    return LabServer(world, zones, seed=1)


def ask(server: LabServer, sid: str, qname: str, qtype: str, *, do: bool = True,
        source: str = "127.54.1.1", tcp: bool = False, edns: bool = True) -> dns.message.Message:
    q = dns.message.make_query(qname, qtype, want_dnssec=do, use_edns=0 if edns else False)
    wire = server.answer(server.world.servers[sid], q.to_wire(), source, tcp)
    assert wire is not None
    return dns.message.from_wire(wire)


def keys_of(zones: dict[dns.name.Name, LabZone],
            origin: str) -> dict[dns.name.Name, dns.rrset.RRset]:
    z = zones[N(origin)]
    return {z.origin: z.nodes[z.origin][T.DNSKEY]}


def validate_all(msg: dns.message.Message, section: list[dns.rrset.RRset],
                 keys: dict[dns.name.Name, dns.rrset.RRset]) -> int:
    """Validate every RRset of a section against its RRSIGs; return how many were checked."""
    checked = 0
    sigs = {(r.name, r.covers): r for r in section if r.rdtype == T.RRSIG}
    for rrset in section:
        if rrset.rdtype == T.RRSIG:
            continue
        sig = sigs.get((rrset.name, rrset.rdtype))
        if sig is None:
            continue
        dns.dnssec.validate(rrset, sig, keys)
        checked += 1
    return checked


# -- world files -------------------------------------------------------------------------------


def test_default_world_loads_and_names_every_required_kind(world) -> None:  # type: ignore[no-untyped-def]
    entries = manifest(world)
    kinds = {e.kind for e in entries}
    for kind in ("rotation", "pool", "geo", "cdn", "flap", "lame", "dead", "slow",
                 "truncating", "edns_intolerant", "dead_and_live"):
        assert kind in kinds, kind
    states = {e.dnssec for e in entries}
    assert states == {"secure", "insecure", "bogus"}
    assert len(select(entries, dnssec="bogus")) >= 5


def test_bad_key_is_named_with_file_and_path(tmp_path: Path) -> None:
    data = yaml.safe_load(default_world_path().read_text())
    data["zones"]["example.lab."]["signing"]["algorithm"] = "ECDSA999"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(WorldError) as e:
        load_world(bad)
    assert str(bad) in str(e.value)
    assert "zones.example.lab..signing.algorithm" in str(e.value)


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    data = yaml.safe_load(default_world_path().read_text())
    data["servers"]["root-a"]["adress"] = "127.1.1.1"
    with pytest.raises(WorldError, match=r"servers\.root-a\.adress: unknown key"):
        parse_world(data, "w.yaml")


@pytest.mark.parametrize("address", ["10.0.0.1", "192.0.2.1", "0.0.0.0", "::1", "8.8.8.8"])
def test_lab_never_binds_outside_loopback(address: str) -> None:
    data = yaml.safe_load(default_world_path().read_text())
    data["servers"]["root-a"]["address"] = address
    with pytest.raises(WorldError, match=r"servers\.root-a\.address"):
        parse_world(data, "w.yaml")


def test_region_networks_must_be_loopback() -> None:
    data = yaml.safe_load(default_world_path().read_text())
    data["regions"]["networks"]["eu"] = ["192.168.0.0/24"]
    with pytest.raises(WorldError, match="outside 127.0.0.0/8"):
        parse_world(data, "w.yaml")


def test_unparsable_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("port: 53\nservers: {a: [\n")
    with pytest.raises(WorldError, match=r"broken\.yaml: line \d+"):
        load_world(bad)


def test_bad_record_text_names_the_zone(tmp_path: Path) -> None:
    data = yaml.safe_load(default_world_path().read_text())
    data["zones"]["example.lab."]["records"] += "oops 300 A not-an-address\n"
    with pytest.raises(WorldError, match=r"zones\.example\.lab\.\.records"):
        build_zones(parse_world(data, "w.yaml"))


# -- answers and proofs -------------------------------------------------------------------------


def test_signed_answer_validates(server, zones) -> None:  # type: ignore[no-untyped-def]
    r = ask(server, "example-1", "www.example.lab.", "A")
    assert r.flags & dns.flags.AA
    assert validate_all(r, r.answer, keys_of(zones, "example.lab.")) == 1


def test_referral_carries_ds_and_glue(server) -> None:  # type: ignore[no-untyped-def]
    r = ask(server, "lab-1", "www.example.lab.", "A")
    assert not r.flags & dns.flags.AA
    types = {(x.name.to_text(), x.rdtype) for x in r.authority}
    assert ("example.lab.", T.NS) in types and ("example.lab.", T.DS) in types
    glue = {x.name.to_text() for x in r.additional}
    assert {"ns1.example.lab.", "ns2.example.lab."} <= glue


def test_glueless_delegation_has_no_glue(server) -> None:  # type: ignore[no-untyped-def]
    r = ask(server, "lab-1", "www.glueless.lab.", "A")
    assert any(x.rdtype == T.NS for x in r.authority)
    assert not [x for x in r.additional if x.rdtype in (T.A, T.AAAA)]


def test_insecure_delegation_proves_no_ds(server, zones) -> None:  # type: ignore[no-untyped-def]
    r = ask(server, "lab-1", "www.insecure.lab.", "A")
    nsec = [x for x in r.authority if x.rdtype == T.NSEC]
    assert nsec and nsec[0].name == N("insecure.lab.")
    bitmap_types = {t for w, bm in nsec[0][0].windows for t in _types(w, bm)}
    assert T.NS in bitmap_types and T.DS not in bitmap_types
    assert validate_all(r, r.authority, keys_of(zones, "lab.")) == 1


def _types(window: int, bitmap: bytes) -> list[int]:
    return [window * 256 + i * 8 + b for i, byte in enumerate(bitmap) for b in range(8)
            if byte & (0x80 >> b)]


def test_nsec_nxdomain_proof_covers_name_and_wildcard(server, zones) -> None:  # type: ignore[no-untyped-def]
    r = ask(server, "example-1", "nonexistent.example.lab.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN
    nsecs = [x for x in r.authority if x.rdtype == T.NSEC]
    qname, wild = N("nonexistent.example.lab."), N("*.example.lab.")
    def covers(rr: dns.rrset.RRset, n: dns.name.Name) -> bool:
        nxt = rr[0].next
        return rr.name < n < nxt or (nxt < rr.name and (n > rr.name or n < nxt))
    assert any(covers(x, qname) for x in nsecs)
    assert any(covers(x, wild) for x in nsecs)
    assert validate_all(r, r.authority, keys_of(zones, "example.lab.")) == len(nsecs) + 1


def test_nsec3_nxdomain_has_closest_encloser_proof(server, zones) -> None:  # type: ignore[no-untyped-def]
    z = zones[N("nsec3.rsa.")]
    r = ask(server, "nsec3-1", "a.nonexistent.nsec3.rsa.", "A", tcp=True)  # RSA: > 1232 bytes
    assert r.rcode() == dns.rcode.NXDOMAIN
    owners = {x.name.labels[0] for x in r.authority if x.rdtype == T.NSEC3}
    import base64
    ce_label = base64.b32hexencode(z.nsec3_hash(N("nsec3.rsa."))).decode().lower().encode()
    assert ce_label in owners  # the closest encloser is matched
    assert len(owners) >= 2  # and the next closer and wildcard are covered
    assert validate_all(r, r.authority, keys_of(zones, "nsec3.rsa.")) == len(
        [x for x in r.authority if x.rdtype != T.RRSIG])


def test_nsec3_optout_covers_unsigned_delegation(server) -> None:  # type: ignore[no-untyped-def]
    r = ask(server, "optout-1", "www.unsigned.optout.rsa.", "A")
    n3 = [x for x in r.authority if x.rdtype == T.NSEC3]
    assert n3 and any(x[0].flags & 1 for x in n3)
    assert not [x for x in r.authority if x.rdtype == T.DS]


def test_wildcard_answer_keeps_wildcard_signature_labels(server, zones) -> None:  # type: ignore[no-untyped-def]
    r = ask(server, "example-1", "b.c.wild.example.lab.", "A")
    a = [x for x in r.answer if x.rdtype == T.A][0]
    sig = [x for x in r.answer if x.rdtype == T.RRSIG][0]
    assert a.name == N("b.c.wild.example.lab.")
    assert sig[0].labels == 3  # *.wild.example.lab. has three labels without the '*'
    dns.dnssec.validate(a, sig, keys_of(zones, "example.lab."))


def test_cname_chain_and_dname(server) -> None:  # type: ignore[no-untyped-def]
    r = ask(server, "example-1", "alias2.example.lab.", "A", do=False)
    assert [x.rdtype for x in r.answer] == [T.CNAME, T.CNAME, T.A]
    r = ask(server, "example-1", "host.dname.example.lab.", "A", do=False)
    assert [x.rdtype for x in r.answer] == [T.DNAME, T.CNAME]
    assert r.answer[1][0].target == N("host.nsec3.rsa.")


def test_cname_loop_terminates(server) -> None:  # type: ignore[no-untyped-def]
    r = ask(server, "example-1", "loop1.example.lab.", "A", do=False)
    assert [x.rdtype for x in r.answer] == [T.CNAME, T.CNAME]


def test_large_answer_truncates_over_udp_not_tcp(server) -> None:  # type: ignore[no-untyped-def]
    udp = ask(server, "example-1", "big.example.lab.", "TXT")
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = ask(server, "example-1", "big.example.lab.", "TXT", tcp=True)
    assert not tcp.flags & dns.flags.TC and len(tcp.to_wire()) > 1232


def test_bogus_modes(server, zones) -> None:  # type: ignore[no-untyped-def]
    keys = keys_of(zones, "badsig.broken.")
    r = ask(server, "badsig-1", "www.badsig.broken.", "A")
    with pytest.raises(dns.dnssec.ValidationFailure):
        validate_all(r, r.answer, keys)
    r = ask(server, "stripped-1", "www.stripped.broken.", "A")
    assert r.answer and not [x for x in r.answer if x.rdtype == T.RRSIG]
    r = ask(server, "expired-1", "www.expired.broken.", "A")
    with pytest.raises(dns.dnssec.ValidationFailure):
        validate_all(r, r.answer, keys_of(zones, "expired.broken."))
    parent = ask(server, "broken-1", "nokey.broken.", "DS")
    ds = [x for x in parent.answer if x.rdtype == T.DS][0]
    child_keys = zones[N("nokey.broken.")].nodes[N("nokey.broken.")][T.DNSKEY]
    assert not any(dns.dnssec.key_id(k) == ds[0].key_tag for k in child_keys)


# -- behaviours ---------------------------------------------------------------------------------


def test_behaviours(server) -> None:  # type: ignore[no-untyped-def]
    assert ask(server, "lame-refused", "www.lame.lab.", "A").rcode() == dns.rcode.REFUSED
    up = ask(server, "lame-up", "www.lame.lab.", "A")
    assert not up.flags & dns.flags.AA and up.authority[0].name == dns.name.root
    tc = ask(server, "tc-1", "www.tc.lab.", "A")
    assert tc.flags & dns.flags.TC and not tc.answer
    assert ask(server, "tc-1", "www.tc.lab.", "A", tcp=True).answer
    formerr = ask(server, "noedns-1", "www.noedns.lab.", "A")
    assert formerr.rcode() == dns.rcode.FORMERR and formerr.edns < 0
    assert ask(server, "noedns-1", "www.noedns.lab.", "A", edns=False, do=False).answer
    q = dns.message.make_query("www.dead.lab.", "A")
    assert server.answer(server.world.servers["dead-1"], q.to_wire(), "127.0.0.1", False) is None


def test_geo_answers_follow_the_source_region(server) -> None:  # type: ignore[no-untyped-def]
    eu = ask(server, "noise-1", "geo.noise.lab.", "A", source="127.54.1.1").answer[0]
    us = ask(server, "noise-1", "geo.noise.lab.", "A", source="127.54.2.1").answer[0]
    assert eu[0].address != us[0].address
    cdn_us = ask(server, "noise-1", "cdn.noise.lab.", "A", source="127.54.2.9", do=False)
    assert cdn_us.answer[0][0].target == N("shop.us.edge.cdnprov.ed.")


def test_pool_answers_stay_in_pool_and_vary(server, zones) -> None:  # type: ignore[no-untyped-def]
    seen: set[frozenset[str]] = set()
    pool = {f"127.100.9.{i}" for i in range(11, 19)}
    for _ in range(30):
        r = ask(server, "noise-1", "pool.noise.lab.", "A")
        a = [x for x in r.answer if x.rdtype == T.A][0]
        got = frozenset(rd.address for rd in a)
        assert len(got) == 2 and got <= pool
        seen.add(got)
        validate_all(r, r.answer, keys_of(zones, "noise.lab."))  # signed on the fly
    assert len(seen) > 3


def test_garbage_never_crashes(server) -> None:  # type: ignore[no-untyped-def]
    s = server.world.servers["example-1"]
    assert server.answer(s, b"", "127.0.0.1", False) is None
    assert server.answer(s, b"\x00\x01", "127.0.0.1", False) is None
    reply = server.answer(s, struct.pack("!HHHHHH", 7, 0, 1, 0, 0, 0) + b"\xff\xff", "127.0.0.1",
                          False)
    assert reply is not None and dns.message.from_wire(reply).rcode() == dns.rcode.FORMERR
    # a response packet is never answered (no reflection loops)
    resp = dns.message.make_response(dns.message.make_query("www.example.lab.", "A"))
    assert server.answer(s, resp.to_wire(), "127.0.0.1", False) is None


def test_refuses_zones_it_does_not_serve(server) -> None:  # type: ignore[no-untyped-def]
    assert ask(server, "example-1", "www.nsec3.rsa.", "A").rcode() == dns.rcode.REFUSED


# -- the command line ---------------------------------------------------------------------------


def test_lab_up_with_bad_world_names_file_and_key(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from shadowdns.cli import main

    data = yaml.safe_load(default_world_path().read_text())
    data["zones"]["lab."]["servers"] = ["no-such-server"]
    bad = tmp_path / "w.yaml"
    bad.write_text(yaml.safe_dump(data))
    assert main(["lab", "up", "--world", str(bad), "--state-dir", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "zones.lab..servers[0]" in err
    assert not (tmp_path / "s" / "lab.json").exists()


def test_lab_names_json_lists_the_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from shadowdns.cli import main

    assert main(["lab", "names", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == len(manifest(load_world()))
    assert {"name", "type", "category", "kind", "rcode", "dnssec"} <= set(rows[0])


def test_replayed_answers_match_fresh_ones_and_noise_is_never_replayed(world, zones) -> None:  # type: ignore[no-untyped-def]
    server = LabServer(world, zones, seed=9)
    first = ask(server, "example-1", "www.example.lab.", "A")
    again = ask(server, "example-1", "www.example.lab.", "A")
    assert server.stats["answered_from_bytes"] == 1
    assert again.answer == first.answer
    pools = {frozenset(rd.address for rd in ask(server, "noise-1", "pool.noise.lab.", "A",
                                                do=False).answer[0]) for _ in range(20)}
    assert len(pools) > 1  # noise zones are answered afresh every time


def test_queries_are_counted_per_source_and_written_to_stats_json(world, zones,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    import json

    from lab.run import STATS_FILE, write_stats

    server = LabServer(world, zones, seed=9)
    wire = dns.message.make_query("www.example.lab.", "A").to_wire()
    server.answer(world.servers["example-1"], wire, "127.54.3.1", tcp=False)
    server.answer(world.servers["example-1"], wire, "127.54.3.1", tcp=False)
    server.answer(world.servers["example-1"], wire, "127.54.1.1", tcp=True)
    write_stats(tmp_path, server, dump=3)
    data = json.loads((tmp_path / STATS_FILE).read_text())
    assert data["dump"] == 3
    assert data["stats"]["queries"] == 3
    assert data["by_source"] == {"127.54.3.1": 2, "127.54.1.1": 1}


def test_lab_process_stats_signals_the_lab_and_waits_for_its_reply(tmp_path: Path) -> None:
    """:meth:`LabProcess.stats` against a stand-in lab that answers SIGUSR1 like the real one."""
    import json
    import subprocess
    import sys
    import time

    from lab.run import STATE_FILE, STATS_FILE, LabProcess

    script = (
        "import json, os, signal, sys, time\n"
        "d = sys.argv[1]; n = [0]\n"
        "def dump(*_):\n"
        "    n[0] += 1\n"
        "    open(d + '/stats.tmp', 'w').write(json.dumps({'pid': os.getpid(), 'dump': n[0],\n"
        "        'stats': {'queries': 5 * n[0]}, 'by_source': {'127.54.3.1': n[0]}}))\n"
        "    os.replace(d + '/stats.tmp', d + '/stats.json')\n"
        "signal.signal(signal.SIGUSR1, dump)\n"
        "open(d + '/ready', 'w').close()\n"
        "time.sleep(30)\n"
    )
    # A former lab's file with a higher dump number must not be taken for the answer.
    (tmp_path / STATS_FILE).write_text(json.dumps({"pid": 1, "dump": 99, "by_source": {}}))
    child = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)])
    try:
        (tmp_path / STATE_FILE).write_text(json.dumps({
            "pid": child.pid, "port": 53, "root_servers": [], "trust_anchors": [],
            "egress": {}, "world": "w"}))
        deadline = time.monotonic() + 10
        while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        proc = LabProcess(tmp_path)
        first = proc.stats()
        second = proc.stats()
        assert (first["dump"], second["dump"]) == (1, 2)
        assert second["by_source"] == {"127.54.3.1": 2}
    finally:
        child.kill()
        child.wait(5)


def test_the_default_world_loads_from_the_package_wherever_the_cwd_is(tmp_path: Path) -> None:
    """`shadowdns lab up --state-dir lab` run outside the checkout: the state directory (a
    folder named lab in the working directory) must not be taken for the package, in this
    process or in the lab process it starts."""
    import subprocess
    import sys

    from lab.run import lab_command

    (tmp_path / "lab").mkdir()  # what `lab up --state-dir lab` creates before the child starts
    shipped = default_world_path()
    got = subprocess.run(
        [sys.executable, "-c", "from lab.world import load_world; print(load_world().source)"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    assert Path(got.stdout.strip()) == shipped and shipped.is_file()
    assert tmp_path not in Path(got.stdout.strip()).parents
    names = subprocess.run(lab_command("names", "--json"), cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    assert names.returncode == 0, names.stderr
    assert len(names.stdout.splitlines()) == len(manifest(load_world()))


def test_phantom_servers_have_names_but_no_address_anywhere() -> None:
    """An NXNS-style delegation: its NS names exist in the parent's referral only."""
    world = load_world(default_world_path().parent / "amplification.yaml")
    zones = build_zones(world)
    phantoms = [s for s in world.servers.values() if s.phantom]
    assert len(phantoms) == 40 and all(s.address == "" for s in phantoms)
    victim = zones[dns.name.from_text("victim.amp.")]
    assert dns.name.from_text("gone1.victim.amp.") not in victim.nodes
    parent = zones[dns.name.from_text("amp.")]
    ns = parent.nodes[dns.name.from_text("nxns.amp.")][dns.rdatatype.NS]
    assert len(ns) == 20


def test_a_phantom_server_with_an_address_is_refused(tmp_path: Path) -> None:
    world = tmp_path / "w.yaml"
    world.write_text("port: 53\nservers:\n  r: {name: a.root., address: 127.53.0.1}\n"
                     "  p: {name: ns.x., phantom: true, address: 127.53.0.2}\n"
                     "zones:\n  .:\n    servers: [r]\n")
    with pytest.raises(WorldError, match="phantom server has no address"):
        load_world(world)
